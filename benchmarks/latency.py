"""Latency of the LatentExplorer in a real JupyterLab + Chromium, against interact + matplotlib.

Run from the repository root (after ``make venv``)::

    .venv/bin/python benchmarks/latency.py                       # 5 rounds of 40 moves, ~5 minutes
    .venv/bin/python benchmarks/latency.py --rounds 8 --moves 30 # more rounds, more spread

Everything is measured in one run, inside the page, from the input event to changed pixels
(polled on every animation frame, as a person sees them). Our sliders are plain range inputs:
the benchmark sets a value and dispatches the ``input`` event a drag produces. ipywidgets'
slider is a noUiSlider that ignores synthetic events, so it is moved with real (playwright)
arrow-key presses and timed from the ``keydown`` event.

Two JupyterLabs run side by side, one with the ``invwidgets.nodelay`` server extension and one
stock, and each has the same three notebooks open:

1. a bare anywidget round trip (slider → Python → bytes trait → canvas, no inference);
2. the LatentExplorer on the zoo's ``ae-sprites`` decoder (32×32), result cache off so every
   move runs the decoder;
3. what a user would otherwise write: ``ipywidgets.interact`` with a matplotlib ``imshow`` of the
   decoded image.

The six are measured in interleaved rounds (the order rotated each round), so a burst of load
from elsewhere on the machine hits all of them alike. Compared on the same server, per round:
the explorer against interact + matplotlib, and each widget with against without the extension.
Each ratio is reported as its min–max over the rounds and over all moves pooled. Then, on the
nodelay server:

4. a continuous 2-second drag: the last frame matches the last slider value and nothing is queued
   100 ms after release;
5. a 3-second batch job in the worker: how long a newly executed cell takes to start.

Nothing here is a test: timings are never asserted in the test suite.
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

BARE = r'''
import anywidget, traitlets, numpy as np

class Bare(anywidget.AnyWidget):
    _esm = """
    function render({ model, el }) {
      const input = document.createElement('input');
      input.type = 'range'; input.min = 0; input.max = 255; input.step = 1; input.value = 0;
      input.className = 'bench-bare-slider';
      const canvas = document.createElement('canvas');
      canvas.className = 'bench-bare-canvas'; canvas.width = 32; canvas.height = 32;
      const draw = () => {
        const px = new Uint8Array(model.get('pixels').buffer || model.get('pixels'));
        const rgba = new Uint8ClampedArray(32 * 32 * 4);
        for (let i = 0; i < px.length; i++) { rgba[4*i] = rgba[4*i+1] = rgba[4*i+2] = px[i]; rgba[4*i+3] = 255; }
        canvas.getContext('2d').putImageData(new ImageData(rgba, 32, 32), 0, 0);
      };
      input.addEventListener('input', () => { model.set('value', Number(input.value)); model.save_changes(); });
      model.on('change:pixels', draw);
      el.append(input, canvas);
    }
    export default { render };
    """
    value = traitlets.Int(0).tag(sync=True)
    pixels = traitlets.Bytes(bytes(32 * 32)).tag(sync=True)

    @traitlets.observe("value")
    def _draw(self, change):
        self.pixels = np.full(32 * 32, change["new"], np.uint8).tobytes()

bare = Bare()
bare
'''

EXPLORER = r'''
import os
os.environ.update(EXTRA_ENV)
import torch, invwidgets as iw
torch.set_num_threads(1)
iw.set_sync_mode(SYNC)
model = iw.zoo.load("ae-sprites")
sprites = iw.data.sprites()
explorer = iw.LatentExplorer(model, sprites)
explorer.worker.cache_size = 0      # every move runs the decoder
explorer
'''

INTERACT = r'''
%matplotlib inline
import torch, ipywidgets, matplotlib.pyplot as plt, invwidgets as iw
torch.set_num_threads(1)
model = iw.zoo.load("ae-sprites").eval()
z0 = model.encode(iw.data.sprites().images[:1])[0].detach()

def show(z0_value=0.0):
    z = z0.clone()
    z[0] = z0_value
    with torch.no_grad():
        img = model.decode(z[None])[0, 0]
    plt.figure(figsize=(2.5, 2.5))
    plt.imshow(img, cmap="gray", vmin=0, vmax=1)
    plt.axis("off")
    plt.show()

ipywidgets.interact(show, z0_value=ipywidgets.FloatSlider(min=-3, max=3, step=0.25, value=0.0))
'''

# In-page: wait until the canvas differs from its content at the last keydown/input event,
# checked on every animation frame; resolve with the elapsed ms.
JS_ARM_CANVAS = """({canvas}) => {
  const c = document.querySelector(canvas);
  const g = c.getContext('2d');
  const snap = () => g.getImageData(0, 0, c.width, c.height).data;
  window.__bench = {t0: null, result: null};
  const state = window.__bench;
  const before = snap();
  const start = (e) => { if (state.t0 === null) state.t0 = e.timeStamp; };
  document.addEventListener('keydown', start, {capture: true, once: true});
  document.addEventListener('input', start, {capture: true, once: true});
  const poll = () => {
    const now = snap();
    if (state.t0 !== null && now.some((v, i) => v !== before[i])) {
      state.result = performance.now() - state.t0;
      return;
    }
    requestAnimationFrame(poll);
  };
  requestAnimationFrame(poll);
}"""

# In-page: the same for interact's output: a new, decoded <img> in the output area.
JS_ARM_IMG = """({output}) => {
  const area = document.querySelector(output);
  const old = area.querySelector('img');
  window.__bench = {t0: null, result: null};
  const state = window.__bench;
  document.addEventListener('keydown', (e) => { if (state.t0 === null) state.t0 = e.timeStamp; },
                            {capture: true, once: true});
  const poll = () => {
    const img = area.querySelector('img');
    if (state.t0 !== null && img && img !== old && img.complete && img.naturalWidth > 0) {
      state.result = performance.now() - state.t0;
      return;
    }
    requestAnimationFrame(poll);
  };
  requestAnimationFrame(poll);
}"""


def _wait_result(lab: jlab.LabPage, timeout: float = 5.0) -> float | None:
    try:
        lab.page.wait_for_function("() => window.__bench && window.__bench.result !== null",
                                   timeout=timeout * 1000, polling=5)
    except Exception:
        return None
    return float(lab.page.evaluate("() => window.__bench.result"))


def _stats(xs: list[float]) -> dict:
    xs = sorted(xs)
    if not xs:
        return {"n": 0, "p50": float("nan"), "p95": float("nan")}
    p95 = xs[min(len(xs) - 1, int(round(0.95 * (len(xs) - 1))))]
    return {"n": len(xs), "p50": statistics.median(xs), "p95": p95}


def _key_moves(lab: jlab.LabPage, focus: str, arm, arm_arg: dict, moves: int, span: int,
               sweep: dict | None = None) -> list[float]:
    """Press ArrowRight/ArrowLeft on the focused slider ``moves`` times, sweeping back and forth
    over ``span`` steps around where the sweep started; the latency of each press from the
    in-page measurement. ``sweep`` ({"pos", "direction"}) carries the position over between
    calls, so repeated rounds never push the slider against its end (a press that changes
    nothing would draw nothing)."""
    lab.page.locator(focus).first.focus()
    out: list[float] = []
    state = sweep if sweep is not None else {}
    direction, pos = state.get("direction", "ArrowRight"), state.get("pos", 0)
    for _ in range(moves):
        if pos >= span:
            direction = "ArrowLeft"
        elif pos <= -span:
            direction = "ArrowRight"
        pos += 1 if direction == "ArrowRight" else -1
        lab.page.evaluate(arm, arm_arg)
        lab.page.keyboard.press(direction)
        ms = _wait_result(lab)
        if ms is not None:
            out.append(ms)
        time.sleep(0.03)  # let the previous frame settle, like a person's key repeat
    state.update(direction=direction, pos=pos)
    return out


def _input_moves(lab: jlab.LabPage, slider: str, canvas: str, moves: int, start: int = 0) -> list[float]:
    """Set a range input and dispatch its input event, as a drag does; latency per move.

    The values walk over the slider's range in large, irregular steps (golden-ratio sequence),
    so every move changes the picture and no two moves ask for the same value; ``start`` continues
    the sequence of an earlier call."""
    lo, hi = lab.page.evaluate(
        "(slider) => { const s = document.querySelector(slider);"
        " return [parseFloat(s.min), parseFloat(s.max)]; }", slider)
    out = []
    for k in range(start, start + moves):
        value = lo + (hi - lo) * (0.05 + 0.9 * ((k * 0.6180339887) % 1.0))
        lab.page.evaluate(JS_ARM_CANVAS, {"canvas": canvas})
        lab.page.evaluate(
            "({slider, value}) => { const s = document.querySelector(slider); s.value = value;"
            " s.dispatchEvent(new Event('input', {bubbles: true})); }",
            {"slider": slider, "value": value},
        )
        ms = _wait_result(lab)
        if ms is not None:
            out.append(ms)
        time.sleep(0.03)
    return out


def _open(lab: jlab.LabPage, server: jlab.JupyterServer, name: str, source: str) -> None:
    server.write_notebook(name, [source])
    lab.open_notebook(name)
    lab.run_all(timeout=180)


def bare_round_trip(browser, server, moves: int) -> dict:
    lab = jlab.LabPage.new(browser, server)
    try:
        _open(lab, server, f"bare-{int(server.nodelay)}.ipynb", BARE)
        lab.page.wait_for_selector(".bench-bare-slider")
        return _stats(_input_moves(lab, ".bench-bare-slider", ".bench-bare-canvas", moves))
    finally:
        lab.close()


# The building blocks alone: LatentSliders → trivial observer → ImageView, no worker, no model.
VIEWS = r'''
import numpy as np, invwidgets as iw
sliders = iw.LatentSliders([0.0] * 8, minimum=-3, maximum=3)
view = iw.ImageView(np.zeros((32, 32)), caption="decode(z)")
sliders.observe(lambda c: view.set_image(np.full((32, 32), (c["new"][0] + 3) / 6)), names="values")
box = iw.widgets.Row(view, sliders)  # views are shown by a root
box.add_class("invw-explorer")
box
'''

SLIDER0 = ".invw-explorer .invw-view[data-kind=sliders] input[type=range][data-index='0']"
_MARK_DECODED = """() => {
  const views = Array.from(document.querySelectorAll('.invw-explorer .invw-view[data-kind=image]'));
  const v = views.find(v => v.querySelector('.invw-caption').textContent === 'decode(z)');
  v.querySelector('canvas.invw-main').id = 'bench-decoded';
}"""


def views_only_run(browser, server, moves: int) -> dict:
    lab = jlab.LabPage.new(browser, server)
    try:
        _open(lab, server, "views.ipynb", VIEWS)
        lab.page.evaluate(_MARK_DECODED)
        return _stats(_input_moves(lab, SLIDER0, "#bench-decoded", moves))
    finally:
        lab.close()


def explorer_moves(browser, server, moves: int, sync: bool = False, env: dict | None = None,
                   name: str = "explorer-variant.ipynb") -> dict:
    """Only the slider moves of the explorer, with the worker in sync mode or extra kernel env."""
    lab = jlab.LabPage.new(browser, server)
    try:
        source = EXPLORER.replace("EXTRA_ENV", repr(env or {})).replace("SYNC", repr(sync))
        _open(lab, server, name, source)
        lab.kernel_eval("assert explorer.wait_idle(30)")
        lab.page.evaluate(_MARK_DECODED)
        return _stats(_input_moves(lab, SLIDER0, "#bench-decoded", moves))
    finally:
        lab.close()


def kernel_side(moves: int) -> dict:
    """In this process, no browser: from a slider update arriving (``set_state``, as a comm
    message applies it) to the decoded image's bytes trait being set by the worker."""
    import threading

    import torch

    import invwidgets as iw

    torch.set_num_threads(1)
    ex = iw.LatentExplorer(iw.zoo.load("ae-sprites"), iw.data.sprites())
    try:
        assert ex.wait_idle(30)
        ex.worker.cache_size = 0
        changed = threading.Event()
        ex.decoded.observe(lambda c: changed.set(), names="_pixels")
        lo, hi = ex.sliders.minimum[0], ex.sliders.maximum[0]
        out = []
        for k in range(moves):
            values = list(ex.sliders.values)
            values[0] = lo + (hi - lo) * (0.05 + 0.9 * ((k * 0.6180339887) % 1.0))
            changed.clear()
            t0 = time.perf_counter()
            ex.sliders.set_state({"values": values})
            changed.wait(5)
            out.append((time.perf_counter() - t0) * 1000)
            ex.wait_idle(5)
        return _stats(out)
    finally:
        ex.close()


