"""Inverting representations with conditional autoregressive models (Nash, Kushman & Williams 2019).

For a frozen network ``f`` and layers ``l``, fit ``p(x | f_l(x))`` (a conditional
:class:`~invwidgets.models.pixelcnn.GatedPixelCNN`) per layer and an unconditional twin ``p(x)``
of the same architecture and training budget. Then

* samples of ``p(x | f_l(x))`` show which inputs layer ``l`` cannot tell apart;
* ``Î(x; f_l(x)) = Ĥ(x) − Ĥ(x | f_l(x))`` in bits, with ``Ĥ`` the held-out cross-entropies
  (``D·(bpd_uncond − bpd_cond)``), and a paired bootstrap confidence interval over test images;
* per-pixel conditional entropies ``H(x_i | x_<i, h)`` show where the model is uncertain given h;
* the same estimate over a classifier's training checkpoints gives Î per layer over training.

Everything here is a plain function over tensors; long work takes an optional worker ``job``
(progress and cancellation) and ``progress=True`` shows tqdm in scripts. Every random draw takes a
seed or a ``torch.Generator``.
"""

from __future__ import annotations

import copy
import math
import time
from collections.abc import Mapping, Sequence
from dataclasses import dataclass, field
from typing import Any

import torch
from torch import nn
from tqdm.auto import tqdm

from ..models.adapter import as_classifier, module_device
from ..models.init import init_parameters
from ..models.pixelcnn import GatedPixelCNN, InversionSet, to_levels
from .inversion_diagnostics import MIFlag, diagnose
from .layers import layer_outputs

__all__ = [
    "DEFAULT_PIXELCNN",
    "LayerMI",
    "MIEstimate",
    "CheckpointMI",
    "inversion_preset",
    "nats_to_bits_per_dim",
    "bits_per_dim_to_nats",
    "layer_features",
    "fit_pixelcnn",
    "fit_inversions",
    "fit_inversion_set",
    "run_fits",
    "build_inversion_set",
    "nll_bits",
    "head_accuracy",
    "mutual_information",
    "entropy_map",
    "sample_inversion",
    "mi_over_checkpoints",
]

#: Default inversion-model architecture for small images (digits): small enough to fit in seconds.
DEFAULT_PIXELCNN: dict[str, Any] = {"channels": 16, "n_layers": 3, "kernel_size": 3, "cond_hidden": 32}


