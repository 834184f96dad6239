"""``invwidgets.diagnose()``: what this kernel and its Jupyter see, and what to fix.

Call it in the notebook where widgets do not show or feel slow::

    import invwidgets
    invwidgets.diagnose()          # shows the report, returns a Report

The report lists versions, the torch device the worker would use, whether the
anywidget / ipywidgets front ends are installed for JupyterLab, whether the
TCP_NODELAY server extension (``invwidgets.nodelay``) is enabled and active in
the server that started this kernel, where the code runs (kernel, VS Code,
Colab) and hints for known failure modes.

Cheap to import (standard library only at module level); heavy modules (torch)
are imported only when ``diagnose()`` runs.
"""

from __future__ import annotations

import dataclasses
import html
import json
import os
import platform
import re
import sys
import time
from dataclasses import dataclass, field
from pathlib import Path
from typing import Any

__all__ = ["diagnose", "Report", "Hint", "default_device_name"]

#: Distributions whose versions are reported (display name -> distribution name).
PACKAGES = {
    "invwidgets": "invwidgets",
    "torch": "torch",
    "numpy": "numpy",
    "ipywidgets": "ipywidgets",
    "anywidget": "anywidget",
    "ipykernel": "ipykernel",
    "traitlets": "traitlets",
    "jupyterlab": "jupyterlab",
    "notebook": "notebook",
    "jupyter_server": "jupyter_server",
    "jupyterlab_widgets": "jupyterlab_widgets",
    "plotly": "plotly",
    "captum": "captum",
}

#: JupyterLab (federated) extensions the widgets need, by package name.
LABEXTENSIONS = ("anywidget", "@jupyter-widgets/jupyterlab-manager")

NODELAY_EXTENSION = "invwidgets.nodelay"
ENV_ACTIVE = "INVWIDGETS_NODELAY_ACTIVE"  # same names as invwidgets.nodelay (not imported:
ENV_SWITCH = "INVWIDGETS_NODELAY"  # that module is the server's, keep this one standalone)
ENV_DEVICE = "INVWIDGETS_DEVICE"

PROBLEM = "problem"
NOTE = "note"


@dataclass
class Hint:
    level: str  # "problem" (widgets will not work well) or "note"
    text: str


@dataclass
class Report:
    versions: dict[str, str | None]
    device: dict[str, Any]
    frontend: dict[str, Any]
    nodelay: dict[str, Any]
    environment: dict[str, Any]
    hints: list[Hint] = field(default_factory=list)

    @property
    def ok(self) -> bool:
        """No problems found (notes may remain)."""
        return not any(h.level == PROBLEM for h in self.hints)

    @property
    def problems(self) -> list[str]:
        return [h.text for h in self.hints if h.level == PROBLEM]

    def to_dict(self) -> dict[str, Any]:
        return dataclasses.asdict(self)

    def to_json(self) -> str:
        return json.dumps(self.to_dict(), indent=2, default=str)

    # -- rendering ----------------------------------------------------------------

    def _sections(self) -> list[tuple[str, list[tuple[str, str]]]]:
        v = [(k, val if val is not None else "not installed") for k, val in self.versions.items()]
        d = self.device
        dev = [("device", str(d.get("device"))), ("chosen by", str(d.get("source")))]
        if d.get("error"):
            dev.append(("error", d["error"]))
        fe = []
        for name, info in self.frontend["labextensions"].items():
            fe.append((name, f"{info['version']}  ({info['path']})" if info else "not found"))
        if self.frontend.get("server_started"):
            fe.append(("Jupyter server started", self.frontend["server_started"]))
        n = self.nodelay
        nd = [
            ("enabled in config", _yes_no(n["enabled_in_config"]) +
             (f"  ({n['config_source']})" if n.get("config_source") else "")),
            ("active in this kernel's server", {True: "yes", False: "no", None: "unknown"}[n["active_in_server"]]),
        ]
        if n.get("switch"):
            nd.append((ENV_SWITCH, n["switch"]))
        e = self.environment
        env = [
            ("in a Jupyter kernel", _yes_no(e["in_kernel"])),
            ("VS Code", _yes_no(e["vscode"])),
            ("Colab", _yes_no(e["colab"])),
        ]
        if e.get("notebook"):
            env.append(("notebook", e["notebook"]))
        if e.get("server_pid"):
            env.append(("Jupyter server pid", str(e["server_pid"])))
        return [
            ("Versions", v),
            ("Compute", dev),
            ("JupyterLab front end", fe),
            ("TCP_NODELAY server extension", nd),
            ("Environment", env),
        ]

    def __str__(self) -> str:
        lines = ["invwidgets diagnose: " + ("OK" if self.ok else f"{len(self.problems)} problem(s)")]
        for title, rows in self._sections():
            lines.append(f"\n{title}")
            width = max((len(k) for k, _ in rows), default=0)
            lines += [f"  {k:<{width}}  {val}" for k, val in rows]
        if self.hints:
            lines.append("\nHints")
            for h in self.hints:
                lines.append(f"  {'[problem]' if h.level == PROBLEM else '[note]   '} {h.text}")
        return "\n".join(lines)

    def __repr__(self) -> str:
        notes = sum(h.level == NOTE for h in self.hints)
        return (f"<invwidgets diagnose: {'OK' if self.ok else f'{len(self.problems)} problem(s)'}, "
                f"{notes} note(s); print(report) for details>")

    def to_html(self) -> str:
        esc = html.escape
        head = ("<b>invwidgets diagnose</b>: " +
                ("<span style='color:#2e7d32'>OK</span>" if self.ok else
                 f"<span style='color:#c62828'>{len(self.problems)} problem(s)</span>"))
        parts = [f"<div class='invwidgets-diagnose'><p>{head}</p>"]
        if self.hints:
            parts.append("<ul>")
            for h in self.hints:
                color = "#c62828" if h.level == PROBLEM else "#1565c0"
                parts.append(f"<li><b style='color:{color}'>{esc(h.level)}</b>: {esc(h.text)}</li>")
            parts.append("</ul>")
        parts.append("<table>")
        for title, rows in self._sections():
            parts.append(f"<tr><th colspan='2' style='text-align:left'>{esc(title)}</th></tr>")
            parts += [f"<tr><td style='text-align:left'>{esc(k)}</td>"
                      f"<td style='text-align:left'><code>{esc(val)}</code></td></tr>" for k, val in rows]
        parts.append("</table></div>")
        return "".join(parts)


