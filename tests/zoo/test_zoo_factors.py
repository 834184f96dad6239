"""The factors zoo: shipped first stages and IINs load, their card metrics recompute, and the
reproductions of the IIN paper's findings hold over the three seeds."""

from __future__ import annotations

import statistics

import pytest
import torch

from invwidgets import zoo
from invwidgets.data import color_digits, digits
from invwidgets.methods.factors import factor_shares, sample
from invwidgets.methods.fid import fid_lite
from invwidgets.models import SmallCNN, init_parameters
from invwidgets.models.iin import FactorIIN
from invwidgets.zoo.entries_factors import (
    FACTOR_SEEDS,
    FID_SETTINGS,
    classifier_split,
    estimated_sizes,
    factor_iin_metrics,
    train_factor_model,
)
from invwidgets.zoo.training import train_classifier


@pytest.fixture(autouse=True)
def one_thread():
    previous = torch.get_num_threads()
    torch.set_num_threads(1)
    yield
    torch.set_num_threads(previous)


@pytest.fixture(scope="module")
def splits():
    return color_digits().split(0.2, seed=0)


def test_every_factor_model_is_shipped_small_and_loads():
    names = [n for n, e in zoo.ENTRIES.items() if "factors" in e.tags and "color-digits" in n]
    assert len(names) == 13  # the ColorfulMNIST models: tests/zoo/test_zoo_mnist_factors.py
    for name in names:
        assert name in zoo.available(), f"{name} is not trained: python -m invwidgets.zoo.entries_factors {name}"
        assert zoo.weights_path(name).stat().st_size < 1_000_000
        model = zoo.load(name)
        assert not model.training
    iin = zoo.load("iin-cnn-color-digits-s0")
    assert isinstance(iin, FactorIIN) and iin.is_initialized
    assert iin.factor_names == ("digit", "color", "residual")


@pytest.mark.parametrize("seed", FACTOR_SEEDS)
def test_first_stage_metrics_recompute(seed):
    for name in (f"cnn-color-digits-s{seed}", f"ae-color-digits-s{seed}"):
        assert zoo.metric_mismatches(zoo.evaluate(name), zoo.card(name)["metrics"]) == [], name
    assert zoo.card(f"cnn-color-digits-s{seed}")["metrics"]["test_accuracy"] > 0.9


def test_dimension_estimate_classifier_vs_autoencoder(splits):
    """The classifier gives the digit more dimensions than colour; the autoencoder gives colour a
    larger share than the classifier does (official README: [22, 11, 31] vs [13, 17, 34]). With
    N = 16 the floored sizes are coarse, so the shares softmax(s) are compared."""
    train_set, _ = splits
    for s in FACTOR_SEEDS:
        clf, clf_scores = estimated_sizes(zoo.load(f"cnn-color-digits-s{s}"), train_set)
        ae, ae_scores = estimated_sizes(zoo.load(f"ae-color-digits-s{s}"), train_set)
        assert sum(clf) == sum(ae) == 16
        assert clf[0] > clf[1], (s, clf)
        clf_share, ae_share = factor_shares(clf_scores), factor_shares(ae_scores)
        assert ae_share["color"] > clf_share["color"] + 0.03, (s, ae_share, clf_share)
        assert clf_share["digit"] > ae_share["digit"], (s, ae_share, clf_share)


@pytest.mark.parametrize("seed", FACTOR_SEEDS)
def test_iin_cards_recompute(seed, splits):
    _, test_set = splits
    for name, fid in ((f"iin-cnn-color-digits-s{seed}", None), (f"uiin-ae-color-digits-s{seed}", f"cnn-color-digits-s{seed}")):
        card = zoo.card(name)
        first = card["training"]["hyperparameters"]["first_stage"]
        fresh = factor_iin_metrics(zoo.load(name), test_set, first_stage=first, fid_classifier=fid)
        assert zoo.metric_mismatches(fresh, card["metrics"]) == [], name


def test_invertibility_on_the_representations(splits):
    _, test_set = splits
    ae = zoo.load("ae-color-digits-s0")
    with torch.no_grad():
        z = ae.encode(test_set.images)
        for name in ("uiin-ae-color-digits-s0", "iin-ae-color-digits-s0"):
            iin = zoo.load(name)
            assert (iin.reverse(iin(z)[0]) - z).abs().max() <= 1e-5
        cnn = zoo.load("cnn-color-digits-s0")
        split = classifier_split(cnn)
        iin = zoo.load("iin-cnn-color-digits-s0")
        zc = split.encode(test_set.images)
        # classifier features are far from unit scale (|z| up to ≈ 24): compare relatively
        assert (iin.reverse(iin(zc)[0]) - zc).abs().max() <= 1e-6 * zc.abs().max()
        assert (split.head(iin.reverse(iin(zc)[0])) - cnn(test_set.images)).abs().max() <= 1e-3


