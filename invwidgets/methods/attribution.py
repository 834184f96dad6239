"""Feature attribution through Captum (docs/methods/invariances.md, Attribution), for any classifier and for the composed
classifier ``x → h(μ_c(x))`` of a supervised VAE.

* :func:`composed_classifier` — the module whose logits attribution explains;
* :func:`attribute` — saliency (signed gradient), Integrated Gradients, Gradient×Input and
  SmoothGrad (Captum's ``NoiseTunnel`` over saliency) for one target class per input;
* :func:`integrated_gradients` — IG together with its completeness gap
  ``Σ A − (f(x) − f(baseline))``;
* :func:`attribution_stats` — attribution of each invariant sample with the per-pixel mean and
  standard deviation across samples.

SmoothGrad's noise is drawn from a seeded generator: Captum draws it from torch's global random
state, so it runs inside ``torch.random.fork_rng`` seeded with ``seed``; the caller's global
state is left untouched.
"""

from __future__ import annotations

from dataclasses import dataclass
from typing import Any, Literal

import torch
from torch import nn

from ..models.adapter import ClassifierAdapter, as_autoencoder, as_classifier

__all__ = [
    "METHODS",
    "AttributionStats",
    "ComposedClassifier",
    "attribute",
    "attribution_stats",
    "composed_classifier",
    "integrated_gradients",
]

Method = Literal["saliency", "integrated_gradients", "input_x_gradient", "smoothgrad"]
#: Attribution methods by name, with their display labels.
METHODS: dict[str, str] = {
    "saliency": "Saliency (gradient)",
    "input_x_gradient": "Gradient × Input",
    "integrated_gradients": "Integrated Gradients",
    "smoothgrad": "SmoothGrad",
}


class ComposedClassifier(nn.Module):
    """``x → h(μ_c(x))``: a supervised VAE's encoder mean restricted to ``z_c``, then its head.

    Holds the model without copying it; ``forward`` returns class logits.
    """

    def __init__(self, svae: Any) -> None:
        super().__init__()
        for attr in ("encode_dist", "classify", "d_c"):
            if not hasattr(svae, attr):
                raise TypeError(f"{type(svae).__name__} is not a supervised VAE: it has no {attr}")
        self.svae = as_autoencoder(svae)

    def forward(self, x: torch.Tensor) -> torch.Tensor:
        """Class logits ``(N, num_classes)`` from the posterior mean of ``z_c``."""
        mu, _ = self.svae.encode_dist(x)
        return self.svae.classify(mu[:, : self.svae.d_c])


def composed_classifier(svae: Any) -> ComposedClassifier:
    """The composed classifier ``x → h(μ_c(x))`` of ``svae`` (see :class:`ComposedClassifier`)."""
    return ComposedClassifier(svae)


def _is_svae(model: Any) -> bool:
    """Whether ``model`` follows the supervised-VAE protocol (and is not already composed)."""
    return (not isinstance(model, (ComposedClassifier, ClassifierAdapter))
            and all(callable(getattr(model, m, None)) for m in ("encode_dist", "classify"))
            and isinstance(getattr(model, "d_c", None), int))


def _check(model: Any, x: Any) -> tuple[ClassifierAdapter, torch.Tensor]:
    """A supervised VAE replaced by its composed classifier ``x → h(μ_c(x))``, then the classifier wrapped once (:func:`~invwidgets.models.as_classifier`: dtype, which output
    holds the logits, errors) and ``x`` checked and moved to its device."""
    if not callable(model):
        raise TypeError(f"model must be callable (a classifier returning logits), got {type(model).__name__}")
    if _is_svae(model):
        model = composed_classifier(model)
    if not isinstance(x, torch.Tensor):
        raise TypeError(f"x must be a torch.Tensor, got {type(x).__name__}")
    if not x.is_floating_point():
        raise TypeError(f"x must be a floating-point tensor, got dtype {x.dtype}")
    if x.ndim < 2 or x.shape[0] == 0:
        raise ValueError(f"x must be a non-empty batch N×..., got shape {tuple(x.shape)}")
    if not torch.isfinite(x).all():
        raise ValueError("x contains NaN or infinite values")
    clf = as_classifier(model)
    return clf, x.detach().to(clf.device)


def _targets(model: Any, x: torch.Tensor, target: Any) -> torch.Tensor:
    if target is None:
        with torch.no_grad():
            return model(x).argmax(1)
    t = torch.as_tensor(target, dtype=torch.int64)
    if t.ndim == 0:
        t = t.repeat(x.shape[0])
    if t.shape != (x.shape[0],):
        raise ValueError(f"target must be an int or {x.shape[0]} class indices, got shape {tuple(t.shape)}")
    return t.to(x.device)


