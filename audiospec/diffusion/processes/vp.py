"""VP eps-prediction (objective ``"vp_eps"``; :mod:`~audiospec.diffusion.processes.path` for the shared path).

alpha_t = cos(pi t / 2), sigma_t = sin(pi t / 2) (Nichol & Dhariwal 2021). The network predicts eps (Ho et al.
2020, eq. 14); x0_hat = (x_t − sigma_t eps_hat) / alpha_t. Sampling is ancestral (Ho et al. 2020, Alg. 2, in the
continuous-time form of Kingma et al. 2021): from t to s < t, with alpha_{t|s} = alpha_t / alpha_s and
sigma_{t|s}² = sigma_t² − alpha_{t|s}² sigma_s²,

    mu  = alpha_{t|s} sigma_s² / sigma_t² x_t + alpha_s sigma_{t|s}² / sigma_t² x0_hat
    x_s = mu + sqrt(sigma_{t|s}² sigma_s² / sigma_t²) z,   z ~ prior (coloured like eps)

alpha_1 = 0, so its default grid starts at :data:`VP_T_MAX` < 1.
"""

from __future__ import annotations

import math
from dataclasses import dataclass
from typing import ClassVar

import torch

from audiospec.diffusion.priors import NoisePrior
from audiospec.diffusion.processes.base import Model, ProcessEntry, register
from audiospec.diffusion.processes.path import DiffusionPath, _coefficients, _same_shape, _t_batch
from audiospec.diffusion.solver import check_time_grid, uniform_time_grid
from audiospec.errors import AudiospecError
from audiospec.functional.schedules import Schedule, process_coefficients

__all__ = ["VPEps", "VP_T_MAX"]

VP_T_MAX = 0.999
"""Default first time of the ancestral VP grid (alpha_t = 0.0016 there; alpha_1 = 0)."""


@dataclass(frozen=True)
class VPEps(DiffusionPath):
    """eps-prediction on the VP cosine path, ancestral sampling (module doc).

    Attributes:
        prior: the noise prior (also of the ancestral sampler's fresh noise).
        clip_x0: clamp x0_hat to [−clip_x0, clip_x0] while sampling (positive), or None.
        whiten: measure the loss in the prior's metric.

    Raises:
        AudiospecError: a non-positive ``clip_x0``.
    """

    prior: NoisePrior
    clip_x0: float | None = None
    whiten: bool = False
    name: ClassVar[str] = "vp_eps"
    schedule: ClassVar[Schedule] = "vp_cosine"
    nfe_per_step: ClassVar[int] = 1

    def __post_init__(self) -> None:
        if self.clip_x0 is not None and not self.clip_x0 > 0:
            raise AudiospecError(f"clip_x0 must be positive or None, got {self.clip_x0!r}")

    def target(self, x0: torch.Tensor, eps: torch.Tensor, t: torch.Tensor | float | None = None) -> torch.Tensor:
        """The noise eps itself.

        Args:
            x0: clean examples ``[B, ...]``.
            eps: prior noise ``[B, ...]``.
            t: times ``[B]``, unused.

        Returns:
            ``eps`` ``[B, ...]``.

        Raises:
            AudiospecError: shapes that differ.
        """
        _same_shape(x0, eps, ("x0", "eps"))
        return eps

    def x0_from(self, output: torch.Tensor, x_t: torch.Tensor, t: torch.Tensor | float) -> torch.Tensor:
        """x0_hat = (x_t − sigma_t eps_hat) / alpha_t, undefined at t = 1 (alpha_1 = 0).

        Args:
            output: the network's eps_hat ``[B, ...]``.
            x_t: the noisy input ``[B, ...]``.
            t: times in [0, 1], a float or ``[B]``.

        Returns:
            x0_hat ``[B, ...]``.

        Raises:
            AudiospecError: shapes that differ or a bad ``t``.
        """
        _same_shape(output, x_t, ("model output", "x_t"))
        alpha_t, sigma_t = _coefficients(t, x_t, self.schedule)
        return (x_t - sigma_t * output) / alpha_t

    def eps_from(self, output: torch.Tensor, x_t: torch.Tensor, t: torch.Tensor | float) -> torch.Tensor:
        """eps_hat is the network's output.

        Args:
            output: the network's eps_hat ``[B, ...]``.
            x_t: the noisy input ``[B, ...]``.
            t: times in [0, 1], a float or ``[B]``.

        Returns:
            ``output`` ``[B, ...]``.

        Raises:
            AudiospecError: shapes that differ.
        """
        _same_shape(output, x_t, ("model output", "x_t"))
        return output

    def time_grid(self, steps: int) -> torch.Tensor:
        """``steps`` uniform steps from :data:`VP_T_MAX` to 0.

        Args:
            steps: a positive integer.

        Returns:
            The grid ``[steps + 1]``.
        """
        return uniform_time_grid(steps, t_max=VP_T_MAX)

    def check_grid(self, times: torch.Tensor) -> torch.Tensor:
        """A grid that starts below t = 1 (alpha_1 = 0 makes x0_hat undefined).

        Args:
            times: the grid ``[N + 1]``.

        Returns:
            The checked grid ``[N + 1]``.

        Raises:
            AudiospecError: a grid starting at t = 1.
        """
        times = check_time_grid(times)
        if float(times[0]) >= 1.0:
            raise AudiospecError(f"the ancestral VP grid must start below t = 1 (alpha_1 = 0), e.g. at {VP_T_MAX}; "
                                 f"got {float(times[0])}")
        return times

    def step(self, model: Model, state: torch.Tensor, times: torch.Tensor, i: int, *,
             generator: torch.Generator | None = None) -> tuple[torch.Tensor, torch.Tensor]:
        """One ancestral step (module doc); the last (to s = 0) returns x0_hat itself.

        Args:
            model: the eps-network ``model(x [B, ...], t [B])``.
            state: x_t ``[B, C, M, T]``.
            times: the grid ``[N + 1]``.
            i: the step, 0 .. N − 1.
            generator: randomness of the fresh noise z.

        Returns:
            (x_s, x0_hat), each ``[B, C, M, T]``.
        """
        alphas, sigmas = process_coefficients(times, process=self.schedule)  # [N + 1] float64
        t = float(times[i])
        alpha_t, sigma_t, alpha_s, sigma_s = (float(alphas[i]), float(sigmas[i]), float(alphas[i + 1]),
                                              float(sigmas[i + 1]))
        eps_hat = model(state, _t_batch(t, state))
        x0_hat = self.x0_from(eps_hat, state, t)
        if self.clip_x0 is not None:
            x0_hat = x0_hat.clamp(-self.clip_x0, self.clip_x0)
        alpha_ts = alpha_t / alpha_s  # alpha_{t|s}
        var_ts = sigma_t**2 - alpha_ts**2 * sigma_s**2  # sigma_{t|s}^2
        mean = (alpha_ts * sigma_s**2 / sigma_t**2) * state + (alpha_s * var_ts / sigma_t**2) * x0_hat
        var = var_ts * sigma_s**2 / sigma_t**2  # posterior variance of q(x_s | x_t, x0)
        if var > 0:
            z = self.prior.sample(state.shape, generator=generator, device=state.device, dtype=state.dtype)
            return mean + math.sqrt(var) * z, x0_hat
        return mean, x0_hat


register(ProcessEntry(
    name=VPEps.name, label="VP eps-prediction", samplers=("ancestral",),
    build=lambda s: VPEps(prior=s.prior, clip_x0=s.clip_x0, whiten=s.whiten)))
