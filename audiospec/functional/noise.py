"""Gaussian noise with a prescribed power spectrum, and ways to add it to signals.

A noise prior is eps ~ N(0, Sigma) with Sigma diagonal in the Fourier basis of the
last ``ndim`` axes (1-D for waveforms ``[..., L]``, 2-D for spectrograms ``[..., F, T]``).
Its diagonal S(f) is given on the real-FFT grid:

- 1-D: ``[L // 2 + 1]`` (frequencies ``torch.fft.rfftfreq(L)``),
- 2-D: ``[H, W // 2 + 1]`` (``fftfreq(H)`` x ``rfftfreq(W)``),

with |f| the radial frequency in cycles/sample per axis. S is always rescaled so that
each element of eps has unit variance: (1/N) sum_f S(f) = 1 over the full FFT plane.

Sampling: draw white z ~ N(0, I), take its orthonormal FFT, multiply by sqrt(S), invert.
"""

from __future__ import annotations

import math
from typing import Literal, Sequence

import torch

from audiospec.errors import AudiospecError
from audiospec.functional._shape import append_dims, check_finite
from audiospec.functional.schedules import Schedule, process_coefficients

__all__ = [
    "radial_frequency",
    "hermitian_weights",
    "power_law_spectrum",
    "normalize_spectrum",
    "estimate_spectrum",
    "colored_noise",
    "matched_noise",
    "colour_white",
    "add_noise",
    "add_noise_at_time",
]

NDim = Literal[1, 2]


def _check_ndim(ndim: int) -> None:
    if ndim not in (1, 2):
        raise AudiospecError(f"ndim must be 1 (waveforms [..., L]) or 2 (spectrograms [..., F, T]), got {ndim!r}")


def _signal_shape(shape: Sequence[int], ndim: int) -> tuple[int, ...]:
    _check_ndim(ndim)
    shape = tuple(int(s) for s in shape)
    if len(shape) < ndim or min(shape[-ndim:], default=0) < 1:
        raise AudiospecError(f"shape {shape} needs {ndim} trailing signal dim(s) of size >= 1")
    return shape[-ndim:]


def radial_frequency(
    signal_shape: Sequence[int], *, device: torch.device | str | None = None, dtype: torch.dtype = torch.float64
) -> torch.Tensor:
    """|f| in cycles/sample on the real-FFT grid of ``signal_shape`` (``(L,)`` or ``(H, W)``).

    Returns ``[L // 2 + 1]`` or ``[H, W // 2 + 1]``.

    Args:
        signal_shape: ``(L,)`` or ``(H, W)``.
        device: device of the result.
        dtype: dtype of the result.

    Returns:
        |f| ``[L // 2 + 1]`` (``rfftfreq(L)``) or ``[H, W // 2 + 1]``
        (sqrt(fftfreq(H)^2 + rfftfreq(W)^2)), in cycles/sample.

    Raises:
        AudiospecError: ``signal_shape`` with other than 1 or 2 entries.
    """
    if len(signal_shape) == 1:
        (L,) = signal_shape
        return torch.fft.rfftfreq(L, device=device, dtype=dtype)
    if len(signal_shape) == 2:
        H, W = signal_shape
        fy = torch.fft.fftfreq(H, device=device, dtype=dtype)  # [H]
        fx = torch.fft.rfftfreq(W, device=device, dtype=dtype)  # [W // 2 + 1]
        return torch.sqrt(fy[:, None] ** 2 + fx[None, :] ** 2)  # [H, 1] + [1, Wr] -> [H, Wr]
    raise AudiospecError(f"signal_shape must have 1 or 2 entries, got {tuple(signal_shape)}")


