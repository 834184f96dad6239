"""Interventional assays on autoencoder latents (Leeb, Bauer, Besserve & Schölkopf, NeurIPS 2022).

The *response function* ``R(z) = E(D(z))`` decodes a latent and encodes the result again, using
means throughout (docs/methods/responses.md). Intervening on latent ``j`` (``do(z_j := v)``) and watching
how ``R`` moves tells which latents the model uses and how they are tied together:

* :func:`response_matrix` — the latent response matrix ``M`` (d×d; row ``j`` = intervened latent,
  column ``i`` = responding latent; RMS change of ``R(z)_i``), computed in **one batched pass over
  all latents** (:func:`response_matrix_loop` is the per-latent loop of the reference
  implementation, kept for comparison and benchmarks);
* :func:`conditioned_response_matrix` — ``C`` (K×d) over exact one-factor traversals of a dataset
  with ground-truth factors;
* :func:`causal_disentanglement_score` — ``CDS = Σ_j max_k C[k, j] / Σ C``.

An *autoencoder* is anything with ``encode(x)`` (the posterior mean; a tuple's first item or a
``torch.distributions`` object's ``mean`` are accepted too) and ``decode(z)``; it is called through
:func:`~invwidgets.models.as_autoencoder`, which moves and casts inputs to the model's device and
dtype and says which output to use (``decode_output=``) when it returns several. Every random draw
comes from an explicit ``torch.Generator`` (or an integer seed for a fresh one).
"""

from __future__ import annotations

from collections.abc import Callable, Mapping, Sequence
from dataclasses import dataclass
from typing import Any, Literal

import torch

from ..models.adapter import as_autoencoder

__all__ = [
    "AUTO_BATCH_SIZE",
    "BatchSize",
    "ConditionedResponses",
    "as_generator",
    "causal_disentanglement_score",
    "conditioned_response_matrix",
    "decode_mean",
    "encode_mean",
    "intervene",
    "intervention_values",
    "latent_dim_of",
    "response",
    "response_matrix",
    "response_matrix_from",
    "response_matrix_loop",
    "resolve_batch_size",
    "sample_prior",
]

#: ``progress(done, total, message)``: called during long computations (e.g. a worker's
#: ``job.progress``); it may raise to cancel.
ProgressFn = Callable[[float, float, str], None]

#: ``batch_size`` of every function here: the largest batch given to the model at once, an int,
#: ``None`` (everything at once) or ``"auto"`` (the default: :data:`AUTO_BATCH_SIZE` by device).
BatchSize = int | Literal["auto"] | None

#: Batches chosen by ``batch_size="auto"``, by the device type of the model's parameters. On a CPU
#: the batches stay small: with batches of 1024 latents glibc's ``malloc`` maps fresh pages for
#: the model's activations on every call, and the page faults took 45–47 % of the CPU time of a
#: 32×32 conv VAE in ``benchmarks/responses.py``; with 128 the conditioned response matrix of
#: ``betavae-sprites-s0`` took 2.7 s instead of 6.0 s (same values). A GPU gets larger batches.
AUTO_BATCH_SIZE: dict[str, int] = {"cpu": 128, "default": 1024}


# ---------------------------------------------------------------------------------------------
# small helpers
# ---------------------------------------------------------------------------------------------
def as_generator(generator: torch.Generator | int | None) -> torch.Generator:
    """A CPU ``torch.Generator``: ``generator`` itself, or a fresh one seeded with an integer.

    Raises:
        TypeError: for anything else (``None`` included: every draw needs an explicit seed).
    """
    if isinstance(generator, torch.Generator):
        return generator
    if isinstance(generator, int) and not isinstance(generator, bool):
        return torch.Generator().manual_seed(int(generator))
    raise TypeError(f"generator must be a torch.Generator or an integer seed, got {type(generator).__name__}")


def _check_latents(z: Any, d: int | None = None, what: str = "z") -> torch.Tensor:
    if not isinstance(z, torch.Tensor):
        raise TypeError(f"{what} must be a torch.Tensor, got {type(z).__name__}")
    if not z.is_floating_point():
        raise TypeError(f"{what} must be a floating-point tensor, got dtype {z.dtype}")
    if z.ndim != 2 or z.shape[0] == 0 or z.shape[1] == 0:
        raise ValueError(f"{what} must have shape (N, d) with N, d >= 1, got {tuple(z.shape)}")
    if d is not None and z.shape[1] != d:
        raise ValueError(f"{what} must have {d} latent dimensions, got shape {tuple(z.shape)}")
    if not bool(torch.isfinite(z).all()):
        raise ValueError(f"{what} contains NaN or infinite values")
    return z


