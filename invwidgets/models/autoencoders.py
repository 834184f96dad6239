"""Autoencoders and VAEs: :class:`ConvAutoencoder` for images, :class:`MLPAutoencoder` for vectors and small images.

The protocol every widget relies on is only ``encode(x) -> z`` and ``decode(z) -> x``. For a VAE,
``encode`` returns the posterior mean (deterministic) and :meth:`Autoencoder.encode_dist` returns
``(mu, logvar)``. ``forward`` returns an :class:`AutoencoderOutput` with what the losses in
:mod:`invwidgets.models.losses` need.

Sampling the posterior takes an explicit ``torch.Generator``: a variational model in training
mode refuses to run ``forward`` without one, so training never silently uses the mean or the
global random state.
"""

from __future__ import annotations

import math
from collections.abc import Sequence
from dataclasses import dataclass
from typing import Any

import torch
from torch import nn

__all__ = [
    "Autoencoder",
    "AutoencoderOutput",
    "ConvAutoencoder",
    "MLPAutoencoder",
    "SpatialBroadcastDecoder",
    "reparameterize",
]

_ACTIVATIONS: dict[str, type[nn.Module]] = {"relu": nn.ReLU, "elu": nn.ELU}
_OUTPUTS = ("sigmoid", "identity")
_DECODERS = ("deconv", "broadcast")


def _positive_int(value: Any, what: str) -> int:
    if isinstance(value, bool) or not isinstance(value, int) or value < 1:
        raise ValueError(f"{what} must be a positive integer, got {value!r}")
    return int(value)


def _int_tuple(values: Any, what: str) -> tuple[int, ...]:
    if isinstance(values, int) and not isinstance(values, bool):
        values = (values,)
    try:
        out = tuple(values)
    except TypeError:
        raise ValueError(f"{what} must be a sequence of positive integers, got {values!r}") from None
    for v in out:
        _positive_int(v, f"every entry of {what}")
    return tuple(int(v) for v in out)


def reparameterize(mu: torch.Tensor, logvar: torch.Tensor, generator: torch.Generator) -> torch.Tensor:
    """Draw ``z = mu + exp(logvar / 2) * eps`` with ``eps ~ N(0, I)`` from ``generator``.

    Raises:
        TypeError: if ``generator`` is not a ``torch.Generator``.
        ValueError: if ``mu`` and ``logvar`` differ in shape.
    """
    if not isinstance(generator, torch.Generator):
        raise TypeError(f"generator must be a torch.Generator, got {type(generator).__name__}")
    if mu.shape != logvar.shape:
        raise ValueError(f"mu and logvar must have the same shape, got {tuple(mu.shape)} and {tuple(logvar.shape)}")
    eps = torch.randn(mu.shape, generator=generator, dtype=mu.dtype, device=generator.device)
    return mu + torch.exp(0.5 * logvar) * eps.to(mu.device)


@dataclass
class AutoencoderOutput:
    """What one forward pass of an :class:`Autoencoder` produced.

    Attributes:
        reconstruction: ``decode(z)``, same shape as the input.
        logits: the decoder output before the sigmoid (``None`` for identity output).
        z: the latent that was decoded (a posterior sample or the mean).
        mu: the posterior mean (equal to ``z`` for a plain autoencoder).
        logvar: the posterior log-variance (``None`` for a plain autoencoder).
    """

    reconstruction: torch.Tensor
    logits: torch.Tensor | None
    z: torch.Tensor
    mu: torch.Tensor
    logvar: torch.Tensor | None


