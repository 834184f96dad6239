"""Tests of the supervised VAE, its loss, its training loop and the baseline with the same trunk
(docs/methods/invariances.md, Numerical checks: shapes, bit-identical logits under z_n changes, KL formula, training)."""

import math

import pytest
import torch
from torch import nn
from torch.distributions import Normal, kl_divergence

from invwidgets.data import digits
from invwidgets.models import gaussian_kl, init_parameters
from invwidgets.models.baseline import TrunkClassifier
from invwidgets.models.svae import SupervisedVAE, build_trunk, svae_loss, train_svae

VARIANTS = [
    {"arch": "mlp"},
    {"arch": "conv", "channels": [32, 64]},
    {"arch": "mlp", "classifier_hidden": 16, "likelihood": "gaussian"},
]


@pytest.fixture
def one_thread():
    """Train on one intra-op thread, as the zoo does: on a shared 2-core machine two threads per
    tiny op mostly wait for each other."""
    previous = torch.get_num_threads()
    torch.set_num_threads(1)
    yield
    torch.set_num_threads(previous)


def _x(n=6, seed=0):
    return torch.rand(n, 1, 8, 8, generator=torch.Generator().manual_seed(seed))


@pytest.mark.parametrize("kwargs", VARIANTS)
def test_shapes_and_classifier_reads_only_z_c(kwargs):
    m = init_parameters(SupervisedVAE(d_c=3, d_n=5, **kwargs), 0).eval()
    x = _x()
    mu, logvar = m.encode_dist(x)
    assert mu.shape == logvar.shape == (6, 8)
    assert torch.equal(m.encode(x), mu)
    assert m.decode(mu).shape == x.shape
    z_c, z_n = m.split(mu)
    assert z_c.shape == (6, 3) and z_n.shape == (6, 5)
    assert torch.equal(m.join(z_c, z_n), mu)
    logits = m.classify(z_c)
    assert logits.shape == (6, 10)
    # classify reads exactly d_c inputs: a full z is rejected
    with pytest.raises(ValueError, match=r"\(N, 3\)"):
        m.classify(mu)
    # perturbing z_n leaves the logits bit-identical, through forward too
    z2 = mu.clone()
    z2[:, 3:] += torch.randn(6, 5, generator=torch.Generator().manual_seed(1)) * 10
    assert torch.equal(m.classify(m.split(z2)[0]), logits)
    out = m(x)
    assert torch.equal(out.class_logits, logits)
    assert torch.equal(m.predict_logits(x), logits)
    # decode does depend on z_n
    assert not torch.allclose(m.decode(z2), m.decode(mu))


def test_kl_matches_torch_distributions():
    g = torch.Generator().manual_seed(0)
    mu, logvar = torch.randn(7, 10, generator=g), torch.randn(7, 10, generator=g)
    ref = kl_divergence(Normal(mu, torch.exp(0.5 * logvar)), Normal(0.0, 1.0))
    assert torch.allclose(gaussian_kl(mu, logvar), ref, atol=1e-6)


def test_gaussian_likelihood_is_the_normal_nll():
    m = init_parameters(SupervisedVAE(likelihood="gaussian", sigma=0.2), 0).eval()
    x, y = _x(), torch.arange(6)
    out = m(x)
    terms = svae_loss(out, x, y, beta=0.0, alpha=0.0, likelihood="gaussian", sigma=0.2)
    ref = -Normal(out.reconstruction, 0.2).log_prob(x).flatten(1).sum(1).mean()
    assert torch.allclose(terms["loss"], ref, rtol=1e-5)


def test_loss_combines_terms_with_beta_and_alpha():
    m = init_parameters(SupervisedVAE(), 0).eval()
    x, y = _x(), torch.arange(6)
    out = m(x)
    base = svae_loss(out, x, y, beta=0.0, alpha=0.0)
    full = svae_loss(out, x, y, beta=2.0, alpha=5.0)
    expect = base["recon"] + 2.0 * full["kl"] + 5.0 * full["ce"]
    assert torch.allclose(full["loss"], expect, rtol=1e-5)
    assert torch.allclose(full["ce"], nn.functional.cross_entropy(out.class_logits, y))
    with pytest.raises(ValueError, match="alpha"):
        svae_loss(out, x, y, alpha=-1.0)
    with pytest.raises(ValueError, match="int64 labels"):
        svae_loss(out, x, y.float())


