"""Shipped inversion sets on real MNIST (14×14, 17 levels): they load, their cards reproduce, and
the targets of docs/methods/inversion.md, recomputed here on every seed: identity conditioning
recovers at least 0.9 Ĥ(x), Î does not rise with depth beyond its intervals, no diagnostic is
raised and every check ran, and samples conditioned on fc and on the logits keep the digit's
class at least 80 % of the time. The cards also show the recipe that made the fits clean: the
gradient norm clipped at 196 (before clipping, one seed's identity model had a loss spike that
early stopping froze in)."""

from __future__ import annotations

import pytest
import torch

from invwidgets.methods.inversion import mutual_information
from invwidgets.models.pixelcnn import InversionSet
from invwidgets.zoo import card, evaluate, load, metric_mismatches, test_split, weights_path
from invwidgets.zoo.entries_inversion import INVERSION_LAYERS, ClassifierCheckpoints
from invwidgets.zoo.entries_mnist_inversion import MNIST_INV_SEEDS, class_kept
from invwidgets.zoo.inversion_io import load_inversion_set

#: Retention is read on the first RETENTION_N test digits (one sample each, sampling seed 0).
RETENTION_N = 200


def _classifier(seed: int):
    ck = load(f"cnn-mnist14-s{seed}")
    assert isinstance(ck, ClassifierCheckpoints)
    return ck.final


@pytest.fixture(scope="module")
def estimates():
    out = {}
    for seed in MNIST_INV_SEEDS:
        test = test_split(f"inv-mnist-s{seed}")
        inv = load_inversion_set(f"inv-mnist-s{seed}")  # with its fit histories: the overfit check runs
        out[seed] = mutual_information(inv, _classifier(seed), test.images, layers=INVERSION_LAYERS, n_boot=200,
                                       labels=test.labels)
    return out


def test_files_load_small_and_stored_as_float16():
    for seed in MNIST_INV_SEEDS:
        inv = load(f"inv-mnist-s{seed}")
        assert isinstance(inv, InversionSet) and inv.config["storage_dtype"] == "float16"
        assert inv.config["pixelcnn"]["cond_map"] is True
        assert all(p.dtype == torch.float32 for p in inv.parameters())  # computes in float32
        assert weights_path(f"inv-mnist-s{seed}").stat().st_size < 2_500_000
        assert card(f"cnn-mnist14-s{seed}")["metrics"]["test_accuracy"] > 0.95


def test_card_metrics_reproduce():
    assert metric_mismatches(evaluate("inv-mnist-s0"), card("inv-mnist-s0")["metrics"]) == []


def test_identity_conditioning_recovers_the_entropy(estimates):
    for seed, est in estimates.items():
        assert 0.5 < est.h_x_bpd < 1.5, seed  # 14x14 MNIST on 17 levels: mostly blank background
        assert est.mi("input") >= 0.9 * est.h_x_bits, (seed, est.mi("input"), est.h_x_bits)


def test_mi_does_not_rise_with_depth_and_the_logits_keep_the_class(estimates):
    for seed, est in estimates.items():
        r = est.layers
        for a, b in zip(INVERSION_LAYERS, INVERSION_LAYERS[1:]):
            assert r[b].ci_low <= r[a].ci_high, (seed, a, b, r[a].mi_bits, r[b].mi_bits)
        assert r["conv2"].mi_bits > r["fc"].mi_bits > r["logits"].mi_bits, seed
        assert r["logits"].mi_bits < 0.25 * est.h_x_bits, seed


def test_no_diagnostic_is_raised_and_every_check_ran(estimates):
    for seed, est in estimates.items():
        assert est.clean, (seed, [f.message for f in est.flags])
        assert est.unchecked == {}, (seed, est.unchecked)


def test_cards_record_the_clipped_recipe_and_its_gradient_norms():
    for seed in MNIST_INV_SEEDS:
        training = card(f"inv-mnist-s{seed}")["training"]
        assert training["hyperparameters"]["clip_grad_norm"] == 196.0
        hist = training["history"]
        for name, val in hist["val_bpd"].items():
            grad = hist["grad_norm_max"][name]
            assert len(grad) == len(val) and grad[0] is None and all(g > 0 for g in grad[1:]), (seed, name)
        inv = load_inversion_set(f"inv-mnist-s{seed}")
        assert inv.histories["input"]["grad_norm_max"][1:] == hist["grad_norm_max"]["input"][1:]


@pytest.mark.parametrize("seed", MNIST_INV_SEEDS)
def test_fc_and_logits_samples_keep_the_class(seed):
    test = test_split(f"inv-mnist-s{seed}")
    inv, reader = load(f"inv-mnist-s{seed}"), load("cnn-mnist-s0")  # an independent 28x28 reader
    x, y = test.images[:RETENTION_N], test.labels[:RETENTION_N]
    for layer in ("fc", "logits"):
        kept = class_kept(inv, _classifier(seed), reader, layer, x, y, seed=0)
        assert kept >= 0.8, (seed, layer, kept)
