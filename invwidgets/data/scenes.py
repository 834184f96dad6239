"""Procedural 3D-Shapes-like scenes with known factors, rendered offline with numpy.

Six factors with the value counts and the mixed-radix order of 3D-Shapes (first most significant):

=========== ===== ==============================================================================
factor      size  values
=========== ===== ==============================================================================
floor_hue   10    hue k / 10 of the floor (0 = red), saturation 0.85
wall_hue    10    hue of the back wall, as above
object_hue  10    hue of the object, as above
scale       8     object size × 0.75 ... 1.25, evenly spaced
shape       4     cube, cylinder, sphere, capsule
orientation 15    yaw of the object about the vertical axis, −30° ... 30°, evenly spaced
=========== ===== ==============================================================================

10 · 10 · 10 · 8 · 4 · 15 = 480,000 combinations; combination ``i`` is the mixed-radix index
:func:`~invwidgets.data.mixed_radix_index` of its factor values, as for the sprites.

The picture: a floor with faint tiles that recedes to a back wall, the crease where they meet
darkened, far floor darker than near floor; the object stands on the floor, shaded by a light from
the upper left (ambient, Lambert, a white highlight) and casts a shadow on the floor (on the wall
too when it reaches it). **How orientation shows**: the cube is upright, so turning it changes
which side faces are seen and how bright each is (the faces keep their own Lambert shade); the
cylinder and the capsule lie on their side, so turning them swings their axis (their length on
screen, the visible end cap of the cylinder, the highlight). The sphere looks the same at every
orientation (it is rotationally symmetric and carries no marking), so for spheres the orientation
factor changes no pixel: a model cannot recover it there, as in 3D-Shapes.

What each factor changes: a hue changes only its own region (floor pixels, wall pixels, object
pixels: a pixel that the mask gives partly to two regions mixes both colours); scale, shape and
orientation change only the pixels of the object *and of its shadow*. :func:`scene_masks` returns
those regions.

Nothing is random in the images: the same factor values give the same pixels, bit for bit within
a process, whatever batch they are rendered in (the renderer's arithmetic is elementwise). Images
are 8-bit (``levels == 256``).

Speed, measured on the development machine (one thread of a shared 2-core machine, numpy only):
the first use of a size ray-casts the 480 object configurations once (about 1.5–1.7 s at 32 and
at 64); after that :func:`render_scenes` of 4,096 random combinations runs at about 61,000
images/s at 32 × 32 and 15,000 images/s at 64 × 64 as float32 (94,000 and 23,000 as uint8), and
``scenes(n=10000)`` takes 0.7 s at 32 and 2.7 s at 64 (most of it building and checking the
float32 tensor).

Memory: an image is ``3 · size²`` floats, 48 KiB at 64 × 64, 12 KiB at 32 × 32; all 480,000
combinations as float32 are 23.6 GB at 64 and 5.9 GB at 32. The renderer's cache of shading
maps takes 24 bytes per pixel and configuration: 47 MB at 64, 12 MB at 32 (once per process). :func:`scenes` samples combinations,
:func:`scene_grid` renders a sub-grid (the full grid only when ``max_gib`` allows it), and
:func:`render_scenes`, :func:`scene_images` and :func:`scene_traversal` render any combinations
on demand, in chunks.
"""

from __future__ import annotations

import math
from collections.abc import Mapping, Sequence
from typing import Any

import numpy as np
import torch

from . import scenes_render as _r
from .dataset import Dataset, mixed_radix_factors, mixed_radix_index
from .provenance import SCENES as _SOURCE

__all__ = [
    "SCENE_FACTORS",
    "SCENE_FACTOR_SIZES",
    "SCENE_SHAPES",
    "render_scenes",
    "scene_grid",
    "scene_images",
    "scene_masks",
    "scene_traversal",
    "scenes",
]

#: Factor names of the scenes, in mixed-radix order.
SCENE_FACTORS: tuple[str, ...] = _r.FACTOR_NAMES
#: Number of values of each factor (480,000 combinations).
SCENE_FACTOR_SIZES: tuple[int, ...] = _r.FACTOR_SIZES
#: Shape names, in the order of the ``shape`` factor.
SCENE_SHAPES: tuple[str, ...] = _r.SHAPES
_N_TOTAL = math.prod(SCENE_FACTOR_SIZES)
_CHUNK = 2048


