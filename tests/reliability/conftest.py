"""Small explorers of every kind, built from models defined here (the inversion explorer uses
the zoo's smallest shipped models), for the lifecycle, cache and threading tests."""

from __future__ import annotations

from collections.abc import Callable
from typing import Any

import pytest
import torch
from torch import nn

from invwidgets.data import color_digits, digits, sprites
from invwidgets.models import init_parameters
from invwidgets.models.iin import FactorIIN
from invwidgets.widgets.explorers import (
    FactorExplorer,
    InvarianceExplorer,
    InversionExplorer,
    LatentExplorer,
    ResponseExplorer,
)

KINDS = ["latent", "invariance", "factor", "inversion", "response"]


class LinearAE(nn.Module):
    """A linear-sigmoid autoencoder on C×S×S images with ``d`` latents, seeded weights."""

    def __init__(self, channels: int = 1, size: int = 8, d: int = 4, seed: int = 0) -> None:
        super().__init__()
        g = torch.Generator().manual_seed(seed)
        self.shape = (channels, size, size)
        n = channels * size * size
        self.latent_dim = d
        self.A = nn.Parameter(torch.randn(n, d, generator=g) / n**0.5)
        self.B = nn.Parameter(torch.randn(d, n, generator=g))

    def encode(self, x: torch.Tensor) -> torch.Tensor:
        return x.flatten(1) @ self.A

    def decode(self, z: torch.Tensor) -> torch.Tensor:
        return torch.sigmoid(z @ self.B).view(-1, *self.shape)


class TinySVAE(nn.Module):
    """A linear supervised VAE on 8×8 images: d_c = 2, d_n = 3, 10 classes."""

    d_c, d_n, input_shape = 2, 3, (1, 8, 8)

    def __init__(self, seed: int = 0) -> None:
        super().__init__()
        g = torch.Generator().manual_seed(seed)
        self.enc = nn.Parameter(torch.randn(64, 5, generator=g) / 4)
        self.dec = nn.Parameter(torch.randn(5, 64, generator=g))
        self.head = nn.Parameter(torch.randn(2, 10, generator=g))

    def encode_dist(self, x: torch.Tensor) -> tuple[torch.Tensor, torch.Tensor]:
        mu = x.flatten(1) @ self.enc
        return mu, torch.zeros_like(mu)

    def decode(self, z: torch.Tensor) -> torch.Tensor:
        return torch.sigmoid(z @ self.dec).view(-1, 1, 8, 8)

    def classify(self, z_c: torch.Tensor) -> torch.Tensor:
        return torch.tanh(z_c) @ self.head


def factor_iin(ae: LinearAE, images: torch.Tensor) -> FactorIIN:
    iin = FactorIIN(4, [1, 1, 2], ["digit", "color", "residual"], n_blocks=2, hidden=8, seed=0)
    g = torch.Generator().manual_seed(1)
    for block in iin.blocks:
        init_parameters(block.coupling, g)
    with torch.no_grad():
        iin(ae.encode(images))  # ActNorm initialisation
    return iin.eval()


class Builder:
    """``build(kind, model=None, **options)`` returns a small explorer of that kind."""

    def __init__(self) -> None:
        self.gray = digits().subset(range(64))
        self.color = color_digits().subset(torch.arange(64))
        self.sprites = sprites(size=16, rotations=1)
        self._zoo: tuple | None = None

    def zoo(self) -> tuple:
        if self._zoo is None:
            from invwidgets.zoo import load, test_split

            self._zoo = (load("cnn-digits-ckpts-s0").final, load("inv-digits-s0"),
                         test_split("inv-digits-s0").subset(range(32)))
        return self._zoo

    def model(self, kind: str, seed: int = 0) -> Any:
        """A fresh model of the kind an explorer of ``kind`` takes."""
        if kind == "latent":
            return LinearAE(1, 8, 3, seed)
        if kind == "invariance":
            return TinySVAE(seed)
        if kind == "factor":
            return LinearAE(3, 8, 4, seed)
        if kind == "response":
            return LinearAE(1, 16, 4, seed)
        if kind == "inversion":
            return self.zoo()[0]
        raise ValueError(kind)

    def __call__(self, kind: str, model: Any = None, **options: Any) -> Any:
        model = self.model(kind) if model is None else model
        if kind == "latent":
            return LatentExplorer(model, self.gray, **{"n_traversal": 3, "n_pick": 4, "device": "cpu", **options})
        if kind == "invariance":
            return InvarianceExplorer(model, self.gray, **{"k": 2, "n_pick": 4, "device": "cpu", **options})
        if kind == "factor":
            iin = options.pop("iin", None) or factor_iin(model, self.color.images)
            opts = {"decoder": model, "dataset": self.color, "n_pick": 4, "n_resample": 2, "n_hist": 8,
                    "n_interp": 2, "n_scatter": 16, "device": "cpu", **options}
            return FactorExplorer(model, iin, **opts)
        if kind == "response":
            opts = {"n_samples": 8, "resolution": 4, "n_traversals": 1, "n_steps": 3, "device": "cpu",
                    **options}
            return ResponseExplorer(model, self.sprites, **opts)
        if kind == "inversion":
            from invwidgets.zoo.entries_inversion import INVERSION_LAYERS

            _, inv, test = self.zoo()
            opts = {"inversions": inv, "n_samples": 2, "n_pick": 4, "n_boot": 5, "device": "cpu", **options}
            return InversionExplorer(model, INVERSION_LAYERS, test, **opts)
        raise ValueError(kind)


@pytest.fixture(scope="session")
def build() -> Callable[..., Any]:
    return Builder()
