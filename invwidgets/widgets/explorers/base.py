"""The base of the per-method explorers: an ipywidgets layout with a status line."""

from __future__ import annotations

import html
from typing import Any

import ipywidgets
import torch

from ...data import Dataset
from ..base import WorkerClient

__all__ = ["Explorer", "as_batch", "check_dataset", "model_device"]


class Explorer(WorkerClient, ipywidgets.VBox):
    """An explorer composes views (anywidget) and charts (plotly) in an ipywidgets layout.

    It has the ``status``, ``error`` and ``progress`` traits of every widget, shown in a status
    line under its content; views it owns show their own status line too.
    """

    def __init__(self, children: list[ipywidgets.Widget] | None = None,
                 device: torch.device | str | None = None, **kwargs: Any) -> None:
        self._status_line = ipywidgets.HTML(layout=ipywidgets.Layout(margin="2px 0 0 0"))
        self._status_line.add_class("invw-explorer-status")
        super().__init__(**kwargs)
        self.add_class("invw-explorer")
        self._init_worker(device)
        self._body: list[ipywidgets.Widget] = list(children or [])
        self.children = [*self._body, self._status_line]
        self.observe(self._show_status, names=["status", "error", "progress"])
        self._show_status()

    def _set_body(self, children: list[ipywidgets.Widget]) -> None:
        self._body = list(children)
        self.children = [*self._body, self._status_line]

    def _show_status(self, change: Any = None) -> None:
        if self.status == "error" and self.error:
            text = f"<span style='color:var(--jp-error-color1,#d32f2f)'>error: {html.escape(self.error)}</span>"
        elif self.status == "busy":
            p = self.progress or {}
            extra = ""
            if p.get("total"):
                extra = f" {p.get('message', '')} {p['done']:.0f}/{p['total']:.0f}"
            text = f"busy{html.escape(extra)}"
        else:
            text = self.status
        self._status_line.value = (
            f"<span class='invw-status' data-status='{html.escape(self.status)}' "
            f"style='font-size:11px;opacity:.8'>{text}</span>"
        )

    def close(self) -> None:
        """Close the explorer, the views it owns and release the worker."""
        try:
            owned = self._owned_widgets()
        except AttributeError:  # a half-built explorer whose constructor raised
            owned = []
        for child in owned:
            child.close()
        super().close()

    def _owned_widgets(self) -> list[ipywidgets.Widget]:
        """Widgets created by this explorer (closed with it). Subclasses extend the list."""
        line = getattr(self, "_status_line", None)
        return [line] if line is not None else []


def as_batch(x: Any, expected: tuple[int, ...] | None = None, name: str = "input") -> torch.Tensor:
    """A float32 batch N×... from a tensor or array; with ``expected`` (the shape of one item)
    a single item gains the batch dimension and a wrong shape is a clear error."""
    t = torch.as_tensor(x)
    if not torch.is_floating_point(t):
        raise TypeError(f"{name} must be floating point, got dtype {t.dtype}")
    t = t.float()
    if expected is not None:
        if tuple(t.shape) == tuple(expected):
            t = t.unsqueeze(0)
        if tuple(t.shape[1:]) != tuple(expected):
            raise ValueError(
                f"{name} has shape {tuple(t.shape)}, expected {tuple(expected)} or "
                f"N×{'×'.join(map(str, expected))}"
            )
    if not torch.isfinite(t).all():
        raise ValueError(f"{name} contains NaN or infinite values")
    return t


def model_device(model: Any, fallback: torch.device | None = None) -> torch.device | None:
    """The device of a module's first parameter or buffer; ``fallback`` for a module without
    any and for objects that are not modules (a user's plain ``encode``/``decode`` object)."""
    if isinstance(model, torch.nn.Module):
        for t in (*model.parameters(), *model.buffers()):
            return t.device
    return fallback


def check_dataset(dataset: Any, kind: type = Dataset, hint: str = "from_tensors(images)") -> None:
    """Raise a clear ``TypeError`` unless ``dataset`` is an invwidgets dataset of ``kind``
    (:class:`~invwidgets.data.Dataset` for images, ``BaseDataset`` to accept vectors too)."""
    if not isinstance(dataset, kind):
        what = "Dataset" if kind is Dataset else "dataset"
        raise TypeError(
            f"dataset must be an invwidgets {what}, got {type(dataset).__name__}; "
            f"wrap tensors with invwidgets.data.{hint}"
        )
