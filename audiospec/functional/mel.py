"""Log-mel spectrograms via torch.stft and torchaudio's mel filterbank.

The filterbank is built here in float64 (torchaudio's ``melscale_fbanks`` places the bins
at ``linspace(0, sample_rate // 2)``, which is off for odd n_fft and odd rates).
Defaults equal librosa's ``feature.melspectrogram`` + ``power_to_db``: n_fft=2048,
hop_length=512, Hann window, center=True with zero ("constant") padding, power=2,
128 Slaney-normalised Slaney-scale mel bands from 0 Hz to Nyquist, and
10 log10(max(S, amin) / ref) with amin=1e-10, ref=1, top_db=80.
"""

from __future__ import annotations

from typing import Literal

import math
import warnings

import torch

from audiospec.errors import AudiospecError
from audiospec.functional._complex import squared_magnitude_
from audiospec.functional._shape import check_finite, check_min_length

__all__ = ["hz_to_mel", "mel_to_hz", "mel_filterbank", "stft_power", "power_to_db", "log_mel_spectrogram"]

MelNorm = Literal["slaney"] | None
MelScaleName = Literal["slaney", "htk"]
PadMode = Literal["constant", "reflect"]

# Slaney's Auditory Toolbox mel scale (librosa's default, htk=False)
_SLANEY_HZ_PER_MEL = 200.0 / 3.0
_SLANEY_MIN_LOG_HZ = 1000.0
_SLANEY_MIN_LOG_MEL = _SLANEY_MIN_LOG_HZ / _SLANEY_HZ_PER_MEL
_SLANEY_LOGSTEP = math.log(6.4) / 27.0
_FRAME_BLOCK = 256  # STFT frames per FFT call in log_mel_spectrogram


def hz_to_mel(freqs: torch.Tensor, *, mel_scale: MelScaleName = "slaney") -> torch.Tensor:
    """Hz -> mel. Slaney: linear below 1 kHz (3 mels per 200 Hz), logarithmic above; HTK: 2595 log10(1 + f/700)."""
    freqs = torch.as_tensor(freqs, dtype=torch.float64)
    if mel_scale == "htk":
        return 2595.0 * torch.log10(1.0 + freqs / 700.0)
    if mel_scale != "slaney":
        raise AudiospecError(f"unknown mel_scale {mel_scale!r}; choose 'slaney' or 'htk'")
    linear = freqs / _SLANEY_HZ_PER_MEL
    logarithmic = _SLANEY_MIN_LOG_MEL + torch.log(freqs.clamp_min(_SLANEY_MIN_LOG_HZ) / _SLANEY_MIN_LOG_HZ) / _SLANEY_LOGSTEP
    return torch.where(freqs >= _SLANEY_MIN_LOG_HZ, logarithmic, linear)


def mel_to_hz(mels: torch.Tensor, *, mel_scale: MelScaleName = "slaney") -> torch.Tensor:
    """Inverse of :func:`hz_to_mel`."""
    mels = torch.as_tensor(mels, dtype=torch.float64)
    if mel_scale == "htk":
        return 700.0 * (10.0 ** (mels / 2595.0) - 1.0)
    if mel_scale != "slaney":
        raise AudiospecError(f"unknown mel_scale {mel_scale!r}; choose 'slaney' or 'htk'")
    linear = mels * _SLANEY_HZ_PER_MEL
    logarithmic = _SLANEY_MIN_LOG_HZ * torch.exp(_SLANEY_LOGSTEP * (mels - _SLANEY_MIN_LOG_MEL))
    return torch.where(mels >= _SLANEY_MIN_LOG_MEL, logarithmic, linear)


