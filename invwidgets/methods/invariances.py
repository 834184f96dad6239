"""Invariant transformations of a supervised VAE (docs/methods/invariances.md): keep ``z_c``, resample ``z_n``.

The model is anything with the supervised-VAE protocol of
:class:`~invwidgets.models.SupervisedVAE`: ``encode_dist(x) -> (mu, logvar)``, ``decode(z)``,
``classify(z_c)`` and the integer attributes ``d_c`` and ``d_n`` (``z = (z_c, z_n)``, ``z_c``
first). Every random draw takes an explicit ``torch.Generator``.

* :func:`aggregate_posterior` — the posterior means ``μ_n`` (and ``μ_c``) of a set of images, the
  pool that "aggregate posterior" sampling draws from;
* :func:`sample_nuisance` / :func:`sample_class` — codes from the prior ``N(0, I)`` or the pool;
* :func:`invariant_samples` — decode ``[μ_c(x), z_n^(k)]`` for K nuisance codes;
* :func:`nuisance_traversal`, :func:`nuisance_interpolation` — one nuisance dimension swept, or
  ``z_n`` interpolated between two inputs at the class code of the first;
* :func:`invariance_rates` — latent (exact), closed-loop and external label preservation, and
  the control that resamples ``z_c`` instead;
* :func:`nuisance_pixel_map` — ``∂ decode(z) / ∂ z_{n,j}``: the pixels a nuisance dimension moves.
"""

from __future__ import annotations

from collections.abc import Callable
from dataclasses import dataclass
from typing import Any, Literal

import torch
from torch import nn

from ..models.adapter import AutoencoderAdapter, as_autoencoder, as_classifier, check_finite

__all__ = [
    "InvariantSamples",
    "aggregate_posterior",
    "check_svae",
    "encode_split",
    "invariance_rates",
    "invariant_samples",
    "nuisance_interpolation",
    "nuisance_pixel_map",
    "nuisance_traversal",
    "sample_class",
    "sample_nuisance",
]

Source = Literal["prior", "posterior"]
_SOURCES = ("prior", "posterior")


def check_svae(model: Any) -> AutoencoderAdapter:
    """Raise a clear ``TypeError`` unless ``model`` follows the supervised-VAE protocol; return
    it wrapped once (:func:`~invwidgets.models.as_autoencoder`: device, dtype, errors)."""
    missing = [m for m in ("encode_dist", "decode", "classify") if not callable(getattr(model, m, None))]
    missing += [a for a in ("d_c", "d_n") if not isinstance(getattr(model, a, None), int)]
    if missing:
        raise TypeError(
            f"{type(model).__name__} is not a supervised VAE: it lacks {', '.join(missing)}. "
            "It needs encode_dist(x) -> (mu, logvar), decode(z), classify(z_c) and integer d_c, d_n "
            "(see invwidgets.models.SupervisedVAE)."
        )
    return as_autoencoder(model)


def _check_images(model: Any, x: Any, name: str = "x") -> torch.Tensor:
    if not isinstance(x, torch.Tensor):
        raise TypeError(f"{name} must be a torch.Tensor, got {type(x).__name__}")
    if not x.is_floating_point():
        raise TypeError(f"{name} must be a floating-point tensor, got dtype {x.dtype}")
    shape = getattr(model, "input_shape", None)
    if shape is not None and (x.ndim != len(shape) + 1 or tuple(x.shape[1:]) != tuple(shape)):
        raise ValueError(f"{name} must have shape (N, {', '.join(map(str, shape))}), got {tuple(x.shape)}")
    if x.ndim < 2 or x.shape[0] == 0:
        raise ValueError(f"{name} must be a non-empty batch N×..., got shape {tuple(x.shape)}")
    if not torch.isfinite(x).all():
        raise ValueError(f"{name} contains NaN or infinite values")
    return x


def _check_generator(generator: Any) -> torch.Generator:
    if not isinstance(generator, torch.Generator):
        raise TypeError(f"generator must be a torch.Generator, got {type(generator).__name__}")
    return generator


