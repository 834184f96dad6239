"""Presets of the inversion models (capacity and budget from image size, levels, dataset size),
early stopping with patience, dropout, weight decay and gradient-norm clipping."""

from __future__ import annotations

import pytest
import torch

from invwidgets.methods.inversion import DEFAULT_PIXELCNN, fit_inversions, fit_pixelcnn, inversion_preset
from invwidgets.models import init_parameters
from invwidgets.models.pixelcnn import GatedPixelCNN


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
    assert p14["fit"]["clip_grad_norm"] == 196.0 and p28["fit"]["clip_grad_norm"] == 784.0  # one nat per dim
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


def _fresh(seed: int = 0) -> GatedPixelCNN:
    return init_parameters(GatedPixelCNN(1, 4, 2, channels=4, n_layers=2, cond_hidden=4), seed)


def test_history_reports_the_largest_gradient_norm_and_an_unreached_clip_changes_nothing():
    x = _bits(64, 0)
    free, loose = _fresh(), _fresh()
    h_free = fit_pixelcnn(free, x, epochs=2, seed=3)
    h_loose = fit_pixelcnn(loose, x, epochs=2, seed=3, clip_grad_norm=1e9)
    assert len(h_free["grad_norm_max"]) == 3 and h_free["grad_norm_max"][0] != h_free["grad_norm_max"][0]  # NaN
    assert all(g > 0 for g in h_free["grad_norm_max"][1:])
    assert h_loose["grad_norm_max"][1:] == h_free["grad_norm_max"][1:]
    for a, b in zip(free.parameters(), loose.parameters()):
        assert torch.equal(a, b)


def test_clipping_bounds_every_step_and_changes_the_fit():
    x = _bits(64, 0)
    free, clipped = _fresh(), _fresh()
    h = fit_pixelcnn(free, x, epochs=1, seed=3, lr=1e-3, schedule="constant")
    limit = 0.1 * h["grad_norm_max"][1]
    fit_pixelcnn(clipped, x, epochs=1, seed=3, lr=1e-3, schedule="constant", clip_grad_norm=limit)
    seen = []
    original = torch.nn.utils.clip_grad_norm_

    def spy(params, max_norm, *a, **k):
        params = list(params)
        out = original(params, max_norm, *a, **k)
        seen.append(float(torch.linalg.vector_norm(torch.stack([p.grad.norm() for p in params]))))
        return out

    torch.nn.utils.clip_grad_norm_ = spy
    try:
        fit_pixelcnn(_fresh(), x, epochs=1, seed=3, lr=1e-3, schedule="constant", clip_grad_norm=limit)
    finally:
        torch.nn.utils.clip_grad_norm_ = original
    assert seen and max(seen) <= limit * (1 + 1e-4)  # the step that Adam takes sees the clipped gradient
    assert any(not torch.equal(a, b) for a, b in zip(free.parameters(), clipped.parameters()))
