"""Loss helpers shared by every (V)AE: the Gaussian KL to N(0, I) and reconstruction likelihoods.

Per-sample quantities are sums over dimensions (pixels or latents); batch losses average the
per-sample sums over the batch, the usual ELBO convention.
"""

from __future__ import annotations

import math
from typing import TYPE_CHECKING

import torch
import torch.nn.functional as F

if TYPE_CHECKING:
    from .autoencoders import AutoencoderOutput

__all__ = ["gaussian_kl", "bernoulli_nll", "squared_error", "autoencoder_loss", "total_correlation"]

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


def _gaussian_log_density(z: torch.Tensor, mu: torch.Tensor, logvar: torch.Tensor) -> torch.Tensor:
    """``log N(z_i,d; mu_j,d, σ_j,d²)`` for every pair of batch members: shape (B, B, d)."""
    diff = z[:, None, :] - mu[None, :, :]
    return -0.5 * (math.log(2 * math.pi) + logvar[None] + diff.pow(2) * torch.exp(-logvar[None]))


def total_correlation(z: torch.Tensor, mu: torch.Tensor, logvar: torch.Tensor, dataset_size: int) -> torch.Tensor:
    """Minibatch-weighted estimate of the total correlation ``KL(q(z) ‖ Π_d q(z_d))`` (β-TCVAE).

    ``q(z)`` is the aggregate posterior, estimated from the batch as in Chen et al. (2018):
    ``log q(z_i) ≈ logsumexp_j log q(z_i | x_j) − log(B · N)``, and each marginal
    ``log q(z_i,d)`` in the same way one dimension at a time. Returns the batch mean (a scalar).
    As in the reference implementation, the value exceeds the batch's own plug-in estimate
    (normalising by ``B`` instead of ``B · N``) by the constant ``(d − 1) · log N``, which changes
    no gradient: for independent latents it is ≈ ``(d − 1) · log N``, not 0.

    Args:
        z: posterior samples (B, d), one per batch member.
        mu, logvar: the posterior parameters (B, d) of the same batch.
        dataset_size: N, the number of training samples.

    Raises:
        ValueError: for mismatched shapes, a batch of one, or a non-positive ``dataset_size``.
    """
    if z.shape != mu.shape or mu.shape != logvar.shape or z.ndim != 2:
        raise ValueError(f"z, mu and logvar must all be (B, d), got {tuple(z.shape)}, {tuple(mu.shape)}, {tuple(logvar.shape)}")
    if z.shape[0] < 2:
        raise ValueError("the total-correlation estimate needs a batch of at least two samples")
    if isinstance(dataset_size, bool) or int(dataset_size) < 1:
        raise ValueError(f"dataset_size must be a positive integer, got {dataset_size!r}")
    b = z.shape[0]
    log_qz_x = _gaussian_log_density(z, mu, logvar)  # (B, B, d)
    log_norm = math.log(b * int(dataset_size))
    log_qz = torch.logsumexp(log_qz_x.sum(2), dim=1) - log_norm
    log_prod_marginals = (torch.logsumexp(log_qz_x, dim=1) - log_norm).sum(1)
    return (log_qz - log_prod_marginals).mean()


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
    tc_weight: float = 0.0,
    dataset_size: int | None = None,
) -> dict[str, torch.Tensor]:
    """Negative ELBO-style loss ``mean_n [recon_n + beta * KL_n] + tc_weight * TC`` of one forward pass.

    With ``tc_weight = β_TC − 1`` and ``beta = 1`` this is the β-TCVAE objective (Chen et al.
    2018): the KL's total-correlation part is weighted ``β_TC`` in all, estimated by
    :func:`total_correlation` from the batch's posterior samples ``output.z``.

    Args:
        output: the :class:`~invwidgets.models.AutoencoderOutput` of ``model(x, ...)``.
        x: the input batch.
        beta: weight of the KL term (ignored for a plain autoencoder, which has no KL).
        likelihood: ``"bernoulli"`` (BCE summed over pixels, from logits when available) or
            ``"mse"`` (squared error summed over dimensions).
        tc_weight: extra weight of the total correlation (VAEs only; 0 leaves the loss as it was).
        dataset_size: N of the training set, needed when ``tc_weight`` is not 0.

    Returns:
        ``{"loss": scalar, "recon": mean per-sample reconstruction term, "kl": mean per-sample
        KL (0 for a plain AE), "kl_per_dim": mean KL of each latent dimension}``, plus ``"tc"``
        (the total-correlation estimate) when ``tc_weight`` is not 0.

    Raises:
        ValueError: for an unknown likelihood, a negative ``beta``, or ``tc_weight`` without a
            posterior or without ``dataset_size``.
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
        if tc_weight:
            if dataset_size is None:
                raise ValueError("tc_weight needs dataset_size (the number of training samples)")
            tc = total_correlation(output.z, output.mu, output.logvar, dataset_size)
            return {"loss": loss + float(tc_weight) * tc, "recon": recon.mean(), "kl": kl.mean(),
                    "kl_per_dim": kl_per_dim, "tc": tc}
    else:
        if tc_weight:
            raise ValueError("tc_weight needs a variational model (a posterior to estimate q(z) from)")
        kl = torch.zeros_like(recon)
        kl_per_dim = torch.zeros(output.mu.shape[1], dtype=recon.dtype)
        loss = recon.mean()
    return {"loss": loss, "recon": recon.mean(), "kl": kl.mean(), "kl_per_dim": kl_per_dim}
