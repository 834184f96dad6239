"""One wrapper for a user's model: device, dtype, which output to use, batching, finiteness.

Every method and explorer calls a user's model through a :class:`ModelAdapter`, so the same
questions are answered once, in one place:

* **device and dtype** — inputs are moved to the device of the model's first parameter (or
  buffer) and cast to the dtype of its first floating-point parameter, so a float64 model works
  with the float32 images of the datasets;
* **which output** — a call may return a tensor, a ``torch.distributions`` object (its ``mean``
  is used), a tuple/list or a dict. ``encode`` keeps the first item of a tuple (the posterior
  mean of a VAE's ``(mu, logvar)``); for any other call a tuple or dict is ambiguous and is an
  error that names the keyword to pass: ``output=`` (a key, an index or a callable) for a
  classifier, ``encode_output=`` / ``decode_output=`` for an autoencoder;
* **errors** — an exception inside the model is re-raised as a ``RuntimeError`` that names the
  call (``"decode failed in MyAE.decode(z) on input of shape (4, 5): ..."``, chained); NaN or
  infinite outputs are a ``ValueError`` naming the call;
* **batching** — :meth:`ModelAdapter.batched` splits a large input into batches.

Wrapping is idempotent (:func:`as_autoencoder` of an :class:`AutoencoderAdapter` returns it), an
adapter is itself an ``nn.Module`` (``eval()``, ``to()``, ``parameters()`` reach the user's
model), the user's model stays reachable as ``.module``, and attributes the adapter does not
define (``latent_dim``, ``d_c``, ``input_shape``, ``probe_layers``, ...) are read from it.

:func:`to_images` clamps decoder outputs to [0, 1] and returns the fraction of values it had to
clamp, so that a view can say so instead of clamping silently.
"""

from __future__ import annotations

from collections.abc import Callable, Mapping
from typing import Any

import torch
from torch import nn

__all__ = [
    "AutoencoderAdapter",
    "ClassifierAdapter",
    "ModelAdapter",
    "Output",
    "as_autoencoder",
    "as_classifier",
    "as_model",
    "check_autoencoder",
    "check_finite",
    "module_device",
    "module_dtype",
    "select_output",
    "to_images",
    "unwrap",
]

#: Which output of a call to use: ``None`` (the default rule), a dict key, a tuple index, or a
#: callable ``output(raw) -> tensor``.
Output = str | int | Callable[[Any], Any] | None


# ---------------------------------------------------------------------------------------------
# device, dtype, outputs
# ---------------------------------------------------------------------------------------------
def _owner(model: Any) -> Any:
    """The object whose parameters count: an adapter's module, a bound method's ``__self__``."""
    if isinstance(model, ModelAdapter):
        return model.module
    owner = getattr(model, "__self__", None)
    if isinstance(owner, nn.Module) and not isinstance(model, nn.Module):
        return owner
    return model


def module_device(model: Any, fallback: torch.device | str | None = "cpu") -> torch.device | None:
    """The device of ``model``'s first parameter or buffer (a module, an adapter or a bound method
    of a module); ``fallback`` for anything without any (e.g. a plain ``encode``/``decode``
    object)."""
    owner = _owner(model)
    if isinstance(owner, nn.Module):
        for t in (*owner.parameters(), *owner.buffers()):
            return t.device
    return None if fallback is None else torch.device(fallback)


def module_dtype(model: Any) -> torch.dtype:
    """The dtype of ``model``'s first floating-point parameter (else buffer); float32 without
    any. Inputs are cast to it."""
    owner = _owner(model)
    if isinstance(owner, nn.Module):
        for t in (*owner.parameters(), *owner.buffers()):
            if t.is_floating_point():
                return t.dtype
    return torch.float32


def _describe(out: Any) -> str:
    if isinstance(out, torch.Tensor):
        return f"tensor {tuple(out.shape)}"
    return type(out).__name__