SUBJECTS = ("bare", "explorer", "interact")
_SOURCES = {
    "bare": BARE,
    "explorer": EXPLORER.replace("EXTRA_ENV", "{}").replace("SYNC", "False"),
    "interact": INTERACT,
}


class Subject:
    """One widget (``bare``, ``explorer`` or ``interact``) on one server, opened once and then
    measured in several rounds, so that rounds of different subjects can be interleaved."""

    def __init__(self, browser, server: jlab.JupyterServer, kind: str) -> None:
        self.kind, self.server = kind, server
        self.lab = jlab.LabPage.new(browser, server)
        self.done = 0
        self.sweep: dict = {}
        self.rounds: list[list[float]] = []
        _open(self.lab, server, f"{kind}.ipynb", _SOURCES[kind])
        if kind == "bare":
            self.lab.page.wait_for_selector(".bench-bare-slider")
        elif kind == "explorer":
            self.lab.kernel_eval("assert explorer.wait_idle(30)")
            self.lab.page.evaluate(_MARK_DECODED)
        else:
            self.lab.page.wait_for_selector(".widget-interact .widget-output img", timeout=60_000)
        self.measure(5)  # warm-up (first figure, first decode), not counted
        self.rounds.clear()

    def measure(self, moves: int) -> list[float]:
        """``moves`` more slider moves; their latencies are kept as one round."""
        self.lab.page.bring_to_front()
        if self.kind == "bare":
            xs = _input_moves(self.lab, ".bench-bare-slider", ".bench-bare-canvas", moves, self.done)
        elif self.kind == "explorer":
            xs = _input_moves(self.lab, SLIDER0, "#bench-decoded", moves, self.done)
        else:
            xs = _key_moves(self.lab, ".widget-interact .noUi-handle", JS_ARM_IMG,
                            {"output": ".widget-interact .widget-output"}, moves, span=8,
                            sweep=self.sweep)
        self.done += moves
        self.rounds.append(xs)
        return xs

    def close(self) -> None:
        self.lab.close()


