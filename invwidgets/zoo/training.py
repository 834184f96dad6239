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

from invwidgets.data import BaseDataset, Dataset
from invwidgets.data.colorful import colorize, random_colors
from invwidgets.data.digits import all_colorings
from invwidgets.methods import training as _methods
from invwidgets.methods.training import batch_indices
from invwidgets.models import Autoencoder, autoencoder_loss, bernoulli_nll, squared_error

__all__ = [
    "train_autoencoder",
    "train_classifier",
    "reconstruction_metrics",
    "classification_metrics",
    "batch_indices",
]


def _check_keys(hp: Mapping[str, Any], allowed: set[str], fn: str) -> None:
    unknown = set(hp) - allowed - {"threads"}
    if unknown:
        raise ValueError(f"{fn} got unknown hyperparameters {sorted(unknown)}; allowed: {sorted(allowed | {'threads'})}")


def train_autoencoder(
    model: nn.Module,
    train_set: BaseDataset,
    hyperparameters: Mapping[str, Any],
    generator: torch.Generator,
    progress: bool = True,
) -> dict[str, Any]:
    """Zoo ``train_fn``: :func:`invwidgets.methods.training.train_autoencoder` with the entry's hyperparameters.

    Hyperparameters: ``steps``, ``batch_size``, ``lr``, ``beta`` (KL weight, VAEs only; default 1),
    ``likelihood`` (``"bernoulli"`` or ``"mse"``; default ``"bernoulli"``), and optionally
    ``validation`` and ``patience`` (early stopping on a held-out fraction), ``recolor``
    (``"fresh"``: new U[0, 1]³ colours every batch, as for :func:`train_classifier`), ``tc_weight``
    (VAEs: the batch's total correlation weighted ``tc_weight = β_TC − 1`` on top of the ELBO, the
    β-TCVAE objective; default 0).

    Returns:
        ``{"step": [...], "train_loss": [...]}``, at most ~50 points (plus the validation curve).
    """
    if not isinstance(model, Autoencoder):
        raise TypeError(f"train_autoencoder needs an invwidgets Autoencoder, got {type(model).__name__}")
    _check_keys(hyperparameters, {"steps", "batch_size", "lr", "beta", "likelihood", "validation", "patience",
                                  "recolor", "tc_weight"}, "train_autoencoder")
    hp = hyperparameters
    data, augment = _recolored(train_set, hp.get("recolor", False))
    return _methods.train_autoencoder(
        model, data, epochs=None, augment=augment, loss=_tc_loss(hp, len(train_set)),
        steps=int(hp["steps"]), batch_size=int(hp["batch_size"]), lr=float(hp["lr"]),
        beta=float(hp.get("beta", 1.0)), likelihood=str(hp.get("likelihood", "bernoulli")),
        validation=float(hp.get("validation", 0.0)), patience=int(hp.get("patience", 5)),
        generator=generator, progress=progress,
    )


def _tc_loss(hp: Mapping[str, Any], n: int) -> Any:
    """The β-TCVAE loss for a ``tc_weight`` hyperparameter (``None``, the plain ELBO, without one):
    the ELBO plus ``tc_weight`` times the batch's total-correlation estimate
    (:func:`~invwidgets.models.losses.total_correlation`, ``tc_weight = β_TC − 1``)."""
    tc_weight = float(hp.get("tc_weight", 0.0))
    if not tc_weight:
        return None
    beta, likelihood = float(hp.get("beta", 1.0)), str(hp.get("likelihood", "bernoulli"))

    def loss(out: Any, x: torch.Tensor) -> torch.Tensor:
        return autoencoder_loss(out, x, beta=beta, likelihood=likelihood, tc_weight=tc_weight, dataset_size=n)["loss"]

    return loss


def _fresh_colors(x: torch.Tensor, generator: torch.Generator) -> torch.Tensor:
    """Grayscale digits ``N×1×H×W`` times a new U[0, 1]³ colour each (ColorfulMNIST's colours)."""
    return colorize(x, random_colors(x.shape[0], generator))


def _recolored(train_set: BaseDataset, recolor: Any) -> tuple[Any, Any]:
    """``(data, augment)`` for the ``recolor`` hyperparameter (False, True or ``"fresh"``)."""
    if recolor == "fresh":
        if not isinstance(train_set, Dataset) or "gray" not in train_set.extras:
            raise ValueError(f"recolor='fresh' needs colorful() data (grayscale digits in extras), got {train_set.name!r}")
        gray = train_set.extras["gray"]
        return (gray if train_set.labels is None else (gray, train_set.labels)), _fresh_colors
    if bool(recolor):
        if not isinstance(train_set, Dataset) or "palette" not in train_set.metadata:
            raise ValueError(f"recolor needs color_digits data (a palette in metadata), got {train_set.name!r}")
        return all_colorings(train_set), None
    return train_set, None


def train_classifier(
    model: nn.Module,
    train_set: BaseDataset,
    hyperparameters: Mapping[str, Any],
    generator: torch.Generator,
    progress: bool = True,
) -> dict[str, Any]:
    """Zoo ``train_fn``: :func:`invwidgets.methods.training.train_classifier` with the entry's hyperparameters.

    Hyperparameters: ``epochs``, ``batch_size``, ``lr``, ``weight_decay`` (default 0),
    ``label_smoothing`` (of the cross-entropy, default 0), ``validation`` and ``patience``
    (early stopping, default none), ``recolor`` (default False). ``recolor=True``: for
    :func:`~invwidgets.data.color_digits` data, train on every training image in every palette
    colour, :func:`~invwidgets.data.digits.all_colorings`, so an epoch is one pass over all
    colourings. ``recolor="fresh"``: for :func:`~invwidgets.data.colorful` data, every batch
    colours its grayscale digits with new colours from U[0, 1]³ (the ColorfulMNIST protocol), so
    the classifier never sees a digit tied to a colour. Only training images are used.

    Returns:
        ``{"step": [...], "train_loss": [...]}``, at most ~50 points (plus the validation curve).
    """
    _check_keys(hyperparameters, {"epochs", "batch_size", "lr", "weight_decay", "label_smoothing", "recolor",
                                  "validation", "patience"}, "train_classifier")
    if train_set.labels is None:
        raise ValueError(f"dataset {train_set.name!r} has no labels to train a classifier on")
    hp = hyperparameters
    data, augment = _recolored(train_set, hp.get("recolor", False))
    return _methods.train_classifier(
        model, data, epochs=int(hp["epochs"]), batch_size=int(hp["batch_size"]), lr=float(hp["lr"]),
        weight_decay=float(hp.get("weight_decay", 0.0)), label_smoothing=float(hp.get("label_smoothing", 0.0)),
        augment=augment, validation=float(hp.get("validation", 0.0)), patience=int(hp.get("patience", 5)),
        generator=generator, progress=progress,
    )


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