def mel_filterbank(
    *,
    sample_rate: int,
    n_fft: int,
    n_mels: int = 128,
    f_min: float = 0.0,
    f_max: float | None = None,
    norm: MelNorm = "slaney",
    mel_scale: MelScaleName = "slaney",
    device: torch.device | str | None = None,
    dtype: torch.dtype = torch.float32,
) -> torch.Tensor:
    """Triangular mel filterbank ``[n_fft // 2 + 1, n_mels]``, built in float64 as librosa does.

    Triangles span n_mels + 2 points evenly spaced in mel between ``f_min`` and ``f_max``,
    evaluated at the true bin frequencies k * sample_rate / n_fft; ``norm="slaney"``
    scales each to unit area (2 / bandwidth). Equals ``librosa.filters.mel(...).T``.

    Args:
        sample_rate: sampling rate in Hz, > 0.
        n_fft: FFT size, >= 2 (K = n_fft // 2 + 1 frequency bins).
        n_mels: number of mel bands, >= 1.
        f_min: lowest band edge in Hz, >= 0.
        f_max: highest band edge in Hz, <= Nyquist (default Nyquist).
        norm: ``"slaney"`` (unit-area triangles) or ``None`` (peak 1).
        mel_scale: ``"slaney"`` (librosa's default) or ``"htk"``.
        device: device of the result.
        dtype: dtype of the result (built in float64, then cast).

    Returns:
        Filterbank ``[n_fft // 2 + 1, n_mels]``: ``power[..., K, T]`` -> mel ``[..., n_mels, T]``
        is ``fb.T @ power``.

    Raises:
        AudiospecError: a non-positive ``sample_rate``, not 0 <= f_min < f_max <= Nyquist,
            ``n_mels`` < 1, ``n_fft`` < 2 or an unknown ``norm`` / ``mel_scale``.
    """
    if sample_rate <= 0:
        raise AudiospecError(f"sample_rate must be positive, got {sample_rate!r}")
    f_max = sample_rate / 2.0 if f_max is None else f_max
    if not 0.0 <= f_min < f_max <= sample_rate / 2.0:
        raise AudiospecError(
            f"need 0 <= f_min < f_max <= Nyquist ({sample_rate / 2.0} Hz), got f_min={f_min}, f_max={f_max}"
        )
    if n_mels < 1 or n_fft < 2:
        raise AudiospecError(f"need n_mels >= 1 and n_fft >= 2, got n_mels={n_mels}, n_fft={n_fft}")
    if norm not in ("slaney", None):
        raise AudiospecError(f"unknown mel norm {norm!r}; choose 'slaney' or None")
    bins = torch.fft.rfftfreq(n_fft, d=1.0 / sample_rate, dtype=torch.float64)  # [K] Hz
    edges = mel_to_hz(
        torch.linspace(float(hz_to_mel(f_min, mel_scale=mel_scale)), float(hz_to_mel(f_max, mel_scale=mel_scale)),
                       n_mels + 2, dtype=torch.float64),
        mel_scale=mel_scale,
    )  # [n_mels + 2] Hz
    widths = edges.diff()  # [n_mels + 1]
    ramps = edges[:, None] - bins[None, :]  # [n_mels + 2, K]
    rising = -ramps[:-2] / widths[:-1, None]  # [n_mels, K]
    falling = ramps[2:] / widths[1:, None]
    fb = torch.clamp(torch.minimum(rising, falling), min=0.0)  # [n_mels, K]
    if norm == "slaney":
        fb = fb * (2.0 / (edges[2:] - edges[:-2]))[:, None]
    return fb.transpose(0, 1).to(device=device, dtype=dtype)


def stft_power(
    waveform: torch.Tensor,
    *,
    n_fft: int = 2048,
    hop_length: int = 512,
    window: torch.Tensor | None = None,
    center: bool = True,
    pad_mode: PadMode = "constant",
    power: float = 2.0,
) -> torch.Tensor:
    """|STFT|^power of ``waveform`` ``[..., L]`` -> ``[..., n_fft // 2 + 1, T]`` (frames as ``torch.stft``).

    ``window`` defaults to a periodic Hann window of ``n_fft`` samples.

    Args:
        waveform: signals ``[..., L]``.
        n_fft: FFT size, >= 2.
        hop_length: frame step in samples, >= 1.
        window: window ``[n_fft]`` (default periodic Hann).
        center: pad ``n_fft // 2`` samples on each side so frame t is centred on t * hop_length.
        pad_mode: ``"constant"`` (zeros, librosa's default) or ``"reflect"``.
        power: exponent of the magnitude (2: power, 1: magnitude).

    Returns:
        ``[..., n_fft // 2 + 1, T]`` with T = 1 + L // hop_length when ``center``, else
        1 + (L - n_fft) // hop_length.

    Raises:
        AudiospecError: ``n_fft`` < 2, ``hop_length`` < 1, a signal too short for one frame
            (or for reflect padding), or NaN / Inf samples.
    """
    frames = _frames(waveform, n_fft=n_fft, hop_length=hop_length, center=center, pad_mode=pad_mode)  # [N, T, n_fft]
    if window is None:
        window = torch.hann_window(n_fft, periodic=True, device=waveform.device, dtype=waveform.dtype)
    magnitude = torch.fft.rfft(frames * window).abs()  # [N, T, K]
    spec = (magnitude.pow(power) if power != 1.0 else magnitude).transpose(-1, -2)  # [N, K, T]
    return spec.reshape(*waveform.shape[:-1], *spec.shape[-2:])


