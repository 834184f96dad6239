"""SmallCNN's activation option: ELU everywhere, the same module paths, the ReLU config unchanged."""

from __future__ import annotations

import pytest
import torch
from torch import nn

from invwidgets.methods.factors import SequentialSplit
from invwidgets.models import SmallCNN, init_parameters


def test_elu_replaces_every_relu_and_keeps_the_paths():
    relu, elu = SmallCNN(image_size=28), SmallCNN(image_size=28, activation="elu")
    assert [n for n, _ in relu.named_modules()] == [n for n, _ in elu.named_modules()]
    assert not any(isinstance(m, nn.ReLU) for m in elu.modules())
    assert sum(isinstance(m, nn.ELU) for m in elu.modules()) == 3
    assert "activation" not in relu.config and elu.config["activation"] == "elu"
    assert SmallCNN(**elu.config).config == elu.config


def test_elu_penultimate_units_never_vanish_and_the_split_holds():
    model = init_parameters(SmallCNN(in_channels=3, image_size=28, hidden=16, activation="elu"), torch.Generator().manual_seed(0))
    x = torch.rand(8, 3, 28, 28, generator=torch.Generator().manual_seed(1))
    split = SequentialSplit(model, "fc", x[:2])
    z = split.encode(x)
    assert torch.allclose(split.head(z), model(x), atol=1e-6)
    # the head still responds to a unit pushed far below zero (ReLU would cut it off)
    z2 = z.clone()
    z2[:, 0] = -5.0
    z3 = z.clone()
    z3[:, 0] = -6.0
    assert not torch.equal(split.head(z2), split.head(z3))


def test_unknown_activation_is_refused():
    with pytest.raises(ValueError, match="activation must be one of"):
        SmallCNN(activation="tanh")


def test_normalize_divides_by_the_maximum_and_is_the_first_layer():
    model = init_parameters(SmallCNN(in_channels=3, image_size=28, activation="elu", normalize=True), torch.Generator().manual_seed(0))
    x = torch.rand(4, 3, 28, 28, generator=torch.Generator().manual_seed(2))
    assert [n for n, _ in model.named_children()][0] == "norm" and model.config["normalize"] is True
    assert torch.allclose(model(x), model(0.25 * x), atol=1e-5)  # a darker colour, the same logits
    split = SequentialSplit(model, "fc", x[:2])
    assert torch.allclose(split.head(split.encode(x)), model(x), atol=1e-6)
    assert "normalize" not in SmallCNN().config
