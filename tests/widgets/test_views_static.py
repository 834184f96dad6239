"""The views' front end: shipped files, no network, the DOM contract, valid JavaScript; views are
child models without front-end code, drawn by the one module of their root."""

from __future__ import annotations

import re
import shutil
import subprocess

import numpy as np
import pytest

import invwidgets.widgets.views as views
from invwidgets.widgets.root import ViewRoot
from invwidgets.widgets.views import Chart, ImageView, LatentSliders, SampleGrid, SketchPad, controls
from invwidgets.widgets.views._base import STATIC

JS = (STATIC / "views.js").read_text()
CSS = (STATIC / "views.css").read_text()


def test_views_carry_no_front_end_code_and_their_root_carries_the_one_module():
    for widget in (ImageView(), SampleGrid(), LatentSliders([0.0]), SketchPad(), Chart(),
                   controls.Button("go"), controls.Dropdown(["a", "b"])):
        state = widget.get_state()
        assert "_esm" not in state and "_css" not in state
        assert (state["_model_module"], state["_model_name"]) == ("@jupyter-widgets/base", "WidgetModel")
        assert re.search(rf"\b{widget._kind}: render\w+,", JS), widget._kind
        # Displayed on its own, a view shows in a one-panel root with the one module.
        assert widget._repr_mimebundle_()
        root = widget.__dict__["_standalone_root"]
        assert isinstance(root, ViewRoot) and root._esm == JS and root._css == CSS
        assert root.panels == [widget] and root.sections == [0]
        widget.close()
        assert root.comm is None and widget.comm is None
    for widget in (ImageView(), SampleGrid(), LatentSliders([0.0]), SketchPad(), Chart()):
        for trait in ("status", "error", "progress"):
            assert widget.trait_metadata(trait, "sync")
        widget.close()


def test_nothing_is_fetched_at_run_time():
    assert not re.search(r"^\s*import\s", JS, re.M), "views.js must not import modules"
    assert "fetch(" not in JS and "http://" not in JS and "https://" not in JS
    assert "@import" not in CSS and "url(" not in CSS


def test_dom_contract_of_the_docstring_exists_in_the_front_end():
    doc = views.__doc__
    for name in ("invw-view", "invw-status", "invw-image", "invw-main", "invw-overlay",
                 "invw-colorbar", "invw-vmin", "invw-vmax", "invw-caption", "invw-grid",
                 "invw-cell", "invw-selected", "invw-group", "invw-locked", "invw-slider",
                 "invw-name", "invw-value", "invw-warning", "invw-sketch", "invw-brush"):
        assert name in doc, name
        assert name in JS, name
    for action in ("dismiss", "export", "reset", "randomize", "unlock", "lock", "erase",
                   "clear"):
        assert f'"{action}"' in JS, action
    assert "requestAnimationFrame" in JS and "pixelated" in CSS
    # Keys a focused control uses never reach JupyterLab's shortcuts (JupyterLab 4 skips
    # elements with data-lm-suppress-shortcuts; the root also stops their keydown).
    assert "data-lm-suppress-shortcuts" in JS and "stopPropagation" in JS
    for name in ("invw-root", "invw-section", "invw-row", "invw-col", "invw-panel-label", "invw-view-error",
                 "invw-chart-canvas", "invw-control"):
        assert name in JS and name in CSS, name
    # Listeners are removed when a view goes away.
    assert "model.off(" in JS and "removeEventListener" in JS


@pytest.mark.skipif(shutil.which("node") is None, reason="node is not installed")
def test_javascript_parses(tmp_path):
    module = tmp_path / "views.mjs"
    module.write_text(JS)
    result = subprocess.run(["node", "--check", str(module)], capture_output=True, text=True,
                            timeout=30)
    assert result.returncode == 0, result.stderr


def test_views_render_nothing_on_the_kernel_side_without_a_worker():
    # Plain views do not start the inference worker thread.
    v = ImageView(np.zeros((2, 2)))
    assert v._worker is None
    v.close()
