"""Training losses: flow matching (velocity) and VP eps-prediction, optionally whitened by the prior.

Flow matching (Lipman et al. 2023, OT path with sigma_min = 0; Liu et al. 2023), rectified-flow path
x_t = (1 - t) x0 + t eps, eps ~ N(0, Sigma):

    L_FM = E_{t, x0, eps} || v_theta(x_t, t) - (eps - x0) ||^2

VP eps-prediction (Ho et al. 2020, eq. 14) on the cosine path x_t = alpha_t x0 + sigma_t eps:

    L_eps = E_{t, x0, eps} || eps_theta(x_t, t) - eps ||^2

With ``whiten=True`` the residual is measured in the metric of the prior,
|| Sigma^{-1/2} (pred - target) ||^2: every Fourier coefficient of the residual is divided
by the prior's standard deviation at its frequency, so a coloured prior does not make the
loss dominated by its loudest (lowest) frequencies. For the white prior both are equal.
The mean is taken over all elements (the per-element squared error).
"""

from __future__ import annotations

from typing import Callable

import torch

from audiospec.diffusion.path import Objective, noisy_sample, training_target
from audiospec.diffusion.priors import NoisePrior
from audiospec.errors import AudiospecError

__all__ = ["Model", "prediction_loss", "diffusion_loss"]

Model = Callable[[torch.Tensor, torch.Tensor], torch.Tensor]
"""A network: (x_t ``[B, C, F, T]``, t ``[B]``) -> prediction ``[B, C, F, T]``."""


def prediction_loss(
    prediction: torch.Tensor, target: torch.Tensor, *, prior: NoisePrior | None = None, whiten: bool = False
) -> torch.Tensor:
    """mean( (Sigma^{-1/2} (prediction - target))^2 ) (whitened) or mean( (prediction - target)^2 ): a scalar.

    ``prediction``, ``target`` ``[B, C, F, T]``; ``prior`` is required when ``whiten`` is set.
    Computed in float32 at least (whitening FFTs are not run in half precision).

    Args:
        prediction: the network output ``[B, C, F, T]``.
        target: the regression target ``[B, C, F, T]``.
        prior: the noise prior whose covariance Sigma whitens the residual.
        whiten: measure the residual in the prior's metric.

    Returns:
        The mean squared (whitened) residual, a scalar tensor ``[]`` (float32 or wider).

    Raises:
        AudiospecError: shapes that differ, or ``whiten`` without a ``prior``.
    """
    if prediction.shape != target.shape:
        raise AudiospecError(f"prediction shape {tuple(prediction.shape)} differs from target shape {tuple(target.shape)}")
    residual = prediction.float() - target.float()  # [B, C, F, T]
    if whiten:
        if prior is None:
            raise AudiospecError("whiten=True needs the noise prior whose covariance whitens the residual")
        residual = prior.whiten(residual)
    return residual.square().mean()


def diffusion_loss(
    model: Model,
    x0: torch.Tensor,
    *,
    t: torch.Tensor,
    eps: torch.Tensor,
    objective: Objective,
    prior: NoisePrior | None = None,
    whiten: bool = False,
) -> torch.Tensor:
    """The training loss for one batch, given the drawn times ``t`` ``[B]`` and noise ``eps`` ``[B, C, F, T]``.

    x_t = alpha_t x0 + sigma_t eps; target = eps - x0 (flow matching) or eps (vp_eps);
    loss = :func:`prediction_loss` (model(x_t, t), target). Randomness is drawn by the caller
    (``t`` from a timestep sampler, ``eps`` from the prior), so this function is deterministic.

    Args:
        model: the network, (x_t ``[B, C, F, T]``, t ``[B]``) -> prediction ``[B, C, F, T]``.
        x0: clean patches ``[B, C, F, T]``.
        t: times ``[B]`` in [0, 1].
        eps: prior noise ``[B, C, F, T]``.
        objective: ``"flow_matching"`` or ``"vp_eps"``.
        prior: the noise prior (needed when ``whiten``).
        whiten: measure the residual in the prior's metric.

    Returns:
        The loss, a scalar tensor ``[]`` with a graph to the model's parameters.

    Raises:
        AudiospecError: ``x0`` and ``eps`` of different shapes, or ``t`` not of shape ``[B]``.
    """
    if x0.shape != eps.shape:
        raise AudiospecError(f"x0 shape {tuple(x0.shape)} and eps shape {tuple(eps.shape)} differ")
    if t.shape != (x0.shape[0],):
        raise AudiospecError(f"t must have shape [B] = [{x0.shape[0]}], got {tuple(t.shape)}")
    x_t = noisy_sample(x0, eps, t, objective=objective)  # [B, C, F, T]
    target = training_target(x0, eps, objective=objective)
    prediction = model(x_t, t.to(x0.dtype))
    return prediction_loss(prediction, target, prior=prior, whiten=whiten)
