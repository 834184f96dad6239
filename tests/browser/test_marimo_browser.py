"""Widgets in marimo, anywidget's other host: a real ``marimo edit`` / ``marimo run`` server and
headless Chromium (see marimo_harness.py).

1. A minimal anywidget defined in the notebook: a click in the page changes its trait, Python
   sees the new value (a cell that depends on ``widget.value`` runs again and shows it).
2. invwidgets' ImageView: the page draws the pixels Python set, and images set later from a
   background thread (a plain ``threading.Thread``, and invwidgets' own inference worker through
   ``run_in_worker``) reach the page while no cell runs.
3. One anywidget root drawing plain child models (no front-end code of their own) through
   ``model.widget_manager.get_model``: the composition an explorer needs.
4. LatentExplorer (such a root): a slider move in the page redraws the decoded image.
5. The other four explorers on one page (edit and run mode), each with one interaction in the
   page that reaches Python and a worker result that the page draws: the invariance explorer's
   nuisance slider drag, the factor explorer's colour swap toggle, the inversion explorer's layer
   dropdown, a click on the response explorer's matrix.
"""

from __future__ import annotations

import os

import marimo_harness
import pytest

pytestmark = pytest.mark.browser


def _need_marimo() -> None:
    if marimo_harness.marimo_version() is None:
        reason = "marimo is not installed: pip install -e .[test]"
        if os.environ.get("INVWIDGETS_REQUIRE_BROWSER", "") not in ("", "0"):
            pytest.fail(f"{reason}, and INVWIDGETS_REQUIRE_BROWSER=1 requires browser tests to run",
                        pytrace=False)
        pytest.skip(reason)


@pytest.fixture
def marimo_page(chromium):
    """``factory(cells, mode) -> MarimoPage`` on a fresh server per call; all stopped after."""
    _need_marimo()
    servers: list[marimo_harness.MarimoServer] = []
    pages: list[marimo_harness.MarimoPage] = []

    def factory(cells: list[str], mode: str = "edit") -> marimo_harness.MarimoPage:
        server = marimo_harness.start_marimo(cells, mode=mode)
        servers.append(server)
        page = marimo_harness.MarimoPage.new(chromium, server)
        pages.append(page)
        return page

    yield factory
    for page in pages:
        page.close()
    for server in servers:
        server.stop()


COUNTER = r'''
import anywidget
import marimo as mo
import traitlets

class Counter(anywidget.AnyWidget):
    _esm = """
    function render({ model, el }) {
      const button = document.createElement("button");
      button.className = "mo-counter";
      const show = () => { button.textContent = "count " + model.get("count"); };
      button.addEventListener("click", () => {
        model.set("count", model.get("count") + 1);
        model.save_changes();
      });
      model.on("change:count", show);
      show();
      el.appendChild(button);
    }
    export default { render };
    """
    count = traitlets.Int(0).tag(sync=True)

counter = mo.ui.anywidget(Counter())
counter
'''

SEEN = '''
mo.md(f"<span class='py-seen'>python sees {counter.value['count']}</span>")
'''


@pytest.mark.parametrize("mode", marimo_harness.MODES)
def test_anywidget_value_round_trips(marimo_page, mode):
    page = marimo_page([COUNTER, SEEN], mode=mode)
    page.open(ready="button.mo-counter")
    seen = page.locator(".py-seen")
    seen.filter(has_text="python sees 0").wait_for(timeout=60_000)
    for _ in range(3):
        page.locator("button.mo-counter").click()
    # Each click is sent to the kernel, which sets the trait and re-runs the cell that reads
    # counter.value: the text comes from Python.
    seen.filter(has_text="python sees 3").wait_for(timeout=60_000)
    assert page.locator("button.mo-counter").inner_text() == "count 3"
    assert page.python_errors() == []
    assert page.errors == []


