"""Timestep samplers for training: which noise levels t in (0, 1) the loss is evaluated at.

Convention throughout audiospec: t = 0 is data, t = 1 is pure noise (x_t = (1 - t) x0 + t eps).
Every sampler is an object with ``sample(n, *, generator, device) -> [n]`` (float32, values in
[T_EPS, 1 - T_EPS] so that t is never exactly 0 or 1) and ``pdf(t)`` (its density, float64):

- :class:`UniformTimesteps`: t ~ U(0, 1).
- :class:`LogitNormalTimesteps`: t = sigmoid(u), u ~ N(mu, sigma^2) (Esser et al. 2024,
  section 3.1, "logit-normal sampling"):
  pi_ln(t; mu, sigma) = 1 / (sigma sqrt(2 pi)) * 1 / (t (1 - t)) * exp(-(logit(t) - mu)^2 / (2 sigma^2)).
- :class:`ShiftedTimesteps`: the resolution shift of Esser et al. 2024 ("resolution-dependent
  shifting of timestep schedules"), t' = s t / (1 + (s - 1) t) with s = sqrt(m / n) for m
  target and n reference pixels (:func:`resolution_shift`). Sign check in our convention (t = 1 noise, same as Esser et al.):
  (1 - t') / t' = (1 - t) / (s t), so the SNR (1 - t)^2 / t^2 is divided by s^2 and s > 1
  (a larger patch) moves t towards the noise end, which is what a larger field needs: its
  noise power per frequency bin is spread over more bins (timestep notebook, "Deriving SNR
  distribution", whose t is our 1 - t). The shift is log-SNR - 2 log s, i.e.
  logit(t') = logit(t) + log s; for a logit-normal base it is mu -> mu + log s. Inverse:
  t = t' / (s - (s - 1) t') (:func:`unshift_time`).
- :class:`SpectralWeightedTimesteps`: p(t) ∝ p0(t) R(f(t)) (timestep notebook, strategy 2),
  with R(f) = P(f) / P_fit(f) the ratio of the data's RAPSD to its log-log polynomial fit
  P_fit(f) = 10^c f^(b + a log10 f) (:func:`audiospec.functional.fit_loglog_polynomial`), and
  the notebook's linear map from frequency to time, written for t = 1 noise:
  f(t) = f_min + (1 - t) (f_max - f_min) (the notebook's t_nb = (f - f_min) / (f_max - f_min)
  counts from noise, so t = 1 - t_nb): coarse frequencies map to noisy times, where spectral
  autoregression generates them. Or, with ``frequency_map="drowning"``, f(t) is the inverse of
  the prior's own drowning time t*(f), the time at which ring f of the data (its fitted RAPSD
  P_fit) falls to SNR tau against the prior's ring-averaged spectrum S (audiospec's f_max(t):
  :func:`audiospec.functional.autoregression.crossing_time`), so each time is weighted by R at the
  frequency the process is deciding then; a prior with S ≈ P (matched) drowns every ring at about
  one time (spread below :data:`MIN_DROWNING_SPREAD`), there is no order to map, and the weighting
  is p0 exactly. Sampling is by inverse CDF of the density
  on a fine grid.

:class:`~audiospec.diffusion.timestep_config.TimestepConfig` is the YAML form;
:func:`~audiospec.diffusion.timestep_config.make_timestep_sampler` builds the object.
"""

from __future__ import annotations

import math
from dataclasses import dataclass
from typing import Literal, get_args

import torch

from audiospec.diffusion.priors import NoisePrior
from audiospec.diffusion.time_shift import check_shift, resolution_shift, shift_time, unshift_time
from audiospec.errors import AudiospecError
from audiospec.functional.autoregression import crossing_time
from audiospec.functional.powerlaw import fit_loglog_polynomial
from audiospec.functional.rapsd import rapsd, ring_weights
from audiospec.functional.spectra import log_domain_mean

__all__ = [
    "T_EPS",
    "TimestepSampler",
    "UniformTimesteps",
    "LogitNormalTimesteps",
    "ShiftedTimesteps",
    "SpectralWeightedTimesteps",
    "shift_time",
    "unshift_time",
    "resolution_shift",
    "TimestepKind",
    "TIMESTEP_KINDS",
    "FrequencyMap",
    "FREQUENCY_MAPS",
    "MIN_DROWNING_SPREAD",
    "check_shift",
]

T_EPS = 1e-5
"""Sampled times are clamped to [T_EPS, 1 - T_EPS]."""

MIN_DROWNING_SPREAD = 0.1
"""Drowning times of all rings within this span: the process has no spectral order, the drowning map no weighting."""