def resolve_batch_size(batch_size: BatchSize, device: torch.device | str = "cpu") -> int | None:
    """The batch size a computation on ``device`` uses for ``batch_size`` (see :data:`BatchSize`).

    Raises:
        ValueError: for anything but a positive int, ``None`` or ``"auto"``.
    """
    if isinstance(batch_size, str) and batch_size == "auto":
        kind = torch.device(device).type
        return AUTO_BATCH_SIZE.get(kind, AUTO_BATCH_SIZE["default"])
    if batch_size is None:
        return None
    if isinstance(batch_size, bool) or not isinstance(batch_size, int) or batch_size < 1:
        raise ValueError(f"batch_size must be a positive integer, None or 'auto', got {batch_size!r}")
    return int(batch_size)


def encode_mean(autoencoder: Any, x: torch.Tensor, batch_size: BatchSize = "auto") -> torch.Tensor:
    """Posterior means ``encode(x)`` as a float tensor N×d on the CPU (no gradients).

    The model is called through :func:`~invwidgets.models.as_autoencoder` (inputs moved to its
    device and cast to its dtype; ``encode_output=`` chooses among several outputs).

    Raises:
        TypeError: if ``autoencoder`` lacks ``encode``/``decode`` or ``encode`` returns no tensor.
        ValueError: if the codes are not N×d or contain NaN/inf.
        RuntimeError: if ``encode`` raises (the original exception is chained).
    """
    ae = as_autoencoder(autoencoder)
    return ae.encode_mean(x, resolve_batch_size(batch_size, ae.device))


def decode_mean(autoencoder: Any, z: torch.Tensor, batch_size: BatchSize = "auto") -> torch.Tensor:
    """Decoder means ``decode(z)`` on the CPU (no gradients).

    Raises:
        TypeError, ValueError: for bad latents or a decoder that returns no tensor.
        RuntimeError: if ``decode`` raises (the original exception is chained).
    """
    ae = as_autoencoder(autoencoder)
    _check_latents(z)
    return ae.decode_mean(z, resolve_batch_size(batch_size, ae.device))


def response(autoencoder: Any, z: torch.Tensor, batch_size: BatchSize = "auto") -> torch.Tensor:
    """The response function ``R(z) = E(D(z))``: decode, then re-encode, using means (N×d, CPU).

    Args:
        autoencoder: anything with ``encode`` (posterior mean) and ``decode``, called through
            :func:`~invwidgets.models.as_autoencoder` (device, dtype, output selection).
        z: latents, float N×d.
        batch_size: the largest batch passed to the model at once (``None``: all at once;
            ``"auto"``: 128 on a CPU, 1024 on a GPU; see :data:`AUTO_BATCH_SIZE`).

    Raises:
        TypeError: for a non-tensor or non-float ``z`` or a model without encode/decode.
        ValueError: for a wrong shape, NaN/inf latents or responses, or a response of another shape.
        RuntimeError: if the model raises (chained).
    """
    ae = as_autoencoder(autoencoder)
    _check_latents(z)

    def run(batch: torch.Tensor) -> torch.Tensor:
        r = ae.encode(ae.decode(batch))
        if r.shape != batch.shape:
            raise ValueError(f"encode(decode(z)) has shape {tuple(r.shape)}, expected {tuple(batch.shape)} like z")
        return r.detach().float().cpu()

    with torch.inference_mode():
        return ae.batched(run, z.float(), resolve_batch_size(batch_size, ae.device))


def latent_dim_of(autoencoder: Any, latent_dim: int | None = None) -> int:
    """The number of latents: ``latent_dim`` if given, else the model's ``latent_dim`` attribute.

    Raises:
        ValueError: when neither is available or the value is not a positive integer.
    """
    d = latent_dim if latent_dim is not None else getattr(autoencoder, "latent_dim", None)
    if d is None:
        raise ValueError(f"{type(autoencoder).__name__} has no latent_dim attribute: pass latent_dim=")
    if isinstance(d, bool) or not isinstance(d, int) or d < 1:
        raise ValueError(f"latent_dim must be a positive integer, got {d!r}")
    return int(d)