IMAGE_VIEW = '''
import numpy as np
import invwidgets as iw

def two_colour(left, right):
    img = np.zeros((8, 8, 3), np.uint8)
    img[:, :4] = left
    img[:, 4:] = right
    return img

view = iw.ImageView(two_colour((255, 0, 0), (0, 0, 255)), width=160, caption="from the cell")
view
'''

BACKGROUND = r'''
import threading
import anywidget
import traitlets

class Trigger(anywidget.AnyWidget):
    _esm = """
    function render({ model, el }) {
      for (const name of ["thread_go", "worker_go"]) {
        const b = document.createElement("button");
        b.className = "mo-" + name;
        b.textContent = name;
        b.addEventListener("click", () => { model.set(name, model.get(name) + 1); model.save_changes(); });
        el.appendChild(b);
      }
    }
    export default { render };
    """
    thread_go = traitlets.Int(0).tag(sync=True)
    worker_go = traitlets.Int(0).tag(sync=True)

trigger = Trigger()
go = threading.Event()

def from_plain_thread():
    # Sets the view's traits from a thread that is not the kernel's, after the page asked.
    if go.wait(600):
        view.set_image(two_colour((0, 255, 0), (255, 255, 0)))
        view.caption = "from a plain thread"

def shown_by_worker(img):
    view.set_image(img)
    view.caption = "from the worker"

def on_worker_go(change):
    view.run_in_worker("bg", two_colour, (255, 0, 255), (0, 255, 255), on_result=shown_by_worker)

threading.Thread(target=from_plain_thread, daemon=True).start()
trigger.observe(lambda change: go.set(), names="thread_go")
trigger.observe(on_worker_go, names="worker_go")
trigger
'''

CANVAS = ".invw-view[data-kind=image] canvas.invw-main"
CAPTION = ".invw-view[data-kind=image] .invw-caption"

_PIXELS = """(c, points) => {
  if (!c.width || c.width < 8) return null;
  const ctx = c.getContext('2d');
  return points.map(([x, y]) => Array.from(ctx.getImageData(x, y, 1, 1).data));
}"""


def _wait_pixels(page, left, right, timeout: float = 60) -> None:
    """Wait until the view's canvas shows ``left`` in its left half and ``right`` in its right."""
    want = [[*left, 255], [*right, 255]]
    canvas = page.locator(CANVAS).first
    handle = canvas.element_handle(timeout=timeout * 1000)
    page.page.wait_for_function(
        f"([c, points, want]) => {{ const got = ({_PIXELS})(c, points);"
        " return !!got && JSON.stringify(got) === JSON.stringify(want); }",
        arg=[handle, [[1, 4], [6, 4]], want], timeout=timeout * 1000, polling=100)


@pytest.mark.parametrize("mode", marimo_harness.MODES)
def test_image_view_and_background_updates(marimo_page, mode):
    page = marimo_page([IMAGE_VIEW, BACKGROUND], mode=mode)
    page.open(ready=CANVAS)
    _wait_pixels(page, (255, 0, 0), (0, 0, 255))
    assert page.locator(CAPTION).first.inner_text() == "from the cell"

    page.locator("button.mo-thread_go").click()
    page.locator(CAPTION, has_text="from a plain thread").wait_for(timeout=60_000)
    _wait_pixels(page, (0, 255, 0), (255, 255, 0))

    page.locator("button.mo-worker_go").click()
    page.locator(CAPTION, has_text="from the worker").wait_for(timeout=60_000)
    _wait_pixels(page, (255, 0, 255), (0, 255, 255))
    assert page.python_errors() == []
    assert page.errors == []


