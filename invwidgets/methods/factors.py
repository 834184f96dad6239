"""IIN methods over tensors: losses, sampling, factor edits, sensitivity and factor dimensions.

``iin`` below is a :class:`~invwidgets.models.iin.FactorIIN` (or any module with
``forward(z) -> (T(z), logdet)``, ``reverse(w)`` and, for named factors, ``factor_slice``).
``z`` are N×dim representations of a frozen model ``f = G ∘ E``; see docs/methods/factors.md.

Losses (docs/methods/factors.md, Losses):

* :func:`unsupervised_nll` — ``½‖T(z)‖² − log|det J_T(z)|`` (+ the Gaussian normaliser when
  ``exact``), the negative log-likelihood of ``z`` when ``T(z) ~ N(0, I)``;
* :func:`pair_log_likelihood` / :func:`pair_nll` — pairs ``(z^a, z^b)`` whose shared factors are
  given by an explicit boolean mask: the shared dimensions of ``T(z^b)`` are
  ``N(ρ·T(z^a), (1 − ρ²) I)``, all others ``N(0, 1)``. ``exact=True`` keeps every normaliser, so
  ``exp(pair_log_likelihood)`` is a density of ``(z^a, z^b)``.

Every random draw takes a ``torch.Generator``.
"""

from __future__ import annotations

import math
from collections.abc import Callable, Mapping, Sequence
from typing import Any

import torch
from torch import nn

from ..models.adapter import as_classifier, as_model, module_device, module_dtype

__all__ = [
    "LOG_2PI",
    "unsupervised_nll",
    "log_likelihood",
    "shared_dims",
    "pair_log_likelihood",
    "pair_nll",
    "sample",
    "swap_factors",
    "interpolate_factor",
    "interpolate_latent",
    "resample_factor",
    "factor_sensitivity",
    "sensitivity_table",
    "factor_scores",
    "estimate_factor_dims",
    "factor_shares",
    "SequentialSplit",
    "train_iin",
]

LOG_2PI = math.log(2.0 * math.pi)


def _check_z(z: Any, dim: int | None = None, what: str = "z") -> torch.Tensor:
    if not isinstance(z, torch.Tensor):
        raise TypeError(f"{what} must be a torch.Tensor, got {type(z).__name__}")
    if not z.is_floating_point():
        raise TypeError(f"{what} must be a floating-point tensor, got dtype {z.dtype}")
    if z.ndim != 2 or (dim is not None and z.shape[1] != dim):
        want = "N×d" if dim is None else f"(N, {dim})"
        raise ValueError(f"{what} must have shape {want}, got {tuple(z.shape)}")
    if not bool(torch.isfinite(z).all()):
        raise ValueError(f"{what} contains NaN or infinite values")
    return z


def _dim(iin: nn.Module) -> int:
    dim = getattr(iin, "dim", None)
    if not isinstance(dim, int):
        raise TypeError(f"{type(iin).__name__} is not an IIN: it has no integer attribute 'dim'")
    return dim


def _as_iin_input(iin: nn.Module, z: torch.Tensor, what: str = "z") -> torch.Tensor:
    z = _check_z(z, _dim(iin), what)
    return z.to(device=module_device(iin), dtype=module_dtype(iin))


def unsupervised_nll(iin: nn.Module, z: torch.Tensor, exact: bool = False) -> torch.Tensor:
    """Per-sample ``½‖T(z)‖² − log|det J_T(z)|`` (``+ (dim/2)·log 2π`` when ``exact``), shape ``(N,)``.

    The batch loss of the unsupervised (Gaussianising) IIN is its mean.
    """
    z = _as_iin_input(iin, z)
    w, logdet = iin(z)
    nll = 0.5 * w.pow(2).sum(1) - logdet
    if exact:
        nll = nll + 0.5 * w.shape[1] * LOG_2PI
    return nll


def log_likelihood(iin: nn.Module, z: torch.Tensor) -> torch.Tensor:
    """Exact ``log p(z)`` when ``T(z) ~ N(0, I)``: ``−unsupervised_nll(iin, z, exact=True)``."""
    return -unsupervised_nll(iin, z, exact=True)


