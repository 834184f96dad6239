"""Tests of the built-in datasets: digits, color_digits, sprites, helix, and the Dataset container."""

import importlib
import math

import numpy as np
import pytest
import torch

from invwidgets.data import (
    Dataset,
    VectorDataset,
    color_digits,
    color_palette,
    digits,
    helix,
    mixed_radix_factors,
    mixed_radix_index,
    random_traversals,
    render_sprite,
    sample_pairs,
    sprites,
    traversal,
)


@pytest.fixture(scope="module")
def sprites32():
    return sprites(size=32)


@pytest.fixture(scope="module")
def cdigits():
    return color_digits(seed=0)


def test_digits_shape_range_levels():
    d = digits()
    assert len(d) == 1797 and d.shape == (1, 8, 8) and d.images.dtype == torch.float32
    assert d.images.min() == 0.0 and d.images.max() == 1.0
    assert d.levels == 17
    scaled = d.images * 16
    assert torch.equal(scaled, scaled.round())
    assert d.labels.dtype == torch.int64 and sorted(d.labels.unique().tolist()) == list(range(10))
    x, y = d[5]
    assert x.shape == (1, 8, 8) and y.ndim == 0 and int(y) == int(d.labels[5])
    xb, yb = d[[0, 1, 2]]
    assert xb.shape == (3, 1, 8, 8) and yb.shape == (3,)


def test_digits_are_fresh_copies():
    a = digits()
    a.images.zero_()
    assert digits().images.max() == 1.0


def test_stratified_split_sizes_and_determinism():
    d = digits()
    tr, te = d.split(test_fraction=0.2, seed=0)
    assert len(tr) + len(te) == len(d)
    for c in range(10):
        n_c = int((d.labels == c).sum())
        assert int((te.labels == c).sum()) == round(0.2 * n_c)
    i_tr, i_te = d.split_indices(0.2, seed=0)
    assert set(i_tr.tolist()).isdisjoint(i_te.tolist())
    i_tr2, i_te2 = d.split_indices(0.2, seed=0)
    assert torch.equal(i_te, i_te2) and torch.equal(i_tr, i_tr2)
    _, i_te3 = d.split_indices(0.2, seed=1)
    assert not torch.equal(i_te, i_te3)
    assert torch.equal(te.images, d.images[i_te])


def test_split_rejects_bad_fraction():
    with pytest.raises(ValueError, match="strictly between 0 and 1"):
        digits().split(test_fraction=1.0)


def test_subset_keeps_factors_and_extras(cdigits):
    sub = cdigits.subset([3, 1, 4])
    assert torch.equal(sub.images, cdigits.images[[3, 1, 4]])
    assert torch.equal(sub.factors, cdigits.factors[[3, 1, 4]])
    assert sub.factor_names == cdigits.factor_names and sub.factor_sizes == cdigits.factor_sizes
    with pytest.raises(IndexError, match="out of range"):
        cdigits.subset([len(cdigits)])


def test_color_digits_factors_and_colors(cdigits):
    assert cdigits.shape == (3, 8, 8) and len(cdigits) == 1797
    assert cdigits.factor_names == ("digit", "color") and cdigits.factor_sizes == (10, 8)
    assert torch.equal(cdigits.factors[:, 0], cdigits.labels)
    gray = digits().images
    palette = color_palette(8)
    expected = gray * palette[cdigits.factors[:, 1]][:, :, None, None]
    assert torch.equal(cdigits.images, expected)
    # every colour is used and the colours are distinct
    assert cdigits.factors[:, 1].unique().numel() == 8
    assert torch.cdist(palette, palette).add(torch.eye(8)).min() > 0.3
    assert torch.equal(color_digits(seed=0).images, cdigits.images)
    assert not torch.equal(color_digits(seed=1).factors, cdigits.factors)
    with pytest.raises(ValueError, match="n_colors"):
        color_digits(n_colors=0)


@pytest.mark.parametrize("factor", ["digit", "color", 1])
def test_pairs_share_requested_factor(cdigits, factor):
    k = cdigits.factor_index(factor)
    pairs = sample_pairs(cdigits, factor, 500, torch.Generator().manual_seed(3))
    assert pairs.shape == (500, 2) and pairs.dtype == torch.int64
    assert (pairs[:, 0] != pairs[:, 1]).all()
    assert torch.equal(cdigits.factors[pairs[:, 0], k], cdigits.factors[pairs[:, 1], k])
    again = sample_pairs(cdigits, factor, 500, torch.Generator().manual_seed(3))
    assert torch.equal(pairs, again)
    # the partner is not always drawn from the same few samples
    assert pairs[:, 1].unique().numel() > 300


