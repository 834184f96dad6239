"""SketchPad: a small grayscale drawing canvas whose pixels sync to Python."""

from __future__ import annotations

from typing import Any

import numpy as np
import torch
import traitlets
from ipywidgets.widgets.trait_types import bytes_serialization

from ._base import ViewBase
from .encoding import image_to_uint8

__all__ = ["SketchPad"]


class SketchPad(ViewBase):
    """Draw with the pointer on an ``height``×``width`` grayscale canvas (ink = 1 = white, as
    models such as MNIST classifiers expect), shown ``display_width`` CSS pixels wide.

    The browser paints anti-aliased strokes ``brush`` pixels wide (eraser when ``erase``), and
    sends the pixels (H×W uint8, a binary buffer in a ``{"action": "pixels"}`` message that sets
    ``_pixels``) at most once per animation frame during a stroke and always at its end. Read them with :attr:`array` / :attr:`tensor`.
    """

    _kind = traitlets.Unicode("sketch").tag(sync=True)
    _pixels = traitlets.Bytes(b"").tag(sync=True, **bytes_serialization)

    height = traitlets.Int(28, help="Canvas height in pixels").tag(sync=True)
    width = traitlets.Int(28, help="Canvas width in pixels").tag(sync=True)
    brush = traitlets.Int(2, help="Stroke width in pixels").tag(sync=True)
    erase = traitlets.Bool(False, help="Whether strokes erase").tag(sync=True)
    display_width = traitlets.Int(168, help="Display width in CSS pixels").tag(sync=True)

    def __init__(
        self,
        height: int = 28,
        width: int = 28,
        *,
        brush: int = 2,
        display_width: int | None = None,
        **kwargs: Any,
    ) -> None:
        if int(height) < 1 or int(width) < 1:
            raise ValueError(f"SketchPad needs at least 1×1 pixels, got {height}×{width}")
        if display_width is None:
            display_width = max(112, min(6 * int(width), 320))
        super().__init__(height=int(height), width=int(width), brush=brush,
                         display_width=display_width, **kwargs)
        self._pixels = bytes(self.height * self.width)

    # ------------------------------------------------------------------ validation
    @traitlets.validate("_pixels")
    def _valid_pixels(self, proposal: dict) -> bytes:
        value = bytes(proposal["value"])
        size = self.height * self.width
        if len(value) != size:
            # A stroke from before a resize: keep the last drawing of the right size. (While
            # traitlets holds notifications, self._pixels already holds the proposal.)
            last = getattr(self, "_last_pixels", b"")
            return last if len(last) == size else bytes(size)
        return value

    @traitlets.observe("height", "width")
    def _resized(self, _change: dict) -> None:
        if len(self._pixels) != self.height * self.width:
            self._pixels = bytes(self.height * self.width)

    @traitlets.observe("_pixels")
    def _remember_pixels(self, change: dict) -> None:
        self._last_pixels = change["new"]

    @traitlets.validate("height", "width")
    def _valid_size(self, proposal: dict) -> int:
        if proposal["value"] < 1:
            raise traitlets.TraitError(
                f"{proposal['trait'].name} must be at least 1, got {proposal['value']}"
            )
        return proposal["value"]

    @traitlets.validate("brush")
    def _valid_brush(self, proposal: dict) -> int:
        if not 1 <= proposal["value"] <= 64:
            raise traitlets.TraitError(f"brush must be in 1..64 pixels, got {proposal['value']}")
        return proposal["value"]

    @traitlets.validate("display_width")
    def _valid_display_width(self, proposal: dict) -> int:
        if proposal["value"] < 1:
            raise traitlets.TraitError(f"display_width must be at least 1, got "
                                       f"{proposal['value']}")
        return proposal["value"]

    # ------------------------------------------------------------------ API
    @property
    def array(self) -> np.ndarray:
        """The drawing as float32 H×W in [0, 1] (a copy)."""
        a = np.frombuffer(self._pixels, dtype=np.uint8).reshape(self.height, self.width)
        return a.astype(np.float32) / np.float32(255.0)

    @property
    def tensor(self) -> torch.Tensor:
        """The drawing as a float32 tensor of shape 1×H×W in [0, 1]."""
        return torch.from_numpy(self.array)[None]

    def set_array(self, a: Any) -> None:
        """Show a grayscale image (H×W or 1×H×W, float in [0, 1] or uint8); the canvas takes
        its size."""
        img = image_to_uint8(a, "sketch")
        if img.shape[2] != 1:
            raise ValueError(
                f"SketchPad is grayscale; got an image with {img.shape[2]} channels "
                f"(shape {tuple(np.shape(a))})"
            )
        h, w = img.shape[:2]
        with self._hold(), self.hold_trait_notifications():
            self.height, self.width = int(h), int(w)
            self._pixels = img.tobytes()

    def clear(self) -> None:
        """Erase the drawing."""
        self._pixels = bytes(self.height * self.width)

    # ------------------------------------------------------------------ front-end actions
    def _action_clear(self, _content: dict, _buffers: list) -> None:
        self.clear()

    def _action_pixels(self, content: dict, buffers: list) -> None:
        """A stroke from the browser: the H×W pixels as one binary buffer. A drawing of another
        size (a stroke from before a resize) is dropped."""
        if not buffers:
            raise ValueError("a drawing message needs its pixels as a binary buffer")
        data = bytes(memoryview(buffers[0]).cast("B"))
        if (content.get("height"), content.get("width")) == (self.height, self.width):
            self._pixels = data

    # ------------------------------------------------------------------ export
    def _render(self) -> np.ndarray:
        return np.frombuffer(self._pixels, dtype=np.uint8).reshape(self.height, self.width, 1)