def drag_check(lab: jlab.LabPage, slider: str) -> dict:
    """A continuous 2-second drag, then: does the last frame match the last slider value, and is
    anything still queued 100 ms after release?"""
    box = lab.page.locator(slider).bounding_box()
    y = box["y"] + box["height"] / 2
    x0, x1 = box["x"] + 4, box["x"] + box["width"] - 4
    lab.page.mouse.move(x0, y)
    lab.page.mouse.down()
    t_end = time.monotonic() + 2.0
    k = 0
    while time.monotonic() < t_end:
        frac = 0.5 + 0.45 * __import__("math").sin(k / 9.0)
        lab.page.mouse.move(x0 + (x1 - x0) * frac, y)
        k += 1
        time.sleep(0.008)
    lab.page.mouse.up()
    released = time.monotonic()
    time.sleep(max(0.0, 0.1 - (time.monotonic() - released)))
    queued = int(lab.kernel_eval("print(explorer.worker.pending())").strip())
    lab.kernel_eval("assert explorer.wait_idle(10)")
    dom_value = float(lab.page.locator(slider).input_value())
    info = json.loads(lab.kernel_eval(
        "import json, numpy as np\n"
        "img = explorer.image()\n"
        "shown = explorer.decoded.image[..., 0] / 255.0\n"
        "print(json.dumps({'py': explorer.sliders.values[0],"
        " 'frame_matches': bool(np.abs(shown - img[0]).max() <= 1/255 + 1e-6)}))"
    ).strip())
    drawn = lab.canvas_pixels("#bench-decoded")["data"][0::4]
    py_pixels = lab.kernel_eval(
        "print(','.join(map(str, explorer.decoded.image[..., 0].ravel().tolist())))"
    ).strip().split(",")
    return {
        "moves": k,
        "queued_100ms_after_release": queued,
        "slider_value_dom": dom_value,
        "slider_value_python": info["py"],
        "values_match": abs(dom_value - info["py"]) < 1e-9,
        "last_frame_matches_value": info["frame_matches"] and [int(v) for v in py_pixels] == drawn,
    }