#: Units of a response matrix: ``"raw"`` (latent units, the paper's) or ``"std"`` (each responding
#: latent's change divided by that latent's aggregate-posterior standard deviation).
Scale = Literal["raw", "std"]
_SCALES = ("raw", "std")
#: Smallest standard deviation divided by under ``scale="std"`` (a latent with no spread at all).
STD_FLOOR = 1e-6


def latent_std(codes: torch.Tensor) -> torch.Tensor:
    """Standard deviation of each latent over ``codes`` (N×d posterior means, the aggregate
    posterior): the unit of ``scale="std"``. A float32 vector of d, floored at :data:`STD_FLOOR`.

    Raises:
        ValueError: for fewer than two codes or bad shapes.
    """
    _check_latents(codes, None, "codes")
    if codes.shape[0] < 2:
        raise ValueError("latent_std needs at least two codes")
    return codes.double().std(0).clamp_min(STD_FLOOR).float()


def check_scale(scale: str) -> str:
    """``scale`` if it is ``"raw"`` or ``"std"``.

    Raises:
        ValueError: otherwise.
    """
    if scale not in _SCALES:
        raise ValueError(f"scale must be one of {_SCALES}, got {scale!r}")
    return scale


def _as_std(std: Any) -> torch.Tensor:
    return torch.as_tensor(std, dtype=torch.float32).reshape(-1)


def rescale(matrix: torch.Tensor, std: torch.Tensor) -> torch.Tensor:
    """A response matrix (``...×d``, last axis = responding latent) in units of each responding
    latent's standard deviation: ``matrix[..., i] / std[i]``."""
    std = torch.as_tensor(std, dtype=matrix.dtype).reshape(-1)
    if std.numel() != matrix.shape[-1]:
        raise ValueError(f"std must have one entry per latent ({matrix.shape[-1]}), got {std.numel()}")
    if not bool((std > 0).all()) or not bool(torch.isfinite(std).all()):
        raise ValueError("std must be positive and finite")
    return matrix / std


def sample_prior(n: int, latent_dim: int, generator: torch.Generator | int) -> torch.Tensor:
    """``n`` draws from the standard normal prior N(0, I), float32 n×d (CPU)."""
    if isinstance(n, bool) or not isinstance(n, int) or n < 1:
        raise ValueError(f"n must be a positive integer, got {n!r}")
    return torch.randn(n, int(latent_dim), generator=as_generator(generator))


def intervene(z: torch.Tensor, j: int | Sequence[int], values: torch.Tensor | float) -> torch.Tensor:
    """``do(z_j := v)``: a copy of ``z`` (N×d) with column(s) ``j`` set to ``values``.

    ``values`` is a number, one value per sample (N,), or N×len(j).

    Raises:
        IndexError: for a latent index out of range.
    """
    _check_latents(z)
    sel = [j] if isinstance(j, int) else list(j)
    d = z.shape[1]
    for s in sel:
        if not -d <= int(s) < d:
            raise IndexError(f"latent index {s} out of range for {d} latents")
    out = z.clone()
    v = torch.as_tensor(values, dtype=z.dtype)
    if v.ndim == 1 and len(sel) == 1:
        v = v[:, None]
    out[:, sel] = v
    return out


def _select_indices(n: int, pool_size: int, generator: torch.Generator) -> torch.Tensor:
    """``n`` indices into a pool: without replacement when the pool is large enough."""
    if n > pool_size:
        return torch.randint(pool_size, (n,), generator=generator)
    return torch.randperm(pool_size, generator=generator)[:n]


#: A pool of intervention values: a P×d tensor of codes (column ``j`` for latent ``j``), or one
#: 1-D tensor per latent (lengths may differ; ``None`` or a missing key: the prior for that latent),
#: as a sequence of d entries or a ``{latent: values}`` mapping, as the official ``interventions``.
Pool = torch.Tensor | Sequence[torch.Tensor | None] | Mapping[int, torch.Tensor]


