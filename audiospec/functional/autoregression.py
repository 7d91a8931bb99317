"""Which frequencies a diffusion process hides when: SNR per frequency, f_max(t), and the
autoregression-order score (DESIGN.md section 2; Dieleman 2024, "Which frequencies are
modelled at which noise levels?").

With x_t = alpha_t x0 + sigma_t eps, data power P(f) and noise power S(f) (both as
per-bin power, e.g. RAPSDs of unit-variance fields), the SNR at frequency f is

    SNR(f, t) = alpha_t^2 P(f) / (sigma_t^2 S(f)),

and f is detectable at t iff SNR(f, t) > tau. For white noise and rectified flow this
is P(f) > tau (t / (1 - t))^2.
"""

from __future__ import annotations

import torch

from audiospec.errors import AudiospecError
from audiospec.functional._shape import check_finite
from audiospec.functional.powerlaw import log_resample
from audiospec.functional.schedules import Schedule, process_coefficients, time_from_log_snr
from audiospec.functional.ranks import spearman

__all__ = ["snr_per_frequency", "max_detectable_frequency", "crossing_time", "autoregression_order"]

_TIE_RESOLUTION = 1e-9  # crossing times closer than this count as simultaneous


def _spectra(data_power: torch.Tensor, noise_power: torch.Tensor | None) -> tuple[torch.Tensor, torch.Tensor]:
    check_finite(data_power, name="data_power")
    P = data_power.to(torch.float64)
    if bool((P < 0).any()):
        raise AudiospecError("data_power must be non-negative")
    if noise_power is None:
        return P, torch.ones_like(P)
    check_finite(noise_power, name="noise_power")
    S = noise_power.to(torch.float64)
    if S.shape != P.shape:
        raise AudiospecError(f"noise_power shape {tuple(S.shape)} differs from data_power shape {tuple(P.shape)}")
    if bool((S <= 0).any()):
        raise AudiospecError("noise_power must be strictly positive at every frequency")
    return P, S


def snr_per_frequency(
    t: torch.Tensor | float,
    *,
    data_power: torch.Tensor,
    noise_power: torch.Tensor | None = None,
    process: Schedule = "rectified_flow",
) -> torch.Tensor:
    """SNR(f, t) for times ``t`` (any shape) and spectra ``[K]`` -> ``[*t.shape, K]`` (float64).

    ``noise_power`` None means white noise (S = 1).

    Args:
        t: times in [0, 1], a float or a tensor ``[*t]`` of any shape.
        data_power: data power P(f) per bin ``[K]``, non-negative.
        noise_power: noise power S(f) per bin ``[K]``, positive; ``None`` for white noise.
        process: the corruption process giving alpha_t and sigma_t.

    Returns:
        SNR(f, t) = alpha_t^2 P(f) / (sigma_t^2 S(f)), ``[*t.shape, K]`` float64 (+inf at t = 0).

    Raises:
        AudiospecError: negative or non-finite ``data_power``, a ``noise_power`` of another shape
            or not strictly positive, or a bad ``t`` / ``process``.
    """
    P, S = _spectra(data_power, noise_power)
    alpha_t, sigma_t = process_coefficients(t, process=process)
    ratio = (alpha_t / sigma_t) ** 2  # +inf at t = 0
    return ratio[..., None] * (P / S)  # [*t, 1] * [K] -> [*t, K]


def max_detectable_frequency(
    t: torch.Tensor | float,
    *,
    freqs: torch.Tensor,
    data_power: torch.Tensor,
    noise_power: torch.Tensor | None = None,
    tau: float = 1.0,
    process: Schedule = "rectified_flow",
) -> torch.Tensor:
    """f_max(t): the largest frequency in ``freqs`` ``[K]`` with SNR(f, t) > tau; 0 where none is.

    Does not assume a monotonic spectrum (waveform spectra are not). Returns ``[*t.shape]``.

    Args:
        t: times in [0, 1], a float or a tensor ``[*t]``.
        freqs: bin frequencies ``[K]`` (any unit; DC never counts).
        data_power: data power per bin ``[K]``.
        noise_power: noise power per bin ``[K]``; ``None`` for white noise.
        tau: SNR threshold, > 0.
        process: the corruption process.

    Returns:
        f_max(t) ``[*t.shape]`` (float64), in the unit of ``freqs``.

    Raises:
        AudiospecError: ``tau`` <= 0, ``freqs`` and ``data_power`` of different shapes, or
            spectra rejected by :func:`snr_per_frequency`.
    """
    if tau <= 0:
        raise AudiospecError(f"SNR threshold tau must be positive, got {tau}")
    if freqs.shape != data_power.shape:
        raise AudiospecError(f"freqs shape {tuple(freqs.shape)} differs from data_power shape {tuple(data_power.shape)}")
    snr = snr_per_frequency(t, data_power=data_power, noise_power=noise_power, process=process)
    f = freqs.to(torch.float64)
    detectable = (snr > tau) & (f > 0)
    return torch.where(detectable, f, torch.zeros_like(f)).amax(dim=-1)


