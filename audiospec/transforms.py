"""Thin ``nn.Module`` wrappers that hold buffers and call :mod:`audiospec.functional`."""

from __future__ import annotations

from dataclasses import dataclass

import torch
from torch import nn

from audiospec.errors import AudiospecError
from audiospec.functional.mel import log_mel_spectrogram, mel_filterbank
from audiospec.functional.rapsd import RadialSpectrum, RapsdMode, RapsdWindow, RingMap, RingStep, rapsd, ring_map

__all__ = ["MelConfig", "LogMelSpectrogram", "RAPSD"]


@dataclass(frozen=True)
class MelConfig:
    """Log-mel settings. Defaults are librosa's except ``n_mels`` = 64 (the model's patch height)."""

    sample_rate: int = 22050
    n_fft: int = 2048
    hop_length: int = 512
    n_mels: int = 64
    f_min: float = 0.0
    f_max: float | None = None
    top_db: float | None = 80.0

    def __post_init__(self) -> None:
        if self.sample_rate <= 0 or self.n_fft < 2 or self.hop_length < 1 or self.n_mels < 1:
            raise AudiospecError(
                f"invalid mel settings: sample_rate={self.sample_rate}, n_fft={self.n_fft}, "
                f"hop_length={self.hop_length}, n_mels={self.n_mels} (all must be positive, n_fft >= 2)"
            )
        f_max = self.sample_rate / 2 if self.f_max is None else self.f_max
        if not 0 <= self.f_min < f_max <= self.sample_rate / 2:
            raise AudiospecError(
                f"need 0 <= f_min < f_max <= {self.sample_rate / 2} Hz, got f_min={self.f_min}, f_max={self.f_max}"
            )
        self._check_filters()

    def _check_filters(self) -> None:
        """Every mel filter must cover an FFT bin: with too many mels for ``n_fft`` the low ones are empty (all-zero
        rows of the log-mel, librosa's "Empty filters detected") and every spectrum is silently wrong."""
        fb = mel_filterbank(sample_rate=self.sample_rate, n_fft=self.n_fft, n_mels=self.n_mels, f_min=self.f_min,
                            f_max=self.f_max, dtype=torch.float64)  # [n_fft // 2 + 1, n_mels]
        empty = int((fb.amax(dim=0) == 0).sum())
        if empty:
            raise AudiospecError(
                f"n_mels={self.n_mels} is too many for n_fft={self.n_fft} at sample_rate={self.sample_rate} "
                f"(f_min={self.f_min}, f_max={self.f_max}): {empty} of the {self.n_mels} mel filters cover no FFT "
                "bin and would be empty; lower n_mels or raise n_fft"
            )

    def frames(self, n_samples: int) -> int:
        """Number of STFT frames of a clip of ``n_samples`` (center=True)."""
        return 1 + n_samples // self.hop_length


class LogMelSpectrogram(nn.Module):
    """``[..., L] -> [..., n_mels, T]`` log-mel in dB; holds the filterbank and window as buffers."""

    fb: torch.Tensor
    window: torch.Tensor

    def __init__(self, config: MelConfig = MelConfig()) -> None:
        super().__init__()
        self.config = config
        fb = mel_filterbank(
            sample_rate=config.sample_rate, n_fft=config.n_fft, n_mels=config.n_mels,
            f_min=config.f_min, f_max=config.f_max, dtype=torch.float64,
        )
        self.register_buffer("fb", fb, persistent=False)
        # float64 buffers, cast to the input dtype per call, so float64 inputs stay exact
        self.register_buffer("window", torch.hann_window(config.n_fft, periodic=True, dtype=torch.float64),
                             persistent=False)

    def forward(self, waveform: torch.Tensor) -> torch.Tensor:
        c = self.config
        return log_mel_spectrogram(
            waveform, sample_rate=c.sample_rate, n_fft=c.n_fft, hop_length=c.hop_length, n_mels=c.n_mels,
            f_min=c.f_min, f_max=c.f_max, top_db=c.top_db,
            filterbank=self.fb.to(waveform.dtype), window=self.window.to(waveform.dtype),
        )


class RAPSD(nn.Module):
    """RAPSD of fields of a fixed size ``[..., H, W]``; holds the ring map as buffers."""

    def __init__(
        self, height: int, width: int, *, mode: RapsdMode = "normalized", window: RapsdWindow = None,
        ring_step: RingStep = "fine",
    ) -> None:
        super().__init__()
        self.height, self.width, self.mode, self.window, self.ring_step = height, width, mode, window, ring_step
        for name, tensor in ring_map(height, width, mode=mode, ring_step=ring_step)._asdict().items():
            self.register_buffer(name, tensor, persistent=False)

    def forward(self, field: torch.Tensor) -> RadialSpectrum:
        if tuple(field.shape[-2:]) != (self.height, self.width):
            raise AudiospecError(
                f"this RAPSD module was built for {self.height} x {self.width} fields, got {tuple(field.shape[-2:])}"
            )
        rings = RingMap(**{name: getattr(self, name) for name in RingMap._fields})
        return rapsd(field, mode=self.mode, window=self.window, rings=rings)