def select_output(out: Any, output: Output, what: str, hint: str, first_of_tuple: bool = False) -> torch.Tensor:
    """The tensor to use from a model call's raw output ``out``.

    Args:
        out: what the call returned.
        output: ``None`` for the default rule (a tensor; a distribution's ``mean``; with
            ``first_of_tuple`` a tuple's first item), a key of a dict (or attribute of an object),
            an index of a tuple/list, or a callable applied to ``out``.
        what: the call, for messages (``"MyNet(x)"``).
        hint: how to pass ``output`` (``"as_classifier(model, output=...)"``), for messages.
        first_of_tuple: use a tuple's first item by default (an encoder's posterior mean).

    Raises:
        TypeError: when the output is ambiguous or not a tensor; the message names ``hint``.
    """
    if callable(output) and not isinstance(output, (str, int)):
        out = output(out)
    elif isinstance(output, str):
        if isinstance(out, Mapping):
            if output not in out:
                raise TypeError(f"{what} returned a dict without key {output!r}; its keys: {sorted(map(str, out))}")
            out = out[output]
        elif hasattr(out, output):
            out = getattr(out, output)
        else:
            raise TypeError(f"{what} returned {_describe(out)}, which has no key or attribute {output!r}")
    elif isinstance(output, int) and not isinstance(output, bool):
        if not isinstance(out, (tuple, list)) or not -len(out) <= output < len(out):
            n = len(out) if isinstance(out, (tuple, list)) else 0
            raise TypeError(f"{what} returned {_describe(out)}; output={output} needs a tuple of more than {output} items (got {n})")
        out = out[output]
    elif output is not None:
        raise TypeError(f"output must be None, a key, an index or a callable, got {type(output).__name__}")
    elif isinstance(out, Mapping):
        keys = [str(k) for k in out]
        raise TypeError(
            f"{what} returned a dict with keys {keys}: say which output to use, e.g. "
            f"{hint.replace('...', repr(keys[0]) if keys else repr('key'))} (a key, an index or a callable)"
        )
    elif isinstance(out, (tuple, list)):
        if first_of_tuple and out:
            out = out[0]
        else:
            items = ", ".join(_describe(o) for o in out)
            raise TypeError(
                f"{what} returned a {type(out).__name__} of {len(out)} items ({items}): say which output to "
                f"use, e.g. {hint.replace('...', '0')} (an index, a key or a callable)"
            )
    if isinstance(out, torch.distributions.Distribution):
        out = out.mean
    if not isinstance(out, torch.Tensor):
        raise TypeError(f"{what} returned {_describe(out)}, expected a tensor; choose one with {hint}")
    return out


def check_finite(t: torch.Tensor, what: str) -> torch.Tensor:
    """``t`` itself; a ``ValueError`` naming ``what`` when it holds NaN or infinite values."""
    if t.is_floating_point() or t.is_complex():
        bad = ~torch.isfinite(t)
        if bool(bad.any()):
            raise ValueError(f"{what} contains {int(bad.sum())} NaN or infinite values (of {t.numel()})")
    return t


def to_images(x: torch.Tensor, what: str = "decode(z)") -> tuple[torch.Tensor | None, float]:
    """A decoder output as float32 CPU images N×C×H×W in [0, 1], and the fraction clamped.

    N×H×W gains a channel; anything else that is not N×C×H×W with C in (1, 3) gives ``None``
    (not an image, e.g. a vector). Values outside [0, 1] are clamped, and the returned fraction
    (0.0 when none) lets a view say how many were.

    Raises:
        TypeError: for a non-tensor; ValueError: for NaN or infinite values.
    """
    if not isinstance(x, torch.Tensor):
        raise TypeError(f"{what} gave {type(x).__name__}, expected a tensor")
    x = x.detach()
    if x.ndim == 3:
        x = x.unsqueeze(1)
    if x.ndim != 4 or x.shape[1] not in (1, 3):
        return None, 0.0
    check_finite(x, what)
    x = x.float().cpu()
    outside = (x < 0) | (x > 1)
    fraction = float(outside.float().mean()) if x.numel() else 0.0
    return x.clamp(0, 1), fraction


