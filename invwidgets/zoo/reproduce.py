"""Retrain zoo models reproducibly and recompute their metrics."""

from __future__ import annotations

import contextlib
import math
import time
from collections.abc import Iterator, Mapping
from pathlib import Path
from typing import Any

import torch
from torch import nn

from invwidgets.data import BaseDataset
from invwidgets.models import init_parameters

from . import locations
from .files import CARD_FORMAT, build_model
from .locations import card, load
from .registry import ZooEntry, build_dataset, get_entry

__all__ = [
    "DEFAULT_TOLERANCE",
    "METRIC_TOLERANCES",
    "metric_mismatches",
    "metric_reproduces",
    "train",
    "evaluate",
    "test_split",
]

#: How closely a metric recomputed from shipped weights must match its card (docs/reproducibility.md).
#: float32 results differ in the last bits across CPUs, BLAS kernels and thread counts, so no
#: metric is compared for equality. Keys are metric-name prefixes (the longest match wins):
#:
#: * ``bound`` and ``floor``: the metric measures rounding error itself (max |T⁻¹(T(z)) − z|), so
#:   the card is an upper bound, not a value: recomputed ≤ max(card × bound, floor). A broken
#:   inverse gives errors of order 1e-2 to 1.
#: * ``rel`` and ``abs``: |recomputed − card| ≤ abs + rel × |card|.
#:
#: ``test_accuracy`` may move by one test image (1/359) and ``sensitivity_*`` by one flipped
#: prediction among the 100 × 100 resampled ones (at most 9 · √(0.99 · 0.01) / 100 ≈ 0.009):
#: both come from an argmax, which a last-bit change can flip at a tie. Î (``mi_*``) is a
#: difference of two entropies of about 120 bits, so its deviations are absolute (up to 2.6e-5
#: bits measured); MIG and DCI bin codes or fit a regressor (up to 1.1e-4 measured).
METRIC_TOLERANCES: dict[str, dict[str, float]] = {
    "inverse_error": {"bound": 10.0, "floor": 1e-5},
    "inverse_error_rel": {"bound": 10.0, "floor": 1e-6},
    "test_accuracy": {"rel": 0.0, "abs": 0.003},
    "sensitivity_": {"rel": 0.0, "abs": 0.01},
    "mi_": {"rel": 1e-5, "abs": 1e-3},
    "mig": {"rel": 0.0, "abs": 2e-3},
    "dci_": {"rel": 0.0, "abs": 2e-3},
}
#: Every other metric: 140× the largest relative deviation measured across kernels and thread
#: counts (7.1e-7, a reconstruction error), and an absolute floor for values near zero.
DEFAULT_TOLERANCE: dict[str, float] = {"rel": 1e-4, "abs": 1e-9}


@contextlib.contextmanager
def _threads(n: int) -> Iterator[None]:
    """Run with ``n`` intra-op threads, restoring the previous count afterwards."""
    previous = torch.get_num_threads()
    torch.set_num_threads(int(n))
    try:
        yield
    finally:
        torch.set_num_threads(previous)


def _splits(dataset_spec: dict[str, Any]) -> tuple[BaseDataset, BaseDataset]:
    data = build_dataset(dataset_spec["name"], dataset_spec.get("kwargs", {}))
    split = dataset_spec.get("split", {})
    return data.split(test_fraction=float(split.get("test_fraction", 0.2)), seed=int(split.get("seed", 0)))


def _dataset_spec(entry: ZooEntry) -> dict[str, Any]:
    return {
        "name": entry.dataset,
        "kwargs": dict(entry.dataset_kwargs),
        "split": {"test_fraction": entry.test_fraction, "seed": entry.split_seed, "stratified": True},
    }


def _tolerance(key: str) -> dict[str, float]:
    matches = [p for p in METRIC_TOLERANCES if key.startswith(p)]
    return METRIC_TOLERANCES[max(matches, key=len)] if matches else DEFAULT_TOLERANCE


def metric_reproduces(key: str, recomputed: float, recorded: float) -> bool:
    """Whether metric ``key`` recomputed on this machine reproduces the value its card records.

    Error metrics (``inverse_error*``) must stay below ``max(recorded × bound, floor)``; every
    other metric within ``abs + rel × |recorded|`` (see :data:`METRIC_TOLERANCES`). NaN never
    reproduces.
    """
    recomputed, recorded = float(recomputed), float(recorded)
    if math.isnan(recomputed) or math.isnan(recorded):
        return False
    tol = _tolerance(key)
    if "bound" in tol:
        return recomputed <= max(recorded * tol["bound"], tol["floor"])
    return abs(recomputed - recorded) <= tol["abs"] + tol["rel"] * abs(recorded)


