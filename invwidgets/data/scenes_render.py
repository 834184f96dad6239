"""Ray-cast renderer of the procedural 3D-Shapes-like scenes (numpy only).

The scene: a floor (plane ``y = 0``) that recedes from the camera to a back wall (plane
``z = Z_WALL``), one object standing on the floor at the origin, a directional light from the
upper left and a pinhole camera above the floor looking slightly down. Perspective cues: the floor
darkens with distance and towards the wall, the wall darkens upwards and near the floor (a crease
where they meet), the object is shaded (ambient, Lambert, a white Blinn-Phong highlight) and casts
a shadow on the floor (and on the wall when it reaches it).

How rendering stays fast: the camera and the room never move, so every pixel's colour is *linear*
in the three hue colours. For each of the 4 × 8 × 15 = 480 object configurations (shape, scale,
orientation) the renderer ray-casts once, on a supersampled grid, four scalar maps per pixel: the
floor's, the wall's and the object's shading weights (shade × area covered) and the specular
highlight. An image is then ``floor_rgb · A_floor + wall_rgb · A_wall + object_rgb · A_object +
A_specular``, rounded to 8 bits (the highlight blends the shaded colour towards white, so no value
exceeds 1 and nothing is clipped: the image stays linear in the maps): one gather and a few multiply-adds per pixel. The maps of a
configuration are computed on first use and cached per image size; all arithmetic is elementwise,
so an image does not depend on the batch it is rendered in (bit for bit within a process).

Supersampling: the rays form a 128 × 128 grid for sizes 16, 32 and 64 (8², 4² and 2² rays per
pixel) and 256 × 256 for 128, so 32 × 32 images are the 64 × 64 ones averaged over 2 × 2 blocks
(up to the 8-bit rounding): both sizes agree in layout.
"""

from __future__ import annotations

import math
import threading

import numpy as np

__all__ = [
    "FACTOR_NAMES",
    "FACTOR_SIZES",
    "SHAPES",
    "HUES",
    "SCALES",
    "ORIENTATIONS_DEG",
    "SIZES",
    "hue_rgb",
    "composite",
    "coverage",
]

#: Factor names, in the mixed-radix order of 3D-Shapes (first most significant).
FACTOR_NAMES = ("floor_hue", "wall_hue", "object_hue", "scale", "shape", "orientation")
#: Number of values of each factor: 10 · 10 · 10 · 8 · 4 · 15 = 480,000 combinations.
FACTOR_SIZES = (10, 10, 10, 8, 4, 15)
#: Shape names, in the order of the ``shape`` factor.
SHAPES = ("cube", "cylinder", "sphere", "capsule")
#: Hues of the three hue factors (fractions of the colour wheel, 0 = red).
HUES = tuple(k / 10.0 for k in range(10))
#: Object scales, 8 values evenly spaced in [0.75, 1.25].
SCALES = tuple(float(s) for s in np.linspace(0.75, 1.25, 8))
#: Object orientations (yaw about the vertical axis, degrees), 15 values evenly spaced in [-30, 30].
ORIENTATIONS_DEG = tuple(float(a) for a in np.linspace(-30.0, 30.0, 15))
#: Supported image sides.
SIZES = (16, 32, 64, 128)

_SATURATION = 0.85
_Z_WALL = 2.6
_CAMERA = np.array([0.0, 1.55, -4.3])
_TARGET = np.array([0.0, 0.75, 0.8])
_FOV_DEG = 44.0
_LIGHT = np.array([-0.8, 1.15, -0.85]) / np.linalg.norm([-0.8, 1.15, -0.85])  # towards the light
_AMBIENT_BG, _AMBIENT_OBJ = 0.32, 0.22
_SPECULAR = 0.45
_TILE, _CHECKER = 0.8, 0.045
_EPS = 1e-6
_N_CONFIGS = FACTOR_SIZES[3] * FACTOR_SIZES[4] * FACTOR_SIZES[5]


def hue_rgb(hue: np.ndarray | float) -> np.ndarray:
    """RGB (last axis, float32 in [0, 1]) of hue fractions at saturation 0.85 and value 1."""
    h = np.asarray(hue, dtype=np.float64)
    k = (np.array([5.0, 3.0, 1.0]) + h[..., None] * 6.0) % 6.0  # the standard HSV formula
    rgb = 1.0 - _SATURATION * np.clip(np.minimum(k, 4.0 - k), 0.0, 1.0)
    return rgb.astype(np.float32)


# -- camera and room ------------------------------------------------------------------------------
def _grid_side(size: int) -> int:
    return max(128, 2 * size)


