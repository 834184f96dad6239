"""What the front end costs: plotly.js bundle sizes and the comm state each explorer sends.

Run from the repository root (after ``make venv``)::

    .venv/bin/python benchmarks/frontend_bundle.py                    # explorers only
    .venv/bin/python benchmarks/frontend_bundle.py --npm-dir /tmp/pb  # plus the npm bundles
    .venv/bin/python benchmarks/frontend_bundle.py --only LatentExplorer --json out.json

Two measurements:

1. **plotly.js bundles.** The bundle plotly's ``FigureWidget`` ships (inside the plotly wheel,
   always measured) and, with ``--npm-dir DIR``, the npm distribution bundles installed there
   beforehand with npm's own client (this script never downloads anything)::

       cd DIR && npm init -y && npm install plotly.js-dist-min plotly.js-basic-dist-min \\
           plotly.js-cartesian-dist-min

   For each: raw and gzip (level 9) bytes, and, when Debian's Chromium and playwright are there,
   the trace types the bundle registers (``Plotly.PlotSchema.get().traces``, read in a blank
   headless page), and whether the types the explorers draw (heatmap, bar, scatter) are among them.

2. **Comm state per explorer.** Each explorer is built on a zoo model as the browser tests and
   notebooks build it, with the widget comm replaced by a recorder: every ``comm_open`` (the
   widget's whole state, ``_esm`` and ``_css`` included, as JSON the way jupyter_client packs it,
   plus its binary buffers) and every later state update until the explorer is idle is counted.
   Nothing depends on how the explorer is composed: a layout of many widgets and a single
   anywidget root with child models are measured alike, so the script can be rerun unchanged
   after the widget layer changes. The same total is also computed as the sum of ``get_state()``
   over every widget the explorer created (ipywidgets' registry), after it went idle.

Nothing here is a test; it prints numbers.
"""

from __future__ import annotations

import argparse
import contextlib
import gzip
import json
import sys
from collections import defaultdict
from collections.abc import Callable, Iterator
from dataclasses import dataclass, field
from pathlib import Path
from typing import Any

ROOT = Path(__file__).resolve().parents[1]
sys.path.insert(0, str(ROOT / "tests" / "browser"))

#: npm packages measured with ``--npm-dir`` (each a ready-made minified bundle).
NPM_BUNDLES = ("plotly.js-dist-min", "plotly.js-basic-dist-min", "plotly.js-cartesian-dist-min")
#: Trace types the explorers draw.
NEEDED_TRACES = ("heatmap", "bar", "scatter")


def gzip_size(data: bytes) -> int:
    """Bytes of ``data`` gzipped at level 9 (what a server compressing at best would send)."""
    return len(gzip.compress(data, compresslevel=9, mtime=0))


# --------------------------------------------------------------------------- bundles


@dataclass
class Bundle:
    name: str
    version: str
    path: Path
    raw: int
    gzip: int
    traces: list[str] | None = None  # None: not read (no Chromium)

    def row(self) -> str:
        if self.traces is None:
            kinds = "(an ES module: not read)" if self.path.is_dir() else "(no Chromium: not read)"
            has = "?"
        else:
            kinds = ", ".join(self.traces)
            has = ", ".join(t for t in NEEDED_TRACES if t in self.traces) or "none"
        return (f"| {self.name} | {self.version} | {self.raw:,} | {self.gzip:,} | "
                f"{len(self.traces) if self.traces is not None else '?'} | {has} | {kinds} |")


def npm_bundles(npm_dir: Path) -> list[Bundle]:
    """The npm bundles installed under ``npm_dir/node_modules`` (missing ones are reported)."""
    out = []
    for name in NPM_BUNDLES:
        pkg_dir = npm_dir / "node_modules" / name
        if not (pkg_dir / "package.json").is_file():
            print(f"  {name}: not installed under {npm_dir} (npm install {name})")
            continue
        meta = json.loads((pkg_dir / "package.json").read_text())
        path = pkg_dir / meta.get("main", "index.js")
        data = path.read_bytes()
        out.append(Bundle(name, meta["version"], path, len(data), gzip_size(data)))
    return out