def _check_size(size: Any) -> int:
    if isinstance(size, bool) or not isinstance(size, (int, np.integer)) or int(size) not in _r.SIZES:
        raise ValueError(f"size must be one of {_r.SIZES}, got {size!r}")
    return int(size)


def _as_factors(factors: Any) -> np.ndarray:
    """Validated int64 factor values (N, 6) from (6,) or (N, 6) integers."""
    mixed_radix_index(factors, SCENE_FACTOR_SIZES)  # validates dtype, shape and range
    f = factors.numpy() if isinstance(factors, torch.Tensor) else np.asarray(factors)
    return np.ascontiguousarray(f.astype(np.int64).reshape(-1, len(SCENE_FACTOR_SIZES)))


def _gib(n: int, size: int, itemsize: int = 4) -> float:
    return n * 3 * size * size * itemsize / 2**30


def render_scenes(factors: Any, size: int = 64, *, uint8: bool = False, chunk: int = _CHUNK) -> torch.Tensor:
    """Render scenes from their factor values, ``chunk`` images at a time.

    Args:
        factors: integers of shape ``(6,)`` or ``(N, 6)`` in the order of :data:`SCENE_FACTORS`.
        size: image side, one of 16, 32, 64, 128.
        uint8: return uint8 images in 0..255 (a quarter of the memory) instead of float32 in [0, 1].
        chunk: images rendered per step (bounds the temporary memory).

    Returns:
        A tensor ``(N, 3, size, size)`` (``(3, size, size)`` for a single combination): float32
        values ``k / 255``, or uint8 values ``k``.
    """
    size = _check_size(size)
    if isinstance(chunk, bool) or not isinstance(chunk, int) or chunk < 1:
        raise ValueError(f"chunk must be a positive integer, got {chunk!r}")
    f = _as_factors(factors)
    out = np.empty((len(f), 3, size, size), dtype=np.uint8)
    for start in range(0, len(f), chunk):
        _r.composite(f[start : start + chunk], size, out=out[start : start + chunk])
    images = torch.from_numpy(out)
    if not uint8:
        images = images.to(torch.float32).div_(255.0)
    return images[0] if np.ndim(factors) == 1 else images


def scene_images(indices: Any, size: int = 64, *, uint8: bool = False, chunk: int = _CHUNK) -> torch.Tensor:
    """Render the scenes with mixed-radix ``indices`` (0 <= index < 480,000); see :func:`render_scenes`."""
    return render_scenes(mixed_radix_factors(indices, SCENE_FACTOR_SIZES), size, uint8=uint8, chunk=chunk)


def scene_masks(factors: Any, size: int = 64) -> dict[str, torch.Tensor]:
    """The regions of the scenes: fraction of each pixel that shows floor, wall, object or shadow.

    Args:
        factors: integers of shape ``(6,)`` or ``(N, 6)``.
        size: image side.

    Returns:
        ``{"floor", "wall", "object", "shadow"}`` → float32 ``(N, size, size)`` in [0, 1] (the
        area fraction of the pixel; floor + wall + object = 1; ``shadow`` is the part of floor and
        wall in the object's shadow). Only the object's configuration (scale, shape,
        orientation) matters; the hues do not.
    """
    size = _check_size(size)
    cov = torch.from_numpy(_r.coverage(_as_factors(factors), size))
    return {name: cov[:, k].contiguous() for k, name in enumerate(("floor", "wall", "object", "shadow"))}


def _metadata(size: int, **more: Any) -> dict[str, Any]:
    return {
        "size": size,
        "hues": list(_r.HUES),
        "scales": list(_r.SCALES),
        "orientations_deg": list(_r.ORIENTATIONS_DEG),
        **more,
    }


