"""Gated PixelCNN over discrete pixels, optionally conditioned on a representation ``h``.

:class:`GatedPixelCNN` models ``p(x | h) = Π_i p(x_i | x_<i, h)`` in raster order with a
categorical over ``levels`` intensity levels per pixel (17 for the 8×8 digits, 2 for binary
sprites, 256 for 8-bit images). It uses the gated vertical/horizontal stacks of van den Oord et
al. (2016), which have no blind spot:

* the *vertical* stack sees only the rows above the current pixel (first layer masked to rows
  strictly above, later layers to rows at or above);
* the *horizontal* stack sees the pixels to the left in the current row (first layer strictly to
  the left) plus the vertical stack at the same position;
* every gated layer computes ``tanh(a_f) ⊙ σ(a_g)`` with ``a = W * x + V c(h)``, and the
  output head (two 1×1 convs with ReLUs) sees ``stack + U c(h)``: a direct per-pixel path from the
  conditioning features to the logits. Without it the conditioning reaches the logits only
  through the tanh/sigmoid gates, and the 20-epoch models learnt to copy the input under identity
  conditioning only slowly (Î(x; input) ≈ 0.4 Ĥ(x) on the digits).

Conditioning (``cond_shape``):

* ``None`` — the unconditional twin (same network, no conditioning term);
* ``(d,)`` — a vector (fc features, logits): Linear → ReLU, then one linear map per layer,
  broadcast over space (and one to the head);
* ``(C', h', w')`` — a spatial map (conv features, the input itself): a small conditioning network
  (conv → ReLU → resize to the image resolution → conv → ReLU), then one 1×1 conv per layer (and
  one to the head).

With ``cond_map=True`` the conditioning is *location-dependent* for every model (the conditional
PixelCNN of van den Oord et al. 2016): a vector ``h`` goes through Linear → ReLU → Linear to a
half-resolution map (``m × ⌈H/2⌉ × ⌈W/2⌉``), ReLU, nearest upsampling to the image, conv → ReLU,
then one 1×1 conv per layer, like the spatial path, so a class vector can say *where* ink goes,
not only how much; and every model, the unconditional twin included, adds a learned position map
``P`` (``cond_hidden × H × W``, zero at initialisation) to its conditioning embedding before the
1×1 convs. The twin's conditioning is then ``P`` alone, so a conditional model given a constant
``h`` can express exactly what the twin can (``Î ≈ 0`` for constant ``h`` still holds) and no
model gains from position information the twin lacks. The default (``False``) keeps the
broadcast vector conditioning and no position map (the shipped 8×8 models).

The channels of one pixel are modelled independently given the previous pixels and ``h`` (a valid
autoregressive factorisation; no sub-pixel ordering).

Images enter as floats in ``[0, 1]`` on the ``levels`` grid (``round(x·(levels−1))`` is the
class); :meth:`GatedPixelCNN.logits` returns ``N × levels × C × H × W``.

Because the vertical stack depends only on rows above, it is computed once per row and reused
for every pixel of that row, and the horizontal stack is evaluated on a window of its receptive
field only; :meth:`GatedPixelCNN.sample` (``method="fast"``) does this, ``method="naive"`` re-runs
the whole network for every pixel. Both draw the same uniforms from the generator, so they give
the same samples.
"""

from __future__ import annotations

import math
from collections.abc import Sequence
from typing import Any

import torch
import torch.nn.functional as F
from torch import nn

__all__ = ["GatedPixelCNN", "InversionSet", "to_levels"]


def to_levels(x: torch.Tensor, levels: int) -> torch.Tensor:
    """Integer level indices ``round(x·(levels−1))`` (int64) of images in ``[0, 1]``.

    Raises:
        ValueError: if ``x`` has values outside ``[0, 1]`` or off the level grid by more than 1e-3.
    """
    if not x.is_floating_point():
        raise TypeError(f"images must be floating point in [0, 1], got dtype {x.dtype}")
    if not torch.isfinite(x).all():
        raise ValueError("images contain NaN or infinite values")
    scaled = x * (levels - 1)
    idx = torch.round(scaled)
    err = float((scaled - idx).abs().max()) if x.numel() else 0.0
    if err > 1e-3 or float(x.min()) < -1e-6 or float(x.max()) > 1 + 1e-6:
        raise ValueError(
            f"images must lie in [0, 1] on {levels} levels (x·{levels - 1} integer); "
            f"off the grid by up to {err:.3g}"
        )
    return idx.long()


