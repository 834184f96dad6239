"""Read any layer of any ``nn.Module`` by its module path, through forward hooks.

A layer is named by its module path as ``model.named_modules()`` spells it (``"features.1"``,
``"fc_relu"``). Two conveniences: ``"input"`` means the model's input itself (identity), and a
model with a ``probe_layers`` dict (short name → module path, like
:class:`~invwidgets.models.SmallCNN`) may be addressed by those short names (``"conv1"``).
"""

from __future__ import annotations

from collections.abc import Sequence

import torch
from torch import nn

from ..models.adapter import ModelAdapter, unwrap

__all__ = ["INPUT", "list_layers", "resolve_layer", "layer_outputs", "layer_output", "layer_shapes"]

#: The pseudo-layer name of the model's input.
INPUT = "input"


def list_layers(model: nn.Module, leaves_only: bool = True) -> list[str]:
    """Module paths of ``model``'s layers in definition order.

    Args:
        model: any ``nn.Module``.
        leaves_only: only modules without children (convs, activations, linears); otherwise every
            named submodule (containers included).
    """
    model = unwrap(model)
    if not isinstance(model, nn.Module):
        raise TypeError(f"model must be an nn.Module, got {type(model).__name__}")
    return [name for name, m in model.named_modules()
            if name and (not leaves_only or not any(True for _ in m.children()))]


def resolve_layer(model: nn.Module, layer: str) -> str:
    """The module path of ``layer`` (a module path, a ``probe_layers`` short name, or ``"input"``).

    Raises:
        KeyError: for a name that is neither, listing the model's layers.
    """
    if not isinstance(layer, str):
        raise TypeError(f"a layer is named by a string module path, got {type(layer).__name__}")
    if layer == INPUT:
        return INPUT
    model = unwrap(model)
    probes = getattr(model, "probe_layers", None)
    if isinstance(probes, dict) and layer in probes:
        return str(probes[layer])
    names = dict(model.named_modules())
    if layer not in names or layer == "":
        raise KeyError(f"{type(model).__name__} has no layer {layer!r}; layers: {list_layers(model)}"
                       + (f"; short names: {sorted(probes)}" if isinstance(probes, dict) else ""))
    return layer


def _as_tensor_output(out: object, layer: str) -> torch.Tensor:
    if isinstance(out, (tuple, list)) and out and isinstance(out[0], torch.Tensor):
        out = out[0]
    if not isinstance(out, torch.Tensor):
        raise TypeError(f"layer {layer!r} returned {type(out).__name__}, expected a tensor")
    return out


def layer_outputs(model: nn.Module, layers: Sequence[str], x: torch.Tensor, detach: bool = True) -> dict[str, torch.Tensor]:
    """Outputs of ``layers`` for the batch ``x`` from one forward pass of ``model``.

    The forward pass stops being useful after the last hooked layer but runs to the end (the model
    is a black box). A tuple output keeps its first tensor.

    Args:
        model: any ``nn.Module`` (not put in eval mode here; callers do that), or an adapter of
            one (:func:`~invwidgets.models.as_classifier`: ``x`` is then moved and cast to the
            model's device and dtype; layers keep the module's own names).
        layers: names (see :func:`resolve_layer`); the dict is keyed by these names as given.
        x: the input batch.
        detach: detach the outputs from the graph.

    Raises:
        KeyError: for an unknown layer.
        RuntimeError: if a hooked layer never ran during the forward pass, or the model raised
            (the model's exception is chained).
        ValueError: if a layer produced NaN or infinite values.
    """
    if isinstance(model, ModelAdapter):  # names are the user's module paths; inputs cast to its dtype
        x = model.prepare(x)
        model = model.module
    paths = {name: resolve_layer(model, name) for name in layers}
    captured: dict[str, torch.Tensor] = {}
    handles = []
    modules = dict(model.named_modules())
    for name, path in paths.items():
        if path == INPUT:
            captured[name] = x.detach() if detach else x
            continue

        def hook(_m: nn.Module, _inp: object, out: object, name: str = name) -> None:
            t = _as_tensor_output(out, name)
            captured[name] = t.detach() if detach else t

        handles.append(modules[path].register_forward_hook(hook))
    try:
        with torch.set_grad_enabled(not detach and torch.is_grad_enabled()):
            model(x)
    except Exception as exc:
        raise RuntimeError(f"{type(model).__name__} raised while computing layers {list(layers)}: {exc}") from exc
    finally:
        for hd in handles:
            hd.remove()
    missing = [n for n in layers if n not in captured]
    if missing:
        raise RuntimeError(f"layers {missing} did not run during {type(model).__name__}'s forward pass")
    for name, t in captured.items():
        if t.is_floating_point() and not torch.isfinite(t).all():
            raise ValueError(f"layer {name!r} produced NaN or infinite values")
    return {n: captured[n] for n in layers}


def layer_output(model: nn.Module, layer: str, x: torch.Tensor, detach: bool = True) -> torch.Tensor:
    """Output of one ``layer`` for the batch ``x`` (see :func:`layer_outputs`)."""
    return layer_outputs(model, [layer], x, detach=detach)[layer]


@torch.no_grad()
def layer_shapes(model: nn.Module, layers: Sequence[str], x: torch.Tensor) -> dict[str, tuple[int, ...]]:
    """Shape of one item of each layer's output (without the batch dimension), from a forward
    pass on ``x[:1]``."""
    return {k: tuple(v.shape[1:]) for k, v in layer_outputs(model, layers, x[:1]).items()}
