"""Take the README's screenshots of the five explorers in a real JupyterLab.

Run from the repository root (needs Debian's /usr/bin/chromium and playwright's Python package;
never ``playwright install``)::

    python tests/browser/readme_screenshots.py [OUT_DIR]   # default: docs/screenshots

It starts JupyterLab with the harness in ``jlab.py``, opens one notebook that builds every
explorer on shipped zoo models, in a 1100 px wide window with the file browser open (the width
a laptop gives a notebook), and saves one PNG per explorer (``<name>_explorer.png``) plus the
FactorExplorer in the dark theme (``factor_explorer_dark.png``, where pressed toggles must
stand out). Before each picture it checks what a reader would notice first: no view reaches
past the explorer (panels wrap instead of being clipped), no label or heading is cut off, and
the page logged no error. Every picture is written; the script then exits with status 1 and lists
the offending elements if a check failed.
"""

from __future__ import annotations

import sys
from pathlib import Path

HERE = Path(__file__).resolve().parent
ROOT = HERE.parents[1]
sys.path.insert(0, str(HERE))

import jlab  # noqa: E402

WIDTH, HEIGHT = 1100, 4200  # tall enough that the longest explorer is one picture

SETUP = """\
import torch
torch.set_num_threads(1)
import invwidgets as iw
from invwidgets import zoo
from invwidgets.widgets.explorers import FactorExplorer, InversionExplorer, ResponseExplorer
from invwidgets.zoo.entries_inversion import INVERSION_LAYERS
from invwidgets.zoo.entries_mnist_factors import colorful_mnist_splits
"""

# name -> the cell that builds the explorer ``ex_<name>`` and shows it
EXPLORERS: dict[str, str] = {
    "latent": (
        "sprites, model = iw.data.sprites(), zoo.load('ae-sprites')\n"
        "# the tour's example: the largest-scale sprite of median shape overlap with its reconstruction\n"
        "with torch.no_grad():\n"
        "    recons = model.decode(model.encode(sprites.images))\n"
        "inside, inside_recon = sprites.images > 0.5, recons > 0.5\n"
        "iou = (inside & inside_recon).flatten(1).sum(1) / (inside | inside_recon).flatten(1).sum(1).clamp(min=1)\n"
        "k = sprites.factor_index('scale')\n"
        "largest = torch.where(sprites.factors[:, k] == sprites.factor_sizes[k] - 1)[0]\n"
        "ex_latent = iw.LatentExplorer(model, sprites)\n"
        "ex_latent.select(int(largest[(iou[largest] - iou[largest].median()).abs().argmin()]))\n"
        "ex_latent"
    ),
    "invariance": (
        "ex_invariance = iw.InvarianceExplorer(zoo.load('svae-mnist-s0'), zoo.test_split('svae-mnist-s0'),\n"
        "                                      external_classifier=zoo.load('cnn-mnist-s0'), k=8, seed=0)\n"
        "ex_invariance"
    ),
    "factor": (
        "_, test_set = colorful_mnist_splits()\n"
        "ae, iin = zoo.load('ae-colorful-mnist-s0'), zoo.load('iin-ae-colorful-mnist-s0')\n"
        "cnn = zoo.load('cnn-colorful-mnist-s0')\n"
        "ex_factor = FactorExplorer(ae, iin, decoder=ae, classifier_head=lambda z: cnn(ae.decode(z)),\n"
        "                           dataset=test_set, n_hist=200)\n"
        "# a source and a target of different digits, the digit factor copied from the source\n"
        "ex_factor.select(source=0, target=int((test_set.labels != test_set.labels[0]).nonzero()[0]))\n"
        "ex_factor.swap_toggles['digit'].value = True\n"
        "ex_factor"
    ),
    "inversion": (
        "ckpts = zoo.load('cnn-digits-ckpts-s0')\n"
        "ex_inversion = InversionExplorer(ckpts.final, INVERSION_LAYERS, zoo.test_split('inv-digits-s0'),\n"
        "                                 zoo.load('inv-digits-s0'), n_samples=8)\n"
        "ex_inversion"
    ),
    "response": (
        "ex_response = ResponseExplorer(zoo.load('betavae-sprites-s1'), iw.data.sprites(size=16, rotations=1),\n"
        "                               n_traversals=5, seed=0)\n"
        "assert ex_response.wait_idle(300), ex_response.error\n"
        "j = int(ex_response.matrix.diagonal().argmax())  # the latent that responds most to itself\n"
        "ex_response.select_cell(j, j)\n"
        "ex_response"
    ),
}

