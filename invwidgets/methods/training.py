"""Training loops for one's own models: :func:`train_classifier` and :func:`train_autoencoder`.

Both train in place with Adam, draw every random number (data order, posterior samples,
augmentations) from one ``torch.Generator`` (or a seed), show a tqdm bar, move the model and the
batches to ``device``, and can hold out a validation split for early stopping: after every epoch
the validation loss is computed, the best weights are kept, and training stops after
``patience`` epochs without improvement (the best weights are restored).

Run as a worker job (:meth:`invwidgets.worker.Worker.submit` with a function taking ``job``),
pass ``job=job``: every step reports progress through ``job.progress(step, total)`` and checks
for cancellation there (a cancelled job raises ``Cancelled`` between two optimiser steps, the
model in eval mode). The zoo's recipes use these same loops (:mod:`invwidgets.zoo.training`).

Without a validation split the data order is the one of
:func:`batch_indices` (shuffled epochs cut into batches), so the same seed and thread count give
bit-identical weights.
"""

from __future__ import annotations

import copy
import math
from collections.abc import Callable
from typing import Any

import torch
import torch.nn.functional as F
from torch import nn
from tqdm.auto import tqdm

from ..data import BaseDataset
from ..models import Autoencoder, autoencoder_loss

__all__ = ["batch_indices", "train_autoencoder", "train_classifier"]

_HISTORY_POINTS = 50
#: ``augment(x, generator) -> x``: a batch transformation (e.g. a fresh colour per image).
Augment = Callable[[torch.Tensor, torch.Generator], torch.Tensor]


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


def _generator(generator: torch.Generator | None, seed: int) -> torch.Generator:
    if generator is None:
        if isinstance(seed, bool) or not isinstance(seed, int):
            raise TypeError(f"seed must be an integer, got {seed!r}")
        return torch.Generator().manual_seed(seed)
    if not isinstance(generator, torch.Generator):
        raise TypeError(f"generator must be a torch.Generator, got {type(generator).__name__}")
    return generator


def _positive(value: Any, what: str) -> int:
    if isinstance(value, bool) or not isinstance(value, int) or value < 1:
        raise ValueError(f"{what} must be a positive integer, got {value!r}")
    return value


def _tensors(data: Any, need_labels: bool) -> tuple[torch.Tensor, torch.Tensor | None]:
    """``(x, y)`` of a dataset or a tensor / ``(x, y)`` pair, checked."""
    if isinstance(data, BaseDataset):
        x, y = data[:][0], data.labels
    elif isinstance(data, torch.Tensor):
        x, y = data, None
    elif isinstance(data, (tuple, list)) and len(data) == 2:
        x, y = data
    else:
        raise TypeError(f"data must be an invwidgets dataset, a tensor or an (x, y) pair, got {type(data).__name__}")
    if not isinstance(x, torch.Tensor) or not x.is_floating_point() or x.ndim < 2 or x.shape[0] < 1:
        raise ValueError("the inputs must be a non-empty floating-point batch N×...")
    if not torch.isfinite(x).all():
        raise ValueError("the inputs contain NaN or infinite values")
    if need_labels:
        if y is None:
            raise ValueError("a classifier needs labels: pass a labelled dataset or an (x, y) pair")
        y = torch.as_tensor(y)
        if y.dtype != torch.int64 or y.shape != (x.shape[0],):
            raise ValueError(f"labels must be int64 of shape ({x.shape[0]},), got {y.dtype} {tuple(y.shape)}")
    return x, y


def _validation_split(n: int, labels: torch.Tensor | None, fraction: float, seed: int) -> tuple[torch.Tensor, torch.Tensor]:
    """``(train, validation)`` indices: ``round(n_c · fraction)`` of each class (or of all) to validation."""
    if not isinstance(fraction, (int, float)) or not 0.0 < float(fraction) < 1.0:
        raise ValueError(f"validation must be a fraction strictly between 0 and 1 (or 0 for none), got {fraction!r}")
    gen = torch.Generator().manual_seed(int(seed))
    strata = [torch.arange(n)] if labels is None else [(labels == c).nonzero().flatten() for c in torch.unique(labels).tolist()]
    train, val = [], []
    for members in strata:
        perm = members[torch.randperm(members.numel(), generator=gen)]
        k = int(round(members.numel() * float(fraction)))
        val.append(perm[:k])
        train.append(perm[k:])
    tr, va = torch.sort(torch.cat(train)).values, torch.sort(torch.cat(val)).values
    if tr.numel() == 0 or va.numel() == 0:
        raise ValueError(f"validation={fraction} leaves an empty training or validation set of {n} samples")
    return tr, va


