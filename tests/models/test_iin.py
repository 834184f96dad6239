"""The invertible network: exact inverse, log-determinant against autograd, ActNorm, shuffle."""

from __future__ import annotations

import pytest
import torch

from invwidgets.models import init_parameters
from invwidgets.models.iin import ActNorm, AffineCoupling, DoubleAffineCoupling, FactorIIN, FlowBlock, Shuffle


@pytest.fixture(autouse=True)
def one_thread():
    previous = torch.get_num_threads()
    torch.set_num_threads(1)
    yield
    torch.set_num_threads(previous)


def make_iin(dim=8, sizes=(3, 2, 3), dtype="float32", seed=0, n_blocks=3):
    iin = FactorIIN(dim, list(sizes), ["a", "b", "residual"], n_blocks=n_blocks, hidden=16, depth=1, seed=seed, dtype=dtype)
    gen = torch.Generator().manual_seed(seed)
    for block in iin.blocks:
        init_parameters(block.coupling, gen)
    return iin


def data(n, dim, dtype=torch.float32, seed=1):
    g = torch.Generator().manual_seed(seed)
    return (torch.randn(n, dim, generator=g, dtype=dtype) * 2.0 + 0.5)


def test_invertibility_float32_after_actnorm_init():
    iin = make_iin()
    z = data(256, 8)
    with torch.no_grad():
        w, _ = iin(z)  # initialises the ActNorms
        assert iin.is_initialized
        w, _ = iin(z)
        assert (iin.reverse(w) - z).abs().max() <= 1e-5
        z2 = data(64, 8, seed=5)
        assert (iin.reverse(iin(z2)[0]) - z2).abs().max() <= 1e-5


def test_invertibility_float64():
    iin = make_iin(dtype="float64")
    z = data(256, 8, torch.float64)
    with torch.no_grad():
        iin(z)
        w, _ = iin(z)
        assert w.dtype == torch.float64
        assert (iin.reverse(w) - z).abs().max() <= 1e-10


@pytest.mark.parametrize("make", [
    lambda g: AffineCoupling(6, 16, 1, swap=False),
    lambda g: AffineCoupling(6, 16, 1, swap=True),
    lambda g: DoubleAffineCoupling(6, 16, 2),
    lambda g: Shuffle(6, g),
    lambda g: ActNorm(6),
    lambda g: FlowBlock(6, 16, 1, g),
])
def test_each_block_inverts_and_logdet_matches_autograd(make):
    g = torch.Generator().manual_seed(3)
    block = make(g).double()
    for m in block.modules():
        if isinstance(m, torch.nn.Linear):
            init_parameters(m, g)
    z = data(32, 6, torch.float64)
    with torch.no_grad():
        block(z)  # ActNorm init
        y, ld = block(z)
        assert (block.reverse(y) - z).abs().max() <= 1e-10
    for i in range(3):
        x = z[i]
        jac = torch.autograd.functional.jacobian(lambda v: block(v[None])[0][0], x)
        assert abs(torch.linalg.slogdet(jac)[1].item() - ld[i].item()) <= 1e-4


@pytest.mark.parametrize("dim", [4, 6, 8])
def test_logdet_of_whole_flow_matches_autograd(dim):
    sizes = (1, 1, dim - 2)
    iin = make_iin(dim, sizes, n_blocks=3)
    z = data(64, dim)
    with torch.no_grad():
        iin(z)
        _, ld = iin(z[:4])
    for i in range(4):
        jac = torch.autograd.functional.jacobian(lambda v: iin(v[None])[0][0], z[i])
        assert abs(torch.linalg.slogdet(jac.double())[1].item() - ld[i].item()) <= 1e-4


def test_actnorm_initialises_once_from_first_batch():
    norm = ActNorm(5)
    x = data(500, 5) * torch.tensor([1.0, 2.0, 3.0, 0.5, 10.0])
    y, ld = norm(x)
    assert torch.allclose(y.mean(0), torch.zeros(5), atol=1e-4)
    assert torch.allclose(y.std(0), torch.ones(5), atol=1e-4)
    assert torch.allclose(ld, torch.log(norm.scale.abs()).sum().expand(500))
    loc, scale = norm.loc.detach().clone(), norm.scale.detach().clone()
    norm(x * 7 + 3)  # a second batch does not re-initialise
    assert torch.equal(norm.loc, loc) and torch.equal(norm.scale, scale)
    assert int(norm.state_dict()["initialized"]) == 1


def test_actnorm_errors():
    with pytest.raises(ValueError, match="at least 2 samples"):
        ActNorm(3)(torch.zeros(1, 3))
    with pytest.raises(RuntimeError, match="not initialised"):
        ActNorm(3).reverse(torch.zeros(2, 3))


def test_shuffle_restores_exactly_with_zero_logdet():
    s = Shuffle(10, torch.Generator().manual_seed(0))
    x = data(7, 10)
    y, ld = s(x)
    assert not torch.equal(y, x)
    assert torch.equal(s.reverse(y), x)
    assert torch.equal(ld, torch.zeros(7))


def test_factor_iin_split_merge_and_config():
    iin = make_iin()
    assert iin.factor_names == ("a", "b", "residual") and iin.factor_sizes == (3, 2, 3)
    assert iin.factor_slice("b") == slice(3, 5) and iin.factor_index(-1) == 2
    assert iin.factor_mask(["a", "residual"]).tolist() == [True] * 3 + [False] * 2 + [True] * 3
    w = data(4, 8)
    parts = iin.split(w)
    assert [p.shape[1] for p in parts.values()] == [3, 2, 3]
    assert torch.equal(iin.merge(parts), w)
    rebuilt = FactorIIN(**iin.config)
    rebuilt.load_state_dict(iin.state_dict())
    with torch.no_grad():
        iin(data(32, 8))
        rebuilt.load_state_dict(iin.state_dict())
        assert torch.equal(rebuilt(w)[0], iin(w)[0])


def test_shuffles_depend_on_seed_only():
    a, b, c = FactorIIN(8, seed=3), FactorIIN(8, seed=3), FactorIIN(8, seed=4)
    assert all(torch.equal(x.shuffle.perm, y.shuffle.perm) for x, y in zip(a.blocks, b.blocks))
    assert not all(torch.equal(x.shuffle.perm, y.shuffle.perm) for x, y in zip(a.blocks, c.blocks))


def test_bad_inputs_are_clear_errors():
    with pytest.raises(ValueError, match="even"):
        FactorIIN(7)
    with pytest.raises(ValueError, match="sum to dim"):
        FactorIIN(8, [3, 3])
    with pytest.raises(ValueError, match="distinct"):
        FactorIIN(8, [4, 4], ["x", "x"])
    with pytest.raises(ValueError, match="dtype"):
        FactorIIN(8, dtype="float16")
    iin = make_iin()
    with pytest.raises(ValueError, match=r"shape \(N, 8\)"):
        iin(torch.zeros(3, 5))
    with pytest.raises(TypeError, match="floating"):
        iin(torch.zeros(3, 8, dtype=torch.int64))
    with pytest.raises(ValueError, match="unknown factor"):
        iin.factor_slice("colour")
