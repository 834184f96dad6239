"""FID-lite: the Fréchet distance between two sets of images in a small classifier's features.

The Fréchet (2-Wasserstein) distance between Gaussians fitted to two feature sets is
``‖μ_a − μ_b‖² + tr(Σ_a + Σ_b − 2 (Σ_a^{1/2} Σ_b Σ_a^{1/2})^{1/2})``. The FID of the literature
uses Inception-v3 features of 2048 dimensions; here any ``embed(x) -> (N, d)`` works (for the
small reproductions: the penultimate features of the zoo's colour-digit classifier), so values are
comparable only between sets scored with the same ``embed``.
"""

from __future__ import annotations

from collections.abc import Callable

import torch

from ..models.adapter import as_model

__all__ = ["gaussian_stats", "frechet_distance", "embed_images", "fid_lite"]


def _check_features(f: torch.Tensor, what: str) -> torch.Tensor:
    if not isinstance(f, torch.Tensor):
        raise TypeError(f"{what} must be a torch.Tensor, got {type(f).__name__}")
    if not f.is_floating_point():
        raise TypeError(f"{what} must be floating point, got dtype {f.dtype}")
    if f.ndim != 2 or f.shape[0] < 2:
        raise ValueError(f"{what} must have shape (N, d) with N >= 2, got {tuple(f.shape)}")
    if not bool(torch.isfinite(f).all()):
        raise ValueError(f"{what} contains NaN or infinite values")
    return f.detach().to(torch.float64)


def gaussian_stats(features: torch.Tensor) -> tuple[torch.Tensor, torch.Tensor]:
    """Mean ``(d,)`` and covariance ``(d, d)`` (unbiased) of ``features`` in float64."""
    f = _check_features(features, "features")
    mu = f.mean(0)
    c = f - mu
    return mu, c.T @ c / (f.shape[0] - 1)


def _sqrt_psd(m: torch.Tensor) -> torch.Tensor:
    vals, vecs = torch.linalg.eigh((m + m.T) / 2)
    return (vecs * vals.clamp(min=0).sqrt()) @ vecs.T


def frechet_distance(features_a: torch.Tensor, features_b: torch.Tensor) -> float:
    """Fréchet distance between Gaussians fitted to two feature sets ``(N_a, d)`` and ``(N_b, d)``.

    Computed in float64 through symmetric eigendecompositions (no complex ``sqrtm``); zero for
    identical sets, symmetric in its arguments.

    Raises:
        ValueError: for mismatched feature dimensions, fewer than 2 samples, or NaN.
    """
    mu_a, cov_a = gaussian_stats(features_a)
    mu_b, cov_b = gaussian_stats(features_b)
    if mu_a.shape != mu_b.shape:
        raise ValueError(f"feature dimensions differ: {mu_a.shape[0]} vs {mu_b.shape[0]}")
    root_a = _sqrt_psd(cov_a)
    cross = torch.linalg.eigvalsh((root_a @ cov_b @ root_a + (root_a @ cov_b @ root_a).T) / 2)
    tr_cross = cross.clamp(min=0).sqrt().sum()
    value = (mu_a - mu_b).pow(2).sum() + torch.trace(cov_a) + torch.trace(cov_b) - 2 * tr_cross
    return float(value.clamp(min=0))


@torch.no_grad()
def embed_images(embed: Callable[[torch.Tensor], torch.Tensor], images: torch.Tensor, batch_size: int = 512) -> torch.Tensor:
    """``embed`` applied to ``images`` in batches, as one ``(N, d)`` tensor."""
    if not isinstance(images, torch.Tensor) or images.ndim != 4:
        raise ValueError(f"images must be an N×C×H×W tensor, got {getattr(images, 'shape', type(images))}")
    model = as_model(embed)  # inputs on the embedding's device and dtype, errors naming the call

    def run(batch: torch.Tensor) -> torch.Tensor:
        out = model.call(model.module, batch, what=f"{model.name}(x)", verb="embed",
                         hint="an embedding that returns one tensor of features")
        return out.reshape(out.shape[0], -1).float().cpu()

    return model.batched(run, images, batch_size)


def fid_lite(
    embed: Callable[[torch.Tensor], torch.Tensor],
    images_a: torch.Tensor,
    images_b: torch.Tensor,
    batch_size: int = 512,
) -> float:
    """:func:`frechet_distance` between ``embed(images_a)`` and ``embed(images_b)``.

    Args:
        embed: features of a batch of images, e.g. ``SmallCNN.embed`` of a zoo classifier.
        images_a, images_b: N×C×H×W image batches (e.g. real test images and samples).
    """
    return frechet_distance(embed_images(embed, images_a, batch_size), embed_images(embed, images_b, batch_size))
