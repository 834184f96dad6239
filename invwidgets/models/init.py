"""Seeded parameter initialisation: PyTorch's default scheme drawn from an explicit generator.

``nn.Module`` constructors draw their initial weights from the global random state. Models that
must be reproducible (the zoo, tests) call :func:`init_parameters` right after construction so the
weights depend only on the generator, not on whatever else used the global state before.
"""

from __future__ import annotations

import math

import torch
from torch import nn

__all__ = ["init_parameters"]

_LAYERS = (nn.Linear, nn.modules.conv._ConvNd)
_DETERMINISTIC = (nn.modules.batchnorm._NormBase, nn.GroupNorm, nn.LayerNorm)


@torch.no_grad()
def init_parameters(module: nn.Module, generator: torch.Generator | int) -> nn.Module:
    """Re-initialise every parameter of ``module`` in place, drawing only from ``generator``.

    Linear, convolution and transposed-convolution layers get PyTorch's default initialisation
    (``kaiming_uniform_(a=√5)`` for weights, ``U(-1/√fan_in, 1/√fan_in)`` for biases), visited in
    ``named_modules`` order; normalisation layers, and modules that set a class attribute
    ``deterministic_reset = True`` (their ``reset_parameters`` draws no random numbers), are reset
    to their deterministic defaults.

    Args:
        module: the module to initialise.
        generator: a CPU ``torch.Generator``, or an integer seed for a fresh one.

    Returns:
        ``module`` (for chaining).

    Raises:
        TypeError: if ``generator`` has the wrong type, or a submodule with its own parameters is
            of a kind this function does not know how to initialise.
    """
    if isinstance(generator, int) and not isinstance(generator, bool):
        generator = torch.Generator().manual_seed(generator)
    if not isinstance(generator, torch.Generator):
        raise TypeError(f"generator must be a torch.Generator or an int seed, got {type(generator).__name__}")
    for name, sub in module.named_modules():
        own = list(sub.parameters(recurse=False))
        if not own:
            continue
        if isinstance(sub, _LAYERS):
            weight = torch.empty(sub.weight.shape, dtype=sub.weight.dtype)
            nn.init.kaiming_uniform_(weight, a=math.sqrt(5), generator=generator)
            sub.weight.copy_(weight)
            if sub.bias is not None:
                fan_in, _ = nn.init._calculate_fan_in_and_fan_out(sub.weight)
                bound = 1 / math.sqrt(fan_in) if fan_in > 0 else 0.0
                bias = torch.empty(sub.bias.shape, dtype=sub.bias.dtype)
                nn.init.uniform_(bias, -bound, bound, generator=generator)
                sub.bias.copy_(bias)
        elif isinstance(sub, _DETERMINISTIC) or getattr(sub, "deterministic_reset", False):
            # Layers whose reset draws no random numbers (normalisation; ActNorm, which a
            # module marks with `deterministic_reset = True`).
            sub.reset_parameters()
        else:
            raise TypeError(f"init_parameters does not know how to initialise {name or 'the module'} ({type(sub).__name__})")
    return module
