"""Power-law fits of spectra: P(f) = 10^c f^-alpha, and the log-log polynomial fit.

Method (DESIGN.md section 2, after Dieleman 2024): drop DC, average the spectra of all
clips in the log domain, resample onto points evenly spaced in log f (so that the many
high-frequency bins do not dominate), and regress log10 P on log10 f. The bootstrap
resamples clips with replacement and refits, giving a percentile interval for alpha.
"""

from __future__ import annotations

from typing import NamedTuple

import torch

from audiospec.errors import AudiospecError
from audiospec.functional._shape import check_finite

__all__ = ["PowerLawFit", "LogLogPolynomialFit", "log_resample", "fit_power_law", "fit_loglog_polynomial"]


class PowerLawFit(NamedTuple):
    """Result of :func:`fit_power_law`.

    ``alpha`` = -slope, ``intercept`` = c (log10 power at f = 1), ``r2`` of the fit on the
    resampled points, ``ci`` = (low, high) bootstrap interval of alpha (None with < 2
    clips), and the resampled curve (``freqs``, ``log10_power``) the fit was made on.

    Attributes:
        alpha: the power-law exponent, P(f) ~ f^-alpha.
        intercept: c, the log10 power at f = 1.
        r2: coefficient of determination on the resampled points.
        ci: (low, high) percentile bootstrap interval of alpha over clips, or None.
        freqs: the log-spaced frequencies of the fit ``[P]``.
        log10_power: the log-domain mean spectrum resampled at ``freqs`` ``[P]``.
    """

    alpha: float
    intercept: float
    r2: float
    ci: tuple[float, float] | None
    freqs: torch.Tensor
    log10_power: torch.Tensor


class LogLogPolynomialFit(NamedTuple):
    """P_fit(f) = 10^(sum_i coeffs[i] * log10(f)^(degree - i)); ``ratio`` = P / P_fit (timestep notebook, strategy 2)."""

    coeffs: torch.Tensor
    fitted: torch.Tensor
    ratio: torch.Tensor


def _interp(x_new: torch.Tensor, x: torch.Tensor, y: torch.Tensor) -> torch.Tensor:
    """Piecewise-linear interpolation of ``y`` ``[..., K]`` at ``x_new`` ``[P]`` (x increasing)."""
    idx = torch.searchsorted(x, x_new).clamp(1, x.numel() - 1)  # [P]
    x0, x1 = x[idx - 1], x[idx]
    w = ((x_new - x0) / (x1 - x0)).clamp(0.0, 1.0)
    return y[..., idx - 1] * (1.0 - w) + y[..., idx] * w


def _select_band(freqs: torch.Tensor, f_min: float | None, f_max: float | None) -> torch.Tensor:
    if freqs.ndim != 1:
        raise AudiospecError(f"freqs must be 1-D, got shape {tuple(freqs.shape)}")
    keep = freqs > 0
    if f_min is not None:
        keep &= freqs >= f_min
    if f_max is not None:
        keep &= freqs <= f_max
    if int(keep.sum()) < 3:
        raise AudiospecError(
            f"need at least 3 positive frequencies in [{f_min}, {f_max}] to fit a power law, got {int(keep.sum())}"
        )
    return keep


def log_resample(
    freqs: torch.Tensor, log_power: torch.Tensor, *, n_points: int = 50
) -> tuple[torch.Tensor, torch.Tensor]:
    """Resample ``log_power`` ``[..., K]`` (any log base) at ``n_points`` log-spaced frequencies.

    ``freqs`` ``[K]`` must be positive and increasing. Returns (``[P]`` frequencies, ``[..., P]``).

    Args:
        freqs: positive, strictly increasing frequencies ``[K]``.
        log_power: log spectra ``[..., K]`` (linearly interpolated in log f).
        n_points: number P of log-spaced points from ``freqs[0]`` to ``freqs[-1]``, >= 2.

    Returns:
        ``(grid, resampled)``: frequencies ``[P]`` and log spectra ``[..., P]``, both float64.

    Raises:
        AudiospecError: ``n_points`` < 2, or frequencies that are not positive and strictly increasing.
    """
    if n_points < 2:
        raise AudiospecError(f"n_points must be >= 2, got {n_points}")
    if bool((freqs <= 0).any()) or bool((freqs[1:] <= freqs[:-1]).any()):
        raise AudiospecError("log_resample needs positive, strictly increasing frequencies")
    log_f = torch.log10(freqs.to(torch.float64))
    grid = torch.linspace(float(log_f[0]), float(log_f[-1]), n_points, dtype=torch.float64)
    return 10.0**grid, _interp(grid, log_f, log_power.to(torch.float64))


def _linear_fit(x: torch.Tensor, y: torch.Tensor) -> tuple[torch.Tensor, torch.Tensor]:
    """Least squares y = a x + b for ``y`` ``[..., P]``: returns (slope ``[...]``, intercept ``[...]``)."""
    xm = x - x.mean()
    slope = (y * xm).sum(-1) / (xm**2).sum()
    return slope, y.mean(-1) - slope * x.mean()