class Autoencoder(nn.Module):
    """Base class: an encoder to ``latent_dim`` (or ``2 * latent_dim`` for a VAE) and a decoder.

    Subclasses build ``self.encoder`` (input → ``latent_dim * (2 if variational else 1)``) and
    ``self.decoder`` (latent → pre-activation output of ``input_shape``) and set ``self.config``
    (JSON-serialisable constructor keyword arguments, used by the zoo to rebuild the model).
    """

    encoder: nn.Module
    decoder: nn.Module

    def __init__(self, input_shape: tuple[int, ...], latent_dim: int, variational: bool, output: str) -> None:
        super().__init__()
        if output not in _OUTPUTS:
            raise ValueError(f"output must be one of {_OUTPUTS}, got {output!r}")
        if not isinstance(variational, bool):
            raise TypeError(f"variational must be a bool, got {type(variational).__name__}")
        self.input_shape = tuple(int(s) for s in input_shape)
        self.latent_dim = _positive_int(latent_dim, "latent_dim")
        self.variational = variational
        self.output = output
        self.config: dict[str, Any] = {}

    # -- checks ------------------------------------------------------------------------------
    def _check_input(self, x: torch.Tensor) -> None:
        if not isinstance(x, torch.Tensor):
            raise TypeError(f"input must be a torch.Tensor, got {type(x).__name__}")
        if not x.is_floating_point():
            raise TypeError(f"input must be a floating-point tensor, got dtype {x.dtype}")
        if x.ndim != len(self.input_shape) + 1 or tuple(x.shape[1:]) != self.input_shape:
            raise ValueError(
                f"input must have shape (N, {', '.join(map(str, self.input_shape))}), got {tuple(x.shape)}"
            )

    def _check_latent(self, z: torch.Tensor) -> None:
        if not isinstance(z, torch.Tensor):
            raise TypeError(f"z must be a torch.Tensor, got {type(z).__name__}")
        if not z.is_floating_point():
            raise TypeError(f"z must be a floating-point tensor, got dtype {z.dtype}")
        if z.ndim != 2 or z.shape[1] != self.latent_dim:
            raise ValueError(f"z must have shape (N, {self.latent_dim}), got {tuple(z.shape)}")

    # -- protocol ----------------------------------------------------------------------------
    def encode_dist(self, x: torch.Tensor) -> tuple[torch.Tensor, torch.Tensor]:
        """Posterior parameters ``(mu, logvar)``, each ``(N, latent_dim)``; VAEs only.

        Raises:
            TypeError: if the model is not variational.
        """
        if not self.variational:
            raise TypeError(f"{type(self).__name__} with variational=False has no posterior distribution; use encode")
        self._check_input(x)
        h = self.encoder(x)
        mu, logvar = h.chunk(2, dim=1)
        return mu, logvar

    def encode(self, x: torch.Tensor) -> torch.Tensor:
        """Latent code ``(N, latent_dim)``: the code of an AE, the posterior mean of a VAE."""
        if self.variational:
            return self.encode_dist(x)[0]
        self._check_input(x)
        return self.encoder(x)

    def decode_logits(self, z: torch.Tensor) -> torch.Tensor:
        """Decoder output before the final activation, shape ``(N, *input_shape)``."""
        self._check_latent(z)
        return self.decoder(z)

    def decode(self, z: torch.Tensor) -> torch.Tensor:
        """Decode latents to inputs; with ``output="sigmoid"`` the values lie in [0, 1]."""
        out = self.decode_logits(z)
        return torch.sigmoid(out) if self.output == "sigmoid" else out

    def forward(self, x: torch.Tensor, generator: torch.Generator | None = None) -> AutoencoderOutput:
        """Encode, (for a VAE) sample the posterior with ``generator``, and decode.

        A VAE samples ``z`` whenever ``generator`` is given; without one it decodes the posterior
        mean, which is allowed only in eval mode.

        Raises:
            ValueError: for a variational model in training mode without a generator.
        """
        if self.variational:
            mu, logvar = self.encode_dist(x)
            if generator is not None:
                z = reparameterize(mu, logvar, generator)
            elif self.training:
                raise ValueError(
                    "a variational autoencoder in training mode needs a torch.Generator to sample the "
                    "posterior: call model(x, generator=...) or model.eval() to decode the mean"
                )
            else:
                z = mu
        else:
            mu = z = self.encode(x)
            logvar = None
        logits = self.decoder(z)
        if self.output == "sigmoid":
            return AutoencoderOutput(torch.sigmoid(logits), logits, z, mu, logvar)
        return AutoencoderOutput(logits, None, z, mu, logvar)

    def extra_repr(self) -> str:
        return f"latent_dim={self.latent_dim}, variational={self.variational}, input_shape={self.input_shape}"


def default_stages(image_size: int) -> int:
    """Stride-2 stages of the default conv channels: halve the side while it is even and above 4
    (32 → 4 in 3 stages, 28 → 7 in 2, 8 → 4 in 1).

    Raises:
        ValueError: for a side that cannot be halved at least once (odd, or below 8).
    """
    side, stages = _positive_int(image_size, "image_size"), 0
    while side % 2 == 0 and side > 4:
        side, stages = side // 2, stages + 1
    if stages == 0:
        raise ValueError(f"image_size {image_size} cannot be halved by a stride-2 conv (it must be even and >= 8); pass channels")
    return stages


