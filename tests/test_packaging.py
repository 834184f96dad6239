"""The wheel built from a clean checkout installs in a fresh venv, imports and displays."""

from __future__ import annotations

import json
import os
import subprocess
import sys
import sysconfig
import zipfile
from pathlib import Path

import pytest

ROOT = Path(__file__).resolve().parents[1]


def _run(cmd, **kw):
    return subprocess.run(cmd, check=True, capture_output=True, text=True, **kw)


@pytest.fixture(scope="module")
def wheel(tmp_path_factory) -> Path:
    out = tmp_path_factory.mktemp("dist")
    src = tmp_path_factory.mktemp("src") / "invwidgets"
    # A clean checkout: only what git tracks (plus files being added in this change).
    files = _run(["git", "ls-files", "-co", "--exclude-standard"], cwd=ROOT).stdout.split()
    for rel in files:
        p = ROOT / rel
        if p.is_file():
            dst = src / rel
            dst.parent.mkdir(parents=True, exist_ok=True)
            dst.write_bytes(p.read_bytes())
    _run([sys.executable, "-m", "build", "--wheel", "--no-isolation", "--outdir", str(out), str(src)])
    wheels = list(out.glob("invwidgets-*.whl"))
    assert len(wheels) == 1
    return wheels[0]


def test_wheel_contains_front_end_and_server_config(wheel):
    names = zipfile.ZipFile(wheel).namelist()
    assert any(n.startswith("invwidgets/widgets/static/") and n.endswith(".js") for n in names)
    assert any(n.endswith(".css") for n in names)
    assert any(n.endswith("etc/jupyter/jupyter_server_config.d/invwidgets.json") for n in names)
    assert any(n.startswith("invwidgets/zoo/weights/") and n.endswith(".safetensors") for n in names)
    assert not any("/tests/" in n or n.startswith("tests/") for n in names)


def test_wheel_ships_every_zoo_model_and_stays_under_50_mb(wheel):
    from invwidgets import zoo

    names = set(zipfile.ZipFile(wheel).namelist())
    missing = [n for n in zoo.available() if f"invwidgets/zoo/weights/{n}.safetensors" not in names]
    assert missing == []
    assert wheel.stat().st_size < 50 * 2**20, f"wheel is {wheel.stat().st_size / 2**20:.1f} MiB"


def test_wheel_installs_in_fresh_venv_imports_and_displays(wheel, tmp_path):
    venv = tmp_path / "venv"
    _run([sys.executable, "-m", "venv", str(venv)])
    py = venv / "bin" / "python"
    # Dependencies come from this environment (no downloads); the package itself only from the
    # wheel, so a file missing from the wheel fails here.
    site = sysconfig.get_paths()["purelib"]
    fresh_site = _run([str(py), "-c", "import sysconfig; print(sysconfig.get_paths()['purelib'])"]).stdout.strip()
    Path(fresh_site, "_deps_from_dev_env.pth").write_text(site + "\n")
    _run([str(py), "-m", "pip", "install", "--no-deps", "--no-index", str(wheel)])
    code = r"""
import json, sys, pathlib
import invwidgets
from invwidgets import ImageView, LatentExplorer, zoo, data
assert pathlib.Path(invwidgets.__file__).is_relative_to(sys.prefix), invwidgets.__file__
v = ImageView(data.digits().images[0])
bundle = v._repr_mimebundle_() if hasattr(v, "_repr_mimebundle_") else None
assert bundle is not None
mime = bundle[0] if isinstance(bundle, tuple) else bundle
assert "application/vnd.jupyter.widget-view+json" in mime
model = zoo.load("ae-sprites")
ex = LatentExplorer(model, data.sprites())
assert ex.wait_idle(30)
print(json.dumps({"file": invwidgets.__file__, "esm": len(str(ex._esm))}))
ex.close(); v.close()
"""
    env = dict(os.environ, INVWIDGETS_DEVICE="cpu")
    env.pop("PYTHONPATH", None)
    res = subprocess.run([str(py), "-c", code], capture_output=True, text=True, env=env,
                         cwd=tmp_path)
    assert res.returncode == 0, res.stderr[-3000:]
    info = json.loads(res.stdout.strip().splitlines()[-1])
    assert str(venv) in info["file"]
    cfg = venv / "etc" / "jupyter" / "jupyter_server_config.d" / "invwidgets.json"
    assert cfg.is_file()
    assert json.loads(cfg.read_text())["ServerApp"]["jpserver_extensions"]