@torch.no_grad()
def encode_split(model: Any, x: torch.Tensor) -> tuple[torch.Tensor, torch.Tensor]:
    """Posterior means ``(μ_c, μ_n)`` of ``x``, shapes ``(N, d_c)`` and ``(N, d_n)``.

    Raises:
        TypeError, ValueError: for a model without the protocol or a bad input.
    """
    model = check_svae(model)
    x = _check_images(model, x)
    mu, _ = model.encode_dist(x)
    if mu.ndim != 2 or mu.shape[1] != model.d_c + model.d_n:
        raise ValueError(f"encode_dist returned means of shape {tuple(mu.shape)}, expected (N, {model.d_c + model.d_n})")
    return mu[:, : model.d_c], mu[:, model.d_c :]


@torch.no_grad()
def aggregate_posterior(model: Any, images: torch.Tensor, batch_size: int = 512) -> dict[str, torch.Tensor]:
    """The posterior means of ``images``: ``{"z_c": (N, d_c), "z_n": (N, d_n)}``.

    Sampling a row of ``z_n`` from this pool is sampling the aggregate posterior's means, the
    nuisance codes real images have.
    """
    model = check_svae(model)
    parts = [encode_split(model, images[i : i + batch_size]) for i in range(0, images.shape[0], batch_size)]
    return {"z_c": torch.cat([p[0] for p in parts]), "z_n": torch.cat([p[1] for p in parts])}


def _sample(dim: int, n: int, source: str, pool: torch.Tensor | None, generator: torch.Generator) -> torch.Tensor:
    _check_generator(generator)
    if source not in _SOURCES:
        raise ValueError(f"source must be one of {_SOURCES}, got {source!r}")
    if isinstance(n, bool) or not isinstance(n, int) or n < 1:
        raise ValueError(f"the number of samples must be a positive integer, got {n!r}")
    if source == "prior":
        return torch.randn(n, dim, generator=generator)
    if pool is None:
        raise ValueError("source='posterior' needs a pool of posterior means (see aggregate_posterior)")
    if pool.ndim != 2 or pool.shape[1] != dim or pool.shape[0] == 0:
        raise ValueError(f"the pool must have shape (M, {dim}) with M >= 1, got {tuple(pool.shape)}")
    idx = torch.randint(0, pool.shape[0], (n,), generator=generator)
    return pool[idx].detach().cpu().float()


def sample_nuisance(
    model: Any, n: int, generator: torch.Generator, source: Source = "prior", pool: torch.Tensor | None = None
) -> torch.Tensor:
    """``n`` nuisance codes ``(n, d_n)``: from ``N(0, I)`` or rows of ``pool`` (e.g.
    ``aggregate_posterior(...)["z_n"]``) drawn uniformly with replacement."""
    check_svae(model)
    return _sample(model.d_n, n, source, pool, generator)


def sample_class(
    model: Any, n: int, generator: torch.Generator, source: Source = "prior", pool: torch.Tensor | None = None
) -> torch.Tensor:
    """``n`` class codes ``(n, d_c)`` from the prior or a pool of ``μ_c`` (the control of
    :func:`invariance_rates`)."""
    check_svae(model)
    return _sample(model.d_c, n, source, pool, generator)


@dataclass
class InvariantSamples:
    """K invariant transformations of each of N inputs.

    Attributes:
        images: decoded samples ``(N, K, *image_shape)``.
        z: their latents ``(N, K, d_c + d_n)`` (``z_c`` repeated, ``z_n`` resampled).
        reconstruction: ``decode([μ_c, μ_n])`` of each input, ``(N, *image_shape)``.
        label: the latent classifier's prediction ``argmax h(μ_c)`` of each input, ``(N,)``.
    """

    images: torch.Tensor
    z: torch.Tensor
    reconstruction: torch.Tensor
    label: torch.Tensor


