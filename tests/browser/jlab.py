"""Real JupyterLab + headless Chromium harness, usable without pytest.

Server side (standard library + jupyter; no playwright needed)::

    from jlab import start_jupyterlab
    with start_jupyterlab(nodelay=True) as server:      # JupyterServer
        server.url("lab")                                  # http://127.0.0.1:PORT/lab?token=...
        server.api("api/kernels")                          # JSON over the REST API
        nb = server.write_notebook("t.ipynb", ["x = 1", "print(x)"])

Browser side (playwright sync API, Debian's /usr/bin/chromium)::

    from playwright.sync_api import sync_playwright
    from jlab import launch_chromium, LabPage
    with sync_playwright() as pw:
        browser = launch_chromium(pw)
        lab = LabPage.new(browser, server)                # collects console/page errors
        lab.open_notebook(nb)                              # unique workspace, ?reset, kernel idle
        errors = lab.run_all()                             # error outputs of cells ([] if none)
        lab.kernel_eval("print(1 + 1)")                    # -> "2\n"
        lab.screenshot("shot.png")
        assert lab.errors == []

To use from a benchmark script: ``sys.path.insert(0, "<repo>/tests/browser")``, then
``import jlab``.

The server runs with isolated config/data/runtime/settings/workspace directories
in a temp dir (nothing leaks from or into the user's Jupyter settings) but keeps
the system and virtual-env config path, so installed server extensions — the
``invwidgets.nodelay`` one in particular — load as they would for a user.
"""

from __future__ import annotations

import contextlib
import json
import os
import secrets
import shutil
import signal
import socket
import subprocess
import sys
import tempfile
import time
import urllib.error
import urllib.request
import uuid
import weakref
from collections.abc import Callable, Iterable
from dataclasses import dataclass, field
from pathlib import Path
from typing import Any

HERE = Path(__file__).resolve().parent

CHROMIUM = os.environ.get("INVWIDGETS_CHROMIUM", "/usr/bin/chromium")
CHROMIUM_ARGS = [
    "--headless",
    "--no-sandbox",
    "--disable-gpu",
    "--disable-background-networking",
    "--disable-component-update",
    "--disable-sync",
    "--no-first-run",
    "--disable-quic",
]

#: Environment variables that must not leak from the caller into a test server.
_SCRUB_ENV = (
    "INVWIDGETS_NODELAY_ACTIVE",  # set by the extension itself; inherited if pytest runs in a kernel
    "JUPYTER_TOKEN",
    "JUPYTERHUB_API_TOKEN",
    "JPY_SESSION_NAME",
    "JPY_PARENT_PID",
)


class HarnessError(RuntimeError):
    pass


class NotebookError(AssertionError):
    """A cell of the notebook raised."""


def free_port() -> int:
    """A TCP port on 127.0.0.1 that was free a moment ago."""
    with socket.socket(socket.AF_INET, socket.SOCK_STREAM) as s:
        s.bind(("127.0.0.1", 0))
        return s.getsockname()[1]


def chromium_path() -> str | None:
    """Path to a usable Chromium executable, or None."""
    p = Path(CHROMIUM)
    return str(p) if p.is_file() and os.access(p, os.X_OK) else None


# --------------------------------------------------------------------------- server


class ServerProcess:
    """What a test server handle shares, JupyterLab's or marimo's: the loopback URL of its port,
    its log in ``base_dir``, whether its process still runs. Subclasses are dataclasses that
    declare ``proc``, ``port`` and ``base_dir``."""

    proc: subprocess.Popen
    port: int
    base_dir: Path

    @property
    def base_url(self) -> str:
        return f"http://127.0.0.1:{self.port}/"

    @property
    def log_path(self) -> Path:
        return self.base_dir / "server.log"

    def log_text(self) -> str:
        try:
            return self.log_path.read_text(errors="replace")
        except OSError:
            return ""

    def alive(self) -> bool:
        return self.proc.poll() is None


