"""Chart: a plotly figure built in Python, synced as a plain dict for the canvas drawing, and
clicks from the browser that reach Python."""

from __future__ import annotations

import numpy as np
import plotly.graph_objects as go
import pytest

from invwidgets.widgets.views import Chart


def test_the_figure_travels_as_plain_json_without_template():
    c = Chart(title="t", xaxis_title="x")
    c.add_heatmap(z=np.arange(6.0).reshape(2, 3), colorscale="Viridis")
    c.add_bar(x=["a", "b"], y=np.array([1.5, np.nan]))
    fig = c._figure
    assert "template" not in fig["layout"] and fig["layout"]["title"]["text"] == "t"
    assert fig["data"][0]["z"] == [[0.0, 1.0, 2.0], [3.0, 4.0, 5.0]]  # lists, not plotly's base64
    assert fig["data"][1]["y"] == [1.5, None]  # NaN is JSON null
    assert isinstance(c.figure, go.Figure) and c.data[1].type == "bar"
    c.close()


def test_every_change_is_synced_and_a_batch_is_one_update():
    c = Chart()
    c.add_scatter(x=[0, 1], y=[0, 1])
    seen = []
    c.observe(lambda ch: seen.append(ch["new"]), names="_figure")
    c.data[0].y = [2, 3]
    assert seen[-1]["data"][0]["y"] == [2, 3]
    with c.batch_update():
        c.data[0].y = [4, 5]
        c.layout.title.text = "after"
        c.layout.shapes = [dict(type="line", x0=1, x1=1, yref="paper", y0=0, y1=1)]
    assert len(seen) == 2
    assert seen[-1]["layout"]["title"]["text"] == "after" and seen[-1]["layout"]["shapes"][0]["x0"] == 1
    c.close()


def test_a_click_in_the_browser_reaches_the_callbacks():
    c = Chart()
    c.add_heatmap(z=[[1, 2], [3, 4]])
    got = []
    c.on_click(lambda trace, point: got.append((trace, point)))
    c._handle_custom_msg({"action": "click", "trace": 0, "point": [1, 0], "x": 0, "y": 1}, [])
    assert got == [(0, {"index": [1, 0], "x": 0, "y": 1})]
    # a click on a trace that does not exist is the chart's error, not an exception
    c._handle_custom_msg({"action": "click", "trace": 3, "point": 0}, [])
    assert c.status == "error" and "unknown trace" in c.error
    c.close()


def _png_pixels(png: bytes) -> np.ndarray:
    import io

    from PIL import Image

    return np.asarray(Image.open(io.BytesIO(png)).convert("RGB"))


def test_to_png_of_a_heatmap_uses_the_browsers_colour_scale():
    from invwidgets.widgets.views.chart_png import MARGIN, VIRIDIS, scale_color

    z = [[0.0, 1.0], [0.5, 0.25]]
    c = Chart(go.Figure(go.Heatmap(z=z, colorscale="Viridis")), width=200, height=160)
    img = _png_pixels(c.to_png())
    assert img.shape == (160, 200, 3)
    left, top = MARGIN["left"], MARGIN["top"]
    right, bottom = 200 - MARGIN["colorbar"], 160 - MARGIN["bottom"]
    cw, ch = (right - left) / 2, (bottom - top) / 2
    # row 0 is drawn at the bottom (plotly's default y axis), row 1 on top
    for r, c_ in [(0, 0), (0, 1), (1, 0), (1, 1)]:
        x = int(left + (c_ + 0.5) * cw)
        y = int(top + (1 - r + 0.5) * ch)
        assert tuple(img[y, x]) == scale_color(z[r][c_], VIRIDIS), (r, c_)
    assert tuple(img[top + 1, right + 15]) == scale_color(1 - 1 / (bottom - top), VIRIDIS)  # colour bar's top
    assert tuple(img[5, 5]) == (255, 255, 255)
    c.close()


def test_to_png_of_grouped_bars_with_colours_and_palette(tmp_path):
    from invwidgets.widgets.views.chart_png import PALETTE, parse_color

    c = Chart(width=240, height=180)
    c.add_bar(x=["a", "b"], y=[2.0, 1.0], name="first")
    c.add_bar(x=["a", "b"], y=[1.0, 2.0], marker={"color": ["#ff0000", "rgb(0, 128, 0)"]}, name="second")
    img = _png_pixels(c.to_png(tmp_path / "bars.png"))
    assert (tmp_path / "bars.png").read_bytes()[:4] == b"\x89PNG"
    colours = {tuple(p) for p in img.reshape(-1, 3)}
    assert parse_color(PALETTE[0]) in colours  # the first trace in the palette's first colour
    assert (255, 0, 0) in colours and (0, 128, 0) in colours  # per-bar colours
    # the taller bar of category "a" (2.0) covers more pixels than the shorter one (1.0)
    first = (img == parse_color(PALETTE[0])).all(2).sum(0)
    assert first.max() > 0 and (img == (0, 128, 0)).all(2).sum() > (img == (255, 0, 0)).all(2).sum()
    c.close()


def test_to_png_of_a_scatter_draws_its_category_colours():
    from invwidgets.widgets.views.chart_png import PALETTE, parse_color

    c = Chart(width=200, height=150)
    c.add_scatter(x=[0.0, 1.0, 2.0], y=[0.0, 1.0, 0.5], mode="markers", marker={"color": [0, 1, 2], "size": 6})
    colours = {tuple(p) for p in _png_pixels(c.to_png()).reshape(-1, 3)}
    assert {parse_color(PALETTE[k]) for k in range(3)} <= colours
    c.close()


def test_chart_png_colour_tables_are_the_browsers():
    """The Python rasteriser and views.js use the same palette and colour-scale stops."""
    import json
    import re
    from pathlib import Path

    from invwidgets.widgets.views import chart_png

    js = (Path(chart_png.__file__).parents[1] / "static" / "views.js").read_text()

    def js_const(name: str):
        body = re.search(rf"const {name} = (\[.*?\]);", js, re.S).group(1)
        return json.loads(body.replace("'", '"'))

    assert js_const("PALETTE") == chart_png.PALETTE
    assert js_const("VIRIDIS") == chart_png.VIRIDIS
    assert js_const("DIVERGING") == chart_png.DIVERGING


def test_to_png_of_a_tiny_chart_is_an_error():
    c = Chart(width=10, height=10)
    with pytest.raises(ValueError, match="too small"):
        c.to_png()
    c.close()
