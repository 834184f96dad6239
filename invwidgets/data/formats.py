"""Parsers of the published dataset file formats, with numpy only (h5py, lazily, for HDF5).

* IDX (MNIST, Fashion-MNIST): :func:`read_idx` / :func:`parse_idx`. A 4-byte magic number
  ``0x00 0x00 <type> <ndim>`` (type ``0x08`` uint8, ``0x09`` int8, ``0x0B`` int16, ``0x0C``
  int32, ``0x0D`` float32, ``0x0E`` float64), ``ndim`` big-endian uint32 sizes, then the values,
  big-endian, in C order. Images are magic 2051 (``0x00000803``), labels 2049 (``0x00000801``).
  Gzip-compressed files are recognised by their ``1f 8b`` header.
* CIFAR-10 binary version: :func:`parse_cifar10_records` / :func:`read_cifar10_archive`. Each
  record is 3073 bytes: the label (0..9), then 1024 red, 1024 green and 1024 blue bytes of a
  32×32 image in row-major order. The archive ``cifar-10-binary.tar.gz`` is read member by member
  without extracting anything to disk. The pickled "python version" is never read: unpickling
  executes code from the file.
* NumPy ``.npz`` (dSprites): :func:`read_npz_rows` streams chosen rows of arrays out of the zip
  archive, so a subset of a 3 GB array needs only the subset's memory. Object arrays (which need
  pickle) are refused; other members of the archive (dSprites' pickled ``metadata``) are never
  touched.
* HDF5 (3D-Shapes): :func:`read_hdf5_rows` reads chosen rows of datasets in blocks through h5py,
  an optional dependency (``pip install "invwidgets[shapes3d]"``).
"""

from __future__ import annotations

import gzip
import math
import os
import tarfile
import zipfile
import zlib
from collections.abc import Sequence
from typing import Any

import numpy as np

__all__ = [
    "CIFAR10_RECORD_BYTES",
    "IDX_IMAGES_MAGIC",
    "IDX_LABELS_MAGIC",
    "hdf5_dataset_shape",
    "npz_array_shape",
    "parse_cifar10_records",
    "parse_idx",
    "read_cifar10_archive",
    "read_hdf5_rows",
    "read_idx",
    "read_npz_rows",
    "require_h5py",
]

IDX_IMAGES_MAGIC = 0x00000803
IDX_LABELS_MAGIC = 0x00000801
_IDX_TYPES = {0x08: ">u1", 0x09: ">i1", 0x0B: ">i2", 0x0C: ">i4", 0x0D: ">f4", 0x0E: ">f8"}
CIFAR10_RECORD_BYTES = 1 + 3 * 32 * 32
_GZIP_MAGIC = b"\x1f\x8b"

PathLike = str | os.PathLike[str]


# -- IDX ------------------------------------------------------------------------------------------
def parse_idx(data: bytes, expect_magic: int | None = None, what: str = "IDX data") -> np.ndarray:
    """Decode IDX bytes (uncompressed) into a numpy array in native byte order.

    Args:
        data: the whole file's bytes.
        expect_magic: if given, the magic number the file must carry (e.g. ``IDX_IMAGES_MAGIC``).
        what: a name for error messages (e.g. the file name).

    Raises:
        ValueError: for a wrong magic number, an unknown type code or a size that does not match
            the header.
    """
    if len(data) < 4:
        raise ValueError(f"{what}: {len(data)} bytes is too short for an IDX header")
    zero0, zero1, type_code, ndim = data[0], data[1], data[2], data[3]
    if zero0 != 0 or zero1 != 0 or type_code not in _IDX_TYPES:
        raise ValueError(f"{what}: not an IDX file (magic bytes {data[:4].hex()})")
    magic = int.from_bytes(data[:4], "big")
    if expect_magic is not None and magic != expect_magic:
        raise ValueError(f"{what}: IDX magic number {magic} (0x{magic:08x}), expected {expect_magic} (0x{expect_magic:08x})")
    header = 4 + 4 * ndim
    if len(data) < header:
        raise ValueError(f"{what}: truncated IDX header ({len(data)} bytes for {ndim} dimensions)")
    shape = tuple(int(d) for d in np.frombuffer(data, dtype=">u4", count=ndim, offset=4))
    dtype = np.dtype(_IDX_TYPES[type_code])
    expected = header + math.prod(shape) * dtype.itemsize
    if len(data) != expected:
        raise ValueError(f"{what}: IDX header says shape {shape} ({expected} bytes in all), file has {len(data)} bytes")
    values = np.frombuffer(data, dtype=dtype, offset=header).reshape(shape)
    return values.astype(dtype.newbyteorder("="), copy=True)