# ---------------------------------------------------------------------------------------------
# the adapters
# ---------------------------------------------------------------------------------------------
class ModelAdapter(nn.Module):
    """A user's model (an ``nn.Module`` or any object) called the same way everywhere.

    Attributes:
        module: the user's model, unchanged.
        check: whether outputs are checked for NaN/inf (default True).
    """

    def __init__(self, model: Any, *, check: bool = True) -> None:
        super().__init__()
        if isinstance(model, ModelAdapter):
            model = model.module
        if isinstance(model, nn.Module):
            self.add_module("module", model)
        else:
            object.__setattr__(self, "module", model)
        self.check = bool(check)
        # the adapter's own mode follows the model's, so code that saves and restores
        # ``model.training`` around a call leaves the user's model as it was
        self.training = bool(getattr(model, "training", False))

    # attributes the adapter does not define come from the user's model
    def __getattr__(self, name: str) -> Any:
        try:
            return super().__getattr__(name)
        except AttributeError:
            if name.startswith("__") or name in ("module", "_parameters", "_buffers", "_modules"):
                raise
        d = self.__dict__
        inner = d.get("_modules", {}).get("module", d.get("module"))
        if inner is None:
            raise AttributeError(f"{type(self).__name__} has no attribute {name!r}")
        return getattr(inner, name)

    @property
    def name(self) -> str:
        """The class name of the user's model, for messages."""
        return type(self.module).__name__

    @property
    def device(self) -> torch.device:
        """Where inputs go: the device of the model's first parameter or buffer (CPU without)."""
        dev = module_device(self.module)
        assert dev is not None
        return dev

    @property
    def dtype(self) -> torch.dtype:
        """What floating-point inputs are cast to: the dtype of the model's first float parameter."""
        return module_dtype(self.module)

    def prepare(self, x: Any) -> Any:
        """``x`` on the model's device, floating-point tensors cast to the model's dtype."""
        if isinstance(x, torch.Tensor):
            return x.to(device=self.device, dtype=self.dtype if x.is_floating_point() else x.dtype)
        return x

    def call(self, fn: Callable[..., Any], x: Any, *, what: str, verb: str, hint: str,
             output: Output = None, first_of_tuple: bool = False, check: bool | None = None) -> torch.Tensor:
        """``fn(prepare(x))`` with the output selected and checked; an exception inside the model
        becomes a ``RuntimeError`` naming ``what`` (the original is chained)."""
        shape = tuple(x.shape) if isinstance(x, torch.Tensor) else type(x).__name__
        try:
            raw = fn(self.prepare(x))
        except Exception as exc:
            raise RuntimeError(f"{verb} failed in {what} on input of shape {shape}: {type(exc).__name__}: {exc}") from exc
        out = select_output(raw, output, what, hint, first_of_tuple)
        if self.check if check is None else check:
            check_finite(out, f"the output of {what}")
        return out

    @staticmethod
    def batched(fn: Callable[[torch.Tensor], torch.Tensor], x: torch.Tensor, batch_size: int | None) -> torch.Tensor:
        """``fn`` over batches of at most ``batch_size`` rows of ``x`` (all at once for ``None``),
        concatenated."""
        if batch_size is None or x.shape[0] <= batch_size:
            return fn(x)
        return torch.cat([fn(x[i : i + batch_size]) for i in range(0, x.shape[0], batch_size)])

    def extra_repr(self) -> str:
        return "" if isinstance(self.module, nn.Module) else f"module={self.module!r}"


def check_autoencoder(model: Any) -> None:
    """Raise a clear ``TypeError`` unless ``model`` has callable ``encode`` and ``decode``."""
    if isinstance(model, AutoencoderAdapter):
        return
    missing = [m for m in ("encode", "decode") if not callable(getattr(model, m, None))]
    if missing == ["encode"] and callable(getattr(model, "encode_dist", None)):
        return  # a VAE with encode_dist only: its mean is the encoding
    if missing:
        raise TypeError(
            f"{type(model).__name__} is not an autoencoder: it has no callable {' or '.join(missing)}(). "
            "Any object with encode(x) -> z and decode(z) -> x works."
        )


