"""The visible state says what is true: busy while a request runs long, the error on the view it
concerns until that view succeeds again, and refresh() after the model is fixed."""

from __future__ import annotations

import threading
import time

import torch

import invwidgets as iw
from invwidgets.data import digits
from invwidgets.widgets import LatentExplorer


class Switchable(torch.nn.Module):
    """A linear autoencoder on 8×8 images whose decode() can fail or block."""

    def __init__(self) -> None:
        super().__init__()
        g = torch.Generator().manual_seed(0)
        self.A = torch.nn.Parameter(torch.randn(64, 2, generator=g) / 8)
        self.B = torch.nn.Parameter(torch.randn(2, 64, generator=g))
        self.fail = False
        self.gate = threading.Event()
        self.gate.set()
        self.entered = threading.Event()

    def encode(self, x: torch.Tensor) -> torch.Tensor:
        return x.flatten(1) @ self.A

    def decode(self, z: torch.Tensor) -> torch.Tensor:
        self.entered.set()
        assert self.gate.wait(30)
        if self.fail:
            raise RuntimeError("decoder broke")
        return torch.sigmoid(z @ self.B).view(-1, 1, 8, 8)


def _explorer(model: Switchable) -> LatentExplorer:
    ex = LatentExplorer(model, digits().subset(range(16)), device="cpu", n_pick=2, n_traversal=3)
    assert ex.wait_idle(30)
    return ex


def test_a_model_error_shows_on_its_view_and_refresh_clears_it_once_fixed():
    iw.set_sync_mode(True)
    model = Switchable()
    ex = _explorer(model)
    try:
        before = ex.decoded.image.copy()
        model.fail = True
        ex.sliders.values = [0.3, -0.2]
        assert ex.status == "error" and "decoder broke" in ex.error
        assert ex.decoded.status == "error" and "decoder broke" in ex.decoded.error
        assert (ex.decoded.image == before).all()  # the old picture stays, marked by the error
        assert ex.original.status == "idle"  # a view the failure does not concern
        model.fail = False
        rerun = ex.refresh()
        assert "decode" in rerun
        assert ex.status == "idle" and ex.error == ""
        assert ex.decoded.status == "idle" and ex.decoded.error == ""
        assert not (ex.decoded.image == before).all()
        assert ex.refresh() == []  # nothing failed any more
    finally:
        ex.close()
        iw.set_sync_mode(None)


def test_an_error_on_one_view_stays_until_that_view_succeeds():
    iw.set_sync_mode(True)
    model = Switchable()
    ex = _explorer(model)
    try:
        model.fail = True
        ex.sliders.values = [0.3, -0.2]
        model.fail = False
        ex.sliders.selected = 1  # only the traversal is recomputed, and succeeds
        assert ex.traversal.status == "idle"
        assert ex.decoded.status == "error" and ex.status == "error"
        ex.sliders.values = [0.1, 0.1]  # the decoded view succeeds
        assert ex.decoded.status == "idle" and ex.status == "idle"
    finally:
        ex.close()
        iw.set_sync_mode(None)


def test_a_long_interactive_request_shows_busy_and_a_quick_one_does_not():
    iw.set_sync_mode(False)
    model = Switchable()
    ex = _explorer(model)
    seen: list[str] = []
    ex.decoded.observe(lambda ch: seen.append(ch["new"]), names="status")
    ex.observe(lambda ch: seen.append("explorer:" + ch["new"]), names="status")
    try:
        for v in (0.1, 0.2, 0.3):  # quick frames: no busy/idle messages
            ex.sliders.values = [v, v]
            assert ex.wait_idle(30)
        assert seen == []
        model.gate.clear()
        model.entered.clear()
        ex.sliders.values = [0.5, 0.5]
        assert model.entered.wait(30)
        deadline = time.monotonic() + 30  # a guard against hanging, not a time limit
        while ex.decoded.status != "busy" and time.monotonic() < deadline:
            time.sleep(0.01)
        assert ex.decoded.status == "busy" and ex.status == "busy"
        model.gate.set()
        assert ex.wait_idle(30)
        assert ex.decoded.status == "idle" and ex.status == "idle"
        assert sorted(seen) == ["busy", "explorer:busy", "explorer:idle", "idle"]
    finally:
        model.gate.set()
        ex.close()
        iw.set_sync_mode(None)


def test_the_front_end_shows_not_connected_when_the_kernel_is_gone():
    from invwidgets.widgets.views._base import STATIC

    js = (STATIC / "views.js").read_text()
    css = (STATIC / "views.css").read_text()
    assert 'on("comm_live_update"' in js and 'on("comm:close"' in js
    assert "jupyter-widgets-disconnected" in js and "not connected" in js
    assert '[data-status="disconnected"]' in css and ".invw-stale" in css
