"""Pair sources: explicit shared masks from labels, augmentation pairs, the two-sketches route."""

from __future__ import annotations

import pytest
import torch

from invwidgets.data import color_digits, color_palette
from invwidgets.methods.pairs import PairSource, SketchRenderer


def gen(seed=0):
    return torch.Generator().manual_seed(seed)


@pytest.fixture(scope="module")
def data():
    return color_digits().subset(torch.arange(300))


def test_label_pairs_mark_every_shared_factor(data):
    src = PairSource.from_labels(data, ("digit", "color"))
    xa, xb, shared = src.sample(400, gen(1))
    assert xa.shape == xb.shape == (400, 3, 8, 8) and shared.shape == (400, 3)
    assert not shared[:, 2].any()  # the residual is never shared
    assert shared[:, :2].any(1).all()  # each pair shares at least the factor it was drawn for
    # masks agree with the images' own factors (recover the indices by matching images)
    flat = data.images.flatten(1)
    ia = torch.cdist(xa.flatten(1), flat).argmin(1)
    ib = torch.cdist(xb.flatten(1), flat).argmin(1)
    assert torch.equal(shared[:, :2], data.factors[ia] == data.factors[ib])
    assert 0.3 < shared[:, 0].float().mean() < 0.75  # roughly half digit pairs (plus coincidences)
    xa2, xb2, shared2 = src.sample(400, gen(1))
    assert torch.equal(xa, xa2) and torch.equal(shared, shared2)


def test_label_pair_weights_and_errors(data):
    only_color = PairSource.from_labels(data, ("digit", "color"), weights=[0.0, 1.0])
    _, _, shared = only_color.sample(100, gen(2))
    assert shared[:, 1].all()
    with pytest.raises(ValueError, match="weights"):
        PairSource.from_labels(data, ("digit", "color"), weights=[0.0, 0.0])
    with pytest.raises(ValueError, match="unknown factor"):
        PairSource.from_labels(data, ("shape",))
    with pytest.raises(TypeError, match="Generator"):
        only_color.sample(3, 5)


def test_label_pairs_on_a_dataset_with_labels_but_no_factors():
    from invwidgets.data import digits

    plain = digits()
    assert plain.factors is None and plain.labels is not None
    source = PairSource.from_labels(plain)
    assert source.factor_names == ("label",) and source.n_factors == 2
    x_a, x_b, shared = source.sample(64, gen(3))
    assert shared[:, 0].all() and not shared[:, 1].any()
    assert x_a.shape == (64, 1, 8, 8) and not torch.equal(x_a, x_b)
    # the pairs really share the class: find the images back in the dataset
    flat = plain.images.flatten(1)
    ia = (x_a.flatten(1)[:, None] == flat[None]).all(2).float().argmax(1)
    ib = (x_b.flatten(1)[:, None] == flat[None]).all(2).float().argmax(1)
    assert torch.equal(plain.labels[ia], plain.labels[ib])
    with pytest.raises(ValueError, match="no factors"):
        PairSource.from_labels(plain, ("digit",))


def test_augmentation_pairs_share_content(data):
    recolor = SketchRenderer(color_palette(8), max_shift=0, intensity=(1.0, 1.0))
    gray = data.images.max(1, keepdim=True).values  # digit shape without its colour
    src = PairSource.from_augmentation(gray, recolor, factor="shape")
    xa, xb, shared = src.sample(50, gen(3))
    assert src.factor_names == ("shape",) and shared[:, 0].all() and not shared[:, 1].any()
    # same shape: the per-pixel maximum over channels is the same drawing
    assert torch.allclose(xa.max(1).values > 0, xb.max(1).values > 0)


def test_sketch_renderer_is_seeded_and_varies_colour():
    sketch = torch.zeros(4, 1, 8, 8)
    sketch[:, :, 2:6, 3:5] = 1.0
    r = SketchRenderer(color_palette(8))
    a, b = r(sketch, gen(4)), r(sketch, gen(4))
    assert a.shape == (4, 3, 8, 8) and torch.equal(a, b)
    assert a.min() >= 0 and a.max() <= 1
    colours = {tuple((a[i].sum((1, 2)) / a[i].sum()).round(decimals=2).tolist()) for i in range(4)}
    assert len(colours) > 1
    with pytest.raises(ValueError, match="grayscale"):
        r(torch.zeros(1, 3, 8, 8), gen(0))


def test_sketch_pairs(data):
    a = torch.zeros(8, 8)
    a[1:7, 3:5] = 1.0
    b = torch.zeros(8, 8)
    b[1:7, 1:7] = 1.0
    src = PairSource.from_sketches(a, b, SketchRenderer(color_palette(8)), background=data.images,
                                   concept="thickness", background_fraction=0.25)
    xa, xb, shared = src.sample(40, gen(5))
    assert src.factor_names == ("thickness",)
    assert xa.shape == (40, 3, 8, 8) and shared[:30, 0].all() and not shared[30:].any()
    # shared pairs are renderings of the same sketch: same support up to a one-pixel shift
    on_a = (xa[:30].amax(1) > 0).flatten(1).sum(1)
    on_b = (xb[:30].amax(1) > 0).flatten(1).sum(1)
    assert ((on_a - on_b).abs() <= 8).all()
    with pytest.raises(ValueError, match="empty"):
        PairSource.from_sketches(torch.zeros(8, 8), b, SketchRenderer(color_palette(8)))
    with pytest.raises(ValueError, match="identical"):
        PairSource.from_sketches(a, a.clone(), SketchRenderer(color_palette(8)))
    with pytest.raises(ValueError, match="differ in size"):
        PairSource.from_sketches(a, torch.ones(6, 6), SketchRenderer(color_palette(8)))
    with pytest.raises(ValueError, match="NaN"):
        PairSource.from_sketches(a, b.masked_fill(b > 0, float("nan")), SketchRenderer(color_palette(8)))
