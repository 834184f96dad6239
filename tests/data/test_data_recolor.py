"""Recolouring colour digits: the same digit in another palette colour, and every colouring of a split."""

from __future__ import annotations

import pytest
import torch

from invwidgets.data import color_digits, color_palette
from invwidgets.data.digits import all_colorings, recolor


def test_recolor_keeps_the_digit_and_sets_the_colour():
    data = color_digits()
    palette = color_palette(8)
    colors = (data.factors[:20, 1] + 3) % 8
    out = recolor(data.images[:20], colors, palette)
    # the original colour gives the image back exactly (max over channels is the base image)
    assert torch.equal(recolor(data.images[:20], data.factors[:20, 1], palette), data.images[:20])
    assert torch.equal(out.amax(1), data.images[:20].amax(1))
    lit = out.amax(1) > 0
    for i in range(20):
        pixels = out[i][:, lit[i]]
        ratio = pixels / pixels.amax(0, keepdim=True)
        assert torch.allclose(ratio, palette[colors[i]][:, None].expand_as(ratio), atol=1e-6)


def test_recolor_rejects_bad_inputs():
    data = color_digits()
    with pytest.raises(ValueError):
        recolor(data.images[:4], torch.zeros(3, dtype=torch.int64), color_palette(8))
    with pytest.raises(ValueError):
        recolor(data.images[:4], torch.zeros(4, dtype=torch.int64), color_palette(8) * 0.5)
    with pytest.raises(ValueError):
        recolor(data.images[:4, :1], torch.zeros(4, dtype=torch.int64), color_palette(8))


def test_all_colorings_of_a_split_stays_in_the_split():
    train, test = color_digits().split(0.2, seed=0)
    every = all_colorings(train)
    n = len(train)
    assert len(every) == 8 * n
    assert torch.equal(every.labels, train.labels.repeat(8))
    assert torch.equal(every.factors[:, 1], torch.arange(8).repeat_interleave(n))
    assert every.factor_names == ("digit", "color")
    # each training image appears in its own colour, unchanged
    own = train.factors[:, 1] * n + torch.arange(n)
    assert torch.equal(every.images[own], train.images)
    # no test shape leaks in: every base image is a training one
    base_train = {tuple(b.flatten().tolist()) for b in train.images.amax(1)}
    assert {tuple(b.flatten().tolist()) for b in every.images.amax(1)} == base_train
    assert len(all_colorings(test)) == 8 * len(test)
