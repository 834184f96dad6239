"""InversionExplorer without a browser: samples, entropy map, MI chart, layer/epoch changes,
fitting in the worker, errors."""

from __future__ import annotations

import numpy as np
import pytest
import torch
from torch import nn

from invwidgets.data import digits, from_tensors
from invwidgets.methods.inversion import CheckpointMI, MIEstimate, mutual_information
from invwidgets.methods.inversion_diagnostics import diagnose
from invwidgets.widgets.explorers import InversionExplorer
from invwidgets.widgets.explorers.inversion import CLEAN_COLOR, FLAGGED_COLOR
from invwidgets.zoo import load, test_split
from invwidgets.zoo.entries_inversion import INVERSION_LAYERS


@pytest.fixture(scope="module")
def shipped():
    ckpts = load("cnn-digits-ckpts-s0")
    inv = load("inv-digits-s0")
    test = test_split("inv-digits-s0").subset(range(120))
    return ckpts.final, inv, test


@pytest.fixture
def explorer(shipped):
    clf, inv, test = shipped
    est = {e: MIEstimate(100.0 - e, (99.0 - e, 101.0 - e), 64) for e in (0, 30)}
    for e, m in est.items():  # a small hand-made curve: the widget only displays it
        from invwidgets.methods.inversion import LayerMI

        m.layers = {"fc": LayerMI("fc", 10.0 + e, 9.0 + e, 11.0 + e, 90.0, 64)}
    est[0].attach(*diagnose(est[0]))  # n_test=0: flagged as too few test images
    ex = InversionExplorer(clf, INVERSION_LAYERS, test, inv, checkpoint_mi=CheckpointMI([0, 30], ["fc"], est),
                           n_samples=6, n_boot=50, device="cpu")
    assert ex.wait_idle(120)
    yield ex
    ex.close()


def test_initial_state_matches_the_method(explorer, shipped):
    clf, inv, test = shipped
    assert explorer.status == "idle" and explorer.error == ""
    assert explorer.samples.n == 6 and explorer.sample_images().shape == (6, 8, 8, 1)
    assert explorer.entropy.heatmap_limits is not None
    direct = mutual_information(inv, clf, test.images, layers=INVERSION_LAYERS, n_boot=50, seed=0, labels=test.labels)
    bar, ref = explorer.mi_figure.data
    assert list(bar.x) == INVERSION_LAYERS
    assert np.allclose(bar.y, [direct.mi(l) for l in INVERSION_LAYERS])
    assert np.allclose(ref.y, direct.h_x_bits)
    assert explorer.mi.as_dict() == direct.as_dict()
    # the shipped 8x8 models pass every check that can run: clean bars, no flag line
    assert direct.clean and "fano" not in direct.unchecked
    assert list(bar.marker.color) == [CLEAN_COLOR] * len(INVERSION_LAYERS) and explorer.flags_note.value == ""


def test_changing_layer_changes_samples(explorer):
    before = explorer.sample_images().copy()
    explorer.layer_picker.value = "logits"
    assert explorer.wait_idle(60)
    assert explorer.layer == "logits"
    after = explorer.sample_images()
    assert not np.array_equal(before, after)
    assert explorer.samples.captions[0].startswith("logits")
    # from the logits, samples differ from each other far more than from conv1
    spread_logits = after.astype(float).std(0).mean()
    explorer.layer = "conv1"
    assert explorer.wait_idle(60)
    assert explorer.sample_images().astype(float).std(0).mean() < spread_logits


def test_pick_resample_and_seeded_determinism(explorer):
    explorer.picker.selected = 3
    assert explorer.wait_idle(60)
    assert explorer.index == explorer.pick_indices[3]
    a = explorer.sample_images().copy()
    explorer.resample()
    assert explorer.wait_idle(60)
    assert explorer.seed == 1 and not np.array_equal(a, explorer.sample_images())
    explorer.resample(0)
    assert explorer.wait_idle(60)
    assert np.array_equal(a, explorer.sample_images())


def test_epoch_slider_shows_checkpoint_estimates(explorer):
    explorer.epoch_slider.value = 0
    assert explorer.epoch == 0
    bar, ref = explorer.mi_figure.data
    assert list(bar.x) == ["fc"] and list(bar.y) == [10.0] and list(ref.y) == [100.0]
    assert explorer.curves_figure.data[0].y == (10.0, 40.0)
    with pytest.raises(ValueError, match="no checkpoint"):
        explorer.show_epoch(7)


def test_a_flagged_estimate_is_shown_as_flagged(explorer):
    explorer.show_epoch(0)  # its estimate carries a few_test flag
    bar = explorer.mi_figure.data[0]
    assert list(bar.marker.color) == [FLAGGED_COLOR] and list(bar.marker.pattern.shape) == ["/"]
    assert "FLAGGED" in bar.hovertext[0] and "held-out images" in bar.hovertext[0]
    assert "held-out images" in explorer.flags_note.value and "flagged" in explorer.mi_figure.layout.title.text
    curve = explorer.curves_figure.data[0]
    assert list(curve.marker.symbol) == ["x", "circle"]
    explorer.show_epoch(30)
    bar = explorer.mi_figure.data[0]
    assert list(bar.marker.color) == [CLEAN_COLOR] and explorer.flags_note.value == ""


class Bad(nn.Module):
    def __init__(self) -> None:
        super().__init__()
        self.lin = nn.Linear(64, 3)

    def forward(self, x):
        if x.shape[0] == 1:
            raise RuntimeError("boom")
        return self.lin(x.flatten(1))


def test_fitting_in_the_worker_and_errors_become_traits():
    data = digits().subset(range(64))
    ex = InversionExplorer(Bad(), ["lin"], data, fit={"epochs": 1, "pixelcnn": {"channels": 4, "n_layers": 1}},
                           n_samples=2, n_boot=20, device="cpu")
    try:
        assert ex.wait_idle(120)
        assert ex.inversions is not None and ex.mi is not None
        assert ex.mi.layers["lin"].ci_low <= ex.mi.mi("lin") <= ex.mi.layers["lin"].ci_high
        # sampling reads the layer of one image, and this model raises on a batch of one
        ex.resample()
        assert ex.wait_idle(60)
        assert ex.status == "error" and "boom" in ex.error
    finally:
        ex.close()


def test_bad_arguments():
    clf = nn.Sequential(nn.Flatten(), nn.Linear(64, 2))
    data = digits().subset(range(8))
    with pytest.raises(KeyError, match="no layer"):
        InversionExplorer(clf, ["nope"], data)
    with pytest.raises(ValueError, match="levels"):
        InversionExplorer(clf, ["1"], from_tensors(torch.rand(4, 1, 8, 8)))
    with pytest.raises(TypeError, match="Dataset"):
        InversionExplorer(clf, ["1"], torch.rand(4, 1, 8, 8))
