"""An error from the user's model is marked on the view it concerns, in every explorer kind, and
cleared by refresh() once the model is fixed."""

from __future__ import annotations

import copy

import pytest
import torch

import invwidgets as iw


@pytest.fixture(autouse=True)
def _sync():
    iw.set_sync_mode(True)
    yield
    iw.set_sync_mode(None)


def _breakable(model, method: str):
    """Make ``model.<method>`` raise while ``model.broken`` is true (the user's bug)."""
    original = getattr(model, method)
    model.broken = False

    def patched(*args, **kwargs):
        if model.broken:
            raise RuntimeError(f"{method} broke")
        return original(*args, **kwargs)

    setattr(model, method, patched)
    return model


def _assert_marked(explorer, views, others, text):
    assert explorer.status == "error" and text in explorer.error
    for v in views:
        assert v.status == "error" and text in v.error, v
    for v in others:
        assert v.status != "error", v


def _assert_cleared(explorer, views):
    assert explorer.status == "idle" and explorer.error == ""
    for v in views:
        assert v.status == "idle" and v.error == "", v


def test_invariance_explorer_marks_the_sample_views(build):
    model = _breakable(build.model("invariance"), "decode")
    ex = build("invariance", model)
    try:
        model.broken = True
        ex.set_nuisance([0.5] * ex.d_n)
        _assert_marked(ex, [ex.sample, ex.difference], [ex.original], "decode broke")
        model.broken = False
        assert "frame" in ex.refresh()
        _assert_cleared(ex, [ex.sample, ex.difference])
    finally:
        ex.close()


def test_inversion_explorer_marks_the_sample_grid(build):
    clf = copy.deepcopy(build.model("inversion"))  # the shared zoo classifier stays untouched
    _breakable(clf.fc, "forward")
    ex = build("inversion", clf)
    try:
        clf.fc.broken = True
        ex.resample(seed=7)
        _assert_marked(ex, [ex.samples, ex.entropy], [ex.original], "forward broke")
        clf.fc.broken = False
        assert "samples" in ex.refresh()
        _assert_cleared(ex, [ex.samples, ex.entropy])
    finally:
        ex.close()


def test_response_explorer_marks_the_decoded_views(build):
    model = _breakable(build.model("response"), "decode")
    ex = build("response", model)
    try:
        model.broken = True
        ex.set_latent(torch.full((ex.latent_dim,), 0.25))
        _assert_marked(ex, [ex.decoded, ex.redecoded], [ex.map_magnitude], "decode broke")
        model.broken = False
        assert "intervention" in ex.refresh()
        assert ex.decoded.status == "idle" and ex.redecoded.status == "idle"
    finally:
        ex.close()
