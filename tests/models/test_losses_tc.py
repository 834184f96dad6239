"""The β-TCVAE total-correlation estimate and its place in the autoencoder loss."""

from __future__ import annotations

import math

import pytest
import torch

from invwidgets.models import ConvAutoencoder, autoencoder_loss, init_parameters
from invwidgets.models.losses import total_correlation


def _batch(correlated: bool, b: int = 512, d: int = 4, seed: int = 0):
    gen = torch.Generator().manual_seed(seed)
    if correlated:  # every latent carries the same value: maximal dependence
        mu = (torch.randn(b, 1, generator=gen) * 3).expand(b, d).clone()
        logvar = torch.full((b, d), 2 * torch.log(torch.tensor(0.1)).item())
    else:  # independent means and unit posteriors: q(z) = N(0, 2I) factorises
        mu = torch.randn(b, d, generator=gen)
        logvar = torch.zeros(b, d)
    z = mu + torch.exp(0.5 * logvar) * torch.randn(b, d, generator=gen)
    return z, mu, logvar


def test_total_correlation_is_the_constant_offset_for_independent_latents_and_larger_for_tied_ones():
    """The minibatch-weighted estimate carries the constant (d − 1)·log N of the reference
    implementation (no gradient); beyond it, independent latents give ≈ 0 and tied ones a lot."""
    offset = 3 * math.log(512)
    tc_indep = float(total_correlation(*_batch(False), dataset_size=512)) - offset
    tc_tied = float(total_correlation(*_batch(True), dataset_size=512)) - offset
    assert abs(tc_indep) < 0.3
    assert tc_tied > 3.0  # three redundant copies of one latent
    # the offset moves with N exactly as (d − 1)·log N
    z, mu, logvar = _batch(False)
    shift = float(total_correlation(z, mu, logvar, 5120)) - float(total_correlation(z, mu, logvar, 512))
    assert shift == pytest.approx(3 * math.log(10), rel=1e-4)


def test_total_correlation_rejects_bad_input():
    z, mu, logvar = _batch(False, b=8)
    with pytest.raises(ValueError, match="at least two"):
        total_correlation(z[:1], mu[:1], logvar[:1], 10)
    with pytest.raises(ValueError, match="must all be"):
        total_correlation(z, mu[:, :2], logvar, 10)
    with pytest.raises(ValueError, match="dataset_size"):
        total_correlation(z, mu, logvar, 0)


def test_the_loss_adds_the_weighted_total_correlation():
    model = init_parameters(ConvAutoencoder(3, 8, latent_dim=4, variational=True, channels=[8]), 0).train()
    x = torch.rand(16, 3, 8, 8, generator=torch.Generator().manual_seed(1))
    out = model(x, generator=torch.Generator().manual_seed(2))
    plain = autoencoder_loss(out, x)
    tc = autoencoder_loss(out, x, tc_weight=5.0, dataset_size=1000)
    assert "tc" not in plain
    assert tc["loss"].item() == pytest.approx(plain["loss"].item() + 5.0 * tc["tc"].item(), rel=1e-6)
    with pytest.raises(ValueError, match="dataset_size"):
        autoencoder_loss(out, x, tc_weight=1.0)
    ae = init_parameters(ConvAutoencoder(3, 8, latent_dim=4, channels=[8]), 0)
    with pytest.raises(ValueError, match="variational"):
        autoencoder_loss(ae(x), x, tc_weight=1.0, dataset_size=10)