def test_run_mode_sessions_share_the_worker_but_not_their_views(marimo_page, chromium):
    """``marimo run`` gives each browser session its own kernel, as a thread of one server
    process: both sessions' views use the process's one inference worker, and each result
    reaches only the page of the session that asked for it."""
    first = marimo_page([IMAGE_VIEW, BACKGROUND], mode="run")
    second = marimo_harness.MarimoPage.new(chromium, first.server)
    try:
        for page in (first, second):
            page.open(ready=CANVAS)
            _wait_pixels(page, (255, 0, 0), (0, 0, 255))
        first.locator("button.mo-worker_go").click()
        first.locator(CAPTION, has_text="from the worker").wait_for(timeout=60_000)
        _wait_pixels(first, (255, 0, 255), (0, 255, 255))
        second.locator("button.mo-thread_go").click()
        second.locator(CAPTION, has_text="from a plain thread").wait_for(timeout=60_000)
        _wait_pixels(second, (0, 255, 0), (255, 255, 0))
        # Each page still shows its own session's last image.
        assert first.locator(CAPTION).first.inner_text() == "from the worker"
        _wait_pixels(first, (255, 0, 255), (0, 255, 255))
        assert first.python_errors() == second.python_errors() == []
        assert first.errors == second.errors == []
    finally:
        second.close()


ROOT_AND_CHILD = r'''
import threading
import anywidget
import ipywidgets
import traitlets
from ipywidgets.widgets.widget import widget_serialization

class Child(ipywidgets.Widget):
    # A plain widget model: no front-end code of its own; the root's module draws it.
    text = traitlets.Unicode("").tag(sync=True)
    clicks = traitlets.Int(0).tag(sync=True)
    blob = traitlets.Bytes(b"\x01\x02\x03").tag(sync=True)

class Root(anywidget.AnyWidget):
    _esm = """
    async function render({ model, el }) {
      const ids = model.get("panels");
      const kids = await Promise.all(
        ids.map((id) => model.widget_manager.get_model(String(id).slice("IPY_MODEL_".length))));
      const bytes = (v) => v instanceof DataView ? new Uint8Array(v.buffer, v.byteOffset, v.byteLength)
                                                 : new Uint8Array(v.buffer || v);
      kids.forEach((kid, i) => {
        const b = document.createElement("button");
        b.className = "mo-child mo-child-" + i;
        const show = () => {
          b.textContent = kid.get("text");
          b.dataset.blob = Array.from(bytes(kid.get("blob"))).join(",");
        };
        kid.on("change:text", show);
        kid.on("change:blob", show);
        show();
        b.addEventListener("click", () => { kid.set("clicks", kid.get("clicks") + 1); kid.save_changes(); });
        el.appendChild(b);
      });
      // custom messages both ways, with binary buffers, on a child model
      const ping = document.createElement("button");
      ping.className = "mo-ping";
      ping.textContent = "ping";
      ping.addEventListener("click", () => kids[1].send({ action: "ping" }));
      kids[1].on("msg:custom", (content, buffers) => {
        ping.textContent = "pong " + content.pong + " " + Array.from(bytes(buffers[0])).join(",");
      });
      el.appendChild(ping);
    }
    export default { render };
    """
    panels = traitlets.List(traitlets.Instance(ipywidgets.Widget)).tag(sync=True, **widget_serialization)

first, second = Child(text="first from python"), Child(text="second from python")
go = threading.Event()

def on_click(change):
    first.text = f"python saw {change['new']} clicks"
    if change["new"] == 2:
        go.set()

def from_plain_thread():
    if go.wait(600):
        second.text = "second from a plain thread"
        second.blob = bytes([250, 0, 7])

def on_ping(widget, content, buffers):
    second.send({"pong": content["action"]}, [b"\x09\x08"])

first.observe(on_click, names="clicks")
second.on_msg(on_ping)
threading.Thread(target=from_plain_thread, daemon=True).start()
Root(panels=[first, second])
'''