def test_pairs_differ_and_label(cdigits):
    pairs = sample_pairs(cdigits, "color", 500, torch.Generator().manual_seed(0), share=False)
    assert (cdigits.factors[pairs[:, 0], 1] != cdigits.factors[pairs[:, 1], 1]).all()
    pairs = sample_pairs(digits(), "label", 100, torch.Generator().manual_seed(0))
    d = digits()
    assert torch.equal(d.labels[pairs[:, 0]], d.labels[pairs[:, 1]])


def test_pairs_errors(cdigits):
    with pytest.raises(ValueError, match="unknown factor 'hue'"):
        sample_pairs(cdigits, "hue", 3, torch.Generator())
    with pytest.raises(TypeError, match="torch.Generator"):
        sample_pairs(cdigits, "digit", 3, 0)
    one = Dataset(torch.zeros(3, 1, 2, 2), factors=torch.tensor([0, 1, 2]), factor_names=["f"])
    with pytest.raises(ValueError, match="same value"):
        sample_pairs(one, "f", 2, torch.Generator())


def test_sprites_shape_binary_factorial(sprites32):
    s = sprites32
    assert len(s) == 3 * 4 * 4 * 8 * 8 and s.shape == (1, 32, 32) and s.levels == 2
    assert s.factor_names == ("shape", "scale", "rotation", "x", "y")
    assert s.factor_sizes == (3, 4, 4, 8, 8)
    assert set(s.images.unique().tolist()) == {0.0, 1.0}
    assert s.is_factorial
    assert (s.images.flatten(1).sum(1) > 0).all()
    # every factor combination gives a distinct image at 32×32
    assert torch.unique(s.images.flatten(1), dim=0).shape[0] == len(s)
    assert torch.equal(s.labels, s.factors[:, 0])


def test_sprites_deterministic_and_size16():
    a = sprites(size=16, rotations=1)
    importlib.import_module("invwidgets.data.sprites")._render_all.cache_clear()  # render afresh
    b = sprites(size=16, rotations=1)
    assert torch.equal(a.images, b.images)
    a.images.zero_()  # callers get their own copy of the cached images
    assert torch.equal(sprites(size=16, rotations=1).images, b.images)
    assert a.shape == (1, 16, 16) and len(a) == 768 and a.factor_sizes[2] == 1
    with pytest.raises(ValueError, match="size"):
        sprites(size=8)


def test_sprites_scale_grows_area(sprites32):
    s = sprites32
    area = s.images.flatten(1).sum(1)
    for sh in range(3):
        means = [float(area[(s.factors[:, 0] == sh) & (s.factors[:, 1] == k)].mean()) for k in range(4)]
        assert means == sorted(means) and means[0] < means[-1]


def test_render_sprite_matches_dataset(sprites32):
    for i in range(0, len(sprites32), 97):
        vals = sprites32.factors_of(i).tolist()
        assert np.array_equal(render_sprite(*vals, size=32, rotations=4), sprites32.images[i, 0].numpy())


def test_index_of_factors_of_roundtrip(sprites32):
    s = sprites32
    idx = torch.arange(len(s))
    assert torch.equal(s.index_of(s.factors_of(idx)), idx)
    assert torch.equal(s.factors_of(idx), s.factors)
    assert int(s.index_of([2, 3, 1, 7, 0])) == (((2 * 4 + 3) * 4 + 1) * 8 + 7) * 8 + 0
    assert torch.equal(mixed_radix_factors(mixed_radix_index(s.factors, s.factor_sizes), s.factor_sizes), s.factors)
    with pytest.raises(ValueError, match="out of range"):
        s.index_of([3, 0, 0, 0, 0])


@pytest.mark.parametrize("k", range(5))
def test_traversal_changes_only_one_factor(sprites32, k):
    s = sprites32
    gen = torch.Generator().manual_seed(k)
    for base in torch.randint(0, len(s), (5,), generator=gen).tolist():
        idx = traversal(s, k, base)
        assert idx.shape == (s.factor_sizes[k],)
        f = s.factors[idx]
        assert torch.equal(f[:, k], torch.arange(s.factor_sizes[k]))
        others = [j for j in range(5) if j != k]
        assert (f[:, others] == s.factors[base, others]).all()
        assert base in idx.tolist()


