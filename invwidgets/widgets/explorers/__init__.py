"""Per-method explorers: ipywidgets layouts of views and plotly charts driven by the worker."""

from .base import Explorer
from .invariances import InvarianceExplorer
from .latent import LatentExplorer
from .responses import ResponseExplorer

__all__ = ["Explorer", "InvarianceExplorer", "LatentExplorer", "ResponseExplorer"]