class _MaskedConv(nn.Conv2d):
    """A 2-D convolution whose kernel is multiplied by a fixed 0/1 mask (``same`` padding)."""

    def __init__(self, cin: int, cout: int, kernel: tuple[int, int], mask: torch.Tensor) -> None:
        super().__init__(cin, cout, kernel, padding=(kernel[0] // 2, kernel[1] // 2))
        self.register_buffer("mask", mask.reshape(1, 1, *kernel).clone(), persistent=False)

    def forward(self, x: torch.Tensor) -> torch.Tensor:  # noqa: D102
        return F.conv2d(x, self.weight * self.mask, self.bias, padding=self.padding)


def _vertical_mask(k: int, first: bool) -> torch.Tensor:
    m = torch.zeros(k, k)
    m[: k // 2 if first else k // 2 + 1, :] = 1  # rows strictly above (first) or at/above
    return m


def _horizontal_mask(k: int, first: bool) -> torch.Tensor:
    m = torch.zeros(1, k)
    m[0, : k // 2 if first else k // 2 + 1] = 1  # columns strictly left (first) or at/left
    return m


class _GatedLayer(nn.Module):
    def __init__(self, cin: int, channels: int, k: int, first: bool, dropout: float = 0.0) -> None:
        super().__init__()
        self.first = first
        self.drop = nn.Dropout(dropout)  # on the gated activations (per element: keeps the masks causal)
        self.v_conv = _MaskedConv(cin, 2 * channels, (k, k), _vertical_mask(k, first))
        self.h_conv = _MaskedConv(cin, 2 * channels, (1, k), _horizontal_mask(k, first))
        self.v_to_h = nn.Conv2d(2 * channels, 2 * channels, 1)
        self.h_out = nn.Conv2d(channels, channels, 1)

    @staticmethod
    def _gate(a: torch.Tensor) -> torch.Tensor:
        f, g = a.chunk(2, dim=1)
        return torch.tanh(f) * torch.sigmoid(g)

    def vertical(self, v: torch.Tensor, cond: torch.Tensor | None) -> tuple[torch.Tensor, torch.Tensor]:
        """(next vertical input, pre-activation passed to the horizontal stack)."""
        a = self.v_conv(v)
        if cond is not None:
            a = a + cond
        return self._gate(a), a

    def horizontal(self, h: torch.Tensor, v_pre: torch.Tensor, cond: torch.Tensor | None) -> torch.Tensor:
        a = self.h_conv(h) + self.v_to_h(v_pre)
        if cond is not None:
            a = a + cond
        out = self.h_out(self.drop(self._gate(a)))
        return out if self.first else h + out


class _PositionMap(nn.Module):
    """A learned ``channels × side × side`` map, zero at initialisation (a deterministic reset)."""

    deterministic_reset = True

    def __init__(self, channels: int, side: int) -> None:
        super().__init__()
        self.weight = nn.Parameter(torch.zeros(channels, side, side))

    def reset_parameters(self) -> None:  # noqa: D102
        with torch.no_grad():
            self.weight.zero_()

    def forward(self) -> torch.Tensor:  # noqa: D102
        return self.weight.unsqueeze(0)


class GatedPixelCNN(nn.Module):
    """Conditional (or unconditional) gated PixelCNN with a categorical over pixel levels.

    Args:
        in_channels: image channels.
        image_size: image side (square images).
        levels: number of intensity levels (17 for digits, 2 for binary sprites, 256 for 8-bit).
        channels: hidden channels of the gated stacks.
        n_layers: number of gated layers (at least 1).
        kernel_size: odd kernel size of the masked convolutions.
        cond_shape: ``None`` (unconditional), ``[d]`` (vector) or ``[C, h, w]`` (spatial map), the
            shape of one conditioning item ``h``.
        cond_hidden: width of the conditioning network.
        dropout: dropout rate on every gated layer's activations while training (0 = none; no
            effect in eval mode, so sampling and likelihoods are unchanged).
        cond_norm: how :meth:`set_cond_normalization` standardises a spatial ``h``:
            ``"element"`` (each element by its own mean and std, the default) or ``"channel"``
            (each channel by the mean and std over all its positions: a position that is almost
            never active in training, inside a channel active elsewhere, is then not scaled up
            to hundreds of standard deviations when a new image activates it).
        cond_map: location-dependent conditioning (see the module docstring): a vector ``h`` is
            mapped to a spatial map, and every model (the unconditional one too) adds a learned
            position map to its conditioning. ``False`` (the default) broadcasts a vector ``h``
            over space, with no position map.
    """

    def __init__(
        self,
        in_channels: int = 1,
        image_size: int = 8,
        levels: int = 17,
        channels: int = 32,
        n_layers: int = 5,
        kernel_size: int = 3,
        cond_shape: Sequence[int] | None = None,
        cond_hidden: int = 64,
        dropout: float = 0.0,
        cond_norm: str = "element",
        cond_map: bool = False,
    ) -> None:
        super().__init__()
        for value, what in ((in_channels, "in_channels"), (image_size, "image_size"), (channels, "channels"),
                            (n_layers, "n_layers"), (cond_hidden, "cond_hidden")):
            if isinstance(value, bool) or not isinstance(value, int) or value < 1:
                raise ValueError(f"{what} must be a positive integer, got {value!r}")
        if isinstance(levels, bool) or not isinstance(levels, int) or levels < 2:
            raise ValueError(f"levels must be an integer >= 2, got {levels!r}")
        if isinstance(kernel_size, bool) or not isinstance(kernel_size, int) or kernel_size < 3 or kernel_size % 2 == 0:
            raise ValueError(f"kernel_size must be an odd integer >= 3, got {kernel_size!r}")
        if cond_norm not in ("element", "channel"):
            raise ValueError(f"cond_norm must be 'element' or 'channel', got {cond_norm!r}")
        if not 0.0 <= float(dropout) < 1.0:
            raise ValueError(f"dropout must lie in [0, 1), got {dropout!r}")
        if cond_shape is not None:
            cond_shape = [int(s) for s in cond_shape]
            if len(cond_shape) not in (1, 3) or any(s < 1 for s in cond_shape):
                raise ValueError(f"cond_shape must be None, [d] or [C, h, w] with positive sizes, got {cond_shape}")
        self.config: dict[str, Any] = {
            "in_channels": in_channels, "image_size": image_size, "levels": levels, "channels": channels,
            "n_layers": n_layers, "kernel_size": kernel_size, "cond_shape": cond_shape, "cond_hidden": cond_hidden,
            "dropout": float(dropout), "cond_norm": cond_norm,
        }
        if cond_map:  # only when set, so the configs (and cards) of earlier models are unchanged
            self.config["cond_map"] = True
        self.cond_map = bool(cond_map)
        self.in_channels, self.image_size, self.levels = in_channels, image_size, levels
        self.channels, self.n_layers, self.kernel_size = channels, n_layers, kernel_size
        self.cond_shape = None if cond_shape is None else tuple(cond_shape)
        self.layers = nn.ModuleList(
            [_GatedLayer(in_channels if i == 0 else channels, channels, kernel_size, i == 0, float(dropout))
             for i in range(n_layers)]
        )
        self.head = nn.Sequential(nn.ReLU(), nn.Conv2d(channels, channels, 1), nn.ReLU(),
                                  nn.Conv2d(channels, in_channels * levels, 1))
        # Standardisation of h (set from training features by the fitting code; saved with the weights).
        shape = [1] if self.cond_shape is None else list(self.cond_shape)
        self.register_buffer("cond_mean", torch.zeros(shape))
        self.register_buffer("cond_std", torch.ones(shape))
        self._build_conditioning(cond_hidden)

    def _build_conditioning(self, hid: int) -> None:
        """The conditioning network and the per-layer projections (and the position map)."""
        channels, n_layers, side = self.channels, self.n_layers, self.image_size
        self.cond_pos = _PositionMap(hid, side) if self.cond_map else None
        self.cond_net: nn.Module | None = None
        self.cond_proj: nn.ModuleList | None = None
        if self.cond_shape is None and not self.cond_map:
            return
        if self.cond_shape is not None and len(self.cond_shape) == 1 and not self.cond_map:
            self.cond_net = nn.Sequential(nn.Linear(self.cond_shape[0], hid), nn.ReLU())
            self.cond_proj = nn.ModuleList([nn.Linear(hid, 2 * channels) for _ in range(n_layers)]
                                           + [nn.Linear(hid, channels)])
            return
        if self.cond_shape is not None and len(self.cond_shape) == 1:
            m, half = self.map_channels, (side + 1) // 2
            self.cond_net = nn.ModuleDict({
                "fc": nn.Linear(self.cond_shape[0], hid),
                "map": nn.Linear(hid, m * half * half),
                "out": nn.Conv2d(m, hid, 3, padding=1),
            })
        elif self.cond_shape is not None:
            self.cond_net = nn.ModuleDict({
                "inp": nn.Conv2d(self.cond_shape[0], hid, 3, padding=1),
                "out": nn.Conv2d(hid, hid, 3, padding=1),
            })
        self.cond_proj = nn.ModuleList([nn.Conv2d(hid, 2 * channels, 1) for _ in range(n_layers)]
                                       + [nn.Conv2d(hid, channels, 1)])

    @property
    def map_channels(self) -> int:
        """Channels of the half-resolution map a vector ``h`` is mapped to (``cond_map=True``)."""
        return max(8, int(self.config["cond_hidden"]) // 4)

    # ------------------------------------------------------------------ checks
    @property
    def conditional(self) -> bool:
        """Whether the model takes a conditioning input ``h``."""
        return self.cond_shape is not None

    @property
    def image_shape(self) -> tuple[int, int, int]:
        """``(C, H, W)`` of one image."""
        return (self.in_channels, self.image_size, self.image_size)

    @property
    def receptive_radius(self) -> int:
        """How many rows above / columns beside the current pixel the logits can depend on."""
        return self.n_layers * (self.kernel_size // 2)

    def _check_x(self, x: torch.Tensor) -> None:
        if not isinstance(x, torch.Tensor):
            raise TypeError(f"x must be a torch.Tensor, got {type(x).__name__}")
        if not x.is_floating_point():
            raise TypeError(f"x must be a floating-point tensor in [0, 1], got dtype {x.dtype}")
        if x.ndim != 4 or tuple(x.shape[1:]) != self.image_shape:
            raise ValueError(f"x must have shape (N, {', '.join(map(str, self.image_shape))}), got {tuple(x.shape)}")

    def _check_h(self, h: torch.Tensor | None, n: int) -> torch.Tensor | None:
        if self.cond_shape is None:
            if h is not None:
                raise ValueError("this PixelCNN is unconditional; pass h=None")
            return None
        if h is None:
            raise ValueError(f"this PixelCNN is conditional on h of shape {list(self.cond_shape)}; pass h")
        if not isinstance(h, torch.Tensor):
            raise TypeError(f"h must be a torch.Tensor, got {type(h).__name__}")
        if not h.is_floating_point():
            raise TypeError(f"h must be floating point, got dtype {h.dtype}")
        if tuple(h.shape[1:]) != self.cond_shape or h.shape[0] != n:
            raise ValueError(f"h must have shape ({n}, {', '.join(map(str, self.cond_shape))}), got {tuple(h.shape)}")
        if not torch.isfinite(h).all():
            raise ValueError("h contains NaN or infinite values")
        return h

    @torch.no_grad()
    def set_cond_normalization(self, h: torch.Tensor) -> None:
        """Standardise future conditioning inputs with the element-wise mean and std of the
        training features ``h`` (N × cond_shape), per element or per channel (``cond_norm``);
        constant elements keep std 1."""
        h = self._check_h(h, h.shape[0])
        assert h is not None
        if self.config["cond_norm"] == "channel" and h.ndim == 4:
            dims = (0, 2, 3)
            mean = h.mean(dims, keepdim=True)[0].expand_as(h[0])
            std = h.std(dims, unbiased=False, keepdim=True)[0].expand_as(h[0])
        else:
            mean = h.mean(0)
            std = h.std(0, unbiased=False) if h.shape[0] > 1 else torch.ones_like(h[0])
        self.cond_mean.copy_(mean)
        self.cond_std.copy_(torch.where(std > 1e-6, std, torch.ones_like(std)))

    # ------------------------------------------------------------------ forward
    def condition(self, h: torch.Tensor | None, n: int | None = None) -> list[torch.Tensor] | None:
        """Conditioning terms: one ``V c(h)`` per gated layer (``N × 2C × H × W`` spatial or
        ``N × 2C × 1 × 1`` vector), then the head term added to the stack's output (``N × C × …``);
        ``None`` for the unconditional model, or with ``cond_map`` its position terms
        (``1 × 2C × H × W``, broadcast over the batch)."""
        if self.cond_shape is None:
            self._check_h(h, 0)
            if self.cond_pos is None:
                return None
            assert self.cond_proj is not None
            pos = self.cond_pos()
            return [p(pos) for p in self.cond_proj]
        h = self._check_h(h, h.shape[0] if isinstance(h, torch.Tensor) and n is None else int(n or 0))
        assert h is not None
        assert self.cond_net is not None and self.cond_proj is not None
        h = (h - self.cond_mean) / self.cond_std
        if len(self.cond_shape) == 1 and not self.cond_map:
            e = self.cond_net(h)
            return [p(e)[:, :, None, None] for p in self.cond_proj]
        size = (self.image_size, self.image_size)
        if len(self.cond_shape) == 1:
            half = (self.image_size + 1) // 2
            e = F.relu(self.cond_net["map"](F.relu(self.cond_net["fc"](h))))
            e = F.interpolate(e.reshape(-1, self.map_channels, half, half), size=size, mode="nearest")
        else:
            e = F.relu(self.cond_net["inp"](h))
            if tuple(e.shape[-2:]) != size:
                e = F.interpolate(e, size=size, mode="nearest")
        e = F.relu(self.cond_net["out"](e))
        if self.cond_pos is not None:
            e = e + self.cond_pos()
        return [p(e) for p in self.cond_proj]

    def _inputs(self, x: torch.Tensor) -> torch.Tensor:
        return x * 2.0 - 1.0

    def _head(self, h: torch.Tensor) -> torch.Tensor:
        out = self.head(h)
        n, _, hh, ww = out.shape
        return out.reshape(n, self.in_channels, self.levels, hh, ww).transpose(1, 2)

    def _stacks(self, x: torch.Tensor, cond: list[torch.Tensor] | None) -> torch.Tensor:
        v = h = self._inputs(x)
        for i, layer in enumerate(self.layers):
            c = None if cond is None else cond[i]
            v, v_pre = layer.vertical(v, c)
            h = layer.horizontal(h, v_pre, c)
        return h if cond is None else h + cond[-1]

    def logits(self, x: torch.Tensor, h: torch.Tensor | None = None) -> torch.Tensor:
        """Logits of every pixel, ``N × levels × C × H × W``; pixel ``i``'s depend only on pixels
        before ``i`` in raster order (and on ``h``)."""
        self._check_x(x)
        cond = self.condition(self._check_h(h, x.shape[0]))
        return self._head(self._stacks(x, cond))

    def forward(self, x: torch.Tensor, h: torch.Tensor | None = None) -> torch.Tensor:
        """Same as :meth:`logits`."""
        return self.logits(x, h)

    def log_prob(self, x: torch.Tensor, h: torch.Tensor | None = None) -> torch.Tensor:
        """``log p(x | h)`` in nats per image, shape ``(N,)``."""
        target = to_levels(x, self.levels)
        logp = -F.cross_entropy(self.logits(x, h), target, reduction="none")
        return logp.flatten(1).sum(1)

    def pixel_entropy(self, x: torch.Tensor, h: torch.Tensor | None = None) -> torch.Tensor:
        """Entropy in bits of each pixel's predictive distribution ``p(x_i | x_<i, h)`` given the
        true previous pixels, shape ``N × C × H × W``."""
        logp = torch.log_softmax(self.logits(x, h), dim=1)
        return -(logp.exp() * logp).sum(1) / math.log(2)

    # ------------------------------------------------------------------ sampling
    @torch.no_grad()
    def sample(
        self,
        n: int | None = None,
        h: torch.Tensor | None = None,
        generator: torch.Generator | None = None,
        method: str = "fast",
        temperature: float = 1.0,
        job: Any = None,
    ) -> torch.Tensor:
        """Draw images from ``p(x | h)``, floats in ``[0, 1]`` of shape ``N × C × H × W``.

        Args:
            n: number of samples (unconditional); for a conditional model ``N = h.shape[0]``.
            h: conditioning batch (one sample per row).
            generator: source of the uniforms (default: a fresh one seeded 0).
            method: ``"fast"`` (cached vertical stack per row, windowed horizontal stack) or
                ``"naive"`` (full network per pixel, the reference). Same generator → same samples.
            temperature: divides the logits (1 = the model's distribution).
            job: optional worker job (progress per row, cancellation).
        """
        if method not in ("fast", "naive"):
            raise ValueError(f"method must be 'fast' or 'naive', got {method!r}")
        if not temperature > 0:
            raise ValueError(f"temperature must be positive, got {temperature}")
        if self.conditional:
            if h is None:
                raise ValueError("a conditional PixelCNN needs h to sample")
            n = h.shape[0]
        elif n is None or n < 1:
            raise ValueError(f"an unconditional PixelCNN needs a positive n, got {n!r}")
        device = next(self.parameters()).device
        if h is not None:
            h = h.to(device)
        self._check_h(h, int(n))
        g = generator if generator is not None else torch.Generator().manual_seed(0)
        c, s = self.in_channels, self.image_size
        u = torch.rand(int(n), c, s, s, generator=g).to(device)  # one uniform per sub-pixel, drawn up front
        x = torch.zeros(int(n), c, s, s, device=device)
        was_training = self.training
        self.eval()
        try:
            if method == "naive":
                self._sample_naive(x, h, u, temperature, job)
            else:
                self._sample_fast(x, h, u, temperature, job)
        finally:
            self.train(was_training)
        return x

    def _draw(self, logits: torch.Tensor, u: torch.Tensor, temperature: float) -> torch.Tensor:
        """Inverse-CDF draw: ``logits`` N×levels×C, ``u`` N×C → values in [0, 1], N×C."""
        p = torch.softmax(logits.double() / temperature, dim=1)
        cdf = p.cumsum(1)
        idx = (cdf < u.double()[:, None, :]).sum(1).clamp(max=self.levels - 1)
        return idx.float() / (self.levels - 1)

    def _sample_naive(self, x: torch.Tensor, h: torch.Tensor | None, u: torch.Tensor, t: float, job: Any) -> None:
        s = self.image_size
        for r in range(s):
            if job is not None:
                job.progress(r, s, "sampling (naive)")
            for col in range(s):
                logits = self.logits(x, h)[:, :, :, r, col]
                x[:, :, r, col] = self._draw(logits, u[:, :, r, col], t)

    def _sample_fast(self, x: torch.Tensor, h: torch.Tensor | None, u: torch.Tensor, t: float, job: Any) -> None:
        s = self.image_size
        rad = self.receptive_radius
        cond = self.condition(h)  # computed once, not once per pixel (None: unconditional, no position map)
        spatial = cond is not None and cond[0].shape[-1] != 1
        for r in range(s):
            if job is not None:
                job.progress(r, s, "sampling (fast)")
            r0 = max(0, r - rad)
            # Vertical stack once per row: rows r0..r (row r's output depends on rows < r only).
            v = self._inputs(x[:, :, r0 : r + 1])
            v_pre_row = []
            for i, layer in enumerate(self.layers):
                ci = None if cond is None else (cond[i][:, :, r0 : r + 1] if spatial else cond[i])
                v, v_pre = layer.vertical(v, ci)
                v_pre_row.append(v_pre[:, :, -1:])
            for col in range(s):
                c0 = max(0, col - rad)
                hh = self._inputs(x[:, :, r : r + 1, c0 : col + 1])
                for i, layer in enumerate(self.layers):
                    ci = None if cond is None else (cond[i][:, :, r : r + 1, c0 : col + 1] if spatial else cond[i])
                    hh = layer.horizontal(hh, v_pre_row[i][..., c0 : col + 1], ci)
                out = hh[..., -1:]
                if cond is not None:
                    out = out + (cond[-1][:, :, r : r + 1, col : col + 1] if spatial else cond[-1])
                logits = self._head(out)[:, :, :, 0, 0]
                x[:, :, r, col] = self._draw(logits, u[:, :, r, col], t)


def _to_storage_dtype(module: nn.Module, state: dict[str, Any], prefix: str, local_metadata: Any) -> None:
    """State-dict hook of an :class:`InversionSet` with ``storage_dtype="float16"``."""
    for key, value in state.items():
        if isinstance(value, torch.Tensor) and value.is_floating_point():
            state[key] = value.half()


class InversionSet(nn.Module):
    """A named collection of :class:`GatedPixelCNN` inversion models sharing one architecture:
    ``"uncond"`` (the unconditional twin) and one conditional model per layer name.

    Args:
        pixelcnn: the shared :class:`GatedPixelCNN` keyword arguments (without ``cond_shape``).
        cond_shapes: layer name → shape of one conditioning item (``None`` only for ``"uncond"``).
        source: optional JSON description of the network the models invert (kept in ``config``).
        storage_dtype: ``None`` (the default) or ``"float16"``: :meth:`state_dict` (and so a saved
            file) holds every floating tensor in that dtype, half the size; the models still
            compute in float32. Call :meth:`round_to_storage` after fitting, so the weights in
            memory are exactly the ones a saved file gives back.
    """

    def __init__(self, pixelcnn: dict[str, Any], cond_shapes: dict[str, Sequence[int] | None],
                 source: dict[str, Any] | None = None, storage_dtype: str | None = None) -> None:
        super().__init__()
        if "cond_shape" in pixelcnn:
            raise ValueError("pixelcnn arguments must not contain cond_shape; pass cond_shapes")
        if storage_dtype not in (None, "float16"):
            raise ValueError(f"storage_dtype must be None or 'float16', got {storage_dtype!r}")
        cond_shapes = {str(k): (None if v is None else [int(s) for s in v]) for k, v in cond_shapes.items()}
        self.config: dict[str, Any] = {"pixelcnn": dict(pixelcnn), "cond_shapes": cond_shapes}
        if source is not None:
            self.config["source"] = dict(source)
        if storage_dtype is not None:
            self.config["storage_dtype"] = storage_dtype
            self.register_state_dict_post_hook(_to_storage_dtype)
        #: What the models invert (e.g. ``{"classifier": zoo name, "epoch": 30}``); JSON values.
        self.source: dict[str, Any] = dict(source or {})
        # ModuleDict keys cannot contain "."; module paths like "features.1" are escaped.
        self.models = nn.ModuleDict(
            {self._key(k): GatedPixelCNN(**pixelcnn, cond_shape=v) for k, v in cond_shapes.items()}
        )
        self.names: list[str] = list(cond_shapes)
        #: Fit histories by model name (``train_bpd``, ``val_bpd``, ``best_epoch``), filled by fitting
        #: and by loading a saved set; read by the overfitting diagnostic. Not part of the weights.
        self.histories: dict[str, dict[str, Any]] = {}

    @torch.no_grad()
    def round_to_storage(self) -> InversionSet:
        """Round every floating parameter and buffer to ``storage_dtype`` (and back to its own
        dtype) in place, so that saving and loading gives back exactly these weights; a no-op
        without a storage dtype. Returns the set."""
        if self.config.get("storage_dtype") == "float16":
            for t in [*self.parameters(), *self.buffers()]:
                if t.is_floating_point():
                    t.copy_(t.half().to(t.dtype))
        return self

    @staticmethod
    def _key(name: str) -> str:
        return name.replace(".", "__")

    def __getitem__(self, name: str) -> GatedPixelCNN:
        if name not in self.names:
            raise KeyError(f"no inversion model for {name!r}; have {self.names}")
        return self.models[self._key(name)]  # type: ignore[return-value]

    def __contains__(self, name: object) -> bool:
        return name in self.names

    @property
    def layers(self) -> list[str]:
        """The conditional models' layer names (everything except ``"uncond"``)."""
        return [n for n in self.names if n != "uncond"]