def inversion_preset(image_shape: Sequence[int], levels: int, n_images: int) -> dict[str, dict[str, Any]]:
    """The architecture and training budget :func:`fit_inversions` uses when none is given, from
    the image size, the number of levels and the dataset size; one preset for every layer's model
    and the unconditional twin.

    * Up to 8×8 pixels: :data:`DEFAULT_PIXELCNN` and Adam, batch 32, lr 1e-2 cosine-decayed over
      30 epochs, the best validation epoch kept — the budget tuned on the 8×8 digits.
    * Larger images: enough gated layers for the vertical stack to reach about a quarter of the
      image (``round(side / 4)``, 3 to 8), 32 channels (48 from 128 levels on, where the head
      predicts many more classes), conditioning width twice the channels; dropout 0.1 and AdamW
      weight decay 1e-4 as regularisation; lr 2e-3 cosine-decayed; early stopping after 5 epochs
      without a better validation NLL; the gradient norm clipped at one nat per image dimension
      (196 at 14×14): on MNIST at 14×14 a step of an unclipped identity model had a gradient
      norm of 15,300 (every other epoch's largest under 800), its loss jumped twelvefold and
      patience stopped it before it recovered, 0.6 bits short of the conv1 model (a
      data-processing violation); clipped, the same fit ran its 15 epochs to a validation
      0.001 bits/dim against 0.005 (``benchmarks/inversion_clipping.py``); epochs chosen for
      about 4,000 optimiser steps, 10 to 30;
      feature maps standardised per channel (``cond_norm="channel"``): per element, the rarely
      active positions of a conv layer on MNIST were scaled to ~170 standard deviations on test
      images and the conv1 model "overfitted" from epoch 2 (validation 0.74 bits/dim against
      0.02 per channel); and location-dependent conditioning (``cond_map=True``): a vector ``h``
      (fc features, logits) is mapped to a spatial map instead of one bias broadcast over every
      position, and every model, the unconditional twin included, gets a learned position map.
      With a receptive field of a few pixels, a broadcast bias cannot say where the strokes of
      the class go: on MNIST at 14×14 the broadcast fc and logits models gained 12–14 bits but
      their samples kept the class only about 40 % of the time.

    Returns:
        ``{"pixelcnn": GatedPixelCNN keywords, "fit": fit_pixelcnn keywords}``; override either
        by passing ``pixelcnn=`` or the fit keywords to :func:`fit_inversions`.
    """
    c, side = int(image_shape[0]), int(image_shape[-1])
    if side < 1 or int(levels) < 2 or int(n_images) < 2:
        raise ValueError(f"need a positive image size, levels >= 2 and >= 2 images; got {tuple(image_shape)}, "
                         f"{levels}, {n_images}")
    if side <= 8:
        return {"pixelcnn": dict(DEFAULT_PIXELCNN),
                "fit": {"epochs": 30, "batch_size": 32, "lr": 1e-2, "schedule": "cosine"}}
    channels = 48 if int(levels) >= 128 else 32
    n_layers = max(3, min(8, round(side / 4)))
    steps_per_epoch = max(1, int(n_images * 0.9) // 32)
    epochs = max(10, min(30, math.ceil(4000 / steps_per_epoch)))
    return {"pixelcnn": {"channels": channels, "n_layers": n_layers, "kernel_size": 3, "cond_hidden": 2 * channels,
                         "dropout": 0.1, "cond_norm": "channel", "cond_map": True},
            "fit": {"epochs": epochs, "batch_size": 32, "lr": 2e-3, "schedule": "cosine", "weight_decay": 1e-4,
                    "patience": 5, "clip_grad_norm": float(c * side * side)}}


def nats_to_bits_per_dim(nats: float | torch.Tensor, dims: int) -> float | torch.Tensor:
    """Convert a negative log-likelihood in nats per image to bits per dimension."""
    return nats / (math.log(2) * dims)


def bits_per_dim_to_nats(bpd: float | torch.Tensor, dims: int) -> float | torch.Tensor:
    """Inverse of :func:`nats_to_bits_per_dim`."""
    return bpd * math.log(2) * dims


def _check_images(x: Any, name: str = "images") -> torch.Tensor:
    if not isinstance(x, torch.Tensor):
        raise TypeError(f"{name} must be a torch.Tensor, got {type(x).__name__}")
    if not x.is_floating_point():
        raise TypeError(f"{name} must be floating point in [0, 1], got dtype {x.dtype}")
    if x.ndim != 4:
        raise ValueError(f"{name} must have shape N×C×H×W, got {tuple(x.shape)}")
    if x.shape[-1] != x.shape[-2]:
        raise ValueError(f"{name} must be square, got {tuple(x.shape)}")
    if not torch.isfinite(x).all():
        raise ValueError(f"{name} contain NaN or infinite values")
    return x


@torch.no_grad()
def layer_features(classifier: nn.Module, layers: Sequence[str], x: torch.Tensor,
                   batch_size: int = 512) -> dict[str, torch.Tensor]:
    """``f_l(x)`` for each layer (module paths, ``probe_layers`` names or ``"input"``), computed
    in eval mode in batches; float32 on the CPU. The classifier is called through
    :func:`~invwidgets.models.as_classifier` (inputs cast to its device and dtype)."""
    classifier = as_classifier(classifier)
    was = classifier.training
    classifier.eval()
    try:
        parts: dict[str, list[torch.Tensor]] = {l: [] for l in layers}
        for s in range(0, x.shape[0], batch_size):
            out = layer_outputs(classifier, list(layers), x[s : s + batch_size])
            for l in layers:
                parts[l].append(out[l].float().cpu())
    finally:
        classifier.train(was)
    return {l: torch.cat(v) for l, v in parts.items()}


def _n_val(n: int, val_fraction: float) -> int:
    """The size of the validation split of ``n`` images; a clear error when no image is left to
    train on (one image cannot be both)."""
    if not 0 < val_fraction < 1:
        raise ValueError(f"val_fraction must be in (0, 1), got {val_fraction}")
    n_val = max(1, int(round(n * val_fraction)))
    if n - n_val < 1:
        raise ValueError(
            f"fitting needs images to train on and at least one to validate on: {n} image(s) with "
            f"val_fraction={val_fraction} leave none for training; pass more images (at least 2)"
        )
    return n_val


def _val_split(n: int, val_fraction: float, generator: torch.Generator) -> tuple[torch.Tensor, torch.Tensor]:
    n_val = _n_val(n, val_fraction)
    perm = torch.randperm(n, generator=generator)
    return perm[n_val:], perm[:n_val]


@torch.no_grad()
def nll_bits(model: GatedPixelCNN, x: torch.Tensor, h: torch.Tensor | None = None,
             batch_size: int = 512) -> torch.Tensor:
    """``−log₂ p(x | h)`` per image in bits, shape ``(N,)`` (float64)."""
    was = model.training
    model.eval()
    dev = module_device(model)
    try:
        out = []
        for s in range(0, x.shape[0], batch_size):
            hb = None if h is None else h[s : s + batch_size].to(dev)
            out.append(-model.log_prob(x[s : s + batch_size].to(dev), hb).double().cpu() / math.log(2))
    finally:
        model.train(was)
    return torch.cat(out)


def fit_pixelcnn(
    model: GatedPixelCNN,
    x: torch.Tensor,
    h: torch.Tensor | None = None,
    *,
    epochs: int = 30,
    batch_size: int = 32,
    lr: float = 1e-2,
    val_fraction: float = 0.1,
    seed: int | torch.Generator = 0,
    job: Any = None,
    progress: bool = False,
    step_offset: int = 0,
    total_steps: int | None = None,
    message: str = "",
    normalize: bool = True,
    schedule: str = "cosine",
    weight_decay: float = 0.0,
    patience: int | None = None,
    clip_grad_norm: float | None = None,
) -> dict[str, Any]:
    """Fit ``model`` to ``(x, h)`` by maximum likelihood (Adam), keeping the parameters of the
    epoch with the lowest validation NLL (early stopping by selection).

    The learning rate follows ``schedule``: ``"cosine"`` (the default) decays it from ``lr`` to 0
    over the ``epochs`` by a half cosine per step; ``"constant"`` keeps it. The defaults (batch 32,
    lr 1e-2, cosine, 30 epochs) were chosen on the 8×8 digits, where the earlier batch 128 / lr 2e-3
    / constant / 20-epoch budget left the models far from converged (identity conditioning reached
    only ≈ 0.4 Ĥ(x)); with them (and the head conditioning of the PixelCNN) it reaches > 0.9 Ĥ(x)
    at about the same CPU time (≈ 3 min per set of six 8×8 models on one core).
    The validation split and the data order come from ``seed``; the model is trained in place and
    left in eval mode. With ``normalize`` the conditioning inputs are standardised with the
    training features' statistics (stored in the model). ``job`` gets progress in epochs (offset by ``step_offset`` of
    ``total_steps``, for multi-model jobs) and may cancel between batches.
    ``weight_decay`` > 0 uses AdamW's decoupled decay (0 keeps plain Adam); ``patience`` stops
    training after that many epochs without a new best validation NLL (``None``: all epochs);
    ``clip_grad_norm`` rescales any step's gradient (of the mean NLL per image, in nats) whose
    norm exceeds it (``None``: never).

    Returns:
        ``{"train_bpd": [...], "val_bpd": [...], "grad_norm_max": [...], "best_epoch": e}`` (per
        epoch; epoch 0 = before training; ``grad_norm_max`` is the largest gradient norm of the
        epoch before clipping), plus ``stopped_epoch`` when patience ended the fit.
    """
    x = _check_images(x)
    to_levels(x, model.levels)  # validates the level grid
    g = seed if isinstance(seed, torch.Generator) else torch.Generator().manual_seed(int(seed))
    n = x.shape[0]
    tr, va = _val_split(n, val_fraction, g)
    dims = x[0].numel()
    dev = module_device(model)
    xt, xv = x[tr].to(dev), x[va].to(dev)
    ht = hv = None
    if h is not None:
        if h.shape[0] != n:
            raise ValueError(f"h has {h.shape[0]} rows but x has {n}")
        ht, hv = h[tr].to(dev), h[va].to(dev)
        if normalize:
            model.set_cond_normalization(ht)
    b = min(int(batch_size), len(tr))
    opt, sched = _optimizer(model, lr, weight_decay, schedule, max(1, epochs * (len(tr) // b)))

    def val_bpd() -> float:
        return float(nll_bits(model, xv, hv).mean()) / dims

    def train_epoch(perm: torch.Tensor) -> tuple[float, float]:
        nats, gmax = _train_epoch(model, xt, ht, perm, b, opt, sched, job, clip_grad_norm)
        return nats / math.log(2) / dims, gmax

    # Dropout draws from torch's global generator: seed it from the fit's seed inside a fork, so
    # the masks are reproducible (in any process) and the caller's random state is untouched.
    with torch.random.fork_rng(devices=[dev] if dev.type == "cuda" else []):
        torch.manual_seed(g.initial_seed() + 1)
        hist, best_state = _epochs(model, len(tr), g, epochs, train_epoch, val_bpd, patience, job,
                                   (step_offset, total_steps if total_steps is not None else epochs, message),
                                   progress)
    model.load_state_dict(best_state)
    model.eval()
    hist["val_bpd_best"] = min(hist["val_bpd"])
    return hist


def _epochs(model: GatedPixelCNN, n_train: int, g: torch.Generator, epochs: int, train_epoch: Any, val_bpd: Any,
            patience: int | None, job: Any, report: tuple[int, int, str],
            progress: bool) -> tuple[dict[str, Any], dict[str, torch.Tensor]]:
    """The epoch loop of :func:`fit_pixelcnn`: train, validate, keep the best weights, report
    progress ``(offset, total, message)`` to ``job``, stop after ``patience`` epochs without a
    better validation bits/dim. Returns the history and the best state."""
    step_offset, total, message = report
    best = val_bpd()
    best_state = copy.deepcopy(model.state_dict())
    hist: dict[str, Any] = {"train_bpd": [float("nan")], "val_bpd": [best], "grad_norm_max": [float("nan")],
                            "best_epoch": 0}
    bar = tqdm(range(epochs), desc=message or "fit pixelcnn", disable=not progress, leave=False)
    for epoch in bar:
        train_bpd, gmax = train_epoch(torch.randperm(n_train, generator=g))
        model.eval()
        vb = val_bpd()
        hist["train_bpd"].append(train_bpd)
        hist["val_bpd"].append(vb)
        hist["grad_norm_max"].append(gmax)
        if vb < best:
            best, hist["best_epoch"] = vb, epoch + 1
            best_state = copy.deepcopy(model.state_dict())
        if job is not None:
            job.progress(step_offset + epoch + 1, total, message)
        bar.set_postfix(val_bpd=f"{vb:.3f}")
        if patience is not None and epoch + 1 - hist["best_epoch"] >= int(patience):
            hist["stopped_epoch"] = epoch + 1
            break
    bar.close()
    return hist, best_state


def _optimizer(model: nn.Module, lr: float, weight_decay: float, schedule: str,
               n_steps: int) -> tuple[torch.optim.Optimizer, Any]:
    """Adam (AdamW with ``weight_decay`` > 0) and its per-step schedule (half cosine to 0 or constant)."""
    if schedule not in ("cosine", "constant"):
        raise ValueError(f"schedule must be 'cosine' or 'constant', got {schedule!r}")
    opt = (torch.optim.AdamW(model.parameters(), lr=lr, weight_decay=float(weight_decay)) if weight_decay > 0
           else torch.optim.Adam(model.parameters(), lr=lr))
    sched = torch.optim.lr_scheduler.LambdaLR(
        opt, (lambda k: 0.5 * (1.0 + math.cos(math.pi * min(k, n_steps) / n_steps))) if schedule == "cosine"
        else (lambda k: 1.0))
    return opt, sched


def _train_epoch(model: GatedPixelCNN, xt: torch.Tensor, ht: torch.Tensor | None, perm: torch.Tensor, b: int,
                 opt: torch.optim.Optimizer, sched: Any, job: Any,
                 clip_grad_norm: float | None = None) -> tuple[float, float]:
    """One pass over the training images in batches of ``b`` (order ``perm``), each step's gradient
    norm clipped at ``clip_grad_norm``; the mean NLL in nats and the largest gradient norm (before
    clipping)."""
    model.train()
    tot, cnt, gmax = 0.0, 0, 0.0
    limit = float("inf") if clip_grad_norm is None else float(clip_grad_norm)
    for s in range(0, len(perm) - b + 1, b):
        idx = perm[s : s + b].to(xt.device)
        loss = -model.log_prob(xt[idx], None if ht is None else ht[idx]).mean()
        opt.zero_grad(set_to_none=True)
        loss.backward()
        gmax = max(gmax, float(nn.utils.clip_grad_norm_(model.parameters(), limit)))
        opt.step()
        sched.step()
        tot += float(loss.detach()) * len(idx)
        cnt += len(idx)
        if job is not None:
            job.check()
    return tot / cnt, gmax


def _fit_task(arch: Mapping[str, Any], cond_shape: Sequence[int] | None, images: torch.Tensor,
              h: torch.Tensor | None, fit: Mapping[str, Any], seed: int, threads: int | None = None,
              job: Any = None, progress: bool = False, **offsets: Any) -> tuple[dict[str, torch.Tensor], dict[str, Any]]:
    """Fit one fresh inversion model (initial weights, split and data order from ``seed``) and
    return its CPU state and history: one job of a grid, picklable for a process pool or a
    ``dask.distributed`` worker (``threads`` sets the worker's torch threads)."""
    if threads is not None:
        torch.set_num_threads(int(threads))
    model = GatedPixelCNN(**dict(arch), cond_shape=None if cond_shape is None else tuple(cond_shape))
    init_parameters(model, torch.Generator().manual_seed(int(seed)))
    hist = fit_pixelcnn(model, images, h, seed=int(seed), job=job, progress=progress, **dict(fit), **offsets)
    return {k: v.detach().cpu() for k, v in model.state_dict().items()}, hist


def _gather(futures: dict[Any, Any], job: Any, epochs: int, poll_s: float = 0.05) -> dict[Any, Any]:
    """Wait for ``futures`` (``concurrent.futures`` or ``dask.distributed`` ones: ``done()``,
    ``result()``, ``cancel()``), reporting progress to ``job`` as each model finishes; when the
    job is cancelled the pending futures are cancelled (running ones finish unseen)."""
    pending, results = dict(futures), {}
    total = epochs * len(futures)
    try:
        while pending:
            for key in [k for k, f in pending.items() if f.done()]:
                results[key] = pending.pop(key).result()
                if job is not None:
                    job.progress(epochs * len(results), total, f"fitted {len(results)}/{len(futures)} models")
            if pending:
                if job is not None:
                    job.check()
                time.sleep(poll_s)
    except BaseException:
        for f in pending.values():
            f.cancel()
        raise
    return results


def run_fits(
    tasks: Mapping[Any, tuple[Sequence[int] | None, torch.Tensor | None]],
    arch: Mapping[str, Any],
    images: torch.Tensor,
    fit: Mapping[str, Any],
    seed: int,
    *,
    executor: Any = None,
    worker_threads: int | None = 1,
    job: Any = None,
    progress: bool = False,
) -> dict[Any, tuple[dict[str, torch.Tensor], dict[str, Any]]]:
    """Fit one inversion model per task ``{key: (cond_shape, h)}`` (``h`` ``None`` for an
    unconditional model), all with architecture ``arch``, budget ``fit`` and ``seed``; returns
    ``{key: (state_dict, history)}``.

    The models are independent jobs. With ``executor`` (anything with the
    ``concurrent.futures`` ``submit`` interface: a ``ProcessPoolExecutor``, a
    ``dask.distributed.Client``) each is submitted as one job, run with ``worker_threads`` torch
    threads; the results equal the serial ones for the same seed (same arithmetic, so bit-equal
    on the same machine with the same thread count). Without one they run here in turn, with
    per-epoch progress and cancellation through ``job``.
    """
    epochs = int(fit.get("epochs", 30))
    if executor is None:
        out = {}
        for k, (key, (shape, h)) in enumerate(tasks.items()):
            out[key] = _fit_task(arch, shape, images, h, fit, seed, job=job, progress=progress,
                                 step_offset=k * epochs, total_steps=epochs * len(tasks), message=f"fit {key}")
        return out
    if not callable(getattr(executor, "submit", None)):
        raise TypeError(f"executor must have a concurrent.futures-style submit(), got {type(executor).__name__}")
    futures = {key: executor.submit(_fit_task, dict(arch), None if shape is None else list(shape), images, h,
                                    dict(fit), int(seed), worker_threads)
               for key, (shape, h) in tasks.items()}
    return _gather(futures, job, epochs)


def fit_inversion_set(
    inversions: InversionSet,
    classifier: nn.Module | None,
    images: torch.Tensor,
    *,
    names: Sequence[str] | None = None,
    features: Mapping[str, torch.Tensor] | None = None,
    epochs: int = 30,
    batch_size: int = 32,
    lr: float = 1e-2,
    val_fraction: float = 0.1,
    seed: int = 0,
    schedule: str = "cosine",
    job: Any = None,
    progress: bool = False,
    executor: Any = None,
    worker_threads: int | None = 1,
    **fit: Any,
) -> dict[str, Any]:
    """Fit the models of an existing :class:`InversionSet` in place (see :func:`fit_inversions`).

    Each model is re-initialised from ``seed`` and trained with the same budget, validation split
    and data order; ``executor`` runs them as parallel jobs (see :func:`run_fits`); further
    keywords (``weight_decay``, ``patience``, ``clip_grad_norm``) go to :func:`fit_pixelcnn`. Returns
    ``{name: history}`` (also kept in ``inversions.histories``).
    """
    images = _check_images(images)
    names = list(inversions.names if names is None else names)
    layers = [n for n in names if n != "uncond"]
    feats = dict(features or {})
    missing = [l for l in layers if l not in feats]
    if missing:
        if classifier is None:
            raise ValueError(f"pass a classifier (or features) for layers {missing}")
        feats.update(layer_features(classifier, missing, images))
    budget = {"epochs": epochs, "batch_size": batch_size, "lr": lr, "val_fraction": val_fraction,
              "schedule": schedule, **fit}
    tasks = {n: (inversions[n].cond_shape, None if n == "uncond" else feats[n]) for n in names}
    results = run_fits(tasks, inversions.config["pixelcnn"], images, budget, int(seed), executor=executor,
                       worker_threads=worker_threads, job=job, progress=progress)
    histories: dict[str, Any] = {}
    for name in names:
        state, histories[name] = results[name]
        inversions[name].load_state_dict(state)
    inversions.histories.update(histories)
    inversions.eval()
    return histories


def fit_inversions(
    classifier: nn.Module,
    layers: Sequence[str],
    images: torch.Tensor,
    *,
    levels: int,
    pixelcnn: Mapping[str, Any] | None = None,
    include_uncond: bool = True,
    epochs: int | None = None,
    batch_size: int | None = None,
    lr: float | None = None,
    val_fraction: float = 0.1,
    seed: int = 0,
    schedule: str | None = None,
    job: Any = None,
    progress: bool = False,
    executor: Any = None,
    worker_threads: int | None = 1,
    **fit: Any,
) -> tuple[InversionSet, dict[str, Any]]:
    """Fit one conditional inversion model ``p(x | f_l(x))`` per layer (and the unconditional
    twin) on ``images``, all with the same architecture, budget, initial-weight seed, validation
    split and data order.

    Usable as a worker batch job: ``job`` receives progress (epochs over all models) and the job
    stops with :class:`~invwidgets.worker.Cancelled` when cancelled.

    Args:
        classifier: the frozen network (any ``nn.Module``).
        layers: layer names (module paths, ``probe_layers`` names, or ``"input"``).
        images: training images N×C×H×W in [0, 1] on ``levels`` levels.
        levels: number of pixel levels (``Dataset.levels``).
        pixelcnn: :class:`GatedPixelCNN` arguments, over the preset's (:func:`inversion_preset`,
            chosen from the image size, levels and number of images; at 8×8
            :data:`DEFAULT_PIXELCNN`).
        include_uncond: also fit the unconditional model under the name ``"uncond"``.
        epochs, batch_size, lr, val_fraction, seed, schedule: training budget (see :func:`fit_pixelcnn`);
            ``None`` takes the preset's.
        job, progress: worker job / tqdm.
        executor, worker_threads: run the models as parallel jobs on a ``concurrent.futures``
            executor or a ``dask.distributed.Client`` (see :func:`run_fits`); same results.
        fit: further :func:`fit_pixelcnn` keywords (``weight_decay``, ``patience``, ``clip_grad_norm``).

    Returns:
        The :class:`InversionSet` (eval mode) and ``{name: history}``.
    """
    images = _check_images(images)
    _n_val(images.shape[0], val_fraction)  # before computing features: enough images to fit on?
    layers = list(layers)
    if not layers and not include_uncond:
        raise ValueError("nothing to fit: no layers and include_uncond=False")
    if "uncond" in layers:
        raise ValueError("'uncond' is reserved for the unconditional model")
    feats = layer_features(classifier, layers, images) if layers else {}
    arch, budget = _with_preset(images, levels, pixelcnn, {"epochs": epochs, "batch_size": batch_size, "lr": lr,
                                                            "schedule": schedule, **fit})
    inv = build_inversion_set(images.shape[1:], levels, {l: tuple(feats[l].shape[1:]) for l in layers},
                              pixelcnn=arch, include_uncond=include_uncond)
    hist = fit_inversion_set(inv, classifier, images, features=feats, val_fraction=val_fraction, seed=seed, job=job,
                             progress=progress, executor=executor, worker_threads=worker_threads, **budget)
    return inv, hist


def _with_preset(images: torch.Tensor, levels: int, pixelcnn: Mapping[str, Any] | None,
                 fit: Mapping[str, Any]) -> tuple[dict[str, Any], dict[str, Any]]:
    """The preset's architecture and budget with the given (non-``None``) values over them."""
    preset = inversion_preset(images.shape[1:], levels, images.shape[0])
    arch = {**preset["pixelcnn"], **dict(pixelcnn or {})}
    budget = {**preset["fit"], **{k: v for k, v in fit.items() if v is not None}}
    return arch, budget


def build_inversion_set(
    image_shape: Sequence[int],
    levels: int,
    cond_shapes: Mapping[str, Sequence[int]],
    *,
    pixelcnn: Mapping[str, Any] | None = None,
    include_uncond: bool = True,
    source: Mapping[str, Any] | None = None,
) -> InversionSet:
    """An untrained :class:`InversionSet` for images of ``image_shape`` (C, H, W) on ``levels``
    levels, with one conditional model per ``cond_shapes`` entry (plus ``"uncond"``)."""
    c, hh, ww = (int(s) for s in image_shape)
    if hh != ww:
        raise ValueError(f"images must be square, got {tuple(image_shape)}")
    arch = {**DEFAULT_PIXELCNN, **dict(pixelcnn or {})}
    arch.update(in_channels=c, image_size=hh, levels=int(levels))
    shapes: dict[str, Any] = {"uncond": None} if include_uncond else {}
    shapes.update({str(k): list(v) for k, v in cond_shapes.items()})
    return InversionSet(arch, shapes, source=source)


@dataclass
class LayerMI:
    """Î(x; h) for one layer: bits, bits per dimension, and the bootstrap interval (bits)."""

    layer: str
    mi_bits: float
    ci_low: float
    ci_high: float
    cond_entropy_bits: float
    dims: int
    #: The diagnostics raised for this layer, including those on the whole estimate.
    flags: list[MIFlag] = field(default_factory=list)

    @property
    def mi_bpd(self) -> float:
        """Î in bits per dimension."""
        return self.mi_bits / self.dims

    @property
    def flagged(self) -> bool:
        """Whether any diagnostic flags this layer's number."""
        return bool(self.flags)

    def as_dict(self) -> dict[str, Any]:
        """Plain JSON-ready dict."""
        return {"layer": self.layer, "mi_bits": self.mi_bits, "ci_low": self.ci_low, "ci_high": self.ci_high,
                "cond_entropy_bits": self.cond_entropy_bits, "mi_bpd": self.mi_bpd,
                "flags": [f.as_dict() for f in self.flags]}


@dataclass
class MIEstimate:
    """Held-out estimates: Ĥ(x) (bits per image, with interval) and Î per layer, with the
    diagnostics of :mod:`~invwidgets.methods.inversion_diagnostics` (``flags``; ``unchecked``
    says which checks could not run and why)."""

    h_x_bits: float
    h_x_ci: tuple[float, float]
    dims: int
    layers: dict[str, LayerMI] = field(default_factory=dict)
    confidence: float = 0.95
    n_test: int = 0
    flags: list[MIFlag] = field(default_factory=list)
    unchecked: dict[str, str] = field(default_factory=dict)

    @property
    def clean(self) -> bool:
        """``True`` when no diagnostic flag was raised."""
        return not self.flags

    def attach(self, flags: Sequence[MIFlag], unchecked: Mapping[str, str] | None = None) -> MIEstimate:
        """Set ``flags`` (and ``unchecked``) and give each layer its own flags plus those on the
        whole estimate (``layer=None``); returns ``self``."""
        self.flags = list(flags)
        if unchecked is not None:
            self.unchecked = dict(unchecked)
        for name, r in self.layers.items():
            r.flags = [f for f in self.flags if f.layer in (None, name)]
        return self

    @property
    def h_x_bpd(self) -> float:
        """Ĥ(x) in bits per dimension."""
        return self.h_x_bits / self.dims

    def mi(self, layer: str) -> float:
        """Î in bits of ``layer``."""
        return self.layers[layer].mi_bits

    def as_dict(self) -> dict[str, Any]:
        """Plain JSON-ready dict."""
        return {"h_x_bits": self.h_x_bits, "h_x_ci": list(self.h_x_ci), "h_x_bpd": self.h_x_bpd, "dims": self.dims,
                "confidence": self.confidence, "n_test": self.n_test,
                "layers": {k: v.as_dict() for k, v in self.layers.items()},
                "flags": [f.as_dict() for f in self.flags], "unchecked": dict(self.unchecked)}


def _percentile_ci(boot: torch.Tensor, confidence: float) -> tuple[float, float]:
    a = (1 - confidence) / 2
    q = torch.quantile(boot, torch.tensor([a, 1 - a], dtype=boot.dtype))
    return float(q[0]), float(q[1])


@torch.no_grad()
def head_accuracy(classifier: nn.Module, images: torch.Tensor, labels: torch.Tensor,
                  batch_size: int = 512) -> tuple[float, int, list[float]]:
    """Accuracy of ``classifier``'s own head on ``(images, labels)``, the number of classes (the
    width of its logits) and the labels' class frequencies: what :func:`mutual_information` turns
    into Fano lower bounds."""
    labels = torch.as_tensor(labels).long().flatten()
    if labels.shape[0] != images.shape[0]:
        raise ValueError(f"labels has {labels.shape[0]} entries but images has {images.shape[0]}")
    clf = as_classifier(classifier)
    was = clf.training
    clf.eval()
    try:
        logits = torch.cat([clf.logits(images[s : s + batch_size]).float().cpu()
                            for s in range(0, images.shape[0], batch_size)])
    finally:
        clf.train(was)
    k = int(logits.shape[1])
    if int(labels.max()) >= k or int(labels.min()) < 0:
        raise ValueError(f"labels must lie in [0, {k - 1}] for a classifier with {k} outputs")
    acc = float((logits.argmax(1) == labels).double().mean())
    probs = (torch.bincount(labels, minlength=k).double() / labels.shape[0]).tolist()
    return acc, k, probs


def _chain(chain: bool | Sequence[str], layers: list[str]) -> list[str] | None:
    if chain is True:
        return list(layers)
    if chain is False or chain is None:
        return None
    return [str(l) for l in chain]


def _fano_inputs(classifier: nn.Module | None, images: torch.Tensor, labels: torch.Tensor | None,
                 chain: list[str] | None, accuracy: Mapping[str, float] | None,
                 num_classes: int | None) -> tuple[dict[str, float], int | None, list[float] | None, str | None]:
    """Per-layer readout accuracies: the model's own head for every layer of the chain (the
    logits are a function of each of them), overridden by ``accuracy``; and why the head could
    not be read (labels that do not fit its outputs), or ``None``."""
    acc: dict[str, float] = {}
    probs, why = None, None
    if labels is not None and classifier is not None and chain is not None:
        try:
            a, num_classes, probs = head_accuracy(classifier, images, labels)
            acc = {l: a for l in chain}
        except ValueError as exc:  # e.g. labels of another task than the network's outputs
            why = f"the classifier's head could not be scored on the labels: {exc}"
    acc.update({str(k): float(v) for k, v in (accuracy or {}).items()})
    return acc, num_classes, probs, why


@torch.no_grad()
def mutual_information(
    inversions: InversionSet,
    classifier: nn.Module | None,
    images: torch.Tensor,
    *,
    layers: Sequence[str] | None = None,
    features: Mapping[str, torch.Tensor] | None = None,
    n_boot: int = 1000,
    confidence: float = 0.95,
    seed: int | torch.Generator = 0,
    labels: torch.Tensor | None = None,
    chain: bool | Sequence[str] = True,
    accuracy: Mapping[str, float] | None = None,
    num_classes: int | None = None,
    histories: Mapping[str, Mapping[str, Any]] | None = None,
    min_test: int = 100,
) -> MIEstimate:
    """Î(x; f_l(x)) = Ĥ(x) − Ĥ(x | f_l(x)) in bits on held-out ``images``, with paired bootstrap
    intervals (the same resampled images for Ĥ(x) and Ĥ(x | h)) and the diagnostics of
    :func:`~invwidgets.methods.inversion_diagnostics.diagnose` in ``flags``.

    Args:
        inversions: fitted models, including ``"uncond"``.
        classifier: the network whose layers are read (``None`` if ``features`` are given).
        images: held-out images (at least 2: the interval is a bootstrap over them).
        layers: which layers (default: all of ``inversions.layers``).
        features: precomputed ``{layer: f_l(images)}`` (optional).
        n_boot: bootstrap resamples.
        confidence: interval coverage.
        seed: seed or generator of the bootstrap.
        labels: the images' class labels: the classifier's own accuracy on them gives a Fano lower
            bound for every layer of the chain.
        chain: ``True`` (the default): ``layers`` in the order given are a feed-forward chain (each
            a function of the one before), checked against the data-processing inequality with
            paired intervals; a sequence names the chain; ``False`` for layers that are not one.
        accuracy: accuracy of a readout (e.g. a probe) per layer, added to (and overriding) the
            head's, with ``num_classes`` when no ``labels`` are given.
        histories: fit histories per model name (default: ``inversions.histories`` when the set
            was fitted or loaded with them), checked for overfitting.
        min_test: fewest held-out images for an interval without a ``few_test`` flag.
    """
    images = _check_images(images)
    if images.shape[0] < 2:
        raise ValueError(
            f"mutual_information needs at least 2 held-out images, got {images.shape[0]}: with one image every "
            "bootstrap resample is the same and the interval has zero width"
        )
    if "uncond" not in inversions:
        raise ValueError("mutual_information needs the unconditional model 'uncond' in the InversionSet")
    layers = list(inversions.layers if layers is None else layers)
    if features is None:
        if classifier is None:
            raise ValueError("pass a classifier or precomputed features")
        features = layer_features(classifier, layers, images)
    g = seed if isinstance(seed, torch.Generator) else torch.Generator().manual_seed(int(seed))
    n, dims = images.shape[0], images[0].numel()
    base = nll_bits(inversions["uncond"], images)
    idx = torch.randint(0, n, (int(n_boot), n), generator=g)
    est = MIEstimate(h_x_bits=float(base.mean()), h_x_ci=_percentile_ci(base[idx].mean(1), confidence),
                     dims=dims, confidence=confidence, n_test=n)
    diffs: dict[str, torch.Tensor] = {}
    for layer in layers:
        cond = nll_bits(inversions[layer], images, features[layer])
        diffs[layer] = base - cond
        lo, hi = _percentile_ci(diffs[layer][idx].mean(1), confidence)
        est.layers[layer] = LayerMI(layer, float(diffs[layer].mean()), lo, hi, float(cond.mean()), dims)
    links = _chain(chain, layers)
    present = [l for l in (links or []) if l in diffs]
    steps = {(a, b): _percentile_ci((diffs[b] - diffs[a])[idx].mean(1), confidence)
             for a, b in zip(present, present[1:])}
    acc, k, probs, why = _fano_inputs(classifier, images, labels, links, accuracy, num_classes)
    hist = histories if histories is not None else getattr(inversions, "histories", None)
    flags, unchecked = diagnose(est, chain=links, steps=steps, histories=hist, accuracy=acc, num_classes=k,
                                class_probs=probs, min_test=min_test)
    if why is not None and "fano" in unchecked:
        unchecked["fano"] = why
    return est.attach(flags, unchecked)


@torch.no_grad()
def entropy_map(model: GatedPixelCNN, x: torch.Tensor, h: torch.Tensor | None = None) -> torch.Tensor:
    """Per-pixel conditional entropy ``H(x_i | x_<i, h)`` in bits for one image ``x`` (C×H×W or
    1×C×H×W), given its true previous pixels; returns H×W (summed over channels)."""
    if x.ndim == 3:
        x = x.unsqueeze(0)
    if h is not None and h.ndim == (len(model.cond_shape or ()) if model.cond_shape else 0):
        h = h.unsqueeze(0)
    was = model.training
    model.eval()
    dev = module_device(model)
    try:
        ent = model.pixel_entropy(x.to(dev), None if h is None else h.to(dev))
    finally:
        model.train(was)
    return ent[0].sum(0).cpu()


@torch.no_grad()
def sample_inversion(
    inversions: InversionSet,
    classifier: nn.Module | None,
    layer: str,
    x: torch.Tensor,
    n: int = 8,
    *,
    generator: torch.Generator | int = 0,
    method: str = "fast",
    temperature: float = 1.0,
    h: torch.Tensor | None = None,
    job: Any = None,
) -> torch.Tensor:
    """``n`` samples of ``p(x' | f_l(x))`` for one input ``x`` (C×H×W or 1×C×H×W), shape n×C×H×W.

    ``layer="uncond"`` samples the unconditional model. ``h`` may be given instead of computing
    ``f_l(x)`` with ``classifier``.
    """
    g = generator if isinstance(generator, torch.Generator) else torch.Generator().manual_seed(int(generator))
    model = inversions[layer]
    if layer == "uncond":
        return model.sample(n, None, g, method=method, temperature=temperature, job=job).cpu()
    if h is None:
        if x.ndim == 3:
            x = x.unsqueeze(0)
        if classifier is None:
            raise ValueError("pass a classifier or h")
        h = layer_features(classifier, [layer], x[:1])[layer]
    elif h.ndim == len(model.cond_shape or ()):
        h = h.unsqueeze(0)
    hb = h[:1].expand(int(n), *h.shape[1:]).contiguous()
    return model.sample(None, hb, g, method=method, temperature=temperature, job=job).cpu()


@dataclass
class CheckpointMI:
    """Î per layer over training checkpoints: ``estimates[epoch]`` is an :class:`MIEstimate`."""

    epochs: list[int]
    layers: list[str]
    estimates: dict[int, MIEstimate]

    def curve(self, layer: str) -> list[float]:
        """Î (bits) of ``layer`` at each epoch."""
        return [self.estimates[e].mi(layer) for e in self.epochs]

    def intervals(self, layer: str) -> list[tuple[float, float]]:
        """Bootstrap intervals of ``layer`` at each epoch."""
        return [(self.estimates[e].layers[layer].ci_low, self.estimates[e].layers[layer].ci_high) for e in self.epochs]

    def as_dict(self) -> dict[str, Any]:
        """Plain JSON-ready dict."""
        return {"epochs": self.epochs, "layers": self.layers,
                "estimates": {str(e): self.estimates[e].as_dict() for e in self.epochs}}


def mi_over_checkpoints(
    checkpoints: Mapping[int, nn.Module],
    layers: Sequence[str],
    train_images: torch.Tensor,
    test_images: torch.Tensor,
    *,
    levels: int,
    inversions: Mapping[int, InversionSet] | None = None,
    pixelcnn: Mapping[str, Any] | None = None,
    epochs: int | None = None,
    seed: int = 0,
    n_boot: int = 1000,
    labels: torch.Tensor | None = None,
    job: Any = None,
    progress: bool = False,
    executor: Any = None,
    worker_threads: int | None = 1,
    **fit: Any,
) -> tuple[CheckpointMI, dict[int, InversionSet]]:
    """Î per layer at each classifier checkpoint (epoch → model): a fresh conditional model per
    (checkpoint, layer), one shared unconditional model, all with the same budget and seed.

    ``inversions`` may hold already-fitted sets per epoch (then nothing is fitted for them; each
    must include ``"uncond"``). Architecture and budget come from :func:`inversion_preset` unless
    given (``pixelcnn``, ``epochs``, further :func:`fit_pixelcnn` keywords). The (checkpoint, layer) models are independent jobs: ``executor``
    (a ``concurrent.futures`` executor or a ``dask.distributed.Client``) runs them in parallel with
    the same results (see :func:`run_fits`). ``labels`` (of ``test_images``) enable the Fano check
    of every estimate. Returns the estimates and the fitted sets.
    """
    train_images, test_images = _check_images(train_images, "train_images"), _check_images(test_images, "test_images")
    layers = list(layers)
    eps = sorted(int(e) for e in checkpoints)
    fitted: dict[int, InversionSet] = dict(inversions or {})
    todo = [e for e in eps if e not in fitted]
    arch, budget = _with_preset(train_images, levels, pixelcnn, {"epochs": epochs, **fit})
    arch.update(in_channels=int(train_images.shape[1]), image_size=int(train_images.shape[-1]), levels=int(levels))
    tasks: dict[Any, tuple[Sequence[int] | None, torch.Tensor | None]] = {}
    if todo:
        tasks["uncond"] = (None, None)
    for e in todo:
        feats = layer_features(checkpoints[e], layers, train_images)
        tasks.update({(e, l): (tuple(feats[l].shape[1:]), feats[l]) for l in layers})
    results = run_fits(tasks, arch, train_images, budget, int(seed), executor=executor,
                       worker_threads=worker_threads, job=job, progress=progress)
    for e in todo:
        inv = InversionSet(arch, {"uncond": None, **{l: list(tasks[(e, l)][0] or ()) for l in layers}})
        for name in ["uncond", *layers]:
            state, hist = results["uncond" if name == "uncond" else (e, name)]
            inv[name].load_state_dict(state)
            inv.histories[name] = hist
        fitted[e] = inv.eval()
    estimates = {e: mutual_information(fitted[e], checkpoints[e], test_images, layers=layers, n_boot=n_boot, seed=seed,
                                       labels=labels)
                 for e in eps}
    return CheckpointMI(eps, list(layers), estimates), fitted
