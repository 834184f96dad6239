"""Per-method explorers: ipywidgets layouts of views and plotly charts driven by the worker."""

from .base import Explorer
from .factors import FactorExplorer
from .invariances import InvarianceExplorer
from .inversion import InversionExplorer
from .latent import LatentExplorer
from .responses import ResponseExplorer

__all__ = ["Explorer", "FactorExplorer", "InvarianceExplorer", "InversionExplorer", "LatentExplorer", "ResponseExplorer"]