def batch_job_check(lab: jlab.LabPage, n: int = 25) -> dict:
    """While a 3-second training job runs in the worker, how long until a new cell starts?

    Measured in the page from sending an execute request to the kernel's ``busy`` status for it
    (the cell has started). For comparison, the same with nothing running."""
    js = """async ({path, n}) => {
      const app = window.jupyterapp;
      const panel = app.shell.widgets('main').find(w => w.context && w.context.path === path)
        || Array.from(app.shell.widgets('main')).find(w => w.context && w.context.path === path);
      const kernel = panel.sessionContext.session.kernel;
      const out = [];
      for (let i = 0; i < n; i++) {
        const t0 = performance.now();
        let started = null;
        const future = kernel.requestExecute({code: 'x = 1', silent: false, store_history: false});
        future.onIOPub = (msg) => {
          if (started === null && msg.header.msg_type === 'status' && msg.content.execution_state === 'busy')
            started = performance.now() - t0;
        };
        await future.done;
        out.push(started);
        await new Promise(r => setTimeout(r, 50));
      }
      return out;
    }"""
    idle = lab.page.evaluate(js, {"path": lab.path, "n": n})
    lab.kernel_eval(
        "import time, torch\n"
        "def _train(job):\n"
        "    net = torch.nn.Sequential(torch.nn.Linear(256, 512), torch.nn.ReLU(), torch.nn.Linear(512, 256))\n"
        "    opt = torch.optim.Adam(net.parameters())\n"
        "    x = torch.randn(512, 256)\n"
        "    t0 = time.monotonic(); i = 0\n"
        "    while time.monotonic() - t0 < 3.0:\n"
        "        loss = (net(x) - x).pow(2).mean(); opt.zero_grad(); loss.backward(); opt.step(); i += 1\n"
        "        job.progress(time.monotonic() - t0, 3.0, 'training')\n"
        "    return i\n"
        "_h = explorer.run_in_worker('bench-train', _train, priority='batch')\n"
    )
    time.sleep(0.3)  # the job is running now
    busy = lab.page.evaluate(js, {"path": lab.path, "n": n})
    running = lab.kernel_eval("print(_h.state)").strip()
    lab.kernel_eval("assert explorer.wait_idle(30)")
    steps = lab.kernel_eval("print(_h.result)").strip()
    return {
        "cell_start_idle_ms": _stats(idle),
        "cell_start_during_job_ms": _stats(busy),
        "job_state_after_measuring": running,
        "job_steps": steps,
    }


