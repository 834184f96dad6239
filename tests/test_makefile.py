"""The Makefile's commands as `make -n` prints them: what runs, without running it."""

from __future__ import annotations

import os
import shutil
import subprocess
from pathlib import Path

import pytest

ROOT = Path(__file__).resolve().parents[1]

pytestmark = pytest.mark.skipif(shutil.which("make") is None, reason="make is not installed")


def _dry_run(target: str, tmp_path: Path, uid: int, *args: str) -> list[str]:
    """`make -n TARGET` with `id -u` answering ``uid`` (a stand-in `id` first on PATH)."""
    fake = tmp_path / "bin"
    fake.mkdir(exist_ok=True)
    (fake / "id").write_text(f"#!/bin/sh\necho {uid}\n")
    (fake / "id").chmod(0o755)
    env = {**os.environ, "PATH": f"{fake}{os.pathsep}{os.environ['PATH']}"}
    out = subprocess.run(["make", "-n", "-C", str(ROOT), target, *args], env=env, capture_output=True,
                         text=True, check=True, timeout=60)
    return out.stdout.splitlines()


def _lab_command(lines: list[str]) -> str:
    commands = [line for line in lines if "jupyter lab" in line]
    assert len(commands) == 1, lines
    return commands[0]


def test_lab_allows_root_only_when_root(tmp_path):
    """JupyterLab exits as root without --allow-root; a normal user must not get the flag."""
    as_root = _lab_command(_dry_run("lab", tmp_path, 0))
    as_user = _lab_command(_dry_run("lab", tmp_path, 1000))
    assert "--allow-root" in as_root.split()
    assert "--allow-root" not in as_user.split()
    assert as_root.endswith("notebooks/00_tour.ipynb") and as_user.endswith("notebooks/00_tour.ipynb")


def test_venv_offers_the_cpu_torch_index_and_can_turn_it_off(tmp_path):
    """The install probes TORCH_INDEX and passes it to pip only when it answers; `TORCH_INDEX=`
    leaves pip's own configuration alone."""
    default = "\n".join(_dry_run("venv", tmp_path, 1000, "-B"))
    assert "https://download.pytorch.org/whl/cpu" in default and "--extra-index-url" in default
    assert "urlopen" in default  # the reachability probe decides
    off = "\n".join(_dry_run("venv", tmp_path, 1000, "-B", "TORCH_INDEX="))
    assert "download.pytorch.org" not in off
    assert "pip install $extra -r requirements-dev.txt" in off
