"""ResponseExplorer in a real JupyterLab: clicking a heatmap cell shows the intervention images."""

from __future__ import annotations

import uuid

import pytest

pytestmark = pytest.mark.browser

SETUP = r'''
import torch
from torch import nn
from invwidgets.data import sprites
from invwidgets.widgets.explorers import ResponseExplorer

class TinyAE(nn.Module):
    latent_dim = 4
    def __init__(self):
        super().__init__()
        g = torch.Generator().manual_seed(0)
        self.enc = nn.Parameter(torch.randn(256, 4, generator=g) / 16)
        self.dec = nn.Parameter(torch.randn(4, 256, generator=g))
    def encode(self, x):
        return x.flatten(1) @ self.enc
    def decode(self, z):
        return torch.sigmoid(z @ self.dec).view(-1, 1, 16, 16)

ex = ResponseExplorer(TinyAE(), sprites(size=16, rotations=1), n_samples=32, resolution=12, n_traversals=1)
assert ex.wait_idle(120), "explorer did not settle"
ex
'''

MATRIX = ".invw-response-matrix"
CELLS = ".invw-response-cell-images .invw-cell"


def test_clicking_a_heatmap_cell_shows_intervention_images(lab_page):
    lab = lab_page
    nb = lab.server.write_notebook(f"responses-{uuid.uuid4().hex[:8]}.ipynb", [SETUP])
    lab.open_notebook(nb)
    lab.run_all(timeout=180)
    canvas = f"{MATRIX} canvas.invw-chart-canvas"
    lab.page.wait_for_function(f"() => (document.querySelector('{canvas}') || {{}}).invwHits?.length === 16",
                               timeout=60_000)
    assert lab.page.locator(CELLS).count() == 0  # nothing selected yet
    j, i = 2, 1  # click row j (intervened latent, rows top-down), column i (responding)
    # the canvas chart says where it drew each heatmap cell ([row, column] and its box)
    bx, by, bw, bh = lab.page.locator(canvas).evaluate(
        "(c, p) => c.invwHits.find(h => h.point[0] === p[0] && h.point[1] === p[1]).box", [j, i])
    lab.page.locator(canvas).scroll_into_view_if_needed()
    top = lab.page.locator(canvas).bounding_box()
    row_top = lab.page.locator(canvas).evaluate(
        "(c) => Math.min(...c.invwHits.map(h => h.box[1]))")
    assert by == pytest.approx(row_top + j * bh)  # rows top-down: the axis is reversed
    lab.page.mouse.click(top["x"] + bx + bw / 2, top["y"] + by + bh / 2)
    assert lab.wait_for_python("ex.cell", f"({j}, {i})", timeout=20) == f"({j}, {i})"
    lab.page.wait_for_function(
        "s => document.querySelectorAll(s).length === 7", arg=CELLS, timeout=20_000)
    captions = lab.page.locator(f"{CELLS} .invw-caption").all_inner_texts()
    assert captions[0].startswith(f"z{j}=") and len(captions) == 7
    # the first intervention image is drawn: its canvas holds the 16×16 decoded pixels
    lab.page.wait_for_function(
        """s => { const c = document.querySelector(s); if (!c || c.width !== 16) return false;
                  const d = c.getContext('2d').getImageData(0, 0, 16, 16).data;
                  let lit = 0; for (let k = 0; k < d.length; k += 4) lit += d[k] + d[k+1] + d[k+2];
                  return lit > 0; }""",
        arg=f"{CELLS} canvas.invw-main", timeout=20_000)
    expected = lab.kernel_eval("print([round(v, 4) for v in ex.cell_response.tolist()])").strip()
    assert expected.startswith("[") and lab.kernel_eval("print(ex.status)").strip() == "idle"
    # the clicked cell is marked on the matrix (a rectangle shape around it)
    shapes = lab.kernel_eval("print([(s.type, s.x0, s.y0) for s in ex.matrix_fig.layout.shapes])").strip()
    assert shapes == f"[('rect', {i}, {j})]"
    assert lab.errors == []