@dataclass
class JupyterServer(ServerProcess):
    proc: subprocess.Popen
    port: int
    token: str
    base_dir: Path  # temp dir holding root/, config/, data/, runtime/, ... and server.log
    root_dir: Path
    nodelay: bool
    app: str
    _own_base_dir: bool = True
    _stopped: bool = field(default=False, repr=False)

    def url(self, path: str = "", **query: str) -> str:
        """Absolute URL of ``path`` with the token as query parameter."""
        q = "&".join([f"token={self.token}"] + [f"{k}={v}" for k, v in query.items()])
        sep = "&" if "?" in path else "?"
        return f"{self.base_url}{path.lstrip('/')}{sep}{q}"

    def api(self, path: str, method: str = "GET", body: Any = None, timeout: float = 30) -> Any:
        """Call the server's REST API with the token; returns parsed JSON (or None)."""
        data = None if body is None else json.dumps(body).encode()
        req = urllib.request.Request(
            self.base_url + path.lstrip("/"),
            data=data,
            method=method,
            headers={"Authorization": f"token {self.token}", "Content-Type": "application/json"},
        )
        with urllib.request.urlopen(req, timeout=timeout) as r:
            raw = r.read()
        return json.loads(raw) if raw else None

    def write_notebook(self, name: str, cells: Iterable[str], **kwargs) -> str:
        """Write a notebook from cell sources into the server root; returns its relative path."""
        return write_notebook(self.root_dir / name, cells, **kwargs).relative_to(self.root_dir).as_posix()

    def copy_into_root(self, src: str | os.PathLike, name: str | None = None) -> str:
        """Copy a file (e.g. a notebook) into the server root; returns its relative path."""
        src = Path(src)
        dst = self.root_dir / (name or src.name)
        dst.parent.mkdir(parents=True, exist_ok=True)
        shutil.copyfile(src, dst)
        return dst.relative_to(self.root_dir).as_posix()

    def stop(self, timeout: float = 15) -> None:
        """Stop the server by its pid (SIGTERM: the server shuts its kernels down),
        then kill the server and any of its child processes (kernels) still alive."""
        if self._stopped:
            return
        self._stopped = True
        stop_process_tree(self.proc, timeout)
        if self._own_base_dir:
            shutil.rmtree(self.base_dir, ignore_errors=True)

    def __enter__(self) -> JupyterServer:
        return self

    def __exit__(self, *exc) -> None:
        self.stop()


def stop_process_tree(proc: subprocess.Popen, timeout: float) -> None:
    """Stop a server by its pid: SIGTERM, SIGKILL if it has not exited after ``timeout`` s,
    then its child processes (kernels) that are still alive."""
    children = _children(proc.pid)
    if proc.poll() is None:
        with contextlib.suppress(ProcessLookupError):
            proc.send_signal(signal.SIGTERM)
        try:
            proc.wait(timeout)
        except subprocess.TimeoutExpired:
            with contextlib.suppress(ProcessLookupError):
                proc.kill()
            proc.wait(5)
    _reap(children, timeout=5)


def _children(pid: int) -> list:
    try:
        import psutil
    except ImportError:  # pragma: no cover - psutil comes with ipykernel
        return []
    try:
        return psutil.Process(pid).children(recursive=True)
    except psutil.Error:
        return []


def _reap(procs: list, timeout: float) -> None:
    if not procs:
        return
    import psutil

    alive = []
    for p in procs:
        with contextlib.suppress(psutil.Error):
            if p.is_running():
                p.terminate()
                alive.append(p)
    _, still = psutil.wait_procs(alive, timeout=timeout)
    for p in still:
        with contextlib.suppress(psutil.Error):
            p.kill()
    psutil.wait_procs(still, timeout=timeout)


