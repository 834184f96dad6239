"""Loss helpers shared by every (V)AE: the Gaussian KL to N(0, I) and reconstruction likelihoods.

Per-sample quantities are sums over dimensions (pixels or latents); batch losses average the
per-sample sums over the batch, the usual ELBO convention.
"""

from __future__ import annotations

from typing import TYPE_CHECKING

import torch
import torch.nn.functional as F

if TYPE_CHECKING:
    from .autoencoders import AutoencoderOutput

__all__ = ["gaussian_kl", "bernoulli_nll", "squared_error", "autoencoder_loss"]

_LIKELIHOODS = ("bernoulli", "mse")


def gaussian_kl(mu: torch.Tensor, logvar: torch.Tensor) -> torch.Tensor:
    """KL( N(mu, σ²) ‖ N(0, 1) ) per dimension: ``½ (mu² + σ² − log σ² − 1)``, σ² = exp(logvar).

    Sum over the last dimension for the KL of a diagonal Gaussian to N(0, I). The result has the
    shape of ``mu``.

    Raises:
        ValueError: if ``mu`` and ``logvar`` differ in shape.
    """
    if mu.shape != logvar.shape:
        raise ValueError(f"mu and logvar must have the same shape, got {tuple(mu.shape)} and {tuple(logvar.shape)}")
    return 0.5 * (mu.pow(2) + logvar.exp() - logvar - 1.0)


def _check_pair(x_hat: torch.Tensor, x: torch.Tensor) -> None:
    if x_hat.shape != x.shape:
        raise ValueError(f"reconstruction and target shapes differ: {tuple(x_hat.shape)} vs {tuple(x.shape)}")
    if x.ndim < 1:
        raise ValueError("inputs need a batch dimension")


def bernoulli_nll(x_hat: torch.Tensor, x: torch.Tensor, logits: bool = False) -> torch.Tensor:
    """Bernoulli negative log-likelihood (binary cross-entropy) summed over all but the batch dim.

    Args:
        x_hat: predicted probabilities in [0, 1], or logits when ``logits=True``.
        x: targets in [0, 1] (binary, or intensities treated as Bernoulli means).
        logits: whether ``x_hat`` holds logits (numerically stabler).

    Returns:
        Per-sample NLL in nats, shape ``(N,)``.

    Raises:
        ValueError: for mismatched shapes or targets outside [0, 1].
    """
    _check_pair(x_hat, x)
    if bool((x < 0).any()) or bool((x > 1).any()):
        raise ValueError(f"Bernoulli targets must lie in [0, 1], found range [{float(x.min()):.4g}, {float(x.max()):.4g}]")
    if logits:
        per = F.binary_cross_entropy_with_logits(x_hat, x, reduction="none")
    else:
        per = F.binary_cross_entropy(x_hat, x, reduction="none")
    return per.flatten(1).sum(1) if per.ndim > 1 else per


def squared_error(x_hat: torch.Tensor, x: torch.Tensor) -> torch.Tensor:
    """Squared error summed over all but the batch dimension, shape ``(N,)``."""
    _check_pair(x_hat, x)
    per = (x_hat - x).pow(2)
    return per.flatten(1).sum(1) if per.ndim > 1 else per


def autoencoder_loss(
    output: AutoencoderOutput,
    x: torch.Tensor,
    beta: float = 1.0,
    likelihood: str = "bernoulli",
) -> dict[str, torch.Tensor]:
    """Negative ELBO-style loss ``mean_n [recon_n + beta * KL_n]`` of one forward pass.

    Args:
        output: the :class:`~invwidgets.models.AutoencoderOutput` of ``model(x, ...)``.
        x: the input batch.
        beta: weight of the KL term (ignored for a plain autoencoder, which has no KL).
        likelihood: ``"bernoulli"`` (BCE summed over pixels, from logits when available) or
            ``"mse"`` (squared error summed over dimensions).

    Returns:
        ``{"loss": scalar, "recon": mean per-sample reconstruction term, "kl": mean per-sample
        KL (0 for a plain AE), "kl_per_dim": mean KL of each latent dimension}``.

    Raises:
        ValueError: for an unknown likelihood or a negative ``beta``.
    """
    if likelihood not in _LIKELIHOODS:
        raise ValueError(f"likelihood must be one of {_LIKELIHOODS}, got {likelihood!r}")
    if not beta >= 0:
        raise ValueError(f"beta must be >= 0, got {beta!r}")
    if likelihood == "bernoulli":
        if output.logits is not None:
            recon = bernoulli_nll(output.logits, x, logits=True)
        else:
            recon = bernoulli_nll(output.reconstruction, x)
    else:
        recon = squared_error(output.reconstruction, x)
    if output.logvar is not None:
        kl_dims = gaussian_kl(output.mu, output.logvar)
        kl = kl_dims.sum(1)
        loss = (recon + float(beta) * kl).mean()
        kl_per_dim = kl_dims.mean(0)
    else:
        kl = torch.zeros_like(recon)
        kl_per_dim = torch.zeros(output.mu.shape[1], dtype=recon.dtype)
        loss = recon.mean()
    return {"loss": loss, "recon": recon.mean(), "kl": kl.mean(), "kl_per_dim": kl_per_dim}