@pytest.mark.parametrize("mode", marimo_harness.MODES)
def test_root_anywidget_draws_child_models(marimo_page, mode):
    """One anywidget root whose children are plain widget models without front-end code,
    reached through ``model.widget_manager.get_model``: their state (a binary trait too) is
    drawn, a click on a child reaches Python, child traits set in Python (in a callback, and
    from a plain thread) reach the page, and custom messages with buffers go both ways."""
    page = marimo_page([ROOT_AND_CHILD], mode=mode)
    page.open(ready="button.mo-child-1")
    assert page.locator("button.mo-child-0").inner_text() == "first from python"
    assert page.locator("button.mo-child-1").inner_text() == "second from python"
    assert page.locator("button.mo-child-0").get_attribute("data-blob") == "1,2,3"
    page.locator("button.mo-child-0").click()
    page.locator("button.mo-child-0", has_text="python saw 1 clicks").wait_for(timeout=60_000)
    page.locator("button.mo-child-0").click()
    page.locator("button.mo-child-0", has_text="python saw 2 clicks").wait_for(timeout=60_000)
    page.locator("button.mo-child-1", has_text="second from a plain thread").wait_for(timeout=60_000)
    page.locator("button.mo-child-1[data-blob='250,0,7']").wait_for(timeout=60_000)
    page.locator("button.mo-ping").click()
    page.locator("button.mo-ping", has_text="pong ping 9,8").wait_for(timeout=60_000)
    assert page.python_errors() == []
    assert page.errors == []


LATENT = """
import torch
torch.set_num_threads(1)
import invwidgets as iw
explorer = iw.LatentExplorer(iw.zoo.load("ae-sprites"), iw.data.sprites())
# The first frames are drawn before the explorer is shown, so a change on the page is the slider's.
assert explorer.wait_idle(120)
explorer
"""

SLIDER0 = ".invw-view[data-kind=sliders] input[type=range][data-index='0']"
DECODED = ".invw-view[data-kind=image] canvas.invw-main"


@pytest.mark.parametrize("mode", marimo_harness.MODES)
def test_latent_explorer_slider_redraws_the_decoded_image(marimo_page, mode):
    """An explorer is one anywidget root: it renders in marimo, and a slider move in the page
    reaches the worker and redraws the decoded image."""
    page = marimo_page([LATENT], mode=mode)
    page.open(ready=SLIDER0)
    decoded = page.locator(DECODED).nth(1)
    page.page.wait_for_function("c => c.width > 1", arg=decoded.element_handle(), timeout=60_000)
    before = decoded.evaluate("c => c.toDataURL()")
    page.locator(SLIDER0).evaluate(
        "el => { el.value = el.max; el.dispatchEvent(new Event('input', {bubbles: true})); }")
    page.page.wait_for_function("([c, before]) => c.toDataURL() !== before",
                                arg=[decoded.element_handle(), before], timeout=60_000, polling=100)
    assert page.python_errors() == []
    assert page.errors == []


def test_harness_reports_a_cell_error(marimo_page):
    """The harness sees a cell that raised (so the checks above can fail)."""
    page = marimo_page(["import marimo as mo\nmo.md('<b class=\"ok\">ok</b>')",
                        "raise ValueError('expected by the test')"], mode="edit")
    page.open(ready="b.ok")
    errors = page.python_errors()
    assert any("expected by the test" in e for e in errors), errors


def test_write_marimo_notebook_runs_as_a_script(tmp_path):
    """The generated file is a marimo app: run as a script, its cells compute in dependency
    order (marimo read each cell's definitions and references from its code)."""
    _need_marimo()
    import runpy

    path = marimo_harness.write_marimo_notebook(tmp_path / "nb.py", ["y = x + 1", "x = 1"])
    app = runpy.run_path(str(path), run_name="generated")["app"]
    _, defs = app.run()
    assert (defs["x"], defs["y"]) == (1, 2)


# --------------------------------------------------------------------------- the other explorers
#
# One marimo server and one page for the four explorers below (built once, each in its own
# cell, on small zoo models; once with ``marimo edit``, once with ``marimo run``): every test scrolls to its explorer, interacts with it in the
# page and checks that Python saw the interaction and the worker's result was drawn.
#
# Python-side values are read through a probe: a small anywidget shown by the first cell. The
# test writes code into it and clicks; a thread of the kernel evaluates the code in the
# notebook's globals and sends back its value as JSON (marimo has no kernel_eval; a thread, so
# that ``explorer.wait_idle()`` may be called while the worker delivers).

