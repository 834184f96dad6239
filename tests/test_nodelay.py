"""The invwidgets.nodelay server extension (docs/architecture.md, TCP nodelay on the kernel websocket).

Two levels:
* tornado level, in process: the patch makes a websocket handler's server-side
  socket have TCP_NODELAY once it opens, keeps the handler working, and an
  incompatible target only warns;
* real servers: ``python -m jupyter_server`` started on free loopback ports with
  the extension loaded from the installed config, a kernel websocket opened from
  here, and its server-side socket option read back through the test-only
  ``nodelay_probe`` extension (tests/browser/nodelay_probe.py).
"""

from __future__ import annotations

import asyncio
import importlib
import json
import logging
import os
import socket
import subprocess
import sys
import tempfile
import types
import uuid
from concurrent.futures import ThreadPoolExecutor
from pathlib import Path

import pytest

REPO = Path(__file__).resolve().parents[1]
sys.path.insert(0, str(REPO / "tests" / "browser"))

import jlab  # noqa: E402

from invwidgets import nodelay  # noqa: E402


def _run_async(coro):
    """Run a coroutine to completion on a fresh event loop in its own thread: the session's
    browser fixture (playwright's sync API) keeps a loop running in the main thread, where
    asyncio.run() would refuse."""
    with ThreadPoolExecutor(max_workers=1) as pool:
        return pool.submit(asyncio.run, coro).result()

tornado_web = pytest.importorskip("tornado.web")
from tornado.httpserver import HTTPServer  # noqa: E402
from tornado.websocket import WebSocketHandler, websocket_connect  # noqa: E402

# --------------------------------------------------------------------------- config


def test_extension_points_name_this_module():
    assert nodelay._jupyter_server_extension_points() == [{"module": "invwidgets.nodelay"}]
    mod = importlib.import_module(nodelay._jupyter_server_extension_points()[0]["module"])
    assert callable(mod._load_jupyter_server_extension)


def test_shipped_config_enables_the_extension():
    cfg = json.loads((REPO / "jupyter-config" / "jupyter_server_config.d" / "invwidgets.json").read_text())
    assert cfg == {"ServerApp": {"jpserver_extensions": {"invwidgets.nodelay": True}}}


def test_installed_config_matches_the_shipped_one():
    """pip install (editable too: hatchling puts wheel shared-data in editable wheels)
    copies the config into <prefix>/etc/jupyter; a stale copy means: reinstall."""
    installed = Path(sys.prefix) / "etc" / "jupyter" / "jupyter_server_config.d" / "invwidgets.json"
    if not installed.exists():
        pytest.skip(f"invwidgets is not installed into {sys.prefix} (no {installed})")
    shipped = REPO / "jupyter-config" / "jupyter_server_config.d" / "invwidgets.json"
    assert json.loads(installed.read_text()) == json.loads(shipped.read_text())


def test_importing_the_extension_stays_light():
    """The Jupyter server imports invwidgets.nodelay (and so invwidgets/__init__.py) at
    start-up: that must not pull torch & co into the server process (seconds of start-up,
    hundreds of MB, CUDA initialisation on GPU machines).  invwidgets/__init__.py must
    import its heavy submodules lazily."""
    code = ("import sys, invwidgets.nodelay; "
            "print(sorted(m for m in ('torch', 'numpy', 'anywidget', 'ipywidgets', 'plotly', 'captum', "
            "'sklearn') if m in sys.modules))")
    out = subprocess.run([sys.executable, "-c", code], capture_output=True, text=True, timeout=120)
    assert out.returncode == 0, out.stderr
    assert out.stdout.strip() == "[]", f"importing invwidgets.nodelay imported {out.stdout.strip()}"


@pytest.mark.parametrize(
    "value, enabled",
    [(None, True), ("1", True), ("yes", True), ("0", False), ("false", False), (" OFF ", False), ("no", False)],
)
def test_env_switch_values(value, enabled):
    env = {} if value is None else {nodelay.ENV_SWITCH: value}
    assert nodelay.nodelay_enabled_by_env(env) is enabled


# --------------------------------------------------------------------------- tornado level