def hermitian_weights(
    signal_shape: Sequence[int], *, device: torch.device | str | None = None, dtype: torch.dtype = torch.float64
) -> torch.Tensor:
    """How many full-FFT-plane bins each real-FFT bin stands for (1 or 2), shape of the rfft grid.

    The last axis keeps bin 0 and (for even length) the Nyquist bin once; every other
    bin also represents its complex-conjugate partner.

    Args:
        signal_shape: ``(L,)`` or ``(H, W)``.
        device: device of the result.
        dtype: dtype of the result.

    Returns:
        Weights ``[L // 2 + 1]`` or ``[H, W // 2 + 1]`` (an expanded view in 2-D); they sum to
        the number of samples L or H W.

    Raises:
        AudiospecError: ``signal_shape`` with other than 1 or 2 entries.
    """
    if len(signal_shape) not in (1, 2):
        raise AudiospecError(f"signal_shape must have 1 or 2 entries, got {tuple(signal_shape)}")
    last = int(signal_shape[-1])
    n_r = last // 2 + 1
    w = torch.full((n_r,), 2.0, device=device, dtype=dtype)
    w[0] = 1.0
    if last % 2 == 0:
        w[-1] = 1.0
    if len(signal_shape) == 2:
        w = w.expand(int(signal_shape[0]), n_r)
    return w


def normalize_spectrum(spectrum: torch.Tensor, signal_shape: Sequence[int]) -> torch.Tensor:
    """Rescale S on the rfft grid so that the full-plane mean of S is 1 (unit variance per element).

    Args:
        spectrum: power spectrum S on the rfft grid, ``[..., L // 2 + 1]`` or
            ``[..., H, W // 2 + 1]`` (leading dims are normalised one by one).
        signal_shape: ``(L,)`` or ``(H, W)``, the shape of the signals S describes.

    Returns:
        S divided by its full-plane mean, ``spectrum``'s shape.

    Raises:
        AudiospecError: negative, NaN or Inf values, or a spectrum that is zero everywhere.
    """
    check_finite(spectrum, name="noise spectrum")
    if bool((spectrum < 0).any()):
        raise AudiospecError("noise spectrum must be non-negative everywhere (it is a power spectrum)")
    weights = hermitian_weights(signal_shape, device=spectrum.device, dtype=spectrum.dtype)
    n_full = math.prod(int(s) for s in signal_shape)
    total = (spectrum * weights).sum(dim=tuple(range(-len(signal_shape), 0)), keepdim=True) / n_full
    if bool((total <= 0).any()):
        raise AudiospecError("noise spectrum is zero everywhere; it must have positive power somewhere")
    return spectrum / total


def power_law_spectrum(
    signal_shape: Sequence[int],
    *,
    beta: float,
    device: torch.device | str | None = None,
    dtype: torch.dtype = torch.float64,
) -> torch.Tensor:
    """S(f) proportional to |f|^-beta on the rfft grid, normalised to unit variance.

    beta = 0 white, 1 pink, 2 brown (red), -1 blue, -2 violet. DC has no power law
    value; it is set explicitly to S(f_min), the value at the lowest non-zero
    frequency of the grid (as in the ``colorednoise`` package), so the field keeps
    a mean that fluctuates like its slowest oscillation.

    Args:
        signal_shape: ``(L,)`` or ``(H, W)``.
        beta: spectral exponent, finite.
        device: device of the result.
        dtype: dtype of the result.

    Returns:
        S ``[L // 2 + 1]`` or ``[H, W // 2 + 1]`` with full-plane mean 1.

    Raises:
        AudiospecError: a NaN or infinite ``beta`` or a bad ``signal_shape``.
    """
    if not math.isfinite(beta):
        raise AudiospecError(f"beta must be a finite number, got {beta!r}")
    f = radial_frequency(signal_shape, device=device, dtype=dtype)
    if f.numel() == 1:  # a single sample: only DC exists, noise is white
        return torch.ones_like(f)
    f_min = f[f > 0].min()
    spectrum = f.clamp_min(f_min) ** (-beta)  # DC takes the f_min value
    return normalize_spectrum(spectrum, signal_shape)


def estimate_spectrum(x: torch.Tensor, *, ndim: NDim = 1) -> torch.Tensor:
    """Mean power |rfftn(x)|^2 / N over all leading dims: the data's diagonal covariance.

    x: ``[..., L]`` (ndim=1) or ``[..., H, W]`` (ndim=2). Returns ``[L // 2 + 1]`` or
    ``[H, W // 2 + 1]`` in float64, not normalised (feed it to :func:`matched_noise`).

    Args:
        x: examples ``[..., L]`` (ndim=1) or ``[..., H, W]`` (ndim=2).
        ndim: 1 or 2, the number of trailing signal dims.

    Returns:
        The mean power spectrum ``[L // 2 + 1]`` or ``[H, W // 2 + 1]`` (float64).

    Raises:
        AudiospecError: ``ndim`` not 1 or 2, too few dims, or NaN / Inf values.
    """
    _signal_shape(x.shape, ndim)  # validates ndim and sizes
    check_finite(x, name="signal")
    dims = tuple(range(-ndim, 0))
    power = torch.fft.rfftn(x.to(torch.float64), dim=dims, norm="ortho").abs() ** 2  # [..., *rfft grid]
    return power.reshape(-1, *power.shape[-ndim:]).mean(dim=0)