def shared_dims(iin: nn.Module, shared: torch.Tensor) -> torch.Tensor:
    """Per-pair boolean masks over the ``dim`` output columns from per-pair factor masks.

    Args:
        iin: a :class:`~invwidgets.models.iin.FactorIIN`.
        shared: bool ``(B, K)``: ``shared[i, k]`` says pair ``i`` shares factor ``k`` (``K`` =
            number of factors, the residual included), or already a ``(B, dim)`` column mask.

    Returns:
        Bool ``(B, dim)``.
    """
    if not isinstance(shared, torch.Tensor) or shared.dtype != torch.bool:
        raise TypeError("shared must be a boolean tensor (B, n_factors) of explicit masks")
    dim = _dim(iin)
    sizes = getattr(iin, "factor_sizes", None)
    if shared.ndim == 2 and sizes is not None and shared.shape[1] == len(sizes) and len(sizes) != dim:
        return shared.repeat_interleave(torch.as_tensor(sizes, device=shared.device), dim=1)
    if shared.ndim == 2 and shared.shape[1] == dim:
        return shared
    k = "?" if sizes is None else len(sizes)
    raise ValueError(f"shared must have shape (B, {k}) (factors) or (B, {dim}) (columns), got {tuple(shared.shape)}")


def pair_log_likelihood(
    iin: nn.Module,
    z_a: torch.Tensor,
    z_b: torch.Tensor,
    shared: torch.Tensor,
    rho: float = 0.975,
    exact: bool = True,
) -> torch.Tensor:
    """Per-pair ``log p(z^a, z^b)`` under the IIN's pair model (docs/methods/factors.md, Losses).

    ``T(z^a) ~ N(0, I)``; on the shared columns ``T(z^b) | T(z^a) ~ N(ρ T(z^a), (1 − ρ²) I)``;
    elsewhere ``T(z^b) ~ N(0, I)``; plus both log-determinants. With ``exact=False`` the
    constants ``dim·log 2π`` and ``½·n_shared·log(1 − ρ²)`` are dropped, as in the official code.

    Args:
        iin: the IIN.
        z_a, z_b: ``(B, dim)`` representations of the two images of each pair.
        shared: bool ``(B, n_factors)`` explicit masks of the shared factors (see
            :func:`shared_dims`); an all-False row is an unrelated pair.
        rho: correlation of the shared factors, in [0, 1).
        exact: keep every normaliser (a proper density).

    Returns:
        Shape ``(B,)``.

    Raises:
        ValueError: for ``rho`` outside [0, 1) or shapes that do not match.
    """
    if not 0.0 <= float(rho) < 1.0:
        raise ValueError(f"rho must be in [0, 1), got {rho!r}")
    z_a = _as_iin_input(iin, z_a, "z_a")
    z_b = _as_iin_input(iin, z_b, "z_b")
    if z_a.shape != z_b.shape:
        raise ValueError(f"z_a and z_b must have the same shape, got {tuple(z_a.shape)} and {tuple(z_b.shape)}")
    mask = shared_dims(iin, shared).to(z_a.device)
    if mask.shape[0] != z_a.shape[0]:
        raise ValueError(f"shared has {mask.shape[0]} rows for {z_a.shape[0]} pairs")
    w_a, ld_a = iin(z_a)
    w_b, ld_b = iin(z_b)
    rho = float(rho)
    var = 1.0 - rho * rho
    m = mask.to(w_a.dtype)
    free = 0.5 * (w_b.pow(2) * (1.0 - m)).sum(1)
    tied = 0.5 * ((w_b - rho * w_a).pow(2) * m).sum(1) / var
    ll = -(0.5 * w_a.pow(2).sum(1)) + ld_a - free - tied + ld_b
    if exact:
        ll = ll - w_a.shape[1] * LOG_2PI - 0.5 * m.sum(1) * math.log(var)
    return ll


def pair_nll(
    iin: nn.Module,
    z_a: torch.Tensor,
    z_b: torch.Tensor,
    shared: torch.Tensor,
    rho: float = 0.975,
    exact: bool = True,
) -> torch.Tensor:
    """The supervised pair loss: the mean over pairs of ``−pair_log_likelihood(...)`` (a scalar)."""
    return -pair_log_likelihood(iin, z_a, z_b, shared, rho=rho, exact=exact).mean()


