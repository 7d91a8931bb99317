"""The regression loss of the diffusion processes (:mod:`audiospec.diffusion.processes.flow`), optionally
whitened by the prior.

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

import torch

from audiospec.diffusion.priors import NoisePrior
from audiospec.errors import AudiospecError

__all__ = ["prediction_loss"]


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
