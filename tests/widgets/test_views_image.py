"""ImageView without a browser: traits, binary state, heatmap limits, PNG compositing."""

from __future__ import annotations

import io

import numpy as np
import pytest
import torch
import traitlets
from ipywidgets.widgets.widget import _remove_buffers
from PIL import Image

from invwidgets.widgets.views import ImageView, colormaps


def decode(png: bytes) -> np.ndarray:
    return np.asarray(Image.open(io.BytesIO(png)))


def record_messages(widget) -> list:
    sent: list = []
    widget._send = lambda msg, buffers=None: sent.append((msg, buffers))
    return sent


def test_image_traits_and_binary_state():
    x = torch.rand(3, 6, 4)
    v = ImageView(x, caption="input", width=100)
    assert v._meta == {"h": 6, "w": 4, "c": 3}
    assert v._pixels == np.floor(x.permute(1, 2, 0).numpy().astype(np.float64) * 255 + 0.5) \
        .astype(np.uint8).tobytes()
    assert (v.status, v.error, v.caption, v.width) == ("idle", "", "input", 100)
    assert v._kind == "image" and "_esm" not in v.get_state()  # the root carries the code
    assert len(v._lut) == 768 and v._lut == colormaps.lut("diverging").tobytes()
    # Pixels travel as binary buffers, never inside the JSON.
    _, paths, buffers = _remove_buffers(v.get_state())
    assert ["_pixels"] in paths and ["_lut"] in paths
    assert all(isinstance(b, (bytes, memoryview)) for b in buffers)
    assert v.image.shape == (6, 4, 3)


def test_set_image_is_one_message_and_none_clears():
    v = ImageView()
    sent = record_messages(v)
    v.set_image(np.zeros((2, 3), dtype=np.uint8))
    assert len(sent) == 1
    msg, buffers = sent[0]
    assert "_meta" in msg["state"] and msg["buffer_paths"] == [["_pixels"]]  # binary
    assert bytes(buffers[0]) == bytes(6)
    v.set_image(None)
    assert v._pixels == b"" and v._meta == {} and v.image is None


def test_heatmap_limits_and_cmaps():
    h = np.array([[-2.0, 0.0], [1.0, 0.5]])
    v = ImageView(np.zeros((2, 2)), heatmap=h)
    assert v.heatmap_limits == (-2.0, 2.0)  # diverging: symmetric
    assert list(v._heatmap) == [0, 128, 191, 159]
    v.set_heatmap(h, cmap="sequential")
    assert v.cmap == "sequential" and v.heatmap_limits == (-2.0, 1.0)
    assert v._lut == colormaps.lut("sequential").tobytes()
    assert list(v._heatmap) == [0, 170, 255, 213]
    v.set_heatmap(h, vmin=0.0, vmax=1.0)
    assert v.heatmap_limits == (0.0, 1.0) and list(v._heatmap) == [0, 0, 255, 128]
    v.cmap = "diverging"  # auto limits follow the map; given ones stay
    assert v.heatmap_limits == (0.0, 1.0)
    v.set_heatmap(h)
    v.cmap = "viridis"
    assert v.cmap == "sequential" and v.heatmap_limits == (-2.0, 1.0)
    v.set_heatmap(None)
    assert v._heatmap == b"" and v._heatmap_meta == {} and v.heatmap_limits is None


def test_heatmap_of_another_size_is_kept_native():
    v = ImageView(np.zeros((8, 8)), heatmap=np.ones((2, 4)))
    assert v._heatmap_meta["h"] == 2 and v._heatmap_meta["w"] == 4


def test_to_png_gray_and_rgb_without_heatmap(tmp_path):
    gray = np.arange(12, dtype=np.uint8).reshape(3, 4) * 20
    v = ImageView(gray)
    np.testing.assert_array_equal(decode(v.to_png()), gray)
    rgb = np.random.default_rng(1).random((3, 5, 2))
    path = tmp_path / "x.png"
    data = ImageView(rgb).to_png(path)
    assert path.read_bytes() == data
    np.testing.assert_array_equal(decode(data), ImageView(rgb).image)


