"""Tests of the procedural 3D-Shapes-like scenes: factors, regions, orientation, layout, determinism, API."""

import math

import numpy as np
import pytest
import torch

from invwidgets.data import (
    SCENE_FACTOR_SIZES,
    SCENE_FACTORS,
    SCENE_SHAPES,
    mixed_radix_factors,
    mixed_radix_index,
    random_traversals,
    render_scenes,
    scene_grid,
    scene_images,
    scene_masks,
    scene_traversal,
    scenes,
    traversal,
)

FLOOR, WALL, OBJECT, SCALE, SHAPE, ORIENT = range(6)


def _bases(n: int, seed: int) -> np.ndarray:
    rng = np.random.default_rng(seed)
    return np.stack([rng.integers(0, s, n) for s in SCENE_FACTOR_SIZES], axis=1)


def _with(base: np.ndarray, k: int, value: int) -> np.ndarray:
    out = base.copy()
    out[k] = value
    return out


def _changed(a: torch.Tensor, b: torch.Tensor) -> torch.Tensor:
    """Pixels (H, W) where any channel differs."""
    return (a != b).any(dim=0)


def test_factors_follow_3dshapes():
    assert SCENE_FACTORS == ("floor_hue", "wall_hue", "object_hue", "scale", "shape", "orientation")
    assert SCENE_FACTOR_SIZES == (10, 10, 10, 8, 4, 15)
    assert math.prod(SCENE_FACTOR_SIZES) == 480_000
    assert SCENE_SHAPES == ("cube", "cylinder", "sphere", "capsule")


def test_images_shape_range_levels():
    x = render_scenes(_bases(5, 0), size=64)
    assert x.shape == (5, 3, 64, 64) and x.dtype == torch.float32
    assert float(x.min()) >= 0.0 and float(x.max()) <= 1.0
    assert torch.equal(x * 255, (x * 255).round())
    one = render_scenes(_bases(1, 0)[0], size=32)
    assert one.shape == (3, 32, 32)
    u8 = render_scenes(_bases(5, 0), size=64, uint8=True)
    assert u8.dtype == torch.uint8 and torch.equal(u8.float() / 255.0, x)


def test_deterministic_whatever_the_batch():
    f = _bases(37, 1)
    batch = render_scenes(f, size=64)
    assert torch.equal(batch, render_scenes(f, size=64))
    assert torch.equal(batch, render_scenes(f, size=64, chunk=5))
    for i in (0, 17, 36):
        assert torch.equal(batch[i], render_scenes(f[i], size=64))
    mixed = np.concatenate([_bases(50, 2), f[17:18]])
    assert torch.equal(render_scenes(mixed, size=64)[-1], batch[17])


@pytest.mark.parametrize("k, region", [(FLOOR, "floor"), (WALL, "wall"), (OBJECT, "object")])
def test_a_hue_changes_only_its_region(k, region):
    for base in _bases(12, 3):
        a_f, b_f = base, _with(base, k, (base[k] + 1 + base[SCALE]) % 10)
        a, b = render_scenes(np.stack([a_f, b_f]), size=64)
        masks = scene_masks(a_f, size=64)
        changed = _changed(a, b)
        inside = masks[region][0] > 0
        assert not bool((changed & ~inside).any()), f"{region} hue changed pixels outside the {region}"
        full = masks[region][0] == 1
        assert bool(full.any()) and bool(changed[full].all()), f"{region} hue left some {region} pixels unchanged"


def test_masks_partition_each_pixel():
    m = scene_masks(_bases(20, 4), size=32)
    total = m["floor"] + m["wall"] + m["object"]
    assert torch.allclose(total, torch.ones_like(total))
    assert bool(((m["shadow"] <= m["floor"] + m["wall"] + 1e-6)).all())
    assert bool((m["shadow"].flatten(1).sum(1) > 0).all())  # every object casts a visible shadow
    assert bool((m["object"].flatten(1).sum(1) > 0).all())


@pytest.mark.parametrize("k, n_values", [(SCALE, 8), (SHAPE, 4), (ORIENT, 15)])
def test_object_factors_change_only_object_and_shadow(k, n_values):
    for base in _bases(8, 5 + k):
        if k == ORIENT and base[SHAPE] == 2:
            continue  # the sphere does not change at all (tested below)
        other = _with(base, k, (base[k] + 1 + base[FLOOR] % (n_values - 1)) % n_values)
        a, b = render_scenes(np.stack([base, other]), size=64)
        m = scene_masks(np.stack([base, other]), size=64)
        allowed = ((m["object"] > 0) | (m["shadow"] > 0)).any(dim=0)
        changed = _changed(a, b)
        assert bool(changed.any())
        assert not bool((changed & ~allowed).any()), "an object factor changed floor/wall pixels outside object and shadow"