def crossing_time(
    data_power: torch.Tensor,
    *,
    noise_power: torch.Tensor | None = None,
    tau: float = 1.0,
    process: Schedule = "rectified_flow",
) -> torch.Tensor:
    """t*(f): the time at which SNR(f, t) falls to tau, ``[K]`` (float64).

    Solves lambda(t*) = log(tau S / P) with lambda the process's log-SNR; bins with
    P = 0 are never detectable (t* = 0). Frequencies with a larger t* survive more noise:
    they are generated earlier when sampling runs from t = 1 to t = 0.

    Args:
        data_power: data power P(f) per bin ``[K]``, non-negative.
        noise_power: noise power S(f) per bin ``[K]``, positive; ``None`` for white noise.
        tau: SNR threshold, > 0.
        process: the corruption process whose log-SNR is inverted.

    Returns:
        t*(f) ``[K]`` float64 in [0, 1].

    Raises:
        AudiospecError: ``tau`` <= 0, or spectra that are negative, non-finite, of different
            shapes, or (noise) not strictly positive.
    """
    if tau <= 0:
        raise AudiospecError(f"SNR threshold tau must be positive, got {tau}")
    P, S = _spectra(data_power, noise_power)
    lam = torch.log(tau * S) - torch.log(P)  # +inf where P = 0
    return time_from_log_snr(lam, process=process)


def autoregression_order(
    freqs: torch.Tensor,
    data_power: torch.Tensor,
    *,
    noise_power: torch.Tensor | None = None,
    tau: float = 1.0,
    process: Schedule = "rectified_flow",
    n_points: int = 64,
) -> float:
    """How coarse-to-fine a corruption is: Spearman correlation of f and -t*(f).

    +1: low frequencies always outlive high ones (perfect spectral autoregression);
    0: every frequency is drowned at once (e.g. noise matched to the data spectrum);
    -1: fine-to-coarse. Bins are first resampled onto ``n_points`` log-spaced
    frequencies so every octave weighs the same; DC is dropped. ``freqs`` ``[K]``.

    Args:
        freqs: bin frequencies ``[K]``; bins at f <= 0 are dropped.
        data_power: data power per bin ``[K]``, non-negative.
        noise_power: noise power per bin ``[K]``, positive; ``None`` for white noise.
        tau: SNR threshold, > 0.
        process: the corruption process.
        n_points: log-spaced frequencies the spectra are resampled onto.

    Returns:
        The score in [-1, 1].

    Raises:
        AudiospecError: ``freqs`` of another shape than ``data_power``, fewer than two positive
            frequencies, or spectra rejected by :func:`crossing_time`.
    """
    P, S = _spectra(data_power, noise_power)
    if freqs.shape != P.shape:
        raise AudiospecError(f"freqs shape {tuple(freqs.shape)} differs from data_power shape {tuple(P.shape)}")
    keep = freqs > 0
    if int(keep.sum()) < 2:
        raise AudiospecError("autoregression_order needs at least two positive frequencies")
    floor = torch.finfo(torch.float64).tiny
    log_spectra = torch.stack([torch.log(P[keep].clamp_min(floor)), torch.log(S[keep])])  # [2, K']
    grid, resampled = log_resample(freqs[keep].to(torch.float64), log_spectra, n_points=n_points)  # [2, P]
    t_star = crossing_time(resampled[0].exp(), noise_power=resampled[1].exp(), tau=tau, process=process)
    t_star = torch.round(t_star / _TIE_RESOLUTION) * _TIE_RESOLUTION
    return spearman(grid, -t_star)