def _dataset(indices: torch.Tensor, factors: torch.Tensor, sizes: Sequence[int], size: int, name: str,
             grid_factors: torch.Tensor, metadata: dict[str, Any]) -> Dataset:
    """A Dataset of the scenes at global ``indices``; ``factors`` in the dataset's own radix ``sizes``."""
    need = _gib(len(indices), size)
    images = torch.empty((len(indices), 3, size, size), dtype=torch.float32)
    buf = np.empty((min(_CHUNK, len(indices)), 3, size, size), dtype=np.uint8)
    gf = grid_factors.numpy()
    for start in range(0, len(indices), _CHUNK):
        part = gf[start : start + _CHUNK]
        _r.composite(np.ascontiguousarray(part), size, out=buf[: len(part)])
        images[start : start + len(part)] = torch.from_numpy(buf[: len(part)]).to(torch.float32).div_(255.0)
    metadata = {**metadata, "gib": round(need, 4)}
    return Dataset(
        images,
        labels=grid_factors[:, SCENE_FACTORS.index("shape")].clone(),
        factors=factors,
        factor_names=SCENE_FACTORS,
        factor_sizes=tuple(sizes),
        class_names=SCENE_SHAPES,
        name=name,
        levels=256,
        extras={"grid_index": indices.clone()},
        metadata=metadata,
        **_SOURCE.kwargs(),
    )


def scenes(n: int = 2000, seed: int = 0, size: int = 64) -> Dataset:
    """``n`` distinct combinations drawn uniformly from the 480,000, rendered (sorted by index).

    Args:
        n: number of scenes (1 to 480,000); the images take ``n · 3 · size² · 4`` bytes
            (2,000 at 64 × 64: 94 MiB).
        seed: seed of the ``torch.Generator`` that draws the combinations.
        size: image side, one of 16, 32, 64 (default), 128.

    Returns:
        A :class:`Dataset` of 3×size×size float32 images on 256 levels, factors
        :data:`SCENE_FACTORS` with the full sizes (10, 10, 10, 8, 4, 15), labels = shape, and
        ``extras["grid_index"]`` the mixed-radix index of each scene among all 480,000. A sample
        is not a full grid: :func:`~invwidgets.data.traversal` finds a traversal only where all
        its members were drawn. For exact traversals use :func:`scene_traversal` (rendered on
        demand) or a factorial :func:`scene_grid`, on which ``traversal``,
        ``random_traversals`` and methods built on them (e.g. the conditioned response matrix)
        work unchanged.
    """
    if isinstance(n, bool) or not isinstance(n, (int, np.integer)) or not 1 <= n <= _N_TOTAL:
        raise ValueError(f"n must be an integer in [1, {_N_TOTAL}], got {n!r}")
    size = _check_size(size)
    gen = torch.Generator().manual_seed(int(seed))
    idx = torch.sort(torch.randperm(_N_TOTAL, generator=gen)[: int(n)]).values
    fac = mixed_radix_factors(idx, SCENE_FACTOR_SIZES)
    return _dataset(idx, fac, SCENE_FACTOR_SIZES, size, "scenes", fac, _metadata(size, seed=int(seed)))


def _grid_values(values: Mapping[str, Any] | None) -> list[list[int]]:
    """The factor values of each factor kept by :func:`scene_grid` (all values by default)."""
    values = dict(values or {})
    unknown = set(values) - set(SCENE_FACTORS)
    if unknown:
        raise ValueError(f"unknown factors {sorted(unknown)}; the scenes have factors {SCENE_FACTORS}")
    kept = []
    for name, n_values in zip(SCENE_FACTORS, SCENE_FACTOR_SIZES):
        v = values.get(name)
        if v is None:
            kept.append(list(range(n_values)))
        elif isinstance(v, (int, np.integer)) and not isinstance(v, bool):
            if not 1 <= v <= n_values:
                raise ValueError(f"{name}: a count must be in [1, {n_values}], got {v}")
            if name.endswith("_hue"):  # hues lie on a circle: spread them round it
                kept.append(sorted({int(x) for x in np.floor(np.arange(int(v)) * n_values / int(v))}))
            else:
                kept.append(sorted({int(round(x)) for x in np.linspace(0, n_values - 1, int(v))}))
        else:
            vals = [int(x) for x in v]
            if not vals or len(set(vals)) != len(vals) or any(not 0 <= x < n_values for x in vals):
                raise ValueError(f"{name}: values must be distinct integers in [0, {n_values}), got {v!r}")
            kept.append(sorted(vals))
    return kept


