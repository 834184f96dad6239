"""invwidgets.diagnose(): report contents, hints for known failure modes, display."""

from __future__ import annotations

import importlib
import json
import os
import sys
import time
import types
from pathlib import Path

import pytest

from invwidgets.diagnose import (
    NOTE,
    PROBLEM,
    Report,
    collect_nodelay,
    diagnose,
    find_labextensions,
    make_hints,
    nodelay_config_state,
)

D = importlib.import_module("invwidgets.diagnose")  # the module (invwidgets.diagnose may be the function)


@pytest.fixture
def env(monkeypatch):
    for k in ("INVWIDGETS_DEVICE", "INVWIDGETS_NODELAY", "INVWIDGETS_NODELAY_ACTIVE", "VSCODE_PID",
              "VSCODE_CWD", "JPY_PARENT_PID", "JPY_SESSION_NAME"):
        monkeypatch.delenv(k, raising=False)
    return monkeypatch


def test_report_structure_and_rendering(env, capsys):
    env.setenv("INVWIDGETS_DEVICE", "cpu")
    r = diagnose(show=True)
    printed = capsys.readouterr().out
    assert isinstance(r, Report)
    assert r.versions["python"] == ".".join(map(str, sys.version_info[:3]))
    for name in ("torch", "numpy", "ipywidgets", "anywidget", "ipykernel", "plotly", "captum",
                 "jupyterlab", "notebook", "jupyter_server"):
        assert name in r.versions
    assert r.device["device"] == "cpu" and "INVWIDGETS_DEVICE" in r.device["source"]
    assert set(r.frontend["labextensions"]) == {"anywidget", "@jupyter-widgets/jupyterlab-manager"}
    assert r.environment["in_kernel"] is False
    json.loads(r.to_json())  # serialisable
    text = str(r)
    for section in ("Versions", "Compute", "JupyterLab front end", "TCP_NODELAY server extension",
                    "Environment", "Hints"):
        assert section in text
    assert text in printed  # outside a kernel: printed as text
    assert repr(r).startswith("<invwidgets diagnose:") and "\n" not in repr(r)
    assert "<table>" in r.to_html()


def test_package_attribute_is_callable_either_way(env):
    """`invwidgets.diagnose(...)` works whether the package binds the function or the
    submodule (importing `invwidgets.diagnose` rebinds the attribute to the module)."""
    import invwidgets

    assert isinstance(invwidgets.diagnose(show=False), Report)
    assert isinstance(D(show=False), Report)


def test_show_false_prints_nothing(env, capsys):
    diagnose(show=False)
    assert capsys.readouterr().out == ""


def test_dev_environment_has_the_front_end():
    """This venv (pip install -e .[test]) has both labextensions: no front-end problem."""
    r = diagnose(show=False)
    assert all(r.frontend["labextensions"].values()), r.frontend
    assert not any("front end missing" in p for p in r.problems)


# --------------------------------------------------------------------------- device


@pytest.mark.parametrize("cuda, mps, expected", [(True, True, "cuda"), (False, True, "mps"),
                                                  (False, False, "cpu")])
def test_device_choice(env, cuda, mps, expected):
    import torch

    env.setattr(torch.cuda, "is_available", lambda: cuda)
    env.setattr(torch.backends.mps, "is_available", lambda: mps)
    assert D.default_device_name() == expected


def test_device_env_override(env):
    env.setenv("INVWIDGETS_DEVICE", "cuda:1")
    assert D.default_device_name() == "cuda:1"


def test_device_agrees_with_the_worker(env):
    from invwidgets import worker

    assert D.default_device_name() == str(worker.default_device())


def test_invalid_device_is_a_problem(env):
    env.setenv("INVWIDGETS_DEVICE", "not-a-device")
    r = diagnose(show=False)
    assert r.device["error"]
    assert any("torch device" in p and "INVWIDGETS_DEVICE" in p for p in r.problems)


def test_unavailable_cuda_is_a_problem(env):
    import torch

    if torch.cuda.is_available():
        pytest.skip("CUDA is available here")
    env.setenv("INVWIDGETS_DEVICE", "cuda")
    r = diagnose(show=False)
    assert "no CUDA" in r.device["error"]
    assert not r.ok


# --------------------------------------------------------------------------- front end


def _labext(root: Path, name: str, version: str) -> None:
    d = root.joinpath(*name.split("/"))
    d.mkdir(parents=True)
    (d / "package.json").write_text(json.dumps({"name": name, "version": version}))


