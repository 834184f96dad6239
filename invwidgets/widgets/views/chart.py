"""Chart: a plotly figure built in Python, drawn by the explorer's own canvas code.

The figure is a plain ``plotly.graph_objects.Figure`` (:attr:`Chart.figure`): build and update it
with plotly's API (``chart.data[0].y = ...``, ``chart.layout.title.text = ...``, ``with
chart.batch_update(): ...``). Every change is sent to the browser as the figure's dict (without
plotly's template), and the root's module draws it on a canvas: heatmaps with a colour bar,
grouped bars (per-bar colours, hatching, error bars), lines and markers (per-point symbols,
categorical colours with a legend), the title, axis titles and tick labels, a legend, vertical
line shapes; colours follow the JupyterLab theme. No chart library travels to the browser.

Clicks on a heatmap cell, a bar or a point come back as ``{"action": "click", "trace", "point",
"x", "y"}``; :meth:`Chart.on_click` callbacks get ``(trace_index, point)``.
"""

from __future__ import annotations

import base64
import contextlib
import math
from collections.abc import Callable, Iterator
from typing import Any

import numpy as np
import plotly.graph_objects as go
import traitlets

from ._base import ViewBase
from .chart_png import render_figure

__all__ = ["Chart"]


class _LiveFigure(go.Figure):
    """A ``go.Figure`` that reports every change (plotly's widget hooks, no-ops in a plain
    figure) to its chart."""

    def __init__(self, on_change: Callable[[], None], *args: Any, **kwargs: Any) -> None:
        self.__dict__["_invw_on_change"] = None
        super().__init__(*args, **kwargs)
        self.__dict__["_invw_on_change"] = on_change

    def _changed(self, *_args: Any, **_kwargs: Any) -> None:
        hook = self.__dict__.get("_invw_on_change")
        if hook is not None and not self._in_batch_mode and not self.__dict__.get("_invw_hold"):
            hook()

    _send_addTraces_msg = _send_moveTraces_msg = _send_deleteTraces_msg = _changed
    _send_restyle_msg = _send_relayout_msg = _send_update_msg = _send_animate_msg = _changed


def _plain(value: Any) -> Any:
    """JSON-ready: arrays (also plotly's base64 form) and tuples as lists, numpy scalars as
    numbers, NaN/inf as ``None``."""
    if isinstance(value, dict):
        if "bdata" in value and "dtype" in value:  # plotly's base64 form of a numpy array
            array = np.frombuffer(base64.b64decode(value["bdata"]), dtype=np.dtype(value["dtype"]))
            if value.get("shape"):
                array = array.reshape([int(n) for n in str(value["shape"]).split(",")])
            return _plain(array)
        return {str(k): _plain(v) for k, v in value.items()}
    if isinstance(value, (list, tuple)):
        return [_plain(v) for v in value]
    if isinstance(value, np.ndarray):
        return _plain(value.tolist())
    if isinstance(value, np.generic):
        value = value.item()
    if isinstance(value, float) and not math.isfinite(value):
        return None
    if value is None or isinstance(value, (bool, int, float, str)):
        return value
    return str(value)


def figure_dict(fig: go.Figure) -> dict:
    """The figure as a JSON-ready dict (arrays as lists, not plotly's base64), without plotly's
    template."""
    d = fig.to_plotly_json()
    layout = {k: v for k, v in d.get("layout", {}).items() if k != "template"}
    return {"data": _plain(d.get("data", [])), "layout": _plain(layout)}


class Chart(ViewBase):
    """A plotly figure drawn by the explorer's canvas code (see the module docstring).

    Parameters
    ----------
    figure:
        A ``go.Figure`` (or its dict) to start from; default an empty one.
    width, height:
        Preferred size in CSS pixels (the chart shrinks to a narrower container).
    title:
        A shortcut for ``layout.title.text``.
    label, hidden:
        The panel's heading, and whether it is hidden.
    **layout:
        More of the figure's layout (``xaxis``, ``yaxis``, ``barmode``, ...).
    """

    _kind = traitlets.Unicode("chart").tag(sync=True)
    _figure = traitlets.Dict({}).tag(sync=True)

    def __init__(self, figure: Any = None, *, width: int = 340, height: int = 240, title: str = "",
                 label: str = "", hidden: bool = False, **layout: Any) -> None:
        super().__init__(label=label, hidden=hidden)
        self._click_handlers: list[Callable[[int, dict], Any]] = []
        self._fig = _LiveFigure(self._push, figure)
        with self.batch_update():
            self._fig.update_layout(width=width, height=height, **layout)
            if title:
                self._fig.update_layout(title={"text": title})

    @property
    def figure(self) -> go.Figure:
        """The plotly figure drawn (changes to it are drawn)."""
        return self._fig

    def __getattr__(self, name: str) -> Any:
        # data, layout, add_bar, add_trace, update_layout, batch_update, ...: the figure's.
        if name.startswith("_") or "_fig" not in self.__dict__:
            raise AttributeError(name)
        return getattr(self.__dict__["_fig"], name)

    @property
    def data(self) -> tuple:
        """The figure's traces."""
        return self._fig.data

    @property
    def layout(self) -> Any:  # type: ignore[override]
        """The figure's layout."""
        return self._fig.layout

    @contextlib.contextmanager
    def batch_update(self) -> Iterator[None]:
        """Apply the changes made inside as one update."""
        fig = self._fig
        if fig.__dict__.get("_invw_hold"):
            yield
            return
        fig.__dict__["_invw_hold"] = True
        try:
            with fig.batch_update():
                yield
        finally:
            fig.__dict__["_invw_hold"] = False
            self._push()

    def _push(self) -> None:
        if "_fig" in self.__dict__:
            self._figure = figure_dict(self._fig)

    # ------------------------------------------------------------------ clicks
    def on_click(self, fn: Callable[[int, dict], Any]) -> None:
        """Call ``fn(trace_index, point)`` when a heatmap cell, bar or point is clicked;
        ``point`` has ``index`` (the point's index, ``[row, column]`` for a heatmap), ``x`` and
        ``y``."""
        self._click_handlers.append(fn)

    def click(self, trace: int, point: Any, x: Any = None, y: Any = None) -> None:
        """Run the click callbacks as a click in the browser does."""
        for fn in list(self._click_handlers):
            fn(int(trace), {"index": point, "x": x, "y": y})

    def _action_click(self, content: dict, _buffers: list) -> None:
        trace = content.get("trace")
        if not isinstance(trace, int) or not 0 <= trace < len(self._fig.data):
            raise ValueError(f"click on an unknown trace {trace!r}")
        self.click(trace, content.get("point"), content.get("x"), content.get("y"))

    def _render(self) -> np.ndarray:
        """The chart's marks at its layout size (``to_png``): heatmap cells and colour bar, bars,
        scatter markers and lines, the axes, in the browser's colours; no text (the explorer's
        export button gives the picture with title, ticks and legend)."""
        layout = self._figure.get("layout", {})
        w, h = int(layout.get("width") or 340), int(layout.get("height") or 240)
        if w < 20 or h < 20:
            raise ValueError(f"a chart of {w}×{h} px is too small to draw")
        return render_figure(self._figure, w, h)

    def close(self) -> None:
        """Close the chart and drop its callbacks."""
        self._click_handlers = []
        super().close()