# Elements of an explorer that reach past its right edge, and labels whose text is cut off
# (scrollWidth > clientWidth with hidden overflow or an ellipsis).
_LAYOUT_PROBLEMS = """(root) => {
  const r = root.getBoundingClientRect();
  const name = (el) => el.tagName.toLowerCase() + '.' + Array.from(el.classList).join('.') +
      ' "' + (el.textContent || '').trim().slice(0, 40) + '"';
  const out = [];
  for (const el of root.querySelectorAll('*')) {
    const b = el.getBoundingClientRect();
    if (!b.width || !b.height) continue;
    if (b.right > r.right + 1) out.push('past the right edge: ' + name(el));
    const style = getComputedStyle(el);
    const clips = style.overflowX === 'hidden' || style.textOverflow === 'ellipsis';
    if (clips && el.children.length === 0 && el.scrollWidth > el.clientWidth + 1)
      out.push('text cut off: ' + name(el));
  }
  return out;
}"""


def _explorer(lab: jlab.LabPage, index: int):
    return lab.page.locator(".invw-explorer").nth(index)


def _settle(lab: jlab.LabPage, name: str) -> None:
    lab.kernel_eval(f"assert ex_{name}.wait_idle(300), ex_{name}.error\n"
                    f"assert ex_{name}.status == 'idle', ex_{name}.error", timeout=320)
    lab.page.wait_for_timeout(500)  # the last frame drawn


def _check(lab: jlab.LabPage, name: str, index: int) -> list[str]:
    problems = _explorer(lab, index).evaluate(_LAYOUT_PROBLEMS) + lab.errors
    return [f"{name}: {p}" for p in problems]


def take(out_dir: Path) -> tuple[list[Path], list[str]]:
    """Run the notebook in JupyterLab, write the screenshots into ``out_dir``; return their
    paths and the problems the checks found."""
    from playwright.sync_api import sync_playwright

    out_dir.mkdir(parents=True, exist_ok=True)
    written, problems = [], []
    with jlab.start_jupyterlab(nodelay=True) as server, sync_playwright() as pw:
        browser = jlab.launch_chromium(pw)
        lab = jlab.LabPage.new(browser, server, viewport=(WIDTH, HEIGHT))
        path = server.write_notebook("readme_screenshots.ipynb", [SETUP, *EXPLORERS.values()])
        lab.open_notebook(path)
        lab.run_all(timeout=900)
        lab.eval_js("() => window.jupyterapp.commands.execute('filebrowser:activate')")
        lab.page.wait_for_selector(".jp-FileBrowser", state="visible", timeout=30_000)
        for index, name in enumerate(EXPLORERS):
            _settle(lab, name)
            _explorer(lab, index).scroll_into_view_if_needed()
            problems += _check(lab, name, index)
            written.append(out_dir / f"{name}_explorer.png")
            _explorer(lab, index).screenshot(path=str(written[-1]))
        lab.eval_js("() => window.jupyterapp.commands.execute('apputils:change-theme',"
                    " {theme: 'JupyterLab Dark'})")
        lab.page.wait_for_function("() => document.body.dataset.jpThemeLight === 'false'", timeout=30_000)
        lab.page.wait_for_timeout(1000)
        factor = list(EXPLORERS).index("factor")
        _explorer(lab, factor).scroll_into_view_if_needed()
        written.append(out_dir / "factor_explorer_dark.png")
        _explorer(lab, factor).screenshot(path=str(written[-1]))
        problems += _check(lab, "factor (dark)", factor)
        lab.close()
        browser.close()
    return written, problems


if __name__ == "__main__":
    target = Path(sys.argv[1]) if len(sys.argv) > 1 else ROOT / "docs" / "screenshots"
    shots, found = take(target)
    print("\n".join(map(str, shots)))
    if found:
        raise SystemExit("layout problems:\n  " + "\n  ".join(found))
