"""The base class of the views: one front-end module, status traits, messages, PNG export."""

from __future__ import annotations

import os
from pathlib import Path
from typing import Any

import anywidget
import numpy as np
import traitlets

from ..base import WorkerClient
from . import colormaps
from .png import encode_png

__all__ = ["HeatmapTraits", "ViewBase", "STATIC"]

#: The front-end files (plain ES module + CSS, no build step).
STATIC = Path(__file__).resolve().parent.parent / "static"


class ViewBase(WorkerClient, anywidget.AnyWidget):
    """Shared by every view: ``views.js``/``views.css`` dispatching on ``_kind``; the
    ``status``/``error``/``progress`` traits of :class:`~invwidgets.widgets.base.WorkerClient`
    shown in a compact status line; custom messages ``{"action": name, ...}`` from the front end
    dispatched to ``_action_<name>`` methods, guarded so that an exception becomes the ``error``
    trait.

    Plain views do not start the inference worker; a view that computes calls
    ``self._init_worker()`` itself.
    """

    # The front-end code as text, read once: given as file paths, anywidget would connect a
    # file-watch callback per view that keeps every view (and what it shows) alive forever.
    _esm = (STATIC / "views.js").read_text(encoding="utf-8")
    _css = (STATIC / "views.css").read_text(encoding="utf-8")
    _kind = traitlets.Unicode("").tag(sync=True)

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
        given. The front end's export button downloads the same picture."""
        data = encode_png(self._render())
        if path is not None:
            Path(path).write_bytes(data)
        return data


class HeatmapTraits(traitlets.HasTraits):
    """The heatmap settings shared by the views that overlay heatmaps (ImageView, SampleGrid):
    the colormap name and its lookup table (sent to the front end, so the browser and
    ``to_png()`` agree), the overlay's opacity and the colour bar switch. A change of colormap
    re-quantises the heatmaps through :meth:`_refresh_heatmap`."""

    _lut = traitlets.Bytes(b"").tag(sync=True)
    cmap = traitlets.Unicode(colormaps.DIVERGING, help="'diverging' or 'sequential'").tag(
        sync=True
    )
    heatmap_opacity = traitlets.Float(0.6, help="Opacity of the heatmap overlay, 0..1").tag(
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