def pool_columns(pool: Pool | None, latent_dim: int) -> list[torch.Tensor | None]:
    """The per-latent columns of ``pool`` (see :data:`Pool`): ``d`` float 1-D tensors or ``None``
    (the prior).

    Raises:
        ValueError: for a pool of the wrong width, an empty or non-finite column, or a latent
            index out of range.
        TypeError: for a pool of another kind.
    """
    d = int(latent_dim)
    if pool is None:
        return [None] * d
    if isinstance(pool, torch.Tensor):
        _check_latents(pool, d, "pool")
        return [pool[:, j].float() for j in range(d)]
    if isinstance(pool, Mapping):
        bad = [k for k in pool if isinstance(k, bool) or not isinstance(k, int) or not 0 <= k < d]
        if bad:
            raise ValueError(f"pool keys must be latent indices in [0, {d}), got {bad}")
        items: list[Any] = [pool.get(j) for j in range(d)]
    elif isinstance(pool, Sequence) and not isinstance(pool, str):
        if len(pool) != d:
            raise ValueError(f"a per-latent pool needs one entry per latent ({d}), got {len(pool)}")
        items = list(pool)
    else:
        raise TypeError(f"pool must be a P×d tensor, a sequence or a mapping of 1-D tensors, got {type(pool).__name__}")
    out: list[torch.Tensor | None] = []
    for j, v in enumerate(items):
        if v is None:
            out.append(None)
            continue
        t = torch.as_tensor(v, dtype=torch.float32).reshape(-1)
        if t.numel() == 0 or not bool(torch.isfinite(t).all()):
            raise ValueError(f"the pool of latent {j} must hold finite values, got {t.numel()} values")
        out.append(t)
    return out


def intervention_values(
    n: int,
    latent_dim: int,
    generator: torch.Generator | int,
    pool: Pool | None = None,
    *,
    avoid: torch.Tensor | None = None,
) -> torch.Tensor:
    """Intervention values for every latent at once: an n×d tensor whose column ``j`` holds the
    values ``v^(n)`` that ``do(z_j := v)`` uses.

    Args:
        n: number of samples.
        latent_dim: d.
        generator: the generator (or seed) of every draw.
        pool: ``None`` for the prior N(0, 1) (the default of the paper); a P×d tensor of codes
            (e.g. posterior means: the aggregate posterior) whose rows are drawn independently per
            latent, shuffled across the batch; or one pool per latent (:data:`Pool`, as the
            official ``interventions``), each drawn from in the same way, the prior where a
            latent has none.
        avoid: with a P×d pool, int64 (n,) indices of each sample's own row in ``pool``; the value
            for sample ``m`` is then drawn from a *different* row (``force_different``).

    Raises:
        ValueError: for a pool of the wrong shape, or ``avoid`` with a pool of one row or with
            per-latent pools.
    """
    gen = as_generator(generator)
    if pool is None:
        if avoid is not None:
            raise ValueError("avoid needs a pool to draw different rows from")
        return sample_prior(n, latent_dim, gen)
    if avoid is not None and not isinstance(pool, torch.Tensor):
        raise ValueError("avoid needs a P×d pool (rows shared by all latents), not per-latent pools")
    columns = pool_columns(pool, latent_dim)
    cols = []
    for col in columns:
        if col is None:
            cols.append(torch.randn(n, generator=gen))
        elif avoid is None:
            cols.append(col[_select_indices(n, col.numel(), gen)])
        else:
            p = col.numel()
            if p < 2:
                raise ValueError("force_different needs a pool of at least two codes")
            shift = torch.randint(p - 1, (n,), generator=gen)
            cols.append(col[(avoid + shift + 1) % p])
    return torch.stack(cols, dim=1).float()


