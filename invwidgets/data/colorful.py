"""ColorfulMNIST as the IIN paper builds it: each digit multiplied by an RGB colour from U[0, 1]³.

The colour is a continuous factor. Every image stores its RGB colour (``extras["color"]``, N×3)
and its grayscale digit (``extras["gray"]``), so an image can be re-coloured exactly. For the
pair code, which works on discrete factors, the colour also has a discrete value: the index of
its *colour draw*. The dataset is built by re-colouring: every colour draw is applied to
``images_per_color`` different digits (2 by default), so two images share the ``color`` factor
exactly when they carry the same draw, and :func:`invwidgets.data.sample_pairs` (and everything
built on it) finds pairs that share the digit (same class, different draws) or the colour (the
same draw on another digit).

:func:`colorful_pairs` draws fresh pairs the way the paper's training loop does: a digit pair is
two images of one class, each with a new colour; a colour pair is two images with one new colour.
Everything random comes from a seed or a ``torch.Generator``. The palette variant for the 8×8
digits is :func:`invwidgets.data.color_digits`.
"""

from __future__ import annotations

import math
from typing import NamedTuple

import torch

from .dataset import Dataset
from .provenance import COLORFUL_MNIST
from .sampling import sample_pairs

__all__ = ["ColorfulPairs", "colorful", "colorful_mnist", "colorful_pairs", "colorize", "random_colors"]

_FACTORS = ("digit", "color")


def _check_generator(generator: object) -> torch.Generator:
    if not isinstance(generator, torch.Generator):
        raise TypeError(f"generator must be a torch.Generator, got {type(generator).__name__}")
    return generator


def _check_count(value: object, what: str) -> int:
    if isinstance(value, bool) or not isinstance(value, int) or value < 1:
        raise ValueError(f"{what} must be a positive integer, got {value!r}")
    return value


def random_colors(n: int, generator: torch.Generator) -> torch.Tensor:
    """``n`` RGB colours drawn uniformly from U[0, 1]³ with ``generator``: float32 ``(n, 3)``."""
    _check_count(n, "n")
    return torch.rand(n, 3, generator=_check_generator(generator))


def colorize(gray: torch.Tensor, colors: torch.Tensor) -> torch.Tensor:
    """Grayscale images ``N×1×H×W`` multiplied by RGB colours ``N×3``: ``N×3×H×W`` in [0, 1].

    Raises:
        ValueError: for shapes that do not match, or colours outside [0, 1].
    """
    if gray.ndim != 4 or gray.shape[1] != 1:
        raise ValueError(f"gray must be N×1×H×W grayscale images, got shape {tuple(gray.shape)}")
    if colors.shape != (gray.shape[0], 3):
        raise ValueError(f"colors must have shape ({gray.shape[0]}, 3), got {tuple(colors.shape)}")
    if bool((colors < 0).any()) or bool((colors > 1).any()):
        raise ValueError("colors must lie in [0, 1]")
    return gray * colors.to(gray.dtype)[:, :, None, None]


def colorful(base: Dataset, seed: int = 0, images_per_color: int = 2) -> Dataset:
    """Colour a labelled grayscale dataset: image ``i`` is ``base_i × colour`` with colour ~ U[0, 1]³.

    The images are split into groups of ``images_per_color`` at random (seeded) and each group
    gets one colour draw (the last group is smaller when the size does not divide).

    Args:
        base: a labelled 1-channel :class:`Dataset` (e.g. :func:`invwidgets.data.mnist_sample`).
        seed: seeds the grouping and the colours (a ``torch.Generator``).
        images_per_color: how many digits share each colour draw (1: every image its own colour,
            and no two images share the colour factor).

    Returns:
        A :class:`Dataset` of ``N×3×H×W`` images, labels = digits, factors ``(digit, color)``
        where ``color`` is the index of the colour draw (``factor_sizes = (classes, draws)``),
        ``extras["color"]`` the RGB colour of each image, ``extras["gray"]`` its grayscale digit
        (plus the base dataset's extras), and the base's citation and licence.

    Raises:
        ValueError: if ``base`` is not a labelled grayscale image dataset.
    """
    if not isinstance(base, Dataset) or base.shape[0] != 1 or base.labels is None:
        raise ValueError("base must be a labelled grayscale (1-channel) image Dataset")
    _check_count(images_per_color, "images_per_color")
    n = len(base)
    gen = torch.Generator().manual_seed(int(seed))
    perm = torch.randperm(n, generator=gen)
    draw = torch.empty(n, dtype=torch.int64)
    draw[perm] = torch.arange(n) // images_per_color
    n_draws = math.ceil(n / images_per_color)
    palette = random_colors(n_draws, gen)
    colors = palette[draw]
    gray = base.images.clone()
    n_classes = len(base.class_names) if base.class_names is not None else int(base.labels.max()) + 1
    return Dataset(
        colorize(gray, colors).contiguous(),
        labels=base.labels.clone(),
        factors=torch.stack([base.labels, draw], dim=1),
        factor_names=_FACTORS,
        factor_sizes=(n_classes, n_draws),
        class_names=base.class_names,
        name=f"colorful_{base.name}",
        extras={**{k: v.clone() for k, v in base.extras.items()}, "color": colors, "gray": gray},
        metadata={
            **base.metadata,
            "seed": int(seed),
            "images_per_color": int(images_per_color),
            "continuous_factors": {"color": "extras['color']: RGB in [0, 1], drawn from U[0, 1]^3"},
        },
        **base.provenance(),
    )


