"""Turn log-mel patches into audio a person can listen to (Griffin-Lim) with their spectrograms."""

from __future__ import annotations

from pathlib import Path

import torch

from audiospec.data import write_wav
from audiospec.functional.inversion import mel_to_waveform
from audiospec.report.plots import plot_spectrogram
from audiospec.transforms import MelConfig

__all__ = ["log_mel_to_audio", "write_patch_audio"]


def log_mel_to_audio(log_mel_db: torch.Tensor, *, mel: MelConfig, n_iter: int = 32,
                     length: int | None = None) -> torch.Tensor:
    """Griffin-Lim audio ``[L]`` of one log-mel patch ``[M, T]`` (dB), scaled into [-1, 1] only if it exceeds it."""
    wave = mel_to_waveform(log_mel_db.float(), sample_rate=mel.sample_rate, n_fft=mel.n_fft,
                           hop_length=mel.hop_length, f_min=mel.f_min, f_max=mel.f_max, n_iter=n_iter, length=length)
    return wave / wave.abs().max().clamp_min(1.0)  # within [-1, 1] for PCM, quiet clips untouched


def write_patch_audio(log_mel_db: torch.Tensor, *, mel: MelConfig, out_dir: Path, n_iter: int = 32,
                      title: str = "") -> list[tuple[str, str]]:
    """Write ``sample{i}.wav`` and ``sample{i}.png`` for each log-mel patch ``[n, M, T]`` (dB); returns the names."""
    names = []
    for i, log_mel in enumerate(log_mel_db.float()):
        wave = log_mel_to_audio(log_mel, mel=mel, n_iter=n_iter)
        write_wav(out_dir / f"sample{i}.wav", wave, sample_rate=mel.sample_rate)
        plot_spectrogram(log_mel, out_dir / f"sample{i}.png", title=f"{title} #{i}".strip(), mel=mel)
        names.append((f"sample{i}.wav", f"sample{i}.png"))
    return names
