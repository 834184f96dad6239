"""InversionExplorer in a real JupyterLab: changing the layer in the dropdown reaches Python and
redraws the sample grid with samples of the new layer's inversion model."""

from __future__ import annotations

import jlab
import pytest

pytestmark = pytest.mark.browser

CELLS = [
    "import torch\n"
    "torch.set_num_threads(1)\n"
    "from invwidgets import zoo\n"
    "from invwidgets.widgets.explorers import InversionExplorer\n"
    "ckpts = zoo.load('cnn-digits-ckpts-s0')\n"
    "test = zoo.test_split('inv-digits-s0').subset(range(100))\n"
    "explorer = InversionExplorer(ckpts.final, ['input', 'conv1', 'conv2', 'fc', 'logits'], test,\n"
    "                             zoo.load('inv-digits-s0'), n_samples=8, n_boot=50)\n"
    "explorer",
]

_MARK_SAMPLES = """(layer) => {
  const grids = Array.from(document.querySelectorAll('.invw-explorer .invw-view[data-kind=grid]'));
  const g = grids.find(g => ((g.querySelector('.invw-caption') || {}).textContent || '').startsWith(layer + ' #'));
  if (!g) return false;
  g.querySelector('.invw-cell[data-index="0"] canvas.invw-main').id = 'inv-first-sample';
  return true;
}"""
FIRST = "#inv-first-sample"
DROPDOWN = ".invw-explorer .invw-control[data-control=dropdown] select"


def _all_cells(lab: jlab.LabPage) -> list[list[int]]:
    return lab.eval_js(
        "() => { const g = document.querySelector('#inv-first-sample').closest('.invw-grid');"
        " return Array.from(g.querySelectorAll('canvas.invw-main')).map(c =>"
        " Array.from(c.getContext('2d').getImageData(0, 0, c.width, c.height).data)); }")


def test_changing_the_layer_redraws_the_samples(lab_page, jupyterlab):
    lab = lab_page
    path = jupyterlab.write_notebook("inversion_browser.ipynb", CELLS)
    lab.open_notebook(path)
    lab.run_all(timeout=180)
    lab.kernel_eval("assert explorer.wait_idle(120), explorer.status")
    lab.page.wait_for_function(_MARK_SAMPLES, arg="input", timeout=30_000)
    before = _all_cells(lab)
    assert any(v != 0 for cell in before for v in cell), "the samples were never drawn"

    lab.page.select_option(DROPDOWN, "logits")
    lab.wait_for_python("explorer.layer", "logits")
    lab.kernel_eval("assert explorer.wait_idle(60)")
    lab.page.wait_for_function(_MARK_SAMPLES, arg="logits", timeout=30_000)
    after = _all_cells(lab)
    assert after != before, "the sample grid did not change with the layer"
    # the canvas shows what Python sampled (grey value of each pixel of the first sample)
    expected = lab.kernel_eval(
        "print(','.join(map(str, explorer.sample_images()[0, ..., 0].ravel().tolist())))").strip().split(",")
    assert [int(v) for v in expected] == after[0][0::4]
    assert lab.kernel_eval("print(explorer.status, repr(explorer.error))").strip() == "idle ''"
    assert lab.errors == []
