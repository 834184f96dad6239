"""The baseline of the supervised VAE: a plain classifier with the same encoder trunk, trained on
cross-entropy only. The headline comparison is the SVAE's accuracy against this model's."""

from __future__ import annotations

from collections.abc import Sequence
from typing import Any

import torch
from torch import nn

from .autoencoders import _positive_int
from .svae import build_trunk

__all__ = ["TrunkClassifier"]


class TrunkClassifier(nn.Module):
    """``trunk → linear head``: the :class:`~invwidgets.models.SupervisedVAE` encoder trunk
    (same ``arch``, ``hidden``, ``channels``, ``activation``) followed by a linear layer to logits.

    With ``arch="conv"`` this is the "plain CNN" baseline of the paper's comparison. Module paths:
    ``trunk.<i>`` (the shared trunk's layers) and ``head``.
    """

    def __init__(
        self,
        input_shape: Sequence[int] = (1, 8, 8),
        num_classes: int = 10,
        arch: str = "mlp",
        hidden: Sequence[int] = (128,),
        channels: Sequence[int] | None = None,
        activation: str = "relu",
    ) -> None:
        super().__init__()
        num_classes = _positive_int(num_classes, "num_classes")
        if isinstance(hidden, int):
            hidden = (hidden,)
        hidden = tuple(int(h) for h in hidden)
        self.trunk, width = build_trunk(arch, input_shape, hidden, channels, activation)
        self.head = nn.Linear(width, num_classes)
        self.input_shape = tuple(int(s) for s in input_shape)
        self.num_classes = num_classes
        self.config: dict[str, Any] = {
            "input_shape": list(self.input_shape),
            "num_classes": num_classes,
            "arch": arch,
            "hidden": list(hidden),
            "channels": None if channels is None else [int(c) for c in channels],
            "activation": activation,
        }

    def forward(self, x: torch.Tensor) -> torch.Tensor:
        """Class logits ``(N, num_classes)``.

        Raises:
            TypeError, ValueError: for a non-float input or one of the wrong shape.
        """
        if not isinstance(x, torch.Tensor) or not x.is_floating_point():
            raise TypeError(f"input must be a floating-point tensor, got {type(x).__name__}")
        if x.ndim != len(self.input_shape) + 1 or tuple(x.shape[1:]) != self.input_shape:
            raise ValueError(f"input must have shape (N, {', '.join(map(str, self.input_shape))}), got {tuple(x.shape)}")
        return self.head(self.trunk(x))
