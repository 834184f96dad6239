"""Responsiveness of every explorer in a real JupyterLab + Chromium: a 30-step slider drag, and
the time from running the cell to a drawn explorer.

Run from the repository root (after ``make venv``)::

    .venv/bin/python benchmarks/explorer_drag.py               # 3 rounds per explorer
    .venv/bin/python benchmarks/explorer_drag.py --rounds 5 --json

The kernel imports whichever invwidgets the server's environment finds (``PYTHONPATH``), so the
same script measures two versions of the widget layer side by side.

- **drawn**: from asking JupyterLab to run the explorer's cell until the page has been quiet (no
  DOM change) for half a second with the explorer's pictures drawn, minus that half second.
- **drag**: the wall time of 30 real mouse moves along one slider (playwright waits for the page
  to take each move, so a busy page makes the drag itself slow), then until Python holds the
  slider's final value, the explorer is idle and the page has drawn two more frames.

The explorers are the small ones of the reliability tests (tests/reliability/conftest.py); the
LatentExplorer is the reference. Nothing here is a test: timings are never asserted.
"""

from __future__ import annotations

import argparse
import json
import statistics
import sys
import time
from pathlib import Path

ROOT = Path(__file__).resolve().parents[1]
sys.path.insert(0, str(ROOT / "tests" / "browser"))

import jlab  # noqa: E402

KINDS = ["latent", "invariance", "factor", "response"]
SETUP = (
    "import sys, torch\n"
    "torch.set_num_threads(1)\n"
    f"sys.path.insert(0, {str(ROOT / 'tests' / 'reliability')!r})\n"
    "from conftest import Builder\n"
    "import invwidgets\n"
    "build = Builder()\n"
    "explorers = {}\n"
    "print(invwidgets.__file__)"
)
# The slider each explorer is dragged by: a latent slider, or the factor explorer's α.
SLIDER = {"latent": 0, "invariance": 2, "response": 0}

_QUIET = """() => {
  if (!window.__invwQuiet) {
    window.__invwQuiet = {last: performance.now()};
    new MutationObserver(() => { window.__invwQuiet.last = performance.now(); })
      .observe(document.body, {subtree: true, childList: true, attributes: true, characterData: true});
  }
  return performance.now();
}"""


def _cell(kind: str) -> str:
    return (f"explorers[{kind!r}] = ex = build({kind!r})\n"
            "ex")


def _slider(kind: str, n: int) -> str:
    ex = f".invw-explorer >> nth={n}"
    if kind == "factor":
        return f"{ex} >> .invw-control[data-control=slider] input[type=range], .widget-slider .noUi-handle >> nth=0"
    return f"{ex} >> .invw-view[data-kind=sliders] input[type=range][data-index='{SLIDER[kind]}']"


def _python_value(kind: str) -> str:
    if kind == "factor":
        return "explorers['factor'].alpha.value"
    return f"explorers[{kind!r}].sliders.values[{SLIDER[kind]}]"


def _frames(lab: jlab.LabPage) -> None:
    lab.page.evaluate("() => new Promise(r => requestAnimationFrame(() => requestAnimationFrame(r)))")


def time_to_drawn(lab: jlab.LabPage, index: int, kind: str, count: int) -> float:
    t0 = lab.page.evaluate(_QUIET)
    lab.page.evaluate(f"""() => {{ const nb = window.jupyterapp.shell.currentWidget.content;
        nb.activeCellIndex = {index}; return window.jupyterapp.commands.execute('notebook:run-cell'); }}""")
    lab.page.wait_for_function(f"() => document.querySelectorAll('.invw-explorer').length > {count}", timeout=120_000)
    lab.kernel_eval(f"assert explorers[{kind!r}].wait_idle(120)", timeout=150)
    lab.page.wait_for_function("() => performance.now() - window.__invwQuiet.last > 500", timeout=120_000,
                               polling=50)
    return (lab.page.evaluate("() => window.__invwQuiet.last") - t0) / 1000


def drag(lab: jlab.LabPage, kind: str, n: int, steps: int = 30) -> float:
    loc = lab.page.locator(_slider(kind, n)).first
    loc.scroll_into_view_if_needed()
    time.sleep(0.3)
    box = loc.bounding_box()
    y = box["y"] + box["height"] / 2
    x0, x1 = box["x"] + box["width"] * 0.3, box["x"] + box["width"] * 0.7
    if box["width"] < 40:  # a slider handle: drag it over 150 px
        x0, x1 = box["x"] + box["width"] / 2, box["x"] + box["width"] / 2 + 150
    t0 = time.perf_counter()
    lab.page.mouse.move(x0, y)
    lab.page.mouse.down()
    for i in range(1, steps + 1):
        lab.page.mouse.move(x0 + (x1 - x0) * i / steps, y)
    lab.page.mouse.up()
    final = lab.page.evaluate("(el) => el.value ?? el.getAttribute('aria-valuenow')", loc.element_handle())
    deadline = time.monotonic() + 60
    while time.monotonic() < deadline:
        got = lab.kernel_eval(f"print(round({_python_value(kind)}, 4))").strip()
        if final is None or abs(float(got) - float(final)) < 1e-3:
            break
    lab.kernel_eval(f"assert explorers[{kind!r}].wait_idle(60)")
    _frames(lab)
    return time.perf_counter() - t0


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__.split("\n")[0])
    parser.add_argument("--rounds", type=int, default=3)
    parser.add_argument("--kinds", nargs="*", default=KINDS)
    parser.add_argument("--json", action="store_true")
    args = parser.parse_args()
    from playwright.sync_api import sync_playwright

    results: dict[str, dict[str, list[float]]] = {}
    with jlab.start_jupyterlab(nodelay=True) as server, sync_playwright() as pw:
        browser = jlab.launch_chromium(pw)
        lab = jlab.LabPage.new(browser, server, viewport=(1280, 1000))
        path = server.write_notebook("explorer_drag.ipynb", [SETUP, *(_cell(k) for k in args.kinds)])
        lab.open_notebook(path)
        lab.kernel_eval("pass")
        lab.page.evaluate("""() => { const nb = window.jupyterapp.shell.currentWidget.content;
            nb.activeCellIndex = 0; return window.jupyterapp.commands.execute('notebook:run-cell'); }""")
        lab.wait_kernel_idle(120)
        print("kernel imports", lab.kernel_eval("print(invwidgets.__file__)").strip(), file=sys.stderr)
        for n, kind in enumerate(args.kinds):
            drawn = time_to_drawn(lab, n + 1, kind, n)
            drags = [drag(lab, kind, n) for _ in range(args.rounds)]
            results[kind] = {"drawn_s": [drawn], "drag_s": drags}
            print(f"{kind}: drawn {drawn:.2f} s, drag {statistics.median(drags):.2f} s "
                  f"({', '.join(f'{d:.2f}' for d in drags)})", file=sys.stderr)
        browser.close()
    if args.json:
        print(json.dumps(results, indent=1))
        return
    ref = statistics.median(results["latent"]["drag_s"]) if "latent" in results else None
    print(f"{'explorer':<11} {'drawn':>7} {'drag (median)':>14} {'vs latent':>9}")
    for kind, r in results.items():
        med = statistics.median(r["drag_s"])
        rel = f"{med / ref:.2f}x" if ref else ""
        print(f"{kind:<11} {r['drawn_s'][0]:>6.2f}s {med:>13.2f}s {rel:>9}")


if __name__ == "__main__":
    main()