# ---------------------------------------------------------------------------------------------
# the latent response matrix
# ---------------------------------------------------------------------------------------------
def response_matrix_from(
    autoencoder: Any,
    z: torch.Tensor,
    values: torch.Tensor,
    *,
    base_response: torch.Tensor | None = None,
    batch_size: BatchSize = "auto",
    full: bool = True,
) -> torch.Tensor:
    """The response matrix of given base latents and intervention values, in one batched pass.

    ``M[j, i] = sqrt( mean_n ( R(z̃ⱼ⁽ⁿ⁾)_i − R(z⁽ⁿ⁾)_i )² )`` with ``z̃ⱼ⁽ⁿ⁾ = z⁽ⁿ⁾`` except
    ``z̃ⱼ⁽ⁿ⁾_j = values[n, j]``. All d interventions are stacked into one (d·N)×d batch, so the
    model sees a few large batches instead of 2·d small ones, and ``R(z)`` is computed once.

    Args:
        autoencoder: anything with ``encode`` and ``decode``.
        z: base latents N×d.
        values: intervention values N×d (column ``j`` for latent ``j``).
        base_response: ``R(z)`` if already known (N×d).
        batch_size: the largest batch given to the model (:data:`BatchSize`; ``"auto"``: 128 on
            a CPU, 1024 on a GPU).
        full: the whole d×d matrix (True) or only its diagonal (False; a vector of d).

    Returns:
        A float32 d×d tensor (rows intervened, columns responding), or its diagonal.
    """
    _check_latents(z)
    n, d = z.shape
    _check_latents(values, d, "values")
    if values.shape[0] != n:
        raise ValueError(f"values must have one row per base latent ({n}), got {values.shape[0]}")
    r0 = response(autoencoder, z, batch_size) if base_response is None else base_response
    # (d, N, d): block j is z with column j replaced by values[:, j]
    zt = z.float().unsqueeze(0).repeat(d, 1, 1)
    idx = torch.arange(d)
    zt[idx, :, idx] = values.float().t()
    rt = response(autoencoder, zt.reshape(d * n, d), batch_size).reshape(d, n, d)
    diff2 = (rt - r0.unsqueeze(0)).pow(2).mean(1)  # (d intervened, d responding)
    m = diff2.sqrt()
    return m if full else m.diagonal().clone()


def response_matrix_loop(
    autoencoder: Any,
    z: torch.Tensor,
    values: torch.Tensor,
    *,
    batch_size: BatchSize = "auto",
) -> torch.Tensor:
    """The same matrix as :func:`response_matrix_from`, computed as the reference implementation
    does: one latent at a time, computing ``R(z)`` and ``R(z̃ⱼ)`` per latent (2·d model calls).

    Kept as the baseline of ``benchmarks/responses.py`` and to check the batched version.
    """
    _check_latents(z)
    n, d = z.shape
    _check_latents(values, d, "values")
    rows = []
    for j in range(d):
        z_int = intervene(z, j, values[:, j])
        s = response(autoencoder, z, batch_size)
        s_int = response(autoencoder, z_int, batch_size)
        rows.append((s_int - s).pow(2).mean(0).sqrt())
    return torch.stack(rows)


def response_matrix(
    autoencoder: Any,
    latent_dim: int | None = None,
    *,
    n_samples: int = 128,
    codes: torch.Tensor | None = None,
    pool: Pool | None = None,
    generator: torch.Generator | int = 0,
    batch_size: BatchSize = "auto",
    scale: Scale = "raw",
    std: torch.Tensor | None = None,
) -> torch.Tensor:
    """The latent response matrix ``M`` (d×d; rows = intervened latent, columns = responding).

    Base latents come from the prior N(0, I) (default) or are drawn from ``codes`` (e.g. the
    posterior means of a dataset: without replacement when there are enough, else with
    replacement). Intervention values come from the prior (default) or from ``pool``, drawn
    independently per latent (see :func:`intervention_values`). No normalisation: with the
    identity as ``R`` and prior interventions a diagonal entry is ≈ √2.

    Args:
        autoencoder: anything with ``encode`` (posterior mean) and ``decode``.
        latent_dim: number of latents (default: ``autoencoder.latent_dim``, or ``codes``' width).
        n_samples: N, the number of base latents.
        codes: optional P×d codes to draw the base latents from.
        pool: optional intervention values: Q×d codes, or one pool per latent (:data:`Pool`).
        generator: ``torch.Generator`` or seed of every draw (same seed, bit-identical matrix).
        batch_size: the largest batch given to the model (:data:`BatchSize`; ``"auto"``: 128 on
            a CPU, 1024 on a GPU).
        scale: ``"raw"`` (latent units, default) or ``"std"``: column ``i`` divided by the
            aggregate-posterior standard deviation of latent ``i`` (:func:`latent_std`), so that
            models whose latents have different spreads (an AE's codes can have std ≈ 5, a VAE's
            ≈ 1) can be compared on one scale.
        std: the standard deviations for ``scale="std"`` (d,); by default computed from
            ``codes`` (needed then).

    Returns:
        A float32 d×d tensor on the CPU.

    Raises:
        ValueError, TypeError: for bad shapes, NaN codes, a model without encode/decode.
        RuntimeError: if the model raises.
    """
    autoencoder = as_autoencoder(autoencoder)
    if latent_dim is None and codes is not None:
        latent_dim = int(codes.shape[1]) if codes.ndim == 2 else None
    d = latent_dim_of(autoencoder, latent_dim)
    if isinstance(n_samples, bool) or not isinstance(n_samples, int) or n_samples < 1:
        raise ValueError(f"n_samples must be a positive integer, got {n_samples!r}")
    gen = as_generator(generator)
    if codes is None:
        z = sample_prior(n_samples, d, gen)
    else:
        _check_latents(codes, d, "codes")
        z = codes[_select_indices(n_samples, codes.shape[0], gen)].float()
    if check_scale(scale) == "std" and std is None and codes is None:
        raise ValueError("scale='std' needs codes (posterior means) or std= to measure each latent's spread")
    values = intervention_values(n_samples, d, gen, pool)
    m = response_matrix_from(autoencoder, z, values, batch_size=batch_size)
    if scale == "std":
        m = rescale(m, latent_std(codes) if std is None else std)
    return m


