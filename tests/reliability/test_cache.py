"""A cached result belongs to the widget that computed it, for the model state it came from."""

from __future__ import annotations

import numpy as np
import pytest
import torch

import invwidgets as iw
from invwidgets.widgets.base import identity_token, state_fingerprint
from invwidgets.worker import get_worker


@pytest.fixture(autouse=True)
def _sync():
    iw.set_sync_mode(True)
    yield
    iw.set_sync_mode(None)


def _pixels(view) -> np.ndarray:
    return np.asarray(view.image).astype(int)


def _shown(kind: str, ex) -> list[np.ndarray]:
    """The pixels of the views that show model output, per kind."""
    names = {
        "latent": ["decoded", "traversal"],
        "factor": ["swap_view", "interp_iin_view", "resample_grid"],
        "invariance": ["sample"],
        "inversion": ["samples"],
        "response": ["decoded"],
    }[kind]
    views = [getattr(ex, n) for n in names]
    out = []
    for v in views:
        img = v.image if hasattr(v, "image") and not callable(v.image) else v.images
        assert img is not None, (kind, v)
        out.append(np.asarray(img).astype(int))
    return out


@pytest.mark.parametrize("kind", ["latent", "invariance", "factor", "response"])
def test_explorers_over_different_models_never_show_each_others_pixels(build, kind):
    # (the inversion explorer's model is the shipped classifier: see the next test)
    first = build(kind, build.model(kind, seed=0))
    second = build(kind, build.model(kind, seed=1))
    again = build(kind, build.model(kind, seed=1))
    try:
        for a, b, c in zip(_shown(kind, first), _shown(kind, second), _shown(kind, again)):
            assert not np.array_equal(a, b), kind
            assert np.array_equal(b, c), kind  # the same model shows the same pixels
    finally:
        for ex in (first, second, again):
            ex.close()


def test_inversion_explorers_over_different_inversion_sets_differ(build):
    import copy

    a = build("inversion")
    inv = copy.deepcopy(a.inversions)
    with torch.no_grad():
        for p in inv.parameters():
            p.add_(torch.randn(p.shape, generator=torch.Generator().manual_seed(0)) * 0.5)
    b = build("inversion", inversions=inv)
    try:
        assert not np.array_equal(a.sample_images(), b.sample_images())
    finally:
        a.close()
        b.close()


def test_factor_explorer_with_another_decoder_or_head_shows_its_own_results(build):
    ae = build.model("factor")
    plain = build("factor", ae)
    inverted = build("factor", ae, decoder=lambda z: 1 - ae.decode(z))
    headless = build("factor", ae, decoder=None)
    w = torch.randn(10, 4, generator=torch.Generator().manual_seed(2))
    with_head = build("factor", ae, classifier_head=lambda z: z @ w.T)
    try:
        a, b = _pixels(plain.swap_view), _pixels(inverted.swap_view)
        assert np.abs(a + b - 255).max() <= 1  # 1 - decode, up to rounding
        assert headless.swap_view.image is None
        assert sum(with_head.hist_fig.data[0].y) == with_head.n_hist
        assert sum(plain.hist_fig.data[0].y) == 0
    finally:
        for ex in (plain, inverted, headless, with_head):
            ex.close()


def test_latent_explorer_cache_depends_on_the_output_transform(build):
    model = build.model("latent")
    a = build("latent", model)
    b = build("latent", model, output_transform=lambda x: 1 - x)
    try:
        assert np.abs(_pixels(a.decoded) + _pixels(b.decoded) - 255).max() <= 1
    finally:
        a.close()
        b.close()


@pytest.mark.parametrize("kind", ["latent", "response"])
def test_an_in_place_weight_update_changes_the_next_frame(build, kind):
    model = build.model(kind)
    ex = build(kind, model)
    try:
        values = list(ex.sliders.values)
        first = _pixels(ex.decoded)
        with torch.no_grad():  # an optimiser step, in place
            model.B.mul_(-1)
        moved = list(values)
        moved[0] = values[0] + 0.1
        ex.sliders.values = moved
        ex.sliders.values = values  # back to the frame that was computed (and cached) before
        assert ex.wait_idle(30)
        after = _pixels(ex.decoded)
        assert not np.array_equal(first, after)
        fresh = build(kind, model)  # a new explorer shows the new weights too
        try:
            assert np.array_equal(after, _pixels(fresh.decoded))
        finally:
            fresh.close()
    finally:
        ex.close()


def test_factor_explorer_after_an_in_place_update_recomputes_the_swap(build):
    ae = build.model("factor")
    ex = build("factor", ae)
    try:
        before = _pixels(ex.swap_view)
        with torch.no_grad():
            ae.B.mul_(-1)
        ex.swap = ["digit"]
        ex.swap = []  # same request as before: served from the cache only if nothing changed
        assert not np.array_equal(before, _pixels(ex.swap_view))
    finally:
        ex.close()


def test_explorers_do_not_use_the_shared_worker_cache_and_drop_their_own_on_close(build):
    shared = get_worker("cpu")._cache
    n = len(shared)
    ex = build("latent")
    ex.sliders.values = [0.1] * ex.latent_dim
    cache = ex._result_cache
    assert len(cache) > 0 and len(shared) == n
    ex.close()
    assert len(cache) == 0


def test_identity_tokens_are_never_reused():
    class Thing:
        pass

    seen, addresses = set(), set()
    for _ in range(200):
        t = Thing()
        token = identity_token(t)
        assert identity_token(t) == token
        assert token not in seen
        seen.add(token)
        addresses.add(id(t))
        del t  # freed at once (no cycle): the next Thing usually gets the same address
    assert len(addresses) < len(seen)  # addresses were reused, tokens were not


def test_fingerprint_follows_parameters_buffers_and_closures():
    m = torch.nn.BatchNorm1d(3)
    f0 = state_fingerprint(m)
    with torch.no_grad():
        m.weight.add_(1)
    f1 = state_fingerprint(m)
    m.running_mean.add_(1)  # a buffer
    f2 = state_fingerprint(m)
    m.eval()
    f3 = state_fingerprint(m)
    assert len({f0, f1, f2, f3}) == 4
    lin = torch.nn.Linear(2, 2)
    fn = lambda z: 1 - lin(z)  # noqa: E731
    g0 = state_fingerprint(fn)
    with torch.no_grad():
        lin.bias.zero_()
    assert state_fingerprint(fn) != g0
    assert state_fingerprint((1, "a", None)) == (1, "a", None)
