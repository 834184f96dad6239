"""Full public datasets, downloaded on first use: MNIST, Fashion-MNIST, dSprites, 3D-Shapes, CIFAR-10.

Each loader fetches the publisher's files into the cache (see :mod:`invwidgets.data.download`:
``root`` argument, ``$INVWIDGETS_DATA_DIR`` or ``~/.cache/invwidgets/data``), checks their
published checksums, parses them with :mod:`invwidgets.data.formats` (no pickle anywhere) and
returns a :class:`~invwidgets.data.Dataset` with images N×C×H×W in [0, 1].

========================= ================ ================= ========================================
loader                    split            images            memory of the result (float32)
========================= ================ ================= ========================================
:func:`mnist`             train 60k/test   1×28×28, 256 lv.  train 188 MB, test 31 MB
:func:`fashion_mnist`     train 60k/test   1×28×28, 256 lv.  as MNIST
:func:`cifar10`           train 50k/test   3×32×32, 256 lv.  train 614 MB, test 123 MB
:func:`dsprites`          none (737,280)   1×64×64, binary   16 KiB per image (default 10,000: 164 MB)
:func:`shapes3d`          none (480,000)   3×64×64, 256 lv.  48 KiB per image (default 10,000: 492 MB)
========================= ================ ================= ========================================

Building a :class:`Dataset` checks every value, which briefly needs about three times the
result's memory more. dSprites and 3D-Shapes are never loaded whole unless asked (``n=None``:
12 GB and 24 GB): by default a seeded random subset of 10,000 images is read, streamed out of the
files chunk by chunk, and ``indices=`` reads chosen images (e.g. exact factor traversals, since
both files store the full factor grid in mixed-radix order). Neither source defines a test split;
use :meth:`~invwidgets.data.Dataset.split`.
"""

from __future__ import annotations

import os
from collections.abc import Sequence
from typing import Any

import numpy as np
import torch

from . import provenance
from .dataset import Dataset, mixed_radix_factors
from .download import RemoteFile, fetch
from .formats import (
    IDX_IMAGES_MAGIC,
    IDX_LABELS_MAGIC,
    hdf5_dataset_shape,
    npz_array_shape,
    read_cifar10_archive,
    read_hdf5_rows,
    read_idx,
    read_npz_rows,
    require_h5py,
)

__all__ = ["FILES", "cifar10", "dsprites", "fashion_mnist", "mnist", "shapes3d"]

Root = str | os.PathLike[str] | None

_MNIST_URL = "https://storage.googleapis.com/cvdf-datasets/mnist/"
_FASHION_URL = "http://fashion-mnist.s3-website.eu-central-1.amazonaws.com/"
_DSPRITES_URL = "https://raw.githubusercontent.com/google-deepmind/dsprites-dataset/master/"
_SHAPES3D_URL = "https://storage.googleapis.com/3d-shapes/"
_CIFAR10_URL = "https://www.cs.toronto.edu/~kriz/"
_DSPRITES_FILE = "dsprites_ndarray_co1sh3sc6or40x32y32_64x64.npz"

#: The published files of each dataset, with their published sizes and checksums. SHA-256 and
#: sizes as listed by tensorflow-datasets; dSprites has only a published MD5 (the value torchvision-
#: style loaders check), so MD5 is what is verified for it.
FILES: dict[str, dict[str, RemoteFile]] = {
    "mnist": {
        f.filename: f
        for f in (
            RemoteFile("mnist", "train-images-idx3-ubyte.gz", _MNIST_URL, "440fcabf73cc546fa21475e81ea370265605f56be210a4024d2ca8f203523609", size=9912422),
            RemoteFile("mnist", "train-labels-idx1-ubyte.gz", _MNIST_URL, "3552534a0a558bbed6aed32b30c495cca23d567ec52cac8be1a0730e8010255c", size=28881),
            RemoteFile("mnist", "t10k-images-idx3-ubyte.gz", _MNIST_URL, "8d422c7b0a1c1c79245a5bcf07fe86e33eeafee792b84584aec276f5a2dbc4e6", size=1648877),
            RemoteFile("mnist", "t10k-labels-idx1-ubyte.gz", _MNIST_URL, "f7ae60f92e00ec6debd23a6088c31dbd2371eca3ffa0defaefb259924204aec6", size=4542),
        )
    },
    "fashion_mnist": {
        f.filename: f
        for f in (
            RemoteFile("fashion_mnist", "train-images-idx3-ubyte.gz", _FASHION_URL, "3aede38d61863908ad78613f6a32ed271626dd12800ba2636569512369268a84", size=26421880),
            RemoteFile("fashion_mnist", "train-labels-idx1-ubyte.gz", _FASHION_URL, "a04f17134ac03560a47e3764e11b92fc97de4d1bfaf8ba1a3aa29af54cc90845", size=29515),
            RemoteFile("fashion_mnist", "t10k-images-idx3-ubyte.gz", _FASHION_URL, "346e55b948d973a97e58d2351dde16a484bd415d4595297633bb08f03db6a073", size=4422102),
            RemoteFile("fashion_mnist", "t10k-labels-idx1-ubyte.gz", _FASHION_URL, "67da17c76eaffca5446c3361aaab5c3cd6d1c2608764d35dfb1850b086bf8dd5", size=5148),
        )
    },
    "dsprites": {
        _DSPRITES_FILE: RemoteFile("dsprites", _DSPRITES_FILE, _DSPRITES_URL, "7da33b31b13a06f4b04a70402ce90c2e", algorithm="md5"),
    },
    "shapes3d": {
        "3dshapes.h5": RemoteFile("shapes3d", "3dshapes.h5", _SHAPES3D_URL, "0a0f6ed98baff276a50f3a081a7434d788da63cb135a98189b2a5b5769be1785", size=267573662),
    },
    "cifar10": {
        "cifar-10-binary.tar.gz": RemoteFile("cifar10", "cifar-10-binary.tar.gz", _CIFAR10_URL, "c4a38c50a1bc5f3a1c5537f2155ab9d68f9f25eb1ed8d9ddda3db29a59bca1dd", size=170052171),
    },
}