@torch.no_grad()
def invariant_samples(
    model: Any,
    x: torch.Tensor,
    k: int,
    generator: torch.Generator,
    source: Source = "prior",
    pool: torch.Tensor | None = None,
) -> InvariantSamples:
    """Decode ``[μ_c(x), z_n^(k)]`` for ``k`` nuisance codes per input (docs/methods/invariances.md, Invariant samples).

    Args:
        model: a supervised VAE.
        x: inputs ``(N, *input_shape)``.
        k: samples per input.
        generator: the source of every random draw.
        source: ``"prior"`` (``z_n ~ N(0, I)``) or ``"posterior"`` (rows of ``pool``).
        pool: posterior means ``μ_n`` of other images, for ``source="posterior"``.
    """
    model = check_svae(model)
    z_c, z_n = encode_split(model, x)
    n = x.shape[0]
    new_n = sample_nuisance(model, n * k, generator, source, pool).to(z_c).reshape(n, k, model.d_n)
    z = torch.cat([z_c[:, None].expand(n, k, model.d_c), new_n], dim=2)
    images = model.decode(z.reshape(n * k, -1))
    recon = model.decode(torch.cat([z_c, z_n], 1))
    label = model.classify(z_c).argmax(1)
    return InvariantSamples(images.reshape(n, k, *images.shape[1:]), z, recon, label)


@torch.no_grad()
def nuisance_traversal(
    model: Any, x: torch.Tensor, dim: int, values: torch.Tensor | None = None, steps: int = 7, span: float = 3.0
) -> torch.Tensor:
    """Decode one input with nuisance dimension ``dim`` swept over ``values`` (default
    ``linspace(-span, span, steps)``), every other dimension at its posterior mean.

    Returns:
        ``(len(values), *image_shape)``.

    Raises:
        IndexError: if ``dim`` is not in ``[0, d_n)``.
    """
    model = check_svae(model)
    z_c, z_n = encode_split(model, x[:1] if x.ndim >= 2 else x)
    if isinstance(dim, bool) or not isinstance(dim, int) or not 0 <= dim < model.d_n:
        raise IndexError(f"nuisance dimension {dim!r} out of range [0, {model.d_n})")
    vals = torch.linspace(-span, span, steps) if values is None else torch.as_tensor(values, dtype=torch.float32).flatten()
    z_n = z_n.repeat(len(vals), 1)
    z_n[:, dim] = vals.to(z_n.device)
    return model.decode(torch.cat([z_c.expand(len(vals), -1), z_n], 1))


@torch.no_grad()
def nuisance_interpolation(model: Any, x_a: torch.Tensor, x_b: torch.Tensor, steps: int = 7) -> torch.Tensor:
    """Keep ``μ_c(x_a)`` and interpolate ``z_n`` linearly from ``μ_n(x_a)`` to ``μ_n(x_b)``: the
    style of ``x_b`` carried onto the class of ``x_a``.

    Args:
        x_a, x_b: single inputs ``(1, *input_shape)``.
        steps: number of images, ≥ 2 (the first is the reconstruction of ``x_a``).

    Returns:
        ``(steps, *image_shape)``.
    """
    if steps < 2:
        raise ValueError(f"steps must be at least 2, got {steps}")
    model = check_svae(model)
    za_c, za_n = encode_split(model, x_a)
    _, zb_n = encode_split(model, x_b)
    if za_c.shape[0] != 1 or zb_n.shape[0] != 1:
        raise ValueError("nuisance_interpolation takes one input each: shapes (1, ...)")
    t = torch.linspace(0, 1, steps, device=za_n.device)[:, None]
    z_n = (1 - t) * za_n + t * zb_n
    return model.decode(torch.cat([za_c.expand(steps, -1), z_n], 1))


def _predict(classifier: Callable[[torch.Tensor], torch.Tensor], x: torch.Tensor, batch_size: int) -> torch.Tensor:
    return as_classifier(classifier).logits(x, batch_size).argmax(1)


def _closed_loop(model: Any) -> Callable[[torch.Tensor], torch.Tensor]:
    def classify(x: torch.Tensor) -> torch.Tensor:
        mu, _ = model.encode_dist(x)
        return model.classify(mu[:, : model.d_c])

    return classify


