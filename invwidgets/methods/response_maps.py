"""2-D response maps: the residual field ``u(z) = R(z) − z`` over a grid of two latents.

Choose two latents ``(a, b)``, a base point ``z₀`` whose other coordinates stay fixed, and an
``n×n`` grid over ``[−r, r]²`` (docs/methods/responses.md, Response maps). Then

* magnitude ``‖u‖`` of ``u`` restricted to ``(a, b)``;
* divergence ``∂u_a/∂z_a + ∂u_b/∂z_b`` by central finite differences (``torch.gradient``);
* mean curvature ``−½ · div(u/‖u‖)``.

Sinks (negative divergence) trace the manifold the model learned. Derivatives are in the units of
the latent space (divided by the grid spacing ``2r/(n−1)``); ``per_step=True`` gives the values
per grid step instead, as the official code plots them.

Array layout: every map is ``n×n`` indexed ``[row, col]``, where the column index walks latent
``a`` (horizontal axis, left to right, ``coords[col]``) and the row index walks latent ``b``
(vertical axis, ``coords[row]``, from −r in row 0 to +r in the last row).
"""

from __future__ import annotations

from dataclasses import dataclass
from typing import Any

import torch

from .responses import BatchSize, _check_latents, decode_mean, response

__all__ = [
    "ResponseMap",
    "divergence",
    "latent_grid",
    "mean_curvature",
    "posterior_histogram",
    "response_map",
    "response_maps",
]


def _check_grid(radius: float, resolution: int) -> None:
    if not isinstance(radius, (int, float)) or isinstance(radius, bool) or not radius > 0 or radius != radius:
        raise ValueError(f"radius must be a positive number, got {radius!r}")
    if isinstance(resolution, bool) or not isinstance(resolution, int) or resolution < 3:
        raise ValueError(f"resolution must be an integer >= 3, got {resolution!r}")


def _check_field(u: torch.Tensor) -> torch.Tensor:
    if not isinstance(u, torch.Tensor):
        raise TypeError(f"the field must be a torch.Tensor, got {type(u).__name__}")
    if u.ndim != 3 or u.shape[2] != 2 or u.shape[0] < 2 or u.shape[1] < 2:
        raise ValueError(f"the field must have shape (rows, cols, 2) with at least 2×2 points, got {tuple(u.shape)}")
    if not bool(torch.isfinite(u).all()):
        raise ValueError("the field contains NaN or infinite values")
    return u.double()


def latent_grid(
    base: torch.Tensor,
    dims: tuple[int, int],
    radius: float = 2.0,
    resolution: int = 64,
) -> tuple[torch.Tensor, torch.Tensor]:
    """Latents on an ``n×n`` grid over ``[−r, r]²`` in latents ``dims = (a, b)``.

    Args:
        base: the base point, a vector of d latents (others stay at its values).
        dims: the two latents ``(a, b)``: ``a`` varies along columns, ``b`` along rows.
        radius: half-width ``r`` of the grid.
        resolution: ``n`` points per axis.

    Returns:
        ``(z, coords)``: latents ``(n, n, d)`` with ``z[row, col, a] = coords[col]`` and
        ``z[row, col, b] = coords[row]``, and the ``n`` grid coordinates.
    """
    _check_grid(radius, resolution)
    base = torch.as_tensor(base, dtype=torch.float32).reshape(-1)
    _check_latents(base[None], None, "base")
    d = base.numel()
    a, b = (int(dims[0]), int(dims[1]))
    if not (0 <= a < d and 0 <= b < d) or a == b:
        raise ValueError(f"dims must be two different latents in [0, {d}), got {tuple(dims)}")
    coords = torch.linspace(-float(radius), float(radius), resolution)
    z = base.repeat(resolution, resolution, 1)
    z[:, :, a] = coords[None, :]
    z[:, :, b] = coords[:, None]
    return z, coords


