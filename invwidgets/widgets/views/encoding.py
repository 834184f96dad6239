"""Array → uint8 pixels (+ shape meta) for the views, with clear errors for what cannot be shown.

Accepted images (torch tensors on any device, requiring grad or not, or numpy arrays):

- one image: ``H×W``, ``1×H×W``, ``3×H×W``, ``H×W×1``, ``H×W×3``, or a batch of one
  (``1×C×H×W``);
- a batch (grids): ``N×C×H×W``, ``N×H×W×C`` (C = 1 or 3), ``N×H×W`` (N grayscale images), or a
  list/tuple of single images of the same height and width (grayscale ones are promoted to RGB
  when the others are RGB).

Values are floats in [0, 1] (a tolerance of :data:`RANGE_TOLERANCE` is allowed, then clipped) or
``uint8``; ``bool`` arrays are shown as black/white. Channel-first wins when a shape reads both
ways (``3×H×3``).

Heatmaps are floats of any finite range: ``H×W`` (also ``1×H×W``, ``1×1×H×W``) or, for grids,
``N×H×W`` / ``N×1×H×W`` / a list of ``H×W`` arrays (``None`` entries mean "no heatmap for this
cell"). They are quantised once, here, into indices of a 256-entry colormap, so that Python's
PNG export and the browser use the same numbers.
"""

from __future__ import annotations

from typing import Any

import numpy as np

__all__ = [
    "RANGE_TOLERANCE",
    "to_numpy",
    "image_to_uint8",
    "images_to_uint8",
    "heatmap_to_float",
    "heatmaps_to_float",
    "heatmap_limits",
    "quantize",
    "nearest_index",
]

#: How far outside [0, 1] a floating-point image may go before it is an error (then clipped).
RANGE_TOLERANCE = 1e-3


def _describe(a: np.ndarray) -> str:
    return f"shape {tuple(a.shape)}, dtype {a.dtype}"


def to_numpy(x: Any, what: str = "image") -> np.ndarray:
    """A numpy view/copy of a tensor or array: detached, on the CPU, bfloat16/half → float32."""
    try:
        import torch
    except ImportError:  # pragma: no cover - torch is a dependency
        torch = None  # type: ignore[assignment]
    if torch is not None and isinstance(x, torch.Tensor):
        t = x.detach()
        if t.device.type != "cpu":
            t = t.cpu()
        if t.dtype in (torch.bfloat16, torch.float16):
            t = t.float()
        if t.is_complex():
            raise TypeError(f"{what} must be real, got a complex tensor (dtype {t.dtype})")
        return t.numpy()
    if isinstance(x, np.ndarray):
        if np.iscomplexobj(x):
            raise TypeError(f"{what} must be real, got a complex array (dtype {x.dtype})")
        if x.dtype == np.float16:
            return x.astype(np.float32)
        return x
    raise TypeError(
        f"{what} must be a torch.Tensor or a numpy.ndarray, got {type(x).__name__}"
    )


def _check_not_empty(a: np.ndarray, what: str) -> None:
    if a.size == 0:
        raise ValueError(f"{what} is empty ({_describe(a)})")


def _to_uint8_values(a: np.ndarray, what: str) -> np.ndarray:
    """Pixels of any accepted dtype as uint8 (layout untouched)."""
    if a.dtype == np.uint8:
        return a
    if a.dtype == np.bool_:
        return a.astype(np.uint8) * np.uint8(255)
    if np.issubdtype(a.dtype, np.floating):
        if not np.isfinite(a).all():
            bad = int(np.size(a) - np.count_nonzero(np.isfinite(a)))
            raise ValueError(f"{what} contains {bad} NaN or infinite value(s) ({_describe(a)})")
        lo, hi = float(a.min()), float(a.max())
        if lo < -RANGE_TOLERANCE or hi > 1.0 + RANGE_TOLERANCE:
            raise ValueError(
                f"{what} values must lie in [0, 1] for a floating-point array; found range "
                f"[{lo:.4g}, {hi:.4g}] ({_describe(a)}). Rescale it (e.g. (x - x.min()) / "
                f"(x.max() - x.min())) or pass uint8 in [0, 255]"
            )
        return np.floor(np.clip(a.astype(np.float64), 0.0, 1.0) * 255.0 + 0.5).astype(np.uint8)
    raise TypeError(
        f"{what} must be floating point in [0, 1] or uint8, got dtype {a.dtype} "
        f"(shape {tuple(a.shape)}); convert with x.float() / 255 or x.astype(np.uint8)"
    )


