"""ImageView: one image (gray or RGB, any size) with an optional attribution heatmap on top."""

from __future__ import annotations

from typing import Any

import numpy as np
import traitlets

from . import colormaps
from ._base import DEFAULT_HEATMAP_OPACITY, HeatmapTraits, ViewBase
from .compose import composite
from .encoding import heatmap_limits, heatmap_to_float, image_to_uint8, quantize

__all__ = ["ImageView"]


class ImageView(HeatmapTraits, ViewBase):
    """One image drawn at native resolution and scaled to ``width`` CSS pixels (pixelated),
    optionally with a heatmap drawn over it through a colormap and a colour bar.

    Parameters
    ----------
    image:
        Tensor or array: H×W, 1×H×W, 3×H×W, H×W×3 (or 1×C×H×W); float in [0, 1] or uint8.
    heatmap:
        Float H×W of any size (stretched over the image), e.g. an attribution map.
    cmap:
        ``'diverging'`` (blue–white–red; default limits ±max|h|) or ``'sequential'`` (viridis;
        default limits [min, max]).
    vmin, vmax:
        Colour limits of the heatmap (defaults as above).
    heatmap_opacity:
        Opacity of the heatmap over the image, 0..1 (default 0.35: the image stays readable).
    colorbar:
        Show the colour bar with its limits when a heatmap is shown.
    width:
        Display width in CSS pixels (the height follows the aspect ratio).
    caption:
        A line of text under the image.

    Synced traits: ``cmap``, ``heatmap_opacity``, ``colorbar``, ``width``, ``caption``, plus the
    binary ``_pixels`` (H×W×C uint8) with ``_meta`` ``{h, w, c}``, ``_heatmap`` (h×w uint8 indices
    into ``_lut``) with ``_heatmap_meta`` ``{h, w, vmin, vmax}``, and ``_lut`` (256×3 uint8).
    """

    _kind = traitlets.Unicode("image").tag(sync=True)
    _pixels = traitlets.Bytes(b"").tag(sync=True)
    _meta = traitlets.Dict({}).tag(sync=True)
    _heatmap = traitlets.Bytes(b"").tag(sync=True)
    _heatmap_meta = traitlets.Dict({}).tag(sync=True)

    width = traitlets.Int(192, help="Display width in CSS pixels").tag(sync=True)
    caption = traitlets.Unicode("", help="Text under the image").tag(sync=True)

    def __init__(
        self,
        image: Any = None,
        *,
        heatmap: Any = None,
        cmap: str = colormaps.DIVERGING,
        vmin: float | None = None,
        vmax: float | None = None,
        heatmap_opacity: float = DEFAULT_HEATMAP_OPACITY,
        colorbar: bool = True,
        width: int = 192,
        caption: str = "",
        **kwargs: Any,
    ) -> None:
        self._heat_raw: np.ndarray | None = None
        self._heat_given: tuple[float | None, float | None] = (None, None)
        self._image: np.ndarray | None = None
        super().__init__(
            cmap=colormaps.cmap_name(cmap), heatmap_opacity=heatmap_opacity, colorbar=colorbar,
            width=width, caption=caption, **kwargs,
        )
        self._init_lut()
        if image is not None:
            self.set_image(image)
        if heatmap is not None:
            self.set_heatmap(heatmap, vmin=vmin, vmax=vmax)

    # ------------------------------------------------------------------ validation
    @traitlets.validate("width")
    def _valid_width(self, proposal: dict) -> int:
        if proposal["value"] < 1:
            raise traitlets.TraitError(f"width must be at least 1 pixel, got {proposal['value']}")
        return proposal["value"]

    # ------------------------------------------------------------------ API
    @property
    def image(self) -> np.ndarray | None:
        """The image shown, as uint8 H×W×C (a copy), or ``None``."""
        return None if self._image is None else self._image.copy()

    @property
    def heatmap_limits(self) -> tuple[float, float] | None:
        """The colour limits ``(vmin, vmax)`` of the heatmap shown, or ``None``."""
        meta = self._heatmap_meta
        return (meta["vmin"], meta["vmax"]) if meta else None

    def set_image(self, x: Any) -> None:
        """Show ``x`` (see the class docstring for the layouts); ``None`` clears the view."""
        if x is None:
            self._image = None
            with self._hold():
                self._pixels = b""
                self._meta = {}
            return
        img = image_to_uint8(x)
        self._image = img
        h, w, c = img.shape
        with self._hold():
            self._pixels = img.tobytes()
            self._meta = {"h": int(h), "w": int(w), "c": int(c)}

    def set_heatmap(
        self,
        h: Any,
        vmin: float | None = None,
        vmax: float | None = None,
        cmap: str | None = None,
    ) -> None:
        """Draw the float heatmap ``h`` over the image (``None`` removes it).

        Limits default to ±max|h| for the diverging map and [min, max] for the sequential one.
        """
        raw = None if h is None else heatmap_to_float(h)
        if raw is not None:
            name = self.cmap if cmap is None else colormaps.cmap_name(cmap)
            heatmap_limits(raw, vmin, vmax, colormaps.is_diverging(name))  # validate first
        self._heat_raw = raw
        self._heat_given = (vmin, vmax)
        with self._hold():
            if cmap is not None and colormaps.cmap_name(cmap) != self.cmap:
                self.cmap = cmap  # the observer refreshes the heatmap
            else:
                self._refresh_heatmap()

    def _refresh_heatmap(self) -> None:
        raw = getattr(self, "_heat_raw", None)
        if raw is None:
            self._heatmap = b""
            self._heatmap_meta = {}
            return
        lo, hi = heatmap_limits(raw, *self._heat_given, colormaps.is_diverging(self.cmap))
        self._heatmap = quantize(raw, lo, hi).tobytes()
        self._heatmap_meta = {"h": int(raw.shape[0]), "w": int(raw.shape[1]),
                              "vmin": lo, "vmax": hi}

    # ------------------------------------------------------------------ export
    def _render(self) -> np.ndarray:
        if self._image is None:
            raise ValueError("ImageView has no image to export; call set_image first")
        meta = self._heatmap_meta
        idx = None
        if meta:
            idx = np.frombuffer(self._heatmap, dtype=np.uint8).reshape(meta["h"], meta["w"])
        lut = self._lut_array()
        return composite(self._image, idx, lut, self.heatmap_opacity)
