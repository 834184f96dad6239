"""A chart's marks rasterised in numpy, for :meth:`Chart.to_png` (a PNG per view from code).

The same marks as the browser's canvas code, placed the same way: heatmap cells and their colour
bar, grouped bars with per-bar colours and error bars, scatter markers and lines, on the light
theme's background with the plot's axes. Colours come from the same tables the front end uses
(:data:`PALETTE`, :data:`VIRIDIS`, :data:`DIVERGING`; a test compares them with ``views.js``) and
the same interpolation (``scale_color`` is the browser's ``scaleColor``). Text (title, ticks,
legend) is not drawn: the package has no font rasteriser; the explorer's export button gives
the picture with text.
"""

from __future__ import annotations

import math
import re
from typing import Any

import numpy as np

__all__ = ["PALETTE", "VIRIDIS", "DIVERGING", "scale_color", "parse_color", "render_figure"]

PALETTE = ["#636efa", "#ef553b", "#00cc96", "#ab63fa", "#ffa15a", "#19d3f3", "#ff6692",
           "#b6e880", "#ff97ff", "#fecb52"]
VIRIDIS = [[68, 1, 84], [72, 40, 120], [62, 74, 137], [49, 104, 142], [38, 130, 142],
           [31, 158, 137], [53, 183, 121], [109, 205, 89], [180, 222, 44], [253, 231, 37]]
DIVERGING = [[33, 102, 172], [103, 169, 207], [209, 229, 240], [247, 247, 247],
             [253, 219, 199], [239, 138, 98], [178, 24, 43]]

BACKGROUND = (255, 255, 255)
AXIS = (158, 158, 158)
GRID_MISSING = (224, 224, 224)
MARGIN = {"left": 30, "right": 10, "top": 10, "bottom": 20, "colorbar": 44}


def _is_num(v: Any) -> bool:
    return isinstance(v, (int, float)) and not isinstance(v, bool) and math.isfinite(v)


def scale_stops(name: Any) -> list[list[int]]:
    """The stops of a plotly colour-scale name, as the browser picks them."""
    return DIVERGING if re.search(r"rdbu|bwr|diverg|picnic|balance|spectral", str(name or "").lower()) else VIRIDIS


def scale_color(t: float, stops: list[list[int]]) -> tuple[int, int, int]:
    """The colour at ``t`` in [0, 1] (clamped), linear between stops, rounded half up."""
    x = max(0.0, min(1.0, t if math.isfinite(t) else 0.0)) * (len(stops) - 1)
    k = min(math.floor(x), len(stops) - 2)
    f = x - k
    a, b = stops[k], stops[k + 1]
    return tuple(int(math.floor(a[i] + (b[i] - a[i]) * f + 0.5)) for i in range(3))  # type: ignore[return-value]


def parse_color(c: Any, fallback: tuple[int, int, int] = (99, 110, 250)) -> tuple[int, int, int]:
    """``#rgb``, ``#rrggbb``, ``rgb(...)``/``rgba(...)`` as an RGB triple (else ``fallback``)."""
    s = str(c).strip().lower()
    if re.fullmatch(r"#[0-9a-f]{6}", s):
        return tuple(int(s[i:i + 2], 16) for i in (1, 3, 5))  # type: ignore[return-value]
    if re.fullmatch(r"#[0-9a-f]{3}", s):
        return tuple(int(ch * 2, 16) for ch in s[1:])  # type: ignore[return-value]
    m = re.fullmatch(r"rgba?\(([^)]*)\)", s)
    if m:
        parts = [float(p) for p in m.group(1).split(",")[:3]]
        return tuple(int(max(0, min(255, round(p)))) for p in parts)  # type: ignore[return-value]
    return fallback


def _trace_color(t: dict, i: int) -> tuple[int, int, int]:
    m = t.get("marker") or {}
    if isinstance(m.get("color"), str):
        return parse_color(m["color"])
    if isinstance(m.get("color"), list) and m["color"] and isinstance(m["color"][0], str):
        return parse_color(m["color"][0])
    if isinstance((t.get("line") or {}).get("color"), str):
        return parse_color(t["line"]["color"])
    return parse_color(PALETTE[i % len(PALETTE)])


def _point_colors(t: dict, i: int, n: int) -> list[tuple[int, int, int]]:
    """Per-point colours: a list of colour strings, integer categories or a colour scale."""
    colors = (t.get("marker") or {}).get("color")
    if not isinstance(colors, list) or len(colors) < n:
        return [_trace_color(t, i)] * n
    if all(isinstance(c, str) for c in colors[:n]):
        return [parse_color(c) for c in colors[:n]]
    nums = [float(c) if _is_num(c) else 0.0 for c in colors[:n]]
    if all(float(c).is_integer() and c >= 0 for c in nums) and len(set(nums)) <= 20:
        return [parse_color(PALETTE[int(c) % len(PALETTE)]) for c in nums]
    lo, hi = min(nums), max(nums)
    stops = scale_stops((t.get("marker") or {}).get("colorscale"))
    return [scale_color((c - lo) / ((hi - lo) or 1.0), stops) for c in nums]