def test_find_labextensions(tmp_path):
    a, b = tmp_path / "a", tmp_path / "b"
    _labext(a, "anywidget", "1.0.0")
    _labext(b, "anywidget", "0.1.0")
    _labext(b, "@jupyter-widgets/jupyterlab-manager", "5.0.0")
    found = find_labextensions([str(a), str(b)])
    assert found["anywidget"]["version"] == "1.0.0"  # first data dir wins, as in JupyterLab
    assert found["@jupyter-widgets/jupyterlab-manager"]["version"] == "5.0.0"
    assert find_labextensions([str(tmp_path / "empty")]) == {
        "anywidget": None, "@jupyter-widgets/jupyterlab-manager": None}


# --------------------------------------------------------------------------- nodelay config


def _write(path: Path, enabled: bool) -> None:
    path.parent.mkdir(parents=True, exist_ok=True)
    path.write_text(json.dumps({"ServerApp": {"jpserver_extensions": {"invwidgets.nodelay": enabled}}}))


def _server_view(dirs):
    """What jupyter_server itself concludes from the same config dirs."""
    from jupyter_server.extension.config import ExtensionConfigManager

    return ExtensionConfigManager(read_config_path=dirs).get_jpserver_extensions().get("invwidgets.nodelay")


def test_nodelay_config_precedence(tmp_path):
    high, low = tmp_path / "high", tmp_path / "low"  # e.g. <venv>/etc/jupyter, ~/.jupyter
    dirs = [str(high), str(low)]
    assert nodelay_config_state(dirs) == (None, None)

    _write(low / "jupyter_server_config.d" / "invwidgets.json", True)
    assert nodelay_config_state(dirs) == (True, str(low / "jupyter_server_config.d" / "invwidgets.json"))

    # `jupyter server extension disable` writes invwidgets.nodelay.json next to it: later name wins
    _write(low / "jupyter_server_config.d" / "invwidgets.nodelay.json", False)
    assert nodelay_config_state(dirs)[0] is False

    _write(low / "jupyter_server_config.json", True)  # the root file beats the .d files
    assert nodelay_config_state(dirs)[0] is True

    _write(high / "jupyter_server_config.d" / "zz.json", False)  # the first dir beats later ones
    state, source = nodelay_config_state(dirs)
    assert (state, source) == (False, str(high / "jupyter_server_config.d" / "zz.json"))
    assert _server_view(dirs) is state


def test_nodelay_config_matches_jupyter_server_here():
    from jupyter_core.paths import jupyter_config_path

    assert nodelay_config_state()[0] == _server_view(jupyter_config_path())


@pytest.mark.parametrize("value, active", [("1", True), ("0", False), (None, None)])
def test_nodelay_active_from_env(env, value, active):
    if value is not None:
        env.setenv("INVWIDGETS_NODELAY_ACTIVE", value)
    assert collect_nodelay()["active_in_server"] is active


# --------------------------------------------------------------------------- hints


def _inputs(**over):
    versions = {"python": "3.11.7", "ipykernel": "7.4.0", "ipywidgets": "8.1.5", "anywidget": "0.9.13",
                "torch": "2.5.0", "numpy": "2.0.0", "jupyter_server": "2.14.0", "jupyterlab": "4.2.0"}
    versions.update(over.pop("versions", {}))
    device = {"device": "cpu", "error": None}
    now = time.time()
    labext = {"anywidget": {"path": "/x", "version": "0.9.13", "installed_at": now - 100},
              "@jupyter-widgets/jupyterlab-manager": {"path": "/y", "version": "5.0.0",
                                                      "installed_at": now - 100}}
    labext.update(over.pop("labext", {}))
    frontend = {"labextensions": labext}
    nodelay = {"enabled_in_config": True, "config_source": "/etc/x.json", "active_in_server": True,
               "switch": None}
    nodelay.update(over.pop("nodelay", {}))
    environment = {"in_kernel": True, "vscode": False, "colab": False, "server_started_at": now - 50,
                   "executable": sys.executable}
    environment.update(over.pop("environment", {}))
    assert not over
    return versions, device, frontend, nodelay, environment


def _hints(**over):
    return make_hints(*_inputs(**over))


def _texts(hints, level=None):
    return " | ".join(h.text for h in hints if level is None or h.level == level)


