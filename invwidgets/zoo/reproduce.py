"""Retrain zoo models reproducibly and recompute their metrics."""

from __future__ import annotations

import contextlib
import time
from collections.abc import Iterator
from pathlib import Path
from typing import Any

import torch
from torch import nn

from invwidgets.data import BaseDataset
from invwidgets.models import init_parameters

from . import files
from .files import CARD_FORMAT, build_model, card, load
from .registry import ZooEntry, build_dataset, get_entry

__all__ = ["train", "evaluate", "test_split"]


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
        directory: where to save (default: the package's weights folder).
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
        files.save(model, c, directory)
        c = files.card(name, directory)
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
        directory: folder of the saved files (default: the package's weights folder).

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
