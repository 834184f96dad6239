"""init_parameters: weights depend only on the generator, for every layer kind we ship."""

from __future__ import annotations

import pytest
import torch
from torch import nn

from invwidgets.models import ConvAutoencoder, FactorIIN, init_parameters


def _state(m: nn.Module) -> list[torch.Tensor]:
    return [t.clone() for t in m.state_dict().values()]


@pytest.mark.parametrize("build", [lambda: ConvAutoencoder(latent_dim=4), lambda: FactorIIN(8)])
def test_same_seed_same_weights_whatever_the_global_state(build):
    torch.manual_seed(1)
    a = init_parameters(build(), 0)
    torch.manual_seed(2)
    b = init_parameters(build(), 0)
    c = init_parameters(build(), 1)
    assert all(torch.equal(x, y) for x, y in zip(_state(a), _state(b)))
    assert not all(torch.equal(x, y) for x, y in zip(_state(a), _state(c)))


def test_unknown_layer_with_parameters_is_refused():
    class Odd(nn.Module):
        def __init__(self):
            super().__init__()
            self.w = nn.Parameter(torch.zeros(3))

    with pytest.raises(TypeError, match="does not know how to initialise"):
        init_parameters(Odd(), 0)
