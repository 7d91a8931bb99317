"""Cepstrum (MFCC) of log-mel spectrograms: ours vs ``librosa.feature.mfcc(S=log_mel, n_mfcc=20)``.

No target in DESIGN.md; reported for information. Input: the dB log-mel of a batch of 8
30-s clips (2 with ``--quick``), [B, 128, 1292] float32, computed once by librosa.
"""

from __future__ import annotations

import librosa
import torch

from audiospec.functional import cepstrum
from benchmarks.bench_log_mel import SAMPLE_RATE, make_clips
from benchmarks.common import Context, Result, time_call

NAME = "cepstrum"
DESCRIPTION = "cepstrum(log_mel, n_coeffs=20) vs librosa.feature.mfcc(S=log_mel, n_mfcc=20) (no target)"


def run(ctx: Context) -> list[Result]:
    n_clips = 2 if ctx.quick else 8
    clips = make_clips(n_clips, ctx.seed)
    log_mel = librosa.power_to_db(librosa.feature.melspectrogram(y=clips, sr=SAMPLE_RATE))  # [B, 128, T]
    x = torch.from_numpy(log_mel)
    case = f"{n_clips} x {log_mel.shape[-2]}x{log_mel.shape[-1]} float32"
    ours = time_call(lambda: cepstrum(x, n_coeffs=20), warmup=ctx.warmup, repeats=ctx.repeats)
    peer_batched = time_call(lambda: librosa.feature.mfcc(S=log_mel, n_mfcc=20), warmup=ctx.warmup,
                             repeats=ctx.repeats)
    peer_loop = time_call(lambda: [librosa.feature.mfcc(S=s, n_mfcc=20) for s in log_mel], warmup=ctx.warmup,
                          repeats=ctx.repeats)
    return [
        Result(NAME, case, "cepstrum(n_coeffs=20)", "librosa mfcc on the [B, M, T] array", ours, peer_batched, "info"),
        Result(NAME, case, "cepstrum(n_coeffs=20)", "librosa mfcc per clip (loop)", ours, peer_loop, "info"),
    ]