def matched_noise(
    shape: Sequence[int],
    *,
    spectrum: torch.Tensor,
    ndim: NDim = 1,
    generator: torch.Generator | None = None,
    device: torch.device | str | None = None,
    dtype: torch.dtype = torch.float32,
) -> torch.Tensor:
    """Sample unit-variance Gaussian noise of ``shape`` whose power spectrum is ``spectrum``.

    ``spectrum`` lives on the rfft grid of the last ``ndim`` axes (see module doc) and
    is renormalised to unit variance; pass the data's own spectrum (from
    :func:`estimate_spectrum`) for data-matched noise. Under that prior SNR(f, t) is the
    same at every frequency: all frequencies are drowned at once, the opposite of
    spectral autoregression. Returns a tensor of ``shape``.

    Args:
        shape: output shape ``(..., L)`` or ``(..., H, W)``.
        spectrum: power spectrum on the rfft grid ``[L // 2 + 1]`` or ``[H, W // 2 + 1]``
            (non-negative, any scale).
        ndim: 1 or 2, the number of trailing signal dims.
        generator: source of randomness (its device wins over ``device``).
        device: device of the result when no generator is given.
        dtype: dtype of the result (sampled in float64).

    Returns:
        Noise of ``shape``, each element of unit variance.

    Raises:
        AudiospecError: a ``spectrum`` not on the rfft grid of ``shape``, a bad ``ndim`` or
            shape, or a negative / all-zero spectrum.
    """
    signal_shape = _signal_shape(shape, ndim)
    grid = tuple(radial_frequency(signal_shape).shape)
    if tuple(spectrum.shape[-ndim:]) != grid:
        raise AudiospecError(
            f"noise spectrum has shape {tuple(spectrum.shape)}, but signals of shape {signal_shape} "
            f"need the rfft grid shape {grid}"
        )
    if generator is not None:
        device = generator.device
    spectrum = normalize_spectrum(spectrum.to(device=device, dtype=torch.float64), signal_shape)
    white = torch.randn(tuple(shape), generator=generator, device=device, dtype=torch.float64)
    return colour_white(white, spectrum=spectrum, ndim=ndim).to(dtype)


def colour_white(white: torch.Tensor, *, spectrum: torch.Tensor, ndim: NDim = 1) -> torch.Tensor:
    """S^{1/2} z: white noise ``z`` ``[..., *signal]`` given the power spectrum ``spectrum`` (rfft grid of the last
    ``ndim`` axes, used as it is: not renormalised) in the orthonormal Fourier basis. Same shape and dtype as z."""
    signal_shape = _signal_shape(white.shape, ndim)
    dims = tuple(range(-ndim, 0))
    coeffs = torch.fft.rfftn(white, dim=dims, norm="ortho")  # unit power at every frequency
    scale = spectrum.sqrt().to(device=white.device, dtype=coeffs.real.dtype)
    return torch.fft.irfftn(coeffs * scale, s=signal_shape, dim=dims, norm="ortho").to(white.dtype)


