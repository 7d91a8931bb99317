"""Log-mel -> waveform: PGHI + Griffin-Lim vs Griffin-Lim from zero phase in the same wall time (info).

Input: the last 8 clips by name of each class of the embedded corpus (data/mini/{music,speech},
6 s at 22,050 Hz; 2 per class with ``--quick``; a chirp with harmonics when data/mini is absent,
the JSON says which), analysed with n_fft 1024, hop 256, 64 Slaney mel bands, top_db 80, and
inverted in one batched call of :func:`audiospec.functional.inversion.mel_to_waveform`:

- peer: ``phase_init="zeros"``, 32 Griffin-Lim iterations (torchaudio's algorithm, the old default);
- ours: ``phase_init="pghi"`` with as many iterations as fit in the peer's wall time: 32 minus the
  PGHI cost in Griffin-Lim iterations, both measured here on the same batch.

Quality, in ``extra`` (mean over clips, per class and overall): the log-mel error of the
re-analysed waveform (mean |dB| over the bins within 60 dB of each clip's peak, the quantity
tests/diffusion/test_diffusion_inversion.py bounds) and the spectral convergence
20 log10(|| |STFT y| - A ||_F / ||A||_F) in dB against the inverse-mel magnitude A that the
phase retrieval is given (its own target; lower is better for both). PGHI alone (0 iterations)
is reported beside them. ratio = peer time / our time (about 1 by construction).
"""

from __future__ import annotations

import math
from pathlib import Path

import numpy as np
import torch

from audiospec.data import read_audio
from audiospec.functional.inversion import griffin_lim, inverse_mel_power, mel_to_waveform
from audiospec.functional.mel import log_mel_spectrogram, mel_filterbank
from audiospec.functional.pghi import pghi_phase
from benchmarks.common import Context, Result, time_call

NAME = "inversion"
DESCRIPTION = "log-mel inversion of 16 corpus clips: PGHI + Griffin-Lim vs 32 Griffin-Lim iterations, same time (info)"

SAMPLE_RATE, N_FFT, HOP, N_MELS, TOP_DB = 22050, 1024, 256, 64, 80.0
PEER_ITERS = 32
RANGE_DB = 60.0
MEL = dict(sample_rate=SAMPLE_RATE, n_fft=N_FFT, hop_length=HOP)


def _clips(per_class: int) -> tuple[torch.Tensor, list[str], str]:
    """[B, L] float32 clips, their class labels, and where they came from."""
    root = Path(__file__).resolve().parent.parent / "data" / "mini"
    waves, labels = [], []
    for label in ("music", "speech"):
        for path in sorted((root / label).glob("*.wav"))[-per_class:]:
            waves.append(read_audio(path, sample_rate=SAMPLE_RATE)[0])
            labels.append(label)
    if len(waves) == 2 * per_class:
        length = min(w.shape[-1] for w in waves)
        return torch.stack([w[:length] for w in waves]), labels, f"data/mini, last {per_class} clips per class"
    t = np.arange(6 * SAMPLE_RATE) / SAMPLE_RATE
    clips = []
    for k in range(2 * per_class):  # a 150 -> 1500 Hz chirp with 6 harmonics, one start frequency per clip
        phase = 2 * np.pi * np.cumsum(150.0 * (1 + k / 8) + 225.0 * t) / SAMPLE_RATE
        clips.append(sum(0.4 / h * np.sin(h * phase) for h in range(1, 7)))
    return torch.from_numpy(np.stack(clips)).float(), ["chirp"] * len(clips), "synthetic chirps (no data/mini)"


def _log_mel(x: torch.Tensor) -> torch.Tensor:
    return log_mel_spectrogram(x, n_mels=N_MELS, top_db=TOP_DB, **MEL)  # [..., M, T]


def _errors(y: torch.Tensor, log_mel: torch.Tensor, magnitude: torch.Tensor) -> tuple[list[float], list[float]]:
    """Per clip: log-mel error (mean |dB| on bins within RANGE_DB of the peak) and spectral convergence (dB)."""
    window = torch.hann_window(N_FFT, periodic=True, dtype=y.dtype)
    rebuilt = torch.stft(y, N_FFT, HOP, window=window, center=True, pad_mode="constant", return_complex=True).abs()
    mel_err, sc = [], []
    for S, S2, A, R in zip(log_mel, _log_mel(y), magnitude.to(y.dtype), rebuilt):
        loud = S > S.amax() - RANGE_DB
        mel_err.append((S2 - S)[loud].abs().mean().item())
        sc.append(20.0 * math.log10(((R - A).norm() / A.norm()).item()))
    return mel_err, sc