def figurewidget_bundle() -> Bundle:
    """The ES module plotly's ``FigureWidget`` sends as its ``_esm`` (plotly.js inside)."""
    import re

    import plotly
    import plotly.graph_objects as go

    text = str(go.FigureWidget._esm)
    found = re.findall(r'version:"(\d+\.\d+\.\d+)"', text)
    version = f"plotly {plotly.__version__} (plotly.js {found[0] if found else '?'})"
    data = text.encode()
    return Bundle("plotly FigureWidget _esm", version, Path(plotly.__file__).parent, len(data),
                  gzip_size(data))


def read_traces(bundles: list[Bundle]) -> None:
    """Fill in each UMD bundle's registered trace types from a blank headless Chromium page."""
    import jlab

    if jlab.chromium_path() is None:
        print(f"  no Chromium at {jlab.CHROMIUM}: trace types not read")
        return
    try:
        from playwright.sync_api import sync_playwright
    except ImportError:
        print("  playwright is not installed: trace types not read")
        return
    with sync_playwright() as pw:
        browser = jlab.launch_chromium(pw)
        try:
            for b in bundles:
                if not b.path.is_file():
                    continue  # the FigureWidget bundle is an ES module, not loadable as a script
                page = browser.new_page()
                page.set_content("<html><body></body></html>")
                page.add_script_tag(path=str(b.path))
                b.traces = sorted(page.evaluate("() => Object.keys(window.Plotly.PlotSchema.get().traces)"))
                page.close()
        finally:
            browser.close()


# --------------------------------------------------------------------------- comm state


@dataclass
class CommTally:
    """Bytes sent over widget comms, per widget class."""

    opens: dict[str, list[int]] = field(default_factory=lambda: defaultdict(list))
    #: comm id -> (model name, bytes of its comm_open), to name each by its Python class later
    by_comm: dict[str, tuple[str, int]] = field(default_factory=dict)
    esm: int = 0
    css: int = 0
    open_buffers: int = 0
    updates: int = 0
    update_bytes: int = 0

    @property
    def open_bytes(self) -> int:
        return sum(sum(v) for v in self.opens.values())

    @property
    def n_widgets(self) -> int:
        return sum(len(v) for v in self.opens.values())


def _packed_size(data: Any, buffers: Any) -> tuple[int, int]:
    try:
        from jupyter_client.session import json_packer
    except ImportError:  # pragma: no cover - jupyter_client comes with ipykernel
        def json_packer(obj: Any) -> bytes:
            return json.dumps(obj, ensure_ascii=False, allow_nan=False).encode()
    body = len(json_packer(data))
    return body, sum(memoryview(b).nbytes for b in (buffers or []))


@contextlib.contextmanager
def recording_comms() -> Iterator[list[CommTally]]:
    """Replace the widget comm with one that tallies what it would send; yields a list that
    holds the current tally at ``[-1]`` (append a fresh ``CommTally`` to start another)."""
    import comm
    from comm import DummyComm

    tallies = [CommTally()]

    class RecordingComm(DummyComm):
        def __init__(self, *args: Any, **kwargs: Any) -> None:
            data, buffers = kwargs.get("data") or {}, kwargs.get("buffers")
            state = data.get("state", {})
            tally = tallies[-1]
            body, buf = _packed_size(data, buffers)
            name = f"{state.get('_model_module', '?')}.{state.get('_model_name', '?')}"
            tally.opens[name].append(body + buf)
            tally.open_buffers += buf
            tally.esm += len(str(state.get("_esm", "")).encode())
            tally.css += len(str(state.get("_css", "")).encode())
            super().__init__(*args, **kwargs)
            tally.by_comm[self.comm_id] = (name, body + buf)

        def publish_msg(self, msg_type: str, data: Any = None, metadata: Any = None,
                        buffers: Any = None, **keys: Any) -> None:
            if msg_type == "comm_msg" and isinstance(data, dict) and data.get("method") == "update":
                body, buf = _packed_size(data, buffers)
                tallies[-1].updates += 1
                tallies[-1].update_bytes += body + buf

    saved = comm.create_comm
    comm.create_comm = RecordingComm
    try:
        yield tallies
    finally:
        comm.create_comm = saved