def _hwc(a: np.ndarray, what: str) -> np.ndarray:
    """One image of shape H×W, C×H×W, H×W×C (or 1×C×H×W) as H×W×C with C in (1, 3)."""
    if a.ndim == 4 and a.shape[0] == 1:
        a = a[0]
    if a.ndim == 2:
        return a[:, :, None]
    if a.ndim == 3:
        if a.shape[0] in (1, 3):
            return np.moveaxis(a, 0, -1)
        if a.shape[-1] in (1, 3):
            return a
        raise ValueError(
            f"{what} must have 1 or 3 channels, first (C×H×W) or last (H×W×C); got "
            f"{_describe(a)}"
        )
    if a.ndim == 4:
        raise ValueError(
            f"{what} must be a single image (H×W, C×H×W or H×W×C), got a batch of "
            f"{a.shape[0]} ({_describe(a)}); use SampleGrid for several images"
        )
    raise ValueError(
        f"{what} must have 2 or 3 dimensions (H×W, C×H×W or H×W×C), got {a.ndim} "
        f"({_describe(a)})"
    )


def image_to_uint8(x: Any, what: str = "image") -> np.ndarray:
    """One image as a C-contiguous uint8 array of shape H×W×C, C in (1, 3)."""
    a = to_numpy(x, what)
    _check_not_empty(a, what)
    a = _hwc(a, what)
    return np.ascontiguousarray(_to_uint8_values(a, what))


def images_to_uint8(x: Any, what: str = "images") -> np.ndarray:
    """A batch of images as a C-contiguous uint8 array of shape N×H×W×C, C in (1, 3)."""
    if isinstance(x, (list, tuple)):
        if len(x) == 0:
            raise ValueError(f"{what} is empty (an empty {type(x).__name__})")
        cells = [image_to_uint8(item, f"{what}[{i}]") for i, item in enumerate(x)]
        sizes = {c.shape[:2] for c in cells}
        if len(sizes) > 1:
            found = ", ".join(f"{i}: {c.shape[0]}×{c.shape[1]}" for i, c in enumerate(cells))
            raise ValueError(f"{what} must all have the same height and width; got {found}")
        if any(c.shape[2] == 3 for c in cells):
            cells = [np.repeat(c, 3, axis=2) if c.shape[2] == 1 else c for c in cells]
        return np.ascontiguousarray(np.stack(cells))
    a = to_numpy(x, what)
    _check_not_empty(a, what)
    if a.ndim == 3:
        a = a[..., None]  # N×H×W: grayscale images
    elif a.ndim == 4:
        if a.shape[1] in (1, 3):
            a = np.moveaxis(a, 1, -1)
        elif a.shape[-1] not in (1, 3):
            raise ValueError(
                f"{what} must have 1 or 3 channels (N×C×H×W or N×H×W×C); got {_describe(a)}"
            )
    else:
        raise ValueError(
            f"{what} must have 3 (N×H×W) or 4 (N×C×H×W / N×H×W×C) dimensions, or be a list of "
            f"images; got {a.ndim} ({_describe(a)})"
        )
    return np.ascontiguousarray(_to_uint8_values(a, what))


def _finite_float(a: np.ndarray, what: str) -> np.ndarray:
    if a.dtype == np.bool_ or np.issubdtype(a.dtype, np.integer):
        a = a.astype(np.float64)
    if not np.issubdtype(a.dtype, np.floating):
        raise TypeError(f"{what} must be numeric, got dtype {a.dtype}")
    if not np.isfinite(a).all():
        bad = int(np.size(a) - np.count_nonzero(np.isfinite(a)))
        raise ValueError(f"{what} contains {bad} NaN or infinite value(s) ({_describe(a)})")
    return a.astype(np.float64)