def _error_bars(t: dict, n: int) -> list[tuple[float, float]] | None:
    e = t.get("error_y") or {}
    if e.get("visible") is False or not isinstance(e.get("array"), list):
        return None
    up = e["array"]
    down = e.get("arrayminus") if isinstance(e.get("arrayminus"), list) else up
    return [(float(down[i]) if i < len(down) and _is_num(down[i]) else 0.0,
             float(up[i]) if i < len(up) and _is_num(up[i]) else 0.0) for i in range(n)]


def _axes(fig: dict) -> dict:
    """Categories or numeric ranges of x and y, as the browser's ``chartAxes`` finds them."""
    data = [t for t in fig.get("data", []) if t.get("visible") is not False]
    layout = fig.get("layout", {})
    xcats: list[str] = []
    ycats: list[str] = []
    xnum, ynum = [math.inf, -math.inf], [math.inf, -math.inf]

    def add(cats: list[str], v: Any) -> None:
        if str(v) not in cats:
            cats.append(str(v))

    def span(r: list[float], v: Any) -> None:
        if _is_num(v):
            r[0], r[1] = min(r[0], v), max(r[1], v)

    x_cat = (layout.get("xaxis") or {}).get("type") == "category"
    y_cat = (layout.get("yaxis") or {}).get("type") == "category"
    for t in data:
        if t.get("type") == "heatmap":
            z = t.get("z") or []
            cols = len(z[0]) if z else 0
            for v in t.get("x") if isinstance(t.get("x"), list) else range(cols):
                add(xcats, v)
            for v in t.get("y") if isinstance(t.get("y"), list) else range(len(z)):
                add(ycats, v)
            x_cat = y_cat = True
            continue
        ys = t.get("y") or []
        xs = t.get("x") if isinstance(t.get("x"), list) else list(range(len(ys)))
        if t.get("type") == "bar" or any(isinstance(v, str) for v in xs):
            x_cat = True
        for v in xs:
            add(xcats, v) if x_cat else span(xnum, float(v) if _is_num(v) else None)
        err = _error_bars(t, len(ys))
        for i, v in enumerate(ys):
            span(ynum, v)
            if err and _is_num(v):
                span(ynum, v - err[i][0])
                span(ynum, v + err[i][1])
        if t.get("type") == "bar":
            span(ynum, 0)

    def fix(r: list[float], given: Any) -> list[float]:
        if isinstance(given, list) and len(given) == 2 and all(_is_num(g) for g in given):
            return [float(given[0]), float(given[1])]
        if not r[1] >= r[0]:
            return [0.0, 1.0]
        if r[1] == r[0]:
            return [r[0] - 1, r[1] + 1]
        pad = (r[1] - r[0]) * 0.05
        return [r[0] - pad, r[1] + pad]

    return {"x": {"cats": xcats} if x_cat else {"range": fix(xnum, (layout.get("xaxis") or {}).get("range"))},
            "y": {"cats": ycats} if y_cat else {"range": fix(ynum, (layout.get("yaxis") or {}).get("range"))},
            "y_reversed": (layout.get("yaxis") or {}).get("autorange") == "reversed"}


class _Frame:
    """The plot area inside a ``w``×``h`` picture and the maps from data to pixels."""

    def __init__(self, fig: dict, w: int, h: int) -> None:
        self.axes = _axes(fig)
        heat = any(t.get("type") == "heatmap" for t in fig.get("data", []) if t.get("visible") is not False)
        self.left, self.top = MARGIN["left"], MARGIN["top"]
        self.right = w - (MARGIN["colorbar"] if heat else MARGIN["right"])
        self.bottom = h - MARGIN["bottom"]
        self.plot_w, self.plot_h = max(10, self.right - self.left), max(10, self.bottom - self.top)
        xc, yc = self.axes["x"].get("cats"), self.axes["y"].get("cats")
        self.cell_w = self.plot_w / max(1, len(xc)) if xc is not None else 0.0
        self.cell_h = self.plot_h / max(1, len(yc)) if yc is not None else 0.0

    def x(self, v: Any, i: int) -> float:
        cats = self.axes["x"].get("cats")
        if cats is not None:
            k = cats.index(str(v)) if str(v) in cats else i
            return self.left + (k + 0.5) * self.cell_w
        a, b = self.axes["x"]["range"]
        return self.left + (float(v) - a) / (b - a) * self.plot_w

    def y(self, v: Any, i: int = 0) -> float:
        cats = self.axes["y"].get("cats")
        rev = self.axes["y_reversed"]
        if cats is not None:
            k = cats.index(str(v)) if str(v) in cats else i
            return self.top + ((k if rev else len(cats) - 1 - k) + 0.5) * self.cell_h
        a, b = self.axes["y"]["range"]
        t = (float(v) - a) / (b - a)
        return self.top + t * self.plot_h if rev else self.bottom - t * self.plot_h