def state_sum(widgets: list[Any]) -> int:
    """Sum of ``get_state()`` of ``widgets`` as they would be packed (JSON plus buffers)."""
    from ipywidgets.widgets.widget import _remove_buffers

    total = 0
    for w in widgets:
        state, paths, buffers = _remove_buffers(w.get_state())
        body, buf = _packed_size({"state": state, "buffer_paths": paths}, buffers)
        total += body + buf
    return total


# --------------------------------------------------------------------------- explorers


def _latent() -> Any:
    from invwidgets import LatentExplorer, data, zoo

    return LatentExplorer(zoo.load("ae-sprites"), data.sprites(), device="cpu")


def _invariance() -> Any:
    from invwidgets import InvarianceExplorer, zoo

    return InvarianceExplorer(zoo.load("svae-digits"), zoo.test_split("svae-digits"),
                              zoo.load("baseline-digits"), k=4, device="cpu")


def _factor() -> Any:
    from invwidgets import FactorExplorer, zoo

    ae = zoo.load("ae-color-digits-s0")
    return FactorExplorer(ae, zoo.load("iin-ae-color-digits-s0"), decoder=ae,
                          dataset=zoo.test_split("ae-color-digits-s0"), device="cpu")


def _inversion() -> Any:
    from invwidgets import InversionExplorer, zoo

    ckpts = zoo.load("cnn-digits-ckpts-s0")
    return InversionExplorer(ckpts.final, ["input", "conv1", "conv2", "fc", "logits"],
                             zoo.test_split("inv-digits-s0").subset(range(100)),
                             zoo.load("inv-digits-s0"), n_samples=8, n_boot=50, device="cpu")


def _response() -> Any:
    from invwidgets import ResponseExplorer, zoo
    from invwidgets.data import sprites

    return ResponseExplorer(zoo.load("betavae-sprites-s1"), sprites(size=16, rotations=1),
                            n_traversals=5, seed=0, device="cpu")


#: name -> (how it is built, in words; builder)
EXPLORERS: dict[str, tuple[str, Callable[[], Any]]] = {
    "LatentExplorer": ("zoo ae-sprites on sprites()", _latent),
    "InvarianceExplorer": ("zoo svae-digits + baseline-digits, its test split, k=4", _invariance),
    "FactorExplorer": ("zoo ae-color-digits-s0 + iin-ae-color-digits-s0, its test split, defaults",
                       _factor),
    "InversionExplorer": ("zoo cnn-digits-ckpts-s0 final + inv-digits-s0, 5 layers, 100 test images, "
                          "n_samples=8, n_boot=50", _inversion),
    "ResponseExplorer": ("zoo betavae-sprites-s1 on sprites(size=16, rotations=1), n_traversals=5",
                         _response),
}


def _by_class(tally: CommTally, registry: dict) -> dict[str, dict[str, int]]:
    """Comm_open bytes per Python class (with its front-end model name)."""
    out: dict[str, dict[str, int]] = {}
    for comm_id, (model, size) in tally.by_comm.items():
        w = registry.get(comm_id)
        cls = "?" if w is None else f"{type(w).__module__}.{type(w).__qualname__}"
        row = out.setdefault(f"{cls} [{model}]", {"n": 0, "bytes": 0})
        row["n"] += 1
        row["bytes"] += size
    return dict(sorted(out.items()))