def _isolated_env(base: Path, nodelay: bool | None, probe: bool, extra: dict | None,
                  python: str | os.PathLike | None = None) -> dict:
    env = {k: v for k, v in os.environ.items() if k not in _SCRUB_ENV}
    for name in ("config", "data", "runtime", "settings", "workspaces"):
        (base / name).mkdir(parents=True, exist_ok=True)
    env.update(
        JUPYTER_CONFIG_DIR=str(base / "config"),  # user config dir: isolated (system/venv kept)
        JUPYTER_DATA_DIR=str(base / "data"),  # user kernelspecs/labextensions: isolated
        JUPYTER_RUNTIME_DIR=str(base / "runtime"),
        JUPYTERLAB_SETTINGS_DIR=str(base / "settings"),
        JUPYTERLAB_WORKSPACES_DIR=str(base / "workspaces"),
        JUPYTER_PLATFORM_DIRS="1",  # silence jupyter_core's migration warning
        PYTHONUNBUFFERED="1",
    )
    # Kernels must run in this interpreter's environment.
    env["PATH"] = os.path.dirname(str(python or sys.executable)) + os.pathsep + env.get("PATH", "")
    if nodelay is not None:
        env["INVWIDGETS_NODELAY"] = "1" if nodelay else "0"
    # No news/update checks: nothing may reach the network, and a first-run
    # "receive news?" toast would cover the notebook.
    notif = base / "settings" / "@jupyterlab" / "apputils-extension"
    notif.mkdir(parents=True, exist_ok=True)
    (notif / "notification.jupyterlab-settings").write_text(
        json.dumps({"checkForUpdates": False, "fetchNews": "false"})
    )
    if extra:
        env.update(extra)
    if probe:
        # Enable the test-only probe extension in the isolated user config dir.
        confd = Path(env["JUPYTER_CONFIG_DIR"]) / "jupyter_server_config.d"
        confd.mkdir(parents=True, exist_ok=True)
        (confd / "nodelay_probe.json").write_text(
            json.dumps({"ServerApp": {"jpserver_extensions": {"nodelay_probe": True}}})
        )
        env["PYTHONPATH"] = str(HERE) + (os.pathsep + env["PYTHONPATH"] if env.get("PYTHONPATH") else "")
    return env


def start_jupyterlab(
    nodelay: bool | None = True,
    *,
    app: str = "jupyterlab",
    probe: bool = False,
    root_dir: str | os.PathLike | None = None,
    extra_args: Iterable[str] = (),
    env: dict | None = None,
    python: str | os.PathLike | None = None,
    timeout: float = 90,
) -> JupyterServer:
    """Start ``python -m <app>`` (jupyterlab | jupyter_server | notebook) on a free
    127.0.0.1 port with a random token and wait until ``/api/status`` answers.

    ``nodelay``: True/False sets ``INVWIDGETS_NODELAY=1/0`` for the server (the
    extension stays loaded, the switch decides); None leaves the caller's value.
    ``probe``: also load the test-only ``nodelay_probe`` server extension.
    ``python``: interpreter to run the server with (default: this one).
    Stop with ``server.stop()`` or use as a context manager.
    """
    base = Path(tempfile.mkdtemp(prefix="invwidgets-jlab-"))
    root = Path(root_dir) if root_dir is not None else base / "root"
    root.mkdir(parents=True, exist_ok=True)
    run_env = _isolated_env(base, nodelay, probe, env, python)
    token = secrets.token_hex(24)
    last_err = ""
    for _attempt in range(3):  # a free port can be taken between choosing and binding
        port = free_port()
        args = [
            str(python or sys.executable), "-m", app,
            "--no-browser",
            "--ServerApp.ip=127.0.0.1",
            f"--ServerApp.port={port}",
            "--ServerApp.port_retries=0",
            f"--IdentityProvider.token={token}",
            "--PasswordIdentityProvider.hashed_password=",
            f"--ServerApp.root_dir={root}",
            "--ServerApp.open_browser=False",
        ]
        if hasattr(os, "geteuid") and os.geteuid() == 0:
            args += ["--allow-root"]  # containers/CI often run as root
        if app in ("jupyterlab", "notebook"):
            args += ["--expose-app-in-browser"]
        if app == "jupyterlab":
            args += ["--LabApp.check_for_updates_class=jupyterlab.NeverCheckForUpdate"]
        args += list(extra_args)
        log = open(base / "server.log", "ab")
        proc = subprocess.Popen(
            args, cwd=root, env=run_env, stdout=log, stderr=subprocess.STDOUT,
            stdin=subprocess.DEVNULL, start_new_session=True,
        )
        log.close()
        server = JupyterServer(proc, port, token, base, root, bool(nodelay), app,
                               _own_base_dir=True)
        try:
            _wait_ready(server, timeout)
            return server
        except HarnessError as e:
            last_err = str(e)
            own = server._own_base_dir
            server._own_base_dir = False
            server.stop()
            server._own_base_dir = own
            if "address already in use" not in server.log_text().lower():
                break
    shutil.rmtree(base, ignore_errors=True)
    raise HarnessError(last_err)