PROBE = r'''
import json
import threading
import traceback
import anywidget
import traitlets
import torch
torch.set_num_threads(1)
import invwidgets as iw
from invwidgets import zoo

class Probe(anywidget.AnyWidget):
    _esm = """
    function render({ model, el }) {
      const code = document.createElement("textarea");
      code.className = "mo-probe-code";
      const run = document.createElement("button");
      run.className = "mo-probe-run";
      run.textContent = "eval";
      run.dataset.seq = "0";
      const out = document.createElement("pre");
      out.className = "mo-probe-answer";
      const show = () => {
        const answer = JSON.parse(model.get("answer") || '{"seq": 0}');
        out.textContent = model.get("answer");
        out.dataset.seq = String(answer.seq);
      };
      run.addEventListener("click", () => {
        const seq = Number(run.dataset.seq) + 1;
        run.dataset.seq = String(seq);
        model.set("request", JSON.stringify({ seq, code: code.value }));
        model.save_changes();
      });
      model.on("change:answer", show);
      show();
      el.append(code, run, out);
    }
    export default { render };
    """
    request = traitlets.Unicode("").tag(sync=True)
    answer = traitlets.Unicode("").tag(sync=True)

    @traitlets.observe("request")
    def _on_request(self, change):
        threading.Thread(target=self._evaluate, args=(json.loads(change["new"]),), daemon=True).start()

    def _evaluate(self, req):
        try:
            try:
                value = eval(req["code"], globals())
            except SyntaxError:
                exec(req["code"], globals())
                value = None
            out = {"seq": req["seq"], "value": value}
            text = json.dumps(out, default=repr)
        except BaseException:
            text = json.dumps({"seq": req["seq"], "error": traceback.format_exc()})
        self.answer = text

probe = Probe()
probe
'''

INVARIANCE = """
invariance = iw.InvarianceExplorer(zoo.load("svae-digits"), zoo.test_split("svae-digits"),
                                   zoo.load("baseline-digits"), k=4, device="cpu")
assert invariance.wait_idle(300)
invariance
"""

FACTOR = """
_ae = zoo.load("ae-color-digits-s0")
factor = iw.FactorExplorer(_ae, zoo.load("iin-ae-color-digits-s0"), decoder=_ae,
                           dataset=zoo.test_split("ae-color-digits-s0"), device="cpu")
factor.select(source=0, target=3)
assert factor.wait_idle(300)
factor
"""

INVERSION = """
_ckpts = zoo.load("cnn-digits-ckpts-s0")
inversion = iw.InversionExplorer(_ckpts.final, ["input", "conv1", "conv2", "fc", "logits"],
                                 zoo.test_split("inv-digits-s0").subset(range(100)),
                                 zoo.load("inv-digits-s0"), n_samples=8, n_boot=50, device="cpu")
assert inversion.wait_idle(300)
inversion
"""

RESPONSE = """
from invwidgets.data import sprites
response = iw.ResponseExplorer(zoo.load("betavae-sprites-s1"), sprites(size=16, rotations=1),
                               n_traversals=5, seed=0, device="cpu")
assert response.wait_idle(300)
response
"""

#: The root of each explorer, found by a panel only it has (test_explorer_roots_carry_their_classes
#: checks the root's own classes, which the module puts on the element where the host does not).
ROOTS = {
    "invariance": ".invw-root:has(.invw-invariance-readout)",
    "factor": ".invw-root:has(.invw-swap-result)",
    "inversion": ".invw-root:has(section[aria-label='Inversions of one layer'])",
    "response": ".invw-root:has(.invw-response-matrix)",
}


