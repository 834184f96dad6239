"""Parsers of the published formats, on fixtures written in the real binary layouts."""

from __future__ import annotations

import gzip
import io
import struct
import zipfile

import numpy as np
import pytest
from fixture_files import (
    cifar_archive,
    cifar_records,
    dsprites_arrays,
    dsprites_npz,
    idx_bytes,
    shapes3d_arrays,
    shapes3d_h5,
)

from invwidgets.data import formats
from invwidgets.data.formats import (
    IDX_IMAGES_MAGIC,
    IDX_LABELS_MAGIC,
    hdf5_dataset_shape,
    npz_array_shape,
    parse_cifar10_records,
    parse_idx,
    read_cifar10_archive,
    read_hdf5_rows,
    read_idx,
    read_npz_rows,
)


# -- IDX ------------------------------------------------------------------------------------------
def test_idx_images_and_labels_round_trip(tmp_path):
    rng = np.random.default_rng(0)
    images = rng.integers(0, 256, size=(5, 28, 28), dtype=np.uint8)
    labels = rng.integers(0, 10, size=5, dtype=np.uint8)
    (tmp_path / "img.gz").write_bytes(idx_bytes(images))
    (tmp_path / "lab").write_bytes(idx_bytes(labels, compress=False))
    # the magic numbers MNIST publishes
    assert gzip.decompress((tmp_path / "img.gz").read_bytes())[:4] == struct.pack(">I", 2051)
    assert (tmp_path / "lab").read_bytes()[:4] == struct.pack(">I", 2049)
    np.testing.assert_array_equal(read_idx(tmp_path / "img.gz", IDX_IMAGES_MAGIC), images)
    np.testing.assert_array_equal(read_idx(tmp_path / "lab", IDX_LABELS_MAGIC), labels)


@pytest.mark.parametrize("dtype", [np.int8, np.int16, np.int32, np.float32, np.float64])
def test_idx_big_endian_types_are_decoded(dtype):
    values = (np.arange(24).reshape(2, 3, 4) - 7).astype(dtype)
    out = parse_idx(idx_bytes(values, compress=False))
    assert out.dtype.isnative and out.dtype == np.dtype(dtype)
    np.testing.assert_array_equal(out, values)


def test_idx_refuses_wrong_magic_and_sizes():
    images = idx_bytes(np.zeros((2, 3, 3), np.uint8), compress=False)
    with pytest.raises(ValueError, match="expected 2049"):
        parse_idx(images, IDX_LABELS_MAGIC)
    with pytest.raises(ValueError, match="not an IDX file"):
        parse_idx(b"\x01\x00\x08\x01" + bytes(8))
    with pytest.raises(ValueError, match="file has"):
        parse_idx(images[:-1])
    with pytest.raises(ValueError, match="too short"):
        parse_idx(b"\x00\x00")