def wait_until_ready(proc: subprocess.Popen, ready: Callable[[], bool], what: str, log_text: Callable[[], str],
                     timeout: float, error: type[Exception] = HarnessError) -> None:
    """Poll ``ready()`` (connection errors count as not ready) until it answers True; raise
    ``error`` with the log's tail when the process exits first or ``timeout`` s pass."""
    deadline = time.monotonic() + timeout
    while time.monotonic() < deadline:
        if proc.poll() is not None:
            raise error(f"{what} exited with {proc.returncode}:\n{log_text()[-4000:]}")
        try:
            if ready():
                return
        except (urllib.error.URLError, ConnectionError, OSError, json.JSONDecodeError):
            pass
        time.sleep(0.2)
    raise error(f"{what} not ready after {timeout}s:\n{log_text()[-4000:]}")


def _wait_ready(server: JupyterServer, timeout: float) -> None:
    def ready() -> bool:
        server.api("api/status", timeout=2)
        return True

    wait_until_ready(server.proc, ready, "jupyter server", server.log_text, timeout)


def write_notebook(path: str | os.PathLike, cells: Iterable[str], kernel: str = "python3") -> Path:
    """Write a notebook of code cells (a source starting with ``%%md``/``#md`` on its
    first line becomes a markdown cell) with a kernelspec so no kernel dialog appears."""
    import nbformat

    nb = nbformat.v4.new_notebook()
    nb.metadata["kernelspec"] = {"name": kernel, "display_name": "Python 3 (ipykernel)", "language": "python"}
    nb.metadata["language_info"] = {"name": "python"}
    for src in cells:
        first, _, rest = src.partition("\n")
        if first.strip() in ("%%md", "#md"):
            nb.cells.append(nbformat.v4.new_markdown_cell(rest))
        else:
            nb.cells.append(nbformat.v4.new_code_cell(src))
    path = Path(path)
    path.parent.mkdir(parents=True, exist_ok=True)
    nbformat.write(nb, str(path))
    return path


# --------------------------------------------------------------------------- browser


def launch_chromium(playwright, executable: str | None = None, **kwargs):
    """Launch Debian's Chromium through playwright (never a downloaded browser)."""
    exe = executable or chromium_path()
    if exe is None:
        raise HarnessError(f"no Chromium at {CHROMIUM} (set INVWIDGETS_CHROMIUM)")
    return playwright.chromium.launch(executable_path=exe, args=CHROMIUM_ARGS, headless=True, **kwargs)


# Console messages that are not errors of the code under test.  Each must be
# justified; keep this list short.
BENIGN_CONSOLE_PATTERNS: tuple[str, ...] = (
    # Chromium asks for /favicon.ico on some navigations before JupyterLab sets its own
    # icon; a 404 for it says nothing about the page.
    "favicon.ico",
)


