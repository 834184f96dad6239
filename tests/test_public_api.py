"""The public API: every exported name resolves, and importing the package stays light."""

from __future__ import annotations

import subprocess
import sys

import invwidgets


def test_every_public_name_resolves():
    for name in invwidgets.__all__:
        assert getattr(invwidgets, name) is not None, name
    assert set(invwidgets.__all__) <= set(dir(invwidgets))


def test_unknown_name_is_an_attribute_error():
    try:
        invwidgets.NoSuchThing  # noqa: B018
    except AttributeError as exc:
        assert "NoSuchThing" in str(exc)
    else:  # pragma: no cover
        raise AssertionError("expected AttributeError")


def test_import_does_not_load_torch():
    # Jupyter imports invwidgets.nodelay (and so the package) in every server process.
    code = "import sys, invwidgets, invwidgets.nodelay; print('torch' in sys.modules)"
    out = subprocess.run([sys.executable, "-c", code], capture_output=True, text=True, check=True)
    assert out.stdout.strip() == "False"


def test_from_import_works():
    from invwidgets import ImageView, LatentExplorer, diagnose, zoo  # noqa: F401

    assert callable(diagnose)
    assert "ae-sprites" in zoo.ENTRIES  # registered in code
    assert "ae-sprites" in zoo.available()  # and shipped: weights and card inside the package


def test_readme_api_table_lists_every_export():
    """Each top-level export is named in the README's "Public API" table (as `name` or `name(...`)."""
    import re
    from pathlib import Path

    readme = (Path(__file__).resolve().parents[1] / "README.md").read_text()
    table = readme.split("## Public API", 1)[1].split("\n## ", 1)[0]
    named = set(re.findall(r"`([A-Za-z_][A-Za-z_0-9]*)[(`]", table))
    missing = [n for n in invwidgets.__all__ if n != "__version__" and n not in named]
    assert missing == [], f"exports missing from the README's API table: {missing}"
