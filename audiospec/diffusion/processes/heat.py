"""Heat dissipation (objective ``"heat"``; IHDM, Rissanen, Heinonen & Solin 2023): blur by the heat equation plus a
little noise (:mod:`~audiospec.diffusion.processes.interpolant` for the interpolant and sampler it shares with the
cepstral autoregression).
"""

from __future__ import annotations

import math
from dataclasses import dataclass
from typing import ClassVar

import torch

from audiospec.diffusion.priors import NoisePrior, WhiteNoise
from audiospec.diffusion.processes.base import ProcessEntry, Settings, register
from audiospec.diffusion.processes.interpolant import FrequencyInterpolant, coefficient_stats, settings_of, white_prior
from audiospec.functional.cepstrum import dct2, idct2

__all__ = ["HeatDissipation"]


@dataclass(frozen=True, eq=False)
class HeatDissipation(FrequencyInterpolant):
    """Blur by the heat equation plus constant noise, x0-prediction (module doc).

    Attributes:
        sigma_min: blur std at s = 0 (bins).
        sigma_max: blur std at s = 1 (bins).
        noise: the noise std.
        eta: the sampler's stochastic share, in [0, 1] (1: IHDM's sampler).
        prior: the noise (white).
        stats: (mean, std) per 2-D DCT coefficient of the training patches (:func:`coefficient_stats`), each
            ``[C, M, T]``: its prior at s = 1; needed to sample, not to train.

    Raises:
        AudiospecError: eta outside [0, 1].
    """

    sigma_min: float = 0.5
    sigma_max: float = 48.0
    noise: float = 0.02
    eta: float = 1.0
    prior: NoisePrior = WhiteNoise()
    stats: tuple[torch.Tensor, torch.Tensor] | None = None
    name: ClassVar[str] = "heat"
    commit_bands: ClassVar[None] = None

    def heat_time(self, s: torch.Tensor) -> torch.Tensor:
        """t_h(s) = sigma_min² ((sigma_max / sigma_min)^{2 s} − 1) / 2.

        Args:
            s: times ``[B]``.

        Returns:
            t_h ``[B]`` float64.
        """
        ratio = math.log(self.sigma_max / self.sigma_min)
        return self.sigma_min**2 * torch.expm1(2.0 * ratio * s.double().cpu()) / 2.0

    @staticmethod
    def eigenvalues(shape: tuple[int, int]) -> torch.Tensor:
        """lambda_{k,l} = pi² (k² / M² + l² / T²).

        Args:
            shape: the patch size (M, T).

        Returns:
            ``[M, T]`` float64.
        """
        M, T = shape
        k = torch.arange(M, dtype=torch.float64)[:, None] / M
        l = torch.arange(T, dtype=torch.float64)[None, :] / T
        return math.pi**2 * (k.square() + l.square())

    def to_coefficients(self, x: torch.Tensor) -> torch.Tensor:
        """The 2-D DCT-II.

        Args:
            x: patches ``[..., M, T]``.

        Returns:
            Coefficients ``[..., M, T]``.
        """
        return dct2(x)

    def from_coefficients(self, c: torch.Tensor) -> torch.Tensor:
        """The inverse 2-D DCT-II.

        Args:
            c: coefficients ``[..., M, T]``.

        Returns:
            Patches ``[..., M, T]``.
        """
        return idct2(c)

    def schedule(self, s: torch.Tensor, shape: tuple[int, int]) -> tuple[torch.Tensor, torch.Tensor]:
        """(alpha, sigma) = (exp(−lambda t_h(s)), noise).

        Args:
            s: times ``[B]``.
            shape: the patch size (M, T).

        Returns:
            alpha ``[B, 1, M, T]`` and sigma ``[B, 1, 1, 1]``, float64.
        """
        alpha = torch.exp(-self.eigenvalues(shape)[None, None] * self.heat_time(s)[:, None, None, None])  # [B,1,M,T]
        return alpha, torch.full((s.shape[0], 1, 1, 1), self.noise, dtype=torch.float64)

    def data_prediction(self, output: torch.Tensor, c: torch.Tensor, s: torch.Tensor) -> torch.Tensor:
        """The network predicts c0.

        Args:
            output: the network output in coefficients ``[B, C, M, T]``.
            c: the state ``[B, C, M, T]``.
            s: times ``[B]``.

        Returns:
            ``output``.
        """
        return output

    def output_for(self, c0_hat: torch.Tensor, c: torch.Tensor, s: torch.Tensor) -> torch.Tensor:
        """The network output whose data prediction is ``c0_hat``: c0_hat itself.

        Args:
            c0_hat: a data prediction ``[B, C, M, T]``.
            c: the state ``[B, C, M, T]``.
            s: times ``[B]``.

        Returns:
            ``c0_hat``.
        """
        return c0_hat

    def target(self, x0: torch.Tensor, eps: torch.Tensor, t: torch.Tensor) -> torch.Tensor:
        """The data's coefficients c0.

        Args:
            x0: clean patches ``[B, C, M, T]``.
            eps: white noise ``[B, C, M, T]``.
            t: the process's times ``[B]`` (unused).

        Returns:
            Coefficients ``[B, C, M, T]``.
        """
        return self.to_coefficients(x0)

    def coefficient_loss(self, output: torch.Tensor, c0: torch.Tensor, c_eps: torch.Tensor,
                         s: torch.Tensor) -> torch.Tensor:
        """Mean squared error of the x0 prediction over all coefficients.

        Args:
            output: the network output in coefficients ``[B, C, M, T]``.
            c0: the data's coefficients ``[B, C, M, T]``.
            c_eps: the noise's coefficients ``[B, C, M, T]`` (unused).
            s: times ``[B]`` (unused).

        Returns:
            The scalar loss ``[]``.
        """
        return (output - c0).square().mean()


def _heat(settings: Settings) -> HeatDissipation:
    config = settings_of(settings)
    stats = coefficient_stats(settings.data) if settings.data is not None else None
    return HeatDissipation(sigma_min=config.sigma_min, sigma_max=config.sigma_max, noise=config.noise,
                           eta=1.0 if settings.eta is None else settings.eta,
                           prior=white_prior(settings, HeatDissipation.name), stats=stats)


register(ProcessEntry(name=HeatDissipation.name, build=_heat, label="heat dissipation", whitening=False,
                      baseline=True))
