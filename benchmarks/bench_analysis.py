"""Full-corpus analysis: ``analyze_corpus`` on 128 clips of 30 s (the size of GTZAN music/speech).

Target (DESIGN.md section 7): under 60 s on 2 CPU cores. Reported twice: against that
fixed budget (an absolute target, marked as such), and against the notebook way of
computing the same spectra — scipy Welch per clip, librosa log-mel per clip, pysteps
RAPSD per patch, scipy DCT cepstra — run in this process on the same clips (info).

Input: the embedded mini corpus (data/mini, 64 music + 64 speech clips of 6 s) joined five
clips at a time into 30-s clips and repeated to 128 clips; when data/mini is not prepared,
unit-variance pink noise of the same shape (the JSON says which).
"""

from __future__ import annotations

from pathlib import Path

import librosa
import numpy as np
import scipy.fft
import scipy.signal
import torch
from pysteps.utils.spectral import rapsd as pysteps_rapsd

from audiospec.experiments.stages.analysis import AnalysisConfig, analyze_corpus
from audiospec.functional import colored_noise
from benchmarks.common import Context, Result, Timing, time_call

NAME = "analysis"
DESCRIPTION = "analyze_corpus on 128 x 30 s clips: < 60 s on 2 cores; vs the notebook pipeline (info)"
SAMPLE_RATE = 22050
BUDGET_S = 60.0


def _clips(n_clips: int, seconds: float, seed: int) -> tuple[torch.Tensor, list[str], str]:
    mini = Path("data/mini")
    length = int(seconds * SAMPLE_RATE)
    if (mini / ".completed").is_file():
        from audiospec.data import DataConfig, load_corpus

        corpus = load_corpus(DataConfig(dataset="mini"), progress=False)
        per = max(1, length // corpus.waveforms.shape[-1])
        joined, labels = [], []
        for label in corpus.classes:
            waves = corpus.subset(label).waveforms
            usable = (waves.shape[0] // per) * per
            joined.append(waves[:usable].reshape(-1, per * waves.shape[-1])[:, :length])
            labels += [label] * (usable // per)
        clips = torch.cat(joined)
        reps = -(-n_clips // clips.shape[0])
        return clips.repeat(reps, 1)[:n_clips], (labels * reps)[:n_clips], "data/mini joined into 30-s clips"
    g = torch.Generator().manual_seed(seed)
    clips = 0.1 * colored_noise((n_clips, length), beta=1.0, generator=g)
    return clips, ["a", "b"] * (n_clips // 2), "pink noise (data/mini not prepared)"


def _notebook_pipeline(clips: np.ndarray, patch_frames: int) -> None:
    for clip in clips:
        scipy.signal.welch(clip, fs=SAMPLE_RATE, nperseg=2048)
        log_mel = librosa.power_to_db(librosa.feature.melspectrogram(y=clip, sr=SAMPLE_RATE, n_mels=64))
        for start in range(0, log_mel.shape[-1] - patch_frames + 1, patch_frames):
            patch = log_mel[:, start : start + patch_frames]
            pysteps_rapsd(patch, fft_method=np.fft)
            scipy.fft.dct(patch, type=2, norm="ortho", axis=0)


def run(ctx: Context) -> list[Result]:
    n_clips, seconds = (16, 30.0) if ctx.quick else (128, 30.0)
    clips, labels, source = _clips(n_clips, seconds, ctx.seed)
    config = AnalysisConfig()
    ours = time_call(lambda: analyze_corpus(clips, labels, sample_rate=SAMPLE_RATE, config=config, progress=False),
                     warmup=0, repeats=1)
    budget = Timing(median_s=BUDGET_S, min_s=BUDGET_S, repeats=0, all_s=(), page_faults_per_call=0.0)
    peer = time_call(lambda: _notebook_pipeline(clips.numpy(), config.patch_frames), warmup=0, repeats=1)
    case = f"{n_clips} x {seconds:g} s @ {SAMPLE_RATE} Hz ({source})"
    extra = {"seconds": ours.median_s, "clips_source": source}
    return [
        Result(NAME, case, "analyze_corpus (full analysis)", "fixed budget of 60 s (absolute target)", ours, budget,
               "overhead", target=1.0, extra=extra),
        Result(NAME, case, "analyze_corpus (full analysis)", "notebook pipeline: scipy+librosa+pysteps per clip",
               ours, peer, "info", extra=extra),
    ]
