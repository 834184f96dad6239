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
    drag = f"{MATRIX} .nsewdrag"
    lab.page.wait_for_selector(drag, timeout=60_000)
    assert lab.page.locator(CELLS).count() == 0  # nothing selected yet
    box = lab.page.locator(drag).first.bounding_box()
    d, j, i = 4, 2, 1  # click row j (intervened latent, rows top-down), column i (responding)
    lab.page.mouse.click(box["x"] + (i + 0.5) * box["width"] / d, box["y"] + (j + 0.5) * box["height"] / d)
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
    assert lab.errors == []
