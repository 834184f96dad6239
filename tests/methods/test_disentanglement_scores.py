"""MIG and DCI (scikit-learn regressors) on codes with known structure."""

from __future__ import annotations

import numpy as np
import pytest
import torch

from invwidgets.data import mixed_radix_factors
from invwidgets.methods.disentanglement import dci, mig


def grid(sizes=(4, 5, 6)):
    n = int(np.prod(sizes))
    return mixed_radix_factors(torch.arange(n), sizes)


def test_mig_is_high_for_aligned_codes_and_low_for_noise():
    f = grid().repeat(10, 1)  # enough samples that the plug-in MI of noise latents is small
    g = torch.Generator().manual_seed(0)
    aligned = f.float() + 0.01 * torch.randn(f.shape, generator=g)
    aligned = torch.cat([aligned, 0.01 * torch.randn(len(f), 2, generator=g)], 1)  # two noise latents
    r = mig(aligned, f, factor_names=("a", "b", "c"))
    assert r.score > 0.9
    assert r.mutual_information.shape == (5, 3) and r.factor_names == ("a", "b", "c")
    noise = torch.randn(len(f), 5, generator=g)
    assert mig(noise, f).score < 0.2


def test_mig_invariant_to_latent_permutation_and_skips_constant_factor():
    f = grid()
    codes = f.float()[:, [2, 0, 1]] + 0.1 * torch.randn(len(f), 3, generator=torch.Generator().manual_seed(1))
    a = mig(codes, f).score
    b = mig(codes[:, [1, 2, 0]], f).score
    assert a == pytest.approx(b, abs=1e-12)
    f2 = torch.cat([f, torch.zeros(len(f), 1, dtype=torch.int64)], 1)
    assert mig(codes, f2).gaps.shape == (3,)


def test_dci_is_high_for_aligned_codes_and_lower_for_mixed_ones():
    f = grid()
    g = torch.Generator().manual_seed(0)
    aligned = f.float() + 0.05 * torch.randn(f.shape, generator=g)
    r = dci(aligned, f, factor_names=("a", "b", "c"))
    assert r.disentanglement > 0.9 and r.completeness > 0.9 and r.informativeness > 0.9
    assert r.importance.shape == (3, 3)
    q, _ = torch.linalg.qr(torch.randn(3, 3, generator=g))
    mixed = dci(aligned @ q, f)
    assert mixed.disentanglement < r.disentanglement - 0.2
    assert mixed.completeness < r.completeness - 0.2
    forest = dci(aligned, f, regressor="forest")
    assert forest.disentanglement > 0.8


def test_dci_is_reproducible_with_a_seed():
    f = grid((3, 4))
    codes = f.float() + torch.randn(len(f), 2, generator=torch.Generator().manual_seed(0))
    a, b = dci(codes, f, seed=3), dci(codes, f, seed=3)
    assert a.disentanglement == b.disentanglement and np.array_equal(a.importance, b.importance)


def test_bad_inputs():
    f = grid((3, 4))
    with pytest.raises(ValueError, match="NaN"):
        mig(torch.full((len(f), 2), float("nan")), f)
    with pytest.raises(TypeError, match="integers"):
        mig(torch.zeros(len(f), 2), f.float())
    with pytest.raises(ValueError, match="shape"):
        dci(torch.zeros(5, 2), f)
    with pytest.raises(ValueError, match="regressor"):
        dci(torch.zeros(len(f), 2), f, regressor="svm")
    with pytest.raises(ValueError, match="more than one value"):
        mig(torch.randn(10, 2), torch.zeros(10, 1, dtype=torch.int64))
