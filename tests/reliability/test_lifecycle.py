"""After close() (or a constructor that raised), nothing an explorer took stays alive: not the
explorer, its views and figures, the user's model, its widgets in ipywidgets' registry, nor its
hold on the worker."""

from __future__ import annotations

import ctypes
import gc
import weakref

import ipywidgets
import psutil
import pytest
import torch

import invwidgets as iw
from invwidgets.widgets.explorers.base import Explorer
from invwidgets.widgets.views import Chart
from invwidgets.worker import get_worker

KINDS = ["latent", "invariance", "factor", "inversion", "response"]
registry = ipywidgets.widgets.widget._instances


@pytest.fixture(autouse=True)
def _sync():
    iw.set_sync_mode(True)
    yield
    iw.set_sync_mode(None)


def _cycle(build, kind: str, model=None) -> None:
    ex = build(kind, model)
    assert ex.wait_idle(60)
    ex.close()


@pytest.mark.parametrize("kind", KINDS)
def test_a_closed_explorer_its_views_figures_and_model_are_collectable(build, kind):
    _cycle(build, kind)  # the first one loads data, compiles, imports
    gc.collect()
    widgets_before = len(registry)
    model = build.model(kind)
    ex = build(kind, model)
    assert ex.wait_idle(60)
    children = [w for w in ex._invw_created if isinstance(w, ipywidgets.Widget)]
    assert any(isinstance(w, iw.ImageView) or isinstance(w, iw.SampleGrid) for w in children)
    refs = [weakref.ref(o) for o in (ex, *children)]
    figures = [weakref.ref(w) for w in children if isinstance(w, Chart)]
    model_ref = weakref.ref(model) if kind != "inversion" else None  # that one is the shipped model
    ex.close()
    del ex, children, model
    gc.collect()
    assert len(registry) == widgets_before
    assert [r for r in refs if r() is not None] == []
    assert [r for r in figures if r() is not None] == []
    if model_ref is not None:
        assert model_ref() is None


def test_a_closed_explorer_that_is_still_referenced_lets_go_of_its_model(build):
    model = build.model("latent")
    ex = build("latent", model)
    ref = weakref.ref(model)
    ex.close()  # ``ex`` stays, as in a notebook's output history
    del model
    gc.collect()
    assert ref() is None
    assert ex.model is None and ex.decoded is None


def _settled_rss(proc: psutil.Process) -> int:
    """RSS after a collection and, with glibc, after returning freed heap pages to the system,
    so that allocator fragmentation does not read as a leak (a leak is also caught exactly by
    the object and registry counts)."""
    gc.collect()
    try:
        ctypes.CDLL("libc.so.6").malloc_trim(0)
    except (OSError, AttributeError):
        pass
    return proc.memory_info().rss


@pytest.mark.parametrize("kind", KINDS)
def test_memory_stays_flat_over_50_open_close_cycles(build, kind):
    for _ in range(20):  # warm-up: caches, allocator pools, lazy imports
        _cycle(build, kind)
    proc = psutil.Process()
    widgets, objects = len(registry), len(gc.get_objects())
    start = _settled_rss(proc)
    for _ in range(50):
        _cycle(build, kind)
    grown = (_settled_rss(proc) - start) / 2**20
    assert len(registry) == widgets
    assert len(gc.get_objects()) - objects < 500  # nothing accumulates per cycle
    assert grown < 8, f"{kind}: RSS grew {grown:.1f} MB over 50 cycles"


def test_a_large_model_is_freed_with_its_explorer(build):
    class Big(torch.nn.Module):  # 64 MB of weights behind a tiny autoencoder
        def __init__(self) -> None:
            super().__init__()
            self.ae = build.model("latent")
            self.ballast = torch.nn.Parameter(torch.zeros(16 * 2**20))

        def encode(self, x):
            return self.ae.encode(x)

        def decode(self, z):
            return self.ae.decode(z)

    _cycle(build, "latent", Big())
    gc.collect()
    proc = psutil.Process()
    start = proc.memory_info().rss
    for _ in range(5):
        _cycle(build, "latent", Big())
    gc.collect()
    assert (proc.memory_info().rss - start) / 2**20 < 32


class Broken(RuntimeError):
    pass


@pytest.mark.parametrize("kind", KINDS)
def test_a_constructor_that_raises_releases_the_worker_and_closes_its_widgets(build, kind, monkeypatch):
    build(kind).close()
    gc.collect()
    worker = get_worker("cpu")
    users, widgets = worker.users, len(registry)

    def broken(self, *tree):
        raise Broken("layout failed")

    monkeypatch.setattr(Explorer, "set_layout", broken)  # every explorer lays out its panels once built
    for _ in range(4):
        with pytest.raises(Broken):
            build(kind)
    gc.collect()
    assert worker.users == users
    assert len(registry) == widgets


def test_a_model_that_fails_in_the_constructor_leaves_nothing_behind(build):
    class Failing(torch.nn.Module):
        def __init__(self) -> None:
            super().__init__()
            self.ae = build.model("latent")

        def encode(self, x):
            raise RuntimeError("encoder broke")

        def decode(self, z):
            return self.ae.decode(z)

    worker = get_worker("cpu")
    users, widgets = worker.users, len(registry)
    model = Failing()
    ref = weakref.ref(model)
    with pytest.raises(RuntimeError, match="encoder broke"):
        build("latent", model)
    del model
    gc.collect()
    assert worker.users == users and len(registry) == widgets
    assert ref() is None


@pytest.mark.parametrize("kind", ["latent", "response"])
def test_an_explorer_whose_comm_the_host_closes_is_closed_with_it(build, kind):
    """marimo closes a re-run cell's comms without calling the widgets' close(): the explorer
    must still let go of its models, widgets and worker."""
    _cycle(build, kind)
    gc.collect()
    widgets_before, users_before = len(registry), get_worker("cpu").users
    model = build.model(kind)
    ex = build(kind, model)
    assert ex.wait_idle(60)
    assert get_worker("cpu").users == users_before + 1
    ref = weakref.ref(model)
    ex.comm.close()  # what the host does; not ex.close()
    del model
    gc.collect()
    assert ex.__dict__.get("_invw_closed") and ex.comm is None
    assert len(registry) == widgets_before and get_worker("cpu").users == users_before
    assert ref() is None


def test_a_row_whose_comm_the_host_closes_is_closed_and_close_still_works():
    views = [iw.ImageView(torch.zeros(1, 4, 4)) for _ in range(2)]
    row = iw.Row(*views)
    row.comm.close()
    assert row.comm is None and all(v.comm is not None for v in views)  # the views stay usable
    row.close()  # a second close is harmless
    for v in views:
        v.close()
