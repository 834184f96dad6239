"""Tests of the Captum attribution wrappers (docs/methods/invariances.md: Attribution, Numerical checks): saliency of a linear model is
its weight vector, Integrated Gradients completeness within 1 % at 64 steps, seeded SmoothGrad."""

import pytest
import torch
from torch import nn

from invwidgets.methods.attribution import (
    METHODS,
    attribute,
    attribution_stats,
    composed_classifier,
    integrated_gradients,
)
from invwidgets.models import init_parameters
from invwidgets.models.svae import SupervisedVAE


def _linear():
    m = nn.Sequential(nn.Flatten(), nn.Linear(16, 3))
    init_parameters(m, 0)
    return m


def _x(n=4, seed=0):
    return torch.rand(n, 1, 4, 4, generator=torch.Generator().manual_seed(seed))


def test_saliency_of_a_linear_model_is_its_weight_vector():
    m, x = _linear(), _x()
    w = m[1].weight.detach()
    for target in range(3):
        a = attribute(m, x, target, "saliency")
        assert a.shape == x.shape
        assert torch.allclose(a, w[target].reshape(1, 1, 4, 4).expand_as(x), atol=1e-6)
    # Gradient × Input of a linear model is x ⊙ w; SmoothGrad of a linear model is w again
    assert torch.allclose(attribute(m, x, 1, "input_x_gradient"), x * w[1].reshape(1, 1, 4, 4), atol=1e-6)
    assert torch.allclose(attribute(m, x, 2, "smoothgrad", nt_samples=4), w[2].reshape(1, 1, 4, 4).expand_as(x), atol=1e-5)


def test_default_target_is_the_prediction():
    m, x = _linear(), _x()
    pred = m(x).argmax(1)
    a = attribute(m, x, None, "saliency")
    w = m[1].weight.detach()
    assert torch.allclose(a, w[pred].reshape(-1, 1, 4, 4), atol=1e-6)


def test_integrated_gradients_completeness_on_a_nonlinear_model():
    m = nn.Sequential(nn.Flatten(), nn.Linear(16, 32), nn.Tanh(), nn.Linear(32, 5))
    init_parameters(m, 1)
    x = _x(8, seed=3) * 3
    attr, gap = integrated_gradients(m, x, n_steps=64)
    t = m(x).argmax(1)
    with torch.no_grad():
        diff = m(x).gather(1, t[:, None])[:, 0] - m(torch.zeros_like(x)).gather(1, t[:, None])[:, 0]
    assert torch.allclose(attr.flatten(1).sum(1) - diff, gap, atol=1e-5)
    assert (gap.abs() <= 0.01 * diff.abs()).all(), (gap, diff)
    # and the gap is real: with 2 steps it is larger
    _, gap2 = integrated_gradients(m, x, n_steps=2)
    assert gap2.abs().max() > gap.abs().max()


def test_composed_classifier_of_a_supervised_vae():
    svae = init_parameters(SupervisedVAE(d_c=3, d_n=4), 0).eval()
    f = composed_classifier(svae)
    x = torch.rand(3, 1, 8, 8, generator=torch.Generator().manual_seed(0))
    assert torch.equal(f(x), svae.predict_logits(x))
    _, gap = integrated_gradients(f, x, n_steps=64)
    assert torch.isfinite(gap).all()
    with pytest.raises(TypeError, match="supervised VAE"):
        composed_classifier(nn.Linear(2, 2))


def test_a_supervised_vae_is_explained_through_its_composed_classifier():
    svae = init_parameters(SupervisedVAE(d_c=3, d_n=4), 0).eval()
    x = torch.rand(1, 1, 8, 8, generator=torch.Generator().manual_seed(0))
    samples = torch.rand(5, 1, 8, 8, generator=torch.Generator().manual_seed(1))
    direct = attribution_stats(svae, x, samples, n_steps=16)
    composed = attribution_stats(composed_classifier(svae), x, samples, n_steps=16)
    assert direct.target == composed.target == int(svae.predict_logits(x).argmax(1))
    assert torch.equal(direct.original, composed.original) and torch.equal(direct.samples, composed.samples)
    assert torch.equal(attribute(svae, x, method="saliency"), attribute(composed_classifier(svae), x, method="saliency"))


def test_smoothgrad_is_seeded_and_leaves_global_rng_alone():
    m = nn.Sequential(nn.Flatten(), nn.Linear(16, 8), nn.ReLU(), nn.Linear(8, 3))
    init_parameters(m, 0)
    x = _x(2)
    torch.manual_seed(123)
    before = torch.random.get_rng_state()
    a = attribute(m, x, 0, "smoothgrad", seed=5)
    assert torch.equal(torch.random.get_rng_state(), before)
    assert torch.equal(a, attribute(m, x, 0, "smoothgrad", seed=5))
    assert not torch.equal(a, attribute(m, x, 0, "smoothgrad", seed=6))


def test_attribution_stats_over_samples():
    m, x = _linear(), _x(1)
    samples = _x(5, seed=1)
    for method in METHODS:
        st = attribution_stats(m, x, samples, method=method, n_steps=8, nt_samples=2)
        assert st.original.shape == st.mean.shape == st.std.shape == (1, 4, 4)
        assert st.samples.shape == (5, 1, 4, 4)
        assert torch.allclose(st.mean, st.samples.mean(0))
        assert torch.allclose(st.std, st.samples.std(0, unbiased=False))
        assert st.target == int(m(x).argmax(1))
    # identical samples: zero spread
    st = attribution_stats(m, x, x.repeat(4, 1, 1, 1), method="input_x_gradient")
    assert torch.equal(st.std, torch.zeros_like(st.std))


def test_bad_arguments():
    m, x = _linear(), _x()
    with pytest.raises(ValueError, match="method"):
        attribute(m, x, 0, "lrp")
    bad = x.clone()
    bad[0, 0, 0, 0] = float("inf")
    with pytest.raises(ValueError, match="NaN or infinite"):
        attribute(m, bad, 0, "saliency")
    with pytest.raises(ValueError, match="target"):
        attribute(m, x, torch.tensor([0, 1]), "saliency")
    with pytest.raises(ValueError, match="single input"):
        attribution_stats(m, x, x)
