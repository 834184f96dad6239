"""Widgets: the anywidget views and the per-method explorers composed from them."""

from .base import WorkerClient
from .explorers import (
    FactorExplorer,
    InvarianceExplorer,
    InversionExplorer,
    LatentExplorer,
    ResponseExplorer,
)
from .explorers.base import Explorer
from .root import Column, Row
from .views import Chart, ImageView, LatentSliders, SampleGrid, SketchPad

__all__ = [
    "Chart",
    "Column",
    "Explorer",
    "FactorExplorer",
    "InvarianceExplorer",
    "InversionExplorer",
    "ResponseExplorer",
    "ImageView",
    "Row",
    "LatentExplorer",
    "LatentSliders",
    "SampleGrid",
    "SketchPad",
    "WorkerClient",
]