def divergence(u: torch.Tensor, spacing: float = 1.0) -> torch.Tensor:
    """Divergence ``∂u_x/∂x + ∂u_y/∂y`` of a 2-D field ``u`` (rows, cols, 2) sampled on a grid
    whose columns walk x and rows walk y, with grid ``spacing`` (central differences inside,
    one-sided at the edges). Returns a float64 (rows, cols) tensor."""
    u = _check_field(u)
    if not spacing > 0:
        raise ValueError(f"spacing must be positive, got {spacing!r}")
    (dux_dx,) = torch.gradient(u[..., 0], spacing=float(spacing), dim=1)
    (duy_dy,) = torch.gradient(u[..., 1], spacing=float(spacing), dim=0)
    return dux_dx + duy_dy


def mean_curvature(u: torch.Tensor, spacing: float = 1.0, eps: float = 1e-12) -> torch.Tensor:
    """Mean curvature ``−½ · div(u/‖u‖)`` of the level sets of a 2-D field (see
    :func:`divergence` for the layout). Points where ``‖u‖ < eps`` use a zero direction."""
    u = _check_field(u)
    norm = u.norm(dim=-1, keepdim=True)
    direction = torch.where(norm > eps, u / norm.clamp_min(eps), torch.zeros_like(u))
    return -0.5 * divergence(direction, spacing)


@dataclass
class ResponseMap:
    """A response map over a 2-D grid of latents ``dims = (a, b)`` (layout: module docstring).

    Attributes:
        dims: the two latents.
        base: the base point (d,).
        coords: the n grid coordinates (shared by both axes).
        spacing: grid spacing ``2r/(n−1)``.
        per_step: whether derivatives are per grid step (else per latent unit).
        latents: grid latents (n, n, d).
        responses: ``R(z)`` on the grid (n, n, d).
        field: ``u = R(z) − z`` restricted to ``(a, b)``, (n, n, 2).
        magnitude: ``‖u‖`` (n, n).
        divergence: ``div u`` (n, n).
        curvature: ``−½ div(u/‖u‖)`` (n, n).
    """

    dims: tuple[int, int]
    base: torch.Tensor
    coords: torch.Tensor
    spacing: float
    per_step: bool
    latents: torch.Tensor
    responses: torch.Tensor
    field: torch.Tensor
    magnitude: torch.Tensor
    divergence: torch.Tensor
    curvature: torch.Tensor

    @property
    def radius(self) -> float:
        """Half-width of the grid."""
        return float(self.coords[-1])

    @property
    def resolution(self) -> int:
        """Points per axis."""
        return int(self.coords.numel())

    def decoded(self, autoencoder: Any, every: int = 1) -> torch.Tensor:
        """``decode(z)`` over the grid (every ``every``-th point per axis): (m·m, C, H, W), in
        row-major order of the grid (row 0 = lowest value of latent ``b``)."""
        z = self.latents[::every, ::every]
        m1, m2, d = z.shape
        return decode_mean(autoencoder, z.reshape(m1 * m2, d))


def _assemble(dims: tuple[int, int], base: torch.Tensor, z: torch.Tensor, coords: torch.Tensor,
              r: torch.Tensor, radius: float, per_step: bool) -> ResponseMap:
    """A :class:`ResponseMap` from grid latents ``z`` and their responses ``r`` (n, n, d)."""
    a, b = dims
    u = (r - z)[..., [a, b]].double()
    spacing = 2.0 * float(radius) / (coords.numel() - 1)
    h = 1.0 if per_step else spacing
    return ResponseMap(
        dims=(a, b), base=base.clone(), coords=coords, spacing=spacing, per_step=bool(per_step),
        latents=z, responses=r, field=u, magnitude=u.norm(dim=-1),
        divergence=divergence(u, h), curvature=mean_curvature(u, h),
    )


def response_map(
    autoencoder: Any,
    base: torch.Tensor,
    dims: tuple[int, int] = (0, 1),
    *,
    radius: float = 2.0,
    resolution: int = 64,
    per_step: bool = False,
    batch_size: BatchSize = "auto",
) -> ResponseMap:
    """Compute the response map of ``autoencoder`` around ``base`` in latents ``dims``.

    Args:
        autoencoder: anything with ``encode`` and ``decode``.
        base: base point (d latents); coordinates other than ``dims`` stay fixed.
        dims: ``(a, b)``; ``a`` along columns, ``b`` along rows.
        radius: the grid covers ``[−radius, radius]²``.
        resolution: n grid points per axis (n² model calls, batched).
        per_step: derivatives per grid step (the official plots) instead of per latent unit.
        batch_size: the largest batch given to the model (:data:`BatchSize`; ``"auto"``: 128 on
            a CPU, 1024 on a GPU).

    Returns:
        A :class:`ResponseMap`.
    """
    return response_maps(autoencoder, base, [dims], radius=radius, resolution=resolution, per_step=per_step,
                         batch_size=batch_size)[0]