def metric_mismatches(recomputed: Mapping[str, float], recorded: Mapping[str, float]) -> list[str]:
    """Every way ``recomputed`` fails to reproduce a card's ``recorded`` metrics, as readable lines.

    An empty list means the card reproduces. Missing or extra metric names are mismatches too.
    """
    out = [f"{k}: on the card but not recomputed" for k in recorded if k not in recomputed]
    out += [f"{k}: recomputed but not on the card" for k in recomputed if k not in recorded]
    for k in recorded:
        if k in recomputed and not metric_reproduces(k, recomputed[k], recorded[k]):
            tol = _tolerance(k)
            rule = (f"must be <= max(card x {tol['bound']:g}, {tol['floor']:g})" if "bound" in tol
                    else f"tolerance abs {tol['abs']:g} + rel {tol['rel']:g}")
            out.append(f"{k}: card {recorded[k]!r}, recomputed {float(recomputed[k])!r} ({rule})")
    return out


def test_split(name: str) -> BaseDataset:
    """The held-out test set of zoo model ``name``, as described by its entry."""
    return _splits(_dataset_spec(get_entry(name)))[1]


test_split.__test__ = False  # not a pytest test despite the name


def train(
    name: str,
    seed: int | None = None,
    progress: bool = True,
    save: bool = False,
    directory: str | Path | None = None,
    **hyperparameters: Any,
) -> tuple[nn.Module, dict[str, Any]]:
    """Retrain zoo model ``name`` from scratch and return ``(model, card)``.

    Initial weights (:func:`~invwidgets.models.init_parameters`), data order and posterior samples
    all come from one ``torch.Generator`` seeded with ``seed``, and training runs with the entry's
    ``threads`` (default 1) intra-op threads, so the same seed gives bit-identical weights on the
    same machine.

    Args:
        name: a registered zoo name.
        seed: the seed (default: the entry's).
        progress: show a tqdm progress bar.
        save: also write the weights and card (see :func:`~invwidgets.zoo.save`).
        directory: where to save (default: :func:`~invwidgets.zoo.user_dir`; the shipped files
            inside the package are written only when their folder is passed explicitly).
        **hyperparameters: overrides of the entry's training hyperparameters (e.g. ``steps=10``
            for a quick run).

    Returns:
        The trained model (eval mode) and its card: name, architecture class and config, dataset
        with its arguments and split, seed, training hyperparameters and loss history, metrics on
        the test split, training time in seconds and torch version.

    Raises:
        ValueError: for an unknown name or hyperparameter.
    """
    entry = get_entry(name)
    seed = entry.seed if seed is None else int(seed)
    hp = {**entry.hyperparameters, **hyperparameters}
    spec = _dataset_spec(entry)
    train_set, test_set = _splits(spec)
    generator = torch.Generator().manual_seed(seed)
    with _threads(int(hp.get("threads", 1))):
        model = init_parameters(build_model(entry.architecture, dict(entry.config)), generator)
        start = time.perf_counter()
        history = entry.train_fn(model, train_set, hp, generator, progress)
        elapsed = time.perf_counter() - start
        model.eval()
        metrics = entry.metric_fn(model, test_set)
    c: dict[str, Any] = {
        "name": entry.name,
        "description": entry.description,
        "format": CARD_FORMAT,
        "architecture": {"class": entry.architecture, "config": dict(entry.config)},
        "dataset": spec,
        "seed": seed,
        "training": {"function": entry.train_fn.__name__, "hyperparameters": hp, "history": history},
        "metrics": {k: float(v) for k, v in metrics.items()},
        "metric_function": entry.metric_fn.__name__,
        "primary_metric": entry.primary_metric,
        "train_time_s": round(elapsed, 3),
        "torch_version": torch.__version__,
    }
    if save:
        path = locations.save(model, c, directory)
        c = locations.card(name, path.parent)
    return model, c


def evaluate(
    name_or_model: str | nn.Module,
    name: str | None = None,
    directory: str | Path | None = None,
) -> dict[str, float]:
    """Recompute a zoo model's metrics on its test split.

    Args:
        name_or_model: a zoo name (the saved model and its card are loaded), or a model.
        name: for a model, the zoo entry whose dataset, split and metric to use.
        directory: folder of the saved files (default: the zoo's search path, see
            :mod:`invwidgets.zoo.locations`).

    Returns:
        ``{metric: value}`` as computed by the entry's metric function.

    Raises:
        ValueError: for a model without ``name``, or an unknown name.
    """
    if isinstance(name_or_model, str):
        name = name_or_model
        c = card(name, directory)
        model = load(name, directory=directory)
        spec = c["dataset"]
    else:
        if name is None:
            raise ValueError("evaluate(model) needs name= to know which dataset and metric to use")
        model = name_or_model
        spec = _dataset_spec(get_entry(name))
    entry = get_entry(name)
    _, test_set = _splits(spec)
    threads = int(entry.hyperparameters.get("threads", 1))
    with _threads(threads):
        return {k: float(v) for k, v in entry.metric_fn(model, test_set).items()}