def _fill(img: np.ndarray, x0: float, y0: float, x1: float, y1: float, color: tuple[int, int, int]) -> None:
    h, w = img.shape[:2]
    a, b = max(0, int(round(min(x0, x1)))), min(w, int(round(max(x0, x1))))
    c, d = max(0, int(round(min(y0, y1)))), min(h, int(round(max(y0, y1))))
    if a < b and c < d:
        img[c:d, a:b] = color


def _line(img: np.ndarray, x0: float, y0: float, x1: float, y1: float, color: tuple[int, int, int]) -> None:
    n = int(max(abs(x1 - x0), abs(y1 - y0))) + 1
    for s in np.linspace(0.0, 1.0, n + 1):
        _fill(img, x0 + (x1 - x0) * s, y0 + (y1 - y0) * s, x0 + (x1 - x0) * s + 1, y0 + (y1 - y0) * s + 1, color)


def _draw_heatmap(img: np.ndarray, t: dict, f: _Frame) -> None:
    z = t.get("z") or []
    flat = [v for row in z for v in row if _is_num(v)]
    if not flat:
        return
    zmin = t["zmin"] if _is_num(t.get("zmin")) else min(flat)
    zmax = t["zmax"] if _is_num(t.get("zmax")) else max(flat)
    stops = scale_stops(t.get("colorscale"))
    xs, ys = t.get("x") if isinstance(t.get("x"), list) else None, t.get("y") if isinstance(t.get("y"), list) else None
    for r, row in enumerate(z):
        for c, v in enumerate(row):
            cx = f.x(xs[c] if xs else c, c) - f.cell_w / 2
            cy = f.y(ys[r] if ys else r, r) - f.cell_h / 2
            color = scale_color((v - zmin) / ((zmax - zmin) or 1), stops) if _is_num(v) else GRID_MISSING
            _fill(img, cx, cy, cx + f.cell_w, cy + f.cell_h, color)
    bx = f.right + 10
    for k in range(int(f.plot_h)):
        _fill(img, bx, f.top + k, bx + 10, f.top + k + 1, scale_color(1 - k / f.plot_h, stops))


def _draw_bars(img: np.ndarray, t: dict, ti: int, k: int, n: int, f: _Frame) -> None:
    ys = t.get("y") or []
    xs = t.get("x") if isinstance(t.get("x"), list) else list(range(len(ys)))
    colors, err = _point_colors(t, ti, len(ys)), _error_bars(t, len(ys))
    bar_w = f.cell_w * 0.8 / max(1, n)
    y0 = f.y(0)
    for i, v in enumerate(ys):
        if not _is_num(v):
            continue
        x = f.x(xs[i], i) - f.cell_w * 0.8 / 2 + k * bar_w
        _fill(img, x, min(f.y(v), y0), x + max(1.0, bar_w - 1), max(f.y(v), y0), colors[i])
        if err:
            cx = x + bar_w / 2
            _line(img, cx, f.y(v - err[i][0]), cx, f.y(v + err[i][1]), (31, 31, 31))


def _draw_scatter(img: np.ndarray, t: dict, ti: int, f: _Frame) -> None:
    ys = t.get("y") or []
    xs = t.get("x") if isinstance(t.get("x"), list) else list(range(len(ys)))
    mode = str(t.get("mode") or "lines+markers")
    pts = [(f.x(x, i), f.y(y, i)) for i, (x, y) in enumerate(zip(xs, ys)) if _is_num(y) and (_is_num(x) or isinstance(x, str))]
    if "lines" in mode:
        for (a, b), (c, d) in zip(pts, pts[1:]):
            _line(img, a, b, c, d, _trace_color(t, ti))
    if "markers" in mode:
        size = (t.get("marker") or {}).get("size")
        r = (size if _is_num(size) else 6) / 2
        colors = _point_colors(t, ti, len(ys))
        for (px, py), color in zip(pts, colors):
            _fill(img, px - r, py - r, px + r, py + r, color)


def render_figure(fig: dict, width: int, height: int) -> np.ndarray:
    """The marks of ``fig`` (a figure dict) as ``height``×``width``×3 uint8 pixels."""
    img = np.empty((height, width, 3), dtype=np.uint8)
    img[:] = BACKGROUND
    f = _Frame(fig, width, height)
    data = [(i, t) for i, t in enumerate(fig.get("data", [])) if t.get("visible") is not False]
    bars = [i for i, t in data if t.get("type") == "bar"]
    for i, t in data:
        if t.get("type") == "heatmap":
            _draw_heatmap(img, t, f)
        elif t.get("type") == "bar":
            _draw_bars(img, t, i, bars.index(i), len(bars), f)
        elif t.get("type") in ("scatter", "scattergl", None):
            _draw_scatter(img, t, i, f)
    _line(img, f.left, f.top, f.left, f.bottom, AXIS)
    _line(img, f.left, f.bottom, f.right, f.bottom, AXIS)
    return img