TimestepKind = Literal["uniform", "logit_normal"]
TIMESTEP_KINDS: tuple[str, ...] = get_args(TimestepKind)
FrequencyMap = Literal["linear", "drowning"]
FREQUENCY_MAPS: tuple[str, ...] = get_args(FrequencyMap)


def _check_n(n: int) -> None:
    if not isinstance(n, int) or n < 1:
        raise AudiospecError(f"number of timesteps n must be a positive integer, got {n!r}")


def _finish(t: torch.Tensor, device: torch.device | str | None) -> torch.Tensor:
    t = t.clamp(T_EPS, 1.0 - T_EPS).to(torch.float32)
    return t.to(device) if device is not None else t


def _draw_device(generator: torch.Generator | None, device: torch.device | str | None):
    return generator.device if generator is not None else device


class TimestepSampler:
    """Interface: ``sample(n, *, generator, device) -> [n]`` in (0, 1) and ``pdf(t)`` (float64)."""

    def sample(
        self, n: int, *, generator: torch.Generator | None = None, device: torch.device | str | None = None
    ) -> torch.Tensor:
        """Draw ``n`` training times.

        Args:
            n: number of times, a positive integer (the batch size B).
            generator: source of randomness (drawn on its device).
            device: device of the result.

        Returns:
            Times ``[n]`` (float32) in [T_EPS, 1 - T_EPS].

        Raises:
            AudiospecError: ``n`` not a positive integer.
        """
        raise NotImplementedError

    def pdf(self, t: torch.Tensor) -> torch.Tensor:
        """The sampler's density p(t).

        Args:
            t: times ``[*t]`` (any shape; a float works too).

        Returns:
            p(t) ``[*t]`` float64, 0 outside [0, 1].
        """
        raise NotImplementedError


@dataclass(frozen=True, kw_only=True)
class UniformTimesteps(TimestepSampler):
    """t ~ U(0, 1)."""

    def sample(self, n, *, generator=None, device=None):
        _check_n(n)
        return _finish(torch.rand(n, generator=generator, device=_draw_device(generator, device), dtype=torch.float64), device)

    def pdf(self, t: torch.Tensor) -> torch.Tensor:
        t = torch.as_tensor(t, dtype=torch.float64)
        return ((t >= 0) & (t <= 1)).to(torch.float64)


@dataclass(frozen=True, kw_only=True)
class LogitNormalTimesteps(TimestepSampler):
    """t = sigmoid(u), u ~ N(mu, sigma^2) (Esser et al. 2024, section 3.1); mu > 0 favours noisier t.

    Args:
        mu: mean of u = logit(t), finite.
        sigma: standard deviation of u, finite and > 0.

    Raises:
        AudiospecError: a non-finite ``mu`` or a ``sigma`` that is not finite and positive.
    """

    mu: float = 0.0
    sigma: float = 1.0

    def __post_init__(self) -> None:
        if not math.isfinite(self.mu) or not (math.isfinite(self.sigma) and self.sigma > 0):
            raise AudiospecError(f"logit-normal needs a finite mu and sigma > 0, got mu={self.mu}, sigma={self.sigma}")

    def sample(self, n, *, generator=None, device=None):
        _check_n(n)
        u = torch.randn(n, generator=generator, device=_draw_device(generator, device), dtype=torch.float64)
        return _finish(torch.sigmoid(self.mu + self.sigma * u), device)

    def pdf(self, t: torch.Tensor) -> torch.Tensor:
        t = torch.as_tensor(t, dtype=torch.float64)
        inside = (t > 0) & (t < 1)
        tc = t.clamp(1e-300, 1.0 - 1e-16)
        z = (torch.log(tc) - torch.log1p(-tc) - self.mu) / self.sigma
        density = torch.exp(-0.5 * z**2) / (self.sigma * math.sqrt(2.0 * math.pi) * tc * (1.0 - tc))
        return torch.where(inside, density, torch.zeros_like(density))


@dataclass(frozen=True, kw_only=True)
class ShiftedTimesteps(TimestepSampler):
    """t' = shift_time(t, s) with t from ``base``; density p'(t') = p(t) dt/dt', dt/dt' = s / (s - (s - 1) t')^2.

    Args:
        base: the sampler of the unshifted t.
        shift: s, finite and > 0.

    Raises:
        AudiospecError: a ``shift`` that is not a finite positive number.
    """

    base: TimestepSampler
    shift: float

    def __post_init__(self) -> None:
        check_shift(self.shift)

    def sample(self, n, *, generator=None, device=None):
        t = self.base.sample(n, generator=generator, device=device).to(torch.float64)
        return _finish(shift_time(t, shift=self.shift), device)

    def pdf(self, t: torch.Tensor) -> torch.Tensor:
        t = torch.as_tensor(t, dtype=torch.float64)
        s = self.shift
        return self.base.pdf(unshift_time(t, shift=s)) * s / (s - (s - 1.0) * t) ** 2


