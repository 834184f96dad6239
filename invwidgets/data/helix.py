"""The 3-D helix toy of the latent-responses paper (Leeb et al., NeurIPS 2022)."""

from __future__ import annotations

import math

import numpy as np
import torch

from .dataset import VectorDataset
from .provenance import HELIX

__all__ = ["helix"]


def helix(
    n: int = 1024,
    noise: float = 0.1,
    strands: int = 2,
    seed: int = 0,
    w: float = 1.0,
    radius: tuple[float, float, float] = (1.0, 1.0, 1.0),
) -> VectorDataset:
    """Points on ``strands`` intertwined helices in 3-D, as a :class:`VectorDataset` (N×3).

    For each point, height ``t ~ U(-1, 1)`` and strand ``s`` uniform in ``{0, ..., strands-1}``;
    angle ``θ = π (w t + 2 s / strands)``; ``x = (Rx cos θ, Ry sin θ, Rz t) + N(0, noise²)``.
    All draws use a ``torch.Generator`` seeded by ``seed`` and are computed in float64 before
    the cast to float32.

    Args:
        n: number of points.
        noise: standard deviation of the isotropic Gaussian noise (>= 0).
        strands: number of strands (>= 1).
        seed: seed of the generator.
        w: number of half-turns per unit height.
        radius: ``(Rx, Ry, Rz)`` scales of the three coordinates.

    Returns:
        A :class:`VectorDataset` with ``vectors`` N×3, ``labels`` = strand, ``factors`` = strand
        (one factor ``"strand"``), and ``extras["t"]`` (float32 heights) and ``extras["theta"]``.

    Raises:
        ValueError: for a non-positive ``n``, negative or non-finite ``noise``, ``strands < 1``,
            or a non-finite ``w``/``radius``.
    """
    if isinstance(n, bool) or not isinstance(n, (int, np.integer)) or n < 1:
        raise ValueError(f"n must be a positive integer, got {n!r}")
    if not isinstance(noise, (int, float)) or not math.isfinite(noise) or noise < 0:
        raise ValueError(f"noise must be a finite number >= 0, got {noise!r}")
    if isinstance(strands, bool) or not isinstance(strands, (int, np.integer)) or strands < 1:
        raise ValueError(f"strands must be a positive integer, got {strands!r}")
    if not math.isfinite(float(w)):
        raise ValueError(f"w must be finite, got {w!r}")
    if len(radius) != 3 or not all(math.isfinite(float(r)) for r in radius):
        raise ValueError(f"radius must be three finite numbers (Rx, Ry, Rz), got {radius!r}")
    gen = torch.Generator().manual_seed(int(seed))
    t = torch.rand(int(n), generator=gen, dtype=torch.float64) * 2.0 - 1.0
    strand = torch.randint(0, int(strands), (int(n),), generator=gen)
    eps = torch.randn(int(n), 3, generator=gen, dtype=torch.float64) * float(noise)
    theta = math.pi * (float(w) * t + 2.0 * strand.double() / int(strands))
    rx, ry, rz = (float(r) for r in radius)
    x = torch.stack([rx * torch.cos(theta), ry * torch.sin(theta), rz * t], dim=1) + eps
    return VectorDataset(
        x.float(),
        labels=strand,
        factors=strand[:, None],
        factor_names=("strand",),
        factor_sizes=(int(strands),),
        class_names=[f"strand {i}" for i in range(int(strands))],
        name="helix",
        extras={"t": t.float(), "theta": theta.float()},
        metadata={"noise": float(noise), "w": float(w), "radius": [rx, ry, rz], "seed": int(seed)},
        **HELIX.kwargs(),
    )
