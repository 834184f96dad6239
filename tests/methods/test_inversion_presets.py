"""Presets of the inversion models (capacity and budget from image size, levels, dataset size),
early stopping with patience, dropout and weight decay."""

from __future__ import annotations

import pytest
import torch

from invwidgets.methods.inversion import DEFAULT_PIXELCNN, fit_inversions, fit_pixelcnn, inversion_preset
from invwidgets.models import init_parameters
from invwidgets.models.pixelcnn import GatedPixelCNN


@pytest.fixture(autouse=True, scope="module")
def _one_thread():
    previous = torch.get_num_threads()
    torch.set_num_threads(1)
    yield
    torch.set_num_threads(previous)


def _bits(n: int, seed: int, side: int = 4) -> torch.Tensor:
    return torch.randint(0, 2, (n, 1, side, side), generator=torch.Generator().manual_seed(seed)).float()


def test_the_8x8_preset_is_the_tuned_digits_budget():
    p = inversion_preset((1, 8, 8), 17, 1437)
    assert p["pixelcnn"] == DEFAULT_PIXELCNN
    assert p["fit"] == {"epochs": 30, "batch_size": 32, "lr": 1e-2, "schedule": "cosine"}


def test_larger_images_get_depth_regularisation_and_a_step_budget():
    p14 = inversion_preset((1, 14, 14), 17, 4000)
    p28 = inversion_preset((1, 28, 28), 256, 4000)
    assert p14["pixelcnn"]["n_layers"] == 4 and p28["pixelcnn"]["n_layers"] == 7
    assert p14["pixelcnn"]["channels"] == 32 and p28["pixelcnn"]["channels"] == 48
    for p in (p14, p28):
        assert p["pixelcnn"]["dropout"] > 0 and p["fit"]["weight_decay"] > 0 and p["fit"]["patience"] >= 1
    assert p14["pixelcnn"]["cond_map"] is True  # location-dependent conditioning above 8x8
    assert "cond_map" not in inversion_preset((1, 8, 8), 17, 1437)["pixelcnn"]
    assert p14["fit"]["epochs"] == 30  # 112 steps per epoch: ≈ 4000 steps would need 36, capped
    assert inversion_preset((1, 14, 14), 17, 40000)["fit"]["epochs"] == 10  # floor for big data
    with pytest.raises(ValueError, match="levels"):
        inversion_preset((1, 14, 14), 1, 100)


def test_fit_inversions_uses_the_preset_and_overrides_win():
    x = _bits(64, 0, side=12)
    net = torch.nn.Sequential(torch.nn.Flatten(), torch.nn.Linear(144, 5))
    inv, hist = fit_inversions(net, ["1"], x, levels=2, epochs=1, pixelcnn={"channels": 4, "cond_hidden": 8})
    p = inversion_preset((1, 12, 12), 2, 64)["pixelcnn"]
    for name in inv.names:  # one architecture and one budget for every model and the twin
        m = inv[name]
        assert m.n_layers == p["n_layers"] and m.channels == 4 and m.config["dropout"] == p["dropout"]
        assert len(hist[name]["val_bpd"]) == 2


def test_patience_stops_and_dropout_only_acts_in_training():
    x = _bits(64, 0)
    m = GatedPixelCNN(1, 4, 2, channels=4, n_layers=1, cond_hidden=4)
    hist = fit_pixelcnn(m, x, epochs=5, lr=0.0, patience=2)  # lr 0: validation never improves
    assert hist["stopped_epoch"] == 2 and len(hist["val_bpd"]) == 3 and hist["best_epoch"] == 0
    d = GatedPixelCNN(1, 4, 2, channels=4, n_layers=2, cond_hidden=4, dropout=0.5)
    plain = GatedPixelCNN(1, 4, 2, channels=4, n_layers=2, cond_hidden=4)
    assert d.state_dict().keys() == plain.state_dict().keys()  # no new weights: old files still load
    d.eval()
    assert torch.equal(d.log_prob(x[:4]), d.log_prob(x[:4]))
    d.train()
    torch.manual_seed(0)
    assert not torch.equal(d.log_prob(x[:4]), d.eval().log_prob(x[:4]))
    with pytest.raises(ValueError, match="dropout"):
        GatedPixelCNN(dropout=1.0)


def test_weight_decay_changes_the_fit():
    x = _bits(64, 0)

    def fit(wd: float) -> torch.Tensor:
        m = GatedPixelCNN(1, 4, 2, channels=4, n_layers=1, cond_hidden=4)
        torch.manual_seed(1)
        m.load_state_dict(GatedPixelCNN(1, 4, 2, channels=4, n_layers=1, cond_hidden=4).state_dict())
        fit_pixelcnn(m, x, epochs=2, weight_decay=wd)
        return torch.cat([p.flatten() for p in m.parameters()])

    a, b = fit(0.0), fit(0.5)
    assert not torch.equal(a, b) and b.norm() < a.norm()


def test_dropout_masks_follow_the_fit_seed_not_the_global_generator():
    x = _bits(64, 0)

    def fit(global_seed: int) -> torch.Tensor:
        m = init_parameters(GatedPixelCNN(1, 4, 2, channels=4, n_layers=2, cond_hidden=4, dropout=0.3), 0)
        torch.manual_seed(global_seed)
        before = torch.random.get_rng_state()
        fit_pixelcnn(m, x, epochs=2, seed=5)
        assert torch.equal(torch.random.get_rng_state(), before)  # the caller's state is untouched
        return torch.cat([p.flatten() for p in m.parameters()])

    assert torch.equal(fit(1), fit(2))