def _yes_no(v: bool | None) -> str:
    return {True: "yes", False: "no", None: "unknown"}[v]


# --------------------------------------------------------------------------- pieces


def _version(dist: str) -> str | None:
    from importlib import metadata

    try:
        return metadata.version(dist)
    except metadata.PackageNotFoundError:
        return None


def collect_versions() -> dict[str, str | None]:
    out: dict[str, str | None] = {"python": platform.python_version()}
    for name, dist in PACKAGES.items():
        out[name] = _version(dist)
    # The running ipykernel may differ from the installed one (kernel not restarted).
    mod = sys.modules.get("ipykernel")
    if mod is not None and getattr(mod, "__version__", None):
        out["ipykernel"] = mod.__version__
    return out


def default_device_name() -> str:
    """The device the worker would use, as a string (imports torch)."""
    from invwidgets.worker import default_device

    return str(default_device())


def collect_device() -> dict[str, Any]:
    info: dict[str, Any] = {
        "device": None,
        "source": f"{ENV_DEVICE}={os.environ[ENV_DEVICE]!r}" if os.environ.get(ENV_DEVICE, "").strip()
        else "automatic (cuda > mps > cpu)",
        "cuda_available": None,
        "mps_available": None,
        "error": None,
    }
    try:
        import torch
    except Exception as e:
        info["error"] = f"torch does not import: {e!r}"
        return info
    try:
        info["cuda_available"] = bool(torch.cuda.is_available())
        mps = getattr(torch.backends, "mps", None)
        info["mps_available"] = bool(mps is not None and mps.is_available())
    except Exception as e:  # pragma: no cover - broken CUDA installs
        info["error"] = f"device query failed: {e!r}"
    try:
        dev = default_device_name()
        info["device"] = dev
        kind = dev.split(":")[0]
        if kind == "cuda" and not info["cuda_available"]:
            info["error"] = f"{dev} requested but torch sees no CUDA device"
        elif kind == "mps" and not info["mps_available"]:
            info["error"] = f"{dev} requested but MPS is not available"
    except Exception as e:
        info["error"] = f"cannot choose a device: {e}"
    return info


def _labextension_dirs() -> list[str]:
    try:
        from jupyter_core.paths import jupyter_path
    except ImportError:
        return []
    return jupyter_path("labextensions")


def find_labextensions(dirs: list[str] | None = None) -> dict[str, dict | None]:
    """For each needed labextension: {path, version, installed_at} of the first found
    in the Jupyter data paths (the order JupyterLab uses), else None."""
    dirs = _labextension_dirs() if dirs is None else dirs
    out: dict[str, dict | None] = {}
    for name in LABEXTENSIONS:
        out[name] = None
        for d in dirs:
            pkg = Path(d, *name.split("/"), "package.json")
            if pkg.is_file():
                try:
                    version = json.loads(pkg.read_text()).get("version", "?")
                except (OSError, ValueError):
                    version = "?"
                out[name] = {"path": str(pkg.parent), "version": version,
                             "installed_at": pkg.stat().st_mtime}
                break
    return out


