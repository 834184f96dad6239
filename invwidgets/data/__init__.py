"""Offline datasets with one shape.

* :class:`Dataset` — images N×C×H×W in [0, 1] with optional labels and discrete factors;
  :class:`VectorDataset` — vectors N×D (e.g. the helix).
* Built-in data: :func:`digits` (sklearn 8×8 digits), :func:`color_digits` (digit × colour),
  :func:`sprites` (procedural shapes with a full factor grid), :func:`helix` (3-D toy).
* :func:`from_tensors` wraps the user's own images.
* :func:`traversal`, :func:`random_traversals` and :func:`sample_pairs` draw indices over factors.
"""

from .custom import from_tensors
from .dataset import BaseDataset, Dataset, VectorDataset, mixed_radix_factors, mixed_radix_index
from .digits import MAX_COLORS, color_digits, color_palette, digits
from .helix import helix
from .sampling import random_traversals, sample_pairs, traversal
from .sprites import SHAPES, render_sprite, sprites

__all__ = [
    "BaseDataset",
    "Dataset",
    "VectorDataset",
    "MAX_COLORS",
    "SHAPES",
    "color_digits",
    "color_palette",
    "digits",
    "from_tensors",
    "helix",
    "mixed_radix_factors",
    "mixed_radix_index",
    "random_traversals",
    "render_sprite",
    "sample_pairs",
    "sprites",
    "traversal",
]
