"""Exponential moving average (EMA) of model weights (Polyak averaging; Ho et al. 2020 use decay 0.9999).

theta_ema <- beta_k theta_ema + (1 - beta_k) theta, with the warm-up
beta_k = min(beta, (1 + k) / (10 + k)) at optimisation step k (as in TensorFlow's
``ExponentialMovingAverage`` with ``num_updates``), so short runs are not dominated by the
random initial weights.
"""

from __future__ import annotations

import torch
from torch import nn

from audiospec.errors import AudiospecError

__all__ = ["ema_decay_at", "update_ema"]


def ema_decay_at(step: int, *, decay: float) -> float:
    """beta_k = min(decay, (1 + k) / (10 + k)) for optimisation step k >= 0.

    Args:
        step: the optimisation step k, >= 0.
        decay: the asymptotic decay beta, in [0, 1).

    Returns:
        beta_k.

    Raises:
        AudiospecError: a ``decay`` outside [0, 1).
    """
    if not 0.0 <= decay < 1.0:
        raise AudiospecError(f"EMA decay must lie in [0, 1), got {decay}")
    return min(decay, (1.0 + step) / (10.0 + step))


@torch.no_grad()
def update_ema(ema_model: nn.Module, model: nn.Module, *, decay: float) -> None:
    """In place: every parameter of ``ema_model`` moves a fraction (1 - decay) towards ``model``'s; buffers are copied.

    Args:
        ema_model: the averaged copy, built from the same config as ``model``.
        model: the trained network.
        decay: beta_k of this step (see :func:`ema_decay_at`).

    Raises:
        AudiospecError: models with different parameter lists.
    """
    ema_params, params = list(ema_model.parameters()), list(model.parameters())
    if len(ema_params) != len(params):
        raise AudiospecError("the EMA model and the model have different parameter lists; build both from one config")
    for ema_p, p in zip(ema_params, params):
        ema_p.lerp_(p.detach().to(ema_p.dtype), 1.0 - decay)
    for ema_b, b in zip(ema_model.buffers(), model.buffers()):
        ema_b.copy_(b)
