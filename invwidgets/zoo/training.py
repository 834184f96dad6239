"""Reproducible training loops and metrics used by zoo entries.

Every random draw (data order, posterior samples) comes from the ``torch.Generator`` passed in;
the zoo sets the thread count around training, so the same seed gives bit-identical weights on
the same machine.
"""

from __future__ import annotations

from collections.abc import Mapping
from typing import Any

import torch
import torch.nn.functional as F
from torch import nn
from tqdm.auto import tqdm

from invwidgets.data import BaseDataset, Dataset
from invwidgets.data.digits import all_colorings
from invwidgets.models import Autoencoder, autoencoder_loss, bernoulli_nll, squared_error

__all__ = [
    "train_autoencoder",
    "train_classifier",
    "reconstruction_metrics",
    "classification_metrics",
    "batch_indices",
]

_HISTORY_POINTS = 50


def _check_keys(hp: Mapping[str, Any], allowed: set[str], fn: str) -> None:
    unknown = set(hp) - allowed - {"threads"}
    if unknown:
        raise ValueError(f"{fn} got unknown hyperparameters {sorted(unknown)}; allowed: {sorted(allowed | {'threads'})}")


def batch_indices(n: int, batch_size: int, steps: int, generator: torch.Generator) -> torch.Tensor:
    """Indices of ``steps`` mini-batches: shuffled epochs (``randperm`` from ``generator``) cut into batches.

    Batches never straddle an epoch boundary; the last short batch of each epoch is dropped when
    at least one full batch exists. Returns an int64 tensor of shape ``(steps, batch)``.
    """
    if batch_size < 1 or steps < 1:
        raise ValueError(f"batch_size and steps must be positive, got {batch_size} and {steps}")
    b = min(int(batch_size), n)
    per_epoch = n // b
    out = []
    while len(out) < steps:
        perm = torch.randperm(n, generator=generator)
        out.extend(perm[i * b : (i + 1) * b] for i in range(per_epoch))
    return torch.stack(out[:steps])