def read_idx(path: PathLike, expect_magic: int | None = None) -> np.ndarray:
    """Read an IDX file, gzip-compressed or not; see :func:`parse_idx`."""
    with open(path, "rb") as fh:
        head = fh.read(2)
    opener = gzip.open if head == _GZIP_MAGIC else open
    try:
        with opener(path, "rb") as fh:
            data = fh.read()
    except (OSError, EOFError) as exc:
        raise ValueError(f"{os.fspath(path)}: damaged gzip stream: {exc}") from None
    return parse_idx(data, expect_magic, what=os.path.basename(os.fspath(path)))


# -- CIFAR-10 binary ------------------------------------------------------------------------------
def parse_cifar10_records(data: bytes, what: str = "CIFAR-10 batch") -> tuple[np.ndarray, np.ndarray]:
    """Decode CIFAR-10 binary records into ``(images uint8 N×3×32×32, labels int64 N)``.

    Raises:
        ValueError: if the length is not a whole number of 3073-byte records or a label is not
            in 0..9.
    """
    if len(data) == 0 or len(data) % CIFAR10_RECORD_BYTES:
        raise ValueError(f"{what}: {len(data)} bytes is not a whole number of {CIFAR10_RECORD_BYTES}-byte records")
    records = np.frombuffer(data, dtype=np.uint8).reshape(-1, CIFAR10_RECORD_BYTES)
    labels = records[:, 0].astype(np.int64)
    if int(labels.max()) > 9:
        raise ValueError(f"{what}: label {int(labels.max())} outside 0..9; is this the CIFAR-10 binary version?")
    images = records[:, 1:].reshape(-1, 3, 32, 32).copy()
    return images, labels


def read_cifar10_archive(path: PathLike, members: Sequence[str]) -> tuple[np.ndarray, np.ndarray]:
    """Read the named batch files (e.g. ``data_batch_1.bin``) out of ``cifar-10-binary.tar.gz``.

    Members are matched by their file name inside the archive's folder and concatenated in the
    order of ``members``. Nothing is extracted to disk.

    Raises:
        ValueError: if a member is missing or damaged, or the archive is not a tar archive.
    """
    wanted = list(members)
    found: dict[str, bytes] = {}
    try:
        with tarfile.open(path, "r:*") as tar:
            for info in tar:
                name = info.name.rsplit("/", 1)[-1]
                if name in wanted and info.isfile():
                    fh = tar.extractfile(info)
                    if fh is not None:
                        found[name] = fh.read()
    except (tarfile.TarError, OSError, EOFError) as exc:
        raise ValueError(f"{os.fspath(path)}: not a readable tar archive: {exc}") from None
    missing = [m for m in wanted if m not in found]
    if missing:
        raise ValueError(f"{os.fspath(path)}: archive lacks {missing}; is it the CIFAR-10 binary version?")
    parts = [parse_cifar10_records(found[m], what=m) for m in wanted]
    return np.concatenate([p[0] for p in parts]), np.concatenate([p[1] for p in parts])


# -- rows of large arrays -------------------------------------------------------------------------
def _check_rows(rows: Any, n: int, what: str) -> np.ndarray | None:
    """Validate requested row indices: sorted, unique, in range (``None`` means all rows)."""
    if rows is None:
        return None
    r = np.asarray(rows)
    if r.ndim != 1 or not np.issubdtype(r.dtype, np.integer):
        raise TypeError(f"{what}: rows must be a 1-d array of integers")
    r = r.astype(np.int64)
    if r.size and (r[0] < 0 or r[-1] >= n or bool(np.any(np.diff(r) <= 0))):
        raise ValueError(f"{what}: rows must be sorted, unique and in [0, {n})")
    return r


