"""Small image classifiers whose layers are addressable by module path (``"features.0"``, ``"fc"``)."""

from __future__ import annotations

from collections.abc import Sequence
from typing import Any

import torch
from torch import nn

__all__ = ["SmallCNN"]

_ACTIVATIONS: dict[str, type[nn.Module]] = {"relu": nn.ReLU, "elu": nn.ELU}


class MaxNormalize(nn.Module):
    """Divide every image by its largest value (floored at ``eps``): the same digit in a dark and
    in a bright colour becomes the same input up to its hue."""

    def __init__(self, eps: float = 1e-3) -> None:
        super().__init__()
        self.eps = float(eps)

    def forward(self, x: torch.Tensor) -> torch.Tensor:
        peak = x.flatten(1).amax(1).clamp_min(self.eps)
        return x / peak.reshape(-1, *([1] * (x.ndim - 1)))


class SmallCNN(nn.Module):
    """conv → ReLU → conv (stride 2, or conv → ReLU → max-pool) → ReLU → fc → ReLU → logits.

    Module paths (read them with a forward hook; ``probe_layers`` maps short names to them):

    ========================= =====================================================
    path                      what
    ========================= =====================================================
    ``features.0``            conv 3×3, ``in_channels → channels[0]``, padding 1
    ``features.1``            ReLU (``probe_layers["conv1"]``)
    ``features.2``            conv 3×3, ``channels[0] → channels[1]`` (stride 2 if
                              ``downsample="stride"``)
    ``features.3``            ReLU (``probe_layers["conv2"]`` for stride)
    ``features.4``            MaxPool2d(2) (only with ``downsample="maxpool"``;
                              ``probe_layers["conv2"]``)
    ``flatten``               Flatten
    ``fc``                    Linear to ``hidden``
    ``fc_relu``               ReLU (``probe_layers["fc"]``; :meth:`embed` returns it)
    ``logits``                Linear to ``num_classes`` (``probe_layers["logits"]``)
    ========================= =====================================================

    Args:
        in_channels: image channels (1 for digits, 3 for colour digits).
        image_size: image side (height = width), at least 2.
        num_classes: number of classes.
        channels: the two conv widths.
        hidden: width of the penultimate layer.
        downsample: ``"stride"`` (stride-2 conv) or ``"maxpool"`` (conv then 2×2 max-pool).
        activation: ``"relu"`` (the default) or ``"elu"`` for every non-linearity (the modules
            keep their paths, ``features.1``, ``fc_relu``, …). ELU units cannot die: with ReLU
            and a narrow ``hidden``, training can leave penultimate units that are negative on
            every input, and then a representation read before the non-linearity (an IIN on
            ``fc``) has dimensions that only matter when an edit pushes them above zero.
        normalize: divide each input by its maximum first (:class:`MaxNormalize`, module
            ``norm``), so that a dark colour does not hide a digit from the classifier.
    """

    def __init__(
        self,
        in_channels: int = 1,
        image_size: int = 8,
        num_classes: int = 10,
        channels: Sequence[int] = (16, 32),
        hidden: int = 64,
        downsample: str = "stride",
        activation: str = "relu",
        normalize: bool = False,
    ) -> None:
        super().__init__()
        for value, what in ((in_channels, "in_channels"), (num_classes, "num_classes"), (hidden, "hidden")):
            if isinstance(value, bool) or not isinstance(value, int) or value < 1:
                raise ValueError(f"{what} must be a positive integer, got {value!r}")
        if isinstance(image_size, bool) or not isinstance(image_size, int) or image_size < 2:
            raise ValueError(f"image_size must be an integer >= 2, got {image_size!r}")
        channels = tuple(channels)
        if len(channels) != 2 or any(isinstance(c, bool) or not isinstance(c, int) or c < 1 for c in channels):
            raise ValueError(f"channels must be two positive integers, got {channels!r}")
        if downsample not in ("stride", "maxpool"):
            raise ValueError(f"downsample must be 'stride' or 'maxpool', got {downsample!r}")
        if activation not in _ACTIVATIONS:
            raise ValueError(f"activation must be one of {tuple(_ACTIVATIONS)}, got {activation!r}")
        act = _ACTIVATIONS[activation]
        self.config: dict[str, Any] = {
            "in_channels": in_channels,
            "image_size": image_size,
            "num_classes": num_classes,
            "channels": list(channels),
            "hidden": hidden,
            "downsample": downsample,
        }
        if activation != "relu":  # the cards of the earlier models stay as they were
            self.config["activation"] = activation
        if normalize:
            self.config["normalize"] = True
            self.norm = MaxNormalize()
        self.input_shape = (in_channels, image_size, image_size)
        c1, c2 = channels
        if downsample == "stride":
            self.features = nn.Sequential(
                nn.Conv2d(in_channels, c1, 3, padding=1),
                act(),
                nn.Conv2d(c1, c2, 3, stride=2, padding=1),
                act(),
            )
            side = (image_size - 1) // 2 + 1
            conv2 = "features.3"
        else:
            self.features = nn.Sequential(
                nn.Conv2d(in_channels, c1, 3, padding=1),
                act(),
                nn.Conv2d(c1, c2, 3, padding=1),
                act(),
                nn.MaxPool2d(2),
            )
            side = image_size // 2
            conv2 = "features.4"
        self.flatten = nn.Flatten()
        self.fc = nn.Linear(c2 * side * side, hidden)
        self.fc_relu = act()
        self.logits = nn.Linear(hidden, num_classes)
        self.num_classes = num_classes
        #: Short names of the usual probe points → module paths.
        self.probe_layers: dict[str, str] = {
            "conv1": "features.1",
            "conv2": conv2,
            "fc": "fc_relu",
            "logits": "logits",
        }

    def _check_input(self, x: torch.Tensor) -> None:
        if not isinstance(x, torch.Tensor):
            raise TypeError(f"input must be a torch.Tensor, got {type(x).__name__}")
        if not x.is_floating_point():
            raise TypeError(f"input must be a floating-point tensor, got dtype {x.dtype}")
        if x.ndim != 4 or tuple(x.shape[1:]) != self.input_shape:
            raise ValueError(f"input must have shape (N, {', '.join(map(str, self.input_shape))}), got {tuple(x.shape)}")

    def embed(self, x: torch.Tensor) -> torch.Tensor:
        """Penultimate features (after ``fc_relu``), shape ``(N, hidden)``."""
        self._check_input(x)
        if "normalize" in self.config:
            x = self.norm(x)
        return self.fc_relu(self.fc(self.flatten(self.features(x))))

    def forward(self, x: torch.Tensor) -> torch.Tensor:
        """Class logits, shape ``(N, num_classes)``."""
        return self.logits(self.embed(x))
