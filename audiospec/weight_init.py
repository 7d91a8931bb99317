"""Seeded weight initialisation shared by every network in audiospec."""

from __future__ import annotations

import math

import torch
from torch import nn

__all__ = ["init_weights"]


@torch.no_grad()
def init_weights(model: nn.Module, *, generator: torch.Generator | None = None) -> nn.Module:
    """(Re)initialise every Conv2d / Linear / GroupNorm of ``model`` from ``generator`` (in module order).

    Same distributions as PyTorch's defaults: weights kaiming-uniform with a = sqrt(5),
    i.e. U(-1/sqrt(fan_in), 1/sqrt(fan_in)) for weights and biases; GroupNorm scale 1, shift 0.
    Drawing from an explicit generator makes a network's initial weights depend on its seed only.
    """
    for module in model.modules():
        if isinstance(module, (nn.Conv2d, nn.Linear)):
            nn.init.kaiming_uniform_(module.weight, a=math.sqrt(5), generator=generator)
            if module.bias is not None:
                bound = 1.0 / math.sqrt(module.weight[0].numel())  # 1 / sqrt(fan_in)
                nn.init.uniform_(module.bias, -bound, bound, generator=generator)
        elif isinstance(module, nn.GroupNorm):
            nn.init.ones_(module.weight)
            nn.init.zeros_(module.bias)
    return model
