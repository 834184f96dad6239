"""``to_png()`` and the browser agree pixel for pixel: an ImageView and a SampleGrid with heatmap
overlays in a real JupyterLab, their canvases read at native resolution and on screen, compared
with the decoded PNGs that Python writes."""

from __future__ import annotations

import base64
import io
import struct
import zlib

import jlab
import numpy as np
import pytest

pytestmark = pytest.mark.browser

ROOT = ".png-check"
IMAGE = f"{ROOT} .invw-view[data-kind=image] .invw-image"
GRID = f"{ROOT} .invw-view[data-kind=grid] .invw-grid"
#: CSS pixels per native pixel: integers, so every native pixel covers whole screen pixels.
IMAGE_SCALE, CELL_SCALE = 8, 6

CELLS = [
    "import base64, numpy as np, invwidgets as iw\n"
    "rng = np.random.default_rng(0)\n"
    # gray 10×16 image, a 4×7 diverging heatmap stretched over it: rows 2 and 7 fall exactly
    # on a heatmap row boundary ((y + 0.5)·4/10 is an integer), where rounding must agree too
    f"view = iw.ImageView(rng.random((10, 16)), heatmap=rng.standard_normal((4, 7)), width={16 * IMAGE_SCALE},\n"
    "                    heatmap_opacity=0.6, colorbar=False)\n"
    # five RGB 10×10 cells, three with a sequential 4×3 heatmap, two without
    "heat = [rng.standard_normal((4, 3)) if i % 2 == 0 else None for i in range(5)]\n"
    "grid = iw.SampleGrid(rng.random((5, 3, 10, 10)), ncols=3, heatmaps=heat, cmap='sequential',\n"
    f"                     heatmap_opacity=0.45, cell_width={10 * CELL_SCALE}, colorbar=False)\n"
    "box = iw.widgets.Column(view, grid)\n"
    "box.add_class('png-check')\n"
    "box",
]

# The picture a frame (main canvas + overlay canvas) shows, composed at the main canvas's native
# size: the image, then the overlay stretched over it with the overlay's CSS opacity.
_JS_NATIVE = """(frame) => {
  const main = frame.querySelector('canvas.invw-main');
  const overlay = frame.querySelector('canvas.invw-overlay');
  const c = document.createElement('canvas');
  c.width = main.width; c.height = main.height;
  const g = c.getContext('2d');
  g.imageSmoothingEnabled = false;
  g.drawImage(main, 0, 0);
  if (overlay && !overlay.hidden) {
    g.globalAlpha = parseFloat(getComputedStyle(overlay).opacity);
    g.drawImage(overlay, 0, 0, c.width, c.height);
  }
  return {width: c.width, height: c.height, data: Array.from(g.getImageData(0, 0, c.width, c.height).data)};
}"""

# Only the main (backing) canvas of a frame, at its native resolution.
_JS_MAIN = """(frame) => {
  const c = frame.querySelector('canvas.invw-main');
  const d = c.getContext('2d').getImageData(0, 0, c.width, c.height);
  return {width: d.width, height: d.height, data: Array.from(d.data)};
}"""


def decode_png(data: bytes) -> np.ndarray:
    """The pixels of a PNG written by ``to_png`` (8-bit gray/RGB/RGBA, scanline filter 0) as
    H×W×C uint8; any other kind of PNG is an error."""
    assert data[:8] == b"\x89PNG\r\n\x1a\n"
    pos, idat, header = 8, b"", None
    while pos < len(data):
        (n,) = struct.unpack(">I", data[pos : pos + 4])
        kind, body = data[pos + 4 : pos + 8], data[pos + 8 : pos + 8 + n]
        assert zlib.crc32(kind + body) & 0xFFFFFFFF == struct.unpack(">I", data[pos + 8 + n : pos + 12 + n])[0]
        if kind == b"IHDR":
            header = struct.unpack(">IIBBBBB", body)
        elif kind == b"IDAT":
            idat += body
        pos += 12 + n
    w, h, depth, colour, _, _, interlace = header
    assert depth == 8 and interlace == 0
    c = {0: 1, 2: 3, 6: 4}[colour]
    raw = np.frombuffer(zlib.decompress(idat), np.uint8).reshape(h, 1 + w * c)
    assert (raw[:, 0] == 0).all(), "to_png writes filter type 0 on every scanline"
    return raw[:, 1:].reshape(h, w, c)


def _rgb(pixels: dict) -> np.ndarray:
    a = np.array(pixels["data"], np.uint8).reshape(pixels["height"], pixels["width"], 4)
    assert (a[..., 3] == 255).all(), "the canvas is opaque"
    return a[..., :3]


def _as_rgb(png: np.ndarray) -> np.ndarray:
    return np.repeat(png, 3, axis=2) if png.shape[2] == 1 else png[..., :3]


def _python_png(lab: jlab.LabPage, expr: str) -> np.ndarray:
    text = lab.kernel_eval(f"print(base64.b64encode({expr}.to_png()).decode())").strip()
    return decode_png(base64.b64decode(text))