# ---------------------------------------------------------------------------------------------
# conditioned response matrix and the causal disentanglement score
# ---------------------------------------------------------------------------------------------
@dataclass
class ConditionedResponses:
    """The conditioned response matrix and what it was computed from.

    Attributes:
        matrix: K×d float tensor; ``matrix[k, j]`` = response of latent ``j`` to interventions
            that move along factor ``k``.
        factor_names: names of the K factors (factors with a single value are left out).
        per_traversal: T×K×d diagonals of every traversal (``variant="mean"``) or T×K×d×d full
            matrices (``variant="minmax"``), in the units of ``scale``.
        variant: ``"mean"`` (published) or ``"minmax"`` (earlier).
        scale: ``"raw"`` (latent units) or ``"std"`` (each latent's response divided by its
            aggregate-posterior standard deviation, :attr:`std`).
        std: the standard deviation of each latent used by ``scale="std"`` (``None`` for raw).
        degenerate: ``None`` when the score means something; otherwise why it does not (a single
            factor, or traversals that change more than one thing). Show the score as degenerate
            then, not as a clean number.
    """

    matrix: torch.Tensor
    factor_names: tuple[str, ...]
    per_traversal: torch.Tensor
    variant: str
    scale: str = "raw"
    std: torch.Tensor | None = None
    degenerate: str | None = None

    @property
    def score(self) -> float:
        """The causal disentanglement score of :attr:`matrix` (check :attr:`degenerate`)."""
        return causal_disentanglement_score(self.matrix)


def degenerate_reason(dataset: Any, positions: Sequence[int]) -> str | None:
    """Why a CDS over ``dataset``'s factors at ``positions`` would say nothing about a model, or
    ``None`` when it can.

    Two cases: a single factor (every latent then responds to "one factor" and CDS is 1 by
    construction), and factors that do not identify the samples (several samples share a factor
    combination, e.g. digits with the label as the only factor), so the "traversal" of a factor
    also changes everything the factors do not record and is not a one-factor traversal.
    """
    reasons = []
    if len(positions) == 1:
        name = dataset.factor_names[positions[0]]
        reasons.append(f"only one factor ({name!r}): CDS is 1 for every model by construction")
    from invwidgets.data import mixed_radix_index  # data is left of methods: allowed

    codes = mixed_radix_index(dataset.factors, dataset.factor_sizes)
    distinct = int(torch.unique(codes).numel())
    if distinct < len(codes):
        reasons.append(
            f"the factors do not identify the samples ({len(codes)} samples, {distinct} factor combinations), "
            "so a traversal changes more than one factor"
        )
    return "; ".join(reasons) or None


