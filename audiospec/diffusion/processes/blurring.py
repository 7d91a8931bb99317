"""Blurring diffusion (objective ``"blurring"``; Hoogeboom & Salimans 2023): blur and noise together.

In the 2-D DCT basis (the eigenbasis of the heat equation with reflecting boundaries, c = B x) every
coefficient follows the rectified-flow path of the project, damped by a blur that grows with time:

    c_s = (1 − s) d_s c0 + s c_eps,   d_s = (1 − d_min) exp(−lambda tau_B(s)) + d_min,
    tau_B(s) = sigma_B,max² sin²(pi s / 2) / 2,   lambda_{k,l} = pi² (k² / M² + l² / T²)

(Hoogeboom & Salimans 2023, eqs. 9–11 with d_min = 0.001, on the (1 − s, s) schedule of
:class:`~audiospec.diffusion.processes.flow.RectifiedFlow` in place of their cosine one). With
``sigma_blur_max`` = 0, d_s = 1 and the process *is* rectified flow with white noise (known-answer test); the
blur makes fine coefficients lose their signal earlier than white noise alone drowns them, an explicit
coarse-to-fine forward process that still diffuses every coefficient at every time (unlike heat dissipation,
whose noise stays small). At s = 1 the state is pure white noise.

The network sees x_s and predicts u = c_eps − c0 (the flow-matching target; loss: its mean squared error over
all coefficients); its data prediction is c0_hat = (c − s u_hat) / ((1 − s) d_s + s). Sampling: the DDIM-form
step of :class:`~audiospec.diffusion.processes.interpolant.FrequencyInterpolant` (eta = 0: deterministic;
Hoogeboom & Salimans' sampler is its ancestral, eta = 1, form), one network evaluation per step, any grid from 1
to 0. Shapes: x ``[B, C, M, T]``, s ``[B]``.
"""

from __future__ import annotations

import math
from dataclasses import dataclass
from typing import ClassVar

import torch

from audiospec.diffusion.priors import NoisePrior, WhiteNoise
from audiospec.diffusion.processes.base import ProcessEntry, Settings, register
from audiospec.diffusion.processes.heat import HeatDissipation
from audiospec.diffusion.processes.interpolant import FrequencyInterpolant, as_like, settings_of, white_prior
from audiospec.functional.cepstrum import dct2, idct2

__all__ = ["BlurringDiffusion"]


