"""Tests of nuisance sampling, traversals, interpolation, invariance rates and nuisance-to-pixel
maps (docs/methods/invariances.md: Invariant samples, Numerical checks), on toy supervised VAEs with known answers and on a shipped one."""

import pytest
import torch
from torch import nn

from invwidgets.methods.invariances import (
    aggregate_posterior,
    check_svae,
    encode_split,
    invariance_rates,
    invariant_samples,
    nuisance_interpolation,
    nuisance_pixel_map,
    nuisance_traversal,
    sample_class,
    sample_nuisance,
)
from invwidgets.models import init_parameters
from invwidgets.models.svae import SupervisedVAE


class ToySVAE(nn.Module):
    """Identity encoder and decoder on 1×1×2 "images" x = (z_c, z_n); class = sign of z_c.

    With ``swap=True`` the decoder writes z_n where the encoder reads z_c, so the class leaks
    into the nuisance path and resampling z_n no longer preserves the label.
    """

    d_c, d_n, input_shape = 1, 1, (1, 1, 2)

    def __init__(self, swap: bool = False):
        super().__init__()
        self.swap = swap
        self.scale = nn.Parameter(torch.ones(()))

    def encode_dist(self, x):
        z = x.flatten(1) * self.scale
        return z, torch.zeros_like(z)

    def decode(self, z):
        if self.swap:
            z = z.flip(1)
        return z.reshape(-1, 1, 1, 2)

    def classify(self, z_c):
        return torch.cat([z_c, -z_c], 1)


def _toy_x(n=400, seed=0):
    return torch.randn(n, 1, 1, 2, generator=torch.Generator().manual_seed(seed))


def test_protocol_check():
    check_svae(ToySVAE())
    with pytest.raises(TypeError, match="not a supervised VAE.*classify"):
        check_svae(nn.Linear(2, 2))


def test_rates_of_a_model_that_keeps_class_in_z_c():
    rates = invariance_rates(ToySVAE(), _toy_x(), torch.Generator().manual_seed(0), k=8)
    assert rates["latent"] == 1.0
    assert rates["closed_loop"] == 1.0  # re-encoding returns z_c exactly
    # control: z_c ~ N(0, 1) keeps the sign half of the time (3200 draws: 5 sigma ≈ 0.044)
    assert abs(rates["control_closed_loop"] - 0.5) < 0.045


def test_rates_of_a_model_that_leaks_class_into_z_n():
    rates = invariance_rates(ToySVAE(swap=True), _toy_x(), torch.Generator().manual_seed(0), k=8)
    assert rates["latent"] == 1.0  # still exact by construction: the head reads z_c only
    assert abs(rates["closed_loop"] - 0.5) < 0.045  # but the decoded images do not keep the class
    # the decoded image's first pixel is the untouched z_n of the input: unrelated to its class
    assert abs(rates["control_closed_loop"] - 0.5) < 0.045


def test_external_classifier_and_posterior_pool():
    x = _toy_x()
    # an external classifier that reads the first pixel's sign agrees with the toy's head
    external = nn.Linear(2, 2, bias=False)
    with torch.no_grad():
        external.weight.copy_(torch.tensor([[1.0, 0.0], [-1.0, 0.0]]))
    ext = nn.Sequential(nn.Flatten(), external)
    pool = aggregate_posterior(ToySVAE(), _toy_x(200, seed=1))
    assert pool["z_c"].shape == (200, 1) and pool["z_n"].shape == (200, 1)
    rates = invariance_rates(ToySVAE(), x, torch.Generator().manual_seed(0), k=4, external=ext,
                             source="posterior", pool=pool)
    assert rates["external"] == 1.0
    assert 0.4 < rates["control_external"] < 0.6
    with pytest.raises(ValueError, match="pool"):
        invariance_rates(ToySVAE(), x, torch.Generator().manual_seed(0), source="posterior")


