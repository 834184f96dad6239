"""InvarianceExplorer on the MNIST zoo models: the external CNN's reading of every resampled image
is shown beside the closed loop, with the fraction of the grid that keeps the input's class."""

from __future__ import annotations

import torch

from invwidgets import zoo
from invwidgets.widgets.explorers.invariances import InvarianceExplorer
from invwidgets.zoo.entries_mnist_invariances import mnist_splits


def test_grid_readout_has_closed_loop_and_external_agreement():
    svae, cnn = zoo.load("svae-mnist-s0"), zoo.load("cnn-mnist-s0")
    test = mnist_splits()[1]
    ex = InvarianceExplorer(svae, test, external_classifier=cnn, k=8, n_pick=10, device="cpu", seed=0)
    try:
        assert ex.wait_idle(120) and ex.error == ""
        with torch.no_grad():
            target = int(svae.predict_logits(test.images[:1]).argmax(1))
        assert len(ex.sample_external) == len(ex.sample_predictions) == 8
        closed = sum(c == target for c in ex.sample_predictions) / 8
        external = sum(e == target for e in ex.sample_external) / 8
        assert ex.sample_agreement == {"closed_loop": closed, "external": external}
        assert f"external: {external:.0%}" in ex.agreement.value
        assert f"closed loop keeps the class: {closed:.0%}" in ex.agreement.value
        # the first picker entry is a strong example: the samples keep its class for both readers
        assert closed >= 0.75 and external >= 0.75
    finally:
        ex.close()


def test_without_an_external_classifier_only_the_closed_loop_is_shown():
    svae = zoo.load("svae-mnist-s0")
    ex = InvarianceExplorer(svae, mnist_splits()[1], k=4, n_pick=4, device="cpu", seed=0)
    try:
        assert ex.wait_idle(120) and ex.error == ""
        assert ex.sample_external == [] and set(ex.sample_agreement) == {"closed_loop"}
        assert "external" not in ex.agreement.value
    finally:
        ex.close()