class ConvAutoencoder(Autoencoder):
    """A convolutional (V)AE for square images whose side is ``base_size * 2**len(channels)``.

    Encoder: ``len(channels)`` × [Conv2d 4×4 stride 2, activation] halving the side each time,
    then Linear → ``hidden`` → activation → Linear → latent (× 2 for a VAE: mean and log-variance).
    Decoder (``decoder="deconv"``, the default): the mirror image with ConvTranspose2d 4×4
    stride 2, ending in ``in_channels`` maps (sigmoid in :meth:`decode`). With
    ``decoder="broadcast"`` it is a :class:`SpatialBroadcastDecoder` (Watters et al. 2019) with
    3×3 conv layers of ``decoder_channels``: the latent is tiled over the image with two coordinate
    channels, which lets a VAE give horizontal and vertical position one latent each instead of a
    rotated mixture of the two.

    Args:
        in_channels: image channels.
        image_size: image side (height = width).
        latent_dim: latent dimensions.
        variational: a VAE (encoder outputs mean and log-variance) if True.
        channels: conv channels per stage; by default 32 per stage, with as many stages as
            :func:`default_stages` gives (halving while the side is even and above 4: 3 stages
            for 32×32, 2 for 28×28, down to 7×7, 1 for 8×8).
        hidden: width of the fully connected layer between the convs and the latent.
        activation: ``"relu"`` or ``"elu"``.
        decoder: ``"deconv"`` or ``"broadcast"`` (see above).
        decoder_channels: conv channels of the broadcast decoder (default ``(32, 32, 32)``);
            only with ``decoder="broadcast"``.

    Raises:
        ValueError: if ``image_size`` is not divisible by ``2**len(channels)``, an argument is
            not a positive integer, or ``decoder`` is unknown.
    """

    def __init__(
        self,
        in_channels: int = 1,
        image_size: int = 32,
        latent_dim: int = 8,
        variational: bool = False,
        channels: Sequence[int] | None = None,
        hidden: int = 128,
        activation: str = "relu",
        decoder: str = "deconv",
        decoder_channels: Sequence[int] | None = None,
    ) -> None:
        in_channels = _positive_int(in_channels, "in_channels")
        image_size = _positive_int(image_size, "image_size")
        if decoder not in _DECODERS:
            raise ValueError(f"decoder must be one of {_DECODERS}, got {decoder!r}")
        if decoder_channels is not None and decoder != "broadcast":
            raise ValueError("decoder_channels applies only to decoder='broadcast'")
        if channels is None:
            channels = (32,) * default_stages(image_size)
        channels = _int_tuple(channels, "channels")
        if image_size % (2 ** len(channels)):
            raise ValueError(f"image_size {image_size} is not divisible by 2**len(channels) = {2 ** len(channels)}")
        hidden = _positive_int(hidden, "hidden")
        if activation not in _ACTIVATIONS:
            raise ValueError(f"activation must be one of {tuple(_ACTIVATIONS)}, got {activation!r}")
        super().__init__((in_channels, image_size, image_size), latent_dim, variational, "sigmoid")
        self.config = {
            "in_channels": in_channels,
            "image_size": image_size,
            "latent_dim": self.latent_dim,
            "variational": variational,
            "channels": list(channels),
            "hidden": hidden,
            "activation": activation,
        }
        if decoder == "broadcast":  # only non-default keys: cards of deconv models stay as they were
            decoder_channels = _int_tuple((32, 32, 32) if decoder_channels is None else decoder_channels,
                                          "decoder_channels")
            self.config.update({"decoder": decoder, "decoder_channels": list(decoder_channels)})
        act = _ACTIVATIONS[activation]
        side = image_size // 2 ** len(channels)
        flat = channels[-1] * side * side
        out_dim = self.latent_dim * (2 if variational else 1)

        enc: list[nn.Module] = []
        c_prev = in_channels
        for c in channels:
            enc += [nn.Conv2d(c_prev, c, 4, stride=2, padding=1), act()]
            c_prev = c
        enc += [nn.Flatten(), nn.Linear(flat, hidden), act(), nn.Linear(hidden, out_dim)]
        self.encoder = nn.Sequential(*enc)

        if decoder == "broadcast":
            self.decoder = SpatialBroadcastDecoder(self.latent_dim, image_size, in_channels,
                                                   decoder_channels, activation)  # type: ignore[arg-type]
            return
        dec: list[nn.Module] = [
            nn.Linear(self.latent_dim, hidden),
            act(),
            nn.Linear(hidden, flat),
            act(),
            nn.Unflatten(1, (channels[-1], side, side)),
        ]
        rev = list(reversed(channels))
        for i, c in enumerate(rev):
            c_next = rev[i + 1] if i + 1 < len(rev) else in_channels
            dec.append(nn.ConvTranspose2d(c, c_next, 4, stride=2, padding=1))
            if i + 1 < len(rev):
                dec.append(act())
        self.decoder = nn.Sequential(*dec)


