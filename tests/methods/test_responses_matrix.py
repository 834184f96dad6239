"""Latent response matrix: the numerical checks and the reproduction of docs/methods/responses.md."""

from __future__ import annotations

import math

import pytest
import torch
from torch import nn

from invwidgets.methods.responses import (
    intervene,
    intervention_values,
    response,
    response_matrix,
    response_matrix_from,
    response_matrix_loop,
    sample_prior,
)

SQRT2 = math.sqrt(2.0)


class LinearAE(nn.Module):
    """Defined here: encoder A (x -> z), decoder B (z -> x), column-vector convention.

    z = A x and x = B z, so R(z) = A B z and M[j, i] = √2 |(AB)_{ij}| ... transposed: rows of M
    are intervened latents j, so M = √2 |AB|ᵀ.
    """

    def __init__(self, A: torch.Tensor, B: torch.Tensor) -> None:
        super().__init__()
        self.A = nn.Parameter(A.clone())  # d × D
        self.B = nn.Parameter(B.clone())  # D × d
        self.latent_dim = A.shape[0]

    def encode(self, x: torch.Tensor) -> torch.Tensor:
        return x @ self.A.T

    def decode(self, z: torch.Tensor) -> torch.Tensor:
        return z @ self.B.T


class Identity:
    latent_dim = 5

    def encode(self, x):
        return x

    def decode(self, z):
        return z


def test_identity_autoencoder_diagonal_is_sqrt2():
    m = response_matrix(Identity(), n_samples=4096, generator=0)
    assert m.shape == (5, 5)
    torch.testing.assert_close(m.diagonal(), torch.full((5,), SQRT2), rtol=0.05, atol=0)
    off = m - torch.diag(m.diagonal())
    assert float(off.abs().max()) == 0.0  # R = id: other latents never move


def test_linear_autoencoder_matches_sqrt2_abs_AB_transposed():
    g = torch.Generator().manual_seed(3)
    d, D = 4, 7
    A = torch.randn(d, D, generator=g) / math.sqrt(D)
    B = torch.randn(D, d, generator=g)
    ae = LinearAE(A, B)
    m = response_matrix(ae, n_samples=8192, generator=1)
    expected = SQRT2 * (A @ B).abs().T
    torch.testing.assert_close(m, expected, rtol=0.05, atol=0.02 * float(expected.max()))


def test_rotation_with_matched_encoder_gives_diagonal_matrix():
    q, _ = torch.linalg.qr(torch.randn(3, 3, generator=torch.Generator().manual_seed(0)))
    ae = LinearAE(q.T, q)  # R = QᵀQ = I although the decoder mixes every latent
    m = response_matrix(ae, n_samples=2048, generator=0)
    torch.testing.assert_close(m.diagonal(), torch.full((3,), SQRT2), rtol=0.05, atol=0)
    assert float((m - torch.diag(m.diagonal())).abs().max()) < 1e-5


def test_ignored_latent_gives_zero_row_and_collapsed_latent_zero_column():
    g = torch.Generator().manual_seed(1)
    A = torch.randn(4, 6, generator=g)
    B = torch.randn(6, 4, generator=g)
    B[:, 1] = 0.0  # the decoder ignores z1
    A[3, :] = 0.0  # the encoder always outputs 0 on z3 (collapsed)
    m = response_matrix(LinearAE(A, B), n_samples=512, generator=0)
    assert float(m[1].abs().max()) == 0.0
    assert float(m[:, 3].abs().max()) == 0.0
    assert float(m[0, 0]) > 0.1


def test_batched_pass_equals_per_latent_loop():
    torch.manual_seed(0)
    net = nn.Sequential(nn.Linear(6, 32), nn.Tanh(), nn.Linear(32, 10))
    enc = nn.Sequential(nn.Linear(10, 32), nn.Tanh(), nn.Linear(32, 6))

    class AE(nn.Module):
        latent_dim = 6

        def __init__(self):
            super().__init__()
            self.net, self.enc = net, enc

        def encode(self, x):
            return self.enc(x)

        def decode(self, z):
            return self.net(z)

    ae = AE()
    z = sample_prior(64, 6, 0)
    v = intervention_values(64, 6, 1)
    batched = response_matrix_from(ae, z, v)
    loop = response_matrix_loop(ae, z, v)
    torch.testing.assert_close(batched, loop, rtol=0, atol=1e-5)
    torch.testing.assert_close(response_matrix_from(ae, z, v, full=False), loop.diagonal(), rtol=0, atol=1e-5)


def test_same_seed_is_bit_identical_and_other_seed_differs():
    ae = LinearAE(torch.randn(3, 5, generator=torch.Generator().manual_seed(0)),
                  torch.randn(5, 3, generator=torch.Generator().manual_seed(1)))
    a = response_matrix(ae, n_samples=64, generator=7)
    b = response_matrix(ae, n_samples=64, generator=torch.Generator().manual_seed(7))
    c = response_matrix(ae, n_samples=64, generator=8)
    assert torch.equal(a, b)
    assert not torch.equal(a, c)


