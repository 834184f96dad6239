"""The base class of the views: panel models without front-end code, status traits, messages,
PNG export.

A view is a plain widget model (no ``_esm`` of its own): the front-end code travels once, with
the root that shows it (an explorer, or a one-view root when the view is displayed alone; see
:mod:`invwidgets.widgets.root`).
"""

from __future__ import annotations

import os
from pathlib import Path
from typing import Any

import ipywidgets
import numpy as np
import traitlets

from ..base import WorkerClient
from . import colormaps
from .png import encode_png

__all__ = ["HeatmapTraits", "Panel", "ViewBase", "STATIC"]

#: The front-end files (plain ES module + CSS, no build step).
STATIC = Path(__file__).resolve().parent.parent / "static"


class Panel(ipywidgets.Widget):
    """A part of an explorer's front end: a plain widget model (ipywidgets' base
    ``WidgetModel``, no front-end code of its own) that the root's module draws by ``_kind``.

    ``label`` is the panel's heading; ``hidden`` hides it; :meth:`add_class` adds CSS classes
    (stable hooks for tests and custom CSS). Displayed on its own, a panel shows inside a
    one-panel root (:class:`~invwidgets.widgets.root.ViewRoot`), created on first display and
    closed with the panel.
    """

    _kind = traitlets.Unicode("").tag(sync=True)
    label = traitlets.Unicode("", help="The heading shown above the panel").tag(sync=True)
    hidden = traitlets.Bool(False, help="Whether the panel is hidden").tag(sync=True)
    _dom_classes = traitlets.List(traitlets.Unicode()).tag(sync=True)

    def add_class(self, name: str) -> Panel:
        """Add a CSS class to the panel's element (returns the panel)."""
        if name not in self._dom_classes:
            self._dom_classes = [*self._dom_classes, name]
        return self

    def _repr_mimebundle_(self, **kwargs: Any) -> Any:
        from ..root import ViewRoot

        root = self.__dict__.get("_standalone_root")
        if root is None or root.comm is None:
            root = ViewRoot(self)
            self.__dict__["_standalone_root"] = root
        return root._repr_mimebundle_(**kwargs)

    def close(self) -> None:
        """Close the panel (and the root that shows it alone, if any)."""
        root = self.__dict__.pop("_standalone_root", None)
        if root is not None:
            root.close()
        super().close()


class ViewBase(WorkerClient, Panel):
    """Shared by every view: drawn by the root's module (``static/views.js``) by ``_kind``; the
    ``status``/``error``/``progress`` traits of :class:`~invwidgets.widgets.base.WorkerClient`
    (an error marks the view in the browser); custom messages ``{"action": name, ...}`` from the
    front end dispatched to ``_action_<name>`` methods, guarded so that an exception becomes the
    ``error`` trait.

    Plain views do not start the inference worker; a view that computes calls
    ``self._init_worker()`` itself.
    """

    def __init__(self, **kwargs: Any) -> None:
        super().__init__(**kwargs)
        self.on_msg(self._on_front_end_msg)

    # ------------------------------------------------------------------ front-end messages
    def _on_front_end_msg(self, _widget: Any, content: Any, buffers: list) -> None:
        # Messages without an "action" are not ours (anywidget uses custom messages too).
        if not isinstance(content, dict) or "action" not in content:
            return
        self.guard(self._dispatch)(content, buffers)

    def _dispatch(self, content: dict, buffers: list) -> None:
        action = content.get("action")
        handler = getattr(self, f"_action_{action}", None) if isinstance(action, str) else None
        if handler is None:
            raise ValueError(f"{type(self).__name__} got an unknown action {action!r}")
        handler(content, buffers)
        self._clear_error()

    def _clear_error(self) -> None:
        """After a successful user action, the error of an earlier failed action no longer
        describes the state (an error of a request that draws into this view stays until that
        request succeeds)."""
        self._clear_action_error()

    # ------------------------------------------------------------------ export
    def _render(self) -> np.ndarray:
        """What the view shows at native resolution, as uint8 H×W×C."""
        raise NotImplementedError

    def to_png(self, path: str | os.PathLike | None = None) -> bytes:
        """A PNG of what the view shows at native resolution; also written to ``path`` if
        given. Displayed on its own, the view's export button downloads the same picture."""
        data = encode_png(self._render())
        if path is not None:
            Path(path).write_bytes(data)
        return data


#: Default opacity of a heatmap over its image. At 0.35 the image keeps enough contrast to be read
#: under the heatmap: on the first 100 8×8 digits overlaid with (image − mean), the luminance gap
#: between digit and background pixels is at least 0.35 of the full range (0.07 at 0.6); the test
#: ``test_default_overlay_keeps_digits_legible`` measures it.
DEFAULT_HEATMAP_OPACITY = 0.35


class HeatmapTraits(traitlets.HasTraits):
    """The heatmap settings shared by the views that overlay heatmaps (ImageView, SampleGrid):
    the colormap name and its lookup table (sent to the front end, so the browser and
    ``to_png()`` agree), the overlay's opacity and the colour bar switch. A change of colormap
    re-quantises the heatmaps through :meth:`_refresh_heatmap`."""

    _lut = traitlets.Bytes(b"").tag(sync=True)
    cmap = traitlets.Unicode(colormaps.DIVERGING, help="'diverging' or 'sequential'").tag(
        sync=True
    )
    heatmap_opacity = traitlets.Float(DEFAULT_HEATMAP_OPACITY, help="Opacity of the heatmap overlay, 0..1").tag(
        sync=True
    )
    colorbar = traitlets.Bool(True, help="Show the colour bar when there is a heatmap").tag(
        sync=True
    )

    def _init_lut(self) -> None:
        self._lut = colormaps.lut(self.cmap).tobytes()

    def _lut_array(self) -> np.ndarray:
        return np.frombuffer(self._lut, dtype=np.uint8).reshape(256, 3)

    @traitlets.validate("cmap")
    def _valid_cmap(self, proposal: dict) -> str:
        try:
            return colormaps.cmap_name(proposal["value"])
        except (TypeError, ValueError) as exc:
            raise traitlets.TraitError(str(exc)) from None

    @traitlets.validate("heatmap_opacity")
    def _valid_opacity(self, proposal: dict) -> float:
        value = float(proposal["value"])
        if not 0.0 <= value <= 1.0:
            raise traitlets.TraitError(f"heatmap_opacity must be in [0, 1], got {value}")
        return value

    @traitlets.observe("cmap")
    def _cmap_changed(self, change: dict) -> None:
        with self._hold():  # type: ignore[attr-defined]
            self._lut = colormaps.lut(change["new"]).tobytes()
            self._refresh_heatmap()

    def _refresh_heatmap(self) -> None:  # pragma: no cover - overridden
        raise NotImplementedError