def _interp(x_new: torch.Tensor, x: torch.Tensor, y: torch.Tensor) -> torch.Tensor:
    """Piecewise-linear interpolation of ``y`` ``[K]`` at ``x_new`` (x increasing; constant beyond the ends)."""
    idx = torch.searchsorted(x, x_new).clamp(1, x.numel() - 1)
    x0, x1 = x[idx - 1], x[idx]
    w = ((x_new - x0) / (x1 - x0)).clamp(0.0, 1.0)
    return y[idx - 1] * (1.0 - w) + y[idx] * w


class SpectralWeightedTimesteps(TimestepSampler):
    """p(t) ∝ p0(t) R(f(t)), f(t) = f_min + (1 - t)(f_max - f_min) (timestep notebook, strategy 2).

    ``freqs`` ``[K]`` positive increasing (cycles/sample), ``ratio`` ``[K]`` = R(f) > 0 (data
    RAPSD over its log-log polynomial fit), ``base`` = p0. The density is tabulated at the
    midpoints of ``grid_size`` equal cells of (0, 1) and sampled by inverse CDF (exact for
    that piecewise-constant density).

    Args:
        base: p0, the sampler whose density is reweighted.
        freqs: positive, strictly increasing frequencies ``[K]`` (cycles/sample), K >= 2.
        ratio: R(f) ``[K]``, finite and positive.
        grid_size: cells of the tabulated density, >= 16.
        drowning: t*(f) ``[K]`` for the drowning-time map (module doc), or None for the linear map.

    Raises:
        AudiospecError: ``freqs`` / ``ratio`` not 1-D of one length >= 2, drowning times of another length,
            frequencies not positive
            and increasing, a ratio not finite and positive, ``grid_size`` < 16, or a density
            without mass on (0, 1).
    """

    def __init__(
        self, *, base: TimestepSampler, freqs: torch.Tensor, ratio: torch.Tensor, grid_size: int = 4096,
        drowning: torch.Tensor | None = None,
    ) -> None:
        freqs = torch.as_tensor(freqs, dtype=torch.float64).cpu()
        ratio = torch.as_tensor(ratio, dtype=torch.float64).cpu()
        self.drowning = None if drowning is None else torch.as_tensor(drowning, dtype=torch.float64).cpu()
        if self.drowning is not None and (self.drowning.shape != freqs.shape or
                                          not bool(torch.isfinite(self.drowning).all())):
            raise AudiospecError(f"drowning times t*(f) must be finite, one per frequency {tuple(freqs.shape)}, got "
                                 f"{tuple(self.drowning.shape)}")
        if freqs.ndim != 1 or freqs.shape != ratio.shape or freqs.numel() < 2:
            raise AudiospecError(
                f"freqs and ratio must be 1-D of equal length >= 2, got {tuple(freqs.shape)} and {tuple(ratio.shape)}"
            )
        if bool((freqs <= 0).any()) or bool((freqs[1:] <= freqs[:-1]).any()):
            raise AudiospecError("freqs must be positive and strictly increasing (drop the DC ring)")
        if not bool(torch.isfinite(ratio).all()) or bool((ratio <= 0).any()):
            raise AudiospecError("the spectral ratio R(f) must be finite and positive")
        if grid_size < 16:
            raise AudiospecError(f"grid_size must be >= 16, got {grid_size}")
        self.base, self.freqs, self.ratio, self.grid_size = base, freqs, ratio, int(grid_size)
        centres = (torch.arange(grid_size, dtype=torch.float64) + 0.5) / grid_size  # [G]
        density = base.pdf(centres) * self.weight(centres)  # [G]
        mass = density.sum() / grid_size
        if not (math.isfinite(float(mass)) and float(mass) > 0):
            raise AudiospecError("p0(t) R(f(t)) has no mass on (0, 1); check the base sampler and the ratio")
        self._density = density / mass  # [G] normalised
        self._cdf = torch.cat([torch.zeros(1, dtype=torch.float64), torch.cumsum(self._density, 0) / grid_size])  # [G + 1]
        self._cdf[-1] = 1.0

    def frequency(self, t: torch.Tensor) -> torch.Tensor:
        """f(t): linear, f_min + (1 - t)(f_max - f_min) (t = 1 noise -> f_min, t = 0 data -> f_max), or the inverse
        of the drowning time t*(f), interpolated in t* (times beyond the drowning range map to the end rings).

        Args:
            t: times ``[*t]``.

        Returns:
            f(t) ``[*t]`` float64 in cycles/sample.
        """
        t = torch.as_tensor(t, dtype=torch.float64)
        if self.drowning is None:
            f_min, f_max = self.freqs[0], self.freqs[-1]
            return f_min + (1.0 - t) * (f_max - f_min)
        order = torch.argsort(self.drowning)
        t_star, freqs = self.drowning[order], self.freqs[order]
        keep = torch.cat([torch.ones(1, dtype=torch.bool), t_star[1:] > t_star[:-1]])  # strictly increasing knots
        return _interp(t, t_star[keep], freqs[keep])

    def weight(self, t: torch.Tensor) -> torch.Tensor:
        """R(f(t)), interpolated linearly in f; 1 everywhere when every ring drowns at about one time (no map).

        Args:
            t: times ``[*t]``.

        Returns:
            R(f(t)) ``[*t]`` float64 (constant beyond the ends of ``freqs``).
        """
        if self.drowning is not None and float(self.drowning.max() - self.drowning.min()) < MIN_DROWNING_SPREAD:
            return torch.ones_like(torch.as_tensor(t, dtype=torch.float64))
        return _interp(self.frequency(t), self.freqs, self.ratio)

    @classmethod
    def from_data(
        cls, patches: torch.Tensor, *, base: TimestepSampler, degree: int = 2, grid_size: int = 4096,
        prior: NoisePrior | None = None, tau: float = 1.0,
    ) -> "SpectralWeightedTimesteps":
        """R from training patches ``[N, C, F, T]``: log-domain mean of their normalised-radius RAPSD
        (:func:`audiospec.functional.rapsd`, ``mode="normalized"``), DC ring dropped, divided by its
        degree-``degree`` log-log polynomial fit. With a ``prior``, the drowning-time map (module doc):
        t*(f) of the fit P_fit against the prior's ring-averaged spectrum at SNR ``tau``.

        Args:
            patches: training patches ``[N, C, F, T]``.
            base: p0.
            degree: degree of the log-log polynomial fit, >= 1.
            grid_size: cells of the tabulated density, >= 16.
            prior: the run's noise prior for the drowning-time map, or None for the linear map.
            tau: the SNR threshold of the drowning time, > 0.

        Returns:
            The sampler.

        Raises:
            AudiospecError: ``patches`` not of rank 4, or spectra the fit rejects.
        """
        if patches.ndim != 4:
            raise AudiospecError(f"patches must have shape [N, C, F, T], got {tuple(patches.shape)}")
        spectrum = rapsd(patches.to(torch.float64), mode="normalized")  # power [N, C, R]
        power = log_domain_mean(spectrum.power.reshape(-1, spectrum.power.shape[-1]), dim=0)  # [R]
        keep = spectrum.freqs > 0
        fit = fit_loglog_polynomial(spectrum.freqs[keep], power[keep], degree=degree)
        drowning = None
        if prior is not None:
            F, T = patches.shape[-2:]
            rings, _ = ring_weights(F, T, mode="normalized")  # [F (T // 2 + 1), R]
            noise = prior.spectrum((F, T)).to(torch.float64).reshape(-1) @ rings  # ring-averaged S [R]
            drowning = crossing_time(fit.fitted, noise_power=noise[keep], tau=tau)
        return cls(base=base, freqs=spectrum.freqs[keep], ratio=fit.ratio, grid_size=grid_size, drowning=drowning)

    def pdf(self, t: torch.Tensor) -> torch.Tensor:
        t = torch.as_tensor(t, dtype=torch.float64)
        idx = (t * self.grid_size).floor().long().clamp(0, self.grid_size - 1)
        inside = (t >= 0) & (t <= 1)
        return torch.where(inside, self._density[idx], torch.zeros_like(t))

    def sample(self, n, *, generator=None, device=None):
        _check_n(n)
        u = torch.rand(n, generator=generator, device=_draw_device(generator, device), dtype=torch.float64).cpu()
        k = (torch.searchsorted(self._cdf, u, right=True) - 1).clamp(0, self.grid_size - 1)  # cell of u
        lo, hi = self._cdf[k], self._cdf[k + 1]
        frac = torch.where(hi > lo, (u - lo) / (hi - lo), torch.full_like(u, 0.5))
        return _finish((k.to(torch.float64) + frac) / self.grid_size, device)

    def __repr__(self) -> str:
        return f"SpectralWeightedTimesteps(base={self.base!r}, K={self.freqs.numel()}, grid_size={self.grid_size})"
