"""Diagnostics of the mutual-information estimate, each on a constructed case, and their plumbing
through mutual_information."""

from __future__ import annotations

import math

import pytest
import torch
from torch import nn

from invwidgets.methods.inversion import (
    LayerMI,
    MIEstimate,
    build_inversion_set,
    head_accuracy,
    mutual_information,
)
from invwidgets.methods.inversion_diagnostics import diagnose, fano_lower_bound, overfitting

DIMS = 64


def _est(values: dict[str, tuple[float, float, float]], h_x: float = 100.0, n_test: int = 500) -> MIEstimate:
    est = MIEstimate(h_x_bits=h_x, h_x_ci=(h_x - 1, h_x + 1), dims=DIMS, n_test=n_test)
    for name, (mi, lo, hi) in values.items():
        est.layers[name] = LayerMI(name, mi, lo, hi, h_x - mi, DIMS)
    return est


CLEAN = {"input": (95.0, 94.0, 96.0), "conv1": (90.0, 88.0, 92.0), "fc": (20.0, 18.0, 22.0), "logits": (8.0, 7.0, 9.0)}
GOOD_HISTORY = {"train_bpd": [math.nan, 2.0, 1.8, 1.7], "val_bpd": [3.0, 2.1, 1.9, 1.85], "best_epoch": 3}
OVERFIT_HISTORY = {"train_bpd": [math.nan, 2.0, 1.6, 1.3], "val_bpd": [3.0, 2.0, 2.1, 2.3], "best_epoch": 1}


def _kinds(flags, layer="*"):
    return sorted(f.kind for f in flags if layer == "*" or f.layer == layer)


def test_fano_bound_values():
    e = 0.05
    expected = math.log2(10) + e * math.log2(e) + (1 - e) * math.log2(1 - e) - e * math.log2(9)
    assert fano_lower_bound(0.95, 10) == pytest.approx(expected, rel=1e-12)
    assert 2.85 < fano_lower_bound(0.95, 10) < 2.9
    assert fano_lower_bound(1.0, 10) == pytest.approx(math.log2(10))
    assert fano_lower_bound(0.1, 10) == pytest.approx(0.0, abs=1e-12)  # chance accuracy says nothing
    assert fano_lower_bound(1.0, 2, [0.9, 0.1]) == pytest.approx(-(0.9 * math.log2(0.9) + 0.1 * math.log2(0.1)))
    with pytest.raises(ValueError, match="accuracy"):
        fano_lower_bound(1.2, 10)
    with pytest.raises(ValueError, match="class_probs"):
        fano_lower_bound(0.9, 3, [0.5, 0.5])


def test_a_clean_estimate_raises_nothing():
    est = _est(CLEAN)
    flags, unchecked = diagnose(est, chain=list(CLEAN), accuracy={l: 0.95 for l in CLEAN}, num_classes=10,
                                histories={k: GOOD_HISTORY for k in ["uncond", *CLEAN]})
    assert flags == [] and unchecked == {}


def test_negative_estimate_and_interval_below_zero():
    est = _est({**CLEAN, "fc": (-3.0, -3.4, -2.5), "logits": (0.5, -0.2, 1.1)})
    flags, _ = diagnose(est)
    assert _kinds(flags, "fc") == ["negative"] and "negative" in flags[0].message
    assert _kinds(flags, "logits") == ["negative"]
    assert _kinds(flags, "conv1") == []


def test_data_processing_violation_beyond_the_intervals_only():
    est = _est({"input": (95.0, 94.0, 96.0), "conv1": (50.0, 48.0, 52.0), "conv2": (80.0, 78.0, 82.0),
                "fc": (20.0, 18.0, 22.0), "logits": (21.0, 19.0, 23.0)})
    flags, _ = diagnose(est, chain=["input", "conv1", "conv2", "fc", "logits"])
    assert _kinds(flags) == ["data_processing"] and flags[0].layer == "conv2"  # fc < logits within the intervals
    # the paired interval of the difference decides when given
    steps = {("fc", "logits"): (0.4, 1.6)}
    flags, _ = diagnose(est, chain=["input", "conv1", "conv2", "fc", "logits"], steps=steps)
    assert [f.layer for f in flags] == ["conv2", "logits"]
    flags, unchecked = diagnose(est, chain=None)
    assert _kinds(flags) == [] and "data_processing" in unchecked


def test_fano_flags_a_layer_below_the_bound_of_its_readout():
    est = _est({**CLEAN, "fc": (2.5, 2.0, 2.8)})
    flags, _ = diagnose(est, accuracy={"fc": 0.95, "logits": 0.95}, num_classes=10)
    assert _kinds(flags) == ["fano"] and flags[0].layer == "fc" and "2.88" in flags[0].message
    flags, _ = diagnose(est, accuracy={"fc": 0.5}, num_classes=10)  # a weak readout bounds nothing here
    assert flags == []


