"""invwidgets: Jupyter widgets for understanding neural networks through their invariances.

Layers, data flowing one way: :mod:`invwidgets.data` → :mod:`invwidgets.models` →
:mod:`invwidgets.methods` → :mod:`invwidgets.zoo` (pretrained models) → :mod:`invwidgets.worker`
→ :mod:`invwidgets.widgets`. The names in ``__all__`` are the public API.

Names are imported lazily on first use: Jupyter imports ``invwidgets.nodelay`` (and so this
package) in every server process, which must not pay for torch or start CUDA.
"""

from __future__ import annotations

import importlib
from typing import TYPE_CHECKING, Any

__version__ = "0.1.0"

# public name -> (module, attribute); attribute None means the module itself.
_LAZY: dict[str, tuple[str, str | None]] = {
    "data": ("invwidgets.data", None),
    "models": ("invwidgets.models", None),
    "methods": ("invwidgets.methods", None),
    "zoo": ("invwidgets.zoo", None),
    "widgets": ("invwidgets.widgets", None),
    "worker": ("invwidgets.worker", None),
    # The diagnose module is callable: iw.diagnose() works, and so does iw.diagnose.Report.
    "diagnose": ("invwidgets.diagnose", None),
    "Explorer": ("invwidgets.widgets", "Explorer"),
    "InvarianceExplorer": ("invwidgets.widgets.explorers", "InvarianceExplorer"),
    "FactorExplorer": ("invwidgets.widgets.explorers", "FactorExplorer"),
    "InversionExplorer": ("invwidgets.widgets.explorers", "InversionExplorer"),
    "ResponseExplorer": ("invwidgets.widgets.explorers", "ResponseExplorer"),
    "ImageView": ("invwidgets.widgets", "ImageView"),
    "Chart": ("invwidgets.widgets", "Chart"),
    "Row": ("invwidgets.widgets", "Row"),
    "Column": ("invwidgets.widgets", "Column"),
    "LatentExplorer": ("invwidgets.widgets", "LatentExplorer"),
    "LatentSliders": ("invwidgets.widgets", "LatentSliders"),
    "SampleGrid": ("invwidgets.widgets", "SampleGrid"),
    "SketchPad": ("invwidgets.widgets", "SketchPad"),
    "Worker": ("invwidgets.worker", "Worker"),
    "as_autoencoder": ("invwidgets.models", "as_autoencoder"),
    "as_classifier": ("invwidgets.models", "as_classifier"),
    "default_device": ("invwidgets.worker", "default_device"),
    "get_worker": ("invwidgets.worker", "get_worker"),
    "set_sync_mode": ("invwidgets.worker", "set_sync_mode"),
}

__all__ = ["__version__", *sorted(_LAZY)]


def __getattr__(name: str) -> Any:
    try:
        module, attr = _LAZY[name]
    except KeyError:
        raise AttributeError(f"module 'invwidgets' has no attribute {name!r}") from None
    value = importlib.import_module(module)
    if attr is not None:
        value = getattr(value, attr)
    globals()[name] = value
    return value


def __dir__() -> list[str]:
    return sorted(set(globals()) | set(_LAZY))


if TYPE_CHECKING:  # pragma: no cover - for type checkers and IDEs
    from . import data, methods, models, widgets, worker, zoo
    from .diagnose import diagnose
    from .models import as_autoencoder, as_classifier
    from .widgets import (
        Chart,
        Column,
        Explorer,
        ImageView,
        LatentExplorer,
        LatentSliders,
        Row,
        SampleGrid,
        SketchPad,
    )
    from .widgets.explorers import (
        FactorExplorer,
        InvarianceExplorer,
        InversionExplorer,
        ResponseExplorer,
    )
    from .worker import Worker, default_device, get_worker, set_sync_mode
