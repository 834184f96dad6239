"""Tests of the autoencoder family and the loss helpers."""

import pytest
import torch
from torch.distributions import Normal, kl_divergence

from invwidgets.models import (
    AutoencoderOutput,
    ConvAutoencoder,
    MLPAutoencoder,
    autoencoder_loss,
    bernoulli_nll,
    gaussian_kl,
    reparameterize,
    squared_error,
)


@pytest.mark.parametrize(
    "in_channels,size,latent,variational",
    [(1, 32, 8, False), (1, 32, 6, True), (3, 8, 16, False), (1, 16, 4, True)],
)
def test_conv_autoencoder_shapes(in_channels, size, latent, variational):
    m = ConvAutoencoder(in_channels, size, latent, variational=variational).eval()
    x = torch.rand(5, in_channels, size, size, generator=torch.Generator().manual_seed(0))
    z = m.encode(x)
    assert z.shape == (5, latent)
    y = m.decode(z)
    assert y.shape == x.shape and y.min() >= 0 and y.max() <= 1
    out = m(x)
    assert isinstance(out, AutoencoderOutput) and out.reconstruction.shape == x.shape
    if variational:
        mu, logvar = m.encode_dist(x)
        assert mu.shape == logvar.shape == (5, latent)
    else:
        with pytest.raises(TypeError, match="no posterior"):
            m.encode_dist(x)


def test_mlp_autoencoder_shapes_vector_and_image():
    m = MLPAutoencoder(3, 2, hidden=(32, 32, 32, 32), activation="elu", output="identity", variational=True)
    x = torch.randn(7, 3, generator=torch.Generator().manual_seed(0)) * 3
    assert m.encode(x).shape == (7, 2) and m.decode(torch.zeros(4, 2)).shape == (4, 3)
    img = MLPAutoencoder((1, 8, 8), 10)
    y = img.decode(img.encode(torch.rand(2, 1, 8, 8)))
    assert y.shape == (2, 1, 8, 8) and 0 <= float(y.detach().min()) and float(y.detach().max()) <= 1


def test_vae_encode_is_the_deterministic_mean():
    m = ConvAutoencoder(1, 32, 6, variational=True)
    m.train()  # encode must not sample even in training mode
    x = torch.rand(4, 1, 32, 32, generator=torch.Generator().manual_seed(1))
    z1, z2 = m.encode(x), m.encode(x)
    assert torch.equal(z1, z2)
    assert torch.equal(z1, m.encode_dist(x)[0])


def test_vae_forward_sampling_needs_generator():
    m = MLPAutoencoder((1, 8, 8), 4, variational=True)
    x = torch.rand(3, 1, 8, 8)
    with pytest.raises(ValueError, match="needs a torch.Generator"):
        m.train()(x)
    a = m(x, generator=torch.Generator().manual_seed(5))
    b = m(x, generator=torch.Generator().manual_seed(5))
    assert torch.equal(a.z, b.z) and not torch.equal(a.z, a.mu)
    m.eval()
    assert torch.equal(m(x).z, m.encode(x))


def test_reparameterize_statistics():
    mu = torch.full((20000, 2), 1.5)
    logvar = torch.log(torch.full((20000, 2), 0.25))
    z = reparameterize(mu, logvar, torch.Generator().manual_seed(0))
    assert abs(float(z.mean()) - 1.5) < 0.02 and abs(float(z.std()) - 0.5) < 0.02
    with pytest.raises(TypeError, match="torch.Generator"):
        reparameterize(mu, logvar, 0)


def test_input_validation_messages():
    m = ConvAutoencoder(1, 32, 8)
    with pytest.raises(ValueError, match=r"shape \(N, 1, 32, 32\), got \(2, 1, 16, 16\)"):
        m.encode(torch.rand(2, 1, 16, 16))
    with pytest.raises(TypeError, match="floating-point"):
        m.encode(torch.zeros(2, 1, 32, 32, dtype=torch.uint8))
    with pytest.raises(ValueError, match=r"z must have shape \(N, 8\)"):
        m.decode(torch.zeros(2, 7))
    with pytest.raises(ValueError, match="divisible"):
        ConvAutoencoder(1, 30, 8, channels=(16, 16))
    with pytest.raises(ValueError, match="latent_dim"):
        ConvAutoencoder(1, 32, 0)


def test_gaussian_kl_matches_torch_distributions():
    g = torch.Generator().manual_seed(0)
    mu = torch.randn(64, 10, generator=g, dtype=torch.float64) * 2
    logvar = torch.randn(64, 10, generator=g, dtype=torch.float64) * 1.5
    ours = gaussian_kl(mu, logvar)
    ref = kl_divergence(Normal(mu, torch.exp(0.5 * logvar)), Normal(torch.zeros_like(mu), torch.ones_like(mu)))
    assert ours.shape == mu.shape
    assert torch.allclose(ours.sum(1), ref.sum(1), atol=1e-6, rtol=0)
    assert torch.allclose(ours, ref, atol=1e-6, rtol=0)
    assert float(gaussian_kl(torch.zeros(3), torch.zeros(3)).abs().max()) == 0.0
    # float32 too
    ref32 = kl_divergence(Normal(mu.float(), torch.exp(0.5 * logvar.float())), Normal(0.0, 1.0)).sum(1)
    assert torch.allclose(gaussian_kl(mu.float(), logvar.float()).sum(1), ref32, atol=1e-4, rtol=1e-6)


