"""Rectified flow with any prior (objective ``"flow_matching"``; :mod:`~audiospec.diffusion.processes.path` for the
path it shares with VP eps-prediction).

alpha_t = 1 − t, sigma_t = t (Liu et al. 2023; Lipman et al. 2023, the OT path with sigma_min = 0). The network
predicts the velocity v = dx_t/dt = eps − x0; x0_hat = x_t − t v_hat. Loss: L_FM = E ||v_theta(x_t, t) − (eps −
x0)||². Sampling integrates the probability-flow ODE dx/dt = v on a grid 1 = t_0 > ... > t_N = 0,
h_i = t_{i+1} − t_i < 0:

    Euler:  x_{i+1} = x_i + h_i v(x_i, t_i)                                      (1 evaluation per step)
    Heun:   x~ = x_i + h_i v(x_i, t_i);  x_{i+1} = x_i + h_i / 2 (v(x_i, t_i) + v(x~, t_{i+1}))
            (2 per step; Karras et al. 2022, Alg. 1, also on the last step: the velocity is finite at t = 0)
"""

from __future__ import annotations

from dataclasses import dataclass
from typing import ClassVar, Literal

import torch

from audiospec.diffusion.priors import NoisePrior
from audiospec.diffusion.processes.base import Model, ProcessEntry, register
from audiospec.diffusion.processes.path import DiffusionPath, _coefficients, _same_shape, _t_batch
from audiospec.diffusion.solver import check_time_grid, uniform_time_grid
from audiospec.functional.schedules import Schedule

__all__ = ["RectifiedFlow"]


@dataclass(frozen=True)
class RectifiedFlow(DiffusionPath):
    """Flow matching on the rectified-flow path with any prior, Euler or Heun sampling (module doc).

    Attributes:
        prior: the noise prior.
        method: ``"euler"`` or ``"heun"``.
        whiten: measure the loss in the prior's metric.
    """

    prior: NoisePrior
    method: Literal["euler", "heun"] = "euler"
    whiten: bool = False
    name: ClassVar[str] = "flow_matching"
    schedule: ClassVar[Schedule] = "rectified_flow"

    @property
    def nfe_per_step(self) -> int:
        """1 (Euler) or 2 (Heun) network evaluations per step."""
        return 2 if self.method == "heun" else 1

    def target(self, x0: torch.Tensor, eps: torch.Tensor, t: torch.Tensor | float | None = None) -> torch.Tensor:
        """The velocity v = eps − x0.

        Args:
            x0: clean examples ``[B, ...]``.
            eps: prior noise ``[B, ...]``.
            t: times ``[B]``, unused (the velocity does not depend on t).

        Returns:
            ``[B, ...]``.

        Raises:
            AudiospecError: shapes that differ.
        """
        _same_shape(x0, eps, ("x0", "eps"))
        return eps - x0

    def x0_from(self, output: torch.Tensor, x_t: torch.Tensor, t: torch.Tensor | float) -> torch.Tensor:
        """x0_hat = x_t − t v_hat.

        Args:
            output: the network's velocity ``[B, ...]``.
            x_t: the noisy input ``[B, ...]``.
            t: times in [0, 1], a float or ``[B]``.

        Returns:
            x0_hat ``[B, ...]``.

        Raises:
            AudiospecError: shapes that differ or a bad ``t``.
        """
        _same_shape(output, x_t, ("model output", "x_t"))
        _, sigma_t = _coefficients(t, x_t, self.schedule)
        return x_t - sigma_t * output  # sigma_t = t

    def eps_from(self, output: torch.Tensor, x_t: torch.Tensor, t: torch.Tensor | float) -> torch.Tensor:
        """eps_hat = x_t + (1 − t) v_hat.

        Args:
            output: the network's velocity ``[B, ...]``.
            x_t: the noisy input ``[B, ...]``.
            t: times in [0, 1], a float or ``[B]``.

        Returns:
            eps_hat ``[B, ...]``.

        Raises:
            AudiospecError: shapes that differ or a bad ``t``.
        """
        _same_shape(output, x_t, ("model output", "x_t"))
        alpha_t, _ = _coefficients(t, x_t, self.schedule)
        return x_t + alpha_t * output  # alpha_t = 1 - t

    def time_grid(self, steps: int) -> torch.Tensor:
        """``steps`` uniform steps from 1 to 0.

        Args:
            steps: a positive integer.

        Returns:
            The grid ``[steps + 1]``.
        """
        return uniform_time_grid(steps)

    def check_grid(self, times: torch.Tensor) -> torch.Tensor:
        """Any decreasing grid in [0, 1].

        Args:
            times: the grid ``[N + 1]``.

        Returns:
            The checked grid ``[N + 1]``.
        """
        return check_time_grid(times)

    def step(self, model: Model, state: torch.Tensor, times: torch.Tensor, i: int, *,
             generator: torch.Generator | None = None) -> tuple[torch.Tensor, torch.Tensor]:
        """One Euler or Heun step (module doc).

        Args:
            model: the velocity field ``model(x [B, ...], t [B])``.
            state: x_i ``[B, C, M, T]``.
            times: the grid ``[N + 1]``.
            i: the step, 0 .. N − 1.
            generator: unused (deterministic).

        Returns:
            (x_{i+1}, x0_hat_i), each ``[B, C, M, T]``.
        """
        t, s = float(times[i]), float(times[i + 1])
        v = model(state, _t_batch(t, state))  # [B, ...]
        x0_hat = state - t * v
        h = s - t  # h_i = t_{i+1} - t_i < 0
        if self.method == "euler":
            return state + h * v, x0_hat
        x_euler = state + h * v  # predictor
        v_next = model(x_euler, _t_batch(s, state))  # slope at the end of the step
        return state + 0.5 * h * (v + v_next), x0_hat  # trapezoidal corrector


register(ProcessEntry(
    name=RectifiedFlow.name, label="flow matching", samplers=("euler", "heun"),
    build=lambda s: RectifiedFlow(prior=s.prior, method=s.sampler or "euler", whiten=s.whiten)))
