"""Checks that run before an explorer changes its state, so a rejected input leaves the old one.

An explorer first validates what the user gave it (an image, a dataset index), and only then
changes its ``index``, its controls or the input it explains. Errors raised here are clear
``ValueError`` / ``IndexError`` / ``TypeError`` that say what to change.
"""

from __future__ import annotations

import operator
from typing import Any

import torch

__all__ = ["check_image_batch", "check_index"]


def check_index(index: Any, n: int, name: str = "index") -> int:
    """``index`` as an int in ``[0, n)``; a clear error otherwise (bools and floats refused)."""
    try:
        if isinstance(index, bool):
            raise TypeError
        i = operator.index(index)
    except TypeError:
        raise TypeError(f"{name} must be an integer, got {type(index).__name__}") from None
    if not 0 <= i < n:
        raise IndexError(f"{name} {i} out of range for a dataset of {n}")
    return i


def check_image_batch(x: Any, expected: tuple[int, ...] | None = None, name: str = "input") -> torch.Tensor:
    """A float batch N×C×H×W of images in [0, 1], validated before an explorer uses it.

    ``expected`` is the shape of one image; a single image gains the batch dimension. Refused
    with a message that says what to change: a non-floating dtype, a wrong shape, NaN or infinite
    values, values outside [0, 1] (the explorers draw images in [0, 1]; rescale first).
    The dtype is kept (a float64 model gets float64 inputs).
    """
    t = torch.as_tensor(x)
    if not torch.is_floating_point(t):
        raise TypeError(f"{name} must be floating point in [0, 1], got dtype {t.dtype}; "
                        "for uint8 images divide by 255")
    if expected is not None:
        if tuple(t.shape) == tuple(expected):
            t = t.unsqueeze(0)
        if tuple(t.shape[1:]) != tuple(expected):
            raise ValueError(f"{name} has shape {tuple(t.shape)}, expected {tuple(expected)} or "
                             f"N×{'×'.join(map(str, expected))}")
    finite = torch.isfinite(t)
    if not finite.all():
        raise ValueError(f"{name} contains {int((~finite).sum())} NaN or infinite values")
    if t.numel() and (float(t.min()) < 0.0 or float(t.max()) > 1.0):
        raise ValueError(f"{name} values must lie in [0, 1], found [{float(t.min()):.4g}, {float(t.max()):.4g}]; "
                         "rescale it first (e.g. x / 255 for 8-bit images)")
    return t


def picker_indices(dataset: Any, n: int) -> list[int]:
    """The dataset images a picker offers: ``n`` of them covering the classes when the dataset has
    labels (round-robin, so a file sorted by label never shows one class only), else evenly
    spaced over the dataset (so it shows its variety). Deterministic."""
    n = max(1, min(int(n), len(dataset)))
    if getattr(dataset, "labels", None) is not None and hasattr(dataset, "pick_indices"):
        return [int(i) for i in dataset.pick_indices(n)]
    return torch.linspace(0, len(dataset) - 1, n).round().long().unique().tolist()
