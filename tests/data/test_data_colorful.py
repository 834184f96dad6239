"""Tests of ColorfulMNIST: digits times RGB colours from U[0, 1]³, and pairs by re-colouring."""

import pytest
import torch

from invwidgets.data import (
    color_digits,
    colorful,
    colorful_mnist,
    colorful_pairs,
    colorize,
    digits,
    mnist_sample,
    random_colors,
    sample_pairs,
)
from invwidgets.data import provenance as src


@pytest.fixture(scope="module")
def cm():
    return colorful_mnist("train", seed=0)


def test_each_image_is_its_digit_times_its_colour(cm):
    assert len(cm) == 4000 and cm.shape == (3, 28, 28) and cm.levels is None
    gray, color = cm.extras["gray"], cm.extras["color"]
    assert gray.shape == (4000, 1, 28, 28) and color.shape == (4000, 3)
    assert torch.equal(cm.images, gray * color[:, :, None, None])
    base = mnist_sample("train", seed=0)
    assert torch.equal(gray, base.images) and torch.equal(cm.labels, base.labels)
    assert torch.equal(cm.extras["row"], base.extras["row"])


def test_colours_are_uniform_on_the_unit_cube(cm):
    palette = torch.zeros(2000, 3)
    palette[cm.factors[:, 1]] = cm.extras["color"]  # one colour per draw
    assert bool((palette >= 0).all()) and bool((palette <= 1).all())
    # U[0, 1]: mean 1/2, variance 1/12, per channel; channels uncorrelated (2000 draws: se ≈ 0.0065)
    assert torch.allclose(palette.mean(0), torch.full((3,), 0.5), atol=0.03)
    assert torch.allclose(palette.var(0), torch.full((3,), 1 / 12), atol=0.008)
    corr = torch.corrcoef(palette.T)
    assert float((corr - torch.eye(3)).abs().max()) < 0.08


def test_colour_factor_is_the_draw_each_shared_by_two_digits(cm):
    assert cm.factor_names == ("digit", "color") and cm.factor_sizes == (10, 2000)
    assert torch.bincount(cm.factors[:, 1]).tolist() == [2] * 2000
    assert torch.equal(cm.factors[:, 0], cm.labels)
    # same draw <=> same RGB
    for k in (0, 17, 1999):
        rows = (cm.factors[:, 1] == k).nonzero().flatten()
        assert torch.equal(cm.extras["color"][rows[0]], cm.extras["color"][rows[1]])
    assert len(torch.unique(cm.extras["color"], dim=0)) == 2000


def test_sample_pairs_share_the_digit_or_the_colour(cm):
    gen = torch.Generator().manual_seed(0)
    colour_pairs = sample_pairs(cm, "color", 200, gen)
    a, b = colour_pairs[:, 0], colour_pairs[:, 1]
    assert bool((a != b).all())
    assert torch.equal(cm.extras["color"][a], cm.extras["color"][b])
    assert float((cm.labels[a] == cm.labels[b]).float().mean()) < 0.3  # another digit, mostly
    digit_pairs = sample_pairs(cm, "digit", 200, gen)
    a, b = digit_pairs[:, 0], digit_pairs[:, 1]
    assert torch.equal(cm.labels[a], cm.labels[b])
    assert bool((cm.extras["color"][a] != cm.extras["color"][b]).any(dim=1).all())


def test_deterministic_under_the_seed_and_different_across_seeds():
    base = digits()
    one, two = colorful(base, seed=3), colorful(base, seed=3)
    assert torch.equal(one.images, two.images) and torch.equal(one.factors, two.factors)
    assert not torch.equal(colorful(base, seed=4).extras["color"], one.extras["color"])


def test_images_per_color_and_odd_sizes():
    base = digits().subset(range(7))
    d = colorful(base, seed=0, images_per_color=3)
    assert d.factor_sizes == (10, 3) and sorted(torch.bincount(d.factors[:, 1]).tolist()) == [1, 3, 3]
    single = colorful(base, seed=0, images_per_color=1)
    assert torch.bincount(single.factors[:, 1]).tolist() == [1] * 7
    with pytest.raises(ValueError, match="no sample"):
        sample_pairs(single, "color", 3, torch.Generator().manual_seed(0))
    with pytest.raises(ValueError, match="images_per_color"):
        colorful(base, images_per_color=0)
    with pytest.raises(ValueError, match="grayscale"):
        colorful(color_digits())


