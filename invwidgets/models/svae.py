"""The supervised VAE of Nguyen & Rodríguez Martínez (2020): a VAE whose latent splits into class
dimensions ``z_c`` (the only input of a classifier head) and nuisance dimensions ``z_n``.

``z = (z_c, z_n)`` with ``z_c = z[:, :d_c]`` and ``z_n = z[:, d_c:]``. The loss is

    reconstruction + β · KL(q(z|x) ‖ N(0, I)) + α · CE(y, h(z_c))

with a Bernoulli (BCE) or fixed-σ Gaussian reconstruction likelihood. :class:`SupervisedVAE` is an
:class:`~invwidgets.models.Autoencoder` (``encode``/``decode``/``encode_dist``), so every widget
that takes an autoencoder takes it too; :meth:`SupervisedVAE.classify` reads only ``z_c``, so
resampling ``z_n`` leaves the decision bit-identical.
"""

from __future__ import annotations

import math
from collections.abc import Sequence
from dataclasses import dataclass
from typing import Any

import torch
import torch.nn.functional as F
from torch import nn
from tqdm.auto import tqdm

from .autoencoders import Autoencoder, ConvAutoencoder, MLPAutoencoder, _positive_int, reparameterize
from .losses import bernoulli_nll, gaussian_kl

__all__ = [
    "SVAEOutput",
    "SupervisedVAE",
    "svae_loss",
    "train_svae",
    "build_trunk",
]

_ARCHS = ("mlp", "conv")
_LIKELIHOODS = ("bernoulli", "gaussian")


def _build_autoencoder(
    arch: str,
    input_shape: Sequence[int],
    latent_dim: int,
    hidden: Sequence[int],
    channels: Sequence[int] | None,
    activation: str,
) -> Autoencoder:
    """The foundation's MLP or conv VAE whose encoder/decoder the supervised VAE reuses."""
    if arch not in _ARCHS:
        raise ValueError(f"arch must be one of {_ARCHS}, got {arch!r}")
    shape = tuple(int(s) for s in input_shape)
    if arch == "mlp":
        return MLPAutoencoder(shape, latent_dim, variational=True, hidden=tuple(hidden), activation=activation)
    if len(shape) != 3 or shape[1] != shape[2]:
        raise ValueError(f"the conv variant needs square images C×H×H, got input_shape {shape}")
    if len(hidden) != 1:
        raise ValueError(f"the conv variant takes one hidden width, got hidden={list(hidden)}")
    return ConvAutoencoder(
        in_channels=shape[0], image_size=shape[1], latent_dim=latent_dim, variational=True,
        channels=None if channels is None else tuple(channels), hidden=int(hidden[0]), activation=activation,
    )


def build_trunk(
    arch: str,
    input_shape: Sequence[int],
    hidden: Sequence[int] = (128,),
    channels: Sequence[int] | None = None,
    activation: str = "relu",
) -> tuple[nn.Sequential, int]:
    """The encoder trunk of a :class:`SupervisedVAE` (everything before its latent heads).

    Returns ``(trunk, width)``: a module mapping ``(N, *input_shape)`` to ``(N, width)`` features,
    built exactly like the supervised VAE's encoder minus its last linear layer. The baseline
    classifier (:class:`~invwidgets.models.baseline.TrunkClassifier`) uses it so both models share
    one architecture.
    """
    ae = _build_autoencoder(arch, input_shape, 1, hidden, channels, activation)
    layers = list(ae.encoder.children())
    last = layers[-1]
    assert isinstance(last, nn.Linear)
    return nn.Sequential(*layers[:-1]), int(last.in_features)


@dataclass
class SVAEOutput:
    """One forward pass of a :class:`SupervisedVAE`.

    Attributes:
        reconstruction: ``decode(z)`` (probabilities / means in [0, 1]).
        logits: decoder output before the sigmoid.
        z: the decoded latent (a posterior sample in training, the mean otherwise).
        mu, logvar: posterior parameters ``(N, d_c + d_n)``.
        class_logits: ``h(z_c)`` of the decoded ``z``, shape ``(N, num_classes)``.
    """

    reconstruction: torch.Tensor
    logits: torch.Tensor
    z: torch.Tensor
    mu: torch.Tensor
    logvar: torch.Tensor
    class_logits: torch.Tensor


