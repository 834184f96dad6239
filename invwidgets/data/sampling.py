"""Index sampling over factors: exact one-factor traversals and pairs that share or differ in a factor."""

from __future__ import annotations

from typing import Any

import numpy as np
import torch

from .dataset import BaseDataset, mixed_radix_index

__all__ = ["traversal", "random_traversals", "sample_pairs"]


def _factor_column(dataset: BaseDataset, factor: str | int) -> tuple[torch.Tensor, int]:
    """Values of one factor (or the labels for ``factor == "label"``) and their number."""
    if factor == "label":
        if dataset.labels is None:
            raise ValueError(f"dataset {dataset.name!r} has no labels")
        return dataset.labels, int(dataset.labels.max()) + 1
    k = dataset.factor_index(factor)
    assert dataset.factors is not None and dataset.factor_sizes is not None
    return dataset.factors[:, k], dataset.factor_sizes[k]


def traversal(dataset: BaseDataset, factor: str | int, base: int | Any | None = None) -> torch.Tensor:
    """Indices of an exact one-factor traversal: every value of ``factor``, all others fixed.

    Args:
        dataset: a dataset with factors (a full factorial grid such as :func:`sprites`, or any
            dataset that contains every required combination).
        factor: the factor to vary, by name or position.
        base: the sample whose other factor values are kept: an index, a sequence of K factor
            values, or ``None`` for index 0.

    Returns:
        Int64 indices of shape ``(factor_size,)``; element ``v`` has factor value ``v``.

    Raises:
        ValueError: if the dataset has no factors, the factor is unknown, ``base`` is out of
            range, or a combination needed by the traversal is absent from the dataset.
    """
    k = dataset.factor_index(factor)
    assert dataset.factor_sizes is not None
    if base is None:
        base = 0
    if isinstance(base, bool):
        raise TypeError("base must be an index or a sequence of factor values, got bool")
    values = torch.as_tensor(np.asarray(base) if isinstance(base, (np.ndarray, np.integer)) else base)
    if values.ndim == 0:
        values = dataset.factors_of(values)
    else:
        if values.ndim != 1:
            raise ValueError(f"base must be an index or a sequence of {len(dataset.factor_sizes)} factor values")
        mixed_radix_index(values, dataset.factor_sizes)  # validates length and range
        values = values.to(torch.int64)
    grid = values.repeat(dataset.factor_sizes[k], 1)
    grid[:, k] = torch.arange(dataset.factor_sizes[k])
    return dataset.index_of(grid)


def random_traversals(dataset: BaseDataset, factor: str | int, n: int, generator: torch.Generator) -> torch.Tensor:
    """``n`` traversals of ``factor`` from base samples drawn uniformly with ``generator``.

    Returns:
        Int64 indices of shape ``(n, factor_size)``.
    """
    if not isinstance(generator, torch.Generator):
        raise TypeError(f"generator must be a torch.Generator, got {type(generator).__name__}")
    if isinstance(n, bool) or not isinstance(n, int) or n < 1:
        raise ValueError(f"n must be a positive integer, got {n!r}")
    bases = torch.randint(0, len(dataset), (n,), generator=generator)
    return torch.stack([traversal(dataset, factor, int(b)) for b in bases])


def sample_pairs(
    dataset: BaseDataset,
    factor: str | int,
    n: int,
    generator: torch.Generator,
    share: bool = True,
) -> torch.Tensor:
    """Draw ``n`` index pairs ``(a, b)``, ``a != b``, that share (or differ in) one factor.

    ``a`` is uniform over the samples that have a partner; ``b`` is uniform over the partners of
    ``a``: the other samples with the same value of ``factor`` (``share=True``) or with a different
    value (``share=False``). Deterministic for a given generator state.

    Args:
        dataset: a dataset with factors (or labels, with ``factor="label"``).
        factor: factor name or position, or ``"label"``.
        n: number of pairs.
        generator: the ``torch.Generator`` for every draw.
        share: pairs share the factor value if True, differ in it if False.

    Returns:
        Int64 tensor of shape ``(n, 2)``.

    Raises:
        ValueError: if no sample has a partner (e.g. every value occurs once, or only one value
            occurs when ``share=False``).
    """
    if not isinstance(generator, torch.Generator):
        raise TypeError(f"generator must be a torch.Generator, got {type(generator).__name__}")
    if isinstance(n, bool) or not isinstance(n, int) or n < 1:
        raise ValueError(f"n must be a positive integer, got {n!r}")
    col, _ = _factor_column(dataset, factor)
    order = torch.argsort(col, stable=True)
    sorted_vals = col[order]
    uniq, counts = torch.unique_consecutive(sorted_vals, return_counts=True)
    starts = torch.cumsum(counts, 0) - counts
    group_of = torch.searchsorted(uniq, col.contiguous())  # group of every sample
    count_of = counts[group_of]
    partners = count_of - 1 if share else len(col) - count_of
    eligible = (partners > 0).nonzero().flatten()
    if eligible.numel() == 0:
        what = "another sample with the same" if share else "a sample with a different"
        raise ValueError(f"no sample of dataset {dataset.name!r} has {what} value of factor {factor!r}")
    a = eligible[torch.randint(0, eligible.numel(), (n,), generator=generator)]
    u = torch.rand(n, generator=generator, dtype=torch.float64)
    r = (u * partners[a].double()).floor().long().clamp(max=partners[a] - 1)
    g = group_of[a]
    if share:
        rank_a = torch.argsort(order)[a] - starts[g]  # position of a inside its group
        r = r + (r >= rank_a).long()  # skip a itself
        b = order[starts[g] + r]
    else:
        r = r + (r >= starts[g]).long() * counts[g]  # skip a's group in sorted order
        b = order[r]
    return torch.stack([a, b], dim=1)