def attribute(
    model: Any,
    x: torch.Tensor,
    target: int | torch.Tensor | None = None,
    method: Method = "integrated_gradients",
    *,
    baseline: torch.Tensor | float = 0.0,
    n_steps: int = 64,
    nt_samples: int = 16,
    stdev: float = 0.15,
    seed: int = 0,
) -> torch.Tensor:
    """Attribution of the logit of ``target`` (default: the predicted class) to each input value.

    Args:
        model: a classifier returning logits (an ``nn.Module`` or callable), or a supervised
            VAE (anything with ``encode_dist``, ``classify`` and ``d_c``), whose composed classifier
            :func:`composed_classifier` ``x → h(μ_c(x))`` is explained; called through
            :func:`~invwidgets.models.as_classifier` (wrap it yourself with ``output=`` when
            it returns a tuple or dict).
        x: inputs ``(N, ...)``.
        target: a class index for all inputs, one per input, or ``None`` for the prediction.
        method: ``"saliency"`` (the signed gradient ∂f/∂x; for a linear model, its weights),
            ``"input_x_gradient"`` (x ⊙ ∂f/∂x), ``"integrated_gradients"`` (``n_steps``
            Gauss–Legendre steps from ``baseline``, default a black image) or ``"smoothgrad"``
            (the mean gradient over ``nt_samples`` copies of x with Gaussian noise of standard
            deviation ``stdev``, drawn with ``seed``).

    Returns:
        Attributions with the shape of ``x`` (detached).

    Raises:
        TypeError, ValueError: for a bad model, input, target or method.
    """
    from captum.attr import InputXGradient, IntegratedGradients, NoiseTunnel, Saliency

    model, x = _check(model, x)
    if method not in METHODS:
        raise ValueError(f"method must be one of {tuple(METHODS)}, got {method!r}")
    was_training = model.training
    model.eval()
    try:
        t = _targets(model, x, target)
        inputs = x.clone().requires_grad_(True)
        if method == "saliency":
            out = Saliency(model).attribute(inputs, target=t, abs=False)
        elif method == "input_x_gradient":
            out = InputXGradient(model).attribute(inputs, target=t)
        elif method == "integrated_gradients":
            out = IntegratedGradients(model).attribute(
                inputs, baselines=_baseline(baseline, x), target=t, n_steps=int(n_steps)
            )
        else:
            with torch.random.fork_rng(devices=[] if x.device.type == "cpu" else [x.device]):
                torch.manual_seed(int(seed))
                out = NoiseTunnel(Saliency(model)).attribute(
                    inputs, nt_type="smoothgrad", nt_samples=int(nt_samples), stdevs=float(stdev), target=t, abs=False
                )
    finally:
        model.train(was_training)
    return out.detach()


def _baseline(baseline: torch.Tensor | float, x: torch.Tensor) -> torch.Tensor:
    if isinstance(baseline, torch.Tensor):
        b = baseline.to(x.device, x.dtype)
        if b.shape == x.shape[1:]:
            b = b.unsqueeze(0)
        return b.expand_as(x)
    return torch.full_like(x, float(baseline))


def integrated_gradients(
    model: Any,
    x: torch.Tensor,
    target: int | torch.Tensor | None = None,
    baseline: torch.Tensor | float = 0.0,
    n_steps: int = 64,
) -> tuple[torch.Tensor, torch.Tensor]:
    """Integrated Gradients and its completeness check.

    Returns:
        ``(attributions, gap)`` where ``gap[i] = Σ attributions[i] − (f(x_i) − f(baseline))`` for
        the target logit ``f``; it tends to 0 as ``n_steps`` grows.
    """
    model, x = _check(model, x)
    t = _targets(model, x, target)
    attr = attribute(model, x, t, "integrated_gradients", baseline=baseline, n_steps=n_steps)
    with torch.no_grad():
        f_x = model(x).gather(1, t[:, None])[:, 0]
        f_b = model(_baseline(baseline, x)).gather(1, t[:, None])[:, 0]
    return attr, attr.flatten(1).sum(1) - (f_x - f_b)


@dataclass
class AttributionStats:
    """Attributions of an input and of its invariant samples.

    Attributes:
        original: attribution of the input, ``(*image_shape)``.
        samples: attribution of each sample, ``(K, *image_shape)``.
        mean: per-pixel mean over the samples ("consistently relevant evidence").
        std: per-pixel standard deviation over the samples ("evidence that depends on nuisance").
        target: the class explained.
    """

    original: torch.Tensor
    samples: torch.Tensor
    mean: torch.Tensor
    std: torch.Tensor
    target: int


def attribution_stats(
    model: Any,
    x: torch.Tensor,
    samples: torch.Tensor,
    target: int | None = None,
    method: Method = "integrated_gradients",
    **kwargs: Any,
) -> AttributionStats:
    """Attribute the input ``x`` (``(1, ...)``) and each of its ``samples`` (``(K, ...)``) for one
    class (default: the prediction on ``x``), and summarise the samples per pixel.

    ``model`` is a classifier returning logits or a supervised VAE, whose composed classifier
    ``x → h(μ_c(x))`` is explained (as in :func:`attribute`).

    ``kwargs`` go to :func:`attribute`. The standard deviation is the population one (``K`` in
    the denominator) so that one sample gives zeros rather than NaN.
    """
    model, x = _check(model, x)
    model, samples = _check(model, samples)
    if x.shape[0] != 1:
        raise ValueError(f"x must be a single input (1, ...), got batch of {x.shape[0]}")
    if samples.shape[1:] != x.shape[1:]:
        raise ValueError(f"samples have item shape {tuple(samples.shape[1:])}, x has {tuple(x.shape[1:])}")
    t = int(_targets(model, x, target)[0])
    original = attribute(model, x, t, method, **kwargs)[0]
    per = attribute(model, samples, t, method, **kwargs)
    return AttributionStats(original, per, per.mean(0), per.std(0, unbiased=False), t)
