"""The tour notebook in a real JupyterLab: run all cells, drag a latent slider, see new pixels.

Also the worker-thread rule (docs/architecture.md, "worker threads and contextvars") on the real widgets: the worker thread updates the sliders (select a
dataset image → encode in the worker → new slider values), then a click on the same sliders
widget still reaches Python. (The README's screenshots come from readme_screenshots.py.)
"""

from __future__ import annotations

import time
from pathlib import Path

import jlab
import pytest

pytestmark = pytest.mark.browser

ROOT = Path(__file__).resolve().parents[2]
TOUR = ROOT / "notebooks" / "00_tour.ipynb"
SHOTS = ROOT / "test-artifacts" / "screenshots"

EXPLORER = ".invw-explorer"
SLIDERS = f"{EXPLORER} .invw-view[data-kind=sliders]"

# The decoded image is the explorer's ImageView captioned "decode(z)".
_MARK_DECODED = """() => {
  const views = Array.from(document.querySelectorAll('.invw-explorer .invw-view[data-kind=image]'));
  const v = views.find(v => (v.querySelector('.invw-caption') || {}).textContent === 'decode(z)');
  if (!v) return false;
  v.querySelector('canvas.invw-main').id = 'tour-decoded';
  return true;
}"""
DECODED = "#tour-decoded"


def _pixels(lab: jlab.LabPage) -> list[int]:
    return lab.canvas_pixels(DECODED)["data"]


def _first(lab: jlab.LabPage, selector: str):
    """The first match (the tour shows two explorers: the zoo model's is the first)."""
    return lab.page.locator(selector).first


def _stable_box(lab: jlab.LabPage, selector: str, quiet: float = 0.4, timeout: float = 10.0) -> dict:
    """The element's box once it has not moved for ``quiet`` seconds: JupyterLab renders
    notebook cells lazily as they scroll into view, which shifts the layout for a moment."""
    deadline = time.monotonic() + timeout
    box = _first(lab, selector).bounding_box()
    since = time.monotonic()
    while time.monotonic() < deadline:
        time.sleep(0.05)
        now = _first(lab, selector).bounding_box()
        if now != box:
            box, since = now, time.monotonic()
        elif time.monotonic() - since >= quiet:
            break
    assert box is not None, selector
    return box


def _hit_box(lab: jlab.LabPage, selector: str, attempts: int = 20) -> dict:
    """A stable box of the element whose centre really hits the element: cells rendered lazily
    above it (the tour's image grids) can scroll the page after scroll_into_view."""
    for _ in range(attempts):
        _first(lab, selector).scroll_into_view_if_needed()
        box = _stable_box(lab, selector)
        x, y = box["x"] + box["width"] / 2, box["y"] + box["height"] / 2
        hit = _first(lab, selector).evaluate(
            "(el, p) => document.elementFromPoint(p[0], p[1]) === el", [x, y])
        if hit:
            return box
    raise AssertionError(f"{selector} never came to rest in view")


def _drag(lab: jlab.LabPage, selector: str, frac_from: float, frac_to: float, steps: int = 25):
    box = _hit_box(lab, selector)
    y = box["y"] + box["height"] / 2
    x0 = box["x"] + box["width"] * frac_from
    x1 = box["x"] + box["width"] * frac_to
    lab.page.mouse.move(x0, y)
    lab.page.mouse.down()
    for i in range(1, steps + 1):
        lab.page.mouse.move(x0 + (x1 - x0) * i / steps, y)
    lab.page.mouse.up()


@pytest.fixture
def tour(lab_page, jupyterlab):
    jupyterlab.copy_into_root(TOUR, "00_tour.ipynb")
    lab_page.open_notebook("00_tour.ipynb")
    lab_page.run_all(timeout=240)
    lab_page.page.wait_for_selector(f"{SLIDERS} input[type=range][data-index='0']", timeout=30_000)
    lab_page.page.wait_for_function(_MARK_DECODED, timeout=30_000)
    lab_page.kernel_eval("assert explorer.wait_idle(30)")
    return lab_page


def test_tour_runs_and_slider_drag_changes_canvas_and_python(tour):
    lab = tour
    before = _pixels(lab)
    assert any(v != 0 for v in before), "the decoded image was never drawn"
    slider = f"{SLIDERS} input[type=range][data-index='0']"
    _first(lab, slider).scroll_into_view_if_needed()
    _drag(lab, slider, 0.5, 0.95)
    dom_value = float(_first(lab, slider).input_value())
    lo = float(_first(lab, slider).get_attribute("min"))
    hi = float(_first(lab, slider).get_attribute("max"))
    assert dom_value > lo + 0.75 * (hi - lo)  # dragged well to the right of the middle
    # Python holds the value the slider shows, and the canvas was redrawn from it.
    lab.wait_for_python("round(explorer.sliders.values[0], 4)", str(round(dom_value, 4)))
    assert float(lab.kernel_eval("print(explorer.sliders.values[0])")) == pytest.approx(dom_value)
    lab.kernel_eval("assert explorer.wait_idle(30)")
    lab.page.wait_for_function(
        "(before) => { const c = document.querySelector('#tour-decoded');"
        " const d = c.getContext('2d').getImageData(0, 0, c.width, c.height).data;"
        " return d.some((v, i) => v !== before[i]); }",
        arg=before, timeout=10_000,
    )
    after = _pixels(lab)
    assert after != before
    # The canvas shows what Python decoded for the slider values (within 8-bit rounding).
    expected = lab.kernel_eval(
        "import numpy as np; print(','.join(map(str, explorer.decoded.image[..., 0].ravel().tolist())))"
    ).strip().split(",")
    drawn = after[0::4]  # red channel of a gray image
    assert [int(v) for v in expected] == drawn
    SHOTS.mkdir(parents=True, exist_ok=True)
    lab.page.locator(EXPLORER).first.screenshot(path=str(SHOTS / "latent_explorer.png"))
    assert lab.errors == []


def test_worker_thread_update_then_click_on_same_widget_reaches_python(tour):
    lab = tour
    # The worker thread sets the sliders' values (encode of image 7 → sliders.values).
    lab.kernel_eval("explorer.select(7); assert explorer.wait_idle(30)")
    values_after_thread = lab.kernel_eval("print(explorer.sliders.values)").strip()
    lab.page.wait_for_function(
        "(expected) => { const s = document.querySelector("
        f"\"{SLIDERS} input[type=range][data-index='0']\");"
        " return s && Math.abs(parseFloat(s.value) - expected) < 0.011; }",
        arg=float(lab.kernel_eval("print(explorer.sliders.values[0])")), timeout=10_000,
    )
    # Now a click on the same widget: randomise the latent group.
    _first(lab, f"{SLIDERS} button[data-action=randomize]").click()
    deadline_value = lab.wait_for_python(
        "explorer.sliders.values != " + values_after_thread, "True", timeout=10
    )
    assert deadline_value == "True", "the click after a worker-thread update never reached Python"
    # And a second kind of click: pick a dataset image in the explorer's grid.
    # The explorer's second grid is its dataset picker (the first is the traversal).
    picker = _first(lab, EXPLORER).locator(".invw-view[data-kind=grid]").nth(1)
    picker.locator(".invw-cell[data-index='3']").click()
    expected = lab.kernel_eval("print(explorer.pick_indices[3])").strip()
    assert lab.wait_for_python("explorer.index", expected, timeout=10) == expected
    assert lab.kernel_eval("print(explorer.status, repr(explorer.error))").strip() == "idle ''"
    assert lab.errors == []

