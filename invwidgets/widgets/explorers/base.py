"""The base of the per-method explorers: one front-end root with a status line and an error place.

An explorer is one anywidget (:class:`~invwidgets.widgets.root.RootBase`): its panels (views,
charts, controls) are child models without front-end code, laid out declaratively with
:func:`~invwidgets.widgets.root.section`, :func:`~invwidgets.widgets.root.row` and
:func:`~invwidgets.widgets.root.col`. The root draws one status line for the whole explorer (the
text of ``status_text``), marks a view whose last request failed, and has one export button (a
PNG of the whole explorer with its headings and captions).
"""

from __future__ import annotations

import functools
import types
from typing import Any

import ipywidgets
import torch
import traitlets

from ...data import BaseDataset, Dataset
from ...models.adapter import module_device, to_images
from ..base import WorkerClient
from ..root import RootBase, col, row, section

#: ipywidgets' registry of open widgets (model id -> widget); a widget leaves it when closed.
_widget_registry = ipywidgets.widgets.widget._instances

__all__ = ["Explorer", "as_batch", "check_dataset", "col", "model_device", "row", "section"]


class Explorer(WorkerClient, RootBase):
    """An explorer lays out views, charts and controls in one front-end root.

    It has the ``status``, ``error`` and ``progress`` traits of every widget, shown in the one
    status line under its content (``status_text``); a view whose request failed is marked too.

    ``clamped`` is the fraction of values of the last decoded images that lay outside [0, 1] and
    were clamped for display (0 when none); the status line says so when it is not 0.
    """

    clamped = traitlets.Float(0.0, help="Fraction of the last decoded images' values clamped to [0, 1]")
    status_text = traitlets.Unicode("idle", help="The status line's text").tag(sync=True)

    def __init__(self, device: torch.device | str | None = None, **kwargs: Any) -> None:
        super().__init__(**kwargs)
        self.add_class("invw-explorer")
        self.export_name = type(self).__name__
        self._init_worker(device)
        self.observe(self._show_status, names=["status", "error", "progress", "clamped"])
        self._show_status()

    def _show_status(self, change: Any = None) -> None:
        if self.status == "error" and self.error:
            text = f"error: {self.error}"
        elif self.status == "busy":
            p = self.progress or {}
            extra = ""
            if p.get("total"):
                extra = f" {p.get('message', '')} {p['done']:.0f}/{p['total']:.0f}"
            text = f"busy{extra}"
        else:
            text = self.status
        if self.clamped > 0:
            text += f" · decoder output outside [0, 1]: {100 * self.clamped:.1f} % of values clamped"
        self.status_text = text

    def _to_images(self, x: Any, what: str = "decode(z)") -> torch.Tensor | None:
        """A decoder output as images in [0, 1] (``None`` when it is not an image), recording the
        fraction of values clamped in :attr:`clamped`; callable from the worker thread."""
        images, fraction = to_images(x, what)
        if images is not None and fraction != self.clamped:
            self.set_traits_threadsafe(clamped=fraction)
        return images

    def __init_subclass__(cls, **kwargs: Any) -> None:
        super().__init_subclass__(**kwargs)
        init = cls.__dict__.get("__init__")
        if init is not None and not getattr(init, "_invw_tracked", False):
            cls.__init__ = _tracked_init(init)  # type: ignore[method-assign]

    def close(self) -> None:
        """Close the explorer: drop its requests, results and cache and release the worker
        (at once, even while a model call runs: its result is dropped), close every widget it
        created (views, charts, buttons, layouts), and let go of its models and data, so that
        nothing it held stays alive because the explorer object does (for example in the
        notebook's output history). Their attributes read ``None`` afterwards."""
        if self.__dict__.get("_invw_closed"):
            return
        self.__dict__["_invw_closed"] = True
        self._release_worker()
        try:
            owned = self._owned_widgets()
        except AttributeError:  # a half-built explorer whose constructor raised
            owned = []
        owned += self.__dict__.get("_invw_created", [])
        seen: set[int] = {id(self)}
        for child in owned:
            _close_tree(child, seen)
        super().close()
        self._trait_values["panels"] = []  # closed: no notification, no message
        self._drop_references()

    def _drop_references(self) -> None:
        # Models, tensors, data, widgets and functions (which may close over a model) go;
        # plain values, the traits and the widget machinery stay.
        for name in list(self.__dict__):
            if name.startswith("_trait"):
                continue
            if _holds_resources(self.__dict__[name], self):
                self.__dict__[name] = None
        self.__dict__.pop("_invw_created", None)

    def _owned_widgets(self) -> list[ipywidgets.Widget]:
        """Widgets created by this explorer (closed with it): its panels. Subclasses extend the
        list with panels they keep out of the layout."""
        return list(self.__dict__.get("_trait_values", {}).get("panels", []))