class ExplorerPage:
    """The shared page of the four explorers, with ``py(code)`` through the probe."""

    def __init__(self, page: marimo_harness.MarimoPage) -> None:
        self.page = page

    def root(self, name: str):
        return self.page.locator(ROOTS[name]).first

    def py(self, code: str, timeout: float = 120):
        """The value (JSON) of ``code`` evaluated in the notebook's kernel; raises on its error."""
        # Set and click without scrolling the page (the test's mouse positions stay valid).
        self.page.locator("textarea.mo-probe-code").evaluate("(el, code) => { el.value = code; }", code)
        run = self.page.locator("button.mo-probe-run")
        run.dispatch_event("click")
        seq = run.get_attribute("data-seq")
        answer = self.page.locator(f"pre.mo-probe-answer[data-seq='{seq}']")
        answer.wait_for(state="attached", timeout=timeout * 1000)
        import json

        got = json.loads(answer.text_content())
        if "error" in got:
            raise AssertionError(f"{code!r} raised in the kernel:\n{got['error']}")
        return got["value"]

    def wait_py(self, code: str, want, timeout: float = 60):
        """Wait until ``code``'s value in the kernel equals ``want``; returns the last value."""
        import time

        deadline = time.monotonic() + timeout
        while True:
            got = self.py(code)
            if got == want or time.monotonic() > deadline:
                return got
            time.sleep(0.2)


_CANVAS_DATA = "c => Array.from(c.getContext('2d').getImageData(0, 0, c.width, c.height).data)"
_CHANGED = ("([c, before]) => { const d = c.getContext('2d').getImageData(0, 0, c.width, c.height).data;"
            " return d.length !== before.length || d.some((v, i) => v !== before[i]); }")


def _image_canvas(root, caption: str):
    """The main canvas of the image view in ``root`` whose caption is ``caption``."""
    view = root.locator(".invw-view[data-kind=image]").filter(
        has=root.page.locator(".invw-caption", has_text=caption))
    return view.locator("canvas.invw-main").first


def _center(locator) -> None:
    """Scroll ``locator``'s element to the middle of marimo's scrolling area, at once (mouse
    positions taken afterwards stay valid; nothing of marimo's overlays the element)."""
    locator.evaluate("el => el.scrollIntoView({block: 'center', inline: 'center', behavior: 'instant'})")


def _stable_box(locator, timeout: float = 30) -> dict:
    """The element's bounding box once it stays put for 0.3 s (the page above it may still be
    laying out other explorers' panels, which moves it between reading the box and the mouse)."""
    import time

    deadline = time.monotonic() + timeout
    box = locator.bounding_box()
    while time.monotonic() < deadline:
        time.sleep(0.3)
        again = locator.bounding_box()
        if again == box:
            return box
        box = again
    raise AssertionError(f"{locator} kept moving for {timeout} s")


def _wait_changed(ep: ExplorerPage, canvas, before: list[int], timeout: float = 60) -> list[int]:
    ep.page.page.wait_for_function(_CHANGED, arg=[canvas.element_handle(), before],
                                   timeout=timeout * 1000, polling=100)
    return canvas.evaluate(_CANVAS_DATA)


@pytest.fixture(scope="module", params=marimo_harness.MODES)
def explorers_page(request, chromium):
    """The four explorers' page, once in ``marimo edit`` and once in ``marimo run`` (pytest runs
    all tests on one server before it starts the other)."""
    _need_marimo()
    server = marimo_harness.start_marimo([PROBE, INVARIANCE, FACTOR, INVERSION, RESPONSE],
                                         mode=request.param)
    page = marimo_harness.MarimoPage.new(chromium, server)
    try:
        page.open(ready="button.mo-probe-run", timeout=300)
        for selector in ROOTS.values():
            page.locator(selector).first.wait_for(timeout=300_000)
        page.wait_idle(300)
        yield ExplorerPage(page)
    finally:
        page.close()
        server.stop()


