"""IIN methods: the numerical checks of docs/methods/factors.md and seeded determinism of the edits."""

from __future__ import annotations

import math

import pytest
import torch
from torch import nn

from invwidgets.methods.factors import (
    SequentialSplit,
    estimate_factor_dims,
    factor_scores,
    factor_sensitivity,
    factor_shares,
    interpolate_factor,
    interpolate_latent,
    log_likelihood,
    pair_log_likelihood,
    pair_nll,
    resample_factor,
    sample,
    sensitivity_table,
    swap_factors,
    train_iin,
    unsupervised_nll,
)
from invwidgets.models import init_parameters
from invwidgets.models.iin import FactorIIN


class IdentityIIN(nn.Module):
    """T = identity with named factors (no parameters)."""

    def __init__(self, sizes, names=None):
        super().__init__()
        self.factor_sizes = tuple(sizes)
        self.dim = sum(sizes)
        self.factor_names = tuple(names or [f"f{i}" for i in range(len(sizes) - 1)] + ["residual"])

    def forward(self, z):
        return z, torch.zeros(z.shape[0], dtype=z.dtype)

    def reverse(self, w):
        return w

    factor_index = FactorIIN.factor_index
    factor_slice = FactorIIN.factor_slice
    n_factors = FactorIIN.n_factors


def trained_like_iin(dim=8, sizes=(3, 2, 3), seed=0):
    iin = FactorIIN(dim, list(sizes), ["a", "b", "residual"], n_blocks=2, hidden=16, seed=seed)
    g = torch.Generator().manual_seed(seed)
    for block in iin.blocks:
        init_parameters(block.coupling, g)
    with torch.no_grad():
        iin(torch.randn(128, dim, generator=g) * 1.5)
    return iin.eval()


@pytest.fixture(autouse=True)
def one_thread():
    """Small ops on a loaded 2-core machine are far faster single-threaded."""
    previous = torch.get_num_threads()
    torch.set_num_threads(1)
    yield
    torch.set_num_threads(previous)


def gen(seed=0):
    return torch.Generator().manual_seed(seed)


def test_pair_loss_with_rho_zero_is_two_unsupervised_terms():
    iin = trained_like_iin()
    g = gen(1)
    za, zb = torch.randn(16, 8, generator=g), torch.randn(16, 8, generator=g)
    shared = torch.zeros(16, 3, dtype=torch.bool)
    shared[:8, 0] = True
    shared[8:, 1] = True
    with torch.no_grad():
        pair = pair_log_likelihood(iin, za, zb, shared, rho=0.0)
        indep = log_likelihood(iin, za) + log_likelihood(iin, zb)
        assert torch.allclose(pair, indep, atol=1e-4)
        # without the normalisers: the same up to constants, as in the official code
        loose = -pair_nll(iin, za, zb, shared, rho=0.0, exact=False)
        assert math.isclose(float(loose), float(-(unsupervised_nll(iin, za) + unsupervised_nll(iin, zb)).mean()), rel_tol=1e-5)


def test_correct_factor_labels_give_lower_loss_than_shuffled():
    iin = IdentityIIN([3, 3, 2])
    g = gen(2)
    n, rho = 4000, 0.975
    za = torch.randn(n, 8, generator=g)
    zb = torch.randn(n, 8, generator=g)
    which = torch.randint(0, 2, (n,), generator=g)
    shared = torch.zeros(n, 3, dtype=torch.bool)
    shared[torch.arange(n), which] = True
    cols = shared.repeat_interleave(torch.tensor([3, 3, 2]), dim=1)
    zb = torch.where(cols, rho * za + math.sqrt(1 - rho**2) * zb, zb)  # the correlated-Gaussian model
    right = pair_nll(iin, za, zb, shared, rho=rho)
    wrong = pair_nll(iin, za, zb, shared[torch.randperm(n, generator=g)], rho=rho)
    assert float(right) < float(wrong) - 1.0


def test_exact_pair_likelihood_integrates_to_one_in_1d():
    iin = IdentityIIN([1, 1])  # factor f0 = dim 0; the 1-D check uses dim 0 and a fixed dim 1
    grid = torch.linspace(-9, 9, 721, dtype=torch.float64)
    a, b = torch.meshgrid(grid, grid, indexing="ij")
    h = float(grid[1] - grid[0])
    for rho, share in ((0.975, True), (0.5, True), (0.9, False)):
        za = torch.stack([a.flatten(), torch.zeros(a.numel(), dtype=torch.float64)], 1)
        zb = torch.stack([b.flatten(), torch.zeros(b.numel(), dtype=torch.float64)], 1)
        shared = torch.zeros(a.numel(), 2, dtype=torch.bool)
        shared[:, 0] = share
        ll = pair_log_likelihood(iin, za, zb, shared, rho=rho)
        # remove the (normalised) density of the fixed second dimension at 0 for both members
        ll = ll + math.log(2 * math.pi)
        total = float(ll.exp().sum()) * h * h
        assert abs(total - 1.0) < 1e-3, (rho, share, total)