def test_shadow_darkens_the_floor():
    base = np.array([0, 0, 0, 7, 0, 7])
    small = _with(base, SCALE, 0)
    a, b = render_scenes(np.stack([base, small]), size=64)
    m = scene_masks(np.stack([base, small]), size=64)
    only_big = (m["shadow"][0] == 1) & (m["object"][1] == 0) & (m["shadow"][1] == 0)
    assert int(only_big.sum()) > 10
    assert bool((a.sum(0)[only_big] < b.sum(0)[only_big]).all())


@pytest.mark.parametrize("shape", [0, 1, 3])
def test_orientation_is_visible_for_cube_cylinder_capsule(shape):
    for base in _bases(3, 20 + shape):
        base = _with(base, SHAPE, shape)
        t = scene_traversal("orientation", base, size=32).images
        flat = t.flatten(1)
        diff = (flat[:, None, :] != flat[None, :, :]).any(-1)
        assert bool(diff[~torch.eye(15, dtype=torch.bool)].all()), "two orientations render the same image"


def test_sphere_ignores_orientation():
    for base in _bases(4, 30):
        t = scene_traversal("orientation", _with(base, SHAPE, 2), size=64).images
        assert all(torch.equal(t[0], t[j]) for j in range(1, 15))


def _mean_colour(images: torch.Tensor, mask: torch.Tensor) -> torch.Tensor:
    """Chromaticity r, g, b / (r + g + b) of the mean colour over fully covered pixels."""
    c = images[:, :, mask].mean(-1)
    return c / c.sum(1, keepdim=True)


@pytest.mark.parametrize("k, region", [(FLOOR, "floor"), (WALL, "wall"), (OBJECT, "object")])
def test_hues_are_distinguishable(k, region):
    base = np.array([2, 5, 7, 7, 0, 7])
    t = scene_traversal(k, base, size=32).images
    mask = scene_masks(base, size=32)[region][0] == 1
    chroma = _mean_colour(t, mask)
    dist = torch.cdist(chroma, chroma)
    assert float(dist[~torch.eye(10, dtype=torch.bool)].min()) > 0.1


def test_layouts_agree_at_64_and_32():
    f = _bases(16, 6)
    big, small = render_scenes(f, size=64), render_scenes(f, size=32)
    pooled = torch.nn.functional.avg_pool2d(big, 2)
    assert float((pooled - small).abs().max()) <= 1.0 / 255 + 1e-6
    m64, m32 = scene_masks(f, size=64), scene_masks(f, size=32)
    for name in m64:
        assert torch.equal(torch.nn.functional.avg_pool2d(m64[name][:, None], 2)[:, 0], m32[name])


def test_scene_images_is_render_of_decoded_indices():
    idx = torch.tensor([0, 1, 479_999, 123_456])
    assert torch.equal(scene_images(idx, size=32), render_scenes(mixed_radix_factors(idx, SCENE_FACTOR_SIZES), 32))


def test_scenes_sample():
    d = scenes(n=300, seed=7, size=32)
    assert len(d) == 300 and d.shape == (3, 32, 32) and d.levels == 256
    g = d.extras["grid_index"]
    assert torch.equal(g, torch.sort(g).values) and g.unique().numel() == 300
    assert torch.equal(d.factors, mixed_radix_factors(g, SCENE_FACTOR_SIZES))
    assert d.factor_names == SCENE_FACTORS and d.factor_sizes == SCENE_FACTOR_SIZES
    assert torch.equal(d.labels, d.factors[:, SHAPE]) and d.class_names == SCENE_SHAPES
    assert torch.equal(d.images, scene_images(g, size=32))
    assert torch.equal(scenes(n=300, seed=7, size=32).images, d.images)
    assert not torch.equal(scenes(n=300, seed=8, size=32).extras["grid_index"], g)
    assert d.license is not None and "MIT" in d.license
    assert "3D Shapes" in d.citation and "Burgess" in d.citation
    assert d.index_of(d.factors[5]).item() == 5