def _check_clean(ep: ExplorerPage, name: str) -> None:
    assert ep.py(f"({name}.status, {name}.error)") == ["idle", ""]
    assert ep.page.python_errors() == []
    assert ep.page.errors == []


def test_explorer_roots_carry_their_classes(explorers_page):
    """marimo's host does not put a root's ``_dom_classes`` on the page (Jupyter's widget manager
    does); the module does, so CSS and selectors written for ``.invw-explorer`` work in both."""
    ep = explorers_page
    for name in ROOTS:
        assert "invw-explorer" in ep.root(name).get_attribute("class").split(), name
    assert "invw-response-explorer" in ep.root("response").get_attribute("class").split()
    assert ep.page.locator(".invw-explorer").count() == len(ROOTS)


def test_invariance_explorer_nuisance_drag_redraws_the_sample(explorers_page):
    """Dragging a nuisance slider in the page moves the slider's value in Python; the worker
    decodes the new sample and the page draws exactly its pixels; the class stays."""
    ep = explorers_page
    root = ep.root("invariance")
    nuisance = root.locator(".invw-view[data-kind=sliders] input[type=range][data-index='4']")
    assert root.locator(".invw-view[data-kind=sliders] input[type=range][data-index='0']").is_disabled()
    sample = _image_canvas(root, "sample x'")
    ep.page.page.wait_for_function("c => c.width > 1", arg=sample.element_handle(), timeout=60_000)
    before = sample.evaluate(_CANVAS_DATA)
    assert any(v != 0 for v in before), "the sample was never drawn"
    class_before = ep.py("invariance.prediction['latent']")

    _center(nuisance)
    box = _stable_box(nuisance)
    lo, hi = float(nuisance.get_attribute("min")), float(nuisance.get_attribute("max"))
    start = (float(nuisance.input_value()) - lo) / (hi - lo)
    target = 0.05 if start > 0.5 else 0.95
    y = box["y"] + box["height"] / 2
    mouse = ep.page.page.mouse
    mouse.move(box["x"] + box["width"] * start, y)
    mouse.down()
    for i in range(1, 21):
        mouse.move(box["x"] + box["width"] * (start + (target - start) * i / 20), y)
    mouse.up()
    dom_value = float(nuisance.input_value())
    assert abs(dom_value - (lo + start * (hi - lo))) > 0.25 * (hi - lo), "the drag did not move the slider"
    got = ep.wait_py("round(invariance.sliders.values[4], 4)", round(dom_value, 4))
    assert got == round(dom_value, 4)
    assert ep.py("invariance.wait_idle(120)") is True
    after = _wait_changed(ep, sample, before)
    # what Python decoded, with the attribution blended in as to_png() does (red channel)
    assert ep.py("invariance.sample._render()[..., 0].ravel().tolist()") == after[0::4]
    assert ep.py("invariance.prediction['latent']") == class_before
    _check_clean(ep, "invariance")


def test_factor_explorer_swap_toggle_redraws_the_swap(explorers_page):
    """Clicking the colour swap toggle in the page sets ``swap`` in Python; the worker decodes
    the target with the source's colour factor and the page draws exactly those pixels."""
    ep = explorers_page
    root = ep.root("factor")
    swap = _image_canvas(root, "target with source's factors")
    swap.scroll_into_view_if_needed()
    ep.page.page.wait_for_function("c => c.width > 1", arg=swap.element_handle(), timeout=60_000)
    before = swap.evaluate(_CANVAS_DATA)
    assert any(v != 0 for v in before), "the swap result was never drawn"
    assert ep.py("factor.swap") == []
    toggle = root.locator(".invw-swap-color button")
    toggle.scroll_into_view_if_needed()
    toggle.click()
    assert ep.wait_py("factor.swap", ["color"]) == ["color"]
    assert ep.py("factor.wait_idle(120)") is True
    after = _wait_changed(ep, swap, before)
    rgb = [v for i, v in enumerate(after) if i % 4 != 3]
    assert ep.py("factor.swap_view.image.ravel().tolist()") == rgb
    _check_clean(ep, "factor")