def test_to_png_composites_heatmap_with_lut_and_opacity():
    img = np.full((2, 2), 100, dtype=np.uint8)
    v = ImageView(img, heatmap=np.array([[-1.0, 0.0], [0.0, 1.0]]), heatmap_opacity=0.5)
    out = decode(v.to_png())
    assert out.shape == (2, 2, 3)
    # floor(100 * 0.5 + lut * 0.5 + 0.5) with lut[0] = (5, 48, 97), lut[128] = white,
    # lut[255] = (103, 0, 31)
    np.testing.assert_array_equal(out[0, 0], [53, 74, 99])
    np.testing.assert_array_equal(out[0, 1], [178, 178, 178])
    np.testing.assert_array_equal(out[1, 1], [102, 50, 66])
    v.heatmap_opacity = 0.0
    np.testing.assert_array_equal(decode(v.to_png()), np.full((2, 2, 3), 100))
    v.heatmap_opacity = 1.0
    np.testing.assert_array_equal(decode(v.to_png())[1, 1], [103, 0, 31])


def test_to_png_stretches_a_small_heatmap_nearest():
    v = ImageView(np.zeros((4, 4, 3)), heatmap=np.array([[-1.0, 1.0], [1.0, -1.0]]),
                  heatmap_opacity=1.0)
    out = decode(v.to_png())
    lut = colormaps.lut("diverging")
    for (y, x), k in {(0, 0): 0, (1, 1): 0, (0, 2): 255, (3, 1): 255, (3, 3): 0}.items():
        np.testing.assert_array_equal(out[y, x], lut[k])


def test_errors():
    v = ImageView()
    with pytest.raises(ValueError, match="no image"):
        v.to_png()
    with pytest.raises(ValueError, match=r"1 or 3 channels.*\(4, 5, 6\)"):
        v.set_image(np.zeros((4, 5, 6)))
    with pytest.raises(traitlets.TraitError, match="heatmap_opacity"):
        v.heatmap_opacity = 1.5
    with pytest.raises(traitlets.TraitError, match="unknown cmap"):
        v.cmap = "jet"
    with pytest.raises(ValueError, match="unknown cmap"):
        ImageView(cmap="jet")
    with pytest.raises(ValueError, match="vmax must be >= vmin"):
        v.set_heatmap(np.zeros((2, 2)), vmin=1, vmax=0)
    assert v.heatmap_limits is None  # a failed call changes nothing


def test_unknown_front_end_action_becomes_error_not_exception():
    v = ImageView(np.zeros((2, 2)))
    v._handle_custom_msg({"kind": "anywidget-command"}, [])  # not ours: ignored
    assert v.status == "idle" and v.error == ""
    v._handle_custom_msg({"action": "bogus"}, [])
    assert v.status == "error" and "unknown action 'bogus'" in v.error
    assert v.error.startswith("ValueError")
    v.close()


def test_default_overlay_keeps_digits_legible():
    """At the default opacity an 8×8 digit stays readable under its heatmap: over the first 100
    digits, overlaid with (image − mean), digit pixels stay at least 0.3 brighter (luminance) than
    background pixels; at the former default of 0.6 the gap fell to 0.07."""
    from invwidgets.data import digits
    from invwidgets.widgets.views._base import DEFAULT_HEATMAP_OPACITY

    weights = np.array([0.2126, 0.7152, 0.0722]) / 255.0

    def gaps(opacity: float) -> list[float]:
        out = []
        for x in digits().images[:100]:
            v = ImageView(x, heatmap=x[0] - x[0].mean(), heatmap_opacity=opacity)
            lum = v._render().astype(np.float64) @ weights
            v.close()
            x0 = x[0].numpy()
            out.append(float(lum[x0 > 0.5].mean() - lum[x0 < 0.1].mean()))
        return out

    assert ImageView().heatmap_opacity == DEFAULT_HEATMAP_OPACITY
    assert min(gaps(DEFAULT_HEATMAP_OPACITY)) >= 0.3
    assert min(gaps(0.6)) < 0.1  # the measure does see an illegible overlay
