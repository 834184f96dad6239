"""Widgets: the anywidget views and the per-method explorers composed from them."""

from .base import WorkerClient
from .explorers.base import Explorer
from .explorers.latent import LatentExplorer
from .views import ImageView, LatentSliders, SampleGrid, SketchPad

__all__ = [
    "Explorer",
    "ImageView",
    "LatentExplorer",
    "LatentSliders",
    "SampleGrid",
    "SketchPad",
    "WorkerClient",
]
