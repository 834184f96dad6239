"""SketchPad without a browser: pixels round trip, clear, resize, front-end updates."""

from __future__ import annotations

import io

import numpy as np
import pytest
import torch
import traitlets
from PIL import Image

from invwidgets.widgets.views import SketchPad


def test_defaults():
    p = SketchPad()
    assert (p.height, p.width, p.brush, p.erase) == (28, 28, 2, False)
    assert p._pixels == bytes(28 * 28) and p._kind == "sketch" and p.status == "idle"
    assert p.array.shape == (28, 28) and p.array.dtype == np.float32 and p.array.max() == 0
    assert p.tensor.shape == (1, 28, 28) and p.tensor.dtype == torch.float32


def test_array_round_trip_and_clear():
    p = SketchPad(8, 6)
    a = np.random.default_rng(0).integers(0, 256, size=(8, 6), dtype=np.uint8)
    p.set_array(a)
    np.testing.assert_array_equal(np.round(p.array * 255).astype(np.uint8), a)
    f = a.astype(np.float32) / 255
    p.set_array(torch.from_numpy(f)[None])
    np.testing.assert_allclose(p.array, f, atol=1e-6)
    torch.testing.assert_close(p.tensor, torch.from_numpy(p.array)[None])
    p.clear()
    assert p.array.max() == 0 and len(p._pixels) == 48


def test_set_array_takes_its_size_and_rejects_rgb():
    p = SketchPad()
    p.set_array(np.ones((5, 9)))
    assert (p.height, p.width) == (5, 9) and p.array.min() == 1.0
    with pytest.raises(ValueError, match="grayscale.*3 channels"):
        p.set_array(np.zeros((3, 5, 9)))
    with pytest.raises(ValueError, match="found range"):
        p.set_array(np.full((5, 9), 2.0))


def test_front_end_pixels_and_stale_sizes():
    p = SketchPad(2, 3)
    # What the browser sends: a memoryview of h*w bytes.
    p.set_state({"_pixels": memoryview(bytes([0, 255, 0, 0, 128, 0]))})
    np.testing.assert_allclose(p.array, [[0, 1, 0], [0, 128 / 255, 0]])
    p.set_state({"_pixels": memoryview(bytes(4))})  # a stroke from before a resize: ignored
    assert p.array[0, 1] == 1.0
    p._handle_custom_msg({"action": "clear"}, [])
    assert p.array.max() == 0 and p.status == "idle"
    # What the browser sends for a stroke: a message with the pixels as a binary buffer.
    p._handle_custom_msg({"action": "pixels", "height": 2, "width": 3}, [memoryview(bytes([9, 0, 0, 0, 0, 255]))])
    assert p.array[1, 2] == 1.0 and p.array[0, 0] == pytest.approx(9 / 255)
    p._handle_custom_msg({"action": "pixels", "height": 3, "width": 3}, [memoryview(bytes(9))])  # stale size
    assert p.array[1, 2] == 1.0 and p.status == "idle"


def test_validation_and_png():
    with pytest.raises(ValueError, match="at least 1×1"):
        SketchPad(0, 5)
    p = SketchPad(3, 4)
    with pytest.raises(traitlets.TraitError, match="brush"):
        p.brush = 0
    p.set_array(np.eye(3, 4))
    out = np.asarray(Image.open(io.BytesIO(p.to_png())))
    np.testing.assert_array_equal(out, (np.eye(3, 4) * 255).astype(np.uint8))
    p._handle_custom_msg({"action": "draw"}, [])
    assert p.status == "error" and "unknown action 'draw'" in p.error


def test_resizing_clears():
    p = SketchPad(2, 2)
    p.set_array(np.ones((2, 2)))
    p.width = 3
    assert p.array.shape == (2, 3) and p.array.max() == 0