def colorful_mnist(split: str = "all", test_fraction: float = 0.2, seed: int = 0, images_per_color: int = 2) -> Dataset:
    """ColorfulMNIST on the offline MNIST sample: :func:`colorful` of :func:`~invwidgets.data.mnist_sample`.

    ``split``, ``test_fraction`` and ``seed`` choose the digits as in
    :func:`~invwidgets.data.mnist_sample` (train and test of one seed are disjoint); ``seed`` also
    seeds the colours. Needs ``pip install invwidgets[mnist]``.
    """
    from .mnist_sample import mnist_sample

    out = colorful(mnist_sample(split, test_fraction=test_fraction, seed=seed), seed=seed, images_per_color=images_per_color)
    out.name = "colorful_mnist"
    out.citation, out.license, out.url = COLORFUL_MNIST.citation, COLORFUL_MNIST.license, COLORFUL_MNIST.url
    return out


class ColorfulPairs(NamedTuple):
    """Pairs drawn by :func:`colorful_pairs`.

    Attributes:
        x_a, x_b: the two images of each pair, ``n×3×H×W``.
        digits: the digit of each image, int64 ``(n, 2)``.
        colors: the RGB colour of each image, float32 ``(n, 2, 3)``.
        shared: bool ``(n, 2)``: whether the pair shares the digit (column 0) and the colour (column 1).
    """

    x_a: torch.Tensor
    x_b: torch.Tensor
    digits: torch.Tensor
    colors: torch.Tensor
    shared: torch.Tensor


def _gray_and_labels(dataset: Dataset) -> tuple[torch.Tensor, torch.Tensor]:
    if dataset.labels is None:
        raise ValueError(f"dataset {dataset.name!r} has no labels (digits)")
    if "gray" in dataset.extras:
        return dataset.extras["gray"], dataset.labels
    if dataset.shape[0] == 1:
        return dataset.images, dataset.labels
    raise ValueError("dataset must be grayscale or made by colorful() (it keeps extras['gray'])")


def colorful_pairs(dataset: Dataset, n: int, generator: torch.Generator, factor: str | None = None) -> ColorfulPairs:
    """``n`` freshly coloured pairs that share the digit or the colour, as the IIN paper trains.

    * ``factor="digit"``: two different images of the same class, each multiplied by its own new
      colour from U[0, 1]³.
    * ``factor="color"``: two different images (any classes) multiplied by one new colour.
    * ``factor=None``: every pair chooses ``"digit"`` or ``"color"`` with probability 1/2.

    Args:
        dataset: a grayscale labelled dataset, or one made by :func:`colorful` (its grayscale
            digits are re-coloured; its own colours are not used).
        n: number of pairs.
        generator: the ``torch.Generator`` for every draw (deterministic for a given state).
        factor: ``"digit"``, ``"color"`` or ``None``.

    Raises:
        ValueError: for an unknown factor, a dataset without labels, or too few images.
    """
    _check_count(n, "n")
    _check_generator(generator)
    if factor not in (None, *_FACTORS):
        raise ValueError(f"factor must be one of {_FACTORS} or None, got {factor!r}")
    gray, labels = _gray_and_labels(dataset)
    if factor is None:
        by_digit = torch.rand(n, generator=generator) < 0.5
    else:
        by_digit = torch.full((n,), factor == "digit")
    idx = torch.empty(n, 2, dtype=torch.int64)
    n_digit = int(by_digit.sum())
    if n_digit:
        idx[by_digit] = sample_pairs(dataset, "label", n_digit, generator)
    if n - n_digit:
        if len(labels) < 2:
            raise ValueError("a colour pair needs at least two images")
        a = torch.randint(0, len(labels), (n - n_digit,), generator=generator)
        b = torch.randint(0, len(labels) - 1, (n - n_digit,), generator=generator)
        idx[~by_digit] = torch.stack([a, b + (b >= a).long()], dim=1)  # b != a
    colors = random_colors(2 * n, generator).reshape(n, 2, 3)
    colors[~by_digit, 1] = colors[~by_digit, 0]
    digits = labels[idx]
    x_a = colorize(gray[idx[:, 0]], colors[:, 0])
    x_b = colorize(gray[idx[:, 1]], colors[:, 1])
    shared = torch.stack([digits[:, 0] == digits[:, 1], ~by_digit], dim=1)
    return ColorfulPairs(x_a, x_b, digits, colors, shared)