def _on_screen(lab: jlab.LabPage, canvas, native_w: int, native_h: int, scale: int) -> np.ndarray:
    """What the screen shows of the main canvas ``canvas`` (a locator; the overlay lies on top
    of it), drawn ``scale`` CSS px per native pixel at device scale 1, sampled at the centre of
    every native pixel: native_h×native_w×3."""
    from PIL import Image

    canvas.scroll_into_view_if_needed()
    box = canvas.bounding_box()
    assert box is not None
    assert (round(box["width"]), round(box["height"])) == (native_w * scale, native_h * scale), box
    shot = np.asarray(Image.open(io.BytesIO(lab.page.screenshot())).convert("RGB"))
    ys = np.floor(box["y"] + (np.arange(native_h) + 0.5) * scale).astype(int)
    xs = np.floor(box["x"] + (np.arange(native_w) + 0.5) * scale).astype(int)
    return shot[ys][:, xs]


def _diff(a: np.ndarray, b: np.ndarray) -> str:
    d = np.abs(a.astype(int) - b.astype(int))
    return f"max |diff| {d.max()}, {int((d > 0).any(axis=-1).sum())} of {d.shape[0] * d.shape[1]} pixels differ"


@pytest.fixture(scope="module")
def views_page(chromium, jupyterlab):
    lab = jlab.LabPage.new(chromium, jupyterlab)
    try:
        path = jupyterlab.write_notebook("png_agreement.ipynb", CELLS)
        lab.open_notebook(path)
        lab.run_all(timeout=120)
        lab.page.wait_for_function(
            """(sel) => { const c = document.querySelector(sel + ' canvas.invw-main');
                           return c && c.width === 16 && c.height === 10; }""", arg=IMAGE, timeout=30_000)
        lab.page.wait_for_function(
            """(sel) => document.querySelectorAll(sel + ' .invw-cell canvas.invw-main').length === 5""",
            arg=GRID, timeout=30_000)
        yield lab
    finally:
        lab.close()


def test_image_view_canvas_equals_to_png(views_page):
    lab = views_page
    png = _as_rgb(_python_png(lab, "view"))
    assert png.shape == (10, 16, 3)
    frame = lab.page.locator(IMAGE).first.element_handle()
    shown = _rgb(lab.page.evaluate(_JS_NATIVE, frame))
    assert shown.shape == png.shape
    assert np.array_equal(shown, png), _diff(shown, png)
    # and what the screen shows, at the centre of each native pixel
    screen = _on_screen(lab, lab.page.locator(f"{IMAGE} canvas.invw-main").first, 16, 10, IMAGE_SCALE)
    assert np.array_equal(screen, png), _diff(screen, png)


def test_image_view_without_heatmap_backing_canvas_equals_to_png(views_page):
    lab = views_page
    lab.kernel_eval("view.set_heatmap(None)")
    try:
        lab.page.wait_for_function("(sel) => document.querySelector(sel + ' canvas.invw-overlay').hidden",
                                   arg=IMAGE, timeout=10_000)
        png = _as_rgb(_python_png(lab, "view"))
        frame = lab.page.locator(IMAGE).first.element_handle()
        main = _rgb(lab.page.evaluate(_JS_MAIN, frame))
        assert np.array_equal(main, png), _diff(main, png)
    finally:
        lab.kernel_eval("view.set_heatmap(rng.standard_normal((4, 7)))")


def _grid_cells(png: np.ndarray, n: int, ncols: int, h: int, w: int) -> list[np.ndarray]:
    return [png[(i // ncols) * (h + 1) : (i // ncols) * (h + 1) + h, (i % ncols) * (w + 1) : (i % ncols) * (w + 1) + w]
            for i in range(n)]


def _grid_case(views_page):
    lab = views_page
    png = _as_rgb(_python_png(lab, "grid"))
    assert png.shape == (2 * 10 + 1, 3 * 10 + 2, 3)
    frames = lab.page.locator(f"{GRID} .invw-cell-image")
    assert frames.count() == 5
    return lab, _grid_cells(png, 5, 3, 10, 10), frames


def test_sample_grid_cells_without_heatmap_equal_to_png(views_page):
    lab, expected, frames = _grid_case(views_page)
    for i in (1, 3):
        shown = _rgb(lab.page.evaluate(_JS_NATIVE, frames.nth(i).element_handle()))
        assert np.array_equal(shown, expected[i]), f"cell {i}: {_diff(shown, expected[i])}"
        screen = _on_screen(lab, frames.nth(i).locator("canvas.invw-main"), 10, 10, CELL_SCALE)
        assert np.array_equal(screen, expected[i]), f"cell {i} on screen: {_diff(screen, expected[i])}"


def test_sample_grid_cells_with_heatmap_equal_to_png(views_page):
    lab, expected, frames = _grid_case(views_page)
    for i in (0, 2, 4):
        shown = _rgb(lab.page.evaluate(_JS_NATIVE, frames.nth(i).element_handle()))
        assert np.array_equal(shown, expected[i]), f"cell {i}: {_diff(shown, expected[i])}"
        screen = _on_screen(lab, frames.nth(i).locator("canvas.invw-main"), 10, 10, CELL_SCALE)
        assert np.array_equal(screen, expected[i]), f"cell {i} on screen: {_diff(screen, expected[i])}"