def _camera_rays(grid: int) -> np.ndarray:
    """Unit directions (grid², 3) of the rays through the centres of a grid × grid raster."""
    fwd = _TARGET - _CAMERA
    fwd = fwd / np.linalg.norm(fwd)
    right = np.cross(np.array([0.0, 1.0, 0.0]), fwd)
    right = right / np.linalg.norm(right)
    up = np.cross(fwd, right)
    half = math.tan(math.radians(_FOV_DEG) / 2.0)
    c = ((np.arange(grid) + 0.5) / grid * 2.0 - 1.0) * half
    u = np.broadcast_to(c[None, :], (grid, grid)).reshape(-1)
    v = np.broadcast_to(-c[:, None], (grid, grid)).reshape(-1)
    d = fwd[None, :] + u[:, None] * right[None, :] + v[:, None] * up[None, :]
    return d / np.linalg.norm(d, axis=1, keepdims=True)


def _room(dirs: np.ndarray) -> dict[str, np.ndarray]:
    """Where each camera ray meets the room: hit points, floor/wall, lit and shadowed shading."""
    with np.errstate(divide="ignore", invalid="ignore"):
        t_floor = np.where(dirs[:, 1] < 0, -_CAMERA[1] / dirs[:, 1], np.inf)
        t_wall = np.where(dirs[:, 2] > 0, (_Z_WALL - _CAMERA[2]) / dirs[:, 2], np.inf)
    floor = t_floor <= t_wall
    t = np.where(floor, t_floor, t_wall)
    p = _CAMERA[None, :] + t[:, None] * dirs
    dist = np.linalg.norm(p - _CAMERA[None, :], axis=1)
    fade = np.exp(-np.maximum(dist - 3.5, 0.0) / np.where(floor, 9.0, 25.0))  # far is darker
    tiles = np.floor(p[:, 0] / _TILE + 0.5) + np.floor(p[:, 2] / _TILE + 0.5)
    checker = 1.0 + _CHECKER * np.where(tiles % 2 == 0, 1.0, -1.0)  # faint tiles recede in perspective
    crease_floor = checker * (1.0 - 0.3 * np.exp(-np.maximum(_Z_WALL - p[:, 2], 0.0) / 0.3))
    crease_wall = (1.0 - 0.3 * np.exp(-np.maximum(p[:, 1], 0.0) / 0.3)) * (1.0 - 0.2 * np.clip(p[:, 1] / 3.0, 0, 1))
    normal_dot = np.where(floor, _LIGHT[1], -_LIGHT[2])
    geom = fade * np.where(floor, crease_floor, crease_wall)
    lit = geom * (_AMBIENT_BG + (1.0 - _AMBIENT_BG) * normal_dot)
    shadowed = geom * _AMBIENT_BG
    return {"points": p, "floor": floor, "lit": lit, "shadowed": shadowed}


# -- the object -----------------------------------------------------------------------------------
def _dimensions(shape: int, scale: float) -> tuple[float, float, float]:
    """(radius or half side, half length of the axis, height of the centre) of a shape."""
    if shape == 0:  # cube of side scale
        return 0.5 * scale, 0.0, 0.5 * scale
    if shape == 1:  # cylinder lying on its side, axis along the local x
        return 0.4 * scale, 0.55 * scale, 0.4 * scale
    if shape == 2:  # sphere
        return 0.55 * scale, 0.0, 0.55 * scale
    return 0.36 * scale, 0.42 * scale, 0.36 * scale  # capsule lying on its side


def _bounding_radius(shape: int, r: float, half: float) -> float:
    return {0: r * math.sqrt(3.0), 1: math.hypot(r, half), 2: r, 3: half + r}[shape] + 1e-3


def _near_root(a: np.ndarray, b: np.ndarray, c: np.ndarray) -> np.ndarray:
    """Smaller root of a t² + b t + c (inf where there is none or a ≈ 0)."""
    disc = b * b - 4.0 * a * c
    ok = (disc >= 0.0) & (a > 1e-12)
    safe_a = np.where(ok, a, 1.0)
    return np.where(ok, (-b - np.sqrt(np.where(ok, disc, 0.0))) / (2.0 * safe_a), np.inf)


def _positive(t: np.ndarray) -> np.ndarray:
    return np.where(t > _EPS, t, np.inf)


def _hit_box(o: np.ndarray, d: np.ndarray, a: float) -> tuple[np.ndarray, np.ndarray]:
    with np.errstate(divide="ignore", invalid="ignore"):
        t1, t2 = (-a - o) / d, (a - o) / d
    tlo, thi = np.minimum(t1, t2), np.maximum(t1, t2)
    t_near, t_far = tlo.max(axis=1), thi.min(axis=1)
    t = np.where((t_far >= t_near) & (t_near > _EPS), t_near, np.inf)
    axis = tlo.argmax(axis=1)
    n = np.zeros_like(o)
    n[np.arange(len(o)), axis] = -np.sign(d[np.arange(len(o)), axis])
    return t, n