def _summary(values: list[float], labels: list[str]) -> dict[str, float]:
    out = {label: float(np.mean([v for v, l in zip(values, labels) if l == label])) for label in dict.fromkeys(labels)}
    out["all"] = float(np.mean(values))
    return out


def run(ctx: Context) -> list[Result]:
    per_class = 2 if ctx.quick else 8
    repeats = 1 if ctx.quick else 3  # one batched call is ~10 s per 8 clips on one core
    clips, labels, source = _clips(per_class)
    S = _log_mel(clips)  # [B, M, T]
    B, _, T = S.shape
    fb = mel_filterbank(sample_rate=SAMPLE_RATE, n_fft=N_FFT, n_mels=N_MELS, dtype=torch.float64)
    magnitude = inverse_mel_power(10.0 ** (S.double() / 10.0), filterbank=fb).sqrt()  # [B, K, T], what GL is given
    mel_to_waveform(S[:1], **MEL, n_iter=2, phase_init="pghi")  # warm-up (allocator, FFT plans)

    # stage costs on the same batch, to size our iteration count to the peer's wall time
    mag32 = magnitude.float()
    gl = time_call(lambda: griffin_lim(mag32, n_fft=N_FFT, hop_length=HOP, n_iter=PEER_ITERS), warmup=0, repeats=1)
    pghi = time_call(lambda: pghi_phase(magnitude, n_fft=N_FFT, hop_length=HOP), warmup=0, repeats=1)
    per_iter = gl.median_s / PEER_ITERS
    ours_iters = max(0, math.floor(PEER_ITERS - pghi.median_s / per_iter))

    out: dict[str, torch.Tensor] = {}

    def peer() -> None:
        out["zeros"] = mel_to_waveform(S, **MEL, n_iter=PEER_ITERS, phase_init="zeros")

    def ours() -> None:
        out["pghi"] = mel_to_waveform(S, **MEL, n_iter=ours_iters, phase_init="pghi")

    peer_t = time_call(peer, warmup=0, repeats=repeats)
    ours_t = time_call(ours, warmup=0, repeats=repeats)
    runs = {f"zeros + {PEER_ITERS} GL (peer)": out["zeros"], f"pghi + {ours_iters} GL (ours, same time)": out["pghi"]}
    for n_iter in sorted({0, PEER_ITERS} - {ours_iters}):  # PGHI alone, and PGHI as if it cost nothing
        runs[f"pghi + {n_iter} GL"] = mel_to_waveform(S, **MEL, n_iter=n_iter, phase_init="pghi")
    quality = {}
    for key, y in runs.items():
        mel_err, sc = _errors(y, S, magnitude)
        quality[key] = {"log_mel_error_db": _summary(mel_err, labels), "spectral_convergence_db": _summary(sc, labels)}
    errors = [q["log_mel_error_db"]["all"] for q in quality.values()]
    gain = 1.0 - errors[1] / errors[0]  # relative log-mel error reduction of ours vs the peer
    case = f"{B} clips x {clips.shape[-1] / SAMPLE_RATE:.0f} s, n_fft {N_FFT}, hop {HOP}, {N_MELS} mels, {T} frames"
    extra = {
        "input": source,
        "ours_iterations": ours_iters,
        "peer_iterations": PEER_ITERS,
        "stages_s": {"griffin_lim_32_iterations": gl.median_s, "pghi_phase": pghi.median_s,
                     "pghi_in_griffin_lim_iterations": pghi.median_s / per_iter},
        "quality": quality,
        "log_mel_error_reduction": gain,
    }
    return [Result(NAME, case, f"mel_to_waveform pghi + {ours_iters} GL", f"mel_to_waveform zeros + {PEER_ITERS} GL",
                   ours_t, peer_t, "info", extra=extra)]
