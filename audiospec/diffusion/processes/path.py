"""The diffusion path both diffusion processes share: x_t = alpha_t x0 + sigma_t eps, the loss, the state.

The processes themselves: :mod:`~audiospec.diffusion.processes.flow` and :mod:`~audiospec.diffusion.processes.vp`.

Both corrupt x0 as x_t = alpha_t x0 + sigma_t eps, eps ~ N(0, Sigma) from a noise prior
(:mod:`audiospec.diffusion.priors`), with t from 0 (data) to 1 (pure noise) and the coefficients of
:func:`audiospec.functional.schedules.process_coefficients` (float64):

- :class:`RectifiedFlow` (objective ``"flow_matching"``): alpha_t = 1 − t, sigma_t = t (Liu et al. 2023; Lipman
  et al. 2023, the OT path with sigma_min = 0). The network predicts the velocity v = dx_t/dt = eps − x0;
  x0_hat = x_t − t v_hat. Loss: L_FM = E ||v_theta(x_t, t) − (eps − x0)||². Sampling integrates the
  probability-flow ODE dx/dt = v on a grid 1 = t_0 > ... > t_N = 0, h_i = t_{i+1} − t_i < 0:

      Euler:  x_{i+1} = x_i + h_i v(x_i, t_i)                                      (1 evaluation per step)
      Heun:   x~ = x_i + h_i v(x_i, t_i);  x_{i+1} = x_i + h_i / 2 (v(x_i, t_i) + v(x~, t_{i+1}))
              (2 per step; Karras et al. 2022, Alg. 1, also on the last step: the velocity is finite at t = 0)

- :class:`VPEps` (objective ``"vp_eps"``): alpha_t = cos(pi t / 2), sigma_t = sin(pi t / 2) (Nichol & Dhariwal
  2021). The network predicts eps (Ho et al. 2020, eq. 14); x0_hat = (x_t − sigma_t eps_hat) / alpha_t. Sampling is
  ancestral (Ho et al. 2020, Alg. 2, in the continuous-time form of Kingma et al. 2021): from t to s < t, with
  alpha_{t|s} = alpha_t / alpha_s and sigma_{t|s}² = sigma_t² − alpha_{t|s}² sigma_s²,

      mu  = alpha_{t|s} sigma_s² / sigma_t² x_t + alpha_s sigma_{t|s}² / sigma_t² x0_hat
      x_s = mu + sqrt(sigma_{t|s}² sigma_s² / sigma_t²) z,   z ~ prior (coloured like eps)

  alpha_1 = 0, so its default grid starts at :data:`VP_T_MAX` < 1.

With ``whiten`` the residual is measured in the prior's metric, ||Sigma^{-1/2}(pred − target)||²
(:func:`~audiospec.diffusion.losses.prediction_loss`).
"""

from __future__ import annotations

from dataclasses import dataclass
from typing import ClassVar

import torch

from audiospec.diffusion.losses import prediction_loss
from audiospec.diffusion.processes.base import Model
from audiospec.errors import AudiospecError
from audiospec.functional._shape import append_dims
from audiospec.functional.noise import add_noise_at_time
from audiospec.functional.schedules import Schedule, process_coefficients

__all__ = ["DiffusionPath"]


def _time_like(t: torch.Tensor | float, x: torch.Tensor) -> torch.Tensor:
    """``t`` as a ``[B]`` float64 tensor for a batch ``x`` ``[B, ...]`` (a scalar is broadcast)."""
    t = torch.as_tensor(t, dtype=torch.float64, device=x.device)
    if t.ndim == 0:
        t = t.expand(x.shape[0])
    if t.shape != (x.shape[0],):
        raise AudiospecError(f"t must be a scalar or have shape [B] = [{x.shape[0]}], got {tuple(t.shape)}")
    return t