def _config_dirs() -> list[str]:
    try:
        from jupyter_core.paths import jupyter_config_path
    except ImportError:
        return []
    return jupyter_config_path()


def nodelay_config_state(config_dirs: list[str] | None = None) -> tuple[bool | None, str | None]:
    """Whether ``invwidgets.nodelay`` is enabled in the jupyter_server config, and the
    file that decided it.  Same merge as jupyter_server's ExtensionConfigManager: the
    first config dir wins; within a dir ``jupyter_server_config.json`` beats the
    ``jupyter_server_config.d/*.json`` files, which apply in name order."""
    dirs = _config_dirs() if config_dirs is None else config_dirs
    state: bool | None = None
    source: str | None = None
    for d in reversed(dirs):  # lowest precedence first
        files = sorted(Path(d, "jupyter_server_config.d").glob("*.json"))
        files.append(Path(d, "jupyter_server_config.json"))
        for f in files:
            try:
                if not f.is_file() or not f.stat().st_size:
                    continue
                data = json.loads(f.read_text())
            except (OSError, ValueError):
                continue
            ext = (data.get("ServerApp") or {}).get("jpserver_extensions") or {}
            if NODELAY_EXTENSION in ext:
                state, source = bool(ext[NODELAY_EXTENSION]), str(f)
    return state, source


def collect_nodelay() -> dict[str, Any]:
    enabled, source = nodelay_config_state()
    active_env = os.environ.get(ENV_ACTIVE)
    return {
        "enabled_in_config": enabled,
        "config_source": source,
        "active_in_server": {"1": True, "0": False}.get(active_env) if active_env is not None else None,
        "active_env": active_env,
        "switch": os.environ.get(ENV_SWITCH),
    }


def _in_kernel() -> bool:
    if "ipykernel" not in sys.modules:
        return False
    try:
        from IPython import get_ipython
    except ImportError:  # pragma: no cover
        return False
    ip = get_ipython()
    return ip is not None and getattr(ip, "kernel", None) is not None


def _process_start_time(pid: int) -> float | None:
    try:
        import psutil

        return psutil.Process(pid).create_time()
    except Exception:
        return None


def collect_environment() -> dict[str, Any]:
    server_pid = os.environ.get("JPY_PARENT_PID")  # set by jupyter_client for the kernel
    try:
        server_pid_i = int(server_pid) if server_pid else None
    except ValueError:
        server_pid_i = None
    return {
        "in_kernel": _in_kernel(),
        "vscode": bool(os.environ.get("VSCODE_PID") or os.environ.get("VSCODE_CWD")),
        "colab": "google.colab" in sys.modules,
        "notebook": os.environ.get("JPY_SESSION_NAME"),
        "server_pid": server_pid_i,
        "server_started_at": _process_start_time(server_pid_i) if server_pid_i else None,
        "executable": sys.executable,
    }


def _vtuple(v: str | None) -> tuple[int, ...]:
    """Leading numeric release of a version string: '8.1.5rc1' -> (8, 1, 5); '' -> ()."""
    m = re.match(r"\d+(?:\.\d+)*", v or "")
    return tuple(int(p) for p in m.group(0).split(".")) if m else ()