def _tracked_init(init: Any) -> Any:
    """Wrap an explorer's ``__init__``: remember every widget it creates (so that ``close``
    closes them all, layouts and anonymous boxes included), and if it raises, close what it
    created and release the worker before the exception propagates."""

    @functools.wraps(init)
    def __init__(self: Explorer, *args: Any, **kwargs: Any) -> None:
        if "_invw_constructing" in self.__dict__:  # a subclass's wrapper is already tracking
            init(self, *args, **kwargs)
            return
        self.__dict__["_invw_constructing"] = True
        before = set(_widget_registry)
        try:
            init(self, *args, **kwargs)
        except BaseException:
            created = _created_since(before, self)
            self.__dict__["_invw_created"] = created
            try:
                self.close()
            finally:
                # The constructor may have closed itself before this list existed.
                self._release_worker()
                seen: set[int] = {id(self)}
                for widget in created:
                    _close_tree(widget, seen)
            raise
        finally:
            self.__dict__.pop("_invw_constructing", None)
        self.__dict__["_invw_created"] = _created_since(before, self)

    __init__._invw_tracked = True  # type: ignore[attr-defined]
    return __init__


def _created_since(before: set[str], owner: Any) -> list[ipywidgets.Widget]:
    return [w for k, w in list(_widget_registry.items()) if k not in before and w is not owner]


def _holds_resources(value: Any, owner: Any, depth: int = 2) -> bool:
    """Whether an attribute value may keep a model, data or a widget alive."""
    if isinstance(value, (torch.nn.Module, torch.Tensor, BaseDataset, ipywidgets.Widget)):
        return value is not owner
    if isinstance(value, types.MethodType):
        return value.__self__ is not owner
    if isinstance(value, (types.FunctionType, functools.partial)):
        return True
    if depth > 0 and isinstance(value, (list, tuple, set, dict)):
        items = value.values() if isinstance(value, dict) else value
        return any(_holds_resources(v, owner, depth - 1) for v in items)
    return False


def _close_tree(widget: Any, seen: set[int]) -> None:
    """Close ``widget`` and the widgets it holds (children, layout, style), once each."""
    if not isinstance(widget, ipywidgets.Widget) or id(widget) in seen:
        return
    seen.add(id(widget))
    parts = list(getattr(widget, "children", ()) or ())
    parts += [getattr(widget, name, None) for name in ("layout", "style")]
    widget.close()
    for part in parts:
        _close_tree(part, seen)


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


#: The device of a model's first parameter or buffer (the models layer's one device lookup).
model_device = module_device


def check_dataset(dataset: Any, kind: type = Dataset, hint: str = "from_tensors(images)") -> None:
    """Raise a clear ``TypeError`` unless ``dataset`` is an invwidgets dataset of ``kind``
    (:class:`~invwidgets.data.Dataset` for images, ``BaseDataset`` to accept vectors too)."""
    if not isinstance(dataset, kind):
        what = "Dataset" if kind is Dataset else "dataset"
        raise TypeError(
            f"dataset must be an invwidgets {what}, got {type(dataset).__name__}; "
            f"wrap tensors with invwidgets.data.{hint}"
        )
