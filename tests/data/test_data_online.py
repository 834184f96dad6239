"""The online loaders, end to end on fixture files served from a loopback HTTP server.

The registry's published checksums are swapped for the fixtures' own (``FILES`` is patched per
test); one test keeps the published values to show a foreign file is refused.
"""

from __future__ import annotations

import dataclasses
import re

import numpy as np
import pytest
import torch
from fixture_files import (
    LoopbackServer,
    cifar_archive,
    cifar_records,
    dsprites_arrays,
    dsprites_npz,
    idx_bytes,
    md5,
    refused_url,
    sha256,
    shapes3d_arrays,
    shapes3d_h5,
)

import invwidgets as iw
from invwidgets.data import online
from invwidgets.data.download import ChecksumError, DownloadError


@pytest.fixture(autouse=True)
def _no_env(monkeypatch):
    for var in ("INVWIDGETS_DATA_DIR", "INVWIDGETS_DATA_URL"):
        monkeypatch.delenv(var, raising=False)


def _serve(monkeypatch, dataset: str, files: dict[str, bytes], patch_checksums: bool = True):
    """Put ``files`` of ``dataset`` on a loopback server and point the loaders at it."""
    if patch_checksums:
        table = {}
        for name, remote in online.FILES[dataset].items():
            if name in files:
                digest = md5(files[name]) if remote.algorithm == "md5" else sha256(files[name])
                remote = dataclasses.replace(remote, checksum=digest, size=len(files[name]))
            table[name] = remote
        monkeypatch.setitem(online.FILES, dataset, table)
    server = LoopbackServer({f"/{dataset}/{name}": data for name, data in files.items()})
    monkeypatch.setenv("INVWIDGETS_DATA_URL", server.url)
    return server


def _mnist_files(n_train: int = 6, n_test: int = 4, seed: int = 0):
    rng = np.random.default_rng(seed)
    arrays = {
        "train-images-idx3-ubyte.gz": rng.integers(0, 256, size=(n_train, 28, 28), dtype=np.uint8),
        "train-labels-idx1-ubyte.gz": rng.integers(0, 10, size=n_train).astype(np.uint8),
        "t10k-images-idx3-ubyte.gz": rng.integers(0, 256, size=(n_test, 28, 28), dtype=np.uint8),
        "t10k-labels-idx1-ubyte.gz": rng.integers(0, 10, size=n_test).astype(np.uint8),
    }
    return arrays, {name: idx_bytes(a) for name, a in arrays.items()}


def test_public_names():
    for name in ("mnist", "fashion_mnist", "dsprites", "shapes3d", "cifar10"):
        assert getattr(iw.data, name) is getattr(online, name)


def test_registry_holds_published_checksums():
    for dataset, files in online.FILES.items():
        for name, remote in files.items():
            assert remote.dataset == dataset and remote.filename == name
            hex_len = {"sha256": 64, "md5": 32}[remote.algorithm]
            assert re.fullmatch(f"[0-9a-f]{{{hex_len}}}", remote.checksum), (dataset, name)
    # MD5 only where no SHA-256 is published
    assert [(d, f.algorithm) for d, fs in online.FILES.items() for f in fs.values() if f.algorithm != "sha256"] == [("dsprites", "md5")]
    assert "cifar-10-binary.tar.gz" in online.FILES["cifar10"]  # the binary version, never the pickled one


@pytest.mark.parametrize("loader", ["mnist", "fashion_mnist"])
def test_idx_loaders_download_parse_and_cache(loader, tmp_path, monkeypatch):
    arrays, files = _mnist_files()
    with _serve(monkeypatch, loader, files) as server:
        train = getattr(iw.data, loader)("train", root=tmp_path, progress=False)
        test = getattr(iw.data, loader)("test", root=tmp_path, progress=False)
        again = getattr(iw.data, loader)("train", root=tmp_path, progress=False)
    assert len(server.requests) == 4  # each file once; the second train call came from the cache
    assert train.shape == (1, 28, 28) and len(train) == 6 and len(test) == 4
    torch.testing.assert_close(train.images[:, 0] * 255, torch.from_numpy(arrays["train-images-idx3-ubyte.gz"]).float())
    assert train.labels.tolist() == arrays["train-labels-idx1-ubyte.gz"].tolist()
    assert test.labels.tolist() == arrays["t10k-labels-idx1-ubyte.gz"].tolist()
    assert torch.equal(again.images, train.images)
    assert train.levels == 256 and train.name == f"{loader}-train"
    assert train.license and train.citation and train.metadata["split"] == "train"
    if loader == "fashion_mnist":
        assert train.class_names[9] == "Ankle boot"
    with pytest.raises(ValueError, match="split"):
        getattr(iw.data, loader)("validation", root=tmp_path)


