"""The ColorfulMNIST factor models (28×28), from the shipped weights, every seed:

- the dimension estimate of each seed's features is the one the entry records (the classifier
  dIINs keep a larger digit factor, docs/methods/factors.md says why), the autoencoder dIIN uses
  its estimate;
- resampling a factor and classifying T⁻¹ gives a std of predicted labels >= 2.0 (digit),
  <= 0.5 (colour) and <= 0.1 (residual) on the whole test split: each target per seed, the ones
  the shipped models miss marked as strict expected failures (docs/methods/factors.md says by how
  much and why), so a retrained model that meets one shows up;
- the residual's effect sits on the images the classifier is unsure of: below 0.1 on the most
  confident three quarters of the test images, above it on the misclassified ones;
- after a digit swap the classifier reads the source's digit >= 90 % of the time;
- the autoencoder dIIN's swaps: a digit swap draws the source's digit, a colour swap moves the
  colour to the source's and keeps the digit;
- the unsupervised IIN's samples have a lower FID-lite than plain decoding.
"""

from __future__ import annotations

import pytest
import torch

from invwidgets import zoo
from invwidgets.methods.factors import factor_sensitivity, swap_factors
from invwidgets.zoo.entries_factors import (
    SENSITIVITY,
    classifier_split,
    estimated_sizes,
    first_stage_representation,
)
from invwidgets.zoo.entries_mnist_factors import (
    MNIST_AE_IIN_SIZES,
    MNIST_CLASSIFIER_IIN_SIZES,
    MNIST_ESTIMATED_SIZES,
    MNIST_FACTOR_SEEDS,
    colorful_mnist_splits,
)
from invwidgets.zoo.reproduce import metric_mismatches

NAMES = (
    [f"cnn-colorful-mnist-s{s}" for s in MNIST_FACTOR_SEEDS]
    + [f"iin-cnn-colorful-mnist-s{s}" for s in MNIST_FACTOR_SEEDS]
    + ["ae-colorful-mnist-s0", "iin-ae-colorful-mnist-s0", "uiin-ae-colorful-mnist-s0"]
)
#: Std of predicted labels when one factor is resampled: (comparison, target) per factor.
TARGETS = {"digit": (">=", 2.0), "color": ("<=", 0.5), "residual": ("<=", 0.1)}
#: (seed, factor) targets the shipped IINs miss on the whole test split (docs/methods/factors.md).
MISSED = {(0, "color"), (1, "color"), (0, "residual"), (1, "residual"), (2, "residual")}


def _target_cases() -> list:
    cases = []
    for seed in MNIST_FACTOR_SEEDS:
        for factor in TARGETS:
            marks = [pytest.mark.xfail(strict=True, reason="the shipped IIN misses this target")] if (seed, factor) in MISSED else []
            cases.append(pytest.param(seed, factor, marks=marks, id=f"s{seed}-{factor}"))
    return cases


@pytest.fixture(scope="module")
def splits():
    return colorful_mnist_splits()


@pytest.fixture(scope="module")
def pairs(splits):
    test = splits[1]
    g = torch.Generator().manual_seed(1)
    a, b = torch.randint(0, len(test), (1000,), generator=g), torch.randint(0, len(test), (1000,), generator=g)
    keep = test.labels[a] != test.labels[b]
    return a[keep], b[keep]


def test_files_cards_and_sizes():
    for name in NAMES:
        assert name in zoo.available(), name
        assert zoo.weights_path(name).stat().st_size < 2_000_000
        c = zoo.card(name)
        assert c["train_time_s"] > 0 and c["dataset"]["name"] == "colorful_mnist"


@pytest.mark.parametrize("name", [n for n in NAMES if not n.startswith(("iin", "uiin"))])
def test_first_stage_cards_reproduce(name):
    assert metric_mismatches(zoo.evaluate(name), zoo.card(name)["metrics"]) == []


@pytest.mark.parametrize("seed", MNIST_FACTOR_SEEDS)
def test_classifier_iin_cards_reproduce(seed):
    name = f"iin-cnn-colorful-mnist-s{seed}"
    assert metric_mismatches(zoo.evaluate(name), zoo.card(name)["metrics"]) == []


def test_split_and_colours(splits):
    train, test = splits
    assert len(train) == 4000 and len(test) == 1000 and train.shape == (3, 28, 28)
    assert torch.allclose(test.images, test.extras["gray"] * test.extras["color"][:, :, None, None])


@pytest.mark.parametrize("seed", MNIST_FACTOR_SEEDS)
def test_factor_sizes_are_the_estimate(splits, seed):
    sizes, _ = estimated_sizes(zoo.load(f"cnn-colorful-mnist-s{seed}"), splits[0])
    assert sizes == MNIST_ESTIMATED_SIZES
    assert list(zoo.load(f"iin-cnn-colorful-mnist-s{seed}").factor_sizes) == MNIST_CLASSIFIER_IIN_SIZES