_SOURCES = {
    "mnist": provenance.MNIST,
    "fashion_mnist": provenance.FASHION_MNIST,
    "dsprites": provenance.DSPRITES,
    "shapes3d": provenance.SHAPES3D,
    "cifar10": provenance.CIFAR10,
}

FASHION_CLASSES = ("T-shirt/top", "Trouser", "Pullover", "Dress", "Coat", "Sandal", "Shirt", "Sneaker", "Bag", "Ankle boot")
CIFAR10_CLASSES = ("airplane", "automobile", "bird", "cat", "deer", "dog", "frog", "horse", "ship", "truck")
DSPRITES_SHAPES = ("square", "ellipse", "heart")
DSPRITES_FACTORS = (("shape", 3), ("scale", 6), ("orientation", 40), ("x", 32), ("y", 32))
SHAPES3D_SHAPES = ("cube", "cylinder", "sphere", "capsule")
SHAPES3D_FACTORS = (("floor_hue", 10), ("wall_hue", 10), ("object_hue", 10), ("scale", 8), ("shape", 4), ("orientation", 15))
_DEFAULT_N = 10_000


def _fetch(dataset: str, filename: str, root: Root, download: bool, progress: bool):
    return fetch(FILES[dataset][filename], root, download=download, progress=progress)


def _check_split(split: str, choices: Sequence[str] = ("train", "test")) -> str:
    if split not in choices:
        raise ValueError(f"split must be one of {tuple(choices)}, got {split!r}")
    return split


def _uint8_images(images: np.ndarray) -> torch.Tensor:
    """uint8 N×C×H×W → float32 in [0, 1] (k / 255)."""
    return torch.from_numpy(np.ascontiguousarray(images)).to(torch.float32).div_(255.0)


def _provenance(dataset: str, **extra: Any) -> dict[str, Any]:
    """Citation, licence and url of ``dataset`` plus ``metadata`` naming its files (and ``extra``)."""
    return {**_SOURCES[dataset].kwargs(), "metadata": {"files": sorted(FILES[dataset]), **extra}}


def _idx_dataset(dataset: str, split: str, class_names: Sequence[str] | None, root: Root, download: bool, progress: bool) -> Dataset:
    """MNIST-style data: an IDX image file and an IDX label file per split."""
    prefix = "train" if _check_split(split) == "train" else "t10k"
    img_path = _fetch(dataset, f"{prefix}-images-idx3-ubyte.gz", root, download, progress)
    lab_path = _fetch(dataset, f"{prefix}-labels-idx1-ubyte.gz", root, download, progress)
    images = read_idx(img_path, IDX_IMAGES_MAGIC)
    labels = read_idx(lab_path, IDX_LABELS_MAGIC)
    if images.ndim != 3 or images.dtype != np.uint8:
        raise ValueError(f"{img_path}: expected uint8 images N×H×W, got {images.dtype} {images.shape}")
    if labels.ndim != 1 or labels.shape[0] != images.shape[0]:
        raise ValueError(f"{lab_path}: {labels.shape[0] if labels.ndim else 0} labels for {images.shape[0]} images")
    return Dataset(
        _uint8_images(images[:, None]),
        labels=labels.astype(np.int64),
        class_names=class_names,
        name=f"{dataset}-{split}",
        levels=256,
        **_provenance(dataset, split=split),
    )