#: The ratios reported, each ``(name, numerator subject, denominator subject)`` of p50s: how many
#: times faster the denominator is.
RATIOS = (
    ("LatentExplorer vs interact + matplotlib, nodelay server", "interact/nodelay", "explorer/nodelay"),
    ("LatentExplorer vs interact + matplotlib, stock server", "interact/stock", "explorer/stock"),
    ("nodelay extension, bare widget (stock / nodelay)", "bare/stock", "bare/nodelay"),
    ("nodelay extension, LatentExplorer", "explorer/stock", "explorer/nodelay"),
    ("nodelay extension, interact + matplotlib", "interact/stock", "interact/nodelay"),
)


def _load() -> float:
    """The 1-minute load average (runnable processes, all users), for the record."""
    import os

    return os.getloadavg()[0]


def interleaved_rounds(subjects: dict[str, Subject], rounds: int, moves: int) -> list[dict]:
    """``rounds`` rounds of ``moves`` moves of every subject, the order rotated each round so
    that no subject always runs first; per round the p50/p95 of each and the load average."""
    keys = list(subjects)
    out = []
    for r in range(rounds):
        order = keys[r % len(keys):] + keys[:r % len(keys)]
        load_before = _load()
        stats = {key: _stats(subjects[key].measure(moves)) for key in order}
        out.append({"stats": stats, "load_before": load_before, "load_after": _load()})
        print(f"round {r + 1}/{rounds}: " + ", ".join(
            f"{key} {st['p50']:.1f}" for key, st in stats.items()) + f" ms p50; load {_load():.2f}",
            flush=True)
    return out