class SupervisedVAE(Autoencoder):
    """A VAE with latent ``z = (z_c, z_n)`` and a classifier head ``h`` that reads only ``z_c``.

    Args:
        input_shape: shape of one image, e.g. ``(1, 8, 8)``.
        d_c: number of class dimensions (the classifier's only input).
        d_n: number of nuisance dimensions (used only for reconstruction).
        num_classes: number of classes.
        arch: ``"mlp"`` (encoder flatten → ``hidden`` → 2·d, decoder mirrored) or ``"conv"``
            (the :class:`~invwidgets.models.ConvAutoencoder` trunk: 4×4 stride-2 convs with
            ``channels``, then one ``hidden`` fully connected layer).
        hidden: hidden widths (MLP) or the single fully connected width (conv).
        channels: conv channels per stage (conv only; ``None`` for the default).
        classifier_hidden: ``0`` for a linear head on ``z_c``, else the width of one hidden layer.
        likelihood: ``"bernoulli"`` (BCE over pixels) or ``"gaussian"`` (fixed ``sigma``).
        sigma: the standard deviation of the Gaussian likelihood.
        activation: ``"relu"`` or ``"elu"``.

    ``encode(x)`` returns the posterior mean of all ``d_c + d_n`` dimensions; ``encode_dist``
    returns ``(mu, logvar)``; ``classify(z_c)`` returns logits; ``predict_logits(x)`` is the
    composed classifier ``x → h(μ_c(x))`` that attribution methods explain.
    """

    def __init__(
        self,
        input_shape: Sequence[int] = (1, 8, 8),
        d_c: int = 4,
        d_n: int = 6,
        num_classes: int = 10,
        arch: str = "mlp",
        hidden: Sequence[int] = (128,),
        channels: Sequence[int] | None = None,
        classifier_hidden: int = 0,
        likelihood: str = "bernoulli",
        sigma: float = 0.1,
        activation: str = "relu",
    ) -> None:
        d_c = _positive_int(d_c, "d_c")
        d_n = _positive_int(d_n, "d_n")
        num_classes = _positive_int(num_classes, "num_classes")
        if isinstance(hidden, int):
            hidden = (hidden,)
        hidden = tuple(int(h) for h in hidden)
        if likelihood not in _LIKELIHOODS:
            raise ValueError(f"likelihood must be one of {_LIKELIHOODS}, got {likelihood!r}")
        if not (isinstance(sigma, (int, float)) and math.isfinite(sigma) and sigma > 0):
            raise ValueError(f"sigma must be a positive number, got {sigma!r}")
        if isinstance(classifier_hidden, bool) or not isinstance(classifier_hidden, int) or classifier_hidden < 0:
            raise ValueError(f"classifier_hidden must be a non-negative integer, got {classifier_hidden!r}")
        ae = _build_autoencoder(arch, input_shape, d_c + d_n, hidden, channels, activation)
        super().__init__(ae.input_shape, d_c + d_n, variational=True, output="sigmoid")
        self.encoder = ae.encoder
        self.decoder = ae.decoder
        self.d_c, self.d_n, self.num_classes = d_c, d_n, num_classes
        self.arch, self.likelihood, self.sigma = arch, likelihood, float(sigma)
        if classifier_hidden:
            self.classifier: nn.Module = nn.Sequential(
                nn.Linear(d_c, classifier_hidden), nn.ReLU(), nn.Linear(classifier_hidden, num_classes)
            )
        else:
            self.classifier = nn.Linear(d_c, num_classes)
        self.config = {
            "input_shape": list(self.input_shape),
            "d_c": d_c,
            "d_n": d_n,
            "num_classes": num_classes,
            "arch": arch,
            "hidden": list(hidden),
            "channels": None if channels is None else [int(c) for c in channels],
            "classifier_hidden": int(classifier_hidden),
            "likelihood": likelihood,
            "sigma": float(sigma),
            "activation": activation,
        }

    # -- latent split ------------------------------------------------------------------------
    def split(self, z: torch.Tensor) -> tuple[torch.Tensor, torch.Tensor]:
        """``(z_c, z_n)`` = the first ``d_c`` and the last ``d_n`` columns of ``z``."""
        self._check_latent(z)
        return z[:, : self.d_c], z[:, self.d_c :]

    def join(self, z_c: torch.Tensor, z_n: torch.Tensor) -> torch.Tensor:
        """Concatenate class and nuisance codes (broadcasting a single row of either)."""
        if z_c.ndim != 2 or z_c.shape[1] != self.d_c:
            raise ValueError(f"z_c must have shape (N, {self.d_c}), got {tuple(z_c.shape)}")
        if z_n.ndim != 2 or z_n.shape[1] != self.d_n:
            raise ValueError(f"z_n must have shape (N, {self.d_n}), got {tuple(z_n.shape)}")
        n = max(z_c.shape[0], z_n.shape[0])
        if z_c.shape[0] not in (1, n) or z_n.shape[0] not in (1, n):
            raise ValueError(f"z_c and z_n have incompatible batch sizes {z_c.shape[0]} and {z_n.shape[0]}")
        return torch.cat([z_c.expand(n, -1), z_n.expand(n, -1)], dim=1)

    # -- classifier --------------------------------------------------------------------------
    def classify(self, z_c: torch.Tensor) -> torch.Tensor:
        """Class logits ``h(z_c)``; ``z_c`` is ``(N, d_c)`` (a full ``(N, d_c + d_n)`` ``z`` is
        rejected so that nuisance dimensions can never reach the head by accident)."""
        if not isinstance(z_c, torch.Tensor) or not z_c.is_floating_point():
            raise TypeError("z_c must be a floating-point tensor")
        if z_c.ndim != 2 or z_c.shape[1] != self.d_c:
            raise ValueError(f"classify reads z_c of shape (N, {self.d_c}), got {tuple(z_c.shape)}")
        return self.classifier(z_c)

    def predict_logits(self, x: torch.Tensor) -> torch.Tensor:
        """The composed classifier ``x → h(μ_c(x))``: logits from the posterior mean of ``z_c``."""
        mu, _ = self.encode_dist(x)
        return self.classify(mu[:, : self.d_c])

    def forward(self, x: torch.Tensor, generator: torch.Generator | None = None) -> SVAEOutput:  # type: ignore[override]
        """Encode, sample ``z`` with ``generator`` (the mean without one, eval mode only), decode
        and classify ``z_c``.

        Raises:
            ValueError: in training mode without a generator.
        """
        mu, logvar = self.encode_dist(x)
        if generator is not None:
            z = reparameterize(mu, logvar, generator)
        elif self.training:
            raise ValueError(
                "a SupervisedVAE in training mode needs a torch.Generator to sample the posterior: "
                "call model(x, generator=...) or model.eval() to use the mean"
            )
        else:
            z = mu
        logits = self.decoder(z)
        return SVAEOutput(torch.sigmoid(logits), logits, z, mu, logvar, self.classifier(z[:, : self.d_c]))

    def extra_repr(self) -> str:
        return f"d_c={self.d_c}, d_n={self.d_n}, num_classes={self.num_classes}, arch={self.arch!r}"