def _hit_side(o: np.ndarray, d: np.ndarray, r: float, half: float) -> np.ndarray:
    """Entry into the tube y² + z² = r², |x| <= half."""
    a = d[:, 1] ** 2 + d[:, 2] ** 2
    b = 2.0 * (o[:, 1] * d[:, 1] + o[:, 2] * d[:, 2])
    c = o[:, 1] ** 2 + o[:, 2] ** 2 - r * r
    t = _positive(_near_root(a, b, c))
    x = o[:, 0] + np.where(np.isfinite(t), t, 0.0) * d[:, 0]
    return np.where(np.abs(x) <= half, t, np.inf)


def _hit_ball(o: np.ndarray, d: np.ndarray, centre_x: float, r: float) -> np.ndarray:
    oc = o - np.array([centre_x, 0.0, 0.0])
    return _positive(_near_root(np.ones(len(o)), 2.0 * (oc * d).sum(1), (oc * oc).sum(1) - r * r))


def _hit_cap(o: np.ndarray, d: np.ndarray, x_cap: float, r: float) -> np.ndarray:
    with np.errstate(divide="ignore", invalid="ignore"):
        t = _positive(np.where(np.abs(d[:, 0]) > 1e-12, (x_cap - o[:, 0]) / d[:, 0], np.inf))
    tt = np.where(np.isfinite(t), t, 0.0)
    y, z = o[:, 1] + tt * d[:, 1], o[:, 2] + tt * d[:, 2]
    return np.where(y * y + z * z <= r * r, t, np.inf)


def _hit_local(shape: int, o: np.ndarray, d: np.ndarray, r: float, half: float) -> tuple[np.ndarray, np.ndarray]:
    """First hit (t, local unit normal) of rays o + t d with a shape centred at the local origin."""
    if shape == 0:
        return _hit_box(o, d, r)
    if shape == 2:
        t = _hit_ball(o, d, 0.0, r)
        return t, (o + np.where(np.isfinite(t), t, 0.0)[:, None] * d) / r
    cands = [_hit_side(o, d, r, half)]
    if shape == 1:
        cands += [_hit_cap(o, d, -half, r), _hit_cap(o, d, half, r)]
    else:
        cands += [_hit_ball(o, d, -half, r), _hit_ball(o, d, half, r)]
    ts = np.stack(cands, axis=1)
    which = ts.argmin(axis=1)
    t = ts[np.arange(len(o)), which]
    p = o + np.where(np.isfinite(t), t, 0.0)[:, None] * d
    n = np.zeros_like(p)
    n[:, 1:] = p[:, 1:] / r  # tube
    ends = which > 0
    sign = np.where(which == 1, -1.0, 1.0)
    if shape == 1:
        n[ends] = 0.0
        n[ends, 0] = sign[ends]
    else:
        n[ends, 0] = (p[ends, 0] - sign[ends] * half) / r
    return t, n


def _hit_object(cfg: int, origins: np.ndarray, dirs: np.ndarray) -> tuple[np.ndarray, np.ndarray]:
    """First hit (t, world unit normal) of world rays with the object of configuration ``cfg``."""
    scale_k, rest = divmod(cfg, FACTOR_SIZES[4] * FACTOR_SIZES[5])
    shape, orient_k = divmod(rest, FACTOR_SIZES[5])
    r, half, height = _dimensions(shape, SCALES[scale_k])
    yaw = math.radians(ORIENTATIONS_DEG[orient_k])
    cy, sy = math.cos(yaw), math.sin(yaw)
    to_local = np.array([[cy, 0.0, -sy], [0.0, 1.0, 0.0], [sy, 0.0, cy]])
    centre = np.array([0.0, height, 0.0])
    t = np.full(len(dirs), np.inf)
    normals = np.zeros((len(dirs), 3))
    # bounding-sphere cull: only rays that pass near the object are intersected exactly
    oc = origins - centre
    bd = (oc * dirs).sum(1)
    disc = bd * bd - ((oc * oc).sum(1) - _bounding_radius(shape, r, half) ** 2)
    near = (disc >= 0) & (np.sqrt(np.clip(disc, 0.0, None)) > bd)  # meets the sphere at some t > 0
    if near.any():
        o_loc = oc[near] @ to_local.T
        d_loc = dirs[near] @ to_local.T
        t_n, n_loc = _hit_local(shape, o_loc, d_loc, r, half)
        t[near] = t_n
        normals[near] = n_loc @ to_local  # the inverse of a rotation is its transpose
    return t, normals