def _npy_header(fh: Any, what: str) -> tuple[tuple[int, ...], np.dtype]:
    """Read a ``.npy`` header from an open stream; refuses object dtypes and Fortran order."""
    fmt = np.lib.format
    version = fmt.read_magic(fh)
    if version == (1, 0):
        shape, fortran, dtype = fmt.read_array_header_1_0(fh)
    elif version == (2, 0):
        shape, fortran, dtype = fmt.read_array_header_2_0(fh)
    else:
        raise ValueError(f"{what}: unsupported .npy format version {version}")
    if dtype.hasobject:
        raise ValueError(f"{what}: holds Python objects, which only pickle can read; refused")
    if fortran and len(shape) > 1:
        raise ValueError(f"{what}: Fortran-ordered arrays are not supported")
    return tuple(int(s) for s in shape), dtype


def _stream_rows(fh: Any, shape: tuple[int, ...], dtype: np.dtype, rows: np.ndarray | None, chunk_rows: int, what: str) -> np.ndarray:
    """Read all rows (or the chosen sorted ``rows``) of a C-ordered array from a stream."""
    row_shape = shape[1:]
    row_bytes = math.prod(row_shape) * dtype.itemsize
    n = shape[0]
    out = np.empty((n if rows is None else rows.size,) + row_shape, dtype=dtype.newbyteorder("="))
    last = n if rows is None else (int(rows[-1]) + 1 if rows.size else 0)
    start, filled = 0, 0
    while start < last:
        stop = min(start + chunk_rows, last)
        data = fh.read((stop - start) * row_bytes)
        if len(data) != (stop - start) * row_bytes:
            raise ValueError(f"{what}: array data ends early (row {start + len(data) // max(row_bytes, 1)} of {n})")
        block = np.frombuffer(data, dtype=dtype).reshape((stop - start,) + row_shape)
        if rows is None:
            out[start:stop] = block
        else:
            lo, hi = np.searchsorted(rows, [start, stop])
            out[filled : filled + hi - lo] = block[rows[lo:hi] - start]
            filled += hi - lo
        start = stop
    return out


def npz_array_shape(path: PathLike, key: str) -> tuple[int, ...]:
    """Shape of array ``key`` in an ``.npz`` archive, from its header alone.

    Raises:
        ValueError: for a missing key, an object array or a damaged archive.
    """
    name = os.path.basename(os.fspath(path))
    try:
        with zipfile.ZipFile(path) as archive:
            if f"{key}.npy" not in archive.namelist():
                raise ValueError(f"{name}: no array {key!r}")
            with archive.open(f"{key}.npy") as fh:
                return _npy_header(fh, f"{name}[{key!r}]")[0]
    except (zipfile.BadZipFile, EOFError, OSError, zlib.error) as exc:
        raise ValueError(f"{name}: damaged .npz archive: {exc}") from None


def read_npz_rows(
    path: PathLike, keys: Sequence[str], rows: Any = None, chunk_rows: int = 8192
) -> dict[str, np.ndarray]:
    """Read arrays ``keys`` of an ``.npz`` archive, all rows or only the sorted ``rows``.

    The arrays are decompressed as a stream, ``chunk_rows`` rows at a time, and only the chosen
    rows are kept: memory is the result plus one chunk. Arrays must share their first dimension.

    Raises:
        ValueError: for a missing key, an object array, arrays of different lengths or a damaged
            archive; TypeError/ValueError for bad ``rows``.
    """
    out: dict[str, np.ndarray] = {}
    n_rows: int | None = None
    name = os.path.basename(os.fspath(path))
    try:
        with zipfile.ZipFile(path) as archive:
            members = set(archive.namelist())
            for key in keys:
                what = f"{name}[{key!r}]"
                if f"{key}.npy" not in members:
                    raise ValueError(f"{name}: no array {key!r} (has {sorted(m[:-4] for m in members if m.endswith('.npy'))})")
                with archive.open(f"{key}.npy") as fh:
                    shape, dtype = _npy_header(fh, what)
                    if not shape:
                        raise ValueError(f"{what}: a 0-d array has no rows")
                    if n_rows is not None and shape[0] != n_rows:
                        raise ValueError(f"{what}: {shape[0]} rows, but {keys[0]!r} has {n_rows}")
                    n_rows = shape[0]
                    sel = _check_rows(rows, n_rows, what)
                    out[key] = _stream_rows(fh, shape, dtype, sel, chunk_rows, what)
    except (zipfile.BadZipFile, EOFError, OSError, zlib.error) as exc:
        raise ValueError(f"{name}: damaged .npz archive: {exc}") from None
    return out