def scene_grid(values: Mapping[str, Any] | None = None, size: int = 32, *, max_gib: float = 1.0) -> Dataset:
    """A factorial grid of scenes: every combination of the kept values of each factor.

    Args:
        values: per factor name, the values to keep: a sequence of value indices, or a count
            ``c`` for ``c`` evenly spaced values (from first to last; spread round the colour
            circle for the hues) (e.g. ``{"floor_hue": 3, "orientation": [0, 7, 14]}``);
            factors not named keep all their values. ``None`` is the full 480,000-combination
            grid: 5.9 GB of float32 at 32 × 32, 23.6 GB at 64 × 64.
        size: image side, one of 16, 32 (default), 64, 128.
        max_gib: refuse to allocate more than this many GiB of images (raise it explicitly to
            build a large grid).

    Returns:
        A factorial :class:`Dataset` (``is_factorial``) whose factors are positions among the kept
        values, with ``factor_sizes`` their counts, so :func:`~invwidgets.data.traversal` and
        :func:`~invwidgets.data.random_traversals` give exact traversals by index arithmetic.
        ``metadata["grid_values"]`` lists the kept values; ``extras["grid_index"]`` the index of
        each scene among all 480,000 (as :func:`scene_images` takes it).

    Raises:
        ValueError: for unknown factors or bad values, or when the images would exceed
            ``max_gib`` (the message states the memory needed).
    """
    size = _check_size(size)
    kept = _grid_values(values)
    sizes = tuple(len(k) for k in kept)
    n = math.prod(sizes)
    if _gib(n, size) > float(max_gib):
        raise ValueError(
            f"a grid of {n:,} scenes at {size}×{size} needs {_gib(n, size):.2f} GiB of float32 images "
            f"(max_gib={max_gib}); pass a larger max_gib, keep fewer values, or use scenes() / scene_images()"
        )
    local = mixed_radix_factors(torch.arange(n), sizes)
    lookup = [torch.as_tensor(k, dtype=torch.int64) for k in kept]
    grid = torch.stack([lookup[j][local[:, j]] for j in range(len(kept))], dim=1)
    idx = mixed_radix_index(grid, SCENE_FACTOR_SIZES)
    return _dataset(idx, local, sizes, size, "scene_grid", grid, _metadata(size, grid_values=kept))


def scene_traversal(factor: str | int, base: Any = 0, size: int = 64) -> Dataset:
    """The exact one-factor traversal of ``factor`` through ``base``, rendered on demand.

    Args:
        factor: the factor to vary, by name or position in :data:`SCENE_FACTORS`.
        base: the scene whose other factor values are kept: an index among the 480,000, or six
            factor values.
        size: image side.

    Returns:
        A :class:`Dataset` of ``SCENE_FACTOR_SIZES[factor]`` scenes, element ``v`` with value
        ``v`` of the factor (factors in the full sizes; ``extras["grid_index"]`` their indices).
    """
    size = _check_size(size)
    if isinstance(factor, bool):
        raise TypeError("factor must be a name or an integer position, got bool")
    if isinstance(factor, str):
        if factor not in SCENE_FACTORS:
            raise ValueError(f"unknown factor {factor!r}; the scenes have factors {SCENE_FACTORS}")
        k = SCENE_FACTORS.index(factor)
    elif isinstance(factor, (int, np.integer)) and 0 <= int(factor) < len(SCENE_FACTORS):
        k = int(factor)
    else:
        raise ValueError(f"factor must be a name in {SCENE_FACTORS} or a position in [0, 6), got {factor!r}")
    b = torch.as_tensor(np.asarray(base))
    b = mixed_radix_factors(b, SCENE_FACTOR_SIZES) if b.ndim == 0 else torch.as_tensor(_as_factors(b)[0])
    grid = b.repeat(SCENE_FACTOR_SIZES[k], 1)
    grid[:, k] = torch.arange(SCENE_FACTOR_SIZES[k])
    idx = mixed_radix_index(grid, SCENE_FACTOR_SIZES)
    meta = _metadata(size, traversed=SCENE_FACTORS[k], base=b.tolist())
    return _dataset(idx, grid, SCENE_FACTOR_SIZES, size, "scene_traversal", grid, meta)