def test_overfitting_from_the_fit_history():
    assert overfitting(GOOD_HISTORY) is None
    assert "rose" in overfitting(OVERFIT_HISTORY)
    # validation rising while training also rises (divergence) is not overfitting
    assert overfitting({"train_bpd": [math.nan, 2.0, 2.1, 2.2], "val_bpd": [3.0, 2.0, 2.1, 2.3]}) is None
    est = _est(CLEAN)
    flags, _ = diagnose(est, histories={"uncond": GOOD_HISTORY, "conv1": OVERFIT_HISTORY, "fc": GOOD_HISTORY})
    assert [(f.kind, f.layer) for f in flags] == [("overfit", "conv1")]
    flags, _ = diagnose(est, histories={"uncond": OVERFIT_HISTORY})
    assert [(f.kind, f.layer) for f in flags] == [("overfit", None)]  # the twin is in every estimate
    est.attach(flags)
    assert all(r.flagged for r in est.layers.values()) and not est.clean


def test_identity_shortfall_and_few_test_images():
    est = _est({**CLEAN, "input": (62.0, 60.0, 64.0)}, n_test=40)
    flags, _ = diagnose(est)
    assert _kinds(flags) == ["few_test", "identity_shortfall"]
    assert all(f.layer is None for f in flags)
    flags, unchecked = diagnose(_est({"fc": (20.0, 18.0, 22.0)}))
    assert flags == [] and {"identity_shortfall", "fano", "overfit", "data_processing"} <= set(unchecked)


class _Net(nn.Module):
    def __init__(self) -> None:
        super().__init__()
        self.body = nn.Sequential(nn.Flatten(), nn.Linear(16, 8), nn.ReLU())
        self.head = nn.Linear(8, 3)

    def forward(self, x):
        return self.head(self.body(x))


def _bits(n: int, seed: int) -> torch.Tensor:
    return torch.randint(0, 2, (n, 1, 4, 4), generator=torch.Generator().manual_seed(seed)).float()


def test_mutual_information_carries_the_flags():
    torch.manual_seed(0)
    net = _Net().eval()
    x = _bits(30, 1)
    y = torch.randint(0, 3, (30,), generator=torch.Generator().manual_seed(2))
    inv = build_inversion_set((1, 4, 4), 2, {"input": (1, 4, 4), "body": (8,), "head": (3,)},
                              pixelcnn={"channels": 4, "n_layers": 1, "cond_hidden": 4})
    est = mutual_information(inv, net, x, n_boot=50, labels=y)
    acc, k, probs = head_accuracy(net, x, y)
    assert acc == pytest.approx(float((net(x).argmax(1) == y).float().mean())) and k == 3
    assert sum(probs) == pytest.approx(1.0)
    assert "few_test" in _kinds(est.flags)  # 30 < 100 held-out images
    assert all(r.flagged for r in est.layers.values())
    expected, _ = diagnose(est, chain=["input", "body", "head"], accuracy={l: acc for l in ["input", "body", "head"]},
                           num_classes=3, class_probs=probs,
                           steps={("input", "body"): (-1e9, 1e9), ("body", "head"): (-1e9, 1e9)})
    assert {f.kind for f in est.flags} >= {f.kind for f in expected if f.kind != "data_processing"}
    assert "overfit" in est.unchecked  # never fitted: no history
    d = est.as_dict()
    assert d["flags"] and d["layers"]["body"]["flags"]
    est2 = mutual_information(inv, net, x, n_boot=50, chain=False, min_test=10)
    assert "data_processing" in est2.unchecked and "fano" in est2.unchecked
    assert "few_test" not in _kinds(est2.flags)


def test_the_untrustworthy_14x14_table_raises_every_kind_it_should():
    """Numbers of the kind a too-small budget gave on 14x14 MNIST (bits; ±1 intervals where none
    were reported): each impossibility is flagged, on the layer where it occurs."""
    est = _est({"input": (121.8, 120.8, 122.8), "conv1": (50.2, 49.2, 51.2), "conv2": (79.7, 78.7, 80.7),
                "fc": (2.5, 1.5, 2.8), "logits": (-3.0, -3.4, -2.5)}, h_x=197.2, n_test=1000)
    chain = ["input", "conv1", "conv2", "fc", "logits"]
    flags, _ = diagnose(est, chain=chain, accuracy={l: 0.95 for l in chain}, num_classes=10)
    got = {(f.kind, f.layer) for f in flags}
    assert got == {("negative", "logits"), ("data_processing", "conv2"), ("fano", "fc"), ("fano", "logits"),
                   ("identity_shortfall", None)}
