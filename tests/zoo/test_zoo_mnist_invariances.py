"""The supervised VAEs and CNNs on real MNIST 28×28 (3 seeds each), from the shipped weights:

- each SVAE's test accuracy is within 1.0 point of its CNN (or above it);
- resampling z_n keeps the closed-loop label >= 0.9, resampling z_c keeps it <= 0.2;
- the external CNN (same seed, trained apart) agrees with the kept class on >= 0.85 of the
  z_n samples: the samples really keep the digit, not only the SVAE's own reading of it.

Every target holds for every seed, not only on the mean.
"""

from __future__ import annotations

import pytest
import torch

from invwidgets import zoo
from invwidgets.data import mnist_sample
from invwidgets.methods import attribution_stats, invariance_rates, invariant_samples
from invwidgets.models import SupervisedVAE, TrunkClassifier
from invwidgets.zoo.entries_mnist_invariances import MNIST_SEEDS, mnist_splits
from invwidgets.zoo.reproduce import metric_mismatches

NAMES = [f"{kind}-mnist-s{s}" for kind in ("svae", "cnn") for s in MNIST_SEEDS]


@pytest.fixture(scope="module")
def test_images():
    return mnist_splits()[1].images


@pytest.fixture(scope="module")
def rates(test_images):
    out = {}
    for s in MNIST_SEEDS:
        svae, cnn = zoo.load(f"svae-mnist-s{s}"), zoo.load(f"cnn-mnist-s{s}")
        out[s] = invariance_rates(svae, test_images, torch.Generator().manual_seed(0), k=16, external=cnn)
    return out


def test_files_cards_training_times_and_sizes():
    for name in NAMES:
        assert name in zoo.available()
        assert zoo.weights_path(name).stat().st_size < 2_000_000
        c = zoo.card(name)
        assert c["train_time_s"] > 0 and c["dataset"]["name"] == "mnist_sample"
        assert c["architecture"]["config"]["input_shape"] == [1, 28, 28]
    assert isinstance(zoo.load("svae-mnist-s0"), SupervisedVAE)
    assert isinstance(zoo.load("cnn-mnist-s0"), TrunkClassifier)


def test_the_zoo_split_is_the_mnist_sample_split():
    train, test = mnist_splits()
    assert len(train) == 4000 and len(test) == 1000
    assert set(test.extras["row"].tolist()) == set(mnist_sample("test").extras["row"].tolist())


@pytest.mark.parametrize("name", NAMES)
def test_card_metrics_reproduce(name):
    assert metric_mismatches(zoo.evaluate(name), zoo.card(name)["metrics"]) == []


@pytest.mark.parametrize("seed", MNIST_SEEDS)
def test_svae_accuracy_within_one_point_of_its_cnn(seed):
    svae = zoo.card(f"svae-mnist-s{seed}")["metrics"]["test_accuracy"]
    cnn = zoo.card(f"cnn-mnist-s{seed}")["metrics"]["test_accuracy"]
    assert svae >= cnn - 0.010, (svae, cnn)
    assert cnn > 0.95


@pytest.mark.parametrize("seed", MNIST_SEEDS)
def test_invariance_targets_on_every_seed(rates, seed):
    r = rates[seed]
    assert r["latent"] == 1.0
    assert r["closed_loop"] >= 0.9, r
    assert r["control_closed_loop"] <= 0.2, r
    assert r["external"] >= 0.85, r
    assert r["control_external"] <= 0.2, r


def test_attribution_stats_takes_the_svae_itself(test_images):
    svae = zoo.load("svae-mnist-s0")
    x = test_images[:1]
    samples = invariant_samples(svae, x, 4, torch.Generator().manual_seed(0)).images[0]
    st = attribution_stats(svae, x, samples, method="saliency")
    assert st.samples.shape == (4, 1, 28, 28)
    assert st.target == int(svae.predict_logits(x).argmax(1))
