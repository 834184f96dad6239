"""The explorers' one front end in a real JupyterLab: arrow keys move a slider (and not the
notebook), the keyboard picks a chart's cell, a model error is marked on the view it concerns, one status line and one export (a PNG
of the whole explorer) per explorer, nothing overflows an 800 px wide page, and charts follow the
dark theme."""

from __future__ import annotations

import struct
from pathlib import Path

import jlab
import pytest

pytestmark = pytest.mark.browser

CELLS = [
    "import torch\n"
    "torch.set_num_threads(1)\n"
    "from torch import nn\n"
    "import invwidgets as iw\n"
    "class AE(nn.Module):\n"
    "    latent_dim = 4\n"
    "    def __init__(self, size=8):\n"
    "        super().__init__()\n"
    "        g = torch.Generator().manual_seed(0)\n"
    "        self.size = size\n"
    "        self.A = nn.Parameter(torch.randn(size * size, 4, generator=g) / size)\n"
    "        self.B = nn.Parameter(torch.randn(4, size * size, generator=g))\n"
    "    def encode(self, x):\n"
    "        return x.flatten(1) @ self.A\n"
    "    def decode(self, z):\n"
    "        if (z[:, 3] > 2.5).any():\n"
    "            raise ValueError('this decoder refuses z3 > 2.5')\n"
    "        return torch.sigmoid(z @ self.B).view(-1, 1, self.size, self.size)\n"
    "ex = iw.LatentExplorer(AE(), iw.data.digits().subset(range(64)), n_pick=8, span=3.0)\n"
    "ex",
    "rx = iw.ResponseExplorer(AE(16), iw.data.sprites(size=16, rotations=1), n_samples=16, resolution=8,\n"
    "                         n_traversals=1)\n"
    "assert rx.wait_idle(120)\n"
    "rx",
]

SLIDERS = ".invw-explorer .invw-view[data-kind=sliders]"
MATRIX = ".invw-response-matrix canvas.invw-chart-canvas"
DECODED = "#fe-decoded"
# The view of the LatentExplorer's decoded image (captioned "decode(z)").
_MARK_DECODED = """() => {
  const views = Array.from(document.querySelectorAll('.invw-explorer .invw-view[data-kind=image]'));
  const v = views.find(v => (v.querySelector('.invw-caption') || {}).textContent === 'decode(z)');
  if (v) v.id = 'fe-decoded';
  return Boolean(v);
}"""


@pytest.fixture(scope="module")
def lab(chromium, jupyterlab):
    page = jlab.LabPage.new(chromium, jupyterlab)
    path = jupyterlab.write_notebook("frontend_browser.ipynb", CELLS)
    page.open_notebook(path)
    page.run_all(timeout=240)
    page.page.wait_for_selector(f"{SLIDERS} input[type=range][data-index='3']", timeout=60_000)
    page.page.wait_for_function(f"() => (document.querySelector('{MATRIX}') || {{}}).invwHits?.length === 16",
                                timeout=60_000)
    page.kernel_eval("assert ex.wait_idle(30) and rx.wait_idle(60)")
    page.page.wait_for_function(_MARK_DECODED, timeout=30_000)
    yield page
    page.close()


def _active_cell(lab: jlab.LabPage) -> int:
    return lab.eval_js("() => window.jupyterapp.shell.currentWidget.content.activeCellIndex")


def test_arrow_keys_move_a_slider_and_the_value_reaches_python(lab):
    slider = lab.page.locator(f"{SLIDERS} input[type=range][data-index='1']").first
    slider.scroll_into_view_if_needed()
    slider.focus()
    cell = _active_cell(lab)
    start = float(slider.input_value())
    for _ in range(5):
        lab.page.keyboard.press("ArrowRight")
    moved = float(slider.input_value())
    assert moved == pytest.approx(start + 0.05, abs=1e-9)  # five steps of 0.01
    assert lab.wait_for_python("round(ex.sliders.values[1], 4)", str(round(moved, 4))) == str(round(moved, 4))
    lab.page.keyboard.press("ArrowLeft")
    back = float(slider.input_value())
    assert back == pytest.approx(moved - 0.01, abs=1e-9)
    assert lab.wait_for_python("round(ex.sliders.values[1], 4)", str(round(back, 4))) == str(round(back, 4))
    # the notebook did not take the keys (no other cell became active, focus stayed)
    assert _active_cell(lab) == cell
    assert lab.eval_js("() => document.activeElement.matches('input[type=range]')")
    assert lab.errors == []


def test_the_keyboard_picks_a_response_matrix_cell(lab):
    matrix = lab.page.locator(MATRIX).first
    matrix.scroll_into_view_if_needed()
    matrix.focus()
    cell = _active_cell(lab)
    for key in ("ArrowRight", "ArrowRight", "ArrowDown"):  # onto [0, 0], then column 1, then row 1
        lab.page.keyboard.press(key)
    assert "y=" in matrix.get_attribute("aria-label")  # the cell's values, read out
    lab.page.keyboard.press("Enter")
    assert lab.wait_for_python("rx.cell", "(1, 1)") == "(1, 1)"
    assert _active_cell(lab) == cell
    assert lab.errors == []