class AutoencoderAdapter(ModelAdapter):
    """An autoencoder (anything with ``encode(x)`` — or only ``encode_dist(x) -> (mu, logvar)`` —
    and ``decode(z)``; ``encode_dist`` and ``classify`` pass through when the model has them).

    ``encode`` returns the posterior mean (a tuple's first item or a distribution's mean unless
    ``encode_output`` says otherwise); ``decode`` the decoder's output (``decode_output`` selects
    one when it returns a tuple or dict). Both return tensors on the model's device in its dtype;
    :meth:`encode_mean` / :meth:`decode_mean` return float32 CPU tensors without gradients.
    """

    def __init__(self, model: Any, *, encode_output: Output = None, decode_output: Output = None,
                 check: bool = True) -> None:
        check_autoencoder(model)
        super().__init__(model, check=check)
        self.encode_output = encode_output
        self.decode_output = decode_output

    def _hint(self, which: str) -> str:
        return f"invwidgets.models.as_autoencoder(model, {which}_output=...)"

    def encode(self, x: torch.Tensor) -> torch.Tensor:
        """The posterior mean of ``x`` (N×d expected), on the model's device (``encode_dist``'s
        mean for a model without ``encode``)."""
        fn = getattr(self.module, "encode", None)
        if not callable(fn):
            return self._encode_dist(x)[0]
        return self.call(fn, x, what=f"{self.name}.encode(x)", verb="encode",
                         hint=self._hint("encode"), output=self.encode_output, first_of_tuple=True)

    def decode(self, z: torch.Tensor, check: bool | None = None) -> torch.Tensor:
        """The decoder's output for latents ``z``, on the model's device (``check=False`` skips
        the finiteness check, e.g. inside ``torch.func`` transforms)."""
        return self.call(self.module.decode, z, what=f"{self.name}.decode(z)", verb="decode",
                         hint=self._hint("decode"), output=self.decode_output, check=check)

    @property
    def has_encode_dist(self) -> bool:
        """Whether the model has ``encode_dist(x) -> (mu, logvar)`` (a VAE)."""
        return callable(getattr(self.module, "encode_dist", None))

    @property
    def encode_dist(self) -> Callable[[torch.Tensor], tuple[torch.Tensor, torch.Tensor]]:
        """``encode_dist(x) -> (mu, logvar)`` with inputs moved and cast (only when the model has
        it: ``hasattr(adapter, "encode_dist")`` says whether it does)."""
        if not self.has_encode_dist:
            raise AttributeError(f"{self.name} has no encode_dist")
        return self._encode_dist

    def _encode_dist(self, x: torch.Tensor) -> tuple[torch.Tensor, torch.Tensor]:
        what = f"{self.name}.encode_dist(x)"
        try:
            out = self.module.encode_dist(self.prepare(x))
        except Exception as exc:
            raise RuntimeError(f"encode_dist failed in {what} on input of shape {tuple(x.shape)}: "
                               f"{type(exc).__name__}: {exc}") from exc
        if not isinstance(out, (tuple, list)) or len(out) != 2 or not all(isinstance(t, torch.Tensor) for t in out):
            raise TypeError(f"{what} must return (mu, logvar), two tensors; got {_describe(out)}")
        mu, logvar = out
        if self.check:
            check_finite(mu, f"the mean from {what}")
            check_finite(logvar, f"the log-variance from {what}")
        return mu, logvar

    @property
    def classify(self) -> Callable[[torch.Tensor], torch.Tensor]:
        """A supervised VAE's latent classifier ``classify(z_c) -> logits`` (only when the model
        has one)."""
        if not callable(getattr(self.module, "classify", None)):
            raise AttributeError(f"{self.name} has no classify")
        return self._classify

    def _classify(self, z_c: torch.Tensor) -> torch.Tensor:
        return self.call(self.module.classify, z_c, what=f"{self.name}.classify(z_c)", verb="classify",
                         hint="a classify(z_c) that returns logits")

    def encode_mean(self, x: torch.Tensor, batch_size: int | None = None) -> torch.Tensor:
        """Posterior means of ``x`` as float32 N×d on the CPU (no gradients), in batches.

        Raises:
            ValueError: if the codes are not N×d for N inputs.
        """

        def run(batch: torch.Tensor) -> torch.Tensor:
            z = self.encode(batch)
            if z.ndim != 2 or z.shape[0] != batch.shape[0]:
                raise ValueError(f"{self.name}.encode(x) must return shape (N, d) for N={batch.shape[0]} inputs, "
                                 f"got {tuple(z.shape)}")
            return z.detach().float().cpu()

        with torch.inference_mode():
            return self.batched(run, x, batch_size)

    def decode_mean(self, z: torch.Tensor, batch_size: int | None = None) -> torch.Tensor:
        """Decoder outputs for ``z`` as float32 tensors on the CPU (no gradients), in batches."""
        with torch.inference_mode():
            return self.batched(lambda b: self.decode(b).detach().float().cpu(), z, batch_size)