def test_traversal_on_non_factorial_subset(sprites32):
    sub = sprites32.subset(torch.arange(len(sprites32) - 1, -1, -1))  # reversed order
    assert not sub.is_factorial
    idx = traversal(sub, "x", 10)
    f = sub.factors[idx]
    assert torch.equal(f[:, 3], torch.arange(8)) and (f[:, [0, 1, 2, 4]] == sub.factors[10, [0, 1, 2, 4]]).all()
    missing = sprites32.subset(sprites32.factors[:, 3] != 5)
    with pytest.raises(ValueError, match="no sample"):
        traversal(missing, "x", 0)


def test_random_traversals(sprites32):
    t1 = random_traversals(sprites32, "scale", 6, torch.Generator().manual_seed(1))
    t2 = random_traversals(sprites32, "scale", 6, torch.Generator().manual_seed(1))
    assert t1.shape == (6, 4) and torch.equal(t1, t2)


def test_helix_shape_labels_and_formula():
    h = helix(n=1024, noise=0.1, strands=2, seed=0)
    assert isinstance(h, VectorDataset) and not h.is_image
    assert h.vectors.shape == (1024, 3) and h.vectors.dtype == torch.float32 and h.shape == (3,)
    assert set(h.labels.tolist()) == {0, 1}
    t = h.extras["t"]
    assert t.min() >= -1 and t.max() <= 1
    assert torch.allclose(h.vectors[:, 2], t, atol=0.5)
    clean = helix(n=1024, noise=0.0, strands=2, seed=0)
    theta = math.pi * (clean.extras["t"].double() + clean.labels.double())
    expected = torch.stack([theta.cos(), theta.sin(), clean.extras["t"].double()], 1).float()
    assert torch.allclose(clean.vectors, expected, atol=1e-6)
    resid = (h.vectors - clean.vectors).double()
    assert abs(float(resid.std()) - 0.1) < 0.01
    assert torch.equal(helix(seed=0).vectors, h.vectors)
    assert not torch.equal(helix(seed=1).vectors, h.vectors)
    tr, te = h.split()
    assert len(te) == round(0.2 * int((h.labels == 0).sum())) + round(0.2 * int((h.labels == 1).sum()))
    assert te.extras["t"].shape == (len(te),)
    with pytest.raises(ValueError, match="noise"):
        helix(noise=-1.0)


def test_dataset_constructor_validation():
    with pytest.raises(TypeError, match="float32"):
        Dataset(torch.zeros(2, 1, 4, 4, dtype=torch.float64))
    with pytest.raises(ValueError, match="4 dimensions"):
        Dataset(torch.zeros(2, 4, 4))
    with pytest.raises(ValueError, match=r"\[0, 1\]"):
        Dataset(torch.full((2, 1, 4, 4), 1.5))
    with pytest.raises(ValueError, match="NaN"):
        Dataset(torch.full((2, 1, 4, 4), float("nan")))
    with pytest.raises(ValueError, match="labels must have shape"):
        Dataset(torch.zeros(2, 1, 4, 4), labels=[0, 1, 2])
    with pytest.raises(ValueError, match="levels"):
        Dataset(torch.full((2, 1, 4, 4), 0.3), levels=2)
    with pytest.raises(ValueError, match="factor 'f' has values outside"):
        Dataset(torch.zeros(2, 1, 4, 4), factors=[[0], [3]], factor_names=["f"], factor_sizes=[2])
    unlabelled = Dataset(torch.zeros(2, 1, 4, 4))
    assert int(unlabelled[0][1]) == -1


def test_traversal_base_forms(sprites32):
    by_index = traversal(sprites32, "y", 777)
    assert torch.equal(traversal(sprites32, "y", np.int64(777)), by_index)
    assert torch.equal(traversal(sprites32, "y", torch.tensor(777)), by_index)
    assert torch.equal(traversal(sprites32, "y", sprites32.factors_of(777).tolist()), by_index)
    assert torch.equal(traversal(sprites32, "shape"), torch.tensor([0, 1, 2]) * (4 * 4 * 8 * 8))
    with pytest.raises(ValueError, match="out of range"):
        traversal(sprites32, "y", [0, 0, 0, 0, 9])
    with pytest.raises(ValueError, match="unknown factor"):
        traversal(sprites32, "colour", 0)


def test_subset_of_no_index_is_an_empty_dataset(cdigits):
    for empty in ([], torch.tensor([]), torch.zeros(len(cdigits), dtype=torch.bool)):
        sub = cdigits.subset(empty)
        assert len(sub) == 0 and sub.images.shape == (0, 3, 8, 8)
        assert sub.labels.shape == (0,) and sub.factors.shape == (0, 2)
        assert sub.factor_names == cdigits.factor_names and sub.class_names == cdigits.class_names
    assert len(cdigits) == 1797  # the source is untouched