def _history(losses: list[float]) -> dict[str, Any]:
    n = len(losses)
    stride = max(1, n // _HISTORY_POINTS)
    steps = list(range(stride - 1, n, stride))
    if steps[-1] != n - 1:
        steps.append(n - 1)
    # mean loss over the window ending at each reported step
    points = [sum(losses[max(0, s - stride + 1) : s + 1]) / len(losses[max(0, s - stride + 1) : s + 1]) for s in steps]
    return {"step": [s + 1 for s in steps], "train_loss": [round(p, 6) for p in points]}


def _optimise(model: nn.Module, opt: torch.optim.Optimizer, batches: Any,
              loss_of: Any, desc: str, progress: bool) -> dict[str, Any]:
    """One optimiser step per batch of indices, with a tqdm bar; returns the loss history.
    The model is in training mode during the loop and in eval mode after it."""
    model.train()
    losses: list[float] = []
    bar = tqdm(batches, desc=desc, disable=not progress, leave=False)
    for i, idx in enumerate(bar):
        loss = loss_of(idx)
        opt.zero_grad(set_to_none=True)
        loss.backward()
        opt.step()
        losses.append(loss.item())
        if progress and i % 50 == 0:
            bar.set_postfix(loss=f"{losses[-1]:.3f}")
    bar.close()
    model.eval()
    return _history(losses)


def train_autoencoder(
    model: nn.Module,
    train_set: BaseDataset,
    hyperparameters: Mapping[str, Any],
    generator: torch.Generator,
    progress: bool = True,
) -> dict[str, Any]:
    """Train an :class:`~invwidgets.models.Autoencoder` with Adam on the (β-)ELBO.

    Hyperparameters: ``steps``, ``batch_size``, ``lr``, ``beta`` (KL weight, VAEs only; default 1),
    ``likelihood`` (``"bernoulli"`` or ``"mse"``; default ``"bernoulli"``).

    Returns:
        ``{"step": [...], "train_loss": [...]}``, at most ~50 points.
    """
    if not isinstance(model, Autoencoder):
        raise TypeError(f"train_autoencoder needs an invwidgets Autoencoder, got {type(model).__name__}")
    _check_keys(hyperparameters, {"steps", "batch_size", "lr", "beta", "likelihood"}, "train_autoencoder")
    steps = int(hyperparameters["steps"])
    beta = float(hyperparameters.get("beta", 1.0))
    likelihood = str(hyperparameters.get("likelihood", "bernoulli"))
    x_all = train_set[:][0]
    batches = batch_indices(len(train_set), int(hyperparameters["batch_size"]), steps, generator)
    opt = torch.optim.Adam(model.parameters(), lr=float(hyperparameters["lr"]))

    def loss_of(idx: torch.Tensor) -> torch.Tensor:
        x = x_all[idx]
        out = model(x, generator=generator) if model.variational else model(x)
        return autoencoder_loss(out, x, beta=beta, likelihood=likelihood)["loss"]

    return _optimise(model, opt, batches, loss_of, "train autoencoder", progress)


def train_classifier(
    model: nn.Module,
    train_set: BaseDataset,
    hyperparameters: Mapping[str, Any],
    generator: torch.Generator,
    progress: bool = True,
) -> dict[str, Any]:
    """Train a classifier (logits out) with Adam on cross-entropy.

    Hyperparameters: ``epochs``, ``batch_size``, ``lr``, ``weight_decay`` (default 0),
    ``label_smoothing`` (of the cross-entropy, default 0), ``recolor`` (default False: for
    :func:`~invwidgets.data.color_digits` data, train on every training image in every palette
    colour, :func:`~invwidgets.data.digits.all_colorings`, so an epoch is one pass over all
    colourings; only training images are used).

    Returns:
        ``{"step": [...], "train_loss": [...]}``, at most ~50 points.
    """
    _check_keys(hyperparameters, {"epochs", "batch_size", "lr", "weight_decay", "label_smoothing", "recolor"}, "train_classifier")
    if train_set.labels is None:
        raise ValueError(f"dataset {train_set.name!r} has no labels to train a classifier on")
    if bool(hyperparameters.get("recolor", False)):
        if not isinstance(train_set, Dataset) or "palette" not in train_set.metadata:
            raise ValueError(f"recolor needs color_digits data (a palette in metadata), got {train_set.name!r}")
        train_set = all_colorings(train_set)
    smoothing = float(hyperparameters.get("label_smoothing", 0.0))
    x_all, y_all = train_set[:]
    batch = min(int(hyperparameters["batch_size"]), len(train_set))
    steps = int(hyperparameters["epochs"]) * (len(train_set) // batch)
    batches = batch_indices(len(train_set), batch, steps, generator)
    opt = torch.optim.Adam(
        model.parameters(), lr=float(hyperparameters["lr"]), weight_decay=float(hyperparameters.get("weight_decay", 0.0))
    )
    return _optimise(model, opt, batches,
                     lambda idx: F.cross_entropy(model(x_all[idx]), y_all[idx], label_smoothing=smoothing),
                     "train classifier", progress)


@torch.no_grad()
def reconstruction_metrics(model: nn.Module, test_set: BaseDataset, batch_size: int = 512) -> dict[str, float]:
    """Per-pixel reconstruction error of ``decode(encode(x))`` (posterior mean) on ``test_set``.

    Returns:
        ``{"test_bce_per_pixel": mean BCE in nats, "test_mse_per_pixel": mean squared error}``
        (BCE only for data in [0, 1]).
    """
    was_training = model.training
    model.eval()
    x_all = test_set[:][0]
    per_sample_dims = x_all[0].numel()
    bce = mse = 0.0
    for start in range(0, len(test_set), batch_size):
        x = x_all[start : start + batch_size]
        recon = model.decode(model.encode(x))
        if test_set.is_image:
            bce += float(bernoulli_nll(recon.clamp(0, 1), x).double().sum())
        mse += float(squared_error(recon, x).double().sum())
    model.train(was_training)
    n = len(test_set) * per_sample_dims
    out = {"test_mse_per_pixel": mse / n}
    if test_set.is_image:
        out["test_bce_per_pixel"] = bce / n
    return out


@torch.no_grad()
def classification_metrics(model: nn.Module, test_set: BaseDataset, batch_size: int = 512) -> dict[str, float]:
    """Accuracy and mean cross-entropy of a logits classifier on ``test_set``.

    Returns:
        ``{"test_accuracy": fraction correct, "test_loss": mean cross-entropy in nats}``.
    """
    if test_set.labels is None:
        raise ValueError(f"dataset {test_set.name!r} has no labels to evaluate a classifier on")
    was_training = model.training
    model.eval()
    x_all, y_all = test_set[:]
    correct, loss = 0, 0.0
    for start in range(0, len(test_set), batch_size):
        logits = model(x_all[start : start + batch_size])
        y = y_all[start : start + batch_size]
        correct += int((logits.argmax(1) == y).sum())
        loss += float(F.cross_entropy(logits, y, reduction="sum"))
    model.train(was_training)
    return {"test_accuracy": correct / len(test_set), "test_loss": loss / len(test_set)}