def ratio_summary(per_round: list[dict], subjects: dict[str, Subject]) -> dict:
    """Each ratio of :data:`RATIOS` per round, its min–max, and over all moves pooled."""
    out = {}
    for name, num, den in RATIOS:
        values = [r["stats"][num]["p50"] / r["stats"][den]["p50"] for r in per_round]
        pooled_num = _stats([x for xs in subjects[num].rounds for x in xs])
        pooled_den = _stats([x for xs in subjects[den].rounds for x in xs])
        out[name] = {"per_round": values, "min": min(values), "max": max(values),
                     "pooled_p50": pooled_num["p50"] / pooled_den["p50"],
                     "pooled_p95": pooled_num["p95"] / pooled_den["p95"]}
    return out


def breakdown(browser, fast: jlab.JupyterServer, moves: int) -> dict:
    """The explorer's latency taken apart (nodelay server)."""
    results = {"kernel_side": kernel_side(200),
               "views_only": views_only_run(browser, fast, moves),
               "explorer_sync": explorer_moves(browser, fast, moves, sync=True, name="explorer-sync.ipynb")}
    settings = fast.base_dir / "settings" / "@jupyterlab" / "apputils-extension"
    settings.mkdir(parents=True, exist_ok=True)
    (settings / "kernels-settings.jupyterlab-settings").write_text(
        json.dumps({"commsOverSubshells": "disabled"}))
    results["bare_no_subshells"] = bare_round_trip(browser, fast, moves)
    results["explorer_no_subshells"] = explorer_moves(browser, fast, moves, name="explorer-nosub.ipynb")
    return results


def measure_all(args) -> dict:
    """Both servers, all subjects open at once, interleaved rounds, then the explorer's drag and
    batch-job checks and (optionally) the breakdown."""
    from playwright.sync_api import sync_playwright

    results: dict = {"cpus": __import__("os").cpu_count(), "rounds": args.rounds, "moves": args.moves}
    with sync_playwright() as pw:
        browser = jlab.launch_chromium(pw)
        with jlab.start_jupyterlab(nodelay=True) as fast, jlab.start_jupyterlab(nodelay=False) as stock:
            subjects: dict[str, Subject] = {}
            try:
                for kind in SUBJECTS:
                    for server in (fast, stock):
                        subjects[f"{kind}/{'nodelay' if server.nodelay else 'stock'}"] = Subject(
                            browser, server, kind)
                results["per_round"] = interleaved_rounds(subjects, args.rounds, args.moves)
                results["pooled"] = {key: _stats([x for xs in s.rounds for x in xs])
                                     for key, s in subjects.items()}
                results["ratios"] = ratio_summary(results["per_round"], subjects)
                ex = subjects["explorer/nodelay"]
                ex.lab.page.bring_to_front()
                results["drag"] = drag_check(ex.lab, SLIDER0)
                results["batch"] = batch_job_check(ex.lab)
                results["console_errors"] = [e for s in subjects.values() for e in s.lab.errors]
            finally:
                for s in subjects.values():
                    s.close()
            if args.breakdown:
                results["breakdown"] = breakdown(browser, fast, args.moves)
        browser.close()
    return results