def test_inversion_explorer_layer_choice_redraws_the_samples(explorers_page):
    """Choosing another layer in the dropdown reaches Python; the worker samples that layer's
    inversion model and the page's sample grid shows exactly those samples."""
    ep = explorers_page
    root = ep.root("inversion")
    dropdown = root.locator(".invw-control[data-control=dropdown] select").first
    grid = root.locator(".invw-view[data-kind=grid]").filter(
        has=ep.page.page.locator(".invw-panel-label", has_text="samples of p(x"))
    first = grid.locator(".invw-cell[data-index='0'] canvas.invw-main").first
    _center(first)
    ep.page.page.wait_for_function("c => c.width > 1", arg=first.element_handle(), timeout=60_000)
    before = first.evaluate(_CANVAS_DATA)
    assert any(v != 0 for v in before), "the samples were never drawn"
    assert ep.py("inversion.layer") == "input"
    dropdown.select_option("logits")
    assert ep.wait_py("inversion.layer", "logits") == "logits"
    assert ep.py("inversion.wait_idle(120)") is True
    after = _wait_changed(ep, first, before)
    assert grid.locator(".invw-cell[data-index='0'] .invw-caption").inner_text().startswith("logits #")
    assert ep.py("inversion.sample_images().shape[0]") == grid.locator(".invw-cell").count()
    assert ep.py("inversion.sample_images()[0, ..., 0].ravel().tolist()") == after[0::4]
    _check_clean(ep, "inversion")


def test_response_explorer_heatmap_click_shows_the_interventions(explorers_page):
    """Clicking a cell of the response matrix (where the canvas chart says it drew it) sets the
    explorer's ``cell`` in Python; the worker decodes the interventions and the page draws them,
    the first exactly as Python has it."""
    ep = explorers_page
    root = ep.root("response")
    canvas = root.locator(".invw-response-matrix canvas.invw-chart-canvas").first
    canvas.scroll_into_view_if_needed()
    d = ep.py("response.latent_dim")
    ep.page.page.wait_for_function("([c, n]) => (c.invwHits || []).length === n",
                                   arg=[canvas.element_handle(), d * d], timeout=60_000)
    cells = root.locator(".invw-response-cell-images .invw-cell")
    assert cells.count() == 0 and ep.py("response.cell") == [-1, -1]
    j, i = 2, 1
    bx, by, bw, bh = canvas.evaluate(
        "(c, p) => c.invwHits.find(h => h.point[0] === p[0] && h.point[1] === p[1]).box", [j, i])
    _center(canvas)
    top = _stable_box(canvas)
    ep.page.page.mouse.click(top["x"] + bx + bw / 2, top["y"] + by + bh / 2)
    assert ep.wait_py("response.cell", [j, i]) == [j, i]
    assert ep.py("response.wait_idle(120)") is True
    n = ep.py("len(response.cell_images.images)")
    assert n > 1
    ep.page.page.wait_for_function("([root, n]) => root.querySelectorAll("
                                   "'.invw-response-cell-images .invw-cell').length === n",
                                   arg=[root.element_handle(), n], timeout=60_000)
    captions = root.locator(".invw-response-cell-images .invw-cell .invw-caption").all_inner_texts()
    assert len(captions) == n and captions[0].startswith(f"z{j}=")
    first = cells.first.locator("canvas.invw-main")
    ep.page.page.wait_for_function("c => c.width > 1", arg=first.element_handle(), timeout=60_000)
    pixels = first.evaluate(_CANVAS_DATA)
    assert any(pixels[k] for k in range(0, len(pixels), 4)), "the first intervention is blank"
    assert ep.py("response.cell_images.images[0, ..., 0].ravel().tolist()") == pixels[0::4]
    _check_clean(ep, "response")