def test_healthy_setup_has_no_hints():
    assert _hints(labext={
        "anywidget": {"path": "/x", "version": "1", "installed_at": 0},
        "@jupyter-widgets/jupyterlab-manager": {"path": "/y", "version": "5", "installed_at": 0}}) == []


def test_hint_ipykernel_700():
    assert "ipykernel 7.0.0 is excluded" in _texts(_hints(versions={"ipykernel": "7.0.0"}), PROBLEM)


def test_hint_front_end_missing():
    t = _texts(_hints(labext={"anywidget": None}), PROBLEM)
    assert "front end missing" in t and "anywidget" in t and "restart JupyterLab" in t


@pytest.mark.parametrize("where", ["vscode", "colab"])
def test_hint_hosted_front_ends_need_no_labextension(where):
    hints = _hints(labext={"anywidget": None, "@jupyter-widgets/jupyterlab-manager": None},
                   environment={where: True}, nodelay={"active_in_server": None})
    assert not [h for h in hints if h.level == PROBLEM]
    assert "loads the anywidget/ipywidgets front end itself" in _texts(hints, NOTE)


def test_hint_installed_while_jupyter_was_running():
    t = _texts(_hints(labext={"anywidget": {"path": "/x", "version": "1", "installed_at": time.time()}}),
               PROBLEM)
    assert "Installed while Jupyter was running" in t and "anywidget" in t
    assert "Restart JupyterLab and reload the page" in t


def test_hint_nodelay_not_loaded_by_this_server():
    t = _texts(_hints(nodelay={"active_in_server": None}), NOTE)
    assert "not loaded by the server" in t and "restart JupyterLab" in t


def test_hint_nodelay_switched_off():
    t = _texts(_hints(nodelay={"active_in_server": False, "switch": "0"}), NOTE)
    assert "switched off by INVWIDGETS_NODELAY=0" in t


def test_hint_nodelay_incompatible_server():
    t = _texts(_hints(nodelay={"active_in_server": False}), NOTE)
    assert "could not patch" in t


def test_hint_nodelay_disabled_in_config():
    t = _texts(_hints(nodelay={"active_in_server": None, "enabled_in_config": False}), NOTE)
    assert "disabled in the Jupyter config" in t


def test_hint_old_jupyter_server_and_ipywidgets():
    hints = _hints(versions={"jupyter_server": "1.24.0", "ipywidgets": "7.8.1"})
    assert "jupyter_server 1.24.0 is old" in _texts(hints, NOTE)
    assert "ipywidgets 7.8.1 is too old" in _texts(hints, PROBLEM)


def test_hint_missing_packages():
    t = _texts(_hints(versions={"anywidget": None}), PROBLEM)
    assert "anywidget is not installed" in t


def test_environment_detection(env):
    env.setenv("VSCODE_PID", "123")
    env.setenv("JPY_PARENT_PID", str(os.getpid()))
    env.setitem(sys.modules, "google.colab", types.ModuleType("google.colab"))
    e = D.collect_environment()
    assert e["vscode"] and e["colab"] and e["server_pid"] == os.getpid()
    assert e["server_started_at"] is None or e["server_started_at"] <= time.time()


# --------------------------------------------------------------------------- in a real kernel


def test_in_a_kernel_it_displays_html_and_reads_the_server_flag():
    from jupyter_client.manager import start_new_kernel

    km, kc = start_new_kernel(kernel_name="python3", env={
        **os.environ, "INVWIDGETS_NODELAY_ACTIVE": "1", "INVWIDGETS_DEVICE": "cpu"})
    try:
        code = ("import invwidgets\n"
                "r = invwidgets.diagnose()  # the documented call\n"
                "print('RESULT', r.environment['in_kernel'], r.nodelay['active_in_server'], r.device['device'])")
        outputs = []
        reply = kc.execute_interactive(code, timeout=120, output_hook=outputs.append)
        assert reply["content"]["status"] == "ok", reply["content"]
    finally:
        kc.stop_channels()
        km.shutdown_kernel(now=True)
    displays = [m["content"]["data"] for m in outputs if m["msg_type"] == "display_data"]
    assert displays and "text/html" in displays[0] and "invwidgets diagnose" in displays[0]["text/plain"]
    stdout = "".join(m["content"]["text"] for m in outputs if m["msg_type"] == "stream")
    assert "RESULT True True cpu" in stdout