def test_training_decreases_loss_and_is_deterministic(one_thread):
    data = digits().subset(range(256))
    x, y = data[:]
    histories, states = [], []
    for _ in range(2):
        m = init_parameters(SupervisedVAE(), 3)
        h = train_svae(m, x, y, epochs=6, batch_size=32, alpha=10.0, generator=7, progress=False)
        histories.append(h)
        states.append(m.state_dict())
        assert not m.training
    h = histories[0]
    assert all(math.isfinite(v) for v in h["loss"]) and len(h["loss"]) == 6
    assert h["loss"][-1] < h["loss"][0]
    assert h["ce"][-1] < h["ce"][0]
    assert histories[0] == histories[1]
    for k in states[0]:
        assert torch.equal(states[0][k], states[1][k]), k


def test_training_callback_reports_progress_and_cancels(one_thread):
    x, y = digits().subset(range(64))[:]
    seen = []

    def callback(epoch, total, stats):
        seen.append((epoch, total, stats["loss"]))
        return epoch < 2  # stop after the second epoch

    h = train_svae(init_parameters(SupervisedVAE(), 0), x, y, epochs=10, generator=0, progress=False, callback=callback)
    assert [s[:2] for s in seen] == [(1, 10), (2, 10)]
    assert len(h["loss"]) == 2


def test_training_rejects_bad_data():
    m = SupervisedVAE()
    x, y = digits().subset(range(16))[:]
    with pytest.raises(ValueError, match=r"shape \(N, 1, 8, 8\)"):
        train_svae(m, x[:, :, :4], y, epochs=1, progress=False)
    bad = x.clone()
    bad[0, 0, 0, 0] = float("nan")
    with pytest.raises(ValueError, match="NaN"):
        train_svae(m, bad, y, epochs=1, progress=False)
    with pytest.raises(ValueError, match=r"labels must lie in \[0, 10\)"):
        train_svae(m, x, y + 10, epochs=1, progress=False)
    with pytest.raises(TypeError, match="floating-point"):
        train_svae(m, (x * 16).long(), y, epochs=1, progress=False)
    with pytest.raises(TypeError, match="generator"):
        train_svae(m, x, y, epochs=1, progress=False, generator="seed")


def test_training_mode_needs_a_generator():
    m = SupervisedVAE().train()
    with pytest.raises(ValueError, match="torch.Generator"):
        m(_x())


def test_bad_constructor_arguments():
    with pytest.raises(ValueError, match="arch"):
        SupervisedVAE(arch="rnn")
    with pytest.raises(ValueError, match="likelihood"):
        SupervisedVAE(likelihood="poisson")
    with pytest.raises(ValueError, match="d_c"):
        SupervisedVAE(d_c=0)
    with pytest.raises(ValueError, match="square"):
        SupervisedVAE(input_shape=(1, 8, 6), arch="conv")


@pytest.mark.parametrize("kwargs", [{"arch": "mlp"}, {"arch": "conv", "channels": [32, 64]}])
def test_baseline_shares_the_trunk(kwargs):
    svae = SupervisedVAE(**kwargs)
    base = TrunkClassifier(**kwargs)
    enc = list(svae.encoder.children())[:-1]
    trunk = list(base.trunk.children())
    assert [type(a) for a in enc] == [type(b) for b in trunk]
    for a, b in zip(enc, trunk):
        for (na, pa), (nb, pb) in zip(a.named_parameters(), b.named_parameters()):
            assert na == nb and pa.shape == pb.shape
    assert base(_x()).shape == (6, 10)
    t, width = build_trunk(kwargs["arch"], (1, 8, 8), (128,), kwargs.get("channels"))
    assert t(_x()).shape == (6, width)
    with pytest.raises(ValueError, match="shape"):
        base(torch.rand(2, 1, 7, 7))