def report(results: dict) -> None:
    """Print the figures of :func:`measure_all`."""
    rounds = results["per_round"]
    print(f"\ninput event → changed pixels (ms, polled each animation frame), {results['rounds']} "
          f"interleaved rounds of {results['moves']} moves; load average "
          f"{min(r['load_before'] for r in rounds):.2f}–{max(r['load_after'] for r in rounds):.2f} "
          f"on {results['cpus']} CPUs")
    print(f"{'':32s} {'n':>4s} {'p50':>7s} {'p95':>7s}   p50 per round")
    for key, st in results["pooled"].items():
        per = " ".join(f"{r['stats'][key]['p50']:5.1f}" for r in rounds)
        print(f"{key:32s} {st['n']:4d} {st['p50']:7.1f} {st['p95']:7.1f}   {per}")
    print()
    for name, r in results["ratios"].items():
        print(f"{name}: {r['min']:.2f}–{r['max']:.2f}× per round (p50), "
              f"{r['pooled_p50']:.2f}× pooled p50, {r['pooled_p95']:.2f}× pooled p95")
    drag = results["drag"]
    print(f"\n2-second drag ({drag['moves']} mouse moves): last frame matches last value: "
          f"{drag['last_frame_matches_value'] and drag['values_match']}; "
          f"queued 100 ms after release: {drag['queued_100ms_after_release']}")
    batch = results["batch"]
    print(f"new cell start while a 3-s batch job runs: p50 {batch['cell_start_during_job_ms']['p50']:.1f} ms, "
          f"p95 {batch['cell_start_during_job_ms']['p95']:.1f} ms "
          f"(idle kernel: p50 {batch['cell_start_idle_ms']['p50']:.1f} ms); job was {batch['job_state_after_measuring']}")
    if "breakdown" in results:
        print("\nbreakdown (after the rounds, nodelay server)  p50     p95")
        for key, label in [("kernel_side", "kernel side only: update in → image bytes set"),
                           ("views_only", "views alone (no worker, no model)"),
                           ("explorer_sync", "explorer, requests run in the comm handler"),
                           ("bare_no_subshells", "bare widget, comms over subshells off"),
                           ("explorer_no_subshells", "explorer, comms over subshells off")]:
            st = results["breakdown"][key]
            print(f"{label:45s} {st['p50']:7.1f} {st['p95']:7.1f}")
    if results["console_errors"]:
        print("console errors:", results["console_errors"])


def main() -> None:
    ap = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    ap.add_argument("--moves", type=int, default=40, help="slider moves per subject and round")
    ap.add_argument("--rounds", type=int, default=5, help="interleaved rounds")
    ap.add_argument("--json", type=Path, help="also write the figures as JSON here")
    ap.add_argument("--breakdown", action="store_true",
                    help="also measure the kernel side alone, the views alone, the worker in sync "
                         "mode, and JupyterLab's comms over subshells turned off")
    args = ap.parse_args()
    if args.rounds < 1 or args.moves < 1:
        ap.error("--rounds and --moves must be at least 1")
    results = measure_all(args)
    report(results)
    if args.json:
        args.json.write_text(json.dumps(results, indent=2))


if __name__ == "__main__":
    main()