def colored_noise(
    shape: Sequence[int],
    *,
    beta: float,
    ndim: NDim = 1,
    generator: torch.Generator | None = None,
    device: torch.device | str | None = None,
    dtype: torch.dtype = torch.float32,
) -> torch.Tensor:
    """Unit-variance 1/f^beta Gaussian noise over the last ``ndim`` axes of ``shape``.

    The expected power spectrum (periodogram for ndim=1, RAPSD for ndim=2) has log-log
    slope -beta; beta = 0 gives white noise.

    Args:
        shape: output shape ``(..., L)`` or ``(..., H, W)``.
        beta: spectral exponent (0 white, 1 pink, 2 brown, -1 blue).
        ndim: 1 or 2, the number of trailing signal dims.
        generator: source of randomness.
        device: device of the result when no generator is given.
        dtype: dtype of the result.

    Returns:
        Noise of ``shape``.

    Raises:
        AudiospecError: ``ndim`` not 1 or 2, a shape without ``ndim`` signal dims, or a
            non-finite ``beta``.
    """
    _check_ndim(ndim)
    spectrum = power_law_spectrum(_signal_shape(shape, ndim), beta=beta)
    return matched_noise(shape, spectrum=spectrum, ndim=ndim, generator=generator, device=device, dtype=dtype)


def add_noise(x: torch.Tensor, noise: torch.Tensor, *, snr_db: torch.Tensor | float, ndim: NDim = 1) -> torch.Tensor:
    """Add ``noise`` scaled so that each example has the requested SNR in dB.

    SNR = 10 log10( sum x^2 / sum (g n)^2 ) over the last ``ndim`` axes, as in
    ``torchaudio.functional.add_noise``. ``snr_db`` is a scalar or broadcasts against
    the leading dims of ``x``. Shapes: x, noise ``[..., L]`` or ``[..., H, W]``.

    Args:
        x: clean signals ``[..., L]`` (ndim=1) or ``[..., H, W]`` (ndim=2).
        noise: noise ``[..., L]`` or ``[..., H, W]`` (``x``'s shape), non-zero energy in every example.
        snr_db: SNR in dB, a scalar or a tensor ``[...]`` broadcasting against the leading dims.
        ndim: 1 or 2, the trailing dims over which energy is summed.

    Returns:
        ``x + g * noise``, ``x``'s shape, with g ``[...]`` chosen per example.

    Raises:
        AudiospecError: ``x`` and ``noise`` of different shapes, NaN / Inf values, noise with
            zero energy in some example, or ``ndim`` not 1 or 2.
    """
    _check_ndim(ndim)
    if x.shape != noise.shape:
        raise AudiospecError(f"signal shape {tuple(x.shape)} and noise shape {tuple(noise.shape)} differ")
    check_finite(x, name="signal")
    check_finite(noise, name="noise")
    dims = tuple(range(-ndim, 0))
    energy_x = x.pow(2).sum(dim=dims)  # [...]
    energy_n = noise.pow(2).sum(dim=dims)  # [...]
    if bool((energy_n == 0).any()):
        raise AudiospecError("noise has zero energy in at least one example; cannot scale it to an SNR")
    snr_db = torch.as_tensor(snr_db, dtype=x.dtype, device=x.device)
    gain = torch.sqrt(energy_x / (energy_n * 10.0 ** (snr_db / 10.0)))  # [...]
    return x + gain.reshape(*gain.shape, *([1] * ndim)) * noise


def add_noise_at_time(
    x0: torch.Tensor, noise: torch.Tensor, *, t: torch.Tensor | float, process: Schedule = "rectified_flow"
) -> torch.Tensor:
    """x_t = alpha_t * x0 + sigma_t * eps (DESIGN.md section 2).

    ``t`` is a scalar or ``[B]`` (one time per leading example); x0, noise ``[B, ...]``.

    Args:
        x0: clean examples ``[B, ...]``.
        noise: eps ``[B, ...]``, ``x0``'s shape.
        t: time in [0, 1], a float or ``[B]``.
        process: the corruption process giving alpha_t and sigma_t.

    Returns:
        x_t ``[B, ...]`` in ``x0``'s dtype.

    Raises:
        AudiospecError: ``x0`` and ``noise`` of different shapes, or a bad ``t`` / ``process``.
    """
    if x0.shape != noise.shape:
        raise AudiospecError(f"x0 shape {tuple(x0.shape)} and noise shape {tuple(noise.shape)} differ")
    alpha_t, sigma_t = process_coefficients(t, process=process)
    alpha_t = append_dims(alpha_t.to(x0.dtype).to(x0.device), x0.ndim)  # [B] -> [B, 1, ...]
    sigma_t = append_dims(sigma_t.to(x0.dtype).to(x0.device), x0.ndim)
    return alpha_t * x0 + sigma_t * noise
