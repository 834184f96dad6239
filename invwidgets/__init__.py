"""invwidgets: Jupyter widgets for understanding neural networks through their invariances.

Layers, data flowing one way: :mod:`invwidgets.data` → :mod:`invwidgets.models` →
:mod:`invwidgets.methods` → :mod:`invwidgets.worker` → :mod:`invwidgets.widgets` (and the
pretrained :mod:`invwidgets.zoo`). The names below are the public API.
"""

__version__ = "0.1.0"

from . import data, methods, models, zoo
from .diagnose import diagnose
from .widgets import (
    Explorer,
    ImageView,
    LatentExplorer,
    LatentSliders,
    SampleGrid,
    SketchPad,
)
from .worker import Worker, default_device, get_worker, set_sync_mode

__all__ = [
    "Explorer",
    "ImageView",
    "LatentExplorer",
    "LatentSliders",
    "SampleGrid",
    "SketchPad",
    "Worker",
    "__version__",
    "data",
    "default_device",
    "diagnose",
    "get_worker",
    "methods",
    "models",
    "set_sync_mode",
    "zoo",
]
