"""The rule that decides whether a recomputed metric reproduces its card (docs/reproducibility.md)."""

from __future__ import annotations

import math

import pytest

from invwidgets import zoo
from invwidgets.zoo import metric_mismatches, metric_reproduces


def test_error_metrics_are_upper_bounds():
    # rounding error measured on another CPU: 5.72e-6 against the card's 3.81e-6
    assert metric_reproduces("inverse_error", 5.72e-6, 3.81e-6)
    assert metric_reproduces("inverse_error", 0.0, 3.81e-6)  # less rounding error is no regression
    assert metric_reproduces("inverse_error", 9e-6, 1e-8)  # below the floor
    assert not metric_reproduces("inverse_error", 1e-3, 3.81e-6)  # a broken inverse: orders above
    assert metric_reproduces("inverse_error_rel", 2.4e-7, 1.6e-7)
    assert not metric_reproduces("inverse_error_rel", 1e-4, 1.6e-7)


def test_other_metrics_within_relative_and_absolute_tolerance():
    # Î interval end measured on another CPU: 12.2673928 against the card's 12.2673940
    assert metric_reproduces("mi_ci_low_fc", 12.2673928, 12.2673940)
    assert metric_reproduces("mi_ci_low_logits", -6.473883, -6.473857)  # measured with SSE kernels
    assert not metric_reproduces("mi_ci_low_fc", 12.2673940 + 2e-3, 12.2673940)
    assert not metric_reproduces("mi_bits_fc", 11.9, 12.2673940)
    assert metric_reproduces("dci_disentanglement", 0.63148, 0.63159)  # measured with AVX2 kernels
    assert not metric_reproduces("mig", 0.145, 0.1416)
    assert not metric_reproduces("test_mse_per_pixel", 0.0018318 * (1 + 3e-4), 0.0018318)
    assert not metric_reproduces("cds", 0.47, 0.475)
    assert not metric_reproduces("test_nll", 24.9, 24.85)  # lower is not "better" here: values, not bounds
    assert not metric_reproduces("cds", 0.49, 0.475)
    assert not metric_reproduces("cds", math.nan, 0.475)


def test_argmax_metrics_may_move_by_one_decision():
    assert metric_reproduces("test_accuracy", 0.98 - 1 / 359, 0.98)
    assert not metric_reproduces("test_accuracy", 0.98 - 2 / 359, 0.98)
    assert metric_reproduces("test_accuracy_e30", 0.98 + 1 / 359, 0.98)
    assert metric_reproduces("sensitivity_residual", 0.117 + 0.009, 0.117)
    assert not metric_reproduces("sensitivity_residual", 0.2, 0.117)


def test_mismatches_list_every_problem_at_once():
    card = {"cds": 0.475, "mig": 0.14, "inverse_error": 3.8e-6}
    assert metric_mismatches(dict(card), card) == []
    problems = metric_mismatches({"cds": 0.5, "mig": 0.14, "inverse_error": 1e-2, "extra": 1.0}, card)
    assert len(problems) == 3
    assert any(p.startswith("cds:") for p in problems) and any(p.startswith("inverse_error:") for p in problems)
    assert any("extra" in p and "not on the card" in p for p in problems)
    assert metric_mismatches({}, {"cds": 0.5}) == ["cds: on the card but not recomputed"]


@pytest.mark.parametrize("name", ["ae-sprites", "cnn-digits", "helix-vae"])
def test_cheap_cards_reproduce_and_a_perturbed_model_does_not(name):
    """The rule accepts the shipped model and rejects the same model with slightly changed weights."""
    import torch

    assert metric_mismatches(zoo.evaluate(name), zoo.card(name)["metrics"]) == []
    model = zoo.load(name)
    with torch.no_grad():
        for p in model.parameters():
            p.mul_(1.01)
    assert metric_mismatches(zoo.evaluate(model, name=name), zoo.card(name)["metrics"])
