"""The one front-end root of an explorer: an anywidget whose module draws every panel.

An explorer (or a view displayed on its own) is one :class:`RootBase`: the only widget that
carries front-end code (``static/views.js`` and ``views.css``, once). Its panels (views, charts,
controls) are plain child models without front-end code, listed in the synced ``panels`` trait
(widget references); the synced ``sections`` trait says how they are laid out, as a tree of

- a panel's index into ``panels``,
- ``{"row": [...]}`` (side by side, wrapping when the width runs out),
- ``{"col": [...]}`` (stacked),
- ``{"section": heading, "children": [...]}`` (a titled group).

Build the tree with :func:`row`, :func:`col` and :func:`section`, which take the panels
themselves; :meth:`RootBase.set_layout` turns it into indices.
"""

from __future__ import annotations

import weakref
from pathlib import Path
from typing import Any

import anywidget
import ipywidgets
import traitlets
from ipywidgets.widgets.widget import widget_serialization

__all__ = ["Column", "Row", "RootBase", "ViewRoot", "col", "row", "section"]

STATIC = Path(__file__).resolve().parent / "static"
#: The front-end code as text, read once: given as file paths, anywidget would connect a
#: file-watch callback per root that keeps every root (and what it shows) alive forever.
ESM = (STATIC / "views.js").read_text(encoding="utf-8")
CSS = (STATIC / "views.css").read_text(encoding="utf-8")


def row(*items: Any) -> dict:
    """Items side by side (wrapping onto the next line when the width runs out)."""
    return {"row": [i for i in items if i is not None]}


def col(*items: Any) -> dict:
    """Items stacked vertically."""
    return {"col": [i for i in items if i is not None]}


def section(heading: str, *items: Any) -> dict:
    """A titled group of items (stacked)."""
    return {"section": str(heading), "children": [i for i in items if i is not None]}


class RootBase(anywidget.AnyWidget):
    """The anywidget that draws a tree of panels (see the module docstring).

    ``export_name`` names the PNG that the root's export button downloads (the whole root with
    headings and captions).
    """

    _esm = ESM
    _css = CSS
    panels = traitlets.List(traitlets.Instance(ipywidgets.Widget)).tag(sync=True, **widget_serialization)
    sections = traitlets.List().tag(sync=True)
    export_name = traitlets.Unicode("explorer").tag(sync=True)

    def __init__(self, **kwargs: Any) -> None:
        super().__init__(**kwargs)
        _close_with_comm(self)

    def set_layout(self, *tree: Any) -> None:
        """Lay out ``tree`` (panels, :func:`row`, :func:`col`, :func:`section`), top to bottom."""
        panels: list[ipywidgets.Widget] = []
        index: dict[int, int] = {}

        def walk(node: Any) -> Any:
            if isinstance(node, ipywidgets.Widget):
                if id(node) not in index:
                    index[id(node)] = len(panels)
                    panels.append(node)
                return index[id(node)]
            if isinstance(node, dict):
                key = "children" if "section" in node else ("row" if "row" in node else "col")
                return {**node, key: [walk(n) for n in node[key]]}
            raise TypeError(f"a layout holds panels, row(), col() and section(), got {type(node).__name__}")

        sections = [walk(n) for n in tree if n is not None]
        with self.hold_sync():
            self.panels = panels
            self.sections = sections


def _close_with_comm(widget: ipywidgets.Widget) -> None:
    """Close ``widget`` (an explorer: its models, data and worker too) when its comm is closed by
    the host rather than by ``widget.close()``. marimo does that when a cell re-runs or is
    deleted: it closes the comms of the cell's widgets but never calls their ``close()``, so an
    explorer from the old run would keep its models and worker for the rest of the session. In
    Jupyter only ``close()`` closes a kernel-side comm, so this changes nothing there."""
    comm = getattr(widget, "comm", None)
    if comm is None:
        return
    original = comm.close
    ref = weakref.ref(widget)

    def close(*args: Any, **kwargs: Any) -> Any:
        comm.close = original  # once: the widget's close() closes its comm again
        out = original(*args, **kwargs)
        w = ref()
        if w is not None:
            w.close()
        return out

    comm.close = close


class ViewRoot(RootBase):
    """The root of one view displayed on its own (``display(ImageView(...))``): the view with its
    own status line; its export button downloads the view at native resolution (the same PNG
    as the view's ``to_png()``)."""

    def __init__(self, view: ipywidgets.Widget, **kwargs: Any) -> None:
        super().__init__(export_name=str(getattr(view, "_kind", "view")) or "view", **kwargs)
        self.set_layout(view)


class Row(RootBase):
    """Views (and charts, controls) side by side in one root, wrapping when the width runs out:
    what an ``ipywidgets.HBox`` of views was (views have no front end of their own, so they are
    shown by a root, never inside an ipywidgets box). The views' errors mark them; closing the
    row leaves the views open."""

    def __init__(self, *views: ipywidgets.Widget, **kwargs: Any) -> None:
        super().__init__(**kwargs)
        self.set_layout(row(*views))


class Column(RootBase):
    """Views stacked in one root (see :class:`Row`)."""

    def __init__(self, *views: ipywidgets.Widget, **kwargs: Any) -> None:
        super().__init__(**kwargs)
        self.set_layout(col(*views))
