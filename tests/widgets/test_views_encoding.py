"""Array → uint8 encoding of the views, colormap tables and the PNG encoder (no widgets)."""

from __future__ import annotations

import io

import numpy as np
import pytest
import torch
from PIL import Image

from invwidgets.widgets.views import colormaps
from invwidgets.widgets.views.encoding import (
    heatmap_limits,
    heatmap_to_float,
    heatmaps_to_float,
    image_to_uint8,
    images_to_uint8,
    nearest_index,
    quantize,
)
from invwidgets.widgets.views.png import encode_png

RNG = np.random.default_rng(0)
GRAY = RNG.random((5, 7))
RGB = RNG.random((3, 5, 7))
EXPECT_GRAY = np.floor(GRAY * 255 + 0.5).astype(np.uint8)[:, :, None]
EXPECT_RGB = np.floor(np.moveaxis(RGB, 0, -1) * 255 + 0.5).astype(np.uint8)


@pytest.mark.parametrize(
    "x, expected",
    [
        (GRAY, EXPECT_GRAY),
        (GRAY[None], EXPECT_GRAY),
        (GRAY[:, :, None], EXPECT_GRAY),
        (GRAY[None, None], EXPECT_GRAY),
        (RGB, EXPECT_RGB),
        (np.moveaxis(RGB, 0, -1), EXPECT_RGB),
        (RGB[None], EXPECT_RGB),
        (torch.tensor(RGB), EXPECT_RGB),
        (torch.tensor(GRAY, dtype=torch.float32), EXPECT_GRAY),
        (torch.tensor(GRAY, dtype=torch.bfloat16).float(), None),
        (EXPECT_RGB, EXPECT_RGB),
        (torch.from_numpy(EXPECT_GRAY[:, :, 0]), EXPECT_GRAY),
    ],
    ids=["HxW", "1xHxW", "HxWx1", "1x1xHxW", "3xHxW", "HxWx3", "1x3xHxW", "tensor-rgb",
         "tensor-f32", "tensor-bf16", "uint8-HxWx3", "uint8-tensor"],
)
def test_image_layouts(x, expected):
    out = image_to_uint8(x)
    assert out.dtype == np.uint8 and out.flags.c_contiguous
    assert out.shape == (5, 7, 1) or out.shape == (5, 7, 3)
    if expected is not None:
        np.testing.assert_array_equal(out, expected)


def test_tensor_requiring_grad_and_half():
    x = torch.rand(3, 4, 4, requires_grad=True) * 1.0  # non-leaf, requires grad
    out = image_to_uint8(x)
    assert out.shape == (4, 4, 3)
    assert image_to_uint8(torch.rand(4, 4).half()).shape == (4, 4, 1)


def test_bool_and_tolerance_clip():
    np.testing.assert_array_equal(image_to_uint8(np.eye(3, dtype=bool))[:, :, 0], np.eye(3) * 255)
    out = image_to_uint8(np.array([[-5e-4, 1.0 + 5e-4]]))
    np.testing.assert_array_equal(out[:, :, 0], [[0, 255]])


def test_channel_first_wins_when_ambiguous():
    x = np.zeros((3, 4, 3))
    x[0] = 1.0  # channel-first: red everywhere
    assert image_to_uint8(x).shape == (4, 3, 3)
    assert (image_to_uint8(x)[:, :, 0] == 255).all()


@pytest.mark.parametrize(
    "x, exc, match",
    [
        (np.zeros(5), ValueError, r"2 or 3 dimensions.*got 1.*shape \(5,\)"),
        (np.zeros((2, 3, 4, 5, 6)), ValueError, r"got 5"),
        (np.zeros((4, 5, 6)), ValueError, r"1 or 3 channels.*shape \(4, 5, 6\)"),
        (np.zeros((2, 3, 5, 5)), ValueError, r"single image.*batch of 2"),
        (np.zeros((0, 5)), ValueError, r"empty.*shape \(0, 5\)"),
        (np.array([[0.5, np.nan]]), ValueError, r"1 NaN or infinite.*float64"),
        (np.array([[0.5, np.inf]]), ValueError, r"NaN or infinite"),
        (np.array([[0.0, 2.0]]), ValueError, r"\[0, 1\].*found range \[0, 2\]"),
        (np.array([[-0.5, 0.5]]), ValueError, r"found range \[-0.5, 0.5\]"),
        (np.zeros((3, 3), dtype=np.int64), TypeError, r"uint8, got dtype int64"),
        ([[0.0, 1.0]], TypeError, r"torch.Tensor or a numpy.ndarray, got list"),
        (torch.zeros(2, 2, dtype=torch.complex64), TypeError, r"complex"),
    ],
)
def test_image_errors(x, exc, match):
    with pytest.raises(exc, match=match):
        image_to_uint8(x)


@pytest.mark.parametrize(
    "x, shape",
    [
        (np.zeros((4, 3, 5, 6)), (4, 5, 6, 3)),
        (np.zeros((4, 1, 5, 6)), (4, 5, 6, 1)),
        (np.zeros((4, 5, 6, 3)), (4, 5, 6, 3)),
        (np.zeros((4, 5, 6)), (4, 5, 6, 1)),
        (torch.zeros(2, 3, 5, 6), (2, 5, 6, 3)),
        ([np.zeros((5, 6)), np.zeros((3, 5, 6))], (2, 5, 6, 3)),
        ((torch.zeros(5, 6), torch.zeros(1, 5, 6)), (2, 5, 6, 1)),
    ],
)
def test_batch_layouts(x, shape):
    out = images_to_uint8(x)
    assert out.shape == shape and out.dtype == np.uint8