def make_hints(versions, device, frontend, nodelay, environment) -> list[Hint]:
    h: list[Hint] = []
    hosted = environment["vscode"] or environment["colab"]

    # versions
    if versions.get("ipykernel") == "7.0.0":
        h.append(Hint(PROBLEM, "ipykernel 7.0.0 is excluded: widget updates from background threads "
                               "break there. pip install -U 'ipykernel!=7.0.0', then restart the kernel."))
    for pkg in ("ipywidgets", "anywidget", "torch", "numpy"):
        if versions.get(pkg) is None:
            h.append(Hint(PROBLEM, f"{pkg} is not installed in this kernel's environment "
                                   f"({environment['executable']}): pip install invwidgets there."))
    if versions.get("ipywidgets") and _vtuple(versions["ipywidgets"]) < (8,):
        h.append(Hint(PROBLEM, f"ipywidgets {versions['ipywidgets']} is too old: invwidgets needs "
                               "ipywidgets >= 8.1 (pip install -U ipywidgets)."))
    js = versions.get("jupyter_server")
    if js and _vtuple(js) < (2,):
        h.append(Hint(NOTE, f"jupyter_server {js} is old: the TCP_NODELAY extension needs "
                            "jupyter_server >= 2 (pip install -U jupyter_server jupyterlab)."))
    lab = versions.get("jupyterlab")
    if lab and _vtuple(lab) < (4,) and not hosted:
        h.append(Hint(NOTE, f"JupyterLab {lab}: invwidgets is tested with JupyterLab 4."))

    # device
    if device.get("error"):
        h.append(Hint(PROBLEM, f"torch device: {device['error']}"
                               + (f" (unset or fix {ENV_DEVICE})" if os.environ.get(ENV_DEVICE) else "")))

    # front end
    labext = frontend["labextensions"]
    missing = [n for n, info in labext.items() if info is None]
    if hosted:
        where = "VS Code" if environment["vscode"] else "Colab"
        h.append(Hint(NOTE, f"Running in {where}: it loads the anywidget/ipywidgets front end itself; "
                            "no JupyterLab extension is needed, and the TCP_NODELAY server extension "
                            "does not apply."))
    elif missing:
        h.append(Hint(PROBLEM, "JupyterLab front end missing: " + ", ".join(missing) +
                      " not found in the Jupyter data paths. pip install anywidget ipywidgets in the "
                      "environment that runs JupyterLab, then restart JupyterLab and reload the page. "
                      "(If JupyterLab runs from another environment than this kernel, check there.)"))
    started = environment.get("server_started_at")
    if started and not hosted:
        late = [n for n, info in labext.items() if info and info["installed_at"] > started]
        if late:
            h.append(Hint(PROBLEM, "Installed while Jupyter was running: " + ", ".join(late) +
                          " appeared after this Jupyter server started. Restart JupyterLab and "
                          "reload the page."))

    # nodelay
    if not hosted and environment["in_kernel"]:
        if nodelay["active_in_server"] is None and nodelay["enabled_in_config"]:
            h.append(Hint(NOTE, "The TCP_NODELAY server extension is enabled but was not loaded by the "
                                "server that started this kernel (installed while Jupyter was running, "
                                "or a server from another environment): restart JupyterLab for "
                                "~4x faster widget round trips."))
        elif nodelay["active_in_server"] is False:
            why = (f"switched off by {ENV_SWITCH}={nodelay['switch']}"
                   if nodelay.get("switch") is not None else "it could not patch this jupyter_server "
                   "(see the server log)")
            h.append(Hint(NOTE, f"The TCP_NODELAY server extension loaded but is inactive: {why}. "
                                "Widget round trips take ~40 ms longer."))
        elif nodelay["enabled_in_config"] is False:
            h.append(Hint(NOTE, "The TCP_NODELAY server extension is disabled in the Jupyter config "
                                f"({nodelay['config_source']}); widget round trips take ~40 ms longer. "
                                "jupyter server extension enable invwidgets.nodelay re-enables it."))
    if not environment["in_kernel"]:
        h.append(Hint(NOTE, "Not running in a Jupyter kernel: the checks describe this Python "
                            "environment, not a running Jupyter."))
    return h


# --------------------------------------------------------------------------- entry point


def _show(report: Report) -> None:
    if _in_kernel():
        try:
            from IPython.display import display

            display({"text/plain": str(report), "text/html": report.to_html()}, raw=True)
            return
        except Exception:  # pragma: no cover - fall back to text
            pass
    print(report)


def diagnose(show: bool = True) -> Report:
    """Collect the report; show it (rich in a notebook, text elsewhere) unless
    ``show=False``; return it (``report.ok``, ``report.problems``, ``report.to_dict()``)."""
    versions = collect_versions()
    device = collect_device()
    labext = find_labextensions()
    environment = collect_environment()
    frontend = {
        "labextensions": labext,
        "labextension_dirs": _labextension_dirs(),
        "server_started": (time.strftime("%Y-%m-%d %H:%M:%S", time.localtime(environment["server_started_at"]))
                           if environment.get("server_started_at") else None),
    }
    nodelay = collect_nodelay()
    report = Report(
        versions=versions,
        device=device,
        frontend=frontend,
        nodelay=nodelay,
        environment=environment,
        hints=make_hints(versions, device, frontend, nodelay, environment),
    )
    if show:
        _show(report)
    return report


class _CallableModule(type(sys)):
    """Lets ``invwidgets.diagnose(...)`` work whether the package attribute
    ``invwidgets.diagnose`` is this function or this module: importing the submodule
    (``import invwidgets.diagnose``) rebinds that attribute to the module."""

    def __call__(self, *args, **kwargs):
        return diagnose(*args, **kwargs)


sys.modules[__name__].__class__ = _CallableModule