# JS helpers evaluated in the page; `path` selects the notebook panel (or current).
_JS_FIND_PANEL = """
const findPanel = (path) => {
  const app = window.jupyterapp;
  if (!app) return null;
  const ws = Array.from(app.shell.widgets('main'));
  const match = ws.filter(w => w.context && w.sessionContext && w.content &&
                              (path == null || w.context.path === path));
  if (match.length) return match[0];
  const cur = app.shell.currentWidget;
  return (path == null && cur && cur.sessionContext) ? cur : null;
};
"""


#: LabPages not yet closed (the pytest plugin screenshots them when a test fails).
LIVE_PAGES: weakref.WeakSet[LabPage] = weakref.WeakSet()


class LabPage:
    """A playwright page on a JupyterServer, with console/page error collection."""

    def __init__(self, page, server: JupyterServer, context=None):
        LIVE_PAGES.add(self)
        self.page = page
        self.server = server
        self.context = context
        self.path: str | None = None
        self.console: list[str] = []  # every console message, "type: text"
        self.errors: list[str] = []  # console errors + uncaught page errors (not benign)
        page.on("console", self._on_console)
        page.on("pageerror", lambda exc: self.errors.append(f"pageerror: {exc}"))

    @classmethod
    def new(cls, browser, server: JupyterServer, viewport=(1280, 900)) -> LabPage:
        ctx = browser.new_context(viewport={"width": viewport[0], "height": viewport[1]})
        return cls(ctx.new_page(), server, ctx)

    def close(self) -> None:
        LIVE_PAGES.discard(self)
        with contextlib.suppress(Exception):
            (self.context or self.page).close()

    def _on_console(self, msg) -> None:
        text = msg.text
        loc = ""
        with contextlib.suppress(Exception):
            loc = msg.location.get("url", "") or ""
        self.console.append(f"{msg.type}: {text}")
        if msg.type == "error" and not any(p in text or p in loc for p in BENIGN_CONSOLE_PATTERNS):
            self.errors.append(f"console.error: {text} ({loc})")

    # ---- navigation ----------------------------------------------------------------

    def open_notebook(self, path: str, workspace: str | None = None, timeout: float = 90) -> None:
        """Open ``path`` (relative to the server root) under a fresh workspace with
        ``?reset`` and wait until its kernel is started and idle."""
        ws = workspace or f"t{uuid.uuid4().hex[:12]}"
        self.path = path
        self.page.goto(self.server.url(f"lab/workspaces/{ws}/tree/{path}", reset=""),
                       timeout=timeout * 1000)
        self.wait_kernel_idle(timeout=timeout)
        self.eval_js(_JS_FIND_PANEL + "(path) => window.jupyterapp.shell.activateById(findPanel(path).id)")

    def eval_js(self, fn: str, arg: Any = None) -> Any:
        """page.evaluate with this notebook's path as argument (if arg is None)."""
        return self.page.evaluate(fn, self.path if arg is None else arg)

    def wait_kernel_idle(self, timeout: float = 60) -> None:
        """Wait until the notebook's session has a kernel whose status is idle.
        Fails at once with its text if JupyterLab shows a dialog instead (a notebook
        that cannot be read, a kernel that cannot start, a kernel chooser)."""
        handle = self.page.wait_for_function(
            _JS_FIND_PANEL + """(path) => {
              const dialog = document.querySelector('.jp-Dialog');
              if (dialog) return {dialog: dialog.innerText};
              const p = findPanel(path);
              if (!p || !p.context.isReady || !p.sessionContext.isReady) return false;
              const k = p.sessionContext.session && p.sessionContext.session.kernel;
              return (!!k && k.connectionStatus === 'connected' && k.status === 'idle') ? {ok: true} : false;
            }""",
            arg=self.path,
            timeout=timeout * 1000,
            polling=100,
        )
        state = handle.json_value()
        if state.get("dialog") is not None:
            raise HarnessError(f"JupyterLab showed a dialog while opening {self.path!r}:\n{state['dialog']}")

    def wait_execution_done(self, timeout: float = 120) -> None:
        """Wait until no code cell shows a pending/running prompt and the kernel is idle."""
        self.page.wait_for_function(
            _JS_FIND_PANEL + """(path) => {
              const p = findPanel(path);
              if (!p) return false;
              const k = p.sessionContext.session && p.sessionContext.session.kernel;
              if (!k || k.status !== 'idle') return false;
              const prompts = p.node.querySelectorAll('.jp-CodeCell .jp-InputPrompt');
              return Array.from(prompts).every(n => !n.textContent.includes('*'));
            }""",
            arg=self.path,
            timeout=timeout * 1000,
            polling=100,
        )

    def run_all(self, timeout: float = 120, raise_on_error: bool = True) -> list[dict]:
        """Run all cells, wait until execution finishes; return the error outputs
        ({cell, ename, evalue}) and raise NotebookError on any unless told not to."""
        self.eval_js(
            _JS_FIND_PANEL + """async (path) => {
              const app = window.jupyterapp;
              app.shell.activateById(findPanel(path).id);
              await app.commands.execute('notebook:run-all-cells');
            }"""
        )
        self.wait_execution_done(timeout=timeout)
        errs = self.cell_errors()
        if errs and raise_on_error:
            raise NotebookError("cells raised:\n" + "\n".join(
                f"[cell {e['cell']}] {e['ename']}: {e['evalue']}" for e in errs))
        return errs

    def cell_errors(self) -> list[dict]:
        return self.eval_js(
            _JS_FIND_PANEL + """(path) => {
              const p = findPanel(path);
              const out = [];
              p.content.widgets.forEach((cell, i) => {
                if (cell.model.type !== 'code') return;
                const outputs = cell.model.outputs;
                for (let j = 0; j < outputs.length; j++) {
                  const o = outputs.get(j).toJSON();
                  if (o.output_type === 'error') out.push({cell: i, ename: o.ename, evalue: o.evalue});
                }
              });
              return out;
            }"""
        )

    def kernel_eval(self, code: str, timeout: float = 30) -> str:
        """Execute ``code`` in this notebook's kernel (not in a cell) and return its
        stdout (plus the text/plain of an expression result).  Raises
        NotebookError with the traceback if the code raises."""
        res = self.page.evaluate(
            _JS_FIND_PANEL + """async ({path, code, timeoutMs}) => {
              const p = findPanel(path);
              const kernel = p.sessionContext.session.kernel;
              const future = kernel.requestExecute({code, silent: false, store_history: false,
                                                    allow_stdin: false, stop_on_error: false});
              let out = '', err = null;
              future.onIOPub = (msg) => {
                const t = msg.header.msg_type, c = msg.content;
                if (t === 'stream' && c.name === 'stdout') out += c.text;
                else if (t === 'stream' && c.name === 'stderr') out += c.text;
                else if (t === 'execute_result') out += (c.data['text/plain'] || '') + '\\n';
                else if (t === 'error') err = {ename: c.ename, evalue: c.evalue,
                                               traceback: c.traceback.join('\\n')};
              };
              const timer = new Promise((_, rej) =>
                setTimeout(() => rej(new Error('kernel_eval timed out')), timeoutMs));
              await Promise.race([future.done, timer]);
              return {out, err};
            }""",
            {"path": self.path, "code": code, "timeoutMs": int(timeout * 1000)},
        )
        if res["err"]:
            e = res["err"]
            raise NotebookError(f"{e['ename']}: {e['evalue']}\n{e['traceback']}")
        return res["out"]

    def wait_for_python(self, expr: str, expected: str, timeout: float = 10, interval: float = 0.1) -> str:
        """Poll ``print(expr)`` in the kernel until it prints ``expected``; return the last value."""
        deadline = time.monotonic() + timeout
        last = None
        while True:
            last = self.kernel_eval(f"print({expr})").strip()
            if last == expected or time.monotonic() > deadline:
                return last
            time.sleep(interval)

    # ---- pixels & screenshots -------------------------------------------------------

    def canvas_pixels(self, selector: str, x: int = 0, y: int = 0, w: int | None = None,
                      h: int | None = None) -> dict:
        """RGBA pixels of the first canvas matching ``selector``:
        {width, height, data: [r, g, b, a, ...]} of the region (default: whole canvas)."""
        return self.page.evaluate(
            """({selector, x, y, w, h}) => {
              const c = document.querySelector(selector);
              if (!c) throw new Error('no canvas matches ' + selector);
              const W = w == null ? c.width : w, H = h == null ? c.height : h;
              const d = c.getContext('2d').getImageData(x, y, W, H);
              return {width: d.width, height: d.height, data: Array.from(d.data)};
            }""",
            {"selector": selector, "x": x, "y": y, "w": w, "h": h},
        )

    def wait_for_pixel(self, selector: str, x: int, y: int, rgba: Iterable[int],
                       tol: int = 0, timeout: float = 10) -> None:
        """Wait until pixel (x, y) of the first canvas matching ``selector`` equals
        ``rgba`` (each channel within ``tol``)."""
        self.page.wait_for_function(
            """({selector, x, y, rgba, tol}) => {
              const c = document.querySelector(selector);
              if (!c || !c.width || !c.height) return false;
              const d = c.getContext('2d').getImageData(x, y, 1, 1).data;
              return rgba.every((v, i) => Math.abs(d[i] - v) <= tol);
            }""",
            arg={"selector": selector, "x": x, "y": y, "rgba": list(rgba), "tol": tol},
            timeout=timeout * 1000,
            polling=50,
        )

    def click_round_trips(self, button: str, watch: str, n: int = 50, gap_ms: int = 30,
                          timeout: float = 60) -> list[float]:
        """Click ``button`` ``n`` times (in the page, no playwright overhead); for each
        click, the ms until the element ``watch`` changes (text, children or attributes,
        via a MutationObserver): e.g. click -> Python observer -> echoed trait -> DOM.
        For benchmarks; tests should not assert on timings."""
        return self.page.evaluate(
            """async ({button, watch, n, gapMs, timeoutMs}) => {
              const btn = document.querySelector(button), el = document.querySelector(watch);
              if (!btn || !el) throw new Error('no element for ' + (btn ? watch : button));
              const out = [];
              for (let i = 0; i < n; i++) {
                const t0 = performance.now();
                await new Promise((resolve, reject) => {
                  const timer = setTimeout(() => { mo.disconnect(); reject(new Error('no change')); },
                                           timeoutMs);
                  const mo = new MutationObserver(() => {
                    mo.disconnect(); clearTimeout(timer); resolve();
                  });
                  mo.observe(el, {childList: true, characterData: true, subtree: true, attributes: true});
                  btn.click();
                });
                out.push(performance.now() - t0);
                await new Promise(r => setTimeout(r, gapMs));
              }
              return out;
            }""",
            {"button": button, "watch": watch, "n": n, "gapMs": gap_ms, "timeoutMs": int(timeout * 1000)},
        )

    def screenshot(self, path: str | os.PathLike, full_page: bool = False) -> Path:
        path = Path(path)
        path.parent.mkdir(parents=True, exist_ok=True)
        self.page.screenshot(path=str(path), full_page=full_page)
        return path

    def server_kernel_websockets(self) -> dict:
        """Server-side state of kernel websockets (needs a server started with probe=True)."""
        return self.server.api("invwidgets-probe/kernel-websockets")