def mnist(split: str = "train", root: Root = None, download: bool = True, *, progress: bool = True) -> Dataset:
    """MNIST handwritten digits, 28×28 grey, the official split: 60,000 train / 10,000 test.

    Args:
        split: ``"train"`` or ``"test"``.
        root: cache folder (default ``$INVWIDGETS_DATA_DIR`` or ``~/.cache/invwidgets/data``).
        download: fetch missing files (about 11 MB); when False a missing file is an error.
        progress: show a progress bar while downloading.

    Returns:
        A :class:`Dataset` with labels 0..9, ``levels=256`` and the citation/licence in
        ``metadata``.

    Raises:
        FileNotFoundError, DownloadError, ChecksumError: see :func:`invwidgets.data.download.fetch`
            (offline, the message says which file to put where).
    """
    return _idx_dataset("mnist", split, None, root, download, progress)


def fashion_mnist(split: str = "train", root: Root = None, download: bool = True, *, progress: bool = True) -> Dataset:
    """Fashion-MNIST (Zalando article images), 28×28 grey, 60,000 train / 10,000 test.

    Arguments, result and errors as for :func:`mnist`; ``class_names`` are the ten article types
    (about 30 MB to download).
    """
    return _idx_dataset("fashion_mnist", split, FASHION_CLASSES, root, download, progress)


def cifar10(split: str = "train", root: Root = None, download: bool = True, *, progress: bool = True) -> Dataset:
    """CIFAR-10 from its binary version, 32×32 colour, 50,000 train / 10,000 test.

    The train split is ``data_batch_1.bin`` … ``data_batch_5.bin`` in order, the test split
    ``test_batch.bin``; both are read straight out of ``cifar-10-binary.tar.gz`` (170 MB to
    download once; each call decompresses it again, a few seconds).

    Arguments and errors as for :func:`mnist`; ``class_names`` are the ten CIFAR-10 classes.
    """
    members = [f"data_batch_{i}.bin" for i in range(1, 6)] if _check_split(split) == "train" else ["test_batch.bin"]
    path = _fetch("cifar10", "cifar-10-binary.tar.gz", root, download, progress)
    images, labels = read_cifar10_archive(path, members)
    return Dataset(
        _uint8_images(images),
        labels=labels,
        class_names=CIFAR10_CLASSES,
        name=f"cifar10-{split}",
        levels=256,
        **_provenance("cifar10", split=split),
    )


def _choose_rows(total: int, n: int | None, indices: Any, seed: int) -> tuple[np.ndarray, np.ndarray | None]:
    """Rows to read (sorted, unique) and how to reorder them into the requested order.

    Returns ``(rows, order)``: the result is ``read[order]`` (``order`` None: as read).
    """
    if indices is not None:
        idx = np.asarray(indices.numpy() if isinstance(indices, torch.Tensor) else indices)
        if idx.ndim != 1 or idx.size == 0 or not np.issubdtype(idx.dtype, np.integer):
            raise ValueError("indices must be a non-empty 1-d sequence of integers")
        if int(idx.min()) < 0 or int(idx.max()) >= total:
            raise ValueError(f"indices must lie in [0, {total})")
        rows, order = np.unique(idx.astype(np.int64), return_inverse=True)
        return rows, order
    if n is None:
        return np.arange(total, dtype=np.int64), None
    if isinstance(n, bool) or not isinstance(n, (int, np.integer)) or not 1 <= int(n) <= total:
        raise ValueError(f"n must be an integer in [1, {total}] or None for all images, got {n!r}")
    gen = torch.Generator().manual_seed(int(seed))
    rows = torch.sort(torch.randperm(total, generator=gen)[: int(n)]).values.numpy()
    return rows, None


def _reorder(arrays: dict[str, np.ndarray], order: np.ndarray | None) -> dict[str, np.ndarray]:
    return arrays if order is None else {k: v[order] for k, v in arrays.items()}


