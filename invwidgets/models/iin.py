"""The invertible interpretation network (IIN) of Esser, Rombach & Ommer (CVPR 2020).

A bijection ``T: R^N -> R^N`` built from blocks of

1. :class:`ActNorm` — per-dimension affine map ``y = s * (x + b)`` initialised from the first batch
   it sees (``b = -mean``, ``s = 1 / (std + 1e-6)``), log-det ``sum log|s|``;
2. :class:`DoubleAffineCoupling` — two affine couplings ``x2' = x2 * exp(s(x1)) + t(x1)``, the
   second with the halves swapped; ``s`` ends in ``tanh`` so the log-scale stays in (-1, 1);
3. :class:`Shuffle` — a fixed random permutation (log-det 0).

:class:`InvertibleFlow` stacks the blocks; :class:`FactorIIN` adds names and sizes of the factors
its output is split into (the residual is the **last** factor, as in the official code).

Every module returns ``(y, logdet)`` from ``forward`` (``logdet`` has shape ``(N,)``) and has an
exact ``reverse``. Nothing here draws widgets or trains.
"""

from __future__ import annotations

from collections.abc import Sequence
from typing import Any

import torch
from torch import nn

__all__ = [
    "ActNorm",
    "AffineCoupling",
    "DoubleAffineCoupling",
    "Shuffle",
    "FlowBlock",
    "InvertibleFlow",
    "FactorIIN",
]

_DTYPES = {"float32": torch.float32, "float64": torch.float64}


def _check_vectors(x: Any, dim: int, what: str = "input") -> torch.Tensor:
    if not isinstance(x, torch.Tensor):
        raise TypeError(f"{what} must be a torch.Tensor, got {type(x).__name__}")
    if not x.is_floating_point():
        raise TypeError(f"{what} must be a floating-point tensor, got dtype {x.dtype}")
    if x.ndim != 2 or x.shape[1] != dim:
        raise ValueError(f"{what} must have shape (N, {dim}), got {tuple(x.shape)}")
    return x


class ActNorm(nn.Module):
    """Per-dimension affine normalisation ``y = scale * (x + loc)`` with data-dependent init.

    The first call of :meth:`forward` on an uninitialised layer sets ``loc = -mean`` and
    ``scale = 1 / (std + 1e-6)`` from that batch (so its output has mean 0 and std ≈ 1 per
    dimension) and marks the layer initialised; later calls never re-initialise. The flag is a
    buffer, so it is saved with the weights.

    Raises:
        ValueError: when initialising from fewer than 2 samples.
        RuntimeError: from :meth:`reverse` before initialisation.
    """

    #: ``reset_parameters`` draws no random numbers (see :func:`init_parameters`).
    deterministic_reset = True

    def __init__(self, dim: int) -> None:
        super().__init__()
        self.dim = int(dim)
        self.loc = nn.Parameter(torch.zeros(self.dim))
        self.scale = nn.Parameter(torch.ones(self.dim))
        self.register_buffer("initialized", torch.tensor(0, dtype=torch.uint8))

    @property
    def is_initialized(self) -> bool:
        """Whether the data-dependent initialisation has run."""
        return bool(self.initialized.item())

    def reset_parameters(self) -> None:
        """Back to the identity map, uninitialised (the next batch initialises again)."""
        with torch.no_grad():
            self.loc.zero_()
            self.scale.fill_(1.0)
            self.initialized.fill_(0)

    @torch.no_grad()
    def initialize(self, x: torch.Tensor) -> None:
        """Set ``loc`` and ``scale`` from the batch ``x`` (N×dim, N >= 2)."""
        _check_vectors(x, self.dim)
        if x.shape[0] < 2:
            raise ValueError(f"ActNorm needs at least 2 samples to initialise from data, got {x.shape[0]}")
        mean = x.mean(0)
        std = x.std(0)
        self.loc.copy_(-mean)
        self.scale.copy_(1.0 / (std + 1e-6))
        self.initialized.fill_(1)

    def forward(self, x: torch.Tensor) -> tuple[torch.Tensor, torch.Tensor]:
        """``(scale * (x + loc), logdet)``; initialises from ``x`` on the first call."""
        if not self.is_initialized:
            self.initialize(x.detach())
        y = self.scale * (x + self.loc)
        logdet = torch.log(torch.abs(self.scale)).sum().expand(x.shape[0])
        return y, logdet

    def reverse(self, y: torch.Tensor) -> torch.Tensor:
        """``y / scale - loc``."""
        if not self.is_initialized:
            raise RuntimeError("ActNorm is not initialised: run forward on a batch of data first")
        return y / self.scale - self.loc

    def extra_repr(self) -> str:
        return f"dim={self.dim}"