def measure_explorer(name: str, tallies: list[CommTally], idle_timeout: float) -> dict[str, Any]:
    """Build one explorer with comms recorded; return its numbers (and close it)."""
    import ipywidgets

    registry = ipywidgets.widgets.widget._instances
    before = set(registry)
    tallies.append(CommTally())
    ex = EXPLORERS[name][1]()
    at_open = tallies[-1]
    opened = {"bytes": at_open.open_bytes, "widgets": at_open.n_widgets}
    idle = ex.wait_idle(idle_timeout)
    created = [w for k, w in list(registry.items()) if k not in before]
    t = tallies[-1]
    result = {
        "explorer": name,
        "built_from": EXPLORERS[name][0],
        "idle": bool(idle),
        "status": getattr(ex, "status", "?"),
        "widgets": t.n_widgets,
        "open_bytes": t.open_bytes,
        "open_bytes_at_construction": opened["bytes"],
        "esm_bytes": t.esm,
        "css_bytes": t.css,
        "open_buffer_bytes": t.open_buffers,
        "updates_until_idle": t.updates,
        "update_bytes_until_idle": t.update_bytes,
        "get_state_sum_after_idle": state_sum(created),
        "by_class": _by_class(t, registry),
    }
    ex.close()
    return result


def _mb(n: int) -> str:
    return f"{n / 1e6:.2f} MB"


def print_explorers(rows: list[dict[str, Any]]) -> None:
    print("\n| explorer | widgets | comm_open total | of which _esm | _css | buffers | "
          "updates until idle | get_state() sum after idle |")
    print("|---|---|---|---|---|---|---|---|")
    for r in rows:
        print(f"| {r['explorer']} | {r['widgets']} | {_mb(r['open_bytes'])} | {_mb(r['esm_bytes'])} | "
              f"{r['css_bytes']:,} B | {r['open_buffer_bytes']:,} B | "
              f"{r['updates_until_idle']} msgs, {_mb(r['update_bytes_until_idle'])} | "
              f"{_mb(r['get_state_sum_after_idle'])} |")
    for r in rows:
        print(f"\n{r['explorer']} ({r['built_from']}; idle={r['idle']}, status={r['status']}):")
        for k, v in r["by_class"].items():
            print(f"  {v['n']:3d} x {k}: {v['bytes']:,} B")


def main(argv: list[str] | None = None) -> int:
    ap = argparse.ArgumentParser(description=__doc__.split("\n\n")[0])
    ap.add_argument("--npm-dir", type=Path, help="folder where the npm bundles were installed")
    ap.add_argument("--only", action="append", choices=sorted(EXPLORERS), help="explorers to measure")
    ap.add_argument("--no-explorers", action="store_true", help="measure the bundles only")
    ap.add_argument("--idle-timeout", type=float, default=600.0, help="seconds to wait for idle")
    ap.add_argument("--json", type=Path, help="also write every number to this file")
    args = ap.parse_args(argv)

    import torch

    torch.set_num_threads(1)
    bundles = [figurewidget_bundle()]
    if args.npm_dir:
        bundles += npm_bundles(args.npm_dir)
    read_traces(bundles)
    print("| bundle | version | raw bytes | gzip -9 bytes | trace types | needed types present | types |")
    print("|---|---|---|---|---|---|---|")
    for b in bundles:
        print(b.row())

    rows: list[dict[str, Any]] = []
    if not args.no_explorers:
        with recording_comms() as tallies:
            for name in args.only or list(EXPLORERS):
                print(f"  building {name} ...", flush=True)
                rows.append(measure_explorer(name, tallies, args.idle_timeout))
        print_explorers(rows)
    if args.json:
        args.json.write_text(json.dumps({
            "bundles": [{**b.__dict__, "path": str(b.path)} for b in bundles],
            "explorers": rows,
        }, indent=1))
    return 0


if __name__ == "__main__":
    raise SystemExit(main())
