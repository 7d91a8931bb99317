"""The YAML form of a training run's timestep sampler and the one constructor that builds it
(:mod:`audiospec.diffusion.timesteps` for the samplers)."""

from __future__ import annotations

import math
from dataclasses import dataclass

import torch

from audiospec.diffusion.priors import NoisePrior
from audiospec.diffusion.timesteps import (
    FREQUENCY_MAPS,
    TIMESTEP_KINDS,
    FrequencyMap,
    LogitNormalTimesteps,
    ShiftedTimesteps,
    SpectralWeightedTimesteps,
    TimestepKind,
    TimestepSampler,
    UniformTimesteps,
    check_shift,
)
from audiospec.errors import AudiospecError

__all__ = ["TimestepConfig", "make_timestep_sampler"]


@dataclass(frozen=True, kw_only=True)
class TimestepConfig:
    """Training-time sampler settings (YAML ``timesteps:``).

    ``kind``: base density p0 (``"uniform"`` or ``"logit_normal"`` with ``mu``, ``sigma``);
    ``spectral_weighting``: multiply p0 by R(f(t)) estimated from the training patches
    (polynomial ``spectral_degree``); ``shift``: resolution shift s applied last (1 = none;
    see :func:`resolution_shift`).

    Args:
        kind: ``"uniform"`` or ``"logit_normal"``.
        mu: logit-normal mean, finite.
        sigma: logit-normal standard deviation, > 0.
        shift: resolution shift s, > 0 (1 = none).
        spectral_weighting: reweight by R(f(t)) from the training patches.
        spectral_degree: degree of the log-log fit behind R, an integer >= 1.
        frequency_map: how the weighting maps times to frequencies: ``"linear"`` (the notebook's) or
            ``"drowning"`` (the prior's drowning time t*(f), :class:`SpectralWeightedTimesteps`).
        tau: the SNR threshold of the drowning time, > 0.

    Raises:
        AudiospecError: an unknown kind or an invalid number (each message names the YAML key).
    """

    kind: TimestepKind = "uniform"
    mu: float = 0.0
    sigma: float = 1.0
    shift: float = 1.0
    spectral_weighting: bool = False
    spectral_degree: int = 2
    frequency_map: FrequencyMap = "linear"
    tau: float = 1.0

    def __post_init__(self) -> None:
        if self.kind not in TIMESTEP_KINDS:
            raise AudiospecError(f"unknown timestep sampler {self.kind!r}; choose one of {TIMESTEP_KINDS}")
        if not (isinstance(self.sigma, (int, float)) and self.sigma > 0 and math.isfinite(self.sigma)):
            raise AudiospecError(f"timesteps.sigma must be a positive number, got {self.sigma!r}")
        if not (isinstance(self.mu, (int, float)) and math.isfinite(self.mu)):
            raise AudiospecError(f"timesteps.mu must be a finite number, got {self.mu!r}")
        check_shift(self.shift)
        if not isinstance(self.spectral_weighting, bool):
            raise AudiospecError(f"timesteps.spectral_weighting must be true or false, got {self.spectral_weighting!r}")
        if not isinstance(self.spectral_degree, int) or self.spectral_degree < 1:
            raise AudiospecError(f"timesteps.spectral_degree must be an integer >= 1, got {self.spectral_degree!r}")
        if self.frequency_map not in FREQUENCY_MAPS:
            raise AudiospecError(f"unknown timesteps.frequency_map {self.frequency_map!r}; choose one of "
                                 f"{FREQUENCY_MAPS}")
        if not (isinstance(self.tau, (int, float)) and self.tau > 0 and math.isfinite(self.tau)):
            raise AudiospecError(f"timesteps.tau must be a positive number, got {self.tau!r}")


def make_timestep_sampler(config: TimestepConfig, *, patches: torch.Tensor | None = None,
                          prior: NoisePrior | None = None) -> TimestepSampler:
    """The sampler a :class:`TimestepConfig` describes; spectral weighting needs ``patches`` ``[N, C, F, T]``.

    Args:
        config: the settings.
        patches: training patches ``[N, C, F, T]``, needed by ``spectral_weighting`` only.
        prior: the run's noise prior, needed by ``frequency_map: drowning`` only.

    Returns:
        p0, optionally spectrally weighted, then optionally shifted.

    Raises:
        AudiospecError: ``spectral_weighting`` without ``patches``, or the drowning map without ``prior``.
    """
    sampler: TimestepSampler
    if config.kind == "uniform":
        sampler = UniformTimesteps()
    else:
        sampler = LogitNormalTimesteps(mu=float(config.mu), sigma=float(config.sigma))
    if config.spectral_weighting:
        if patches is None:
            raise AudiospecError("spectral_weighting estimates R(f) from data: pass patches=[N, C, F, T]")
        if config.frequency_map == "drowning" and prior is None:
            raise AudiospecError("frequency_map: drowning maps times to frequencies with the noise prior: pass prior=")
        sampler = SpectralWeightedTimesteps.from_data(
            patches, base=sampler, degree=config.spectral_degree, tau=config.tau,
            prior=prior if config.frequency_map == "drowning" else None)
    if config.shift != 1.0:
        sampler = ShiftedTimesteps(base=sampler, shift=float(config.shift))
    return sampler
