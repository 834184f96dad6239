"""Colormap lookup tables, defined once here and sent to the front end as bytes.

Each table is 256×3 ``uint8``. Python's PNG export and the browser both index the same table with
the same quantised heatmap (see :func:`~invwidgets.widgets.views.encoding.quantize`), so they agree
pixel for pixel.

- ``'diverging'``: blue – white – red (the RdBu control points, reversed). Index 128 — where 0
  lands with the default symmetric limits — is pure white; 0 is the darkest blue, 255 the
  darkest red.
- ``'sequential'``: viridis, interpolated linearly from nine control points (perceptually
  uniform to within the eye's tolerance at this resolution).
"""

from __future__ import annotations

import numpy as np

__all__ = ["CMAPS", "DIVERGING", "SEQUENTIAL", "lut", "cmap_name", "is_diverging"]

DIVERGING = "diverging"
SEQUENTIAL = "sequential"

#: Names accepted for each colormap.
_ALIASES = {
    "diverging": DIVERGING, "bwr": DIVERGING, "rdbu": DIVERGING,
    "sequential": SEQUENTIAL, "viridis": SEQUENTIAL,
}

# Blue (negative) half, from the darkest blue to white, at positions in [0, 1].
_BLUE_HALF = [
    (0.0, (5, 48, 97)),
    (0.4, (33, 102, 172)),
    (0.8, (146, 197, 222)),
    (1.0, (255, 255, 255)),
]
# Red (positive) half, from white to the darkest red.
_RED_HALF = [
    (0.0, (255, 255, 255)),
    (0.2, (244, 165, 130)),
    (0.6, (178, 24, 43)),
    (1.0, (103, 0, 31)),
]
_VIRIDIS = [
    (0.000, (68, 1, 84)),
    (0.125, (71, 44, 122)),
    (0.250, (59, 82, 139)),
    (0.375, (44, 113, 142)),
    (0.500, (33, 145, 140)),
    (0.625, (39, 173, 129)),
    (0.750, (92, 200, 99)),
    (0.875, (170, 220, 50)),
    (1.000, (253, 231, 37)),
]


def _interp(points, t: np.ndarray) -> np.ndarray:
    xs = np.array([p for p, _ in points], dtype=np.float64)
    cs = np.array([c for _, c in points], dtype=np.float64)
    out = np.stack([np.interp(t, xs, cs[:, k]) for k in range(3)], axis=1)
    return np.floor(out + 0.5).astype(np.uint8)


def _diverging() -> np.ndarray:
    blue = _interp(_BLUE_HALF, np.arange(129) / 128.0)  # indices 0..128, 128 = white
    red = _interp(_RED_HALF, np.arange(1, 128) / 127.0)  # indices 129..255
    return np.concatenate([blue, red])


def _sequential() -> np.ndarray:
    return _interp(_VIRIDIS, np.arange(256) / 255.0)


#: The lookup tables by canonical name (read-only arrays of shape 256×3, uint8).
CMAPS: dict[str, np.ndarray] = {DIVERGING: _diverging(), SEQUENTIAL: _sequential()}
for _table in CMAPS.values():
    _table.setflags(write=False)


def cmap_name(name: str) -> str:
    """The canonical name ('diverging' or 'sequential') of ``name`` or its alias."""
    if not isinstance(name, str):
        raise TypeError(f"cmap must be a string, got {type(name).__name__}")
    key = _ALIASES.get(name.lower())
    if key is None:
        raise ValueError(
            f"unknown cmap {name!r}; use 'diverging' (blue-white-red, for signed attributions) "
            f"or 'sequential' (viridis, for magnitudes)"
        )
    return key


def is_diverging(name: str) -> bool:
    """Whether ``name`` is the diverging map (default limits symmetric around 0)."""
    return cmap_name(name) == DIVERGING


def lut(name: str) -> np.ndarray:
    """The 256×3 uint8 lookup table of colormap ``name``."""
    return CMAPS[cmap_name(name)]