def test_loader_refuses_a_file_that_is_not_the_published_one(tmp_path, monkeypatch):
    _, files = _mnist_files()
    with _serve(monkeypatch, "mnist", files, patch_checksums=False):
        with pytest.raises(ChecksumError, match="440fcabf73cc546fa2"):
            iw.data.mnist(root=tmp_path, progress=False)
    assert not (tmp_path / "mnist" / "train-images-idx3-ubyte.gz").exists()


def test_loader_offline_names_the_file_url_and_place(tmp_path, monkeypatch):
    url = refused_url()
    monkeypatch.setenv("INVWIDGETS_DATA_URL", url)
    with pytest.raises(DownloadError) as err:
        iw.data.cifar10(root=tmp_path, progress=False)
    msg = str(err.value)
    assert "cifar-10-binary.tar.gz" in msg and f"{url}/cifar10/cifar-10-binary.tar.gz" in msg
    assert str(tmp_path / "cifar10" / "cifar-10-binary.tar.gz") in msg
    with pytest.raises(FileNotFoundError, match="https://www.cs.toronto.edu/~kriz/cifar-10-binary.tar.gz"):
        monkeypatch.delenv("INVWIDGETS_DATA_URL")
        iw.data.cifar10(root=tmp_path, download=False)


def test_cifar10_train_is_batches_one_to_five_and_test_is_test_batch(tmp_path, monkeypatch):
    rng = np.random.default_rng(1)
    batches = {}
    for name in [f"data_batch_{i}.bin" for i in range(1, 6)] + ["test_batch.bin"]:
        batches[name] = (rng.integers(0, 256, size=(2, 3, 32, 32), dtype=np.uint8), rng.integers(0, 10, size=2))
    archive = cifar_archive({name: cifar_records(*b) for name, b in batches.items()})
    with _serve(monkeypatch, "cifar10", {"cifar-10-binary.tar.gz": archive}) as server:
        train = iw.data.cifar10("train", root=tmp_path, progress=False)
        test = iw.data.cifar10("test", root=tmp_path, progress=False)
    assert server.requests == ["/cifar10/cifar-10-binary.tar.gz"]
    expect = np.concatenate([batches[f"data_batch_{i}.bin"][0] for i in range(1, 6)])
    torch.testing.assert_close(train.images * 255, torch.from_numpy(expect).float())
    assert train.labels.tolist() == np.concatenate([batches[f"data_batch_{i}.bin"][1] for i in range(1, 6)]).tolist()
    assert len(test) == 2 and test.labels.tolist() == batches["test_batch.bin"][1].tolist()
    assert train.shape == (3, 32, 32) and train.class_names[0] == "airplane" and train.levels == 256


# -- dSprites -------------------------------------------------------------------------------------
@pytest.fixture
def dsprites_served(tmp_path, monkeypatch):
    arrays = dsprites_arrays(400, seed=3)
    with _serve(monkeypatch, "dsprites", {online._DSPRITES_FILE: dsprites_npz(arrays)}) as server:
        yield arrays, server


def test_dsprites_seeded_subset_with_factors(dsprites_served, tmp_path):
    arrays, server = dsprites_served
    ds = iw.data.dsprites(root=tmp_path, n=50, seed=7, progress=False)
    again = iw.data.dsprites(root=tmp_path, n=50, seed=7, progress=False)
    other = iw.data.dsprites(root=tmp_path, n=50, seed=8, progress=False)
    assert len(server.requests) == 1
    idx = ds.extras["index"].numpy()
    assert np.all(np.diff(idx) > 0) and torch.equal(ds.extras["index"], again.extras["index"])
    assert not torch.equal(ds.extras["index"], other.extras["index"])
    assert ds.shape == (1, 64, 64) and ds.levels == 2
    np.testing.assert_array_equal(ds.images[:, 0].numpy(), arrays["imgs"][idx])
    np.testing.assert_array_equal(ds.factors.numpy(), arrays["latents_classes"][idx, 1:])
    assert ds.factor_names == ("shape", "scale", "orientation", "x", "y")
    assert ds.factor_sizes == (3, 6, 40, 32, 32)
    assert ds.labels.tolist() == arrays["latents_classes"][idx, 1].tolist()
    np.testing.assert_allclose(ds.extras["factor_values"].numpy(), arrays["latents_values"][idx, 1:], rtol=1e-6)
    assert ds.metadata["total"] == 400 and ds.license == "Apache 2.0"