def _check_generator(generator: Any) -> torch.Generator:
    if not isinstance(generator, torch.Generator):
        raise TypeError(f"generator must be a torch.Generator, got {type(generator).__name__}")
    return generator


def _randn(shape: tuple[int, ...], generator: torch.Generator, like: torch.Tensor | None, dtype: torch.dtype) -> torch.Tensor:
    eps = torch.randn(shape, generator=generator, dtype=dtype, device=generator.device)
    return eps if like is None else eps.to(like.device)


@torch.no_grad()
def sample(
    iin: nn.Module,
    n: int,
    generator: torch.Generator,
    decoder: Callable[[torch.Tensor], torch.Tensor] | None = None,
) -> torch.Tensor:
    """``T⁻¹(ε)`` for ``ε ~ N(0, I)`` drawn from ``generator`` (``n × dim``), decoded when a
    ``decoder`` is given: ``D(T⁻¹(ε))``, the unsupervised IIN as a generator."""
    _check_generator(generator)
    if isinstance(n, bool) or not isinstance(n, int) or n < 1:
        raise ValueError(f"n must be a positive integer, got {n!r}")
    eps = _randn((n, _dim(iin)), generator, None, module_dtype(iin))
    z = iin.reverse(eps.to(module_device(iin)))
    if decoder is None:
        return z
    dec = as_model(decoder)
    return dec.call(dec.module, z, what=f"{dec.name}(z)", verb="decode",
                    hint="a decoder that returns images (or invwidgets.models.as_model)")


def _slices(iin: nn.Module, factors: Sequence[str | int] | str | int) -> list[slice]:
    if isinstance(factors, (str, int)):
        factors = [factors]
    if not hasattr(iin, "factor_slice"):
        raise TypeError(f"{type(iin).__name__} has no named factors (use a FactorIIN)")
    return [iin.factor_slice(f) for f in factors]


@torch.no_grad()
def swap_factors(
    iin: nn.Module, z_target: torch.Tensor, z_source: torch.Tensor, factors: Sequence[str | int] | str | int
) -> torch.Tensor:
    """``T⁻¹(w)`` where ``w = T(z_target)`` with the chunks of ``factors`` taken from ``T(z_source)``.

    ``z_target`` and ``z_source`` are ``(B, dim)`` (a single ``(1, dim)`` source broadcasts).
    Returns ``(B, dim)`` in the IIN's dtype.
    """
    z_t = _as_iin_input(iin, z_target, "z_target")
    z_s = _as_iin_input(iin, z_source, "z_source")
    if z_s.shape[0] == 1 and z_t.shape[0] > 1:
        z_s = z_s.expand_as(z_t)
    if z_s.shape != z_t.shape:
        raise ValueError(f"z_source {tuple(z_s.shape)} does not match z_target {tuple(z_t.shape)}")
    w_t = iin(z_t)[0].clone()
    w_s = iin(z_s)[0]
    for sl in _slices(iin, factors):
        w_t[:, sl] = w_s[:, sl]
    return iin.reverse(w_t)


@torch.no_grad()
def interpolate_factor(
    iin: nn.Module, z_a: torch.Tensor, z_b: torch.Tensor, factor: str | int, alphas: Sequence[float] | torch.Tensor
) -> torch.Tensor:
    """Walk one factor from ``z^a`` to ``z^b`` in the IIN's space, the others fixed at ``z^a``'s.

    Args:
        z_a, z_b: ``(dim,)`` or ``(1, dim)`` representations.
        factor: the factor to interpolate.
        alphas: the interpolation weights (0 → ``z^a``).

    Returns:
        ``(len(alphas), dim)``: ``T⁻¹`` of ``T(z^a)`` with factor ``k`` at
        ``(1 − α)·T(z^a)_k + α·T(z^b)_k``.
    """
    z_a = _as_iin_input(iin, z_a.reshape(1, -1), "z_a")
    z_b = _as_iin_input(iin, z_b.reshape(1, -1), "z_b")
    a = torch.as_tensor(alphas, dtype=z_a.dtype, device=z_a.device).reshape(-1, 1)
    w_a, w_b = iin(z_a)[0], iin(z_b)[0]
    w = w_a.repeat(a.shape[0], 1)
    (sl,) = _slices(iin, factor)
    w[:, sl] = (1 - a) * w_a[:, sl] + a * w_b[:, sl]
    return iin.reverse(w)


