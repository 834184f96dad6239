"""FID-lite: the Fréchet distance against closed forms."""

from __future__ import annotations

import math

import pytest
import torch

from invwidgets.methods.fid import fid_lite, frechet_distance, gaussian_stats


def test_identical_sets_are_at_distance_zero_and_distance_is_symmetric():
    g = torch.Generator().manual_seed(0)
    a = torch.randn(500, 5, generator=g)
    b = torch.randn(400, 5, generator=g) * 2 + 1
    assert frechet_distance(a, a) == pytest.approx(0.0, abs=1e-9)
    assert frechet_distance(a, b) == pytest.approx(frechet_distance(b, a), rel=1e-9)


def test_closed_form_for_diagonal_gaussians():
    """For Σ_a = diag(s²), Σ_b = diag(t²): ‖μ_a − μ_b‖² + Σ (s − t)²."""
    g = torch.Generator().manual_seed(1)
    n, d = 4000, 3
    a = torch.randn(n, d, generator=g, dtype=torch.float64)
    b = torch.randn(n, d, generator=g, dtype=torch.float64)
    mu_a, cov_a = gaussian_stats(a)
    # whiten exactly, then scale: the sample covariances are then exactly diagonal
    wa = (a - mu_a) @ torch.linalg.inv(torch.linalg.cholesky(cov_a)).T
    mu_b, cov_b = gaussian_stats(b)
    wb = (b - mu_b) @ torch.linalg.inv(torch.linalg.cholesky(cov_b)).T
    s, t = torch.tensor([1.0, 2.0, 0.5], dtype=torch.float64), torch.tensor([3.0, 2.0, 1.0], dtype=torch.float64)
    shift = torch.tensor([1.0, -2.0, 0.0], dtype=torch.float64)
    d_val = frechet_distance(wa * s, wb * t + shift)
    expected = float(shift.pow(2).sum() + (s - t).pow(2).sum())
    assert d_val == pytest.approx(expected, rel=1e-6)


def test_fid_lite_uses_the_embedding():
    g = torch.Generator().manual_seed(2)
    x = torch.rand(64, 1, 4, 4, generator=g)
    embed = lambda t: t.flatten(1)[:, :3]  # noqa: E731
    assert fid_lite(embed, x, x, batch_size=10) == pytest.approx(0.0, abs=1e-9)
    assert fid_lite(embed, x, x * 0.5, batch_size=10) > 0.01
    assert math.isfinite(fid_lite(embed, x, torch.rand(30, 1, 4, 4, generator=g)))


def test_bad_inputs():
    with pytest.raises(ValueError, match="dimensions differ"):
        frechet_distance(torch.zeros(3, 2), torch.zeros(3, 4))
    with pytest.raises(ValueError, match="N >= 2"):
        frechet_distance(torch.zeros(1, 2), torch.zeros(3, 2))
    with pytest.raises(ValueError, match="NaN"):
        frechet_distance(torch.full((3, 2), float("nan")), torch.zeros(3, 2))
    with pytest.raises(TypeError, match="floating"):
        frechet_distance(torch.zeros(3, 2, dtype=torch.int64), torch.zeros(3, 2))
