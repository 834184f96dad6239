"""Location-dependent conditioning (``cond_map=True``) and float16 storage of inversion sets."""

from __future__ import annotations

import itertools

import pytest
import torch

from invwidgets.models import init_parameters
from invwidgets.models.pixelcnn import GatedPixelCNN, InversionSet


def _model(cond_shape=None, side=5, **kw) -> GatedPixelCNN:
    m = GatedPixelCNN(in_channels=2, image_size=side, levels=3, channels=8, n_layers=3, cond_shape=cond_shape,
                      cond_hidden=8, cond_map=True, **kw)
    init_parameters(m, 0)
    with torch.no_grad():  # the position map starts at zero: give it values, so it matters
        for p in m.parameters():
            p.add_(0.3 * torch.randn(p.shape, generator=torch.Generator().manual_seed(p.numel())))
    return m


@pytest.mark.parametrize("cond_shape", [None, [4], [2, 3, 3]])
def test_logits_depend_only_on_previous_pixels(cond_shape):
    m = _model(cond_shape)
    g = torch.Generator().manual_seed(1)
    x = (torch.randint(0, 3, (1, 2, 5, 5), generator=g).float() / 2).requires_grad_(True)
    h = None if cond_shape is None else torch.randn(1, *cond_shape, generator=g)
    outs = m.logits(x, h)[0].sum(0).flatten()
    jac = torch.stack([torch.autograd.grad(o, x, retain_graph=True)[0][0] for o in outs])
    per_pixel = jac.abs().sum(1).reshape(2, 25, 25)
    j_ge_i = torch.triu(torch.ones(25, 25, dtype=torch.bool))
    assert torch.all(per_pixel[:, j_ge_i] == 0)
    assert int(((per_pixel * ~j_ge_i) != 0).any(-1).sum()) > 40


@pytest.mark.parametrize("cond_shape", [None, [3], [1, 2, 2]])
def test_probabilities_of_all_2x2_images_sum_to_one(cond_shape):
    m = GatedPixelCNN(in_channels=1, image_size=2, levels=3, channels=8, n_layers=2, cond_shape=cond_shape,
                      cond_map=True)
    with torch.no_grad():
        for p in m.parameters():
            p.add_(torch.randn(p.shape, generator=torch.Generator().manual_seed(p.numel())))
    images = torch.tensor(list(itertools.product(range(3), repeat=4)), dtype=torch.float32).reshape(-1, 1, 2, 2) / 2
    h = None if cond_shape is None else torch.randn(1, *cond_shape).expand(81, *cond_shape)
    with torch.no_grad():
        logp = m.log_prob(images, h).double()
    assert abs(float(torch.logsumexp(logp, 0).exp()) - 1) < 1e-5


@pytest.mark.parametrize("cond_shape", [None, [4], [2, 3, 3]])
def test_fast_sampler_agrees_with_naive(cond_shape):
    m = _model(cond_shape, side=6)
    h = None if cond_shape is None else torch.randn(6, *cond_shape, generator=torch.Generator().manual_seed(2))
    naive = m.sample(6, h, torch.Generator().manual_seed(3), method="naive")
    fast = m.sample(6, h, torch.Generator().manual_seed(3), method="fast")
    assert torch.equal(naive, fast)


def test_vector_conditioning_is_location_dependent_and_the_default_is_not():
    h = torch.randn(1, 4, generator=torch.Generator().manual_seed(0))
    with torch.no_grad():
        mapped = _model([4]).condition(h)
    assert mapped is not None and mapped[0].shape == (1, 16, 5, 5)
    assert float(mapped[0].std(dim=(2, 3)).max()) > 0  # differs between positions
    plain = GatedPixelCNN(2, 5, 3, channels=8, n_layers=3, cond_shape=[4], cond_hidden=8).condition(h)
    assert plain is not None and plain[0].shape == (1, 16, 1, 1)


def test_the_unconditional_twin_gets_the_position_map():
    m = _model(None)
    terms = m.condition(None)
    assert terms is not None and len(terms) == m.n_layers + 1 and terms[0].shape == (1, 16, 5, 5)
    assert GatedPixelCNN(2, 5, 3, channels=8, n_layers=3).condition(None) is None
    fresh = GatedPixelCNN(2, 5, 3, channels=8, n_layers=3, cond_map=True)
    init_parameters(fresh, 1)
    assert torch.count_nonzero(fresh.cond_pos.weight) == 0  # zero at initialisation


def test_default_keeps_the_state_dict_keys_and_config():
    plain = GatedPixelCNN(1, 8, 17, channels=16, n_layers=3, cond_shape=[10], cond_hidden=32)
    assert "cond_map" not in plain.config
    assert not any(k.startswith("cond_pos") for k in plain.state_dict())
    assert {k for k in plain.state_dict() if k.startswith("cond_net")} == {
        "cond_net.0.weight", "cond_net.0.bias"}
    mapped = GatedPixelCNN(1, 8, 17, channels=16, n_layers=3, cond_shape=[10], cond_hidden=32, cond_map=True)
    assert mapped.config["cond_map"] is True and "cond_pos.weight" in mapped.state_dict()


def test_sampling_applies_the_stored_feature_standardisation():
    # the sampler must see h standardised with the training statistics, as the likelihood does
    m = _model([4])
    h_train = 50.0 + 10.0 * torch.randn(64, 4, generator=torch.Generator().manual_seed(5))
    m.set_cond_normalization(h_train)
    h = h_train[:3]
    x = m.sample(None, h, torch.Generator().manual_seed(0))
    direct = GatedPixelCNN(**{k: v for k, v in m.config.items()})
    direct.load_state_dict(m.state_dict())
    with torch.no_grad():
        direct.cond_mean.zero_()
        direct.cond_std.fill_(1.0)
    z = (h - m.cond_mean) / m.cond_std
    assert torch.equal(direct.sample(None, z, torch.Generator().manual_seed(0)), x)
    assert torch.allclose(m.log_prob(x, h), direct.log_prob(x, z), atol=1e-5)


def test_float16_storage_halves_the_file_and_round_trips_exactly(tmp_path):
    from safetensors.torch import load_file, save_file

    arch = {"in_channels": 1, "image_size": 5, "levels": 3, "channels": 8, "n_layers": 2, "cond_map": True}
    inv = InversionSet(arch, {"uncond": None, "fc": [4]}, storage_dtype="float16")
    init_parameters(inv, 0)
    before = {k: v.clone() for k, v in inv.state_dict(keep_vars=False).items()}
    assert all(v.dtype == torch.float16 for v in before.values() if v.is_floating_point())
    inv.round_to_storage()
    save_file(inv.state_dict(), str(tmp_path / "a.safetensors"))
    back = InversionSet(arch, {"uncond": None, "fc": [4]}, storage_dtype="float16")
    back.load_state_dict(load_file(str(tmp_path / "a.safetensors")))
    for (k, a), b in zip(inv.named_parameters(), back.parameters()):
        assert a.dtype == torch.float32 and torch.equal(a, b), k
    plain = InversionSet(arch, {"uncond": None, "fc": [4]})
    save_file(plain.state_dict(), str(tmp_path / "b.safetensors"))
    ratio = (tmp_path / "a.safetensors").stat().st_size / (tmp_path / "b.safetensors").stat().st_size
    assert 0.45 < ratio < 0.6
    with pytest.raises(ValueError, match="storage_dtype"):
        InversionSet(arch, {"uncond": None}, storage_dtype="int8")
