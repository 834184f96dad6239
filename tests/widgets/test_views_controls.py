"""The explorers' controls: ipywidgets-like values and callbacks, synced for the root's drawing."""

from __future__ import annotations

import pytest
import traitlets

from invwidgets.widgets.views import controls as ui


def test_a_dropdown_keeps_value_and_index_together():
    d = ui.Dropdown(options=[("first", 10), ("second", 20)], value=20, description="pick")
    assert (d.value, d.index, d._labels, d.options) == (20, 1, ["first", "second"], (10, 20))
    d.set_state({"index": 0})  # what the browser sends
    assert d.value == 10
    d.value = 20
    assert d.index == 1
    with pytest.raises(traitlets.TraitError, match="not one of"):
        d.value = 30
    d.set_state({"index": 7})  # out of range from a stale page: ignored
    assert d.value == 20
    d.close()


def test_a_button_click_from_the_browser_runs_the_callbacks_unless_disabled():
    b = ui.Button(description="go")
    clicks = []
    b.on_click(lambda button: clicks.append(button))
    b._handle_custom_msg({"action": "click"}, [])
    b.click()
    assert clicks == [b, b]
    b.disabled = True
    b._handle_custom_msg({"action": "click"}, [])
    assert len(clicks) == 2
    b.close()


def test_sliders_and_number_boxes_clip_into_their_range():
    s = ui.FloatSlider(value=0.5, min=0.0, max=1.0, step=0.05)
    s.set_state({"value": 3.0})
    assert s.value == 1.0
    i = ui.BoundedIntText(value=4, min=0, max=9)
    i.value = -3
    assert i.value == 0
    with pytest.raises(ValueError, match="below max"):
        ui.IntSlider(value=0, min=5, max=5)
    for w in (s, i):
        w.close()


def test_controls_are_panels_without_front_end_code():
    for w in (ui.ToggleButton(True, "t"), ui.ToggleButtons(["a", "b"]), ui.SelectionSlider([1, 2, 3], 2),
              ui.Text("x"), ui.HTML("<b>x</b>")):
        state = w.get_state()
        assert state["_kind"] == "control" and state["control"] and "_esm" not in state
        w.close()