def _mlp(d_in: int, d_out: int, hidden: int, depth: int) -> nn.Sequential:
    layers: list[nn.Module] = [nn.Linear(d_in, hidden), nn.LeakyReLU()]
    for _ in range(depth):
        layers += [nn.Linear(hidden, hidden), nn.LeakyReLU()]
    layers.append(nn.Linear(hidden, d_out))
    return nn.Sequential(*layers)


class AffineCoupling(nn.Module):
    """One affine coupling: ``x = (x1, x2)`` → ``(x1, x2 * exp(s(x1)) + t(x1))``.

    ``s`` and ``t`` are separate MLPs ``Linear(dim/2 → hidden), LeakyReLU, depth × [Linear(hidden →
    hidden), LeakyReLU], Linear(hidden → dim/2)``; ``s`` ends in ``tanh``. With ``swap=True`` the
    roles of the halves are exchanged (``x2`` conditions ``x1``). Log-det ``sum s(x1)``.
    """

    def __init__(self, dim: int, hidden: int = 64, depth: int = 1, swap: bool = False) -> None:
        super().__init__()
        if dim % 2:
            raise ValueError(f"coupling layers need an even dimension, got {dim}")
        self.dim = int(dim)
        self.swap = bool(swap)
        half = self.dim // 2
        self.s = _mlp(half, half, hidden, depth)
        self.t = _mlp(half, half, hidden, depth)

    def _halves(self, x: torch.Tensor) -> tuple[torch.Tensor, torch.Tensor]:
        a, b = x.chunk(2, dim=1)
        return (b, a) if self.swap else (a, b)

    def _join(self, cond: torch.Tensor, moved: torch.Tensor) -> torch.Tensor:
        return torch.cat([moved, cond] if self.swap else [cond, moved], dim=1)

    def forward(self, x: torch.Tensor) -> tuple[torch.Tensor, torch.Tensor]:
        """``(coupled x, logdet)``."""
        cond, moved = self._halves(x)
        log_s = torch.tanh(self.s(cond))
        out = moved * torch.exp(log_s) + self.t(cond)
        return self._join(cond, out), log_s.sum(1)

    def reverse(self, y: torch.Tensor) -> torch.Tensor:
        """Exact inverse: subtract ``t`` and multiply by ``exp(-s)``."""
        cond, moved = self._halves(y)
        log_s = torch.tanh(self.s(cond))
        return self._join(cond, (moved - self.t(cond)) * torch.exp(-log_s))


class DoubleAffineCoupling(nn.Module):
    """Two :class:`AffineCoupling` layers in sequence, the second with the halves swapped."""

    def __init__(self, dim: int, hidden: int = 64, depth: int = 1) -> None:
        super().__init__()
        self.couplings = nn.ModuleList(
            [AffineCoupling(dim, hidden, depth, swap=False), AffineCoupling(dim, hidden, depth, swap=True)]
        )

    def forward(self, x: torch.Tensor) -> tuple[torch.Tensor, torch.Tensor]:
        """``(y, logdet)`` of both couplings."""
        logdet = torch.zeros(x.shape[0], dtype=x.dtype, device=x.device)
        for c in self.couplings:
            x, ld = c(x)
            logdet = logdet + ld
        return x, logdet

    def reverse(self, y: torch.Tensor) -> torch.Tensor:
        """Undo the couplings in reverse order."""
        for c in reversed(self.couplings):
            y = c.reverse(y)
        return y


class Shuffle(nn.Module):
    """A fixed random permutation of the dimensions, drawn from ``generator`` and kept as a buffer.

    Log-det 0; the inverse permutation is ``argsort(perm)``.
    """

    def __init__(self, dim: int, generator: torch.Generator) -> None:
        super().__init__()
        if not isinstance(generator, torch.Generator):
            raise TypeError(f"generator must be a torch.Generator, got {type(generator).__name__}")
        perm = torch.randperm(int(dim), generator=generator)
        self.register_buffer("perm", perm)
        self.register_buffer("inverse_perm", torch.argsort(perm))

    def forward(self, x: torch.Tensor) -> tuple[torch.Tensor, torch.Tensor]:
        """``(x[:, perm], 0)``."""
        return x[:, self.perm], torch.zeros(x.shape[0], dtype=x.dtype, device=x.device)

    def reverse(self, y: torch.Tensor) -> torch.Tensor:
        """``y[:, argsort(perm)]``."""
        return y[:, self.inverse_perm]