def _history(losses: list[float]) -> dict[str, Any]:
    n = len(losses)
    stride = max(1, n // _HISTORY_POINTS)
    steps = list(range(stride - 1, n, stride))
    if steps[-1] != n - 1:
        steps.append(n - 1)
    windows = [losses[max(0, s - stride + 1) : s + 1] for s in steps]
    return {"step": [s + 1 for s in steps], "train_loss": [round(sum(w) / len(w), 6) for w in windows]}


class _EarlyStop:
    """Keeps the best validation loss and weights; says when ``patience`` epochs passed without a better one."""

    def __init__(self, model: nn.Module, patience: int) -> None:
        self.model, self.patience = model, _positive(patience, "patience")
        self.best, self.best_epoch, self.state = math.inf, 0, None
        self.epochs: list[int] = []
        self.losses: list[float] = []

    def update(self, epoch: int, loss: float) -> bool:
        """Record ``loss`` of ``epoch``; ``True`` when training should stop."""
        self.epochs.append(epoch)
        self.losses.append(round(loss, 6))
        if loss < self.best:
            self.best, self.best_epoch = loss, epoch
            self.state = copy.deepcopy(self.model.state_dict())
        return epoch - self.best_epoch >= self.patience

    def restore(self) -> None:
        if self.state is not None:
            self.model.load_state_dict(self.state)


def _loop(
    model: nn.Module,
    opt: torch.optim.Optimizer,
    batches: torch.Tensor,
    per_epoch: int,
    loss_of: Callable[[torch.Tensor], torch.Tensor],
    val_loss: Callable[[], float] | None,
    patience: int,
    desc: str,
    progress: bool,
    job: Any,
) -> dict[str, Any]:
    """One Adam step per row of ``batches``; validation after every ``per_epoch`` steps."""
    stop = _EarlyStop(model, patience) if val_loss is not None else None
    losses: list[float] = []
    total = int(batches.shape[0])
    bar = tqdm(total=total, desc=desc, disable=not progress, leave=False)
    model.train()
    stopped = False
    try:
        for i in range(total):
            loss = loss_of(batches[i])
            if not bool(torch.isfinite(loss.detach())):
                raise FloatingPointError(f"training diverged at step {i + 1}: loss is {float(loss)}; lower lr")
            opt.zero_grad(set_to_none=True)
            loss.backward()
            opt.step()
            losses.append(float(loss.detach()))
            bar.update(1)
            if progress and i % 50 == 0:
                bar.set_postfix(loss=f"{losses[-1]:.3f}")
            if job is not None:
                job.progress(i + 1, total, desc)
            if stop is not None and (i + 1) % per_epoch == 0:
                model.eval()
                with torch.no_grad():
                    stopped = stop.update((i + 1) // per_epoch, val_loss())
                model.train()
                if stopped:
                    break
    finally:
        bar.close()
        model.eval()
    out = _history(losses)
    if stop is not None:
        stop.restore()
        out.update({"epoch": stop.epochs, "val_loss": stop.losses, "best_epoch": stop.best_epoch, "stopped_early": stopped})
    return out


def _setup(model: nn.Module, device: str | torch.device | None, job: Any) -> torch.device:
    if not isinstance(model, nn.Module):
        raise TypeError(f"model must be a torch.nn.Module, got {type(model).__name__}")
    if device is None:
        device = getattr(job, "device", None)
    if device is None:
        p = next(model.parameters(), None)
        device = p.device if p is not None else torch.device("cpu")
    device = torch.device(device)
    model.to(device)
    return device


def train_classifier(
    model: nn.Module,
    data: BaseDataset | tuple[torch.Tensor, torch.Tensor],
    *,
    epochs: int = 10,
    batch_size: int = 64,
    lr: float = 1e-3,
    weight_decay: float = 0.0,
    label_smoothing: float = 0.0,
    augment: Augment | None = None,
    validation: float = 0.0,
    patience: int = 5,
    validation_seed: int = 0,
    generator: torch.Generator | None = None,
    seed: int = 0,
    device: str | torch.device | None = None,
    progress: bool = True,
    job: Any = None,
) -> dict[str, Any]:
    """Train a classifier (logits out) in place with Adam on cross-entropy.

    Args:
        model: any module mapping a batch to logits ``(N, classes)``.
        data: a labelled dataset, or an ``(images, int64 labels)`` pair.
        epochs: passes over the training data (each cut into ``len // batch_size`` batches).
        batch_size, lr, weight_decay: of Adam.
        label_smoothing: of the cross-entropy.
        augment: ``augment(x, generator) -> x`` applied to every training batch (e.g.
            :func:`~invwidgets.data.colorize` with fresh colours).
        validation: fraction of each class held out for early stopping (0: none, train on all).
        patience: epochs without a lower validation loss before stopping.
        validation_seed: seeds the choice of the validation images.
        generator, seed: the source of every random draw (``seed`` when no generator is given).
        device: where to train (default: the job's device, else the model's).
        progress: show a tqdm bar.
        job: a worker :class:`~invwidgets.worker.JobContext` (progress and cancellation).

    Returns:
        ``{"step", "train_loss"}`` (at most ~50 points, window means); with a validation split
        also ``"epoch"``, ``"val_loss"`` (mean cross-entropy without smoothing), ``"best_epoch"``
        (whose weights the model holds) and ``"stopped_early"``.
    """
    x_all, y_all = _tensors(data, need_labels=True)
    assert y_all is not None
    gen = _generator(generator, seed)
    dev = _setup(model, device, job)
    val_loss = None
    if validation:
        tr, va = _validation_split(len(x_all), y_all, validation, validation_seed)
        x_val, y_val = x_all[va].to(dev), y_all[va].to(dev)
        x_all, y_all = x_all[tr], y_all[tr]

        def val_loss() -> float:
            return float(sum(F.cross_entropy(model(x_val[i : i + 512]), y_val[i : i + 512], reduction="sum")
                             for i in range(0, len(x_val), 512)) / len(x_val))
    b = min(_positive(batch_size, "batch_size"), len(x_all))
    per_epoch = len(x_all) // b
    batches = batch_indices(len(x_all), b, _positive(epochs, "epochs") * per_epoch, gen)
    opt = torch.optim.Adam(model.parameters(), lr=float(lr), weight_decay=float(weight_decay))
    smoothing = float(label_smoothing)

    def loss_of(idx: torch.Tensor) -> torch.Tensor:
        x = x_all[idx] if augment is None else augment(x_all[idx], gen)
        return F.cross_entropy(model(x.to(dev)), y_all[idx].to(dev), label_smoothing=smoothing)

    return _loop(model, opt, batches, per_epoch, loss_of, val_loss, patience, "train classifier", progress, job)


def train_autoencoder(
    model: Autoencoder,
    data: BaseDataset | torch.Tensor,
    *,
    epochs: int | None = 10,
    steps: int | None = None,
    batch_size: int = 64,
    lr: float = 1e-3,
    beta: float = 1.0,
    likelihood: str = "bernoulli",
    loss: Callable[[Any, torch.Tensor], torch.Tensor] | None = None,
    augment: Augment | None = None,
    validation: float = 0.0,
    patience: int = 5,
    validation_seed: int = 0,
    generator: torch.Generator | None = None,
    seed: int = 0,
    device: str | torch.device | None = None,
    progress: bool = True,
    job: Any = None,
) -> dict[str, Any]:
    """Train an :class:`~invwidgets.models.Autoencoder` in place with Adam on the (β-)ELBO.

    Args:
        model: an invwidgets autoencoder (wrap others with :func:`~invwidgets.models.as_autoencoder`
            and train them with your own loop).
        data: a dataset or a tensor of inputs.
        epochs: passes over the data; or ``steps``: that many batches instead (``epochs=None``).
        batch_size, lr: of Adam.
        beta: the KL weight (VAEs only).
        likelihood: ``"bernoulli"`` or ``"mse"``.
        loss: ``loss(output, x) -> scalar`` replacing the ELBO (``beta`` and ``likelihood`` then unused).
        augment: ``augment(x, generator) -> x`` applied to every training batch; the model
            reconstructs the augmented batch.
        validation, patience, validation_seed, generator, seed, device, progress, job: as for
            :func:`train_classifier`; the validation loss is the loss of the posterior mean.

    Returns:
        ``{"step", "train_loss"}``, plus ``"epoch"``, ``"val_loss"``, ``"best_epoch"``,
        ``"stopped_early"`` with a validation split.
    """
    if not isinstance(model, Autoencoder):
        raise TypeError(f"train_autoencoder needs an invwidgets Autoencoder, got {type(model).__name__}")
    if (epochs is None) == (steps is None):
        raise ValueError("pass exactly one of epochs and steps")
    x_all, _ = _tensors(data, need_labels=False)
    labels = data.labels if isinstance(data, BaseDataset) else None
    gen = _generator(generator, seed)
    dev = _setup(model, device, job)

    def loss_fn(out: Any, x: torch.Tensor) -> torch.Tensor:
        if loss is not None:
            return loss(out, x)
        return autoencoder_loss(out, x, beta=float(beta), likelihood=likelihood)["loss"]

    val_loss = None
    if validation:
        tr, va = _validation_split(len(x_all), labels, validation, validation_seed)
        x_val = x_all[va].to(dev)
        x_all = x_all[tr]

        def val_loss() -> float:
            parts = [(loss_fn(model(x_val[i : i + 512]), x_val[i : i + 512]), len(x_val[i : i + 512]))
                     for i in range(0, len(x_val), 512)]
            return float(sum(v * k for v, k in parts) / len(x_val))
    b = min(_positive(batch_size, "batch_size"), len(x_all))
    per_epoch = len(x_all) // b
    total = _positive(steps, "steps") if steps is not None else _positive(epochs, "epochs") * per_epoch
    batches = batch_indices(len(x_all), b, total, gen)
    opt = torch.optim.Adam(model.parameters(), lr=float(lr))

    def loss_of(idx: torch.Tensor) -> torch.Tensor:
        x = (x_all[idx] if augment is None else augment(x_all[idx], gen)).to(dev)
        return loss_fn(model(x, generator=gen) if model.variational else model(x), x)

    return _loop(model, opt, batches, per_epoch, loss_of, val_loss, patience, "train autoencoder", progress, job)