def interpolate_latent(z_a: torch.Tensor, z_b: torch.Tensor, alphas: Sequence[float] | torch.Tensor) -> torch.Tensor:
    """The same walk done linearly in ``z``: ``(1 − α)·z^a + α·z^b``, shape ``(len(alphas), dim)``."""
    z_a = _check_z(z_a.reshape(1, -1), what="z_a")
    z_b = _check_z(z_b.reshape(1, -1), z_a.shape[1], "z_b")
    a = torch.as_tensor(alphas, dtype=z_a.dtype, device=z_a.device).reshape(-1, 1)
    return (1 - a) * z_a + a * z_b


@torch.no_grad()
def resample_factor(
    iin: nn.Module, z: torch.Tensor, factor: str | int, n: int, generator: torch.Generator
) -> torch.Tensor:
    """``n`` copies of each ``z`` with factor ``k`` of ``T(z)`` redrawn from ``N(0, I)``.

    Args:
        z: ``(B, dim)`` (or ``(dim,)``).
        factor: the factor to resample.
        n: samples per input.
        generator: source of the new factor values.

    Returns:
        ``(B, n, dim)`` (``(n, dim)`` for a single ``(dim,)`` input).
    """
    _check_generator(generator)
    if isinstance(n, bool) or not isinstance(n, int) or n < 1:
        raise ValueError(f"n must be a positive integer, got {n!r}")
    single = isinstance(z, torch.Tensor) and z.ndim == 1
    z = _as_iin_input(iin, z.reshape(1, -1) if single else z)
    (sl,) = _slices(iin, factor)
    w = iin(z)[0]
    b, dim = w.shape
    w = w[:, None, :].repeat(1, n, 1)
    w[:, :, sl] = _randn((b, n, sl.stop - sl.start), generator, w, w.dtype)
    out = iin.reverse(w.reshape(b * n, dim)).reshape(b, n, dim)
    return out[0] if single else out


@torch.no_grad()
def factor_sensitivity(
    iin: nn.Module,
    z: torch.Tensor,
    head: Callable[[torch.Tensor], torch.Tensor],
    factor: str | int,
    n: int,
    generator: torch.Generator,
) -> tuple[torch.Tensor, torch.Tensor]:
    """How a classifier head responds when one factor is resampled (docs/methods/factors.md, Sensitivity of a classifier to a factor).

    For each input, factor ``k`` is resampled ``n`` times, mapped back with ``T⁻¹`` and passed
    through ``head`` (logits); the result is the standard deviation (ddof 0) of the predicted
    labels.

    Returns:
        ``(std, labels)``: ``std`` of shape ``(B,)`` and the predicted labels ``(B, n)``.
    """
    zs = resample_factor(iin, z, factor, n, generator)
    b, n_, dim = zs.shape
    logits = as_classifier(head).logits(zs.reshape(b * n_, dim))
    labels = logits.argmax(1).reshape(b, n_)
    return labels.double().std(1, unbiased=False), labels


def sensitivity_table(
    iin: nn.Module,
    z: torch.Tensor,
    head: Callable[[torch.Tensor], torch.Tensor],
    n: int,
    generator: torch.Generator,
) -> dict[str, float]:
    """``{factor name: mean over inputs of the std of predicted labels}`` for every factor."""
    names = getattr(iin, "factor_names", None)
    if names is None:
        raise TypeError(f"{type(iin).__name__} has no named factors (use a FactorIIN)")
    return {name: float(factor_sensitivity(iin, z, head, name, n, generator)[0].mean()) for name in names}