def test_swap_then_forward_recovers_the_edited_code():
    iin = trained_like_iin()
    g = gen(3)
    za, zb = torch.randn(5, 8, generator=g), torch.randn(5, 8, generator=g)
    with torch.no_grad():
        for k in ("a", "b", "residual"):
            w = iin(za)[0].clone()
            sl = iin.factor_slice(k)
            w[:, sl] = iin(zb)[0][:, sl]
            z_new = swap_factors(iin, za, zb, k)
            assert (iin(z_new)[0] - w).abs().max() <= 1e-5
            assert (iin.reverse(w) - z_new).abs().max() <= 1e-5


def test_interpolation_ends_and_linear_baseline():
    iin = trained_like_iin()
    g = gen(4)
    za, zb = torch.randn(8, generator=g), torch.randn(8, generator=g)
    path = interpolate_factor(iin, za, zb, "a", [0.0, 0.5, 1.0])
    assert path.shape == (3, 8)
    assert (path[0] - za).abs().max() <= 1e-5
    with torch.no_grad():
        end = iin(path[2:])[0][0]
        w_a, w_b = iin(za[None])[0][0], iin(zb[None])[0][0]
    sl = iin.factor_slice("a")
    assert torch.allclose(end[sl], w_b[sl], atol=1e-5)
    rest = torch.ones(8, dtype=torch.bool)
    rest[sl] = False
    assert torch.allclose(end[rest], w_a[rest], atol=1e-5)
    lin = interpolate_latent(za, zb, [0.0, 0.25, 1.0])
    assert torch.allclose(lin[1], 0.75 * za + 0.25 * zb) and torch.allclose(lin[2], zb)


def test_resample_and_sample_are_seeded_and_touch_one_factor():
    iin = trained_like_iin()
    z = torch.randn(3, 8, generator=gen(5))
    r1 = resample_factor(iin, z, "b", 7, gen(9))
    r2 = resample_factor(iin, z, "b", 7, gen(9))
    assert r1.shape == (3, 7, 8) and torch.equal(r1, r2)
    assert not torch.equal(r1, resample_factor(iin, z, "b", 7, gen(10)))
    with torch.no_grad():
        w0 = iin(z)[0]
        w = iin(r1.reshape(-1, 8))[0].reshape(3, 7, 8)
    keep = ~iin.factor_mask("b")
    assert (w[:, :, keep] - w0[:, None, keep]).abs().max() <= 1e-4
    assert resample_factor(iin, z[0], "b", 4, gen(1)).shape == (4, 8)
    s1, s2 = sample(iin, 6, gen(3)), sample(iin, 6, gen(3))
    assert s1.shape == (6, 8) and torch.equal(s1, s2)
    decoded = sample(iin, 6, gen(3), decoder=lambda z: z * 2)
    assert torch.allclose(decoded, s1 * 2)
    with pytest.raises(TypeError, match="Generator"):
        sample(iin, 3, 0)


def test_sensitivity_of_a_head_that_reads_one_factor():
    """A head that only looks at factor 'a' responds to resampling 'a' and never to the rest."""
    iin = IdentityIIN([2, 2, 4], ["a", "b", "residual"])
    weight = torch.zeros(10, 8)
    weight[:, 0] = torch.linspace(-3, 3, 10)
    weight[:, 1] = torch.linspace(2, -2, 10)
    head = lambda z: z @ weight.T - 0.5 * (weight.pow(2).sum(1))  # noqa: E731
    z = torch.randn(20, 8, generator=gen(6))
    table = sensitivity_table(iin, z, head, 300, gen(7))
    assert table["a"] > 1.0 and table["b"] == 0.0 and table["residual"] == 0.0
    std, labels = factor_sensitivity(iin, z, head, "a", 50, gen(8))
    std2, labels2 = factor_sensitivity(iin, z, head, "a", 50, gen(8))
    assert std.shape == (20,) and labels.shape == (20, 50) and torch.equal(labels, labels2)
    assert torch.allclose(std, labels.double().std(1, unbiased=False))