def test_autoencoder_sizes_are_the_estimate(splits):
    sizes, scores = estimated_sizes(zoo.load("ae-colorful-mnist-s0"), splits[0])
    assert sizes == MNIST_AE_IIN_SIZES == list(zoo.load("iin-ae-colorful-mnist-s0").factor_sizes)
    cnn_scores = estimated_sizes(zoo.load("cnn-colorful-mnist-s0"), splits[0])[1]
    assert scores["color"] > cnn_scores["color"] and cnn_scores["digit"] > scores["digit"]


@pytest.mark.parametrize(("seed", "factor"), _target_cases())
def test_sensitivity_targets(seed, factor):
    m = zoo.card(f"iin-cnn-colorful-mnist-s{seed}")["metrics"]
    op, target = TARGETS[factor]
    value = m[f"sensitivity_{factor}"]
    assert (value >= target) if op == ">=" else (value <= target), m


@pytest.mark.parametrize("seed", MNIST_FACTOR_SEEDS)
def test_sensitivities_are_ordered(seed):
    m = zoo.card(f"iin-cnn-colorful-mnist-s{seed}")["metrics"]
    assert m["sensitivity_digit"] > 3 * max(m["sensitivity_color"], m["sensitivity_residual"]), m


@pytest.mark.parametrize("seed", MNIST_FACTOR_SEEDS)
def test_residual_moves_only_the_unsure_predictions(splits, seed):
    test = splits[1]
    cnn, iin = zoo.load(f"cnn-colorful-mnist-s{seed}"), zoo.load(f"iin-cnn-colorful-mnist-s{seed}")
    split = classifier_split(cnn, test.images[:2])
    with torch.no_grad():
        z = split.encode(test.images)
        conf, pred = torch.softmax(split.head(z), 1).max(1)
    std, _ = factor_sensitivity(iin, z, split.head, "residual", SENSITIVITY["n_samples"], torch.Generator().manual_seed(0))
    assert float(std[conf > conf.quantile(0.25)].mean()) <= 0.1
    assert float(std[pred != test.labels].mean()) > 0.1


@pytest.mark.parametrize("seed", MNIST_FACTOR_SEEDS)
def test_digit_swap_reads_the_source_digit(splits, pairs, seed):
    test = splits[1]
    a, b = pairs
    cnn, iin = zoo.load(f"cnn-colorful-mnist-s{seed}"), zoo.load(f"iin-cnn-colorful-mnist-s{seed}")
    split = classifier_split(cnn, test.images[:2])
    with torch.no_grad():
        za, zb = split.encode(test.images[a]), split.encode(test.images[b])
        read = split.head(swap_factors(iin, za, zb, "digit")).argmax(1)
        source = cnn(test.images[b]).argmax(1)
    assert float((read == source).float().mean()) >= 0.9


def _chroma(images: torch.Tensor, mask: torch.Tensor) -> torch.Tensor:
    s = (images * mask).flatten(2).sum(2)
    return s / s.sum(1, keepdim=True)


def test_autoencoder_swaps_look_right(splits, pairs):
    test = splits[1]
    a, b = pairs
    ae, iin, cnn = zoo.load("ae-colorful-mnist-s0"), zoo.load("iin-ae-colorful-mnist-s0"), zoo.load("cnn-colorful-mnist-s0")
    with torch.no_grad():
        za, zb = first_stage_representation(ae, test.images[a]), first_stage_representation(ae, test.images[b])
        x_digit = ae.decode(swap_factors(iin, za, zb, "digit"))
        x_color = ae.decode(swap_factors(iin, za, zb, "color"))
        digit_read = float((cnn(x_digit).argmax(1) == test.labels[b]).float().mean())
        kept = float((cnn(x_color).argmax(1) == test.labels[a]).float().mean())
    mask_a = (test.extras["gray"][a] > 0.5).float()
    to_source = float((_chroma(x_color, mask_a) - _chroma(test.images[b], mask_a)).norm(dim=1).mean())
    to_target = float((_chroma(x_color, mask_a) - _chroma(test.images[a], mask_a)).norm(dim=1).mean())
    assert digit_read >= 0.75 and kept >= 0.8
    assert to_source < to_target


def test_unsupervised_iin_samples_beat_plain_decoding():
    m = zoo.card("uiin-ae-colorful-mnist-s0")["metrics"]
    assert m["fid_iin"] < m["fid_plain"]
    assert metric_mismatches(zoo.evaluate("uiin-ae-colorful-mnist-s0"), m) == []