def power_to_db(
    power: torch.Tensor, *, ref: float = 1.0, amin: float = 1e-10, top_db: float | None = 80.0
) -> torch.Tensor:
    """10 log10(max(S, amin) / ref), floored at (max - top_db) per spectrogram ``[..., F, T]``.

    Same as ``librosa.power_to_db`` applied to each spectrogram (the max is taken over
    the last two dims, not over the whole batch).

    Args:
        power: non-negative power spectrograms ``[..., F, T]``.
        ref: reference power (0 dB), > 0.
        amin: smallest power before the log, > 0.
        top_db: dynamic range kept below each spectrogram's maximum, >= 0; ``None`` keeps all.

    Returns:
        Spectrograms in dB, ``[..., F, T]`` like ``power``.

    Raises:
        AudiospecError: ``amin`` or ``ref`` <= 0, ``top_db`` < 0, fewer than 2 dims, or negative,
            NaN or Inf power.
    """
    if amin <= 0 or ref <= 0:
        raise AudiospecError(f"amin and ref must be positive, got amin={amin}, ref={ref}")
    if top_db is not None and top_db < 0:
        raise AudiospecError(f"top_db must be non-negative, got {top_db}")
    if power.ndim < 2:
        raise AudiospecError(f"power_to_db needs spectrograms [..., F, T], got shape {tuple(power.shape)}")
    check_finite(power, name="power spectrogram")
    if bool((power < 0).any()):
        raise AudiospecError("power spectrogram must be non-negative; pass |STFT|^2 (power), not a signed signal")
    return _to_db(power, ref=ref, amin=amin, top_db=top_db)


def _to_db(power: torch.Tensor, *, ref: float, amin: float, top_db: float | None) -> torch.Tensor:
    """The dB conversion of :func:`power_to_db`, without its input checks (for validated power)."""
    db = 10.0 * torch.log10(power.clamp_min(amin)) - 10.0 * math.log10(max(amin, ref))
    if top_db is not None:
        db = torch.maximum(db, db.amax(dim=(-2, -1), keepdim=True) - top_db)
    return db


