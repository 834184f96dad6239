"""After the kernel goes away, the explorer's views say "not connected" instead of "idle" (a real
JupyterLab in headless Chromium; the kernel is restarted from the page, as the Restart Kernel menu
item does)."""

from __future__ import annotations

import pytest

pytestmark = pytest.mark.browser

CELLS = [
    "import invwidgets as iw\n"
    "sprites = iw.data.sprites()\n"
    "explorer = iw.LatentExplorer(iw.zoo.load('ae-sprites'), sprites)\n"
    "explorer",
]

_STATES = """() => Array.from(document.querySelectorAll('.invw-explorer .invw-status'))
  .map(s => [s.dataset.status, s.textContent])"""


def test_the_explorer_says_not_connected_after_a_kernel_restart(lab_page, jupyterlab):
    lab = lab_page
    path = jupyterlab.write_notebook("disconnected_browser.ipynb", CELLS)
    lab.open_notebook(path)
    lab.run_all(timeout=180)
    lab.kernel_eval("assert explorer.wait_idle(60), explorer.status")
    lab.page.wait_for_function(
        "() => document.querySelectorAll('.invw-explorer .invw-status').length > 0",
        timeout=30_000)
    before = lab.eval_js(_STATES)
    assert before and all(state != "disconnected" for state, _ in before), before

    # What JupyterLab's "Restart Kernel" does, without its confirmation dialog.
    lab.page.evaluate("() => window.jupyterapp.shell.currentWidget.sessionContext.session.kernel.restart()")
    lab.page.wait_for_function(
        "() => { const s = Array.from(document.querySelectorAll('.invw-explorer .invw-status'));"
        " return s.length > 0 && s.every(x => x.dataset.status === 'disconnected'); }",
        timeout=60_000)
    after = lab.eval_js(_STATES)
    assert all("not connected" in text for _, text in after), after
