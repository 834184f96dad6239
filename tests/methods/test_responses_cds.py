"""Conditioned response matrix and the causal disentanglement score (docs/methods/responses.md, Numerical checks)."""

from __future__ import annotations

import pytest
import torch

from invwidgets.data import VectorDataset, mixed_radix_factors
from invwidgets.methods.responses import (
    ConditionedResponses,
    causal_disentanglement_score,
    conditioned_response_matrix,
)


def test_cds_is_one_with_one_nonzero_per_column():
    c = torch.tensor([[0.0, 2.0, 0.0, 0.5], [1.0, 0.0, 0.0, 0.0], [0.0, 0.0, 3.0, 0.0]])
    assert causal_disentanglement_score(c) == pytest.approx(1.0, abs=1e-12)


@pytest.mark.parametrize("k", [2, 3, 5])
def test_cds_of_constant_matrix_is_one_over_k(k):
    assert causal_disentanglement_score(torch.full((k, 7), 0.3)) == pytest.approx(1.0 / k, abs=1e-12)


def test_cds_is_invariant_to_permutations_and_positive_rescaling():
    c = torch.rand(4, 6, generator=torch.Generator().manual_seed(0), dtype=torch.float64)
    s = causal_disentanglement_score(c)
    assert 0.25 <= s <= 1.0
    perm_cols = c[:, torch.randperm(6, generator=torch.Generator().manual_seed(1))]
    perm_rows = c[torch.randperm(4, generator=torch.Generator().manual_seed(2))]
    assert causal_disentanglement_score(perm_cols) == pytest.approx(s, abs=1e-12)
    assert causal_disentanglement_score(perm_rows) == pytest.approx(s, abs=1e-12)
    assert causal_disentanglement_score(c * 37.5) == pytest.approx(s, abs=1e-12)


def test_cds_rejects_bad_matrices():
    with pytest.raises(ValueError, match="all zeros"):
        causal_disentanglement_score(torch.zeros(2, 3))
    with pytest.raises(ValueError, match="non-negative"):
        causal_disentanglement_score(torch.tensor([[1.0, -1.0]]))
    with pytest.raises(ValueError, match="K×d"):
        causal_disentanglement_score(torch.ones(3))
    with pytest.raises(ValueError, match="NaN"):
        causal_disentanglement_score(torch.tensor([[1.0, float("nan")]]))


def factor_toy(sizes=(4, 5, 3)) -> VectorDataset:
    """Vectors that *are* the (centred, scaled) factor values: a perfectly disentangled world."""
    n = 1
    for s in sizes:
        n *= s
    fac = mixed_radix_factors(torch.arange(n), sizes)
    x = torch.stack([(fac[:, k].float() - (s - 1) / 2) / s for k, s in enumerate(sizes)], dim=1)
    return VectorDataset(x, factors=fac, factor_names=("a", "b", "c"), factor_sizes=sizes, name="toy")


class RotatedAE:
    """encode(x) = Q x, decode(z) = Qᵀ z: R = id, but each latent mixes every factor."""

    def __init__(self, q: torch.Tensor) -> None:
        self.q = q
        self.latent_dim = q.shape[0]

    def encode(self, x):
        return x @ self.q.T

    def decode(self, z):
        return z @ self.q


def test_perfectly_disentangled_toy_scores_one_and_mixing_lowers_it():
    data = factor_toy()
    ident = RotatedAE(torch.eye(3))
    cond = conditioned_response_matrix(ident, data, n_traversals=5, n_samples=16, generator=0)
    assert isinstance(cond, ConditionedResponses)
    assert cond.matrix.shape == (3, 3) and cond.factor_names == ("a", "b", "c")
    off = cond.matrix - torch.diag(cond.matrix.diagonal())
    assert float(off.abs().max()) == 0.0 and bool((cond.matrix.diagonal() > 0).all())
    assert cond.score == pytest.approx(1.0, abs=1e-12)
    angle = torch.tensor(0.6)
    c, s = torch.cos(angle), torch.sin(angle)
    rot = torch.tensor([[c, -s, 0.0], [s, c, 0.0], [0.0, 0.0, 1.0]]) @ torch.tensor(
        [[1.0, 0.0, 0.0], [0.0, c, -s], [0.0, s, c]])
    mixed = conditioned_response_matrix(RotatedAE(rot), data, n_traversals=5, n_samples=16, generator=0)
    assert mixed.score < cond.score - 0.1


def test_minmax_variant_and_factor_selection():
    data = factor_toy()
    ident = RotatedAE(torch.eye(3))
    mm = conditioned_response_matrix(ident, data, n_traversals=4, n_samples=8, generator=0, variant="minmax",
                                     factors=["c", "a"])
    assert mm.variant == "minmax" and mm.factor_names == ("c", "a")
    assert mm.per_traversal.shape == (4, 2, 3, 3)
    assert mm.matrix.shape == (2, 3)
    assert mm.score == pytest.approx(1.0, abs=1e-12)
    with pytest.raises(ValueError, match="variant"):
        conditioned_response_matrix(ident, data, variant="median")


def test_conditioned_matrix_is_reproducible_and_reports_progress():
    data = factor_toy()
    ae = RotatedAE(torch.eye(3))
    calls = []
    a = conditioned_response_matrix(ae, data, n_traversals=3, n_samples=8, generator=5,
                                    progress=lambda d, t, m: calls.append((d, t)))
    b = conditioned_response_matrix(ae, data, n_traversals=3, n_samples=8, generator=5)
    assert torch.equal(a.matrix, b.matrix)
    assert calls[-1] == (9, 9) and len(calls) == 9


def test_single_valued_factors_are_skipped_and_missing_factors_rejected():
    sizes = (3, 1, 4)
    fac = mixed_radix_factors(torch.arange(12), sizes)
    x = torch.stack([fac[:, 0].float(), fac[:, 2].float()], 1)
    data = VectorDataset(x, factors=fac, factor_names=("p", "flat", "q"), factor_sizes=sizes)
    ae = RotatedAE(torch.eye(2))
    cond = conditioned_response_matrix(ae, data, n_traversals=2, n_samples=4, generator=0)
    assert cond.factor_names == ("p", "q")
    with pytest.raises(ValueError, match="single value"):
        conditioned_response_matrix(ae, data, factors=["flat"])
    with pytest.raises(ValueError, match="no ground-truth factors"):
        conditioned_response_matrix(ae, VectorDataset(x), n_traversals=1)
