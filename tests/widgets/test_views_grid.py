"""SampleGrid without a browser: one buffer, meta, captions, heatmaps, selection, PNG."""

from __future__ import annotations

import io

import numpy as np
import pytest
import torch
import traitlets
from PIL import Image

from invwidgets.widgets.views import SampleGrid, colormaps


def decode(png: bytes) -> np.ndarray:
    return np.asarray(Image.open(io.BytesIO(png)))


def test_buffer_layout_and_meta():
    x = torch.rand(5, 3, 4, 6)
    g = SampleGrid(x, captions=[f"#{i}" for i in range(5)])
    assert g._meta == {"n": 5, "h": 4, "w": 6, "c": 3, "ncols": 3}  # ⌈√5⌉
    cells = np.frombuffer(g._pixels, dtype=np.uint8).reshape(5, 4, 6, 3)
    expected = np.floor(x.permute(0, 2, 3, 1).double().numpy() * 255 + 0.5).astype(np.uint8)
    np.testing.assert_array_equal(cells, expected)
    assert g.captions == ["#0", "#1", "#2", "#3", "#4"] and g.n == 5 and g.ncols == 3
    assert g._kind == "grid" and g.status == "idle"


def test_ncols_is_kept_and_capped():
    g = SampleGrid(np.zeros((3, 2, 2)), ncols=8)
    assert g.ncols == 3
    g.set_images(np.zeros((10, 2, 2)))
    assert g.ncols == 8  # the request is remembered
    g.set_images(np.zeros((10, 2, 2)), ncols=2)
    assert g.ncols == 2
    with pytest.raises(ValueError, match="ncols must be at least 1"):
        g.set_images(np.zeros((2, 2, 2)), ncols=0)


def test_selected_handling():
    g = SampleGrid(np.zeros((4, 2, 2)))
    assert g.selected == -1
    g.selected = 2  # what a click in the front end does
    assert g.selected == 2
    g.selected = 9  # out of range (e.g. raced a smaller grid) means none
    assert g.selected == -1
    g.selected = 3
    g.set_images(np.zeros((6, 2, 2)))
    assert g.selected == 3  # still exists
    g.set_images(np.zeros((2, 2, 2)))
    assert g.selected == -1  # gone
    g.set_state({"selected": 1})  # as the front end sends it
    assert g.selected == 1
    g.set_images(None)
    assert g.selected == -1 and g._meta == {} and g._pixels == b"" and g.n == 0


def test_captions_validation():
    g = SampleGrid(np.zeros((3, 2, 2)))
    with pytest.raises(ValueError, match="captions has 2 entries but there are 3 images"):
        g.set_images(np.zeros((3, 2, 2)), captions=["a", "b"])
    with pytest.raises(traitlets.TraitError, match="captions has 1 entries"):
        g.captions = ["a"]
    g.captions = ["a", "b", "c"]
    g.set_images(np.zeros((3, 2, 2)))
    assert g.captions == []


def test_heatmaps_buffer_present_and_shared_limits():
    g = SampleGrid(np.zeros((3, 4, 4)))
    g.set_heatmaps([np.full((2, 2), 2.0), None, np.full((2, 2), -1.0)])
    meta = g._heatmap_meta
    assert meta == {"n": 3, "h": 2, "w": 2, "vmin": -2.0, "vmax": 2.0,
                    "present": [True, False, True]}
    idx = np.frombuffer(g._heatmaps, dtype=np.uint8).reshape(3, 2, 2)
    assert (idx[0] == 255).all() and (idx[2] == 64).all()
    g.set_heatmaps(None)
    assert g._heatmaps == b"" and g.heatmap_limits is None
    with pytest.raises(ValueError, match="has 2 entries but there are 3 images"):
        g.set_heatmaps(np.zeros((2, 4, 4)))
    with pytest.raises(ValueError, match="set images before heatmaps"):
        SampleGrid().set_heatmaps(np.zeros((1, 2, 2)))


def test_set_images_with_heatmaps_in_one_message():
    g = SampleGrid()
    sent = []
    g._send = lambda msg, buffers=None: sent.append(msg)
    g.set_images(np.zeros((2, 3, 3)), captions=["a", "b"], heatmaps=np.ones((2, 3, 3)),
                 vmin=0, vmax=2)
    assert len(sent) == 1
    assert {"_meta", "captions", "_heatmap_meta"} <= set(sent[0]["state"])
    assert {("_pixels",), ("_heatmaps",)} <= {tuple(p) for p in sent[0]["buffer_paths"]}
    assert g.heatmap_limits == (0.0, 2.0)


def test_to_png_grid_with_gaps_and_overlay():
    imgs = np.stack([np.full((2, 3), v, dtype=np.uint8) for v in (10, 20, 30)])
    g = SampleGrid(imgs, ncols=2)
    out = decode(g.to_png())
    assert out.shape == (2 * 2 + 1, 2 * 3 + 1)  # grayscale, 1-px gaps
    assert (out[0:2, 0:3] == 10).all() and (out[0:2, 4:7] == 20).all()
    assert (out[3:5, 0:3] == 30).all()
    assert (out[2, :] == 255).all() and (out[:, 3] == 255).all() and (out[3:, 4:] == 255).all()

    g.heatmap_opacity = 0.5
    g.set_heatmaps([None, np.ones((1, 1)), None], cmap="sequential", vmin=0, vmax=1)
    out = decode(g.to_png())
    assert out.shape == (5, 7, 3)
    top = colormaps.lut("sequential")[255].astype(float)
    np.testing.assert_array_equal(out[0, 4], np.floor(20 * 0.5 + top * 0.5 + 0.5))
    np.testing.assert_array_equal(out[0, 0], [10, 10, 10])  # no heatmap in cell 0
    with pytest.raises(ValueError, match="no images"):
        SampleGrid().to_png()


def test_front_end_errors_become_error_trait():
    g = SampleGrid(np.zeros((2, 2, 2)))
    g._handle_custom_msg({"action": "explode"}, [])
    assert g.status == "error" and "explode" in g.error
    g.close()