def test_dimension_estimator_recovers_block_sizes():
    g = gen(11)
    m = 3000
    a_val = torch.randint(0, 10, (m,), generator=g)
    b_val = torch.randint(0, 10, (m,), generator=g)
    code_a = torch.randn(10, 8, generator=g)
    code_b = torch.randn(10, 4, generator=g)

    def encode(ia, ib, noise):
        return torch.cat([code_a[ia], code_b[ib], noise], 1)

    z_all = encode(a_val, b_val, torch.randn(m, 4, generator=g))
    pairs = {}
    for name, shared_first in (("A", True), ("B", False)):
        v = torch.randint(0, 10, (m,), generator=g)
        o1, o2 = torch.randint(0, 10, (m,), generator=g), torch.randint(0, 10, (m,), generator=g)
        n1, n2 = torch.randn(m, 4, generator=g), torch.randn(m, 4, generator=g)
        if shared_first:
            pairs[name] = (encode(v, o1, n1), encode(v, o2, n2))
        else:
            pairs[name] = (encode(o1, v, n1), encode(o2, v, n2))
    sizes, scores = estimate_factor_dims(z_all, pairs)
    assert sum(sizes) == 16 and len(sizes) == 3
    assert sizes[0] > sizes[1]
    assert scores["A"] > scores["B"] > 0 and scores["residual"] == 1.0
    assert factor_scores(z_all, pairs) == {k: v for k, v in scores.items() if k != "residual"}
    shares = factor_shares(scores)
    assert sum(shares.values()) == pytest.approx(1.0)
    assert [math.floor(shares[k] * 16) for k in ("A", "B")] == sizes[:2]


class TinyClassifier(nn.Module):
    """A model defined here: E = conv trunk to a 6-d feature, G = linear head."""

    def __init__(self):
        super().__init__()
        self.conv = nn.Conv2d(3, 4, 3, padding=1)
        self.act = nn.ReLU()
        self.flatten = nn.Flatten()
        self.feature = nn.Linear(4 * 8 * 8, 6)
        self.head = nn.Sequential(nn.LeakyReLU(), nn.Linear(6, 10))

    def forward(self, x):
        return self.head(self.feature(self.flatten(self.act(self.conv(x)))))


def test_representation_invariance_through_the_iin():
    model = init_parameters(TinyClassifier(), 0).eval()
    x = torch.rand(32, 3, 8, 8, generator=gen(12))
    split = SequentialSplit(model, "feature", x[:2])
    iin = FactorIIN(6, [2, 1, 3], ["digit", "color", "residual"], n_blocks=3, hidden=16)
    g = gen(13)
    for block in iin.blocks:
        init_parameters(block.coupling, g)
    with torch.no_grad():
        z = split.encode(x)
        iin(z)  # ActNorm initialisation
        logits = model(x)
        again = split.head(iin.reverse(iin(z)[0]))
    assert (again - logits).abs().max() <= 1e-4
    with pytest.raises(ValueError, match="unknown layer"):
        SequentialSplit(model, "nope", x[:2])


def test_split_rejects_models_that_are_not_chains():
    class Skip(TinyClassifier):
        def forward(self, x):
            return super().forward(x) + 1.0

    with pytest.raises(ValueError, match="not the chain"):
        SequentialSplit(init_parameters(Skip(), 0), "feature", torch.rand(2, 3, 8, 8))


def test_train_iin_is_deterministic_and_lowers_both_losses():
    g = gen(14)
    base = torch.randn(256, 6, generator=g) @ torch.randn(6, 6, generator=g) + 3.0

    def run(pairs: bool):
        iin = FactorIIN(6, [2, 1, 3], n_blocks=2, hidden=16, seed=1)
        for block in iin.blocks:
            init_parameters(block.coupling, gen(15))

        def batches(step, generator):
            i = torch.randint(0, 256, (64,), generator=generator)
            if not pairs:
                return base[i], None, None
            shared = torch.zeros(64, 3, dtype=torch.bool)
            shared[:, 0] = True
            return base[i], base[i] + 0.05 * torch.randn(64, 6, generator=generator), shared

        return train_iin(iin, batches, 40, gen(16), lr=3e-3)

    for pairs in (False, True):
        l1, l2 = run(pairs), run(pairs)
        assert l1 == l2
        assert sum(l1[-10:]) / 10 < sum(l1[:10]) / 10 - 1.0


def test_bad_inputs():
    iin = trained_like_iin()
    ok = torch.zeros(4, 8)
    shared = torch.zeros(4, 3, dtype=torch.bool)
    with pytest.raises(ValueError, match="NaN"):
        unsupervised_nll(iin, torch.full((2, 8), float("nan")))
    with pytest.raises(ValueError, match=r"\(N, 8\)"):
        unsupervised_nll(iin, torch.zeros(2, 7))
    with pytest.raises(TypeError, match="floating"):
        unsupervised_nll(iin, torch.zeros(2, 8, dtype=torch.int64))
    with pytest.raises(ValueError, match="rho"):
        pair_nll(iin, ok, ok, shared, rho=1.0)
    with pytest.raises(TypeError, match="boolean"):
        pair_nll(iin, ok, ok, shared.long())
    with pytest.raises(ValueError, match="shared must have shape"):
        pair_nll(iin, ok, ok, torch.zeros(4, 5, dtype=torch.bool))
    with pytest.raises(ValueError, match="unknown factor"):
        swap_factors(iin, ok, ok, "colour")