def svae_loss(
    output: SVAEOutput,
    x: torch.Tensor,
    y: torch.Tensor,
    beta: float = 1.0,
    alpha: float = 10.0,
    likelihood: str = "bernoulli",
    sigma: float = 0.1,
) -> dict[str, torch.Tensor]:
    """The supervised-VAE loss ``mean_n [recon_n + β·KL_n + α·CE_n]``.

    Args:
        output: ``model(x, generator=...)``.
        x: the input batch (targets in [0, 1] for the Bernoulli likelihood).
        y: int64 class labels ``(N,)``.
        beta: KL weight (≥ 0).
        alpha: cross-entropy weight (≥ 0).
        likelihood: ``"bernoulli"`` (BCE summed over pixels, from logits) or ``"gaussian"``
            (``½‖x − x̂‖²/σ² + D·log(σ√(2π))`` summed over pixels).
        sigma: the Gaussian's fixed standard deviation.

    Returns:
        ``{"loss", "recon", "kl", "ce", "accuracy"}``; every term is a batch mean.

    Raises:
        ValueError: for bad weights, an unknown likelihood or labels of the wrong shape.
    """
    if likelihood not in _LIKELIHOODS:
        raise ValueError(f"likelihood must be one of {_LIKELIHOODS}, got {likelihood!r}")
    if not beta >= 0 or not alpha >= 0:
        raise ValueError(f"beta and alpha must be >= 0, got beta={beta!r}, alpha={alpha!r}")
    if y.ndim != 1 or y.shape[0] != x.shape[0] or y.dtype != torch.int64:
        raise ValueError(f"y must be int64 labels of shape ({x.shape[0]},), got {tuple(y.shape)} {y.dtype}")
    if likelihood == "bernoulli":
        recon = bernoulli_nll(output.logits, x, logits=True)
    else:
        d = x[0].numel()
        sq = (output.reconstruction - x).pow(2).flatten(1).sum(1)
        recon = 0.5 * sq / sigma**2 + d * math.log(sigma * math.sqrt(2 * math.pi))
    kl = gaussian_kl(output.mu, output.logvar).sum(1)
    ce = F.cross_entropy(output.class_logits, y, reduction="none")
    loss = (recon + float(beta) * kl + float(alpha) * ce).mean()
    acc = (output.class_logits.argmax(1) == y).float().mean()
    return {"loss": loss, "recon": recon.mean(), "kl": kl.mean(), "ce": ce.mean(), "accuracy": acc.detach()}


