"""SampleGrid: N images in one binary buffer, a caption per cell, optional per-cell heatmaps,
and a clickable selection."""

from __future__ import annotations

import math
from collections.abc import Sequence
from typing import Any

import numpy as np
import traitlets

from . import colormaps
from ._base import DEFAULT_HEATMAP_OPACITY, HeatmapTraits, ViewBase
from .compose import composite, grid
from .encoding import heatmap_limits, heatmaps_to_float, images_to_uint8, quantize

__all__ = ["SampleGrid"]


class SampleGrid(HeatmapTraits, ViewBase):
    """A grid of same-sized images; clicking a cell selects it (``selected``; −1 = none).

    Parameters
    ----------
    images:
        N×C×H×W, N×H×W×C, N×H×W (grayscale) or a list of single images; float in [0, 1] or
        uint8.
    ncols:
        Cells per row (default ⌈√N⌉; never more than N).
    captions:
        One string per image (or ``None``).
    heatmaps:
        N×h×w floats (or a list with ``None`` for cells without one), drawn over the cells with
        shared colour limits.
    cell_width:
        Display width of one cell in CSS pixels.

    Synced traits: ``captions``, ``selected``, ``cell_width``, ``cmap``, ``heatmap_opacity``,
    ``colorbar``, plus the binary ``_pixels`` (N×H×W×C uint8) with ``_meta``
    ``{n, h, w, c, ncols}``, ``_heatmaps`` (N×h×w uint8 LUT indices) with ``_heatmap_meta``
    ``{n, h, w, vmin, vmax, present}``, and ``_lut``.
    """

    _kind = traitlets.Unicode("grid").tag(sync=True)
    _pixels = traitlets.Bytes(b"").tag(sync=True)
    _meta = traitlets.Dict({}).tag(sync=True)
    _heatmaps = traitlets.Bytes(b"").tag(sync=True)
    _heatmap_meta = traitlets.Dict({}).tag(sync=True)

    captions = traitlets.List(traitlets.Unicode(), help="One caption per cell, or []").tag(
        sync=True
    )
    selected = traitlets.Int(-1, help="Index of the selected cell; -1 when none").tag(sync=True)
    cell_width = traitlets.Int(96, help="Display width of a cell in CSS pixels").tag(sync=True)

    def __init__(
        self,
        images: Any = None,
        *,
        ncols: int | None = None,
        captions: Sequence[str] | None = None,
        heatmaps: Any = None,
        vmin: float | None = None,
        vmax: float | None = None,
        cell_width: int = 96,
        cmap: str = colormaps.DIVERGING,
        heatmap_opacity: float = DEFAULT_HEATMAP_OPACITY,
        colorbar: bool = True,
        **kwargs: Any,
    ) -> None:
        self._cells: np.ndarray | None = None
        self._heat_raw: np.ndarray | None = None
        self._heat_present: list[bool] = []
        self._heat_given: tuple[float | None, float | None] = (None, None)
        self._ncols_request = ncols
        super().__init__(
            cell_width=cell_width, cmap=colormaps.cmap_name(cmap),
            heatmap_opacity=heatmap_opacity, colorbar=colorbar, **kwargs,
        )
        self._init_lut()
        if images is not None:
            self.set_images(images, captions=captions, ncols=ncols, heatmaps=heatmaps,
                            vmin=vmin, vmax=vmax)
        elif heatmaps is not None or captions:
            raise ValueError("captions and heatmaps need images")

    # ------------------------------------------------------------------ validation
    @property
    def n(self) -> int:
        """Number of images shown."""
        return 0 if self._cells is None else int(self._cells.shape[0])

    @property
    def ncols(self) -> int:
        """Cells per row of the current layout (0 when empty)."""
        return int(self._meta.get("ncols", 0))

    @property
    def images(self) -> np.ndarray | None:
        """The images shown as uint8 N×H×W×C (a copy), or ``None``."""
        return None if self._cells is None else self._cells.copy()

    @property
    def heatmap_limits(self) -> tuple[float, float] | None:
        """The shared colour limits ``(vmin, vmax)`` of the heatmaps, or ``None``."""
        meta = self._heatmap_meta
        return (meta["vmin"], meta["vmax"]) if meta else None

    @traitlets.validate("selected")
    def _valid_selected(self, proposal: dict) -> int:
        # Out of range (e.g. a click that raced a smaller set of images) means "none".
        value = int(proposal["value"])
        return value if 0 <= value < self.n else -1

    @traitlets.validate("captions")
    def _valid_captions(self, proposal: dict) -> list:
        value = list(proposal["value"])
        if value and len(value) != self.n:
            raise traitlets.TraitError(
                f"captions has {len(value)} entries but the grid has {self.n} images"
            )
        return value

    @traitlets.validate("cell_width")
    def _valid_cell_width(self, proposal: dict) -> int:
        if proposal["value"] < 1:
            raise traitlets.TraitError(
                f"cell_width must be at least 1 pixel, got {proposal['value']}"
            )
        return proposal["value"]

    # ------------------------------------------------------------------ API
    def set_images(
        self,
        images: Any,
        captions: Sequence[str] | None = None,
        ncols: int | None = None,
        *,
        heatmaps: Any = None,
        vmin: float | None = None,
        vmax: float | None = None,
    ) -> None:
        """Show ``images`` (``None`` empties the grid), with ``captions`` and ``heatmaps`` if
        given (else none), in one update. ``ncols=None`` keeps the column count asked for
        before (or ⌈√N⌉). A selection that no longer exists is cleared."""
        if images is None:
            if captions or heatmaps is not None:
                raise ValueError("captions and heatmaps need images")
            cells = None
            n = 0
        else:
            cells = images_to_uint8(images)
            n = int(cells.shape[0])
        if captions is not None:
            captions = [str(c) for c in captions]
            if captions and len(captions) != n:
                raise ValueError(f"captions has {len(captions)} entries but there are {n} images")
        if ncols is not None:
            if int(ncols) < 1:
                raise ValueError(f"ncols must be at least 1, got {ncols}")
            self._ncols_request = int(ncols)
        heat = None
        if heatmaps is not None:
            heat = heatmaps_to_float(heatmaps, n)
            heatmap_limits(heat[0], vmin, vmax, colormaps.is_diverging(self.cmap))
        # Everything validated: apply in one message.
        with self._hold():
            self._cells = cells
            if cells is None:
                self._pixels = b""
                self._meta = {}
            else:
                _, h, w, c = cells.shape
                request = self._ncols_request or math.ceil(math.sqrt(n))
                self._pixels = cells.tobytes()
                self._meta = {"n": n, "h": int(h), "w": int(w), "c": int(c),
                              "ncols": int(min(request, n))}
            self.captions = captions or []
            if heat is None:
                self._heat_raw, self._heat_present = None, []
            else:
                self._heat_raw, self._heat_present = heat
            self._heat_given = (vmin, vmax)
            self._refresh_heatmap()
            if self.selected >= n:
                self.selected = -1

    def set_heatmaps(
        self,
        heatmaps: Any,
        vmin: float | None = None,
        vmax: float | None = None,
        cmap: str | None = None,
    ) -> None:
        """Draw per-cell heatmaps (N×h×w, or a list with ``None`` for cells without one) with
        shared limits (defaults: ±max|h| diverging, [min, max] sequential); ``None`` removes
        them."""
        if heatmaps is None:
            raw, present = None, []
        else:
            if self.n == 0:
                raise ValueError("set images before heatmaps")
            raw, present = heatmaps_to_float(heatmaps, self.n)
            name = self.cmap if cmap is None else colormaps.cmap_name(cmap)
            heatmap_limits(raw[present], vmin, vmax, colormaps.is_diverging(name))
        self._heat_raw, self._heat_present = raw, present
        self._heat_given = (vmin, vmax)
        with self._hold():
            if cmap is not None and colormaps.cmap_name(cmap) != self.cmap:
                self.cmap = cmap
            else:
                self._refresh_heatmap()

    def _refresh_heatmap(self) -> None:
        raw = getattr(self, "_heat_raw", None)
        if raw is None:
            self._heatmaps = b""
            self._heatmap_meta = {}
            return
        present = self._heat_present
        lo, hi = heatmap_limits(raw[present], *self._heat_given,
                                colormaps.is_diverging(self.cmap))
        self._heatmaps = quantize(raw, lo, hi).tobytes()
        self._heatmap_meta = {"n": int(raw.shape[0]), "h": int(raw.shape[1]),
                              "w": int(raw.shape[2]), "vmin": lo, "vmax": hi,
                              "present": [bool(p) for p in present]}

    # ------------------------------------------------------------------ export
    def _render(self) -> np.ndarray:
        if self._cells is None:
            raise ValueError("SampleGrid has no images to export; call set_images first")
        meta = self._heatmap_meta
        lut = self._lut_array()
        idx = None
        if meta:
            idx = np.frombuffer(self._heatmaps, dtype=np.uint8).reshape(
                meta["n"], meta["h"], meta["w"]
            )
        cells = []
        for i, cell in enumerate(self._cells):
            heat = idx[i] if idx is not None and meta["present"][i] else None
            cells.append(composite(cell, heat, lut, self.heatmap_opacity))
        return grid(cells, self.ncols)