def test_colorful_pairs_by_recolouring(cm):
    gen = torch.Generator().manual_seed(5)
    p = colorful_pairs(cm, 64, gen, factor="digit")
    assert p.x_a.shape == (64, 3, 28, 28) and p.shared.dtype == torch.bool
    assert torch.equal(p.digits[:, 0], p.digits[:, 1]) and bool(p.shared[:, 0].all())
    assert not bool(p.shared[:, 1].any())
    assert bool((p.colors[:, 0] != p.colors[:, 1]).any(dim=1).all())
    q = colorful_pairs(cm, 64, gen, factor="color")
    assert torch.equal(q.colors[:, 0], q.colors[:, 1]) and bool(q.shared[:, 1].all())
    assert torch.equal(q.shared[:, 0], q.digits[:, 0] == q.digits[:, 1])
    mixed = colorful_pairs(cm, 400, torch.Generator().manual_seed(0))
    frac = float(mixed.shared[:, 1].float().mean())
    assert 0.4 < frac < 0.6
    again = colorful_pairs(cm, 400, torch.Generator().manual_seed(0))
    assert torch.equal(mixed.x_a, again.x_a) and torch.equal(mixed.colors, again.colors)


def test_colorful_pairs_images_are_exact_recolourings():
    base = digits().subset(range(40))
    p = colorful_pairs(base, 10, torch.Generator().manual_seed(1), factor="color")
    # find each image's grayscale source: the colour is known, so x / colour is the base digit
    for i in range(10):
        expected_a = colorize(base.images[[int(_source(base, p.x_a[i], p.colors[i, 0]))]], p.colors[i, 0][None])
        assert torch.equal(expected_a[0], p.x_a[i])


def _source(base, image, color):
    """Index of the base digit that, times ``color``, gives ``image``."""
    candidates = colorize(base.images, color.expand(len(base), 3))
    match = (candidates == image).flatten(1).all(1).nonzero().flatten()
    assert match.numel() >= 1
    return match[0]


def test_colorful_pairs_errors():
    gen = torch.Generator().manual_seed(0)
    with pytest.raises(ValueError, match="factor must be one of"):
        colorful_pairs(digits(), 4, gen, factor="shape")
    with pytest.raises(TypeError, match="torch.Generator"):
        colorful_pairs(digits(), 4, 0)
    with pytest.raises(ValueError, match="grayscale or made by colorful"):
        colorful_pairs(color_digits(), 4, gen)


def test_random_colors_and_colorize_checks():
    c = random_colors(5, torch.Generator().manual_seed(0))
    assert c.shape == (5, 3) and c.dtype == torch.float32
    assert torch.equal(c, random_colors(5, torch.Generator().manual_seed(0)))
    with pytest.raises(ValueError, match="colors must have shape"):
        colorize(torch.rand(2, 1, 4, 4), torch.rand(3, 3))
    with pytest.raises(ValueError, match=r"colors must lie in \[0, 1\]"):
        colorize(torch.rand(2, 1, 4, 4), torch.full((2, 3), 1.5))
    with pytest.raises(ValueError, match="grayscale"):
        colorize(torch.rand(2, 3, 4, 4), torch.rand(2, 3))


def test_colorful_mnist_provenance_and_palette_variant_unchanged(cm):
    assert cm.name == "colorful_mnist" and cm.license == "CC BY-SA 3.0"
    assert cm.citation == src.COLORFUL_MNIST.citation and "Esser" in cm.citation
    assert colorful(digits()).license == digits().license
    cd = color_digits(seed=0)
    assert cd.factor_sizes == (10, 8) and "color" not in cd.extras
    assert torch.equal(cd.images.amax(1), digits().images[:, 0])