# -- maps per configuration -----------------------------------------------------------------------
class _Cache:
    """Per image size: the four shading maps and four coverage counts of every configuration."""

    def __init__(self, size: int) -> None:
        self.size = size
        self.grid = _grid_side(size)
        self.dirs = _camera_rays(self.grid)
        self.room = _room(self.dirs)
        self.maps = np.zeros((_N_CONFIGS, 4, size, size), dtype=np.float32)
        self.counts = np.zeros((_N_CONFIGS, 4, size, size), dtype=np.uint16)
        self.done = np.zeros(_N_CONFIGS, dtype=bool)
        self.lock = threading.Lock()

    def _block_sum(self, values: np.ndarray) -> np.ndarray:
        ss = self.grid // self.size
        return values.reshape(self.size, ss, self.size, ss).sum(axis=(1, 3))

    def _compute(self, cfg: int) -> None:
        room, dirs = self.room, self.dirs
        t_obj, n = _hit_object(cfg, np.broadcast_to(_CAMERA, dirs.shape), dirs)
        obj = np.isfinite(t_obj)
        diffuse = np.clip((n * _LIGHT).sum(1), 0.0, None)
        half_vec = _LIGHT[None, :] - dirs
        half_vec = half_vec / np.linalg.norm(half_vec, axis=1, keepdims=True)
        s = np.clip((n * half_vec).sum(1), 0.0, None)
        s2 = s * s
        s8 = (s2 * s2) * (s2 * s2)
        spec = _SPECULAR * (s8 * s8 * s8)  # s ** 24 by multiplications only
        t_sh, _ = _hit_object(cfg, room["points"], np.broadcast_to(_LIGHT, dirs.shape))
        shadow = np.isfinite(t_sh) & ~obj
        bg = np.where(shadow, room["shadowed"], room["lit"])
        floor, wall = room["floor"] & ~obj, ~room["floor"] & ~obj
        ss2 = (self.grid // self.size) ** 2
        layers = (np.where(floor, bg, 0.0), np.where(wall, bg, 0.0),
                  np.where(obj, (_AMBIENT_OBJ + (1.0 - _AMBIENT_OBJ) * diffuse) * (1.0 - spec), 0.0),
                  np.where(obj, spec, 0.0))  # the highlight blends towards white: nothing exceeds 1
        for k, layer in enumerate(layers):
            self.maps[cfg, k] = self._block_sum(layer.reshape(self.grid, self.grid)) / ss2
        for k, mask in enumerate((floor, wall, obj, shadow)):
            self.counts[cfg, k] = self._block_sum(mask.reshape(self.grid, self.grid).astype(np.uint16))
        self.done[cfg] = True

    def ensure(self, cfgs: np.ndarray) -> None:
        """Compute the maps of every configuration in ``cfgs`` not computed yet."""
        with self.lock:
            for cfg in np.unique(cfgs[~self.done[cfgs]]).tolist():
                self._compute(int(cfg))


_CACHES: dict[int, _Cache] = {}
_CACHES_LOCK = threading.Lock()


def _cache(size: int) -> _Cache:
    with _CACHES_LOCK:
        if size not in _CACHES:
            _CACHES[size] = _Cache(size)
        return _CACHES[size]


def _configs(factors: np.ndarray) -> np.ndarray:
    return (factors[:, 3] * FACTOR_SIZES[4] + factors[:, 4]) * FACTOR_SIZES[5] + factors[:, 5]


_HUE_RGB = hue_rgb(np.array(HUES))  # (10, 3)


def composite(factors: np.ndarray, size: int, out: np.ndarray | None = None) -> np.ndarray:
    """uint8 images (N, 3, size, size) of validated int64 factor values (N, 6), written to ``out``."""
    cache = _cache(size)
    cfg = _configs(factors)
    cache.ensure(cfg)
    if out is None:
        out = np.empty((len(factors), 3, size, size), dtype=np.uint8)
    maps = cache.maps[cfg]  # (N, 4, H, W)
    for c in range(3):
        floor = _HUE_RGB[factors[:, 0], c][:, None, None]
        wall = _HUE_RGB[factors[:, 1], c][:, None, None]
        obj = _HUE_RGB[factors[:, 2], c][:, None, None]
        val = ((floor * maps[:, 0] + wall * maps[:, 1]) + obj * maps[:, 2]) + maps[:, 3]
        np.rint(np.clip(val, 0.0, 1.0) * np.float32(255.0), out=val)
        out[:, c] = val
    return out


def coverage(factors: np.ndarray, size: int) -> np.ndarray:
    """Fractions (N, 4, size, size) of each pixel covered by floor, wall, object and shadow."""
    cache = _cache(size)
    cfg = _configs(factors)
    cache.ensure(cfg)
    ss2 = (cache.grid // size) ** 2
    return cache.counts[cfg].astype(np.float32) / np.float32(ss2)