def _check_bases(base: torch.Tensor, n_pairs: int) -> torch.Tensor:
    b = torch.as_tensor(base, dtype=torch.float32)
    if b.ndim == 1:
        b = b[None].expand(n_pairs, -1)
    if b.ndim != 2 or b.shape[0] != n_pairs:
        raise ValueError(f"base must be one vector of d latents or one per pair ({n_pairs}×d), got {tuple(b.shape)}")
    return b


def response_maps(
    autoencoder: Any,
    base: torch.Tensor,
    pairs: list[tuple[int, int]] | None = None,
    *,
    radius: float = 2.0,
    resolution: int = 64,
    per_step: bool = False,
    batch_size: BatchSize = "auto",
) -> list[ResponseMap]:
    """Response maps of several latent pairs (and base points) in **one batched pass**.

    The grids of all pairs are stacked into one ``(P·n²)×d`` batch, as the response matrix stacks
    its interventions, so the model sees full batches of ``batch_size`` throughout instead of
    ``P`` separate passes that each end in a partial batch. Each map equals
    :func:`response_map` of its pair.

    Args:
        autoencoder: anything with ``encode`` and ``decode``.
        base: one base point (d,) shared by all pairs, or one per pair (P×d).
        pairs: the latent pairs ``(a, b)``; default every pair ``a < b`` of the d latents.
        radius, resolution, per_step, batch_size: as for :func:`response_map`.

    Returns:
        One :class:`ResponseMap` per pair, in the order of ``pairs``.
    """
    b0 = torch.as_tensor(base, dtype=torch.float32)
    d = int(b0.shape[-1]) if b0.ndim >= 1 else 0
    if pairs is None:
        pairs = [(a, c) for a in range(d) for c in range(a + 1, d)]
    pairs = [(int(p[0]), int(p[1])) for p in pairs]
    if not pairs:
        raise ValueError("pairs must name at least one pair of latents")
    bases = _check_bases(base, len(pairs))
    grids = [latent_grid(bases[i], p, radius, resolution) for i, p in enumerate(pairs)]
    n = resolution
    z_all = torch.stack([g[0] for g in grids])  # (P, n, n, d)
    d = z_all.shape[-1]
    r_all = response(autoencoder, z_all.reshape(-1, d), batch_size).reshape(len(pairs), n, n, d)
    return [_assemble(p, bases[i], z_all[i], grids[i][1], r_all[i], radius, per_step) for i, p in enumerate(pairs)]


def posterior_histogram(
    codes: torch.Tensor,
    dims: tuple[int, int] = (0, 1),
    radius: float = 2.0,
    resolution: int = 64,
) -> torch.Tensor:
    """2-D histogram (counts, float64 n×n, same layout as the maps) of codes (e.g. posterior means,
    the aggregate posterior) in latents ``dims`` over ``[−r, r]²``; each bin is centred on a grid
    point. Codes outside the grid are not counted."""
    _check_grid(radius, resolution)
    _check_latents(codes, None, "codes")
    a, b = int(dims[0]), int(dims[1])
    if not (0 <= a < codes.shape[1] and 0 <= b < codes.shape[1]) or a == b:
        raise ValueError(f"dims must be two different latents in [0, {codes.shape[1]}), got {tuple(dims)}")
    spacing = 2.0 * float(radius) / (resolution - 1)
    col = torch.round((codes[:, a].double() + radius) / spacing).long()
    row = torch.round((codes[:, b].double() + radius) / spacing).long()
    keep = (col >= 0) & (col < resolution) & (row >= 0) & (row < resolution)
    hist = torch.zeros(resolution * resolution, dtype=torch.float64)
    hist.index_add_(0, row[keep] * resolution + col[keep], torch.ones(int(keep.sum()), dtype=torch.float64))
    return hist.reshape(resolution, resolution)
