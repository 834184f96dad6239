"""Honest scores and comparable scales: degenerate CDS flags, the posterior-std scale and per-latent pools."""

from __future__ import annotations

import math

import pytest
import torch

from invwidgets.data import VectorDataset, mixed_radix_factors
from invwidgets.methods.responses import (
    conditioned_response_matrix,
    degenerate_reason,
    intervention_values,
    latent_std,
    pool_columns,
    rescale,
    response_matrix,
)


class Identity:
    """encode = decode = identity on d-vectors: R(z) = z."""

    def __init__(self, d: int) -> None:
        self.latent_dim = d

    def encode(self, x: torch.Tensor) -> torch.Tensor:
        return x

    def decode(self, z: torch.Tensor) -> torch.Tensor:
        return z


def grid_toy(sizes=(4, 5)) -> VectorDataset:
    n = math.prod(sizes)
    fac = mixed_radix_factors(torch.arange(n), sizes)
    x = torch.stack([fac[:, k].float() for k in range(len(sizes))], dim=1)
    return VectorDataset(x, factors=fac, factor_names=tuple("ab"[: len(sizes)]), factor_sizes=sizes, name="toy")


def test_a_factorial_grid_with_several_factors_is_not_degenerate():
    cond = conditioned_response_matrix(Identity(2), grid_toy(), n_traversals=4, generator=0)
    assert cond.degenerate is None
    assert cond.score == pytest.approx(1.0, abs=1e-9)


def test_a_single_factor_is_flagged_although_cds_is_one():
    """One factor: CDS = 1 for every model, true by construction, so the result says so."""
    ds = grid_toy((6,))
    cond = conditioned_response_matrix(Identity(1), ds, n_traversals=3, generator=0)
    assert cond.score == 1.0
    assert cond.degenerate is not None and "only one factor" in cond.degenerate


def test_factors_that_do_not_identify_the_samples_are_flagged():
    """Like digits with the label as the only factor: a 'traversal' of ten images that differ in
    everything. Here 3 samples share each label and a second, unrecorded coordinate varies."""
    gen = torch.Generator().manual_seed(0)
    labels = torch.arange(10).repeat(3)
    x = torch.stack([labels.float(), torch.randn(30, generator=gen)], dim=1)
    ds = VectorDataset(x, factors=labels[:, None], factor_names=("label",), factor_sizes=(10,), name="labelled")
    cond = conditioned_response_matrix(Identity(2), ds, n_traversals=5, generator=0)
    assert cond.degenerate is not None
    assert "only one factor" in cond.degenerate and "do not identify the samples" in cond.degenerate
    assert "30 samples, 10 factor combinations" in cond.degenerate
    # two factors that still repeat: only the identification reason remains
    fac = torch.stack([labels % 2, labels // 2 % 5], dim=1)
    ds2 = VectorDataset(x, factors=fac, factor_names=("p", "q"), factor_sizes=(2, 5), name="repeated")
    reason = degenerate_reason(ds2, [0, 1])
    assert reason is not None and "only one factor" not in reason and "do not identify" in reason


def test_std_scale_divides_each_responding_latent_by_its_posterior_std():
    """Identity model, codes with std (5, 1, 0.2): raw diagonal ≈ √2·std, std-scaled ≈ √2."""
    gen = torch.Generator().manual_seed(0)
    sd = torch.tensor([5.0, 1.0, 0.2])
    codes = torch.randn(4000, 3, generator=gen) * sd
    raw = response_matrix(Identity(3), codes=codes, pool=codes, n_samples=2000, generator=1)
    scaled = response_matrix(Identity(3), codes=codes, pool=codes, n_samples=2000, generator=1, scale="std")
    assert torch.allclose(raw.diagonal(), math.sqrt(2) * sd, rtol=0.06)
    assert torch.allclose(scaled.diagonal(), torch.full((3,), math.sqrt(2)), rtol=0.06)
    assert torch.allclose(scaled, raw / latent_std(codes), atol=1e-6)  # same draws, columns rescaled
    given = response_matrix(Identity(3), codes=codes, pool=codes, n_samples=2000, generator=1, scale="std",
                            std=torch.ones(3))
    assert torch.equal(given, raw)


def test_std_scale_of_the_conditioned_matrix_and_its_errors():
    ds = grid_toy()
    raw = conditioned_response_matrix(Identity(2), ds, n_traversals=4, generator=0)
    std = conditioned_response_matrix(Identity(2), ds, n_traversals=4, generator=0, scale="std")
    assert raw.scale == "raw" and raw.std is None and std.scale == "std"
    assert torch.allclose(std.matrix, raw.matrix / std.std, atol=1e-6)
    with pytest.raises(ValueError, match="scale must be one of"):
        conditioned_response_matrix(Identity(2), ds, n_traversals=2, generator=0, scale="unit")
    with pytest.raises(ValueError, match="needs codes"):
        response_matrix(Identity(2), n_samples=8, generator=0, scale="std")
    with pytest.raises(ValueError, match="one entry per latent"):
        rescale(torch.ones(2, 2), torch.ones(3))
    assert float(latent_std(torch.zeros(5, 2)).min()) > 0  # a latent with no spread is floored, not 0


def test_per_latent_pools_as_the_official_interventions():
    """One pool per latent, of different lengths; a missing latent falls back to the prior."""
    pools = {0: torch.tensor([10.0, 11.0, 12.0]), 2: torch.tensor([-7.0])}
    v = intervention_values(50, 3, 0, pools)
    assert v.shape == (50, 3)
    assert set(v[:, 0].tolist()) <= {10.0, 11.0, 12.0} and set(v[:, 2].tolist()) == {-7.0}
    assert float(v[:, 1].abs().max()) < 5  # prior draws
    assert torch.equal(v, intervention_values(50, 3, 0, [pools[0], None, pools[2]]))
    # a P×d pool gives the same values as its columns passed one by one
    pool = torch.randn(20, 3, generator=torch.Generator().manual_seed(3))
    assert torch.equal(intervention_values(15, 3, 4, pool), intervention_values(15, 3, 4, list(pool.t())))
    m = response_matrix(Identity(3), n_samples=64, pool=pools, generator=0)
    assert m.shape == (3, 3) and float(m[0, 0]) > 5 and float(m[2, 2]) > 5
    with pytest.raises(ValueError, match="latent indices"):
        pool_columns({5: torch.ones(2)}, 3)
    with pytest.raises(ValueError, match="one entry per latent"):
        pool_columns([torch.ones(2)], 3)
    with pytest.raises(ValueError, match="finite"):
        pool_columns([torch.ones(2), torch.tensor([]), None], 3)
    with pytest.raises(ValueError, match="P×d pool"):
        intervention_values(4, 3, 0, pools, avoid=torch.zeros(4, dtype=torch.long))