def test_batch_promotes_gray_in_mixed_list():
    out = images_to_uint8([np.ones((2, 2)), np.zeros((3, 2, 2))])
    assert (out[0] == 255).all() and (out[1] == 0).all()


@pytest.mark.parametrize(
    "x, match",
    [
        (np.zeros((4, 5)), r"3 \(N×H×W\) or 4.*got 2"),
        (np.zeros((4, 2, 5, 6)), r"1 or 3 channels.*shape \(4, 2, 5, 6\)"),
        ([], r"empty"),
        (np.zeros((0, 3, 4, 4)), r"empty"),
        ([np.zeros((4, 4)), np.zeros((5, 4))], r"same height and width.*0: 4×4, 1: 5×4"),
        ([np.zeros((4, 4)), np.full((4, 4), 3.0)], r"images\[1\].*found range"),
    ],
)
def test_batch_errors(x, match):
    with pytest.raises(ValueError, match=match):
        images_to_uint8(x)


def test_heatmap_layouts_and_errors():
    h = RNG.normal(size=(4, 6))
    for x in (h, h[None], h[None, None], h[:, :, None], torch.tensor(h)):
        np.testing.assert_array_equal(heatmap_to_float(x), h)
    with pytest.raises(ValueError, match=r"single-channel H×W.*shape \(3, 4, 6\)"):
        heatmap_to_float(np.zeros((3, 4, 6)))
    with pytest.raises(ValueError, match="NaN"):
        heatmap_to_float(np.array([[np.nan]]))
    stack, present = heatmaps_to_float([None, h, None])
    assert stack.shape == (3, 4, 6) and present == [False, True, False]
    with pytest.raises(ValueError, match="has 2 entries but there are 3 images"):
        heatmaps_to_float(np.zeros((2, 4, 6)), n=3)
    with pytest.raises(ValueError, match="every entry is None"):
        heatmaps_to_float([None, None])


def test_limits_and_quantize():
    h = np.array([[-1.0, 0.0, 0.5]])
    assert heatmap_limits(h, None, None, diverging=True) == (-1.0, 1.0)
    assert heatmap_limits(h, None, None, diverging=False) == (-1.0, 0.5)
    assert heatmap_limits(h, 0.0, None, diverging=False) == (0.0, 0.5)
    with pytest.raises(ValueError, match="vmax must be >= vmin"):
        heatmap_limits(h, 1.0, 0.0, diverging=False)
    np.testing.assert_array_equal(quantize(h, -1.0, 1.0), [[0, 128, 191]])
    np.testing.assert_array_equal(quantize(np.array([5.0, -5.0]), -1.0, 1.0), [255, 0])
    np.testing.assert_array_equal(quantize(np.zeros(2), 0.0, 0.0), [128, 128])


def test_nearest_index():
    np.testing.assert_array_equal(nearest_index(4, 2), [0, 0, 1, 1])
    np.testing.assert_array_equal(nearest_index(2, 4), [1, 3])
    np.testing.assert_array_equal(nearest_index(3, 3), [0, 1, 2])


def test_colormap_tables():
    div = colormaps.lut("diverging")
    seq = colormaps.lut("viridis")
    for table in (div, seq):
        assert table.shape == (256, 3) and table.dtype == np.uint8
        assert not table.flags.writeable
    np.testing.assert_array_equal(div[0], [5, 48, 97])  # darkest blue
    np.testing.assert_array_equal(div[128], [255, 255, 255])  # zero is white
    np.testing.assert_array_equal(div[255], [103, 0, 31])  # darkest red
    assert div[64, 2] > div[64, 0] and div[192, 0] > div[192, 2]  # blue half, red half
    np.testing.assert_array_equal(seq[0], [68, 1, 84])
    np.testing.assert_array_equal(seq[255], [253, 231, 37])
    assert abs(int(seq[128, 1]) - 145) <= 2
    lum = seq.astype(float) @ [0.2126, 0.7152, 0.0722]
    assert (np.diff(lum) > -0.5).all() and lum[-1] - lum[0] > 150  # brighter, up to rounding
    assert colormaps.cmap_name("BWR") == "diverging"
    with pytest.raises(ValueError, match="unknown cmap 'jet'"):
        colormaps.lut("jet")


@pytest.mark.parametrize("shape", [(3, 5), (3, 5, 1), (3, 5, 3), (3, 5, 4)])
def test_png_round_trip(shape):
    pixels = RNG.integers(0, 256, size=shape, dtype=np.uint8)
    decoded = np.asarray(Image.open(io.BytesIO(encode_png(pixels))))
    np.testing.assert_array_equal(decoded, pixels.reshape(decoded.shape))


def test_png_errors():
    with pytest.raises(TypeError, match="uint8"):
        encode_png(np.zeros((2, 2)))
    with pytest.raises(ValueError, match="H×W×3"):
        encode_png(np.zeros((2, 2, 2), dtype=np.uint8))
