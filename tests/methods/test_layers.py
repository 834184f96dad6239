"""Layer access by module path through forward hooks."""

from __future__ import annotations

import pytest
import torch
from torch import nn

from invwidgets.methods.layers import layer_output, layer_outputs, layer_shapes, list_layers, resolve_layer
from invwidgets.models import SmallCNN, init_parameters


class Tiny(nn.Module):
    def __init__(self) -> None:
        super().__init__()
        self.body = nn.Sequential(nn.Linear(3, 4), nn.Tanh())
        self.head = nn.Linear(4, 2)
        self.unused = nn.Linear(2, 2)

    def forward(self, x):
        return self.head(self.body(x))


def test_list_and_read_layers_of_a_user_model():
    m = Tiny()
    assert list_layers(m) == ["body.0", "body.1", "head", "unused"]
    assert "body" in list_layers(m, leaves_only=False)
    x = torch.randn(5, 3)
    out = layer_outputs(m, ["body.1", "head", "input"], x)
    assert torch.allclose(out["body.1"], torch.tanh(m.body[0](x)))
    assert torch.allclose(out["head"], m(x))
    assert torch.equal(out["input"], x)
    assert not out["head"].requires_grad
    assert layer_shapes(m, ["body.0"], x) == {"body.0": (4,)}
    # hooks are removed afterwards
    assert all(not mod._forward_hooks for mod in m.modules())


def test_probe_names_and_module_paths_agree():
    m = init_parameters(SmallCNN(), 0).eval()
    x = torch.rand(2, 1, 8, 8)
    assert resolve_layer(m, "fc") == "fc_relu"
    a = layer_output(m, "conv2", x)
    b = layer_output(m, "features.3", x)
    assert torch.equal(a, b) and a.shape == (2, 32, 4, 4)
    assert torch.allclose(layer_output(m, "logits", x), m(x))


def test_errors_are_clear():
    m = Tiny()
    x = torch.randn(2, 3)
    with pytest.raises(KeyError, match="no layer 'nope'"):
        layer_output(m, "nope", x)
    with pytest.raises(RuntimeError, match="did not run"):
        layer_output(m, "unused", x)
    with pytest.raises(RuntimeError, match="raised"):
        layer_output(m, "head", torch.randn(2, 7))
    with pytest.raises(ValueError, match="NaN"):
        layer_output(m, "head", torch.full((2, 3), float("nan")))
    with pytest.raises(TypeError):
        list_layers("not a model")  # type: ignore[arg-type]