def test_sensitivity_of_the_classifier_per_factor():
    """Resampling the digit factor spreads the predictions; colour and residual barely move them
    (paper: 2.74 / 0.19 / 0.0; targets ≥ 2.0, ≤ 0.5, ≤ 0.1), on the mean over the three seeds. From
    the cards (every test image), which test_iin_cards_recompute recomputes."""
    table = {k: [zoo.card(f"iin-cnn-color-digits-s{s}")["metrics"][f"sensitivity_{k}"] for s in FACTOR_SEEDS]
             for k in ("digit", "color", "residual")}
    mean = {k: statistics.mean(v) for k, v in table.items()}
    assert mean["digit"] >= 2.0, table
    assert mean["color"] <= 0.5, table
    assert mean["residual"] <= 0.1, table
    assert mean["digit"] > 4 * max(mean["color"], mean["residual"]), table


@pytest.mark.parametrize("seed", [pytest.param(s, marks=[pytest.mark.xfail(strict=True, reason="residual 0.124 on seed 0")])
                                  if s == 0 else s for s in FACTOR_SEEDS])
def test_sensitivity_targets_per_seed(seed):
    """The same targets seed by seed: seed 0's residual (0.124) misses; docs/methods/factors.md."""
    m = zoo.card(f"iin-cnn-color-digits-s{seed}")["metrics"]
    assert m["sensitivity_digit"] >= 2.0 and m["sensitivity_color"] <= 0.5 and m["sensitivity_residual"] <= 0.1, m


def test_classifier_recipe_options(splits):
    """The classifiers' recipe (every colouring of the training images, label smoothing) is a
    real option of train_classifier; recolouring needs colour-digit data."""
    train_set, _ = splits
    hp = {"epochs": 1, "batch_size": 64, "lr": 1e-3}
    histories = []
    for extra in ({}, {"recolor": True}, {"label_smoothing": 0.1}):
        model = init_parameters(SmallCNN(**zoo.get_entry("cnn-color-digits-s0").config), 0)
        histories.append(train_classifier(model, train_set, {**hp, **extra}, torch.Generator().manual_seed(0), progress=False))
    plain, recolored, smoothed = histories
    assert plain["step"][-1] == len(train_set) // 64
    assert recolored["step"][-1] == 8 * len(train_set) // 64  # one epoch over the eight colourings
    assert smoothed["step"] == plain["step"] and smoothed["train_loss"] != plain["train_loss"]
    gray_train, _ = digits().split(0.2, seed=0)
    with pytest.raises(ValueError, match="recolor"):
        train_classifier(SmallCNN(in_channels=1, image_size=8, num_classes=10), gray_train, {**hp, "recolor": True},
                         torch.Generator().manual_seed(0), progress=False)


def test_iin_jitter_scale_option():
    with pytest.raises(ValueError, match="jitter_scale"):
        train_factor_model("iin-cnn-color-digits-s0", steps=2, batch_size=16, jitter_scale="per_pixel", progress=False)
    hp = zoo.get_entry("iin-cnn-color-digits-s0").hyperparameters
    assert hp["jitter_scale"] == "within_class" and hp["recolor"] is True


def test_unsupervised_iin_samples_beat_decoding_noise(splits):
    """FID-lite of D(T⁻¹(ε)) is lower than of D(ε) for every seed (mirrors the paper's Table 2)."""
    _, test_set = splits
    for s in FACTOR_SEEDS:
        ae, uiin, cnn = zoo.load(f"ae-color-digits-s{s}"), zoo.load(f"uiin-ae-color-digits-s{s}"), zoo.load(f"cnn-color-digits-s{s}")
        n = FID_SETTINGS["n_samples"]
        with torch.no_grad():
            x_iin = sample(uiin, n, torch.Generator().manual_seed(FID_SETTINGS["seed"]), decoder=ae.decode)
            x_plain = ae.decode(torch.randn(n, 16, generator=torch.Generator().manual_seed(FID_SETTINGS["seed"])))
        assert fid_lite(cnn.embed, test_set.images, x_iin) < fid_lite(cnn.embed, test_set.images, x_plain)


def test_iin_training_is_deterministic_with_a_tiny_budget():
    m1, c1 = train_factor_model("iin-cnn-color-digits-s1", steps=12, batch_size=64, progress=False)
    m2, c2 = train_factor_model("iin-cnn-color-digits-s1", steps=12, batch_size=64, progress=False)
    for (k, a), (_, b) in zip(m1.state_dict().items(), m2.state_dict().items()):
        assert torch.equal(a, b), k
    loss = c1["training"]["history"]["train_loss"]
    assert loss[-1] < loss[0]
    assert c1["architecture"]["config"] == dict(zoo.get_entry("iin-cnn-color-digits-s1").config)
    mu, cu = train_factor_model("uiin-ae-color-digits-s1", steps=12, batch_size=64, progress=False)
    hist = cu["training"]["history"]["train_loss"]
    assert hist[-1] < hist[0] and "fid_iin" in cu["metrics"]
