"""Turn log-mel patches into audio a person can listen to (Griffin-Lim) with their spectrograms.

What a listener hears is what the analysis used: a set of files meant to be compared
(a clean clip and its noised versions, or one generated clip) is scaled by one gain
(:func:`listening_gain`) that keeps its loudest sample below full scale, so 16-bit PCM
never clips and the SNR between the files is unchanged; the gain is recorded beside them.
"""

from __future__ import annotations

from pathlib import Path
from typing import Sequence

import torch

from audiospec.data import write_wav
from audiospec.functional.inversion import mel_to_waveform
from audiospec.report.plots import plot_spectrogram
from audiospec.transforms import MelConfig

__all__ = ["PEAK", "listening_gain", "log_mel_to_audio", "write_patch_audio", "trajectory_points", "committed_bands"]

PEAK = 0.98  # the loudest sample of a listening set after scaling (-0.18 dBFS): never exactly full scale


def listening_gain(waves: Sequence[torch.Tensor], *, peak: float = PEAK) -> float:
    """One gain for a set of waveforms: ``peak / max |x|`` over the set when that exceeds ``peak``, else 1."""
    loudest = max(float(w.abs().max()) for w in waves)
    return peak / loudest if loudest > peak else 1.0


def log_mel_to_audio(log_mel_db: torch.Tensor, *, mel: MelConfig, n_iter: int = 32,
                     length: int | None = None) -> torch.Tensor:
    """Griffin-Lim audio ``[L]`` of one log-mel patch ``[M, T]`` (dB), unscaled (see :func:`listening_gain`)."""
    return mel_to_waveform(log_mel_db.float(), sample_rate=mel.sample_rate, n_fft=mel.n_fft,
                           hop_length=mel.hop_length, f_min=mel.f_min, f_max=mel.f_max, n_iter=n_iter, length=length)


def write_patch_audio(log_mel_db: torch.Tensor, *, mel: MelConfig, out_dir: Path, n_iter: int = 32,
                      title: str = "", titles: Sequence[str] | None = None,
                      stem: str = "sample") -> list[tuple[str, str, float]]:
    """Write ``{stem}{i}.wav`` and ``{stem}{i}.png`` for each log-mel patch ``[n, M, T]`` (dB), one gain each.

    ``titles``: one spectrogram title per patch (default ``"{title} #{i}"``). Returns (wav name,
    png name, gain applied) per patch.
    """
    names = []
    for i, log_mel in enumerate(log_mel_db.float()):
        wave = log_mel_to_audio(log_mel, mel=mel, n_iter=n_iter)
        gain = listening_gain([wave])
        write_wav(out_dir / f"{stem}{i}.wav", gain * wave, sample_rate=mel.sample_rate)
        label = titles[i] if titles is not None else f"{title} #{i}".strip()
        plot_spectrogram(log_mel, out_dir / f"{stem}{i}.png", title=label, mel=mel)
        names.append((f"{stem}{i}.wav", f"{stem}{i}.png", gain))
    return names


def trajectory_points(times: Sequence[float], n_points: int = 6) -> list[int]:
    """Indices of about ``n_points`` recorded steps spread evenly from the first (noise) to the last (data)."""
    last = len(times) - 1
    return sorted({round(k * last / (n_points - 1)) for k in range(n_points)})


def committed_bands(t: float, commit_t: Sequence[float]) -> int:
    """How many bands have committed by time ``t`` (their commit time is at or above t; sampling runs 1 -> 0)."""
    return sum(1 for c in commit_t if c >= t)