def test_idx_damaged_gzip_is_a_value_error(tmp_path):
    data = idx_bytes(np.zeros((20, 28, 28), np.uint8))
    (tmp_path / "cut.gz").write_bytes(data[: len(data) // 2])
    with pytest.raises(ValueError, match="damaged gzip"):
        read_idx(tmp_path / "cut.gz")


# -- CIFAR-10 binary ------------------------------------------------------------------------------
def _cifar(n: int, seed: int):
    rng = np.random.default_rng(seed)
    return rng.integers(0, 256, size=(n, 3, 32, 32), dtype=np.uint8), rng.integers(0, 10, size=n)


def test_cifar_records_are_label_then_red_green_blue_planes():
    images, labels = _cifar(3, 0)
    data = cifar_records(images, labels)
    assert len(data) == 3 * 3073
    assert data[0] == labels[0] and data[1:1025] == images[0, 0].tobytes() and data[2049:3073] == images[0, 2].tobytes()
    out_images, out_labels = parse_cifar10_records(data)
    np.testing.assert_array_equal(out_images, images)
    np.testing.assert_array_equal(out_labels, labels)
    assert out_labels.dtype == np.int64


def test_cifar_records_refuse_partial_records_and_bad_labels():
    images, labels = _cifar(2, 1)
    data = cifar_records(images, labels)
    with pytest.raises(ValueError, match="whole number"):
        parse_cifar10_records(data[:-5])
    with pytest.raises(ValueError, match="label 200"):
        parse_cifar10_records(bytes([200]) + data[1:])


def test_cifar_archive_members_in_the_order_asked(tmp_path):
    a, b = _cifar(2, 2), _cifar(3, 3)
    path = tmp_path / "cifar-10-binary.tar.gz"
    path.write_bytes(cifar_archive({"data_batch_1.bin": cifar_records(*a), "test_batch.bin": cifar_records(*b)}))
    images, labels = read_cifar10_archive(path, ["test_batch.bin", "data_batch_1.bin"])
    np.testing.assert_array_equal(images, np.concatenate([b[0], a[0]]))
    np.testing.assert_array_equal(labels, np.concatenate([b[1], a[1]]))
    with pytest.raises(ValueError, match="lacks"):
        read_cifar10_archive(path, ["data_batch_2.bin"])
    (tmp_path / "junk.tar.gz").write_bytes(b"junk")
    with pytest.raises(ValueError, match="tar archive"):
        read_cifar10_archive(tmp_path / "junk.tar.gz", ["test_batch.bin"])


# -- npz ------------------------------------------------------------------------------------------
@pytest.fixture
def dsprites_file(tmp_path):
    arrays = dsprites_arrays(300)
    path = tmp_path / "d.npz"
    path.write_bytes(dsprites_npz(arrays))
    return path, arrays


def test_npz_rows_stream_out_the_chosen_rows(dsprites_file):
    path, arrays = dsprites_file
    keys = ["imgs", "latents_classes", "latents_values"]
    rows = np.array([0, 5, 63, 64, 65, 200, 299])
    out = read_npz_rows(path, keys, rows, chunk_rows=64)  # rows on both sides of chunk edges
    for k in keys:
        np.testing.assert_array_equal(out[k], arrays[k][rows])
    whole = read_npz_rows(path, keys, chunk_rows=7)
    for k in keys:
        np.testing.assert_array_equal(whole[k], arrays[k])
    assert npz_array_shape(path, "imgs") == (300, 64, 64)


def test_npz_reading_never_unpickles(dsprites_file, monkeypatch):
    path, _ = dsprites_file
    import pickle

    monkeypatch.setattr(pickle, "loads", lambda *a, **k: pytest.fail("pickle used"))
    monkeypatch.setattr(pickle, "load", lambda *a, **k: pytest.fail("pickle used"))
    read_npz_rows(path, ["imgs", "latents_classes"], np.array([1, 2]))
    with pytest.raises(ValueError, match="only pickle can read"):
        read_npz_rows(path, ["metadata"])


def test_npz_refuses_bad_rows_missing_keys_and_uneven_lengths(dsprites_file, tmp_path):
    path, _ = dsprites_file
    with pytest.raises(ValueError, match="sorted, unique"):
        read_npz_rows(path, ["imgs"], np.array([3, 1]))
    with pytest.raises(ValueError, match="sorted, unique"):
        read_npz_rows(path, ["imgs"], np.array([300]))
    with pytest.raises(TypeError, match="integers"):
        read_npz_rows(path, ["imgs"], np.array([0.5]))
    with pytest.raises(ValueError, match="no array 'nope'"):
        read_npz_rows(path, ["nope"])
    buf = io.BytesIO()
    np.savez(buf, a=np.zeros((3, 2)), b=np.zeros((4, 2)))
    (tmp_path / "uneven.npz").write_bytes(buf.getvalue())
    with pytest.raises(ValueError, match="4 rows"):
        read_npz_rows(tmp_path / "uneven.npz", ["a", "b"])


def test_npz_truncated_array_is_reported(tmp_path):
    buf = io.BytesIO()
    np.save(buf, np.arange(100, dtype=np.int64).reshape(10, 10))
    data = buf.getvalue()
    with zipfile.ZipFile(tmp_path / "t.npz", "w") as zf:
        zf.writestr("x.npy", data[:-80])
    with pytest.raises(ValueError, match="ends early"):
        read_npz_rows(tmp_path / "t.npz", ["x"])


# -- HDF5 -----------------------------------------------------------------------------------------
@pytest.fixture
def shapes_file(tmp_path):
    pytest.importorskip("h5py")
    arrays = shapes3d_arrays(50)
    path = tmp_path / "s.h5"
    shapes3d_h5(path, arrays)
    return path, arrays


def test_hdf5_rows_read_in_blocks(shapes_file):
    path, arrays = shapes_file
    rows = np.array([0, 1, 2, 3, 10, 17, 18, 49])
    out = read_hdf5_rows(path, ["images", "labels"], rows, chunk_rows=3)  # runs and gaps
    np.testing.assert_array_equal(out["images"], arrays["images"][rows])
    np.testing.assert_array_equal(out["labels"], arrays["labels"][rows])
    whole = read_hdf5_rows(path, ["images"], chunk_rows=16)
    np.testing.assert_array_equal(whole["images"], arrays["images"])
    assert hdf5_dataset_shape(path, "images") == (50, 64, 64, 3)


def test_hdf5_errors(shapes_file, tmp_path):
    path, _ = shapes_file
    with pytest.raises(ValueError, match="no dataset 'imgs'"):
        read_hdf5_rows(path, ["imgs"])
    (tmp_path / "junk.h5").write_bytes(b"junk" * 100)
    with pytest.raises(ValueError, match="not a readable HDF5"):
        read_hdf5_rows(tmp_path / "junk.h5", ["images"])


def test_missing_h5py_names_the_extra(monkeypatch):
    import builtins

    real_import = builtins.__import__

    def no_h5py(name, *args, **kwargs):
        if name == "h5py":
            raise ImportError("No module named 'h5py'")
        return real_import(name, *args, **kwargs)

    monkeypatch.setattr(builtins, "__import__", no_h5py)
    with pytest.raises(ImportError, match=r"invwidgets\[shapes3d\]"):
        formats.require_h5py()