def heatmap_to_float(x: Any, what: str = "heatmap") -> np.ndarray:
    """A heatmap as float64 H×W (accepts H×W, 1×H×W, 1×1×H×W, H×W×1)."""
    a = to_numpy(x, what)
    _check_not_empty(a, what)
    while a.ndim > 2 and a.shape[0] == 1:
        a = a[0]
    if a.ndim == 3 and a.shape[-1] == 1:
        a = a[..., 0]
    if a.ndim != 2:
        raise ValueError(
            f"{what} must be a single-channel H×W array, got {a.ndim} dimensions "
            f"({_describe(a)}); sum or average attributions over the channels first"
        )
    return _finite_float(a, what)


def heatmaps_to_float(x: Any, n: int | None = None, what: str = "heatmaps"):
    """Per-cell heatmaps as (float64 N×h×w array, list of N bools "present").

    ``x`` is an ``N×h×w`` / ``N×1×h×w`` array or a list whose entries are ``h×w`` arrays or
    ``None`` (no heatmap in that cell). ``n``, when given, is the number of cells to match.
    """
    if isinstance(x, (list, tuple)):
        if len(x) == 0:
            raise ValueError(f"{what} is empty (an empty {type(x).__name__})")
        maps = [None if item is None else heatmap_to_float(item, f"{what}[{i}]")
                for i, item in enumerate(x)]
        shapes = {m.shape for m in maps if m is not None}
        if not shapes:
            raise ValueError(f"{what} has no heatmap (every entry is None)")
        if len(shapes) > 1:
            raise ValueError(f"{what} must all have the same size; got {sorted(shapes)}")
        (shape,) = shapes
        present = [m is not None for m in maps]
        stack = np.stack([m if m is not None else np.zeros(shape) for m in maps])
    else:
        a = to_numpy(x, what)
        _check_not_empty(a, what)
        if a.ndim == 4 and a.shape[1] == 1:
            a = a[:, 0]
        if a.ndim != 3:
            raise ValueError(
                f"{what} must be N×H×W (or N×1×H×W, or a list of H×W arrays), got {a.ndim} "
                f"dimensions ({_describe(a)})"
            )
        stack = _finite_float(a, what)
        present = [True] * stack.shape[0]
    if n is not None and stack.shape[0] != n:
        raise ValueError(f"{what} has {stack.shape[0]} entries but there are {n} images")
    return np.ascontiguousarray(stack), present


def heatmap_limits(
    h: np.ndarray, vmin: float | None, vmax: float | None, diverging: bool
) -> tuple[float, float]:
    """Colour limits: given ones, else ±max|h| (diverging) or [min, max] (sequential)."""
    if diverging:
        m = float(np.abs(h).max()) if h.size else 0.0
        lo, hi = -m, m
    else:
        lo, hi = (float(h.min()), float(h.max())) if h.size else (0.0, 0.0)
    lo = lo if vmin is None else float(vmin)
    hi = hi if vmax is None else float(vmax)
    if not (np.isfinite(lo) and np.isfinite(hi)):
        raise ValueError(f"heatmap limits must be finite, got vmin={lo}, vmax={hi}")
    if hi < lo:
        raise ValueError(f"heatmap vmax must be >= vmin, got vmin={lo}, vmax={hi}")
    return lo, hi


def quantize(h: np.ndarray, vmin: float, vmax: float) -> np.ndarray:
    """Indices 0..255 into a colormap: ``floor(clip((h - vmin) / (vmax - vmin)) * 255 + 0.5)``.

    With equal limits every value maps to the middle (128; white on the diverging map).
    """
    span = vmax - vmin
    if span <= 0:
        return np.full(h.shape, 128, dtype=np.uint8)
    t = np.clip((h - vmin) / span, 0.0, 1.0)
    return np.floor(t * 255.0 + 0.5).astype(np.uint8)


def nearest_index(dst: int, src: int) -> np.ndarray:
    """Nearest-neighbour source index for each of ``dst`` output pixels: ``floor((i + .5) *
    src / dst)`` — the front end's export uses the same formula."""
    idx = np.floor((np.arange(dst, dtype=np.float64) + 0.5) * src / dst).astype(np.int64)
    return np.minimum(idx, src - 1)
