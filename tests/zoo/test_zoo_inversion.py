"""Shipped inversion models: they load, their cards reproduce, and the reproduction checks of
issue 5 hold on all three seeds (as far as the data support them)."""

from __future__ import annotations

import statistics

import pytest
import torch

from invwidgets.zoo import card, evaluate, load
from invwidgets.zoo.entries_inversion import (
    CHECKPOINT_EPOCHS,
    CKPT_LAYERS,
    INVERSION_LAYERS,
    SEEDS,
    ClassifierCheckpoints,
    shipped_results,
)
from invwidgets.models.pixelcnn import InversionSet


@pytest.fixture(autouse=True, scope="module")
def _one_thread():
    previous = torch.get_num_threads()
    torch.set_num_threads(1)
    yield
    torch.set_num_threads(previous)


@pytest.fixture(scope="module")
def results():
    return shipped_results(n_boot=200)


def test_files_load_and_are_small():
    from invwidgets.zoo import weights_path

    for seed in SEEDS:
        ck = load(f"cnn-digits-ckpts-s{seed}")
        assert isinstance(ck, ClassifierCheckpoints) and ck.epochs == CHECKPOINT_EPOCHS
        assert card(f"cnn-digits-ckpts-s{seed}")["metrics"]["test_accuracy"] > 0.95
        names = [f"inv-digits-s{seed}"] + [f"inv-digits-s{seed}-e{e}" for e in CHECKPOINT_EPOCHS[:-1]]
        for name in names:
            assert isinstance(load(name), InversionSet)
            assert weights_path(name).stat().st_size < 1_000_000


def test_card_metrics_reproduce():
    fresh = evaluate("inv-digits-s1")
    stored = card("inv-digits-s1")["metrics"]
    assert fresh.keys() == stored.keys()
    for k, v in fresh.items():
        assert v == pytest.approx(stored[k], abs=1e-6), k


def test_entropy_in_the_expected_range(results):
    for est in results["final"].values():
        assert 1.5 < est.h_x_bpd < 2.5  # methods.md §5.3: roughly 1.5–2.5 bits/dim


def test_mi_falls_with_depth_within_intervals_and_logits_lowest(results):
    for seed, est in results["final"].items():
        r = est.layers
        for a, b in zip(INVERSION_LAYERS[1:], INVERSION_LAYERS[2:]):  # conv1 → conv2 → fc → logits
            assert r[b].ci_low <= r[a].ci_high, (seed, a, b)
            assert r[b].mi_bits < r[a].mi_bits, (seed, a, b)
        assert min(r, key=lambda l: r[l].mi_bits) == "logits"
        assert r["logits"].mi_bits < 6.0  # a 98 %-accurate 10-class logit vector: a few bits


def test_identity_conditioning_is_the_most_informative_spatial_layer(results):
    # Î(input) should approach Ĥ(x); the shipped budget does not get there (see the notebook),
    # but the identity and conv1 are far above every deeper layer on every seed.
    for est in results["final"].values():
        r = est.layers
        assert min(r["input"].mi_bits, r["conv1"].mi_bits) > r["conv2"].mi_bits > 4 * r["fc"].mi_bits


def test_mi_over_training(results):
    for seed, res in results["checkpoints"].items():
        assert res.epochs == CHECKPOINT_EPOCHS and res.layers == CKPT_LAYERS
        conv2, fc = res.curve("conv2"), res.curve("fc")
        peak = conv2.index(max(conv2))
        # conv2 first rises (fitting) then falls (compression), as the paper claims ...
        assert 0 < peak < len(conv2) - 1, (seed, conv2)
        lo_peak = res.intervals("conv2")[peak][0]
        assert res.intervals("conv2")[0][1] < lo_peak and res.intervals("conv2")[-1][1] < lo_peak, seed
        # ... while fc only gains information within 30 epochs (no compression seen there)
        assert fc.index(max(fc)) == len(fc) - 1, (seed, fc)
    mean = {l: [statistics.mean(r.curve(l)[i] for r in results["checkpoints"].values())
                for i in range(len(CHECKPOINT_EPOCHS))] for l in CKPT_LAYERS}
    assert mean["logits"][-1] > mean["logits"][0]