def _coefficients(t: torch.Tensor | float, x: torch.Tensor, schedule: Schedule) -> tuple[torch.Tensor, torch.Tensor]:
    """(alpha_t, sigma_t) as ``[B, 1, ..., 1]`` in x's dtype and device."""
    alpha_t, sigma_t = process_coefficients(_time_like(t, x).cpu(), process=schedule)  # [B] float64
    alpha_t = append_dims(alpha_t, x.ndim).to(device=x.device, dtype=x.dtype)  # [B] -> [B, 1, ...]
    sigma_t = append_dims(sigma_t, x.ndim).to(device=x.device, dtype=x.dtype)
    return alpha_t, sigma_t


def _same_shape(a: torch.Tensor, b: torch.Tensor, what: str) -> None:
    if a.shape != b.shape:
        raise AudiospecError(f"{what[0]} shape {tuple(a.shape)} and {what[1]} shape {tuple(b.shape)} differ")


def _t_batch(t: float, x: torch.Tensor) -> torch.Tensor:
    return torch.full((x.shape[0],), t, dtype=x.dtype, device=x.device)  # [B]


@dataclass(frozen=True)
class DiffusionPath:
    """What the two diffusion processes share: the path on ``schedule``, the loss, the state (the patches)."""

    schedule: ClassVar[Schedule]
    commit_bands: ClassVar[None] = None  # it generates every band at once

    def corrupt(self, x0: torch.Tensor, eps: torch.Tensor, t: torch.Tensor | float) -> torch.Tensor:
        """x_t = alpha_t x0 + sigma_t eps.

        Args:
            x0: clean examples ``[B, C, M, T]`` (any ``[B, ...]``).
            eps: prior noise ``[B, ...]``, ``x0``'s shape.
            t: times in [0, 1], a float or ``[B]``.

        Returns:
            x_t ``[B, ...]`` in ``x0``'s dtype.

        Raises:
            AudiospecError: shapes that differ, ``t`` neither scalar nor ``[B]``, or times outside [0, 1].
        """
        return add_noise_at_time(x0, eps, t=_time_like(t, x0).cpu(), process=self.schedule)

    def loss(self, model: Model, x0: torch.Tensor, *, t: torch.Tensor, eps: torch.Tensor,
             generator: torch.Generator | None = None) -> torch.Tensor:
        """mean((model(x_t, t) − target)²), whitened by the prior with ``whiten`` (module doc).

        Args:
            model: the network.
            x0: clean patches ``[B, C, M, T]``.
            t: times ``[B]`` in [0, 1].
            eps: prior noise ``[B, C, M, T]``.
            generator: unused (the path needs no other randomness).

        Returns:
            The loss, a scalar tensor ``[]`` with a graph to the model's parameters.

        Raises:
            AudiospecError: ``x0`` and ``eps`` of different shapes, or ``t`` not of shape ``[B]``.
        """
        t = t.to(x0.device)
        _same_shape(x0, eps, ("x0", "eps"))
        if t.shape != (x0.shape[0],):
            raise AudiospecError(f"t must have shape [B] = [{x0.shape[0]}], got {tuple(t.shape)}")
        x_t = self.corrupt(x0, eps, t)  # [B, C, M, T]
        prediction = model(x_t, t.to(x0.dtype))
        return prediction_loss(prediction, self.target(x0, eps, t), prior=self.prior, whiten=self.whiten)

    def initial(self, size: tuple[int, ...], *, generator: torch.Generator | None,
                device: torch.device) -> torch.Tensor:
        """x_1 ~ prior.

        Args:
            size: ``(n, C, M, T)``.
            generator: randomness of the draw.
            device: where the samples are integrated.

        Returns:
            Noise ``[n, C, M, T]`` float32 on ``device``.
        """
        return self.prior.sample(size, generator=generator, device=device, dtype=torch.float32)

    def view(self, state: torch.Tensor) -> torch.Tensor:
        """The state is the patch batch itself.

        Args:
            state: x_t ``[B, C, M, T]``.

        Returns:
            ``state``.
        """
        return state