class ClassifierAdapter(ModelAdapter):
    """A classifier (any module or callable ``x -> logits``); ``output`` chooses the logits when it
    returns a tuple or dict. ``adapter(x)`` returns logits on the model's device in its dtype
    (differentiable, so attribution works through it)."""

    def __init__(self, model: Any, *, output: Output = None, check: bool = True) -> None:
        if not callable(model):
            raise TypeError(f"a classifier must be callable (x -> logits), got {type(model).__name__}")
        super().__init__(model, check=check)
        self.output = output

    def forward(self, x: torch.Tensor) -> torch.Tensor:
        """Logits of ``x``."""
        return self.call(self.module, x, what=f"{self.name}(x)", verb="the forward pass",
                         hint="invwidgets.models.as_classifier(model, output=...)", output=self.output)

    def logits(self, x: torch.Tensor, batch_size: int | None = None) -> torch.Tensor:
        """Logits as float32 N×classes on the CPU (no gradients), in batches.

        Raises:
            ValueError: when the output is not N×classes.
        """

        def run(batch: torch.Tensor) -> torch.Tensor:
            out = self(batch)
            if out.ndim != 2 or out.shape[0] != batch.shape[0]:
                raise ValueError(f"{self.name}(x) must return logits of shape (N, classes) for N={batch.shape[0]}, "
                                 f"got {tuple(out.shape)}")
            return out.detach().float().cpu()

        with torch.inference_mode():
            return self.batched(run, x, batch_size)


def _same(adapter: ModelAdapter, options: dict[str, Any]) -> bool:
    return all(v is None or getattr(adapter, k) is v for k, v in options.items())


def as_autoencoder(model: Any, *, encode_output: Output = None, decode_output: Output = None) -> AutoencoderAdapter:
    """``model`` wrapped as an :class:`AutoencoderAdapter` (``model`` itself if it already is one
    and no new option is given).

    Args:
        model: anything with ``encode(x)`` and ``decode(z)``.
        encode_output, decode_output: which output to use when ``encode``/``decode`` return a
            tuple, a dict or an object (a key, an index or a callable; see :data:`Output`).

    Raises:
        TypeError: if ``model`` lacks ``encode`` or ``decode``.
    """
    options = {"encode_output": encode_output, "decode_output": decode_output}
    if isinstance(model, AutoencoderAdapter):
        if _same(model, options):
            return model
        keep = {k: getattr(model, k) if v is None else v for k, v in options.items()}
        return AutoencoderAdapter(model.module, check=model.check, **keep)
    return AutoencoderAdapter(model, **options)


def as_classifier(model: Any, *, output: Output = None) -> ClassifierAdapter:
    """``model`` wrapped as a :class:`ClassifierAdapter` (``model`` itself if it already is one
    and ``output`` is not given).

    Args:
        model: a module or callable returning logits.
        output: which output holds the logits when it returns a tuple, dict or object (a key,
            an index or a callable; see :data:`Output`).
    """
    if isinstance(model, ClassifierAdapter):
        if output is None or output is model.output:
            return model
        return ClassifierAdapter(model.module, output=output, check=model.check)
    return ClassifierAdapter(model, output=output)


def as_model(model: Any) -> ModelAdapter:
    """``model`` as a :class:`ModelAdapter` (unchanged if it already is one): device, dtype and
    error handling for models that are neither an autoencoder nor a classifier (an encoder, an
    IIN's head)."""
    return model if isinstance(model, ModelAdapter) else ModelAdapter(model)


def unwrap(model: Any) -> Any:
    """The user's model inside an adapter (``model`` itself when it is not one)."""
    return model.module if isinstance(model, ModelAdapter) else model