def test_codes_and_pool_interventions():
    ident = Identity()
    pool = torch.zeros(10, 5)
    pool[:, 2] = torch.arange(10.0)
    codes = torch.randn(50, 5, generator=torch.Generator().manual_seed(0))
    m = response_matrix(ident, codes=codes, pool=pool, n_samples=200, generator=0)
    # intervening with pool values moves only the intervened latent, by pool - code
    assert m.shape == (5, 5)
    assert float((m - torch.diag(m.diagonal())).abs().max()) == 0.0
    vals = intervention_values(1000, 5, 0, pool)
    assert set(vals[:, 2].unique().tolist()) <= set(range(10))
    own = torch.arange(1000) % 10
    diff = intervention_values(1000, 5, 0, pool, avoid=own)
    assert bool((diff[:, 2] != own.float()).all())  # force_different: never the sample's own row


def test_intervene_copies_and_sets_column():
    z = torch.zeros(3, 4)
    out = intervene(z, 2, torch.tensor([1.0, 2.0, 3.0]))
    assert torch.equal(out[:, 2], torch.tensor([1.0, 2.0, 3.0]))
    assert float(z.abs().sum()) == 0.0
    with pytest.raises(IndexError):
        intervene(z, 4, 1.0)


def test_clear_errors_for_bad_input():
    ident = Identity()
    with pytest.raises(ValueError, match="NaN"):
        response(ident, torch.tensor([[float("nan")] * 5]))
    with pytest.raises(ValueError, match="shape"):
        response(ident, torch.zeros(5))
    with pytest.raises(TypeError, match="floating"):
        response(ident, torch.zeros(2, 5, dtype=torch.int64))
    with pytest.raises(TypeError, match="not an autoencoder"):
        response_matrix(object(), latent_dim=2)
    with pytest.raises(TypeError, match="generator"):
        response_matrix(ident, generator=None)  # type: ignore[arg-type]
    with pytest.raises(ValueError, match="latent_dim"):
        response_matrix(type("NoDim", (), {"encode": lambda s, x: x, "decode": lambda s, z: z})())

    class Broken(Identity):
        def decode(self, z):
            raise ValueError("decoder exploded")

    with pytest.raises(RuntimeError, match="decode failed.*decoder exploded"):
        response_matrix(Broken(), n_samples=4)

    class WrongShape(Identity):
        def encode(self, x):
            return x[:, :2]

    with pytest.raises(ValueError, match="encode\\(decode\\(z\\)\\)"):
        response(WrongShape(), torch.zeros(2, 5))


def test_encoder_returning_tuple_or_distribution_uses_the_mean():
    class TupleAE(Identity):
        def encode(self, x):
            return x, torch.full_like(x, -3.0)

    class DistAE(Identity):
        def encode(self, x):
            return torch.distributions.Normal(x, torch.ones_like(x))

    z = sample_prior(8, 5, 0)
    assert torch.equal(response(TupleAE(), z), z)
    assert torch.equal(response(DistAE(), z), z)


class _BatchRecorder(LinearAE):
    """LinearAE that records the batch sizes its decoder sees."""

    def __init__(self, *args) -> None:
        super().__init__(*args)
        self.seen: list[int] = []

    def decode(self, z: torch.Tensor) -> torch.Tensor:
        self.seen.append(int(z.shape[0]))
        return super().decode(z)


def test_auto_batch_size_is_small_on_cpu_and_large_elsewhere():
    from invwidgets.methods.responses import AUTO_BATCH_SIZE, resolve_batch_size

    assert resolve_batch_size("auto", "cpu") == AUTO_BATCH_SIZE["cpu"] == 128
    assert resolve_batch_size("auto", torch.device("cuda")) == AUTO_BATCH_SIZE["default"] == 1024
    assert resolve_batch_size("auto", "meta") == 1024
    assert resolve_batch_size(7, "cpu") == 7
    assert resolve_batch_size(None, "cpu") is None
    for bad in (0, -3, 2.5, True, "big", "AUTO"):
        with pytest.raises(ValueError, match="batch_size"):
            resolve_batch_size(bad, "cpu")


def test_default_batches_on_cpu_and_values_independent_of_batch_size():
    g = torch.Generator().manual_seed(3)
    ae = _BatchRecorder(torch.randn(4, 6, generator=g), torch.randn(6, 4, generator=g))
    z, v = sample_prior(100, 4, 0), intervention_values(100, 4, 1)
    auto = response_matrix_from(ae, z, v)  # CPU model: batches of at most 128
    assert max(ae.seen) == 128 and sum(ae.seen) == 5 * 100
    ae.seen.clear()
    whole = response_matrix_from(ae, z, v, batch_size=None)
    assert ae.seen == [100, 400]
    torch.testing.assert_close(auto, whole, rtol=0, atol=1e-5)
    with pytest.raises(ValueError, match="batch_size"):
        response_matrix_from(ae, z, v, batch_size=0)
