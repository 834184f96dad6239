"""FactorExplorer in a real JupyterLab: toggling a factor swap changes the decoded image on the
page (the canvas shows what Python decoded), and drawing on a sketch pad reaches Python."""

from __future__ import annotations

import pytest

pytestmark = pytest.mark.browser

CELLS = [
    "import torch\n"
    "torch.set_num_threads(1)\n"
    "from invwidgets import zoo\n"
    "from invwidgets.models.iin import FactorIIN\n"
    "from invwidgets.widgets.explorers import FactorExplorer\n"
    "from invwidgets.zoo.entries_factors import init_iin\n"
    "ae = zoo.load('ae-color-digits-s0')\n"
    "test = zoo.test_split('ae-color-digits-s0')\n"
    "# the page plumbing is under test, not the IIN: a seeded, data-initialised one will do\n"
    "iin = init_iin(FactorIIN(16, [6, 4, 6], ['digit', 'color', 'residual'], n_blocks=2, hidden=16),\n"
    "               torch.Generator().manual_seed(0))\n"
    "with torch.no_grad():\n"
    "    iin(ae.encode(test.images))\n"
    "explorer = FactorExplorer(ae, iin, decoder=ae, dataset=test, n_pick=8, n_scatter=100)\n"
    "explorer.select(source=0, target=3)\n"
    "explorer",
]

_MARK_SWAP = """() => {
  const views = Array.from(document.querySelectorAll('.invw-explorer .invw-view[data-kind=image]'));
  const v = views.find(v => (v.querySelector('.invw-caption') || {}).textContent === "target with source's factors");
  if (!v) return false;
  v.querySelector('canvas.invw-main').id = 'factor-swap';
  const pads = document.querySelectorAll('.invw-explorer .invw-view[data-kind=sketch] canvas.invw-main');
  if (pads.length < 2) return false;
  pads[0].id = 'factor-sketch-a';
  return true;
}"""
SWAP = "#factor-swap"
TOGGLE = ".invw-explorer .invw-swap-color button"


def test_toggle_a_factor_swap_and_draw_a_sketch(lab_page, jupyterlab):
    lab = lab_page
    path = jupyterlab.write_notebook("factors_browser.ipynb", CELLS)
    lab.open_notebook(path)
    lab.run_all(timeout=180)
    lab.page.wait_for_selector(TOGGLE, timeout=30_000)
    lab.page.wait_for_function(_MARK_SWAP, timeout=30_000)
    lab.kernel_eval("assert explorer.wait_idle(60)")
    before = lab.canvas_pixels(SWAP)["data"]
    assert any(v != 0 for v in before), "the swap result was never drawn"

    lab.page.locator(TOGGLE).scroll_into_view_if_needed()
    lab.page.locator(TOGGLE).click()
    assert lab.wait_for_python("explorer.swap", "['color']") == "['color']"
    lab.kernel_eval("assert explorer.wait_idle(60)")
    lab.page.wait_for_function(
        "(before) => { const c = document.querySelector('#factor-swap');"
        " const d = c.getContext('2d').getImageData(0, 0, c.width, c.height).data;"
        " return d.some((v, i) => v !== before[i]); }",
        arg=before, timeout=10_000,
    )
    after = lab.canvas_pixels(SWAP)["data"]
    expected = lab.kernel_eval("print(','.join(map(str, explorer.swap_view.image.ravel().tolist())))").strip().split(",")
    rgb = [v for i, v in enumerate(after) if i % 4 != 3]
    assert [int(v) for v in expected] == rgb  # the page shows what Python decoded

    # draw a stroke on sketch A: its pixels reach Python
    pad = lab.page.locator("#factor-sketch-a")
    pad.scroll_into_view_if_needed()
    box = pad.bounding_box()
    assert box is not None
    lab.page.mouse.move(box["x"] + box["width"] * 0.2, box["y"] + box["height"] * 0.5)
    lab.page.mouse.down()
    for i in range(1, 11):
        lab.page.mouse.move(box["x"] + box["width"] * (0.2 + 0.06 * i), box["y"] + box["height"] * 0.5)
    lab.page.mouse.up()
    assert lab.wait_for_python("bool(explorer.sketch_a.array.sum() > 0)", "True") == "True"
    assert lab.kernel_eval("print(explorer.status, repr(explorer.error))").strip() == "idle ''"
    assert lab.errors == []
