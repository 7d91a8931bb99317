"""Power spectra of waveforms ``[..., L]`` and their log-domain average across clips.

The scaling is scipy's ``scaling="density"`` (power per Hz, one-sided): for a window w
and P_k = c_k |FFT(w * (x - mean))_k|^2 / (fs * sum w^2), with c_k = 2 except at DC and
(for even lengths) Nyquist. So sum_k P_k * df equals the variance of x (Parseval).
"""

from __future__ import annotations

from typing import Literal, NamedTuple

import torch

from audiospec.errors import AudiospecError
from audiospec.functional._complex import squared_magnitude_
from audiospec.functional._shape import check_finite, check_min_length

__all__ = ["Spectrum", "power_spectrum", "log_domain_mean", "onesided_scale"]

SpectrumMethod = Literal["welch", "periodogram"]
_CLIP_BLOCK = 4  # clips per FFT call in power_spectrum
Window = Literal["hann", "boxcar"]


class Spectrum(NamedTuple):
    """A one-sided power spectrum: ``freqs`` ``[K]`` in Hz, ``power`` ``[..., K]`` per Hz.

    Attributes:
        freqs: bin frequencies ``[K]`` in Hz (float64), 0 to Nyquist.
        power: power spectral density ``[..., K]`` (power per Hz) in the input's dtype.
    """

    freqs: torch.Tensor
    power: torch.Tensor


def _window(kind: Window, n: int, *, device: torch.device, dtype: torch.dtype) -> torch.Tensor:
    if kind == "hann":
        return torch.hann_window(n, periodic=True, device=device, dtype=dtype)  # scipy get_window("hann", n)
    if kind == "boxcar":
        return torch.ones(n, device=device, dtype=dtype)
    raise AudiospecError(f"unknown window {kind!r}; choose 'hann' or 'boxcar'")


def onesided_scale(n_fft: int, *, device: torch.device | None = None, dtype: torch.dtype = torch.float64) -> torch.Tensor:
    """Factor c_k folding negative frequencies into a one-sided spectrum: ``[n_fft // 2 + 1]``."""
    scale = torch.full((n_fft // 2 + 1,), 2.0, device=device, dtype=dtype)
    scale[0] = 1.0
    if n_fft % 2 == 0:
        scale[-1] = 1.0
    return scale


def power_spectrum(
    waveform: torch.Tensor,
    *,
    sample_rate: float,
    method: SpectrumMethod = "welch",
    n_fft: int = 2048,
    hop_length: int | None = None,
    window: Window = "hann",
    detrend: bool = True,
) -> Spectrum:
    """One-sided power spectral density of ``waveform`` ``[..., L]``.

    ``method="welch"`` averages the periodograms of frames of ``n_fft`` samples taken
    every ``hop_length`` (default ``n_fft // 2``); it equals ``scipy.signal.welch(x, fs,
    window, nperseg=n_fft, noverlap=n_fft - hop_length, detrend="constant")``.
    ``method="periodogram"`` uses the whole signal (``n_fft`` ignored) and equals
    ``scipy.signal.periodogram(x, fs, window, detrend="constant")``. ``detrend``
    subtracts each frame's mean. Computed in the input's floating dtype (float64 input
    equals scipy to ~1e-12); returns ``freqs`` ``[K]`` (Hz, float64) and ``power`` ``[..., K]``.

    Args:
        waveform: signals ``[..., L]``; integer input is computed in float64.
        sample_rate: sampling rate in Hz, > 0.
        method: ``"welch"`` (averaged frames) or ``"periodogram"`` (the whole signal).
        n_fft: frame length in samples for Welch, >= 2 and <= L; K = n_fft // 2 + 1.
        hop_length: frame step for Welch, >= 1 (default ``n_fft // 2``).
        window: ``"hann"`` (periodic, as scipy's ``get_window``) or ``"boxcar"``.
        detrend: subtract each frame's mean before the FFT.

    Returns:
        :class:`Spectrum` with ``freqs`` ``[K]`` and ``power`` ``[..., K]``, K = n_fft // 2 + 1
        (Welch) or L // 2 + 1 (periodogram); ``sum(power) * df`` is the variance (Parseval).

    Raises:
        AudiospecError: a non-positive ``sample_rate``, an unknown ``method`` or ``window``,
            ``n_fft`` < 2, ``hop_length`` < 1, a signal shorter than ``n_fft`` (or than 2
            samples for the periodogram), or NaN / Inf samples.
    """
    if sample_rate <= 0:
        raise AudiospecError(f"sample_rate must be positive, got {sample_rate!r}")
    if method not in ("welch", "periodogram"):
        raise AudiospecError(f"unknown spectrum method {method!r}; choose 'welch' or 'periodogram'")
    check_finite(waveform, name="waveform")
    x = waveform if torch.is_floating_point(waveform) else waveform.to(torch.float64)
    if method == "periodogram":
        check_min_length(x, minimum=2, name="waveform")
        n_fft, hop_length = x.shape[-1], x.shape[-1]
    else:
        if n_fft < 2:
            raise AudiospecError(f"n_fft must be >= 2, got {n_fft}")
        hop_length = n_fft // 2 if hop_length is None else hop_length
        if hop_length < 1:
            raise AudiospecError(f"hop_length must be >= 1, got {hop_length}")
        check_min_length(x, minimum=n_fft, name="waveform")
    win = _window(window, n_fft, device=x.device, dtype=x.dtype)
    scale = (onesided_scale(n_fft, device=x.device) / (sample_rate * float(win.double().pow(2).sum()))).to(x.dtype)
    flat = x.reshape(-1, x.shape[-1])  # [N, L]
    power = torch.empty(flat.shape[0], n_fft // 2 + 1, dtype=x.dtype, device=x.device)
    for start in range(0, flat.shape[0], _CLIP_BLOCK):  # blocks keep the frame temporaries small
        frames = flat[start : start + _CLIP_BLOCK].unfold(-1, n_fft, hop_length)  # [n, S, n_fft] (a view)
        if detrend:
            frames = frames - frames.mean(dim=-1, keepdim=True)
        coeffs = torch.fft.rfft(frames * win, dim=-1)  # [n, S, K]
        power[start : start + _CLIP_BLOCK] = squared_magnitude_(coeffs).mean(dim=-2) * scale
    freqs = torch.fft.rfftfreq(n_fft, d=1.0 / sample_rate, dtype=torch.float64, device=x.device)
    return Spectrum(freqs=freqs, power=power.reshape(*x.shape[:-1], -1))


def log_domain_mean(power: torch.Tensor, *, dim: int | tuple[int, ...] = 0, floor: float = 1e-30) -> torch.Tensor:
    """Geometric mean exp(mean(log P)) along ``dim``: the average of spectra in the log domain.

    Values below ``floor`` (e.g. exact zeros from digital silence) are clamped to it
    so that one silent clip cannot drive the average to zero.

    Args:
        power: non-negative power spectra, e.g. ``[N, K]`` (one per clip).
        dim: the dimension(s) averaged over (default 0, the clips).
        floor: values below it are clamped to it before the log.

    Returns:
        The geometric mean, ``power``'s shape without ``dim`` (``[K]`` for ``[N, K]`` and ``dim=0``).

    Raises:
        AudiospecError: negative, NaN or Inf power.
    """
    check_finite(power, name="power spectrum")
    if bool((power < 0).any()):
        raise AudiospecError("power spectra must be non-negative")
    return torch.exp(torch.log(power.clamp_min(floor)).mean(dim=dim))