def factor_scores(z_all: torch.Tensor, pairs: Mapping[str, tuple[torch.Tensor, torch.Tensor]]) -> dict[str, float]:
    """``s_F = Σ_i Cov_pairs(z^a_i, z^b_i) / Σ_i Var(z_i)`` for each factor (docs/methods/factors.md, Factor dimensions).

    The covariance is taken over the pairs that share ``F``, around the pooled mean of both
    members; the variance over all of ``z_all``.

    Args:
        z_all: ``(M, dim)`` representations of all images.
        pairs: ``{factor name: (z^a, z^b)}``, each ``(P, dim)``, pairs sharing that factor.
    """
    z_all = _check_z(z_all, what="z_all").double()
    total_var = z_all.var(0, unbiased=False).sum()
    if not float(total_var) > 0:
        raise ValueError("z_all has zero variance: every representation is the same")
    scores: dict[str, float] = {}
    for name, (za, zb) in pairs.items():
        za = _check_z(za, z_all.shape[1], f"pairs[{name!r}][0]").double()
        zb = _check_z(zb, z_all.shape[1], f"pairs[{name!r}][1]").double()
        if za.shape != zb.shape or za.shape[0] < 2:
            raise ValueError(f"pairs[{name!r}] must be two (P, dim) tensors with P >= 2")
        mean = torch.cat([za, zb]).mean(0)
        cov = ((za - mean) * (zb - mean)).mean(0).sum()
        scores[name] = float(cov / total_var)
    return scores


def factor_shares(scores: Mapping[str, float]) -> dict[str, float]:
    """``softmax(s)``: the fraction of the representation each factor gets (before flooring).

    ``scores`` as returned by :func:`estimate_factor_dims` (residual included). Useful to compare
    models when ``N`` is small and the floored sizes are coarse.
    """
    s = torch.tensor(list(scores.values()), dtype=torch.float64)
    return dict(zip(scores.keys(), torch.softmax(s, 0).tolist()))


def estimate_factor_dims(
    z_all: torch.Tensor,
    pairs: Mapping[str, tuple[torch.Tensor, torch.Tensor]],
    residual_score: float = 1.0,
) -> tuple[list[int], dict[str, float]]:
    """Factor sizes ``N_F = ⌊softmax(s)_F · dim⌋`` from :func:`factor_scores`; the residual
    (score ``residual_score``, last) takes the remainder (docs/methods/factors.md, Factor dimensions).

    Returns:
        ``(sizes, scores)``: sizes in the order of ``pairs`` then the residual (summing to
        ``dim``), and the scores (with ``"residual"``).
    """
    scores = factor_scores(z_all, pairs)
    dim = z_all.shape[1]
    s = torch.tensor([*scores.values(), float(residual_score)], dtype=torch.float64)
    share = torch.softmax(s, 0)
    sizes = [int(math.floor(float(p) * dim)) for p in share[:-1]]
    sizes.append(dim - sum(sizes))
    return sizes, {**scores, "residual": float(residual_score)}


class SequentialSplit(nn.Module):
    """Split a model whose ``forward`` applies its top-level children in order at a layer.

    ``E`` (:meth:`encode`) runs the modules up to and including ``layer``; ``G`` (:meth:`head`)
    runs the rest. Containers of type ``nn.Sequential`` and ``nn.ModuleList`` are entered, so
    ``layer`` may be a path like ``"features.3"``; an ``nn.ModuleDict`` (no order to chain) is
    refused. The split is checked on ``example`` (``G(E(x))`` must equal
    ``model(x)``), so a model whose ``forward`` is not a plain chain is rejected.

    This is how an IIN is attached to a layer of one's own classifier: train the IIN on
    ``split.encode(x)`` and analyse ``split.head(T⁻¹(...))``.

    Raises:
        ValueError: for an unknown layer, a child that is a container without a forward
            (``nn.ModuleDict``, ``nn.ModuleList``), or when ``G(E(x))`` fails or differs from
            ``model(x)`` on ``example``.
    """

    def __init__(self, model: nn.Module, layer: str, example: torch.Tensor) -> None:
        super().__init__()
        flat: list[tuple[str, nn.Module]] = []

        def walk(prefix: str, module: nn.Module) -> None:
            for name, child in module.named_children():
                path = f"{prefix}{name}"
                if isinstance(child, (nn.Sequential, nn.ModuleList)):
                    walk(path + ".", child)
                elif isinstance(child, (nn.ModuleDict, nn.ParameterDict, nn.ParameterList)):
                    raise ValueError(
                        f"{type(model).__name__}.{path} is a {type(child).__name__}, a container without a forward: "
                        f"{type(model).__name__}.forward is not the chain of its layers; write E and G by hand"
                    )
                else:
                    flat.append((path, child))

        walk("", model)
        names = [n for n, _ in flat]
        if layer not in names:
            raise ValueError(f"unknown layer {layer!r}; layers in order: {names}")
        cut = names.index(layer) + 1
        self.layer = layer
        self.model = model
        self._encoder = nn.ModuleList([m for _, m in flat[:cut]])
        self._head = nn.ModuleList([m for _, m in flat[cut:]])
        try:
            with torch.no_grad():
                want = model(example)
                got = self.head(self.encode(example))
        except Exception as exc:
            raise ValueError(
                f"{type(model).__name__}.forward is not the chain of its layers: running them in order on the example "
                f"raised {type(exc).__name__}: {exc}; write E and G by hand"
            ) from exc
        if not isinstance(want, torch.Tensor) or want.shape != got.shape or not torch.allclose(want, got, atol=1e-5):
            raise ValueError(
                f"{type(model).__name__}.forward is not the chain of its layers: head(encode(x)) != model(x); "
                "write E and G by hand"
            )

    def encode(self, x: torch.Tensor) -> torch.Tensor:
        """``E(x)``: the output of ``layer``, flattened to ``(N, dim)``."""
        for m in self._encoder:
            x = m(x)
        return x.reshape(x.shape[0], -1)

    def head(self, z: torch.Tensor) -> torch.Tensor:
        """``G(z)``: the rest of the model applied to a representation."""
        for m in self._head:
            z = m(z)
        return z

    def forward(self, x: torch.Tensor) -> torch.Tensor:
        """``G(E(x))``."""
        return self.head(self.encode(x))