def _make_handler_class():
    class Handler(WebSocketHandler):
        opened: list = []
        nodelay_seen: list = []

        async def open(self):
            await asyncio.sleep(0)  # an async open, like jupyter_server's
            sock = self.ws_connection.stream.socket
            type(self).nodelay_seen.append(sock.getsockopt(socket.IPPROTO_TCP, socket.TCP_NODELAY))
            type(self).opened.append(True)

        def on_message(self, message):
            self.write_message("echo:" + message)

    return Handler


async def _roundtrip(handler_cls) -> str:
    app = tornado_web.Application([(r"/ws", handler_cls)])
    server = HTTPServer(app)
    sock = socket.socket(socket.AF_INET, socket.SOCK_STREAM)
    sock.setsockopt(socket.SOL_SOCKET, socket.SO_REUSEADDR, 1)
    sock.bind(("127.0.0.1", 0))
    sock.listen(8)
    sock.setblocking(False)
    server.add_sockets([sock])
    port = sock.getsockname()[1]
    try:
        conn = await websocket_connect(f"ws://127.0.0.1:{port}/ws")
        await conn.write_message("hi")
        reply = await asyncio.wait_for(conn.read_message(), 10)
        conn.close()
        return reply
    finally:
        server.stop()


def test_patch_sets_nodelay_on_open_and_keeps_the_handler_working():
    Handler = _make_handler_class()
    assert _run_async(_roundtrip(Handler)) == "echo:hi"
    assert Handler.nodelay_seen == [0], "tornado's default should be Nagle on (the bug)"

    assert nodelay.patch_kernel_websocket(Handler) is True
    assert nodelay.is_patched(Handler)
    assert nodelay.patch_kernel_websocket(Handler) is True  # idempotent: no double wrap
    assert not getattr(Handler.open.__wrapped__, "_invwidgets_nodelay", False)

    assert _run_async(_roundtrip(Handler)) == "echo:hi"
    assert Handler.nodelay_seen[-1] != 0
    assert len(Handler.opened) == 2  # the original (async) open still ran

    assert nodelay.unpatch_kernel_websocket(Handler) is True
    assert not nodelay.is_patched(Handler)
    _run_async(_roundtrip(Handler))
    assert Handler.nodelay_seen[-1] == 0


def test_patch_targets_jupyter_servers_kernel_websocket():
    from jupyter_server.services.kernels.websocket import KernelWebsocketHandler

    assert nodelay.find_kernel_websocket_handler() is KernelWebsocketHandler
    original = KernelWebsocketHandler.__dict__["open"]
    try:
        assert nodelay.patch_kernel_websocket() is True
        assert nodelay.is_patched()
        assert KernelWebsocketHandler.open.__wrapped__ is original
    finally:
        nodelay.unpatch_kernel_websocket()
    assert KernelWebsocketHandler.__dict__["open"] is original


# --------------------------------------------------------------------------- guards


class _FakeApp:
    def __init__(self):
        self.log = logging.getLogger("fake-serverapp")


@pytest.fixture
def clean_env(monkeypatch):
    monkeypatch.delenv(nodelay.ENV_ACTIVE, raising=False)
    monkeypatch.delenv(nodelay.ENV_SWITCH, raising=False)
    yield monkeypatch
    nodelay.unpatch_kernel_websocket()


@pytest.mark.parametrize(
    "target",
    [object, type("NotAWebsocket", (), {"open": lambda self: None}), int],
    ids=["object", "no-set_nodelay", "int"],
)
def test_incompatible_target_only_warns(target, caplog):
    before = dict(vars(target))
    with caplog.at_level(logging.WARNING):
        assert nodelay.patch_kernel_websocket(target) is False
    assert "incompatible jupyter_server" in caplog.text
    assert dict(vars(target)) == before


def test_missing_handler_class_only_warns_and_marks_inactive(clean_env, caplog):
    fake = types.ModuleType("jupyter_server.services.kernels.websocket")  # no KernelWebsocketHandler
    clean_env.setitem(sys.modules, "jupyter_server.services.kernels.websocket", fake)
    with caplog.at_level(logging.WARNING):
        nodelay._load_jupyter_server_extension(_FakeApp())  # must not raise
    assert "incompatible jupyter_server" in caplog.text
    assert os.environ[nodelay.ENV_ACTIVE] == "0"


