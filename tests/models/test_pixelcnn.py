"""Gated PixelCNN: autoregressive masks, normalisation, fast = naive sampling, clear errors."""

from __future__ import annotations

import itertools

import pytest
import torch

from invwidgets.models.pixelcnn import GatedPixelCNN, InversionSet, to_levels


def _model(cond_shape=None, **kw) -> GatedPixelCNN:
    torch.manual_seed(0)
    args = dict(in_channels=2, image_size=5, levels=3, channels=8, n_layers=3, cond_shape=cond_shape)
    args.update(kw)
    return GatedPixelCNN(**args)


@pytest.mark.parametrize("cond_shape", [None, [4], [2, 3, 3], [1, 5, 5]])
def test_logits_depend_only_on_previous_pixels(cond_shape):
    m = _model(cond_shape)
    g = torch.Generator().manual_seed(1)
    x = (torch.randint(0, 3, (1, 2, 5, 5), generator=g).float() / 2).requires_grad_(True)
    h = None if cond_shape is None else torch.randn(1, *cond_shape, generator=g)
    logits = m.logits(x, h)
    assert logits.shape == (1, 3, 2, 5, 5)
    # One backward pass per output sub-pixel: row k of the Jacobian (summed over levels).
    outs = logits[0].sum(0).flatten()  # (channel, row, col) order, 50 entries
    jac = torch.stack([torch.autograd.grad(o, x, retain_graph=True)[0][0] for o in outs])
    per_pixel = jac.abs().sum(1).reshape(2, 25, 25)  # [channel, output pixel i, input pixel j]
    j_ge_i = torch.triu(torch.ones(25, 25, dtype=torch.bool))
    assert torch.all(per_pixel[:, j_ge_i] == 0), "a pixel's logits depend on itself or later pixels"
    assert int(((per_pixel * ~j_ge_i) != 0).any(-1).sum()) > 40  # and they do depend on earlier ones


@pytest.mark.parametrize("cond_shape", [None, [3], [1, 2, 2]])
def test_probabilities_of_all_2x2_images_sum_to_one(cond_shape):
    m = GatedPixelCNN(in_channels=1, image_size=2, levels=3, channels=8, n_layers=2, cond_shape=cond_shape)
    with torch.no_grad():
        for p in m.parameters():  # a far-from-uniform model
            p.mul_(3)
    images = torch.tensor(list(itertools.product(range(3), repeat=4)), dtype=torch.float32).reshape(-1, 1, 2, 2) / 2
    h = None if cond_shape is None else torch.randn(1, *cond_shape).expand(81, *cond_shape)
    with torch.no_grad():
        logp = m.log_prob(images, h).double()
    assert images.shape[0] == 81
    assert abs(float(torch.logsumexp(logp, 0).exp()) - 1) < 1e-5
    assert float(logp.exp().max()) > 2 / 81  # not the uniform distribution


@pytest.mark.parametrize("cond_shape", [None, [4], [2, 3, 3]])
def test_fast_sampler_agrees_with_naive(cond_shape):
    m = _model(cond_shape, image_size=6, levels=5)
    h = None if cond_shape is None else torch.randn(6, *cond_shape, generator=torch.Generator().manual_seed(2))
    naive = m.sample(6, h, torch.Generator().manual_seed(3), method="naive")
    fast = m.sample(6, h, torch.Generator().manual_seed(3), method="fast")
    other = m.sample(6, h, torch.Generator().manual_seed(4), method="fast")
    assert torch.equal(naive, fast)
    assert not torch.equal(fast, other)
    assert fast.shape == (6, 2, 6, 6)
    assert torch.equal(to_levels(fast, 5).float() / 4, fast)


def test_sampling_follows_the_model_distribution():
    m = GatedPixelCNN(in_channels=1, image_size=2, levels=2, channels=8, n_layers=2)
    with torch.no_grad():
        s = m.sample(4000, None, torch.Generator().manual_seed(0))
        p_first = torch.softmax(m.logits(torch.zeros(1, 1, 2, 2))[0, :, 0, 0, 0], 0)[1]
    assert abs(float(s[:, 0, 0, 0].mean()) - float(p_first)) < 0.03