def log_mel_spectrogram(
    waveform: torch.Tensor,
    *,
    sample_rate: int = 22050,
    n_fft: int = 2048,
    hop_length: int = 512,
    n_mels: int = 128,
    f_min: float = 0.0,
    f_max: float | None = None,
    power: float = 2.0,
    center: bool = True,
    pad_mode: PadMode = "constant",
    norm: MelNorm = "slaney",
    mel_scale: MelScaleName = "slaney",
    ref: float = 1.0,
    amin: float = 1e-10,
    top_db: float | None = 80.0,
    filterbank: torch.Tensor | None = None,
    window: torch.Tensor | None = None,
) -> torch.Tensor:
    """Log-mel spectrogram in dB: ``[..., L] -> [..., n_mels, T]``, T = 1 + L // hop_length (center=True).

    ``filterbank`` ``[n_fft // 2 + 1, n_mels]`` and ``window`` ``[n_fft]`` may be passed
    precomputed (as :class:`audiospec.transforms.LogMelSpectrogram` does); otherwise they
    are built from the other arguments.

    Args:
        waveform: signals ``[..., L]``.
        sample_rate: sampling rate in Hz (for the filterbank).
        n_fft: FFT size, >= 2.
        hop_length: frame step in samples, >= 1.
        n_mels: number of mel bands.
        f_min: lowest band edge in Hz.
        f_max: highest band edge in Hz (default Nyquist).
        power: exponent of the STFT magnitude before the filterbank (2: power).
        center: pad ``n_fft // 2`` samples on each side (librosa's default).
        pad_mode: ``"constant"`` (zeros) or ``"reflect"``.
        norm: mel band normalisation, ``"slaney"`` or ``None``.
        mel_scale: ``"slaney"`` or ``"htk"``.
        ref: reference power (0 dB), > 0.
        amin: smallest power before the log, > 0.
        top_db: dynamic range kept below each spectrogram's maximum; ``None`` keeps all.
        filterbank: precomputed filterbank ``[n_fft // 2 + 1, n_mels]`` (overrides the mel arguments).
        window: precomputed window ``[n_fft]`` (default periodic Hann).

    Returns:
        Log-mel spectrograms in dB ``[..., n_mels, T]`` in the waveform's dtype.

    Raises:
        AudiospecError: a filterbank with other than ``n_fft // 2 + 1`` rows, ``amin`` or ``ref``
            <= 0, ``top_db`` < 0, bad STFT or filterbank settings, a signal too short for one
            frame, or NaN / Inf samples.
    """
    if filterbank is None:
        filterbank = mel_filterbank(
            sample_rate=sample_rate, n_fft=n_fft, n_mels=n_mels, f_min=f_min, f_max=f_max,
            norm=norm, mel_scale=mel_scale, device=waveform.device, dtype=waveform.dtype,
        )
    if filterbank.shape[0] != n_fft // 2 + 1:
        raise AudiospecError(f"filterbank has {filterbank.shape[0]} rows, n_fft={n_fft} needs {n_fft // 2 + 1}")
    if amin <= 0 or ref <= 0 or (top_db is not None and top_db < 0):
        raise AudiospecError(f"need amin > 0, ref > 0, top_db >= 0 or None; got amin={amin}, ref={ref}, top_db={top_db}")
    frames = _frames(waveform, n_fft=n_fft, hop_length=hop_length, center=center, pad_mode=pad_mode, check=False)
    if window is None:
        window = torch.hann_window(n_fft, periodic=True, device=waveform.device, dtype=waveform.dtype)
    with warnings.catch_warnings():  # CSR support is marked beta; it is exact and 2x faster than dense here
        warnings.simplefilter("ignore", UserWarning)
        fb_t = filterbank.transpose(0, 1).to(waveform.dtype).contiguous().to_sparse_csr()  # [M, K]
    N, T, _ = frames.shape
    mel = torch.empty(N, fb_t.shape[0], T, dtype=waveform.dtype, device=waveform.device)
    for i in range(N):  # frame blocks keep the FFT temporaries in cache (2-4x faster than one big STFT)
        for j in range(0, T, _FRAME_BLOCK):
            coeffs = torch.fft.rfft(frames[i, j : j + _FRAME_BLOCK] * window)  # [t, K]
            spec = squared_magnitude_(coeffs)
            if power != 2.0:
                spec = spec.pow(power / 2.0)
            mel[i, :, j : j + _FRAME_BLOCK] = torch.sparse.mm(fb_t, spec.transpose(0, 1))  # [M, K] @ [K, t]
    if not bool(torch.isfinite(mel).all()):  # a NaN/Inf sample spreads over its frames: name the input
        check_finite(waveform, name="waveform")
    db = _to_db(mel, ref=ref, amin=amin, top_db=top_db)
    return db.reshape(*waveform.shape[:-1], *db.shape[-2:])


def _frames(
    waveform: torch.Tensor, *, n_fft: int, hop_length: int, center: bool, pad_mode: PadMode, check: bool = True
) -> torch.Tensor:
    """Overlapping frames (a view where possible): ``[..., L] -> [N, T, n_fft]`` as torch.stft frames them.

    ``check=False`` skips the NaN/Inf scan of the input, for callers that check their output instead.
    """
    if check:
        check_finite(waveform, name="waveform")
    if hop_length < 1 or n_fft < 2:
        raise AudiospecError(f"need n_fft >= 2 and hop_length >= 1, got n_fft={n_fft}, hop_length={hop_length}")
    check_min_length(waveform, minimum=1, name="waveform")
    flat = waveform.reshape(-1, waveform.shape[-1])  # [N, L]
    if center:
        if pad_mode == "reflect" and flat.shape[-1] <= n_fft // 2:
            raise AudiospecError(f"reflect padding needs more than n_fft // 2 = {n_fft // 2} samples, got {flat.shape[-1]}")
        flat = torch.nn.functional.pad(flat.unsqueeze(1), (n_fft // 2, n_fft // 2), mode=pad_mode).squeeze(1)
    check_min_length(flat, minimum=n_fft, name="waveform")
    return flat.unfold(-1, n_fft, hop_length)