def train_svae(
    model: SupervisedVAE,
    images: torch.Tensor,
    labels: torch.Tensor,
    *,
    epochs: int = 100,
    batch_size: int = 64,
    lr: float = 1e-3,
    beta: float = 1.0,
    alpha: float = 10.0,
    generator: torch.Generator | int = 0,
    progress: bool = True,
    callback: Any = None,
) -> dict[str, list[float]]:
    """Train ``model`` in place with Adam on :func:`svae_loss`; returns the per-epoch history.

    Data order and posterior samples come only from ``generator`` (or a seed), so the same seed
    and thread count give the same weights. ``callback(epoch, n_epochs, stats)`` runs after each
    epoch (e.g. a worker job's progress); returning ``False`` from it, or raising, stops training
    (cancellation). The likelihood is the model's.

    Returns:
        ``{"loss": [...], "recon": [...], "kl": [...], "ce": [...], "accuracy": [...]}``, one
        training-set mean per epoch.

    Raises:
        TypeError, ValueError: for a non-SVAE model or data of the wrong shape, dtype or range.
    """
    if not isinstance(model, SupervisedVAE):
        raise TypeError(f"train_svae needs a SupervisedVAE, got {type(model).__name__}")
    if isinstance(generator, int) and not isinstance(generator, bool):
        generator = torch.Generator().manual_seed(generator)
    if not isinstance(generator, torch.Generator):
        raise TypeError(f"generator must be a torch.Generator or an int seed, got {type(generator).__name__}")
    model._check_input(images)
    if not torch.isfinite(images).all():
        raise ValueError("images contain NaN or infinite values")
    labels = torch.as_tensor(labels)
    if labels.dtype != torch.int64 or labels.shape != (images.shape[0],):
        raise ValueError(f"labels must be int64 of shape ({images.shape[0]},), got {labels.dtype} {tuple(labels.shape)}")
    if int(labels.min()) < 0 or int(labels.max()) >= model.num_classes:
        raise ValueError(f"labels must lie in [0, {model.num_classes}), got [{int(labels.min())}, {int(labels.max())}]")
    epochs = _positive_int(epochs, "epochs")
    n = images.shape[0]
    b = min(_positive_int(batch_size, "batch_size"), n)
    opt = torch.optim.Adam(model.parameters(), lr=float(lr))
    history: dict[str, list[float]] = {k: [] for k in ("loss", "recon", "kl", "ce", "accuracy")}
    model.train()
    bar = tqdm(range(epochs), desc="train supervised VAE", disable=not progress, leave=False)
    try:
        for epoch in bar:
            perm = torch.randperm(n, generator=generator)
            sums = dict.fromkeys(history, 0.0)
            count = 0
            for i in range(n // b):
                idx = perm[i * b : (i + 1) * b]
                x, y = images[idx], labels[idx]
                out = model(x, generator=generator)
                terms = svae_loss(out, x, y, beta=beta, alpha=alpha, likelihood=model.likelihood, sigma=model.sigma)
                opt.zero_grad(set_to_none=True)
                terms["loss"].backward()
                opt.step()
                for k in sums:
                    sums[k] += float(terms[k].detach()) * len(idx)
                count += len(idx)
            stats = {k: v / count for k, v in sums.items()}
            for k, v in stats.items():
                history[k].append(v)
            if not math.isfinite(stats["loss"]):
                raise FloatingPointError(f"training diverged at epoch {epoch + 1}: loss is {stats['loss']}")
            if progress:
                bar.set_postfix(loss=f"{stats['loss']:.2f}", acc=f"{stats['accuracy']:.3f}")
            if callback is not None and callback(epoch + 1, epochs, stats) is False:
                break
    finally:
        bar.close()
        model.eval()
    return history