class FlowBlock(nn.Module):
    """ActNorm → DoubleAffineCoupling → Shuffle."""

    def __init__(self, dim: int, hidden: int, depth: int, generator: torch.Generator) -> None:
        super().__init__()
        self.norm = ActNorm(dim)
        self.coupling = DoubleAffineCoupling(dim, hidden, depth)
        self.shuffle = Shuffle(dim, generator)

    def forward(self, x: torch.Tensor) -> tuple[torch.Tensor, torch.Tensor]:
        """``(y, logdet)`` of the three layers."""
        x, ld0 = self.norm(x)
        x, ld1 = self.coupling(x)
        x, ld2 = self.shuffle(x)
        return x, ld0 + ld1 + ld2

    def reverse(self, y: torch.Tensor) -> torch.Tensor:
        """Exact inverse of :meth:`forward`."""
        return self.norm.reverse(self.coupling.reverse(self.shuffle.reverse(y)))


class InvertibleFlow(nn.Module):
    """``n_blocks`` :class:`FlowBlock` s on ``dim``-vectors: ``forward(z) -> (T(z), log|det J_T(z)|)``.

    Args:
        dim: the (even) dimension N.
        n_blocks: number of blocks (the paper uses 12; 4–6 suffice for N = 16).
        hidden: width of the coupling MLPs.
        depth: hidden layers of width ``hidden`` after the first one in each MLP.
        seed: seed of the fixed shuffles (parameters are initialised separately, e.g. with
            :func:`~invwidgets.models.init_parameters`).
        dtype: ``"float32"`` or ``"float64"`` (parameters and expected inputs).
    """

    def __init__(
        self, dim: int, n_blocks: int = 4, hidden: int = 64, depth: int = 1, seed: int = 0, dtype: str = "float32"
    ) -> None:
        super().__init__()
        for value, what in ((dim, "dim"), (n_blocks, "n_blocks"), (hidden, "hidden")):
            if isinstance(value, bool) or not isinstance(value, int) or value < 1:
                raise ValueError(f"{what} must be a positive integer, got {value!r}")
        if isinstance(depth, bool) or not isinstance(depth, int) or depth < 0:
            raise ValueError(f"depth must be a non-negative integer, got {depth!r}")
        if dim % 2:
            raise ValueError(f"dim must be even (coupling layers split it in halves), got {dim}")
        if dtype not in _DTYPES:
            raise ValueError(f"dtype must be one of {tuple(_DTYPES)}, got {dtype!r}")
        self.dim = dim
        gen = torch.Generator().manual_seed(int(seed))
        self.blocks = nn.ModuleList([FlowBlock(dim, hidden, depth, gen) for _ in range(n_blocks)])
        self.to(_DTYPES[dtype])

    @property
    def is_initialized(self) -> bool:
        """Whether every ActNorm has been initialised from data."""
        return all(b.norm.is_initialized for b in self.blocks)

    def forward(self, z: torch.Tensor) -> tuple[torch.Tensor, torch.Tensor]:
        """``(T(z), log|det J_T(z)|)`` with shapes ``(N, dim)`` and ``(N,)``.

        Raises:
            TypeError, ValueError: for a non-float input or a wrong shape.
        """
        _check_vectors(z, self.dim, "z")
        logdet = torch.zeros(z.shape[0], dtype=z.dtype, device=z.device)
        for block in self.blocks:
            z, ld = block(z)
            logdet = logdet + ld
        return z, logdet

    def reverse(self, w: torch.Tensor) -> torch.Tensor:
        """``T⁻¹(w)``."""
        _check_vectors(w, self.dim, "z̃")
        for block in reversed(self.blocks):
            w = block.reverse(w)
        return w


