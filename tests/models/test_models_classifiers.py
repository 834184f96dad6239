"""Tests of SmallCNN: shapes, addressable layers, validation."""

import pytest
import torch

from invwidgets.models import SmallCNN


@pytest.mark.parametrize("downsample", ["stride", "maxpool"])
def test_small_cnn_shapes_and_probe_layers(downsample):
    m = SmallCNN(in_channels=3, image_size=8, num_classes=10, downsample=downsample)
    x = torch.rand(4, 3, 8, 8)
    assert m(x).shape == (4, 10) and m.embed(x).shape == (4, 64)
    modules = dict(m.named_modules())
    seen = {}
    hooks = [modules[p].register_forward_hook(lambda mod, i, o, k=k: seen.__setitem__(k, o.shape)) for k, p in m.probe_layers.items()]
    m(x)
    for h in hooks:
        h.remove()
    assert seen["conv1"] == (4, 16, 8, 8)
    assert seen["conv2"] == (4, 32, 4, 4)
    assert seen["fc"] == (4, 64) and seen["logits"] == (4, 10)
    assert "features.0" in modules and "fc" in modules


def test_small_cnn_validation():
    m = SmallCNN()
    with pytest.raises(ValueError, match=r"shape \(N, 1, 8, 8\)"):
        m(torch.rand(2, 3, 8, 8))
    with pytest.raises(ValueError, match="downsample"):
        SmallCNN(downsample="avg")


def test_init_parameters_is_seeded_and_default_scaled():
    from invwidgets.models import ConvAutoencoder, init_parameters

    a = init_parameters(SmallCNN(), torch.Generator().manual_seed(7))
    torch.manual_seed(123)  # the global state must not matter
    b = init_parameters(SmallCNN(), 7)
    c = init_parameters(SmallCNN(), 8)
    sa, sb, sc = a.state_dict(), b.state_dict(), c.state_dict()
    assert all(torch.equal(sa[k], sb[k]) for k in sa)
    assert not torch.equal(sa["fc.weight"], sc["fc.weight"])
    bound = 1 / (32 * 4 * 4) ** 0.5  # default scheme: |w| <= 1/sqrt(fan_in)
    assert float(sa["fc.weight"].abs().max()) <= bound and float(sa["fc.weight"].abs().max()) > 0.9 * bound
    ae = init_parameters(ConvAutoencoder(1, 16, 4), 0)
    assert all(torch.isfinite(p).all() for p in ae.parameters())
    with pytest.raises(TypeError, match="does not know"):
        init_parameters(torch.nn.Embedding(3, 2), 0)