def test_sampling_is_seeded_and_posterior_draws_pool_rows():
    m = ToySVAE()
    a = sample_nuisance(m, 5, torch.Generator().manual_seed(3))
    b = sample_nuisance(m, 5, torch.Generator().manual_seed(3))
    assert torch.equal(a, b) and a.shape == (5, 1)
    pool = torch.arange(10.0)[:, None]
    s = sample_class(m, 50, torch.Generator().manual_seed(0), source="posterior", pool=pool)
    assert s.shape == (50, 1) and set(s.flatten().tolist()) <= set(range(10))
    with pytest.raises(TypeError, match="Generator"):
        sample_nuisance(m, 5, 0)
    with pytest.raises(ValueError, match="source"):
        sample_nuisance(m, 5, torch.Generator(), source="uniform")
    with pytest.raises(ValueError, match=r"\(M, 1\)"):
        sample_nuisance(m, 5, torch.Generator(), source="posterior", pool=torch.zeros(3, 2))


@pytest.fixture(scope="module")
def svae():
    return init_parameters(SupervisedVAE(d_c=3, d_n=4), 0).eval()


def test_invariant_samples_keep_z_c_and_are_deterministic(svae):
    x = torch.rand(2, 1, 8, 8, generator=torch.Generator().manual_seed(0))
    s1 = invariant_samples(svae, x, 5, torch.Generator().manual_seed(9))
    s2 = invariant_samples(svae, x, 5, torch.Generator().manual_seed(9))
    assert s1.images.shape == (2, 5, 1, 8, 8) and s1.z.shape == (2, 5, 7)
    assert torch.equal(s1.images, s2.images)
    z_c, z_n = encode_split(svae, x)
    assert torch.equal(s1.z[:, :, :3], z_c[:, None].expand(2, 5, 3))
    assert not torch.allclose(s1.z[:, :, 3:], z_n[:, None].expand(2, 5, 4))
    assert torch.equal(s1.label, svae.classify(z_c).argmax(1))
    assert torch.allclose(s1.reconstruction, svae.decode(torch.cat([z_c, z_n], 1)))


def test_traversal_and_interpolation(svae):
    x = torch.rand(2, 1, 8, 8, generator=torch.Generator().manual_seed(1))
    z_c, z_n = encode_split(svae, x)
    trav = nuisance_traversal(svae, x[:1], 2, values=torch.tensor([-1.0, 0.0, 2.0]))
    z = torch.cat([z_c[:1], z_n[:1]], 1).repeat(3, 1)
    z[:, 3 + 2] = torch.tensor([-1.0, 0.0, 2.0])
    assert torch.allclose(trav, svae.decode(z))
    with pytest.raises(IndexError, match=r"\[0, 4\)"):
        nuisance_traversal(svae, x[:1], 4)
    interp = nuisance_interpolation(svae, x[:1], x[1:], steps=5)
    assert interp.shape == (5, 1, 8, 8)
    assert torch.allclose(interp[0], svae.decode(torch.cat([z_c[:1], z_n[:1]], 1))[0], atol=1e-6)
    assert torch.allclose(interp[-1], svae.decode(torch.cat([z_c[:1], z_n[1:]], 1))[0], atol=1e-6)


def test_nuisance_pixel_map_matches_finite_differences(svae):
    z = torch.randn(7, generator=torch.Generator().manual_seed(2)).double()
    svae64 = svae.double()
    try:
        j = 1
        grad = nuisance_pixel_map(svae64, z.float().double(), j)
        eps = 1e-6
        zp, zm = z.clone(), z.clone()
        zp[3 + j] += eps
        zm[3 + j] -= eps
        with torch.no_grad():
            fd = (svae64.decode(zp[None]) - svae64.decode(zm[None]))[0] / (2 * eps)
    finally:
        svae.float()
    assert grad.shape == (1, 8, 8)
    assert torch.allclose(grad.double(), fd, atol=1e-5)


def test_bad_inputs_are_clear_errors(svae):
    with pytest.raises(ValueError, match=r"shape \(N, 1, 8, 8\)"):
        encode_split(svae, torch.rand(1, 1, 7, 7))
    with pytest.raises(TypeError, match="floating-point"):
        encode_split(svae, torch.ones(1, 1, 8, 8, dtype=torch.int64))
    bad = torch.rand(1, 1, 8, 8)
    bad[0, 0, 0, 0] = float("nan")
    with pytest.raises(ValueError, match="NaN"):
        invariant_samples(svae, bad, 3, torch.Generator())