@pytest.mark.parametrize("kwargs", [{"n": 0}, {"n": 480_001}, {"n": 2.5}, {"size": 48}, {"size": True}])
def test_scenes_bad_arguments(kwargs):
    with pytest.raises(ValueError):
        scenes(**{"n": 10, **kwargs})


def test_render_bad_factors():
    with pytest.raises(ValueError):
        render_scenes([0, 0, 0, 8, 0, 0])  # scale has 8 values
    with pytest.raises(ValueError):
        render_scenes([0, 0, 0, 0, 0])
    with pytest.raises(TypeError):
        render_scenes(np.zeros(6))
    with pytest.raises(ValueError):
        render_scenes([0] * 6, chunk=0)


def test_scene_grid_is_factorial_with_exact_traversals():
    g = scene_grid({"floor_hue": 2, "wall_hue": [3], "object_hue": 2, "scale": 2, "orientation": 3}, size=16)
    assert g.is_factorial and len(g) == 2 * 1 * 2 * 2 * 4 * 3
    assert g.metadata["grid_values"] == [[0, 5], [3], [0, 5], [0, 7], [0, 1, 2, 3], [0, 7, 14]]
    trav = random_traversals(g, "shape", 4, torch.Generator().manual_seed(0))
    for row in trav:
        f = g.factors[row]
        assert torch.equal(f[:, SHAPE], torch.arange(4))
        assert bool((f[:, [0, 1, 2, 3, 5]] == f[0, [0, 1, 2, 3, 5]]).all())
        full = mixed_radix_factors(g.extras["grid_index"][row], SCENE_FACTOR_SIZES)
        assert torch.equal(full[:, SHAPE], torch.arange(4))
    t = traversal(g, "orientation", 5)
    gi = g.extras["grid_index"][t]
    assert torch.equal(g.images[t], scene_images(gi, size=16))
    assert torch.equal(mixed_radix_factors(gi, SCENE_FACTOR_SIZES)[:, ORIENT], torch.tensor([0, 7, 14]))


def test_scene_grid_refuses_too_much_memory():
    with pytest.raises(ValueError, match=r"480,000 scenes at 32×32 needs 5\.49 GiB"):
        scene_grid(size=32)
    with pytest.raises(ValueError, match="unknown factors"):
        scene_grid({"colour": 2})
    with pytest.raises(ValueError):
        scene_grid({"shape": [0, 0]})
    with pytest.raises(ValueError):
        scene_grid({"scale": 9})


def test_scene_traversal():
    base = np.array([1, 2, 3, 4, 1, 5])
    for k, name in enumerate(SCENE_FACTORS):
        t = scene_traversal(name, base, size=16)
        assert len(t) == SCENE_FACTOR_SIZES[k]
        assert torch.equal(t.factors[:, k], torch.arange(SCENE_FACTOR_SIZES[k]))
        rest = [j for j in range(6) if j != k]
        assert bool((t.factors[:, rest] == torch.as_tensor(base[rest])).all())
        assert torch.equal(t.images, scene_images(t.extras["grid_index"], size=16))
    by_index = scene_traversal("scale", int(mixed_radix_index(base, SCENE_FACTOR_SIZES)), size=16)
    assert torch.equal(by_index.factors, scene_traversal("scale", base, 16).factors)
    with pytest.raises(ValueError):
        scene_traversal("colour")


class _MeanColour(torch.nn.Module):
    """Encoder: mean colour of the image (3 latents); decoder: a flat image of that colour."""

    def encode(self, x):
        return x.mean(dim=(2, 3))

    def decode(self, z):
        return z[:, :, None, None].expand(-1, -1, 16, 16)


def test_conditioned_response_matrix_runs_on_a_scene_grid():
    from invwidgets.methods import conditioned_response_matrix

    g = scene_grid({"floor_hue": 3, "wall_hue": 3, "object_hue": 3, "scale": 2, "orientation": 2}, size=16)
    res = conditioned_response_matrix(_MeanColour(), g, n_traversals=3, n_samples=4, generator=0)
    assert res.factor_names == SCENE_FACTORS and res.matrix.shape == (6, 3)
    assert bool(torch.isfinite(res.matrix).all())
    # the mean colour follows the floor and wall hues (they cover most of the image)
    assert float(res.matrix[FLOOR].max()) > 0.01 and float(res.matrix[WALL].max()) > 0.01
