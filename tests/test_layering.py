"""Data flows one way: a module never imports from a layer to its right.

data → models → methods → zoo → worker → widgets (diagnose and the server extension stand
aside: the extension imports nothing of the package, so Jupyter servers stay light).
"""

from __future__ import annotations

import ast
from pathlib import Path

PKG = Path(__file__).resolve().parents[1] / "invwidgets"
ORDER = ["data", "models", "methods", "zoo", "worker", "widgets", "diagnose"]


def _layer(module: str) -> str | None:
    parts = module.split(".")
    if parts[0] != "invwidgets" or len(parts) < 2:
        return None
    return parts[1]


def _imports(path: Path) -> list[str]:
    rel = path.relative_to(PKG.parent).with_suffix("")
    package = list(rel.parts[:-1]) if rel.name != "__init__" else list(rel.parts[:-1])
    out = []
    for node in ast.walk(ast.parse(path.read_text())):
        if isinstance(node, ast.Import):
            out += [a.name for a in node.names]
        elif isinstance(node, ast.ImportFrom):
            if node.level:
                base = package[: len(package) - (node.level - 1)]
                mod = ".".join(base + ([node.module] if node.module else []))
                out.append(mod)
                if not node.module:
                    out += [f"{mod}.{a.name}" for a in node.names]
            elif node.module:
                out.append(node.module)
    return out


def test_no_module_imports_from_a_layer_to_its_right():
    bad = []
    for path in PKG.rglob("*.py"):
        own = _layer(".".join(path.relative_to(PKG.parent).with_suffix("").parts))
        if own not in ORDER:
            continue
        for mod in _imports(path):
            other = _layer(mod)
            if other in ORDER and ORDER.index(other) > ORDER.index(own):
                bad.append(f"{path.relative_to(PKG.parent)} imports {mod}")
    assert bad == []


def test_server_extension_imports_nothing_of_the_package():
    mods = _imports(PKG / "nodelay.py")
    assert not [m for m in mods if m.startswith("invwidgets")], mods
