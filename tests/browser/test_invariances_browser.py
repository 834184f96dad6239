"""InvarianceExplorer in a real JupyterLab: drag a nuisance slider, see the sample's pixels change
while the latent classifier's predicted class stays (it reads z_c only); class sliders are locked."""

from __future__ import annotations

import jlab
import pytest

pytestmark = pytest.mark.browser

EXPLORER = ".invw-explorer"
SLIDERS = f"{EXPLORER} .invw-view[data-kind=sliders]"
LATENT_CLASS = f"{EXPLORER} .invw-invariance-readout tr[data-classifier=latent] .invw-class"

CELLS = [
    "import torch\n"
    "torch.set_num_threads(1)\n"
    "from invwidgets import zoo\n"
    "from invwidgets.widgets.explorers import InvarianceExplorer\n"
    "model, base = zoo.load('svae-digits'), zoo.load('baseline-digits')\n"
    "test = zoo.test_split('svae-digits')\n"
    "explorer = InvarianceExplorer(model, test, base, k=4)\n"
    "explorer",
]

_MARK_SAMPLE = """() => {
  const views = Array.from(document.querySelectorAll('.invw-explorer .invw-view[data-kind=image]'));
  const v = views.find(v => (v.querySelector('.invw-caption') || {}).textContent === "sample x'");
  if (!v) return false;
  v.querySelector('canvas.invw-main').id = 'inv-sample';
  return true;
}"""
SAMPLE = "#inv-sample"


def _drag(lab: jlab.LabPage, selector: str, frac_from: float, frac_to: float, steps: int = 20) -> None:
    box = lab.page.locator(selector).bounding_box()
    assert box is not None, selector
    y = box["y"] + box["height"] / 2
    x0, x1 = box["x"] + box["width"] * frac_from, box["x"] + box["width"] * frac_to
    lab.page.mouse.move(x0, y)
    lab.page.mouse.down()
    for i in range(1, steps + 1):
        lab.page.mouse.move(x0 + (x1 - x0) * i / steps, y)
    lab.page.mouse.up()


def test_dragging_a_nuisance_slider_changes_the_sample_but_not_the_class(lab_page, jupyterlab):
    lab = lab_page
    path = jupyterlab.write_notebook("invariances_browser.ipynb", CELLS)
    lab.open_notebook(path)
    lab.run_all(timeout=180)
    lab.page.wait_for_selector(f"{SLIDERS} input[type=range][data-index='4']", timeout=30_000)
    lab.page.wait_for_function(_MARK_SAMPLE, timeout=30_000)
    lab.kernel_eval("assert explorer.wait_idle(60)")
    lab.page.wait_for_selector(LATENT_CLASS, timeout=30_000)

    # class sliders (indices 0..d_c-1) are locked in the page; nuisance sliders are not
    assert lab.page.locator(f"{SLIDERS} input[type=range][data-index='0']").is_disabled()
    nuisance = f"{SLIDERS} input[type=range][data-index='4']"
    assert not lab.page.locator(nuisance).is_disabled()

    class_before = lab.page.locator(LATENT_CLASS).inner_text()
    py_before = lab.kernel_eval("print(explorer.prediction['latent'])").strip()
    before = lab.canvas_pixels(SAMPLE)["data"]
    assert any(v != 0 for v in before), "the sample was never drawn"

    lab.page.locator(nuisance).scroll_into_view_if_needed()
    start = (float(lab.page.locator(nuisance).input_value()) + 3) / 6
    target = 0.05 if start > 0.5 else 0.95
    _drag(lab, nuisance, start, target)
    dom_value = float(lab.page.locator(nuisance).input_value())
    assert abs(dom_value - (6 * start - 3)) > 1.5, "the drag did not move the slider"
    lab.wait_for_python("round(explorer.sliders.values[4], 4)", str(round(dom_value, 4)))
    lab.kernel_eval("assert explorer.wait_idle(60)")
    lab.page.wait_for_function(
        "(before) => { const c = document.querySelector('#inv-sample');"
        " const d = c.getContext('2d').getImageData(0, 0, c.width, c.height).data;"
        " return d.some((v, i) => v !== before[i]); }",
        arg=before, timeout=10_000,
    )
    after = lab.canvas_pixels(SAMPLE)["data"]
    # The canvas shows what Python decoded, with its attribution heatmap blended in exactly as
    # to_png() blends it (the red channel of the view's native-resolution picture).
    expected = lab.kernel_eval(
        "print(','.join(map(str, explorer.sample._render()[..., 0].ravel().tolist())))"
    ).strip().split(",")
    assert [int(v) for v in expected] == after[0::4]

    # the latent classifier's class and probability did not move, in Python and on the page
    assert lab.kernel_eval("print(explorer.prediction['latent'])").strip() == py_before
    assert lab.page.locator(LATENT_CLASS).inner_text() == class_before
    assert lab.kernel_eval("print(explorer.status, repr(explorer.error))").strip() == "idle ''"
    assert lab.errors == []