def causal_disentanglement_score(conditioned: torch.Tensor | ConditionedResponses) -> float:
    """CDS = ``Σ_j max_k C[k, j] / Σ_{k,j} C[k, j]``, in ``[1/K, 1]``.

    Each latent counts in proportion to its total response; latents that respond to nothing drop
    out. 1 when every latent responds to exactly one factor; 1/K for a constant matrix. Invariant
    to permuting latents or factors and to a positive rescaling of ``C``.

    Raises:
        ValueError: for a matrix that is not K×d, has negative or non-finite entries, or sums to 0.
    """
    c = conditioned.matrix if isinstance(conditioned, ConditionedResponses) else conditioned
    c = torch.as_tensor(c, dtype=torch.float64)
    if c.ndim != 2 or c.shape[0] == 0 or c.shape[1] == 0:
        raise ValueError(f"the conditioned response matrix must be K×d, got shape {tuple(c.shape)}")
    if not bool(torch.isfinite(c).all()):
        raise ValueError("the conditioned response matrix contains NaN or infinite values")
    if bool((c < 0).any()):
        raise ValueError("the conditioned response matrix must be non-negative")
    total = float(c.sum())
    if total <= 0:
        raise ValueError("the conditioned response matrix is all zeros: no latent responds to any factor")
    return float(c.max(dim=0).values.sum()) / total


def _factor_positions(dataset: Any, factors: Sequence[str | int] | None) -> list[int]:
    if getattr(dataset, "factors", None) is None or getattr(dataset, "factor_sizes", None) is None:
        raise ValueError(f"dataset {getattr(dataset, 'name', '')!r} has no ground-truth factors")
    if factors is None:
        return [k for k, s in enumerate(dataset.factor_sizes) if s >= 2]
    out = [dataset.factor_index(f) for f in factors]
    small = [dataset.factor_names[k] for k in out if dataset.factor_sizes[k] < 2]
    if small:
        raise ValueError(f"factors {small} have a single value: there is nothing to traverse")
    return out


def _traversal_matrix(autoencoder: Any, q: torch.Tensor, rq: torch.Tensor, n_samples: int,
                      gen: torch.Generator, batch_size: BatchSize) -> torch.Tensor:
    """The d×d response matrix restricted to one traversal with codes ``q`` (L×d) and responses
    ``rq = R(q)``: per intervened latent ``j``, ``n_samples`` base codes and the intervention value
    from a *different* member of the traversal; all d interventions in one batched pass."""
    length, d = q.shape
    inds = torch.stack([_select_indices(n_samples, length, gen) for _ in range(d)])  # (d, n)
    shift = torch.randint(length - 1, (d, n_samples), generator=gen)
    other = (inds + shift + 1) % length
    jj = torch.arange(d)[:, None].expand(-1, n_samples)
    zt = q[inds]  # (d, n, d): a copy
    zt[jj, torch.arange(n_samples)[None, :].expand(d, -1), jj] = q[other, jj]
    rt = response(autoencoder, zt.reshape(-1, d), batch_size).reshape(d, n_samples, d)
    return (rt - rq[inds]).pow(2).mean(1).sqrt()  # (d intervened, d responding)


def _factor_matrices(autoencoder: Any, x_all: torch.Tensor, trav: torch.Tensor, n_samples: int,
                     gen: torch.Generator, batch_size: BatchSize, full: bool, progress: ProgressFn | None,
                     done: int, total: int, message: str) -> tuple[torch.Tensor, torch.Tensor]:
    """The restricted response matrices of the traversals ``trav`` (T×L indices) of one factor:
    (T, d) diagonals, or (T, d, d) full matrices when ``full``; and the codes of all T·L members.
    All traversals are encoded, and their ``R(Q)`` computed, in one batched pass."""
    n_traversals, length = trav.shape
    q_all = encode_mean(autoencoder, x_all[trav.reshape(-1)], batch_size)
    d = q_all.shape[1]
    r_all = response(autoencoder, q_all, batch_size).reshape(n_traversals, length, d)
    q = q_all.reshape(n_traversals, length, d)
    mats = []
    for t in range(n_traversals):
        m = _traversal_matrix(autoencoder, q[t], r_all[t], n_samples, gen, batch_size)
        mats.append(m if full else m.diagonal().clone())
        if progress is not None:
            progress(done + t + 1, total, message)
    return torch.stack(mats), q_all