def test_dsprites_indices_keep_their_order_and_match_the_factor_grid(dsprites_served, tmp_path):
    arrays, _ = dsprites_served
    wanted = [399, 0, 33, 0]
    ds = iw.data.dsprites(root=tmp_path, indices=wanted, progress=False)
    assert ds.extras["index"].tolist() == wanted
    np.testing.assert_array_equal(ds.images[:, 0].numpy(), arrays["imgs"][wanted])
    # the file's order is the mixed-radix grid: the factors decode from the index
    decoded = iw.data.mixed_radix_factors(torch.tensor(wanted), ds.factor_sizes)
    assert torch.equal(ds.factors, decoded)
    whole = iw.data.dsprites(root=tmp_path, n=None, progress=False)
    assert len(whole) == 400
    with pytest.raises(ValueError, match=r"n must be an integer in \[1, 400\]"):
        iw.data.dsprites(root=tmp_path, n=401, progress=False)
    with pytest.raises(ValueError, match="indices"):
        iw.data.dsprites(root=tmp_path, indices=[400], progress=False)


# -- 3D-Shapes ------------------------------------------------------------------------------------
@pytest.fixture
def shapes_served(tmp_path, monkeypatch):
    pytest.importorskip("h5py")
    arrays = shapes3d_arrays(120, seed=4)
    data = shapes3d_h5(tmp_path / "fixture.h5", arrays)
    with _serve(monkeypatch, "shapes3d", {"3dshapes.h5": data}) as server:
        yield arrays, server


def test_shapes3d_subset_channels_first_with_factors(shapes_served, tmp_path):
    arrays, server = shapes_served
    ds = iw.data.shapes3d(root=tmp_path / "cache", n=30, seed=0, progress=False)
    iw.data.shapes3d(root=tmp_path / "cache", n=30, seed=0, progress=False)
    assert len(server.requests) == 1
    idx = ds.extras["index"].numpy()
    assert len(ds) == 30 and ds.shape == (3, 64, 64) and ds.levels == 256
    # channels first: pixel (row 5, column 9) of channel 2 is the file's [.., 5, 9, 2]
    torch.testing.assert_close(ds.images[:, 2, 5, 9] * 255, torch.from_numpy(arrays["images"][idx, 5, 9, 2]).float())
    assert ds.factor_names == ("floor_hue", "wall_hue", "object_hue", "scale", "shape", "orientation")
    assert ds.factor_sizes == (10, 10, 10, 8, 4, 15)
    assert ds.factors[:, 4].tolist() == arrays["labels"][idx, 4].astype(int).tolist()
    np.testing.assert_allclose(ds.extras["factor_values"].numpy(), arrays["labels"][idx], rtol=1e-6)
    assert ds.class_names == ("cube", "cylinder", "sphere", "capsule")


def test_shapes3d_indices_and_a_file_in_another_order_is_refused(shapes_served, tmp_path, monkeypatch):
    arrays, _ = shapes_served
    ds = iw.data.shapes3d(root=tmp_path / "cache", indices=[119, 3], progress=False)
    assert ds.extras["index"].tolist() == [119, 3]
    np.testing.assert_array_equal((ds.images * 255).round().byte().permute(0, 2, 3, 1).numpy(), arrays["images"][[119, 3]])
    shuffled = {k: v[::-1].copy() for k, v in arrays.items()}
    data = shapes3d_h5(tmp_path / "shuffled.h5", shuffled)
    with _serve(monkeypatch, "shapes3d", {"3dshapes.h5": data}):
        with pytest.raises(ValueError, match="published factor order"):
            iw.data.shapes3d(root=tmp_path / "other", n=None, progress=False)