@dataclass(frozen=True, eq=False)
class BlurringDiffusion(FrequencyInterpolant):
    """Blur and noise together on the rectified-flow path, flow-matching target (module doc).

    Attributes:
        sigma_blur_max: the blur std at s = 1 (bins), >= 0 (0: rectified flow).
        d_min: the smallest blur factor.
        eta: the sampler's stochastic share, in [0, 1] (0: deterministic).
        prior: the noise (white).
        stats: unused (its prior is pure noise); kept for the common constructor.

    Raises:
        AudiospecError: eta outside [0, 1].
    """

    sigma_blur_max: float = 20.0
    d_min: float = 0.001
    eta: float = 0.0
    prior: NoisePrior = WhiteNoise()
    stats: tuple[torch.Tensor, torch.Tensor] | None = None
    name: ClassVar[str] = "blurring"
    commit_bands: ClassVar[None] = None

    def blur(self, s: torch.Tensor, shape: tuple[int, int]) -> torch.Tensor:
        """d_s per datum and 2-D DCT coefficient.

        Args:
            s: times ``[B]``.
            shape: the patch size (M, T).

        Returns:
            d ``[B, 1, M, T]`` float64, 1 at s = 0.
        """
        tau = self.sigma_blur_max**2 * torch.sin(math.pi * s.double().cpu() / 2.0).square() / 2.0  # [B]
        decay = torch.exp(-HeatDissipation.eigenvalues(shape)[None, None] * tau[:, None, None, None])
        return decay if self.sigma_blur_max == 0.0 else (1.0 - self.d_min) * decay + self.d_min

    def schedule(self, s: torch.Tensor, shape: tuple[int, int]) -> tuple[torch.Tensor, torch.Tensor]:
        """(alpha, sigma) = ((1 − s) d_s, s).

        Args:
            s: times ``[B]``.
            shape: the patch size (M, T).

        Returns:
            alpha ``[B, 1, M, T]`` and sigma ``[B, 1, 1, 1]``, float64.
        """
        s64 = s.double().cpu()
        return (1.0 - s64)[:, None, None, None] * self.blur(s, shape), s64[:, None, None, None]

    def to_coefficients(self, x: torch.Tensor) -> torch.Tensor:
        """The 2-D DCT-II of patches ``[..., M, T]`` (same shape)."""
        return dct2(x)

    def from_coefficients(self, c: torch.Tensor) -> torch.Tensor:
        """The inverse 2-D DCT-II of coefficients ``[..., M, T]`` (same shape)."""
        return idct2(c)

    def initial(self, size: tuple[int, ...], *, generator: torch.Generator | None,
                device: torch.device) -> torch.Tensor:
        """The coefficients at s = 1, where alpha = 0: dct2 of a white draw from the prior (rectified flow's draw).

        Args:
            size: ``(n, C, M, T)``.
            generator: randomness of the draw.
            device: unused (drawn on the CPU).

        Returns:
            Coefficients ``[n, C, M, T]`` float32 on the CPU.
        """
        return dct2(self.prior.sample(size, generator=generator))

    def _gain(self, c: torch.Tensor, s: torch.Tensor) -> torch.Tensor:
        alpha, sigma = self.schedule(s, tuple(c.shape[-2:]))
        return as_like(alpha + sigma, c)  # (1 − s) d_s + s > 0 for every s in [0, 1]

    def data_prediction(self, output: torch.Tensor, c: torch.Tensor, s: torch.Tensor) -> torch.Tensor:
        """c0_hat = (c − s u_hat) / ((1 − s) d_s + s).

        Args:
            output: the network's u_hat in coefficients ``[B, C, M, T]``.
            c: the state ``[B, C, M, T]``.
            s: times ``[B]``.

        Returns:
            c0_hat ``[B, C, M, T]``.
        """
        sigma = as_like(s.double().cpu()[:, None, None, None], c)
        return (c - sigma * output) / self._gain(c, s)

    def output_for(self, c0_hat: torch.Tensor, c: torch.Tensor, s: torch.Tensor) -> torch.Tensor:
        """The network output whose data prediction is ``c0_hat``: (c − ((1 − s) d_s + s) c0_hat) / s (0 at s = 0).

        Args:
            c0_hat: a data prediction ``[B, C, M, T]``.
            c: the state ``[B, C, M, T]``.
            s: times ``[B]``.

        Returns:
            u ``[B, C, M, T]``.
        """
        sigma = as_like(s.double().cpu()[:, None, None, None], c)
        residual = c - self._gain(c, s) * c0_hat
        return torch.where(sigma > 0, residual / sigma.clamp_min(1e-12), torch.zeros_like(c))

    def coefficient_loss(self, output: torch.Tensor, c0: torch.Tensor, c_eps: torch.Tensor,
                         s: torch.Tensor) -> torch.Tensor:
        """Mean squared error of u over all coefficients.

        Args:
            output: the network output in coefficients ``[B, C, M, T]``.
            c0: the data's coefficients ``[B, C, M, T]``.
            c_eps: the noise's coefficients ``[B, C, M, T]``.
            s: times ``[B]`` (unused).

        Returns:
            The scalar loss ``[]``.
        """
        return (output - (c_eps - c0)).square().mean()


def _blurring(settings: Settings) -> BlurringDiffusion:
    config = settings_of(settings)
    return BlurringDiffusion(sigma_blur_max=config.blur_sigma_max, eta=0.0 if settings.eta is None else settings.eta,
                             prior=white_prior(settings, BlurringDiffusion.name))


register(ProcessEntry(name=BlurringDiffusion.name, build=_blurring, label="blurring diffusion", whitening=False))