def require_h5py(extra: str = "shapes3d") -> Any:
    """Import h5py, or raise an ImportError that names the extra to install."""
    try:
        import h5py
    except ImportError as exc:
        raise ImportError(
            f'reading HDF5 files needs h5py, an optional dependency: pip install "invwidgets[{extra}]" '
            "(or pip install h5py)"
        ) from exc
    return h5py


def hdf5_dataset_shape(path: PathLike, key: str) -> tuple[int, ...]:
    """Shape of dataset ``key`` in an HDF5 file (needs h5py).

    Raises:
        ImportError: if h5py is missing; ValueError: for a missing dataset or a non-HDF5 file.
    """
    h5py = require_h5py()
    name = os.path.basename(os.fspath(path))
    try:
        with h5py.File(path, "r") as fh:
            if key not in fh or not isinstance(fh[key], h5py.Dataset):
                raise ValueError(f"{name}: no dataset {key!r} (has {sorted(fh.keys())})")
            return tuple(int(s) for s in fh[key].shape)
    except OSError as exc:
        raise ValueError(f"{name}: not a readable HDF5 file: {exc}") from None


def read_hdf5_rows(
    path: PathLike, keys: Sequence[str], rows: Any = None, chunk_rows: int = 4096
) -> dict[str, np.ndarray]:
    """Read datasets ``keys`` of an HDF5 file, all rows or only the sorted ``rows``, in blocks.

    Rows are read ``chunk_rows`` requested rows per h5py call, so h5py only decompresses the
    storage chunks that hold them; memory is the result plus one block.

    Raises:
        ImportError: if h5py is not installed (names the extra to install).
        ValueError: for a missing dataset, datasets of different lengths or a file that is not HDF5.
    """
    h5py = require_h5py()
    name = os.path.basename(os.fspath(path))
    out: dict[str, np.ndarray] = {}
    try:
        with h5py.File(path, "r") as fh:
            n_rows: int | None = None
            for key in keys:
                if key not in fh or not isinstance(fh[key], h5py.Dataset):
                    raise ValueError(f"{name}: no dataset {key!r} (has {sorted(fh.keys())})")
                dset = fh[key]
                if n_rows is not None and dset.shape[0] != n_rows:
                    raise ValueError(f"{name}[{key!r}]: {dset.shape[0]} rows, but {keys[0]!r} has {n_rows}")
                n_rows = int(dset.shape[0])
                sel = _check_rows(rows, n_rows, f"{name}[{key!r}]")
                out[key] = _hdf5_read(dset, sel, chunk_rows)
    except OSError as exc:
        raise ValueError(f"{name}: not a readable HDF5 file: {exc}") from None
    return out


def _hdf5_read(dset: Any, rows: np.ndarray | None, chunk_rows: int) -> np.ndarray:
    """All rows of an h5py dataset, or the sorted ``rows``, read block by block."""
    n = int(dset.shape[0])
    count = n if rows is None else rows.size
    out = np.empty((count,) + tuple(dset.shape[1:]), dtype=dset.dtype)
    for lo in range(0, count, chunk_rows):
        hi = min(lo + chunk_rows, count)
        if rows is None:
            out[lo:hi] = dset[lo:hi]
        else:
            block = rows[lo:hi]
            first, last = int(block[0]), int(block[-1]) + 1
            if last - first == block.size:  # a contiguous run: one hyperslab
                out[lo:hi] = dset[first:last]
            else:
                out[lo:hi] = dset[block]
    return out
