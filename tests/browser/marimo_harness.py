"""A real marimo server + headless Chromium harness, usable without pytest.

marimo is anywidget's other host: a notebook is a Python file of cells, run by ``marimo edit``
(the editor, its kernel in a child process) or ``marimo run`` (a read-only app). This module
writes such a file, starts the server on a free 127.0.0.1 port without a token, and drives
the page with playwright on Debian's Chromium (never a downloaded browser; see ``jlab``)::

    from marimo_harness import start_marimo, MarimoPage
    from playwright.sync_api import sync_playwright
    import jlab

    with start_marimo(["import marimo as mo", "mo.md('hi')"], mode="edit") as server:
        with sync_playwright() as pw:
            browser = jlab.launch_chromium(pw)
            page = MarimoPage.new(browser, server)
            page.open(ready="text=hi")       # connected, selector visible, no cell queued/running
            page.python_errors()             # [] when no cell raised
            page.locator("button").click()   # playwright locators reach into shadow roots

The server runs with its own XDG config/cache/state/data folders in a temp dir (nothing leaks
from or into the user's marimo settings), a marimo.toml that runs every cell when the editor
opens (``runtime.auto_instantiate``; marimo's default waits for a click) and never saves the
notebook, and no update check. It is stopped by its process id (SIGTERM, then SIGKILL), and the
kernel processes it started with it.

A cell is the source of a function body: marimo reads the names a cell defines and uses from
its code, so cells are written as ``def _():`` functions without parameters or returns.
"""

from __future__ import annotations

import contextlib
import json
import os
import shutil
import subprocess
import sys
import tempfile
import textwrap
import time
import urllib.error
import urllib.request
from collections.abc import Iterable
from dataclasses import dataclass, field
from pathlib import Path
from typing import Any

import jlab

#: The settings every test server runs with (written to its isolated marimo.toml).
MARIMO_TOML = """\
[runtime]
auto_instantiate = true
auto_reload = "off"

[save]
autosave = "off"
format_on_save = false

[completion]
activate_on_typing = false
copilot = false

[ai]
enabled = false
"""

MODES = ("edit", "run")


class MarimoHarnessError(RuntimeError):
    pass


def marimo_version() -> str | None:
    """The version of the marimo this interpreter imports, or None when it is not installed."""
    try:
        import marimo
    except ImportError:
        return None
    return str(marimo.__version__)


def write_marimo_notebook(path: str | os.PathLike, cells: Iterable[str]) -> Path:
    """Write a marimo notebook file whose cells have the given sources; returns its path."""
    parts = ["import marimo", "", "app = marimo.App()", ""]
    for src in cells:
        body = textwrap.indent(textwrap.dedent(src).strip("\n") or "pass", "    ")
        parts += ["", "@app.cell", "def _():", body, "    return", "", ""]
    parts += ['if __name__ == "__main__":', "    app.run()", ""]
    path = Path(path)
    path.parent.mkdir(parents=True, exist_ok=True)
    path.write_text("\n".join(parts), encoding="utf-8")
    return path


# --------------------------------------------------------------------------- server


@dataclass
class MarimoServer(jlab.ServerProcess):
    proc: subprocess.Popen
    port: int
    mode: str
    notebook: Path
    base_dir: Path
    _stopped: bool = field(default=False, repr=False)

    def url(self, path: str = "") -> str:
        return self.base_url + path.lstrip("/")

    def stop(self, timeout: float = 15, remove_dir: bool = True) -> None:
        """Stop the server by its pid (SIGTERM, SIGKILL if it does not exit), then the processes
        it started (the edit mode's kernel) that are still alive; remove its temp dir unless
        told not to."""
        if self._stopped:
            return
        self._stopped = True
        jlab.stop_process_tree(self.proc, timeout)
        if remove_dir:
            shutil.rmtree(self.base_dir, ignore_errors=True)

    def __enter__(self) -> MarimoServer:
        return self

    def __exit__(self, *exc: Any) -> None:
        self.stop()