def test_old_jupyter_server_only_warns(clean_env, caplog):
    import jupyter_server

    clean_env.setattr(jupyter_server, "__version__", "1.24.0")
    with pytest.raises(nodelay.IncompatibleServer, match="older than 2.0"):
        nodelay.find_kernel_websocket_handler()
    with caplog.at_level(logging.WARNING):
        nodelay._load_jupyter_server_extension(_FakeApp())
    assert "older than 2.0" in caplog.text
    assert not nodelay.is_patched()
    assert os.environ[nodelay.ENV_ACTIVE] == "0"


def test_load_patches_and_marks_active(clean_env):
    nodelay._load_jupyter_server_extension(_FakeApp())
    assert nodelay.is_patched()
    assert os.environ[nodelay.ENV_ACTIVE] == "1"


def test_env_off_switch_skips_the_patch(clean_env, caplog):
    clean_env.setenv(nodelay.ENV_SWITCH, "0")
    with caplog.at_level(logging.INFO):
        nodelay._load_jupyter_server_extension(_FakeApp())
    assert not nodelay.is_patched()
    assert os.environ[nodelay.ENV_ACTIVE] == "0"
    assert "switched off" in caplog.text


# --------------------------------------------------------------------------- real servers


def _throwaway_prefix_with_extension_disabled() -> tuple[Path, Path]:
    """A new venv that sees this environment's packages (a .pth) and has invwidgets'
    server config installed as pip would, in which the documented command
    ``jupyter server extension disable invwidgets.nodelay`` was run.

    Run there, not here: in a venv the command writes into <sys.prefix>/etc/jupyter,
    i.e. it would switch the extension off for the whole dev environment.
    (``--user`` is no way out: jupyter_server 2 then validates against the user
    config only, reports "could not be found" and exits 0 without writing.)
    """
    import sysconfig

    d = Path(tempfile.mkdtemp(prefix="invwidgets-prefix-"))
    venv = d / "venv"
    subprocess.run([sys.executable, "-m", "venv", "--without-pip", str(venv)], check=True, timeout=120)
    py = venv / "bin" / "python"
    purelib = subprocess.run([str(py), "-c", "import sysconfig; print(sysconfig.get_paths()['purelib'])"],
                             check=True, capture_output=True, text=True).stdout.strip()
    Path(purelib, "_from_dev_env.pth").write_text(sysconfig.get_paths()["purelib"] + "\n")
    confd = venv / "etc" / "jupyter" / "jupyter_server_config.d"
    confd.mkdir(parents=True)
    (confd / "invwidgets.json").write_text(
        (REPO / "jupyter-config" / "jupyter_server_config.d" / "invwidgets.json").read_text())
    env = {k: v for k, v in os.environ.items() if k not in ("JUPYTER_CONFIG_DIR", "PYTHONPATH")}
    env["JUPYTER_CONFIG_DIR"] = str(d / "user-config")
    # `python -m jupyter_server` is `jupyter server` (that launcher needs a bin/jupyter-server).
    res = subprocess.run([str(py), "-m", "jupyter_server", "extension", "disable", "invwidgets.nodelay"],
                         env=env, capture_output=True, text=True, timeout=120)
    assert res.returncode == 0, res.stderr
    written = json.loads((confd / "invwidgets.nodelay.json").read_text())
    assert written == {"ServerApp": {"jpserver_extensions": {"invwidgets.nodelay": False}}}, res.stderr
    return d, py


@pytest.fixture(scope="module")
def servers():
    """Three real jupyter_servers, started concurrently: default (on), INVWIDGETS_NODELAY=0,
    and extension disabled with `jupyter server extension disable`."""
    prefix_dir, prefix_python = _throwaway_prefix_with_extension_disabled()
    specs = {
        "on": dict(nodelay=True),
        "env-off": dict(nodelay=False),
        "disabled": dict(nodelay=True, python=prefix_python),
    }
    with ThreadPoolExecutor(len(specs)) as ex:
        futs = {k: ex.submit(jlab.start_jupyterlab, app="jupyter_server", probe=True, **kw)
                for k, kw in specs.items()}
        started = {}
        errors = []
        for k, f in futs.items():
            try:
                started[k] = f.result()
            except Exception as e:  # stop what did start, then fail
                errors.append(e)
    try:
        if errors:
            raise errors[0]
        yield started
    finally:
        for s in started.values():
            s.stop()
        import shutil

        shutil.rmtree(prefix_dir, ignore_errors=True)


