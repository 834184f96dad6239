"""What the views show, composed at native resolution in numpy (for ``to_png``).

The front end's export does the same arithmetic in the same order (doubles, ``floor(x + 0.5)``),
so a PNG downloaded in the browser and one written by Python are identical.
"""

from __future__ import annotations

import numpy as np

from .encoding import nearest_index

__all__ = ["composite", "grid", "GAP", "GAP_VALUE"]

#: Pixels between grid cells in exports, and their gray value.
GAP = 1
GAP_VALUE = 255


def composite(
    image: np.ndarray, heat_index: np.ndarray | None, lut: np.ndarray, opacity: float
) -> np.ndarray:
    """``image`` (H×W×C uint8) with a quantised heatmap (h×w uint8 LUT indices, any size,
    nearest-neighbour stretched to H×W) blended on top: ``floor(img·(1−a) + lut·a + 0.5)``.

    Without a heatmap the image is returned as is (H×W×1 stays grayscale).
    """
    if heat_index is None:
        return image
    h, w = image.shape[:2]
    rows = nearest_index(h, heat_index.shape[0])
    cols = nearest_index(w, heat_index.shape[1])
    colours = lut[heat_index[rows][:, cols]].astype(np.float64)
    base = image.astype(np.float64)
    if base.shape[2] == 1:
        base = np.repeat(base, 3, axis=2)
    a = float(opacity)
    return np.floor(base * (1.0 - a) + colours * a + 0.5).astype(np.uint8)


def grid(cells: list[np.ndarray], ncols: int) -> np.ndarray:
    """Cells (each H×W×C uint8, same size) in rows of ``ncols`` with :data:`GAP`-pixel gaps."""
    n = len(cells)
    h, w = cells[0].shape[:2]
    c = max(cell.shape[2] for cell in cells)
    nrows = -(-n // ncols)
    out = np.full(
        (nrows * h + (nrows - 1) * GAP, ncols * w + (ncols - 1) * GAP, c),
        GAP_VALUE, dtype=np.uint8,
    )
    for i, cell in enumerate(cells):
        r, k = divmod(i, ncols)
        y, x = r * (h + GAP), k * (w + GAP)
        out[y:y + h, x:x + w] = cell if cell.shape[2] == c else np.repeat(cell, c, axis=2)
    return out