def _isolated_env(base: Path, extra: dict | None) -> dict:
    env = {k: v for k, v in os.environ.items() if not k.startswith("MARIMO_")}
    for name in ("config", "cache", "state", "data"):
        (base / name).mkdir(parents=True, exist_ok=True)
    (base / "config" / "marimo").mkdir(exist_ok=True)
    (base / "config" / "marimo" / "marimo.toml").write_text(MARIMO_TOML)
    env.update(
        XDG_CONFIG_HOME=str(base / "config"),
        XDG_CACHE_HOME=str(base / "cache"),
        XDG_STATE_HOME=str(base / "state"),
        XDG_DATA_HOME=str(base / "data"),
        MARIMO_SKIP_UPDATE_CHECK="1",
        PYTHONUNBUFFERED="1",
    )
    if extra:
        env.update(extra)
    return env


def start_marimo(
    cells: Iterable[str] | None = None,
    *,
    notebook: str | os.PathLike | None = None,
    mode: str = "edit",
    extra_args: Iterable[str] = (),
    env: dict | None = None,
    python: str | os.PathLike | None = None,
    timeout: float = 90,
) -> MarimoServer:
    """Start ``python -m marimo <mode>`` on a notebook (written from ``cells`` into a temp dir,
    or the file ``notebook``, copied there) headless, without a token, on a free 127.0.0.1 port,
    and wait until its ``/health`` answers. ``mode``: ``'edit'`` or ``'run'``."""
    if mode not in MODES:
        raise ValueError(f"mode must be one of {MODES}, got {mode!r}")
    if (cells is None) == (notebook is None):
        raise ValueError("give either cells or notebook")
    base = Path(tempfile.mkdtemp(prefix="invwidgets-marimo-"))
    path = base / "root" / "notebook.py"
    if cells is not None:
        write_marimo_notebook(path, cells)
    else:
        path.parent.mkdir(parents=True)
        shutil.copyfile(notebook, path)  # type: ignore[arg-type]
    run_env = _isolated_env(base, env)
    last_err = ""
    for _attempt in range(3):  # a free port can be taken between choosing and binding
        port = jlab.free_port()
        args = [str(python or sys.executable), "-m", "marimo", mode, str(path), "--headless",
                "--no-token", "--host", "127.0.0.1", "--port", str(port)]
        if mode == "edit":
            args.append("--skip-update-check")
        args += list(extra_args)
        with open(base / "server.log", "ab") as log:
            proc = subprocess.Popen(args, cwd=path.parent, env=run_env, stdout=log,
                                    stderr=subprocess.STDOUT, stdin=subprocess.DEVNULL,
                                    start_new_session=True)
        server = MarimoServer(proc, port, mode, path, base)
        try:
            _wait_ready(server, timeout)
            return server
        except MarimoHarnessError as e:
            last_err = str(e)
            log_text = server.log_text().lower()
            server.stop(remove_dir=False)
            if "in use" not in log_text:
                break
    shutil.rmtree(base, ignore_errors=True)
    raise MarimoHarnessError(last_err)


def _wait_ready(server: MarimoServer, timeout: float) -> None:
    def ready() -> bool:
        with urllib.request.urlopen(server.url("health"), timeout=2) as r:
            return json.loads(r.read() or b"{}").get("status") == "healthy"

    jlab.wait_until_ready(server.proc, ready, f"marimo {server.mode}", server.log_text, timeout, MarimoHarnessError)


# --------------------------------------------------------------------------- browser

#: Console messages that are not errors of the code under test.  Each must be justified.
BENIGN_CONSOLE_PATTERNS: tuple[str, ...] = (
    # Chromium asks for /favicon.ico on some navigations; a 404 for it says nothing.
    "favicon.ico",
)

# marimo's front end logs what a cell writes to stderr as "[STDERR] ... <json>"; an exception
# of a cell (edit mode) or the app's opaque "internal error" (run mode) is one such line.
_STDERR_ERROR_KINDS = ('"type":"exception"', '"type":"internal"')

_JS_IDLE = """() => {
  const app = document.querySelector('#App');
  if (!app || app.getAttribute('data-connection-state') !== 'OPEN') return false;
  const busy = document.querySelectorAll(
    '[data-testid=cell-status][data-status=queued], [data-testid=cell-status][data-status=running]');
  return busy.length === 0;
}"""