def train_iin(
    iin: nn.Module,
    batches: Callable[[int, torch.Generator], tuple[torch.Tensor, torch.Tensor | None, torch.Tensor | None]],
    steps: int,
    generator: torch.Generator,
    lr: float = 1e-3,
    rho: float = 0.975,
    progress: Callable[[int, int, float], None] | None = None,
    clip: float = 10.0,
) -> list[float]:
    """Train an IIN with Adam (betas 0.5, 0.9) and a linear lr decay over the second half.

    Args:
        iin: the IIN (trained in place; ActNorm layers initialise on the first batch).
        batches: ``batches(step, generator) -> (z_a, z_b, shared)``. With ``z_b = None`` the
            step uses :func:`unsupervised_nll` on ``z_a``; otherwise :func:`pair_nll` with the
            boolean factor masks ``shared``.
        steps: number of optimisation steps.
        generator: passed to ``batches`` (every random draw of training comes from it).
        lr: learning rate; ``rho``: correlation of shared factors.
        progress: ``progress(step, steps, loss)``, called after each step; it may raise to stop
            (e.g. the worker's cancellation).
        clip: gradient-norm clipping.

    Returns:
        The loss of every step.
    """
    _check_generator(generator)
    if isinstance(steps, bool) or not isinstance(steps, int) or steps < 1:
        raise ValueError(f"steps must be a positive integer, got {steps!r}")
    opt = torch.optim.Adam(iin.parameters(), lr=float(lr), betas=(0.5, 0.9))
    half = steps // 2
    sched = torch.optim.lr_scheduler.LambdaLR(
        opt, lambda s: 1.0 if s < half else max(0.0, (steps - s) / max(1, steps - half))
    )
    iin.train()
    losses: list[float] = []
    for step in range(steps):
        z_a, z_b, shared = batches(step, generator)
        if step == 0:
            with torch.no_grad():  # data-dependent ActNorm initialisation on the first batch
                iin(_as_iin_input(iin, z_a if z_b is None else torch.cat([z_a, z_b])))
        if z_b is None:
            loss = unsupervised_nll(iin, z_a).mean()
        else:
            loss = pair_nll(iin, z_a, z_b, shared, rho=rho, exact=False)
        if not bool(torch.isfinite(loss)):
            raise FloatingPointError(f"IIN loss became {float(loss)} at step {step}; lower lr or check inputs")
        opt.zero_grad(set_to_none=True)
        loss.backward()
        nn.utils.clip_grad_norm_(iin.parameters(), clip)
        opt.step()
        sched.step()
        losses.append(float(loss.detach()))
        if progress is not None:
            progress(step + 1, steps, losses[-1])
    iin.eval()
    return losses
