"""Wrap the user's own tensors or arrays as a :class:`Dataset`, with clear errors for bad input."""

from __future__ import annotations

from collections.abc import Sequence
from typing import Any

import numpy as np
import torch

from .dataset import Dataset

__all__ = ["from_tensors"]

_CHANNELS = (1, 3)


def _to_tensor(x: Any) -> torch.Tensor:
    if isinstance(x, torch.Tensor):
        return x.detach().cpu()
    if isinstance(x, np.ndarray):
        if x.dtype == object:
            raise TypeError("images must be a numeric array, got dtype object")
        return torch.from_numpy(np.ascontiguousarray(x))
    raise TypeError(f"images must be a torch.Tensor or numpy.ndarray, got {type(x).__name__}")


def from_tensors(
    images: Any,
    labels: Any = None,
    factors: Any = None,
    *,
    factor_names: Sequence[str] | None = None,
    factor_sizes: Sequence[int] | None = None,
    class_names: Sequence[str] | None = None,
    name: str = "custom",
    levels: int | None = None,
    channels_last: bool | None = None,
    citation: str | None = None,
    license: str | None = None,
    url: str | None = None,
) -> Dataset:
    """Make a :class:`Dataset` from the user's own images.

    Accepted images (torch tensor or numpy array):

    * shape N×C×H×W, or N×H×W (a channel axis C = 1 is added), or channels-last N×H×W×C;
    * ``uint8`` (divided by 255; ``levels`` becomes 256), ``bool`` (0/1; ``levels`` becomes 2) or
      floating point with every value in [0, 1] (converted to float32).

    Channel axis: with ``channels_last=None`` (default) a 4-D input whose axis 1 has size 1 or 3
    is taken as channels-first; otherwise, if its last axis has size 1 or 3, it is taken as
    channels-last and transposed to N×C×H×W. Anything else is an error asking for an explicit
    ``channels_last=True/False`` (with an explicit value any channel count is accepted).

    Args:
        images: the images (see above).
        labels: optional integer class labels, length N.
        factors: optional integer factors, shape (N, K).
        factor_names, factor_sizes, class_names, name, levels: passed to :class:`Dataset`.
        channels_last: layout of 4-D input; ``None`` to detect (see above).
        citation, license, url: where the data come from, if the user knows (default ``None``:
            unknown, shown as such in :attr:`Dataset.info`).

    Raises:
        TypeError: for a non-array input, an integer dtype other than uint8, or non-integer labels.
        ValueError: for the wrong number of dimensions, NaN/inf, float values outside [0, 1], an
            undetectable channel axis, or labels/factors whose length is not N.
    """
    x = _to_tensor(images)
    if x.ndim not in (3, 4):
        raise ValueError(
            f"images must have 3 (N×H×W) or 4 (N×C×H×W) dimensions, got {x.ndim} with shape {tuple(x.shape)}"
        )
    if x.shape[0] == 0:
        raise ValueError("images must contain at least one image, got N = 0")

    if x.dtype == torch.uint8:
        x = x.to(torch.float32) / 255.0
        if levels is None:
            levels = 256
    elif x.dtype == torch.bool:
        x = x.to(torch.float32)
        if levels is None:
            levels = 2
    elif x.is_floating_point():
        n_bad = int((~torch.isfinite(x)).sum())
        if n_bad:
            n_nan = int(torch.isnan(x).sum())
            raise ValueError(
                f"images contain {n_nan} NaN and {n_bad - n_nan} infinite values; remove or replace them"
            )
        x = x.to(torch.float32)
        lo, hi = float(x.min()), float(x.max())
        if lo < 0.0 or hi > 1.0:
            hint = (
                "divide by 255 if these are 0..255 pixel values"
                if hi > 1.0 and lo >= 0.0 and hi <= 255.0
                else "undo the normalisation or rescale, e.g. (x - x.min()) / (x.max() - x.min())"
            )
            raise ValueError(f"float images must lie in [0, 1], found range [{lo:.4g}, {hi:.4g}]; {hint}")
    else:
        raise TypeError(
            f"images have dtype {x.dtype}; use uint8 (0..255), bool, or a float dtype with values in [0, 1]"
        )

    if x.ndim == 3:
        if channels_last:
            raise ValueError("channels_last=True needs 4-D images N×H×W×C, got 3-D N×H×W")
        x = x.unsqueeze(1)
    elif channels_last is None:
        if x.shape[1] in _CHANNELS:
            pass
        elif x.shape[-1] in _CHANNELS:
            x = x.permute(0, 3, 1, 2)
        else:
            raise ValueError(
                f"cannot tell the channel axis of images with shape {tuple(x.shape)}: neither axis 1 nor the "
                f"last axis has size 1 or 3; pass channels_last=False (N×C×H×W) or True (N×H×W×C)"
            )
    elif channels_last:
        x = x.permute(0, 3, 1, 2)
    x = x.contiguous()

    n = x.shape[0]
    if labels is not None:
        lab = labels if isinstance(labels, (torch.Tensor, np.ndarray)) else np.asarray(labels)
        length = lab.shape[0] if lab.ndim >= 1 else 0
        if lab.ndim != 1 or length != n:
            raise ValueError(
                f"labels must be 1-D with one label per image: got shape {tuple(lab.shape)} for {n} images"
            )
    if factors is not None:
        fac = factors if isinstance(factors, (torch.Tensor, np.ndarray)) else np.asarray(factors)
        if fac.ndim == 0 or fac.shape[0] != n:
            raise ValueError(f"factors must have one row per image: got shape {tuple(fac.shape)} for {n} images")
    return Dataset(
        x,
        labels=labels,
        factors=factors,
        factor_names=factor_names,
        factor_sizes=factor_sizes,
        class_names=class_names,
        name=name,
        levels=levels,
        citation=citation,
        license=license,
        url=url,
    )