@torch.no_grad()
def invariance_rates(
    model: Any,
    x: torch.Tensor,
    generator: torch.Generator,
    k: int = 16,
    external: nn.Module | Callable[[torch.Tensor], torch.Tensor] | None = None,
    source: Source = "prior",
    pool: dict[str, torch.Tensor] | None = None,
    batch_size: int = 1024,
) -> dict[str, float]:
    """Label preservation of invariant samples (docs/methods/invariances.md, Invariance rates).

    The reference label of each input is the latent classifier's prediction ``argmax h(μ_c(x))``.
    For ``k`` samples per input with ``z_n`` resampled (``z_c`` kept):

    * ``latent``: fraction whose ``h(z_c)`` predicts the reference (1.0 by construction);
    * ``closed_loop``: re-encode the decoded sample and classify ``h(μ_c(x'))``;
    * ``external``: classify the decoded sample with ``external`` (if given);

    and the control, ``z_c`` resampled (``z_n`` kept): ``control_closed_loop`` and
    ``control_external``. A model that puts class information in ``z_c`` only has
    ``closed_loop`` high and ``control_closed_loop`` near chance.

    Args:
        model: a supervised VAE.
        x: inputs ``(N, *input_shape)``.
        generator: the source of every random draw (nuisance codes first, then class codes).
        k: samples per input.
        external: an independent classifier (logits out), e.g. the baseline CNN.
        source: ``"prior"`` or ``"posterior"`` for both resamplings.
        pool: ``aggregate_posterior(...)`` of other images, for ``source="posterior"``.

    Returns:
        ``{"latent", "closed_loop", "control_closed_loop"}`` (+ ``"external"`` and
        ``"control_external"`` with an external classifier), each a fraction in [0, 1].
    """
    model = check_svae(model)
    if source == "posterior" and pool is None:
        raise ValueError("source='posterior' needs pool=aggregate_posterior(model, other_images)")
    samples = invariant_samples(model, x, k, generator, source, None if pool is None else pool["z_n"])
    n = x.shape[0]
    ref = samples.label.cpu().repeat_interleave(k)
    flat = samples.images.reshape(n * k, *samples.images.shape[2:])
    z_flat = samples.z.reshape(n * k, -1)
    latent = model.classify(z_flat[:, : model.d_c]).argmax(1).cpu()
    closed = _predict(_closed_loop(model), flat, batch_size)
    out = {"latent": float((latent == ref).float().mean()), "closed_loop": float((closed == ref).float().mean())}

    _, z_n = encode_split(model, x)
    new_c = sample_class(model, n * k, generator, source, None if pool is None else pool["z_c"]).to(z_n)
    control = model.decode(torch.cat([new_c, z_n.repeat_interleave(k, 0)], 1))
    out["control_closed_loop"] = float((_predict(_closed_loop(model), control, batch_size) == ref).float().mean())
    if external is not None:
        if isinstance(external, nn.Module):
            external.eval()
        out["external"] = float((_predict(external, flat, batch_size) == ref).float().mean())
        out["control_external"] = float((_predict(external, control, batch_size) == ref).float().mean())
    return out


def nuisance_pixel_map(model: Any, z: torch.Tensor, dim: int) -> torch.Tensor:
    """``∂ decode(z) / ∂ z_{n, dim}`` at a single latent ``z`` (``(d_c + d_n,)`` or ``(1, d)``):
    the image regions nuisance dimension ``dim`` controls, with sign, shape ``image_shape``.

    Computed as a forward-mode Jacobian-vector product with the unit vector of that dimension.

    Raises:
        IndexError: if ``dim`` is not in ``[0, d_n)``.
    """
    model = check_svae(model)
    if isinstance(dim, bool) or not isinstance(dim, int) or not 0 <= dim < model.d_n:
        raise IndexError(f"nuisance dimension {dim!r} out of range [0, {model.d_n})")
    z = model.prepare(torch.as_tensor(z, dtype=torch.float32)).reshape(1, -1)
    if z.shape[1] != model.d_c + model.d_n:
        raise ValueError(f"z must have {model.d_c + model.d_n} values, got {z.shape[1]}")
    tangent = torch.zeros_like(z)
    tangent[0, model.d_c + dim] = 1.0
    # no finiteness check inside the transform (data-dependent control flow); checked after
    _, jvp = torch.func.jvp(lambda v: model.decode(v, check=False), (z,), (tangent,))
    return check_finite(jvp[0].detach(), f"the Jacobian-vector product of {model.name}.decode(z)")
