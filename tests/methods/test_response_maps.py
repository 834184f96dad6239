"""Response maps: grid layout, divergence and curvature in latent units (docs/methods/responses.md, Numerical checks)."""

from __future__ import annotations

import pytest
import torch

from invwidgets.methods.response_maps import (
    divergence,
    latent_grid,
    mean_curvature,
    posterior_histogram,
    response_map,
    response_maps,
)


class Collapse:
    """R(z) = 0, so u = R(z) − z = −z: the linear sink field."""

    latent_dim = 3

    def encode(self, x):
        return torch.zeros_like(x)

    def decode(self, z):
        return z


def test_grid_layout_columns_walk_a_rows_walk_b():
    base = torch.tensor([0.5, -1.0, 7.0])
    z, coords = latent_grid(base, (2, 0), radius=1.5, resolution=7)
    assert z.shape == (7, 7, 3) and coords.shape == (7,)
    assert float(coords[0]) == -1.5 and float(coords[-1]) == 1.5
    assert torch.equal(z[3, :, 2], coords) and torch.equal(z[:, 3, 0], coords)
    assert bool((z[..., 1] == -1.0).all())  # the other latent keeps the base value


def test_divergence_of_minus_z_is_minus_two_in_latent_units():
    m = response_map(Collapse(), torch.zeros(3), (0, 2), radius=2.0, resolution=33)
    assert m.magnitude.shape == m.divergence.shape == m.curvature.shape == (33, 33)
    assert m.field.shape == (33, 33, 2)
    assert m.spacing == pytest.approx(4.0 / 32)
    torch.testing.assert_close(m.divergence, torch.full((33, 33), -2.0, dtype=torch.float64), rtol=0, atol=1e-9)
    per_step = response_map(Collapse(), torch.zeros(3), (0, 2), radius=2.0, resolution=33, per_step=True)
    torch.testing.assert_close(per_step.divergence, torch.full((33, 33), -2.0 * m.spacing, dtype=torch.float64),
                               rtol=0, atol=1e-9)
    r = torch.sqrt(m.latents[..., 0] ** 2 + m.latents[..., 2] ** 2).double()
    torch.testing.assert_close(m.magnitude, r, rtol=1e-6, atol=1e-6)


def test_mean_curvature_of_radial_field_is_one_over_two_r():
    m = response_map(Collapse(), torch.zeros(3), (0, 1), radius=2.0, resolution=201)
    x, y = m.latents[..., 0].double(), m.latents[..., 1].double()
    r = torch.sqrt(x**2 + y**2)
    inside = (r > 0.5) & (r < 1.8)
    expected = 1.0 / (2.0 * r)
    rel = ((m.curvature - expected).abs() / expected)[inside]
    assert float(rel.max()) < 0.01


def test_divergence_of_a_rotation_field_is_zero_and_of_an_expansion_is_positive():
    coords = torch.linspace(-1, 1, 21, dtype=torch.float64)
    yy, xx = torch.meshgrid(coords, coords, indexing="ij")
    rot = torch.stack([-yy, xx], dim=-1)
    assert float(divergence(rot, 0.1).abs().max()) < 1e-9
    expand = torch.stack([3 * xx, 0.5 * yy], dim=-1)
    torch.testing.assert_close(divergence(expand, 0.1), torch.full((21, 21), 3.5, dtype=torch.float64))
    assert mean_curvature(rot, 0.1).shape == (21, 21)


def test_posterior_histogram_counts_codes_in_the_right_bins():
    codes = torch.tensor([[0.0, 0.0, 0.0], [2.0, -2.0, 0.0], [2.0, -2.0, 1.0], [5.0, 0.0, 0.0]])
    h = posterior_histogram(codes, (0, 1), radius=2.0, resolution=5)
    assert h.shape == (5, 5) and float(h.sum()) == 3.0  # the code at x = 5 is outside
    assert float(h[2, 2]) == 1.0  # centre
    assert float(h[0, 4]) == 2.0  # row 0 = lowest b (−2), last column = highest a (+2)


def test_bad_arguments_raise_clear_errors():
    with pytest.raises(ValueError, match="different latents"):
        latent_grid(torch.zeros(3), (1, 1))
    with pytest.raises(ValueError, match="resolution"):
        latent_grid(torch.zeros(3), (0, 1), resolution=2)
    with pytest.raises(ValueError, match="radius"):
        latent_grid(torch.zeros(3), (0, 1), radius=-1.0)
    with pytest.raises(ValueError, match="NaN"):
        latent_grid(torch.tensor([0.0, float("nan")]), (0, 1))
    with pytest.raises(ValueError, match="rows, cols, 2"):
        divergence(torch.zeros(4, 4))


def test_decoded_grid_follows_the_map_layout():
    class Ident(Collapse):
        def encode(self, x):
            return x

    m = response_map(Ident(), torch.zeros(3), (0, 1), radius=1.0, resolution=5)
    images = m.decoded(Ident(), every=2)
    assert images.shape == (9, 3)
    torch.testing.assert_close(images, m.latents[::2, ::2].reshape(9, 3))
    assert float(m.magnitude.abs().max()) == 0.0


class Squash:
    """A non-linear model: R(z) = tanh(W z) with a fixed mixing W, so every pair's map differs."""

    latent_dim = 4

    def __init__(self) -> None:
        self.w = torch.randn(4, 4, generator=torch.Generator().manual_seed(0))
        self.calls = 0

    def encode(self, x):
        self.calls += 1
        return torch.tanh(x @ self.w.T)

    def decode(self, z):
        return z


def test_batched_maps_equal_one_map_per_pair():
    model = Squash()
    base = torch.tensor([0.3, -0.2, 0.1, 0.5])
    maps = response_maps(model, base, radius=1.5, resolution=9, batch_size=None)
    assert [m.dims for m in maps] == [(0, 1), (0, 2), (0, 3), (1, 2), (1, 3), (2, 3)]  # every a < b
    assert model.calls == 1  # one pass over all six grids
    for m in maps:
        single = response_map(model, base, m.dims, radius=1.5, resolution=9)
        assert torch.allclose(m.responses, single.responses, atol=1e-6)
        assert torch.allclose(m.divergence, single.divergence, atol=1e-5)
        assert torch.allclose(m.curvature, single.curvature, atol=1e-5)
    # batch size does not change the values; a base per pair is used for its own pair
    again = response_maps(model, base, [(2, 0)], radius=1.5, resolution=9, batch_size=7)[0]
    assert torch.allclose(again.responses, response_map(model, base, (2, 0), radius=1.5, resolution=9).responses,
                          atol=1e-6)
    bases = torch.stack([base, -base])
    two = response_maps(model, bases, [(0, 1), (0, 1)], radius=1.0, resolution=5)
    assert torch.equal(two[1].base, -base) and not torch.allclose(two[0].responses, two[1].responses)


def test_batched_maps_reject_bad_pairs_and_bases():
    model = Squash()
    with pytest.raises(ValueError, match="at least one pair"):
        response_maps(model, torch.zeros(4), [])
    with pytest.raises(ValueError, match="one per pair"):
        response_maps(model, torch.zeros(3, 4), [(0, 1), (1, 2)])
    with pytest.raises(ValueError, match="two different latents"):
        response_maps(model, torch.zeros(4), [(1, 1)])
