"""The zoo's registries: known architectures, known datasets, and one declarative entry per model.

Cards (JSON) name an architecture class and a dataset by *string*; they are resolved here, against
classes and functions registered in code. Nothing from a file is imported or executed, and an
unknown name is an error.

To add a model, register one :class:`ZooEntry` (see :mod:`invwidgets.zoo.entries`)::

    register_entry(ZooEntry(
        name="vae-sprites",
        architecture="ConvAutoencoder",
        config={"in_channels": 1, "image_size": 32, "latent_dim": 8, "variational": True},
        dataset="sprites", dataset_kwargs={"size": 32},
        train_fn=train_autoencoder, metric_fn=reconstruction_metrics,
        hyperparameters={"steps": 3000, "batch_size": 64, "lr": 1e-3, "beta": 1.0},
        primary_metric="test_bce_per_pixel",
    ))
"""

from __future__ import annotations

from collections.abc import Callable, Mapping
from dataclasses import dataclass, field
from typing import Any

import torch
from torch import nn

from invwidgets.data import BaseDataset, color_digits, digits, helix, sprites
from invwidgets.models import ConvAutoencoder, MLPAutoencoder, SmallCNN

__all__ = [
    "ARCHITECTURES",
    "DATASETS",
    "ENTRIES",
    "MetricFn",
    "TrainFn",
    "ZooEntry",
    "build_dataset",
    "get_architecture",
    "get_entry",
    "register_architecture",
    "register_dataset",
    "register_entry",
]

#: ``train_fn(model, train_set, hyperparameters, generator, progress) -> history`` trains in place;
#: the history is a small JSON-serialisable dict (e.g. a subsampled loss curve).
TrainFn = Callable[[nn.Module, BaseDataset, Mapping[str, Any], torch.Generator, bool], dict[str, Any]]
#: ``metric_fn(model, test_set) -> {metric name: float}`` evaluates a trained model (eval mode).
MetricFn = Callable[[nn.Module, BaseDataset], dict[str, float]]

#: Architecture class name → class. Only these can be built from a card.
ARCHITECTURES: dict[str, type[nn.Module]] = {}
#: Dataset name → builder function taking the card's keyword arguments.
DATASETS: dict[str, Callable[..., BaseDataset]] = {}
#: Model name → entry.
ENTRIES: dict[str, ZooEntry] = {}


def register_architecture(cls: type[nn.Module]) -> type[nn.Module]:
    """Make ``cls`` buildable from cards under its ``__name__`` (usable as a class decorator).

    The class must accept its card ``config`` as keyword arguments and expose the same dict as
    ``model.config``.

    Raises:
        TypeError: if ``cls`` is not an ``nn.Module`` subclass.
        ValueError: if another class is registered under the same name.
    """
    if not (isinstance(cls, type) and issubclass(cls, nn.Module)):
        raise TypeError(f"only nn.Module subclasses can be registered, got {cls!r}")
    existing = ARCHITECTURES.get(cls.__name__)
    if existing is not None and existing is not cls:
        raise ValueError(f"another architecture is already registered as {cls.__name__!r}")
    ARCHITECTURES[cls.__name__] = cls
    return cls


def register_dataset(name: str, builder: Callable[..., BaseDataset]) -> None:
    """Register a dataset builder under ``name`` for use in entries and cards.

    Raises:
        ValueError: if a different builder is already registered under ``name``.
    """
    existing = DATASETS.get(name)
    if existing is not None and existing is not builder:
        raise ValueError(f"another dataset is already registered as {name!r}")
    DATASETS[name] = builder


def get_architecture(name: str) -> type[nn.Module]:
    """The registered class called ``name``.

    Raises:
        ValueError: for an unknown class name (cards cannot name arbitrary classes).
    """
    if not isinstance(name, str) or name not in ARCHITECTURES:
        raise ValueError(f"unknown architecture class {name!r}; known classes: {sorted(ARCHITECTURES)}")
    return ARCHITECTURES[name]


def build_dataset(name: str, kwargs: Mapping[str, Any] | None = None) -> BaseDataset:
    """Build the registered dataset ``name`` with ``kwargs``.

    Raises:
        ValueError: for an unknown dataset name.
    """
    if not isinstance(name, str) or name not in DATASETS:
        raise ValueError(f"unknown dataset {name!r}; known datasets: {sorted(DATASETS)}")
    return DATASETS[name](**dict(kwargs or {}))


@dataclass(frozen=True)
class ZooEntry:
    """One trainable zoo model, declared in code.

    Attributes:
        name: the model's zoo name (file stem of its weights and card).
        architecture: a class name registered in :data:`ARCHITECTURES`.
        config: constructor keyword arguments (JSON values only).
        dataset: a dataset name registered in :data:`DATASETS`.
        dataset_kwargs: keyword arguments of the dataset builder.
        train_fn: trains the model in place (see :data:`TrainFn`).
        metric_fn: evaluates it on the test split (see :data:`MetricFn`).
        hyperparameters: passed to ``train_fn``; ``threads`` (default 1) sets torch's thread
            count during training, which keeps retraining bit-identical.
        primary_metric: the key of ``metric_fn``'s result to show first.
        seed: default seed of parameter initialisation and data order.
        test_fraction: held-out fraction of the (stratified) split.
        split_seed: seed of the split.
        description: one line for listings.
    """

    name: str
    architecture: str
    config: Mapping[str, Any]
    dataset: str
    dataset_kwargs: Mapping[str, Any]
    train_fn: TrainFn
    metric_fn: MetricFn
    hyperparameters: Mapping[str, Any]
    primary_metric: str
    seed: int = 0
    test_fraction: float = 0.2
    split_seed: int = 0
    description: str = ""
    tags: tuple[str, ...] = field(default_factory=tuple)


def register_entry(entry: ZooEntry) -> ZooEntry:
    """Add ``entry`` to :data:`ENTRIES` after checking its names resolve.

    Raises:
        ValueError: for a duplicate name, an unknown architecture or dataset.
    """
    if entry.name in ENTRIES and ENTRIES[entry.name] is not entry:
        raise ValueError(f"a zoo entry named {entry.name!r} already exists")
    get_architecture(entry.architecture)
    if entry.dataset not in DATASETS:
        raise ValueError(f"entry {entry.name!r} uses unknown dataset {entry.dataset!r}")
    ENTRIES[entry.name] = entry
    return entry


def get_entry(name: str) -> ZooEntry:
    """The registered entry called ``name``.

    Raises:
        ValueError: for an unknown name, listing the known ones.
    """
    if name not in ENTRIES:
        raise ValueError(f"unknown zoo model {name!r}; registered models: {sorted(ENTRIES)}")
    return ENTRIES[name]


for _cls in (ConvAutoencoder, MLPAutoencoder, SmallCNN):
    register_architecture(_cls)
for _name, _builder in (("digits", digits), ("color_digits", color_digits), ("sprites", sprites), ("helix", helix)):
    register_dataset(_name, _builder)