def test_pixel_entropy_is_bounded():
    m = _model([4])
    x = torch.randint(0, 3, (3, 2, 5, 5)).float() / 2
    with torch.no_grad():
        ent = m.pixel_entropy(x, torch.randn(3, 4))
    assert ent.shape == (3, 2, 5, 5)
    assert float(ent.min()) >= 0 and float(ent.max()) <= torch.log2(torch.tensor(3.0)) + 1e-5


def test_clear_errors():
    m = _model([4])
    x = torch.zeros(2, 2, 5, 5)
    with pytest.raises(ValueError, match="shape"):
        m.logits(torch.zeros(2, 1, 5, 5), torch.zeros(2, 4))
    with pytest.raises(TypeError, match="floating"):
        m.logits(x.long(), torch.zeros(2, 4))
    with pytest.raises(ValueError, match="pass h"):
        m.logits(x)
    with pytest.raises(ValueError, match="NaN"):
        m.logits(x, torch.full((2, 4), float("nan")))
    with pytest.raises(ValueError, match="h must have shape"):
        m.logits(x, torch.zeros(2, 5))
    with pytest.raises(ValueError, match="levels"):
        m.log_prob(torch.full((2, 2, 5, 5), 0.3), torch.zeros(2, 4))
    with pytest.raises(ValueError, match="unconditional"):
        _model().logits(x, torch.zeros(2, 4))
    with pytest.raises(ValueError, match="kernel_size"):
        GatedPixelCNN(kernel_size=4)
    with pytest.raises(ValueError, match="method"):
        m.sample(h=torch.zeros(1, 4), method="slow")


def test_cond_normalization_is_saved_state():
    m = _model([4])
    h = torch.randn(50, 4) * 5 + 3
    m.set_cond_normalization(h)
    assert torch.allclose(m.cond_mean, h.mean(0))
    assert "cond_mean" in m.state_dict() and "cond_std" in m.state_dict()


def test_inversion_set_accepts_module_paths():
    inv = InversionSet({"channels": 4, "n_layers": 1, "image_size": 4, "levels": 2},
                       {"uncond": None, "features.1": [3]})
    assert inv.layers == ["features.1"]
    assert inv["features.1"].cond_shape == (3,)
    assert "features.1" in inv and "fc" not in inv
    with pytest.raises(KeyError):
        inv["fc"]


def test_channel_normalisation_of_feature_maps():
    g = torch.Generator().manual_seed(0)
    h = torch.rand(100, 2, 3, 3, generator=g)
    h[:, 1, 0, 0] = 0.0
    h[0, 1, 0, 0] = 0.01  # a position of an active channel that is (almost) never active in training
    elem = GatedPixelCNN(1, 4, 2, channels=4, n_layers=1, cond_shape=[2, 3, 3])
    chan = GatedPixelCNN(1, 4, 2, channels=4, n_layers=1, cond_shape=[2, 3, 3], cond_norm="channel")
    elem.set_cond_normalization(h)
    chan.set_cond_normalization(h)
    assert torch.allclose(chan.cond_mean[0], h[:, 0].mean().expand(3, 3))
    assert torch.allclose(chan.cond_std[1], h[:, 1].std(unbiased=False).expand(3, 3))
    new = torch.zeros(1, 2, 3, 3)
    new[0, 1, 0, 0] = 0.8  # a new image inked there
    scaled_elem = float(((new - elem.cond_mean) / elem.cond_std)[0, 1, 0, 0])
    scaled_chan = float(((new - chan.cond_mean) / chan.cond_std)[0, 1, 0, 0])
    assert scaled_elem > 500 and abs(scaled_chan) < 5
    with pytest.raises(ValueError, match="cond_norm"):
        GatedPixelCNN(cond_norm="batch")
