"""What an explorer sends the browser: its front-end code once (on its root, none on its panels),
and under 1 MB of comm state in all, whatever its number of charts."""

from __future__ import annotations

import json

import ipywidgets
import pytest
from ipywidgets.widgets.widget import _remove_buffers

import invwidgets as iw

KINDS = ["latent", "invariance", "factor", "inversion", "response"]
registry = ipywidgets.widgets.widget._instances


def _size(w: ipywidgets.Widget) -> tuple[int, int]:
    """(bytes of comm state, bytes of front-end code in it) of one widget."""
    state, _, buffers = _remove_buffers(w.get_state())
    code = len(state.get("_esm", "")) + len(state.get("_css", ""))
    return len(json.dumps(state)) + sum(memoryview(b).nbytes for b in buffers), code


def _built(build, kind: str):
    before = set(registry)
    ex = build(kind)
    assert ex.wait_idle(60)
    return ex, [w for k, w in list(registry.items()) if k not in before]


@pytest.mark.parametrize("kind", KINDS)
def test_an_explorer_carries_its_code_once_and_stays_under_a_megabyte(build, kind):
    ex, widgets = _built(build, kind)
    try:
        sizes = {id(w): _size(w) for w in widgets}
        assert [w for w in widgets if sizes[id(w)][1]] == [ex]  # only the root has code
        assert sum(s for s, _ in sizes.values()) < 1_000_000
        charts = [w for w in widgets if isinstance(w, iw.widgets.Chart)]
        # a chart is its figure's data, no chart library and no plotly template
        assert all(_size(c)[0] < 50_000 and "template" not in c._figure["layout"] for c in charts)
    finally:
        ex.close()


def test_a_second_explorer_adds_its_panels_and_one_module(build):
    first, widgets_a = _built(build, "response")
    second, widgets_b = _built(build, "response")
    try:
        assert len(widgets_a) == len(widgets_b)
        code = [c for w in widgets_a + widgets_b if (c := _size(w)[1])]
        assert len(code) == 2 and code[0] == code[1]  # the same module, once per explorer
    finally:
        first.close()
        second.close()