class MarimoPage:
    """A playwright page on a MarimoServer that collects console messages and page errors.

    It joins ``jlab.LIVE_PAGES``, so the browser tests' failure hook screenshots it and
    attaches the server log, as for a JupyterLab page.
    """

    def __init__(self, page: Any, server: MarimoServer, context: Any = None) -> None:
        jlab.LIVE_PAGES.add(self)  # type: ignore[arg-type]
        self.page = page
        self.server = server
        self.context = context
        self.console: list[str] = []
        self.errors: list[str] = []
        page.on("console", self._on_console)
        page.on("pageerror", lambda exc: self.errors.append(f"pageerror: {exc}"))

    @classmethod
    def new(cls, browser: Any, server: MarimoServer, viewport: tuple[int, int] = (1280, 900)) -> MarimoPage:
        ctx = browser.new_context(viewport={"width": viewport[0], "height": viewport[1]})
        return cls(ctx.new_page(), server, ctx)

    def close(self) -> None:
        jlab.LIVE_PAGES.discard(self)  # type: ignore[arg-type]
        with contextlib.suppress(Exception):
            (self.context or self.page).close()

    def _on_console(self, msg: Any) -> None:
        text = msg.text
        loc = ""
        with contextlib.suppress(Exception):
            loc = msg.location.get("url", "") or ""
        self.console.append(f"{msg.type}: {text}")
        if msg.type == "error" and not any(p in text or p in loc for p in BENIGN_CONSOLE_PATTERNS):
            self.errors.append(f"console.error: {text} ({loc})")

    def locator(self, selector: str, **kwargs: Any) -> Any:
        """A playwright locator on the page (CSS locators pierce open shadow roots)."""
        return self.page.locator(selector, **kwargs)

    def open(self, ready: str | None = None, timeout: float = 120) -> None:
        """Load the notebook, wait until the page is connected to its kernel, ``ready`` (a
        selector) is visible, and (edit mode) no cell is queued or running."""
        self.page.goto(self.server.base_url, timeout=timeout * 1000)
        self.page.locator("#App[data-connection-state=OPEN]").wait_for(timeout=timeout * 1000)
        if ready is not None:
            self.locator(ready).first.wait_for(timeout=timeout * 1000)
        self.wait_idle(timeout)

    def wait_idle(self, timeout: float = 120) -> None:
        """Wait until the page is connected and no cell shows a queued or running status (run
        mode shows no status: there, wait for an element instead)."""
        self.page.wait_for_function(_JS_IDLE, timeout=timeout * 1000, polling=100)

    def python_errors(self) -> list[str]:
        """The errors of cells: error outputs shown on the page (edit mode) and the exceptions
        the front end logged from the kernel's stderr (both modes; run mode shows none)."""
        shown = self.page.locator("[data-cell-role=output] > [role=alert]").all_inner_texts()
        logged = [line for line in self.console
                  if "[STDERR]" in line and any(k in line for k in _STDERR_ERROR_KINDS)]
        return [t.strip() for t in shown] + logged

    def screenshot(self, path: str | os.PathLike, full_page: bool = False) -> Path:
        path = Path(path)
        path.parent.mkdir(parents=True, exist_ok=True)
        self.page.screenshot(path=str(path), full_page=full_page)
        return path


def main(argv: list[str] | None = None) -> int:
    """Open a marimo notebook file in headless Chromium, wait, screenshot it and print the
    cell errors, page errors and widget elements found: for trying widgets in marimo by hand::

        python tests/browser/marimo_harness.py nb.py --mode edit --ready canvas --shot nb.png
    """
    import argparse

    from playwright.sync_api import sync_playwright

    ap = argparse.ArgumentParser(description=main.__doc__.split("\n\n")[0])
    ap.add_argument("notebook", type=Path)
    ap.add_argument("--mode", choices=MODES, default="edit")
    ap.add_argument("--ready", help="a selector to wait for before the screenshot")
    ap.add_argument("--settle", type=float, default=2.0, help="seconds to wait after idle")
    ap.add_argument("--shot", type=Path, default=Path("marimo.png"))
    args = ap.parse_args(argv)
    with start_marimo(notebook=args.notebook, mode=args.mode) as server, sync_playwright() as pw:
        browser = jlab.launch_chromium(pw)
        page = MarimoPage.new(browser, server)
        page.open(ready=args.ready)
        time.sleep(args.settle)
        page.screenshot(args.shot)
        print(f"screenshot: {args.shot}")
        print("marimo-anywidget elements:", page.locator("marimo-anywidget").count())
        print("cell errors:", json.dumps(page.python_errors(), indent=1))
        print("page errors:", json.dumps(page.errors, indent=1))
        browser.close()
    return 0


if __name__ == "__main__":
    raise SystemExit(main())
