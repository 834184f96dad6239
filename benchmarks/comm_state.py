"""Comm-state size of each explorer: what the kernel sends the browser to draw it.

Sums, over every widget an explorer creates (itself included), the JSON of its synced state
(front-end code such as ``_esm``/``_css`` included) plus its binary buffers — what a
``comm_open`` carries and what a saved notebook's widget state stores. Also counts the widgets,
the bytes of front-end code among them, and what a second explorer of the same kind adds.

Run from the repository root::

    .venv/bin/python benchmarks/comm_state.py            # a table of all five explorers
    .venv/bin/python benchmarks/comm_state.py --json     # the same numbers as JSON

The explorers are the small ones of the reliability tests (tests/reliability/conftest.py).
"""

from __future__ import annotations

import argparse
import json
import sys
from pathlib import Path

ROOT = Path(__file__).resolve().parents[1]
sys.path.insert(0, str(ROOT / "tests" / "reliability"))

import ipywidgets  # noqa: E402
import torch  # noqa: E402
from ipywidgets.widgets.widget import _remove_buffers  # noqa: E402

import invwidgets as iw  # noqa: E402

KINDS = ["latent", "invariance", "factor", "inversion", "response"]
#: Traits that hold front-end code (the rest is data).
CODE_KEYS = ("_esm", "_css", "_js", "_js2")


def widget_size(w: ipywidgets.Widget) -> tuple[int, int]:
    """(total bytes, bytes of front-end code) of one widget's comm state."""
    state, _paths, buffers = _remove_buffers(w.get_state())
    total = len(json.dumps(state, default=str)) + sum(len(memoryview(b).cast("B")) for b in buffers)
    code = sum(len(str(state.get(k, ""))) for k in CODE_KEYS)
    return total, code


def explorer_widgets(ex: ipywidgets.Widget) -> list[ipywidgets.Widget]:
    created = [w for w in ex.__dict__.get("_invw_created", []) if isinstance(w, ipywidgets.Widget)]
    return [ex, *[w for w in created if w is not ex]]


def measure(build, kind: str) -> dict:
    registry = ipywidgets.widgets.widget._instances
    before = set(registry)
    ex = build(kind)
    ex.wait_idle(120)
    widgets = [w for k, w in registry.items() if k not in before]
    sizes = [widget_size(w) for w in widgets]
    code_seen = {str(w.get_state().get("_esm", ""))[:2000] for w in widgets if w.get_state().get("_esm")}
    out = {"kind": kind, "widgets": len(widgets), "bytes": sum(s for s, _ in sizes),
           "code_bytes": sum(c for _, c in sizes), "esm_copies": sum(1 for _, c in sizes if c),
           "distinct_modules": len(code_seen)}
    ex.close()
    return out


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__.split("\n")[0])
    parser.add_argument("--json", action="store_true")
    parser.add_argument("--kinds", nargs="*", default=KINDS)
    args = parser.parse_args()
    torch.set_num_threads(1)
    iw.set_sync_mode(True)
    from conftest import Builder

    build = Builder()
    rows = [measure(build, k) for k in args.kinds]
    if args.json:
        print(json.dumps(rows, indent=1))
        return
    print(f"{'explorer':<11} {'widgets':>7} {'comm state':>12} {'front-end code':>15} {'copies':>6}")
    for r in rows:
        print(f"{r['kind']:<11} {r['widgets']:>7} {r['bytes'] / 1e6:>10.3f} MB {r['code_bytes'] / 1e6:>12.3f} MB "
              f"{r['esm_copies']:>6}")


if __name__ == "__main__":
    main()
