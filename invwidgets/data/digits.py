"""scikit-learn's bundled 8×8 digits (offline) and a coloured variant with (digit, colour) factors."""

from __future__ import annotations

import colorsys
import functools

import numpy as np
import torch

from .dataset import Dataset
from .provenance import COLOR_DIGITS, OPTDIGITS

__all__ = ["digits", "color_digits", "color_palette", "recolor", "all_colorings", "MAX_COLORS"]

#: Largest palette :func:`color_digits` accepts; beyond this neighbouring hues become hard to tell apart.
MAX_COLORS = 12


@functools.lru_cache(maxsize=1)
def _load_digits_arrays() -> tuple[np.ndarray, np.ndarray]:
    from sklearn.datasets import load_digits

    bunch = load_digits()
    images = np.asarray(bunch.images, dtype=np.float32)  # (1797, 8, 8), integers 0..16
    targets = np.asarray(bunch.target, dtype=np.int64)
    images.setflags(write=False)
    targets.setflags(write=False)
    return images, targets


def digits() -> Dataset:
    """The 1797 scikit-learn digits as a 1×8×8 image dataset.

    Raw intensities 0..16 are divided by 16, so ``levels == 17`` and ``images * 16`` are exact
    integers. Labels are the digits 0..9. Read from the copy bundled with scikit-learn: nothing
    is downloaded.
    """
    raw, targets = _load_digits_arrays()
    images = torch.from_numpy(raw.copy()).div_(16.0).unsqueeze(1)
    return Dataset(
        images,
        labels=torch.from_numpy(targets.copy()),
        class_names=[str(i) for i in range(10)],
        name="digits",
        levels=17,
        **OPTDIGITS.kwargs(),
    )


def color_palette(n_colors: int = 8) -> torch.Tensor:
    """A fixed palette of ``n_colors`` fully saturated RGB colours with evenly spaced hues.

    Colour ``k`` has HSV hue ``k / n_colors``, saturation 1 and value 1 (colour 0 is red). The
    result is a float32 tensor of shape ``(n_colors, 3)`` in [0, 1].

    Raises:
        ValueError: unless ``1 <= n_colors <= MAX_COLORS``.
    """
    if isinstance(n_colors, bool) or not isinstance(n_colors, (int, np.integer)) or not 1 <= n_colors <= MAX_COLORS:
        raise ValueError(f"n_colors must be an integer in [1, {MAX_COLORS}], got {n_colors!r}")
    rgb = [colorsys.hsv_to_rgb(k / n_colors, 1.0, 1.0) for k in range(int(n_colors))]
    return torch.tensor(rgb, dtype=torch.float32)


def color_digits(seed: int = 0, n_colors: int = 8) -> Dataset:
    """The digits coloured with one palette colour each: 3×8×8, factors ``(digit, color)``.

    Each image is ``digit_image / 16`` (1 channel) multiplied by an RGB colour from
    :func:`color_palette` (``n_colors`` evenly spaced hues, default 8). The colour of each image
    is drawn uniformly and independently with a ``torch.Generator`` seeded by ``seed``. Labels
    are the digits; ``factors[:, 0]`` is the digit and ``factors[:, 1]`` the colour index. The
    palette is in ``metadata["palette"]``. Use :func:`invwidgets.data.sample_pairs` for pairs
    that share the digit or the colour.
    """
    palette = color_palette(n_colors)
    base = digits()
    gen = torch.Generator().manual_seed(int(seed))
    colors = torch.randint(0, int(n_colors), (len(base),), generator=gen)
    images = base.images * palette[colors][:, :, None, None]
    labels = base.labels
    assert labels is not None
    return Dataset(
        images.contiguous(),
        labels=labels.clone(),
        factors=torch.stack([labels, colors], dim=1),
        factor_names=("digit", "color"),
        factor_sizes=(10, int(n_colors)),
        class_names=base.class_names,
        name="color_digits",
        metadata={"palette": palette.tolist(), "seed": int(seed)},
        **COLOR_DIGITS.kwargs(),
    )


def recolor(images: torch.Tensor, colors: torch.Tensor, palette: torch.Tensor) -> torch.Tensor:
    """Colour-digit images repainted: image ``i`` gets ``palette[colors[i]]``.

    Every :func:`color_digits` image is ``base × colour`` with a palette colour of HSV value 1
    (its largest channel is 1), so the maximum over channels recovers ``base`` exactly and
    ``base × palette[c]`` is the same digit in colour ``c``.

    Args:
        images: N×3×H×W colour-digit images.
        colors: N integer colour indices into ``palette``.
        palette: K×3 colours, each with largest channel 1 (as :func:`color_palette`).

    Raises:
        ValueError: for shapes that do not match or a palette colour whose largest channel is not 1.
    """
    if images.ndim != 4 or images.shape[1] != 3:
        raise ValueError(f"images must be N×3×H×W, got {tuple(images.shape)}")
    colors = torch.as_tensor(colors, dtype=torch.int64)
    if colors.shape != (images.shape[0],):
        raise ValueError(f"colors must have shape ({images.shape[0]},), got {tuple(colors.shape)}")
    palette = torch.as_tensor(palette, dtype=images.dtype)
    if palette.ndim != 2 or palette.shape[1] != 3 or not torch.allclose(palette.amax(1), torch.ones(len(palette))):
        raise ValueError("palette must be K×3 with every colour's largest channel equal to 1")
    base = images.amax(1, keepdim=True)
    return base * palette[colors][:, :, None, None]


def all_colorings(dataset: Dataset) -> Dataset:
    """Every image of a :func:`color_digits` dataset (or a subset or split of one) in every
    palette colour: ``K × N`` images, block ``c`` (rows ``c·N … c·N + N − 1``) in colour ``c``.

    Labels are the digits; factors ``(digit, color)`` give the new colour. Only the images of
    ``dataset`` are used, so recolouring a training split keeps it disjoint from the test split.
    """
    palette = torch.tensor(dataset.metadata["palette"], dtype=torch.float32)
    if dataset.labels is None:
        raise ValueError("all_colorings needs a labelled color_digits dataset")
    n, k = len(dataset), len(palette)
    colors = torch.arange(k).repeat_interleave(n)
    images = recolor(dataset.images.repeat(k, 1, 1, 1), colors, palette)
    labels = dataset.labels.repeat(k)
    return Dataset(
        images.contiguous(),
        labels=labels,
        factors=torch.stack([labels, colors], dim=1),
        factor_names=("digit", "color"),
        factor_sizes=(10, k),
        class_names=dataset.class_names,
        name=dataset.name,
        metadata=dataset.metadata,
        **dataset.provenance(),
    )