def dsprites(
    root: Root = None,
    download: bool = True,
    *,
    n: int | None = _DEFAULT_N,
    indices: Any = None,
    seed: int = 0,
    progress: bool = True,
) -> Dataset:
    """dSprites: 737,280 binary 64×64 sprites, every combination of five factors once.

    Factors (mixed-radix order, ``y`` fastest, as the file stores them): shape 3 (square,
    ellipse, heart), scale 6, orientation 40, x 32, y 32 — the file's ``latents_classes`` without
    its constant colour column; ``extras["factor_values"]`` holds the matching
    ``latents_values`` (scale in [0.5, 1], orientation in radians, positions in [0, 1]). Labels
    are the shape. Only ``imgs``, ``latents_classes`` and ``latents_values`` are read (the
    archive's ``metadata`` entry needs pickle and is never opened).

    Args:
        root, download, progress: as for :func:`mnist` (about 26 MB to download).
        n: number of images drawn at random without replacement (seeded by ``seed``) and
            returned in file order; ``None`` loads all 737,280 (12 GB as float32, plus the
            checks' temporaries). Ignored when ``indices`` is given.
        indices: file indices to load, in the order given (repeats allowed).
        seed: seed of the random subset.

    Memory: 16 KiB per image; the archive is decompressed as a stream and only chosen images are
    kept. Each call streams through the whole 3 GB array once (seconds to a minute).
    """
    path = _fetch("dsprites", _DSPRITES_FILE, root, download, progress)
    total = npz_array_shape(path, "imgs")[0]
    rows, order = _choose_rows(total, n, indices, seed)
    arrays = _reorder(read_npz_rows(path, ["imgs", "latents_classes", "latents_values"], rows), order)
    imgs, classes, values = arrays["imgs"], arrays["latents_classes"], arrays["latents_values"]
    if imgs.shape[1:] != (64, 64) or classes.shape[1:] != (6,) or values.shape[1:] != (6,):
        raise ValueError(f"{path}: unexpected shapes imgs {imgs.shape}, latents {classes.shape}/{values.shape}")
    if imgs.size and int(imgs.max()) > 1:
        raise ValueError(f"{path}: dSprites images are 0/1, found value {int(imgs.max())}")
    if bool(np.any(classes[:, 0] != 0)):
        raise ValueError(f"{path}: dSprites has one colour; latents_classes[:, 0] is not all 0")
    factors = classes[:, 1:].astype(np.int64)
    return Dataset(
        torch.from_numpy(imgs[:, None].astype(np.float32)),
        labels=factors[:, 0],
        factors=factors,
        factor_names=[f for f, _ in DSPRITES_FACTORS],
        factor_sizes=[s for _, s in DSPRITES_FACTORS],
        class_names=DSPRITES_SHAPES,
        name="dsprites",
        levels=2,
        extras={"factor_values": torch.from_numpy(values[:, 1:].astype(np.float32)), "index": torch.from_numpy(rows if order is None else rows[order])},
        **_provenance("dsprites", total=total),
    )


def shapes3d(
    root: Root = None,
    download: bool = True,
    *,
    n: int | None = _DEFAULT_N,
    indices: Any = None,
    seed: int = 0,
    progress: bool = True,
) -> Dataset:
    """3D-Shapes: 480,000 rendered 64×64 colour scenes, every combination of six factors once.

    Factors (mixed-radix order, orientation fastest, as the file stores them): floor_hue 10,
    wall_hue 10, object_hue 10, scale 8, shape 4 (cube, cylinder, sphere, capsule),
    orientation 15. Factor indices come from the file index (the published order);
    ``extras["factor_values"]`` holds the file's ``labels`` (hues in [0, 1), scale,
    shape, orientation in degrees), and the shape column is checked against the index. Labels
    are the shape. Reading HDF5 needs h5py: ``pip install "invwidgets[shapes3d]"``.

    Args:
        root, download, progress: as for :func:`mnist` (255 MiB to download).
        n: number of images drawn at random without replacement (seeded by ``seed``) and
            returned in file order; ``None`` loads all 480,000 (24 GB as float32, 5.9 GB even as
            uint8). Ignored when ``indices`` is given.
        indices: file indices to load, in the order given (repeats allowed).
        seed: seed of the random subset.

    Memory: 48 KiB per image (10,000 images: 492 MB) plus one block of 4,096 uint8 images.
    """
    require_h5py()
    path = _fetch("shapes3d", "3dshapes.h5", root, download, progress)
    total = hdf5_dataset_shape(path, "images")[0]
    rows, order = _choose_rows(total, n, indices, seed)
    arrays = _reorder(read_hdf5_rows(path, ["images", "labels"], rows), order)
    images, labels = arrays["images"], arrays["labels"]
    if images.shape[1:] != (64, 64, 3) or images.dtype != np.uint8 or labels.shape[1:] != (6,):
        raise ValueError(f"{path}: expected images N×64×64×3 uint8 and labels N×6, got {images.shape} {images.dtype}, {labels.shape}")
    file_rows = rows if order is None else rows[order]
    factors = mixed_radix_factors(torch.from_numpy(file_rows), [s for _, s in SHAPES3D_FACTORS])
    if not np.array_equal(np.round(labels[:, 4]).astype(np.int64), factors[:, 4].numpy()):
        raise ValueError(f"{path}: the labels' shape column does not follow the published factor order")
    return Dataset(
        _uint8_images(images.transpose(0, 3, 1, 2)),
        labels=factors[:, 4],
        factors=factors,
        factor_names=[f for f, _ in SHAPES3D_FACTORS],
        factor_sizes=[s for _, s in SHAPES3D_FACTORS],
        class_names=SHAPES3D_SHAPES,
        name="shapes3d",
        levels=256,
        extras={"factor_values": torch.from_numpy(labels.astype(np.float32)), "index": torch.from_numpy(file_rows)},
        **_provenance("shapes3d", total=total),
    )
