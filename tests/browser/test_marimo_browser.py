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