class SpatialBroadcastDecoder(nn.Module):
    """Decoder that tiles the latent over the image (Watters et al. 2019, "Spatial Broadcast Decoder").

    ``z`` (N, d) is copied to every pixel of a ``size``×``size`` grid, two coordinate channels
    (x and y, evenly spaced in [−1, 1]) are appended, and 3×3 convolutions (padding 1, stride 1)
    with ``channels`` maps and the activation map it to ``out_channels`` pre-activation outputs
    by a final 1×1 convolution. Position becomes a simple function of the coordinate channels, so
    a VAE tends to give each image axis its own latent.

    Args:
        latent_dim: d.
        size: output side.
        out_channels: output maps (image channels).
        channels: widths of the 3×3 conv layers (at least one).
        activation: ``"relu"`` or ``"elu"``.
    """

    def __init__(self, latent_dim: int, size: int, out_channels: int, channels: Sequence[int] = (32, 32, 32),
                 activation: str = "relu") -> None:
        super().__init__()
        self.latent_dim = _positive_int(latent_dim, "latent_dim")
        self.size = _positive_int(size, "size")
        channels = _int_tuple(channels, "channels")
        if not channels:
            raise ValueError("channels must name at least one conv layer")
        if activation not in _ACTIVATIONS:
            raise ValueError(f"activation must be one of {tuple(_ACTIVATIONS)}, got {activation!r}")
        grid = torch.linspace(-1.0, 1.0, self.size)
        yy, xx = torch.meshgrid(grid, grid, indexing="ij")
        # deterministic and rebuilt from the config: not part of the saved weights
        self.register_buffer("coords", torch.stack([xx, yy])[None], persistent=False)
        layers: list[nn.Module] = []
        c_prev = self.latent_dim + 2
        for c in channels:
            layers += [nn.Conv2d(c_prev, c, 3, padding=1), _ACTIVATIONS[activation]()]
            c_prev = c
        layers.append(nn.Conv2d(c_prev, _positive_int(out_channels, "out_channels"), 1))
        self.net = nn.Sequential(*layers)

    def forward(self, z: torch.Tensor) -> torch.Tensor:
        n, s = z.shape[0], self.size
        tiled = z[:, :, None, None].expand(n, self.latent_dim, s, s)
        coords = self.coords.to(z.dtype).expand(n, 2, s, s)
        return self.net(torch.cat([tiled, coords], dim=1))


class MLPAutoencoder(Autoencoder):
    """A fully connected (V)AE for vectors or small images of any ``input_shape``.

    Encoder: flatten → ``hidden`` layers with activation → latent (× 2 for a VAE). Decoder: the
    mirror image → ``prod(input_shape)`` → reshape. ``output="sigmoid"`` for data in [0, 1]
    (images, Bernoulli likelihood), ``"identity"`` for real-valued vectors (e.g. the helix with a
    squared-error likelihood; the official helix ToyVAE is ``hidden=(32, 32, 32, 32)``,
    ``activation="elu"``, ``latent_dim=2``).

    Args:
        input_shape: shape of one sample, e.g. ``(1, 8, 8)`` or ``3``.
        latent_dim: latent dimensions.
        variational: a VAE if True.
        hidden: widths of the hidden layers of the encoder (the decoder uses them reversed).
        activation: ``"relu"`` or ``"elu"``.
        output: ``"sigmoid"`` or ``"identity"``.
    """

    def __init__(
        self,
        input_shape: int | Sequence[int] = (1, 8, 8),
        latent_dim: int = 8,
        variational: bool = False,
        hidden: Sequence[int] = (128,),
        activation: str = "relu",
        output: str = "sigmoid",
    ) -> None:
        shape = _int_tuple(input_shape, "input_shape")
        hidden = _int_tuple(hidden, "hidden")
        if activation not in _ACTIVATIONS:
            raise ValueError(f"activation must be one of {tuple(_ACTIVATIONS)}, got {activation!r}")
        super().__init__(shape, latent_dim, variational, output)
        self.config = {
            "input_shape": list(shape),
            "latent_dim": self.latent_dim,
            "variational": variational,
            "hidden": list(hidden),
            "activation": activation,
            "output": output,
        }
        act = _ACTIVATIONS[activation]
        d_in = math.prod(shape)
        enc: list[nn.Module] = [nn.Flatten()]
        prev = d_in
        for h in hidden:
            enc += [nn.Linear(prev, h), act()]
            prev = h
        enc.append(nn.Linear(prev, self.latent_dim * (2 if variational else 1)))
        self.encoder = nn.Sequential(*enc)
        dec: list[nn.Module] = []
        prev = self.latent_dim
        for h in reversed(hidden):
            dec += [nn.Linear(prev, h), act()]
            prev = h
        dec += [nn.Linear(prev, d_in), nn.Unflatten(1, shape)]
        self.decoder = nn.Sequential(*dec)