def _check_counts(n_traversals: int, n_samples: int, variant: str) -> None:
    if variant not in ("mean", "minmax"):
        raise ValueError(f"variant must be 'mean' or 'minmax', got {variant!r}")
    for name, v in (("n_traversals", n_traversals), ("n_samples", n_samples)):
        if isinstance(v, bool) or not isinstance(v, int) or v < 1:
            raise ValueError(f"{name} must be a positive integer, got {v!r}")


def conditioned_response_matrix(
    autoencoder: Any,
    dataset: Any,
    *,
    n_traversals: int = 20,
    n_samples: int = 32,
    generator: torch.Generator | int = 0,
    factors: Sequence[str | int] | None = None,
    variant: str = "mean",
    batch_size: BatchSize = "auto",
    progress: ProgressFn | None = None,
    scale: Scale = "raw",
    std: torch.Tensor | None = None,
) -> ConditionedResponses:
    """The conditioned response matrix ``C`` (K×d) over exact one-factor traversals.

    For each factor ``k`` and each of ``n_traversals`` random base configurations: take the
    traversal of ``k`` (every value of ``k``, all other factors fixed), encode it to ``Q``, and
    compute a response matrix restricted to it: ``n_samples`` base codes drawn from ``Q`` (with
    replacement when ``Q`` is shorter) and, for latent ``j``, the intervention value taken from a
    *different* member of the same traversal. ``variant="mean"`` (the published one) keeps the
    diagonal and averages it over traversals; ``variant="minmax"`` (the earlier one) keeps the
    full matrices, takes the minimum over traversals and then the maximum over responding latents.

    Each factor's traversals are encoded (and ``R(Q)`` computed) in one pass, each traversal's d
    interventions in one pass.

    Args:
        autoencoder: anything with ``encode`` and ``decode``.
        dataset: a dataset with factors containing every traversal (e.g. a :func:`~invwidgets.data.scene_grid`).
        n_traversals: T, traversals per factor (50 in the paper's code, 20 in its notebook).
        n_samples: base codes per traversal.
        generator: ``torch.Generator`` or seed of every draw.
        factors: the factors to use (default: every factor with at least two values).
        variant: ``"mean"`` or ``"minmax"``.
        batch_size: the largest batch given to the model (:data:`BatchSize`; ``"auto"``: 128 on
            a CPU, 1024 on a GPU).
        progress: called as ``progress(done, total, message)`` after each traversal.
        scale: ``"raw"`` (default; latent units, as the paper) or ``"std"``: every response in
            units of the responding latent's aggregate-posterior standard deviation. CDS weights
            latents by their total response, so it changes with the scale; the paper's is raw.
        std: the standard deviations for ``scale="std"``; by default measured on all the codes
            of the traversals (uniformly drawn bases and their traversals).

    Returns:
        A :class:`ConditionedResponses`; its ``degenerate`` says when the score is meaningless
        (a single factor, or factors that do not identify the samples).
    """
    _check_counts(n_traversals, n_samples, variant)
    check_scale(scale)
    autoencoder = as_autoencoder(autoencoder)
    from invwidgets.data import random_traversals  # data is left of methods: allowed

    positions = _factor_positions(dataset, factors)
    if not positions:
        raise ValueError("the dataset has no factor with at least two values")
    gen = as_generator(generator)
    x_all = dataset[:][0]
    total = len(positions) * n_traversals
    per_factor, all_codes = [], []
    for i, k in enumerate(positions):
        mats, codes = _factor_matrices(autoencoder, x_all, random_traversals(dataset, k, n_traversals, gen),
                                       n_samples, gen, batch_size, variant == "minmax",
                                       progress, i * n_traversals, total, f"factor {dataset.factor_names[k]}")
        per_factor.append(mats)
        all_codes.append(codes)
    per = torch.stack(per_factor, dim=1)  # (T, K, d[, d])
    used_std = None if scale == "raw" else latent_std(torch.cat(all_codes)) if std is None else _as_std(std)
    per = per if used_std is None else rescale(per, used_std)
    matrix = per.mean(0) if variant == "mean" else per.min(dim=0).values.max(dim=-1).values
    return ConditionedResponses(
        matrix=matrix.float(),
        factor_names=tuple(dataset.factor_names[k] for k in positions),
        per_traversal=per,
        variant=variant,
        scale=scale,
        std=used_std,
        degenerate=degenerate_reason(dataset, positions),
    )
