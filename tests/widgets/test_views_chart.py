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


def test_to_png_says_where_a_chart_picture_comes_from():
    c = Chart()
    with pytest.raises(NotImplementedError, match="export button"):
        c.to_png()
    c.close()