def test_a_model_error_is_marked_on_its_view_and_cleared_by_the_next_success(lab):
    lab.kernel_eval("ex.set_latent([0.0, 0.0, 0.0, 2.9]); ex.wait_idle(30)")
    decoded = DECODED
    lab.page.wait_for_selector(f"{decoded}.invw-stale .invw-view-error", timeout=20_000)
    message = lab.page.locator(f"{decoded} .invw-view-error").first.inner_text()
    assert "refuses z3 > 2.5" in message
    status = lab.page.locator(".invw-explorer .invw-footer .invw-status").first
    assert status.get_attribute("data-status") == "error" and "refuses" in status.inner_text()
    # the input view did not fail: it is not marked
    assert lab.page.locator(".invw-explorer .invw-view[data-kind=image].invw-stale").count() == 1
    lab.kernel_eval("ex.set_latent([0.0, 0.0, 0.0, 0.0]); ex.wait_idle(30)")
    lab.page.wait_for_function(
        "s => !document.querySelector(s)", arg=f"{decoded}.invw-stale", timeout=20_000)
    assert lab.errors == []


def test_one_status_line_and_one_export_per_explorer_and_the_export_is_a_png(lab):
    counts = lab.eval_js("""() => Array.from(document.querySelectorAll('.invw-explorer')).map(e =>
      [e.querySelectorAll('.invw-status').length, e.querySelectorAll('button[data-action=export]').length])""")
    assert counts == [[1, 1], [1, 1]]
    explorer = lab.page.locator(".invw-response-explorer").first
    button = explorer.locator("button[data-action=export]")
    button.scroll_into_view_if_needed()
    with lab.page.expect_download() as download:
        button.click()
    assert download.value.suggested_filename == "ResponseExplorer.png"
    data = Path(download.value.path()).read_bytes()
    assert data[:8] == b"\x89PNG\r\n\x1a\n"
    width, height = struct.unpack(">II", data[16:24])
    box = explorer.locator(".invw-root").bounding_box()
    # the whole explorer at twice its CSS size: every panel, heading and caption
    assert abs(width - 2 * box["width"]) <= 2 and abs(height - 2 * box["height"]) <= 2
    assert len(data) > 20_000  # pictures, not an empty page
    assert lab.errors == []


def test_nothing_overflows_at_800_px(lab):
    lab.page.set_viewport_size({"width": 800, "height": 900})
    lab.eval_js("() => window.jupyterapp.shell.collapseLeft()")
    lab.page.wait_for_timeout(800)
    report = lab.eval_js("""() => Array.from(document.querySelectorAll('.invw-root')).map(root => {
      const r = root.getBoundingClientRect();
      const out = Array.from(root.querySelectorAll('*'))
        .filter(v => v.offsetParent !== null && v.getBoundingClientRect().right > r.right + 1)
        .map(v => `${v.tagName}.${v.className} ${Math.round(v.getBoundingClientRect().right - r.right)}px`);
      return {width: r.width, scroll: root.scrollWidth, client: root.clientWidth, out};
    })""")
    assert len(report) == 2
    for root in report:
        assert root["width"] <= 800
        assert root["scroll"] <= root["client"] + 1, root
        assert root["out"] == [], root
    lab.page.set_viewport_size({"width": 1280, "height": 900})


def _corner(lab: jlab.LabPage) -> list[int]:
    return lab.canvas_pixels(MATRIX, 1, 1, 1, 1)["data"][:3]


def test_charts_follow_the_dark_theme(lab):
    lab.page.locator(MATRIX).first.scroll_into_view_if_needed()
    assert min(_corner(lab)) > 200  # light theme: a light background
    lab.eval_js("() => window.jupyterapp.commands.execute('apputils:change-theme', {theme: 'JupyterLab Dark'})")
    lab.page.wait_for_function("() => document.body.dataset.jpThemeLight === 'false'", timeout=30_000)
    lab.page.wait_for_function(
        "s => { const c = document.querySelector(s); const d = c.getContext('2d').getImageData(1, 1, 1, 1).data;"
        " return d[0] + d[1] + d[2] < 3 * 100; }", arg=MATRIX, timeout=20_000)
    # the tick labels are drawn in the theme's (light) text colour: some bright pixels remain
    bright = lab.eval_js(
        "s => { const c = document.querySelector(s); const d = c.getContext('2d').getImageData(0, 0, c.width, c.height).data;"
        " let n = 0; for (let k = 0; k < d.length; k += 4) if (d[k] > 180 && d[k+1] > 180 && d[k+2] > 180) n++;"
        " return n; }", MATRIX)
    assert bright > 20
    lab.eval_js("() => window.jupyterapp.commands.execute('apputils:change-theme', {theme: 'JupyterLab Light'})")
    lab.page.wait_for_function("() => document.body.dataset.jpThemeLight === 'true'", timeout=30_000)
    assert lab.errors == []