def test_bernoulli_nll_and_squared_error():
    p = torch.tensor([[0.25, 0.5], [0.9, 0.1]])
    x = torch.tensor([[1.0, 0.0], [1.0, 1.0]])
    expected = -(x * p.log() + (1 - x) * (1 - p).log()).sum(1)
    assert torch.allclose(bernoulli_nll(p, x), expected)
    assert torch.allclose(bernoulli_nll(torch.logit(p), x, logits=True), expected, atol=1e-6)
    assert torch.allclose(squared_error(p, x), ((p - x) ** 2).sum(1))
    with pytest.raises(ValueError, match=r"targets must lie in \[0, 1\]"):
        bernoulli_nll(p, x * 2)
    with pytest.raises(ValueError, match="shapes differ"):
        squared_error(p, x[:1])


def test_autoencoder_loss_terms():
    m = ConvAutoencoder(1, 16, 4, variational=True)
    x = (torch.rand(8, 1, 16, 16, generator=torch.Generator().manual_seed(0)) > 0.5).float()
    out = m(x, generator=torch.Generator().manual_seed(0))
    terms = autoencoder_loss(out, x, beta=4.0)
    recon = bernoulli_nll(out.reconstruction, x).mean()
    kl = gaussian_kl(out.mu, out.logvar).sum(1).mean()
    assert torch.allclose(terms["recon"], recon, rtol=1e-5)
    assert torch.allclose(terms["loss"], recon + 4.0 * kl, rtol=1e-5)
    assert terms["kl_per_dim"].shape == (4,)
    terms["loss"].backward()
    ae = ConvAutoencoder(1, 16, 4).eval()
    terms = autoencoder_loss(ae(x), x, likelihood="mse")
    assert float(terms["kl"]) == 0.0
    with pytest.raises(ValueError, match="likelihood"):
        autoencoder_loss(ae(x), x, likelihood="poisson")


def test_broadcast_decoder_shapes_coordinates_and_config_round_trip():
    from invwidgets.models import SpatialBroadcastDecoder, init_parameters

    m = ConvAutoencoder(1, 16, 4, variational=True, channels=[8, 8], hidden=16, decoder="broadcast",
                        decoder_channels=[6, 5]).eval()
    assert isinstance(m.decoder, SpatialBroadcastDecoder)
    assert m.config["decoder"] == "broadcast" and m.config["decoder_channels"] == [6, 5]
    z = torch.randn(3, 4, generator=torch.Generator().manual_seed(0))
    with torch.no_grad():
        y = m.decode(z)
    assert y.shape == (3, 1, 16, 16) and 0 <= float(y.min()) and float(y.max()) <= 1
    # the two coordinate channels are x (varies along width) and y (along height), from -1 to 1
    cx, cy = m.decoder.coords[0]
    assert torch.equal(cx[0], torch.linspace(-1, 1, 16)) and torch.equal(cy[:, 0], torch.linspace(-1, 1, 16))
    assert float((cx - cx[:1]).abs().max()) == 0 and float((cy - cy[:, :1]).abs().max()) == 0
    # coordinates are rebuilt, not saved; the config rebuilds the same model
    assert "decoder.coords" not in m.state_dict()
    m2 = ConvAutoencoder(**m.config).eval()
    m2.load_state_dict(m.state_dict())
    with torch.no_grad():
        assert torch.equal(m2.decode(z), y)
    # seeded initialisation reaches the decoder's convolutions
    a, b = init_parameters(ConvAutoencoder(**m.config), 3), init_parameters(ConvAutoencoder(**m.config), 3)
    assert all(torch.equal(p, q) for p, q in zip(a.parameters(), b.parameters()))
    # gradients flow to every decoder parameter
    m.train()
    out = m(torch.rand(2, 1, 16, 16), generator=torch.Generator().manual_seed(1))
    autoencoder_loss(out, torch.rand(2, 1, 16, 16), beta=1.0)["loss"].backward()
    assert all(p.grad is not None and p.grad.abs().sum() > 0 for p in m.decoder.parameters())


def test_broadcast_decoder_position_is_read_from_the_coordinates():
    """A decoder whose first layer looks only at the x coordinate draws a horizontal ramp: the
    coordinate channels carry position, independent of z."""
    from invwidgets.models import SpatialBroadcastDecoder

    dec = SpatialBroadcastDecoder(2, 8, 1, channels=[1], activation="relu")
    with torch.no_grad():
        for p in dec.parameters():
            p.zero_()
        dec.net[0].weight[0, 2, 1, 1] = 1.0  # centre tap on the x channel (after 2 latent channels)
        dec.net[2].weight[0, 0, 0, 0] = 1.0
    out = dec(torch.randn(4, 2))[:, 0]
    ramp = torch.linspace(-1, 1, 8).clamp(min=0)
    assert torch.allclose(out, ramp.expand(4, 8, 8))


def test_broadcast_decoder_bad_arguments():
    with pytest.raises(ValueError, match="decoder must be one of"):
        ConvAutoencoder(1, 16, 4, decoder="pixelshuffle")
    with pytest.raises(ValueError, match="only to decoder='broadcast'"):
        ConvAutoencoder(1, 16, 4, decoder_channels=[8])
    with pytest.raises(ValueError, match="at least one"):
        ConvAutoencoder(1, 16, 4, decoder="broadcast", decoder_channels=[])
    m = ConvAutoencoder(1, 16, 4, decoder="broadcast")
    assert m.config["decoder_channels"] == [32, 32, 32]
    with pytest.raises(ValueError, match=r"z must have shape \(N, 4\)"):
        m.decode(torch.zeros(2, 3))
