"""Procedural dSprites-like binary sprites with known factors, drawn with numpy.

Factors, in mixed-radix order (first most significant):

====== ===== =================================================================
factor size  values
====== ===== =================================================================
shape  3     square, ellipse, triangle
scale  4     extent r = r_max · {0.5, 2/3, 5/6, 1}, r_max = 0.22 · size
rotation R   angle k · 90° / R for k = 0..R-1 (default R = 4: 0°, 22.5°, 45°, 67.5°)
x      8     8 evenly spaced centres keeping the whole shape inside the image
y      8     as x, downwards
====== ===== =================================================================

Rotation angles stay inside one quarter turn because a square repeats every 90°, a triangle
every 120° and the ellipse every 180°: within a quarter turn every rotation of every shape is a
different image. Each shape fits a disk of radius r (square: half-diagonal r; ellipse: semi-axes
r and r/2; equilateral triangle: circumradius r, pointing up), so every rotation fits the image.

A pixel is on (1.0) when its centre lies inside the shape: images are exactly binary
(``levels == 2``) and fully determined by the arguments; nothing is random.
"""

from __future__ import annotations

import functools
import math

import numpy as np
import torch

from .dataset import Dataset, mixed_radix_factors
from .provenance import SPRITES

__all__ = ["sprites", "SHAPES", "render_sprite"]

#: Shape names, in the order of the ``shape`` factor.
SHAPES = ("square", "ellipse", "triangle")
_SCALES = (0.5, 2.0 / 3.0, 5.0 / 6.0, 1.0)
_N_POS = 8
_ELLIPSE_MINOR = 0.5


def _inside(shape: np.ndarray, u: np.ndarray, v: np.ndarray, r: np.ndarray) -> np.ndarray:
    """Whether local coordinates (u, v) (y downwards) lie inside the shape of extent r."""
    eps = 1e-9
    out = np.zeros(u.shape, dtype=bool)
    sq = shape == 0
    if sq.any():
        a = r / math.sqrt(2.0)
        out |= sq & (np.abs(u) <= a + eps) & (np.abs(v) <= a + eps)
    el = shape == 1
    if el.any():
        out |= el & ((u / r) ** 2 + (v / (_ELLIPSE_MINOR * r)) ** 2 <= 1.0 + eps)
    tr = shape == 2
    if tr.any():
        # equilateral triangle with circumradius r, apex up (negative v); inradius r / 2.
        inside = np.ones(u.shape, dtype=bool)
        for ang in (90.0, 210.0, 330.0):  # outward edge normals
            nx, ny = math.cos(math.radians(ang)), math.sin(math.radians(ang))
            inside &= nx * u + ny * v <= r / 2.0 + eps
        out |= tr & inside
    return out


def _geometry(size: int, rotations: int) -> tuple[np.ndarray, np.ndarray, np.ndarray]:
    r_max = 0.22 * size
    radii = np.array([s * r_max for s in _SCALES])
    angles = np.array([k * (math.pi / 2.0) / rotations for k in range(rotations)])
    margin = r_max + 0.5
    positions = np.linspace(margin, size - margin, _N_POS)
    return radii, angles, positions


def render_sprite(shape: int, scale: int, rotation: int, x: int, y: int, size: int = 32, rotations: int = 4) -> np.ndarray:
    """Render one sprite from its factor indices as a float32 ``(size, size)`` array of 0/1."""
    _check_args(size, rotations)
    radii, angles, positions = _geometry(size, rotations)
    for val, n, what in ((shape, 3, "shape"), (scale, 4, "scale"), (rotation, rotations, "rotation"), (x, 8, "x"), (y, 8, "y")):
        if not 0 <= int(val) < n:
            raise ValueError(f"{what} index must be in [0, {n}), got {val}")
    centres = np.arange(size) + 0.5
    px, py = np.meshgrid(centres, centres, indexing="xy")
    dx, dy = px - positions[x], py - positions[y]
    c, s = math.cos(angles[rotation]), math.sin(angles[rotation])
    u, v = c * dx + s * dy, -s * dx + c * dy
    mask = _inside(np.full(u.shape, shape), u, v, np.full(u.shape, radii[scale]))
    return mask.astype(np.float32)


def _check_args(size: int, rotations: int) -> None:
    if isinstance(size, bool) or not isinstance(size, (int, np.integer)) or not 16 <= size <= 256:
        raise ValueError(f"size must be an integer in [16, 256], got {size!r}")
    if isinstance(rotations, bool) or not isinstance(rotations, (int, np.integer)) or not 1 <= rotations <= 16:
        raise ValueError(f"rotations must be an integer in [1, 16], got {rotations!r}")


@functools.lru_cache(maxsize=4)
def _render_all(size: int, rotations: int) -> np.ndarray:
    """All sprites as a read-only float32 array (N, size, size), cached per (size, rotations)."""
    sizes = (len(SHAPES), len(_SCALES), rotations, _N_POS, _N_POS)
    f = mixed_radix_factors(torch.arange(math.prod(sizes)), sizes).numpy()
    radii, angles, positions = _geometry(size, rotations)
    centres = np.arange(size, dtype=np.float64) + 0.5
    px = centres[None, None, :]  # columns
    py = centres[None, :, None]  # rows
    cx = positions[f[:, 3]][:, None, None]
    cy = positions[f[:, 4]][:, None, None]
    th = angles[f[:, 2]][:, None, None]
    dx, dy = px - cx, py - cy
    u = np.cos(th) * dx + np.sin(th) * dy
    v = -np.sin(th) * dx + np.cos(th) * dy
    shape = np.broadcast_to(f[:, 0][:, None, None], u.shape)
    r = np.broadcast_to(radii[f[:, 1]][:, None, None], u.shape)
    images = _inside(shape, u, v, r).astype(np.float32)
    images.setflags(write=False)
    return images


def sprites(size: int = 32, rotations: int = 4) -> Dataset:
    """All sprites of the factor grid, one image per factor combination, in mixed-radix order.

    Args:
        size: image side in pixels (16 to 256; 32 by default, 16 for a quick variant).
        rotations: number of rotation values in [0°, 90°) (1 disables rotation).

    Returns:
        A factorial :class:`Dataset` of ``3 * 4 * rotations * 8 * 8`` binary 1×size×size images
        (3072 by default) with factors ``(shape, scale, rotation, x, y)``, labels = shape,
        ``levels == 2``. ``dataset.index_of(values)`` and ``dataset.factors_of(i)`` convert between
        factor values and indices; :func:`invwidgets.data.traversal` gives exact one-factor
        traversals.
    """
    _check_args(size, rotations)
    size, rotations = int(size), int(rotations)
    sizes = (len(SHAPES), len(_SCALES), rotations, _N_POS, _N_POS)
    fac = mixed_radix_factors(torch.arange(math.prod(sizes)), sizes)
    radii, angles, positions = _geometry(size, rotations)
    images = torch.from_numpy(_render_all(size, rotations).copy()).unsqueeze(1)
    return Dataset(
        images,
        labels=fac[:, 0].clone(),
        factors=fac,
        factor_names=("shape", "scale", "rotation", "x", "y"),
        factor_sizes=sizes,
        class_names=SHAPES,
        name="sprites",
        levels=2,
        metadata={
            "size": size,
            "rotations": rotations,
            "radii_px": radii.tolist(),
            "angles_deg": np.degrees(angles).tolist(),
            "positions_px": positions.tolist(),
        },
        **SPRITES.kwargs(),
    )