class FactorIIN(InvertibleFlow):
    """An :class:`InvertibleFlow` whose output is split into named factors; the residual is last.

    ``T(z) = (z̃_1, …, z̃_K, z̃_residual)`` with ``z̃_k`` of size ``factor_sizes[k]``.

    Args:
        dim: the dimension N of the representation (even).
        factor_sizes: sizes of the factors, residual last, summing to ``dim``. ``None`` gives one
            factor of size ``dim`` (the unsupervised IIN).
        factor_names: their names (default ``factor0, …, residual``); the last is the residual.
        n_blocks, hidden, depth, seed, dtype: as for :class:`InvertibleFlow`.

    ``config`` holds the constructor arguments (for the zoo).
    """

    def __init__(
        self,
        dim: int = 16,
        factor_sizes: Sequence[int] | None = None,
        factor_names: Sequence[str] | None = None,
        n_blocks: int = 4,
        hidden: int = 64,
        depth: int = 1,
        seed: int = 0,
        dtype: str = "float32",
    ) -> None:
        super().__init__(dim, n_blocks, hidden, depth, seed, dtype)
        sizes = [dim] if factor_sizes is None else [int(s) for s in factor_sizes]
        if any(s < 1 for s in sizes) or sum(sizes) != dim:
            raise ValueError(f"factor_sizes must be positive and sum to dim={dim}, got {sizes}")
        if factor_names is None:
            names = [f"factor{i}" for i in range(len(sizes) - 1)] + ["residual"]
        else:
            names = [str(n) for n in factor_names]
        if len(names) != len(sizes) or len(set(names)) != len(names):
            raise ValueError(f"factor_names must be {len(sizes)} distinct names, got {names}")
        self.factor_sizes: tuple[int, ...] = tuple(sizes)
        self.factor_names: tuple[str, ...] = tuple(names)
        self.config: dict[str, Any] = {
            "dim": dim,
            "factor_sizes": list(sizes),
            "factor_names": list(names),
            "n_blocks": n_blocks,
            "hidden": hidden,
            "depth": depth,
            "seed": int(seed),
            "dtype": dtype,
        }

    @property
    def n_factors(self) -> int:
        """Number of factors, the residual included."""
        return len(self.factor_sizes)

    def factor_index(self, factor: str | int) -> int:
        """Position of ``factor`` (a name or a position; negative positions count from the end).

        Raises:
            ValueError: for an unknown name or a position out of range.
        """
        if isinstance(factor, bool):
            raise TypeError("factor must be a name or an integer position, got bool")
        if isinstance(factor, int):
            k = factor + self.n_factors if factor < 0 else factor
            if not 0 <= k < self.n_factors:
                raise ValueError(f"factor position {factor} out of range for factors {self.factor_names}")
            return k
        if isinstance(factor, str):
            if factor not in self.factor_names:
                raise ValueError(f"unknown factor {factor!r}; this IIN has factors {self.factor_names}")
            return self.factor_names.index(factor)
        raise TypeError(f"factor must be a name or an integer position, got {type(factor).__name__}")

    def factor_slice(self, factor: str | int) -> slice:
        """The columns of ``T(z)`` that hold ``factor``."""
        k = self.factor_index(factor)
        start = sum(self.factor_sizes[:k])
        return slice(start, start + self.factor_sizes[k])

    def factor_mask(self, factors: Sequence[str | int] | str | int) -> torch.Tensor:
        """Boolean mask of length ``dim`` that is True on the columns of ``factors``."""
        if isinstance(factors, (str, int)):
            factors = [factors]
        mask = torch.zeros(self.dim, dtype=torch.bool)
        for f in factors:
            mask[self.factor_slice(f)] = True
        return mask

    def split(self, w: torch.Tensor) -> dict[str, torch.Tensor]:
        """``{name: z̃_k}`` of an output ``w = T(z)`` (views, in factor order)."""
        _check_vectors(w, self.dim, "z̃")
        return dict(zip(self.factor_names, torch.split(w, list(self.factor_sizes), dim=1)))

    def merge(self, parts: dict[str, torch.Tensor] | Sequence[torch.Tensor]) -> torch.Tensor:
        """Inverse of :meth:`split`: concatenate the factors (a dict by name or a sequence)."""
        if isinstance(parts, dict):
            missing = [n for n in self.factor_names if n not in parts]
            if missing:
                raise ValueError(f"missing factors {missing}")
            parts = [parts[n] for n in self.factor_names]
        w = torch.cat(list(parts), dim=1)
        return _check_vectors(w, self.dim, "merged z̃")

    def extra_repr(self) -> str:
        return ", ".join(f"{n}={s}" for n, s in zip(self.factor_names, self.factor_sizes))
