"""The views in Notebook 7 (not only JupyterLab): they render, a click reaches Python, and arrow
keys move a slider (not the notebook's cell selection)."""

from __future__ import annotations

import jlab
import pytest

pytestmark = pytest.mark.browser

# Notebook 7.6 with the harness's isolated settings directory raises this page error on load,
# also for a notebook without any widget (checked with a notebook holding only `1 + 1`): it
# is Notebook's, not ours, and every other page error still fails the test.
NOTEBOOK7_OWN_ERROR = "Cannot read properties of undefined (reading 'schema')"

CELLS = [
    "import invwidgets as iw\n"
    "view = iw.ImageView(iw.data.digits().images[0], caption='digit')\n"
    "view",
    "grid = iw.SampleGrid(iw.data.digits().images[:6], ncols=3)\n"
    "grid",
    "sliders = iw.LatentSliders([0.0, 0.5], names=['a', 'b'])\n"
    "sliders",
]


@pytest.fixture(scope="module")
def notebook7(chromium):
    server = jlab.start_jupyterlab(nodelay=True, app="notebook")
    yield server
    server.stop()


def test_views_render_and_click_reaches_python_in_notebook7(chromium, notebook7):
    path = notebook7.write_notebook("nb7.ipynb", CELLS)
    lab = jlab.LabPage.new(chromium, notebook7)
    try:
        lab.path = path
        lab.page.goto(notebook7.url(f"notebooks/{path}"))
        lab.wait_kernel_idle(90)
        lab.run_all()
        canvas = ".invw-view[data-kind=image] canvas.invw-main"
        lab.page.wait_for_selector(canvas, timeout=30_000)
        px = lab.canvas_pixels(canvas)
        expected = lab.kernel_eval(
            "print(','.join(map(str, view.image[..., 0].ravel().tolist())))").strip().split(",")
        assert (px["width"], px["height"]) == (8, 8)
        assert px["data"][0::4] == [int(v) for v in expected]
        lab.page.locator(".invw-view[data-kind=grid] .invw-cell[data-index='4']").click()
        assert lab.wait_for_python("grid.selected", "4") == "4"
        slider = lab.page.locator(".invw-view[data-kind=sliders] input[type=range][data-index='1']")
        slider.focus()
        cell = lab.eval_js("() => document.querySelectorAll('.jp-Cell.jp-mod-active').length")
        for _ in range(3):
            lab.page.keyboard.press("ArrowRight")
        assert float(slider.input_value()) == pytest.approx(0.53)
        assert lab.wait_for_python("round(sliders.values[1], 4)", "0.53") == "0.53"
        assert lab.eval_js("() => document.activeElement.matches('input[type=range]')")
        assert lab.eval_js("() => document.querySelectorAll('.jp-Cell.jp-mod-active').length") == cell
        assert [e for e in lab.errors if NOTEBOOK7_OWN_ERROR not in e] == []
    finally:
        lab.close()