async def _open_kernel_websocket_and_probe(server: jlab.JupyterServer) -> tuple[dict, dict]:
    kernel = server.api("api/kernels", method="POST", body={"name": "python3"})
    url = (f"ws://127.0.0.1:{server.port}/api/kernels/{kernel['id']}/channels"
           f"?session_id={uuid.uuid4().hex}&token={server.token}")
    conn = await websocket_connect(url)
    try:
        # open() has run once the handshake completed; read the server side.
        loop = asyncio.get_running_loop()
        probe = await loop.run_in_executor(None, server.api, "invwidgets-probe/kernel-websockets")
    finally:
        conn.close()
    return kernel, probe


def _probe(server):
    kernel, probe = _run_async(_open_kernel_websocket_and_probe(server))
    mine = [w for w in probe["kernel_websockets"] if w["kernel_id"] == kernel["id"]]
    assert len(mine) == 1, probe
    return mine[0], probe


def test_real_server_kernel_websocket_has_nodelay(servers):
    ws, probe = _probe(servers["on"])
    assert ws["nodelay"] is True
    assert probe["nodelay_active_env"] == "1"
    assert "TCP_NODELAY enabled on kernel websockets" in servers["on"].log_text()


def test_real_server_env_switch_off(servers):
    ws, probe = _probe(servers["env-off"])
    assert ws["nodelay"] is False
    assert probe["nodelay_active_env"] == "0"
    assert "switched off by INVWIDGETS_NODELAY=0" in servers["env-off"].log_text()


def test_real_server_extension_disabled(servers):
    ws, probe = _probe(servers["disabled"])
    assert ws["nodelay"] is False
    assert probe["nodelay_active_env"] is None  # the extension never loaded
    assert "invwidgets.nodelay" not in servers["disabled"].log_text()


def test_kernels_inherit_the_active_flag(servers):
    """diagnose() reads the flag in the kernel: kernels inherit the server's environment."""
    server = servers["on"]
    out = subprocess.run(
        [sys.executable, "-c", _KERNEL_ENV_SCRIPT, str(server.port), server.token],
        capture_output=True, text=True, timeout=120,
    )
    assert out.returncode == 0, out.stderr
    assert out.stdout.strip().splitlines()[-1] == "1"


# Runs code in a new kernel of the server through jupyter_server's REST + websocket
# API using only jupyter_client's session format, in a subprocess so the test
# process's event loop state stays clean.
_KERNEL_ENV_SCRIPT = r"""
import asyncio, json, sys, uuid, urllib.request
from tornado.websocket import websocket_connect
port, token = sys.argv[1], sys.argv[2]
base = f"http://127.0.0.1:{port}/"
req = urllib.request.Request(base + "api/kernels", data=b'{"name": "python3"}', method="POST",
                             headers={"Authorization": "token " + token})
kid = json.load(urllib.request.urlopen(req))["id"]
async def main():
    session = uuid.uuid4().hex
    conn = await websocket_connect(f"ws://127.0.0.1:{port}/api/kernels/{kid}/channels"
                                   f"?session_id={session}&token={token}")
    msg_id = uuid.uuid4().hex
    await conn.write_message(json.dumps({
        "header": {"msg_id": msg_id, "username": "t", "session": session, "msg_type": "execute_request",
                   "version": "5.3", "date": ""},
        "parent_header": {}, "metadata": {}, "channel": "shell", "buffers": [],
        "content": {"code": "import os; print(os.environ.get('INVWIDGETS_NODELAY_ACTIVE'))",
                    "silent": False, "store_history": False, "user_expressions": {},
                    "allow_stdin": False, "stop_on_error": True}}))
    out = ""
    while True:
        m = json.loads(await asyncio.wait_for(conn.read_message(), 60))
        if m.get("parent_header", {}).get("msg_id") != msg_id:
            continue
        if m["msg_type"] == "stream":
            out += m["content"]["text"]
        if m["msg_type"] == "status" and m["content"]["execution_state"] == "idle":
            break
    print(out.strip())
asyncio.run(main())
"""