def fit_power_law(
    freqs: torch.Tensor,
    power: torch.Tensor,
    *,
    f_min: float | None = None,
    f_max: float | None = None,
    n_points: int = 50,
    n_bootstrap: int = 1000,
    ci_level: float = 0.95,
    generator: torch.Generator | None = None,
) -> PowerLawFit:
    """Fit P(f) ~ f^-alpha to spectra ``power`` ``[N, K]`` (N clips) or ``[K]`` at ``freqs`` ``[K]``.

    Args:
        freqs: bin frequencies ``[K]``; DC and bins outside [f_min, f_max] are dropped.
        power: spectra ``[N, K]`` (N clips, averaged in the log domain) or ``[K]``; positive
            at the fitted frequencies.
        f_min: lowest fitted frequency (default: the lowest positive one).
        f_max: highest fitted frequency (default: the highest).
        n_points: log-spaced points the spectra are resampled onto before the regression.
        n_bootstrap: bootstrap resamples of the clips for ``ci`` (0: no interval).
        ci_level: level of the interval, in (0, 1).
        generator: randomness of the bootstrap.

    Returns:
        :class:`PowerLawFit` with alpha, intercept, R^2, the bootstrap interval (None with
        fewer than 2 clips) and the fitted curve ``[P]``.

    Raises:
        AudiospecError: ``power`` and ``freqs`` with different numbers of bins, NaN / Inf power,
            ``ci_level`` outside (0, 1), fewer than 3 positive frequencies in the band, or a
            non-positive power at a fitted frequency.
    """
    check_finite(power, name="power")
    if power.shape[-1] != freqs.shape[-1]:
        raise AudiospecError(f"power has {power.shape[-1]} bins but freqs has {freqs.shape[-1]}")
    if not 0.0 < ci_level < 1.0:
        raise AudiospecError(f"ci_level must lie in (0, 1), got {ci_level}")
    keep = _select_band(freqs, f_min, f_max)
    clips = power.reshape(-1, power.shape[-1])[:, keep].to(torch.float64)  # [N, K']
    if bool((clips <= 0).any()):
        raise AudiospecError(
            "power must be strictly positive at the fitted frequencies (DC is dropped); drop silent clips"
        )
    grid, per_clip = log_resample(freqs[keep], torch.log10(clips), n_points=n_points)  # [N, P]
    x = torch.log10(grid)
    y = per_clip.mean(0)  # log-domain average across clips, resampled
    slope, intercept = _linear_fit(x, y)
    residual = y - (slope * x + intercept)
    r2 = 1.0 - float((residual**2).sum() / ((y - y.mean()) ** 2).sum())
    ci = None
    n_clips = per_clip.shape[0]
    if n_clips >= 2 and n_bootstrap > 0:
        idx = torch.randint(0, n_clips, (n_bootstrap, n_clips), generator=generator)  # [B, N]
        boot = per_clip[idx].mean(1)  # [B, N, P] -> [B, P]
        boot_alpha = -_linear_fit(x, boot)[0]  # [B]
        tail = (1.0 - ci_level) / 2.0
        q = torch.quantile(boot_alpha, torch.tensor([tail, 1.0 - tail], dtype=torch.float64))
        ci = (float(q[0]), float(q[1]))
    return PowerLawFit(
        alpha=-float(slope), intercept=float(intercept), r2=r2, ci=ci, freqs=grid, log10_power=y
    )


def fit_loglog_polynomial(freqs: torch.Tensor, power: torch.Tensor, *, degree: int = 2) -> LogLogPolynomialFit:
    """Polynomial fit of log10 P against log10 f: degree 2 is P_fit = 10^c f^(b + a log10 f).

    ``freqs`` ``[K]`` (positive), ``power`` ``[K]`` (positive). Coefficients are highest
    power first, like ``numpy.polyfit``.

    Args:
        freqs: positive frequencies ``[K]``.
        power: positive spectrum ``[K]``.
        degree: polynomial degree, >= 1 and < K.

    Returns:
        ``LogLogPolynomialFit(coeffs [degree + 1], fitted [K], ratio [K])`` with ``ratio`` = P / P_fit,
        all float64.

    Raises:
        AudiospecError: ``degree`` < 1, NaN / Inf power, non-positive frequencies or powers, or
            no more than ``degree`` points.
    """
    if degree < 1:
        raise AudiospecError(f"degree must be >= 1, got {degree}")
    check_finite(power, name="power")
    if bool((freqs <= 0).any()) or bool((power <= 0).any()):
        raise AudiospecError("log-log fit needs positive frequencies and powers (drop DC and zeros)")
    if freqs.numel() <= degree:
        raise AudiospecError(f"need more than {degree} points for a degree-{degree} fit, got {freqs.numel()}")
    x = torch.log10(freqs.to(torch.float64))
    y = torch.log10(power.to(torch.float64))
    vander = torch.stack([x**p for p in range(degree, -1, -1)], dim=-1)  # [K, degree + 1]
    coeffs = torch.linalg.lstsq(vander, y[:, None]).solution[:, 0]
    fitted = 10.0 ** (vander @ coeffs)
    return LogLogPolynomialFit(coeffs=coeffs, fitted=fitted, ratio=power.to(torch.float64) / fitted)

