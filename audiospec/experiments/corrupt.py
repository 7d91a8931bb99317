"""Listenable corruptions of real clips (DESIGN.md section 5, "Listening").

For a few clips of a corpus it writes WAV files of:

- the clean clip;
- waveform-domain noise at several SNRs (dB), for each prior (white, pink 1/f^beta,
  matched to the corpus' mean waveform spectrum);
- mel-domain noise at several flow times t (x_t = (1 - t) x0 + t eps on the
  standardised log-mel patch, the corruption a mel diffusion model undoes), for each
  prior (white, 2-D pink, matched to the corpus' 2-D mel spectrum), and Gaussian blur
  of the mel patch, turned back into audio with Griffin-Lim;

plus a spectrogram PNG of every file and ``corrupt.json`` listing them all.
"""

from __future__ import annotations

from dataclasses import dataclass, field
from pathlib import Path
from typing import Any

import torch
from tqdm.auto import tqdm

from audiospec.atomic import write_json
from audiospec.config import save_config
from audiospec.data import Corpus, DataConfig, load_corpus, write_wav
from audiospec.errors import AudiospecError
from audiospec.experiments.listen import log_mel_to_audio
from audiospec.experiments.patches import corpus_patches
from audiospec.functional.blur import gaussian_blur
from audiospec.functional.noise import add_noise, add_noise_at_time, colored_noise, estimate_spectrum, matched_noise
from audiospec.report.plots import plot_spectrogram
from audiospec.transforms import LogMelSpectrogram, MelConfig

__all__ = ["CorruptConfig", "CorruptRunConfig", "corrupt_corpus", "run_corrupt"]

PRIORS: tuple[str, ...] = ("white", "pink", "matched")


@dataclass(frozen=True)
class CorruptConfig:
    """Settings of :func:`corrupt_corpus` (YAML section ``corrupt``)."""

    mel: MelConfig = field(default_factory=MelConfig)
    clips_per_class: int = 2
    listen_seconds: float = 3.0
    snr_db: tuple[float, ...] = (20.0, 10.0, 0.0)
    times: tuple[float, ...] = (0.25, 0.5, 0.75)
    blur_sigmas: tuple[float, ...] = (1.0, 3.0)
    pink_beta: float = 1.0
    griffin_lim_iters: int = 32
    seed: int = 0

    def __post_init__(self) -> None:
        if self.listen_seconds <= 0:
            raise AudiospecError(f"listen_seconds must be positive, got {self.listen_seconds}")
        if self.clips_per_class < 1:
            raise AudiospecError(f"clips_per_class must be >= 1, got {self.clips_per_class}")
        if any(not 0.0 <= t <= 1.0 for t in self.times):
            raise AudiospecError(f"times must lie in [0, 1], got {self.times!r}")
        if any(s < 0 for s in self.blur_sigmas):
            raise AudiospecError(f"blur_sigmas must be >= 0, got {self.blur_sigmas!r}")


def _pick(corpus: Corpus, per_class: int) -> list[int]:
    """The first ``per_class`` clips of each class, in corpus order."""
    chosen: list[int] = []
    for label in corpus.classes:
        chosen += [i for i, lab in enumerate(corpus.labels) if lab == label][:per_class]
    return chosen


def _noise(kind: str, shape: tuple[int, ...], *, spectrum: torch.Tensor, ndim: int, config: CorruptConfig,
           generator: torch.Generator) -> torch.Tensor:
    """Unit-variance noise of one prior over the last ``ndim`` axes."""
    if kind == "white":
        return torch.randn(shape, generator=generator)
    if kind == "pink":
        return colored_noise(shape, beta=config.pink_beta, ndim=ndim, generator=generator)
    return matched_noise(shape, spectrum=spectrum, ndim=ndim, generator=generator)


def corrupt_corpus(corpus: Corpus, *, config: CorruptConfig, out_dir: Path, progress: bool = True) -> dict[str, Any]:
    """Write clean and corrupted WAVs + spectrogram PNGs for a few clips; returns the manifest."""
    if corpus.sample_rate != config.mel.sample_rate:
        raise AudiospecError(
            f"corpus rate {corpus.sample_rate} Hz differs from mel.sample_rate={config.mel.sample_rate}; set them equal"
        )
    out_dir = Path(out_dir)
    generator = torch.Generator().manual_seed(config.seed)
    chosen = _pick(corpus, config.clips_per_class)
    excerpts = corpus.waveforms[:, : int(config.listen_seconds * corpus.sample_rate)]  # [N, L]: the noise spectra
    clips = excerpts[chosen]  # [n, L]: the clips written out
    sr, mel = corpus.sample_rate, config.mel
    to_mel = LogMelSpectrogram(mel)
    entries: list[dict[str, Any]] = []

    def emit(wave: torch.Tensor, rel: str, *, clip: int, domain: str, prior: str, level: str) -> None:
        wave = wave / wave.abs().max().clamp_min(1.0)  # keep within [-1, 1] without changing quiet clips
        write_wav(out_dir / f"{rel}.wav", wave, sample_rate=sr)
        plot_spectrogram(to_mel(wave), out_dir / f"{rel}.png", title=rel, mel=mel)
        entries.append({"clip": clip, "label": corpus.labels[chosen[clip]], "domain": domain, "prior": prior,
                        "level": level, "wav": f"{rel}.wav", "png": f"{rel}.png"})

    # waveform domain: noise at a given SNR, per prior
    wave_spectrum = estimate_spectrum(excerpts, ndim=1)
    # mel domain: one standardised log-mel patch per excerpt, noised at flow time t, back to audio
    excerpt_corpus = Corpus(waveforms=excerpts, labels=corpus.labels, sources=corpus.sources, sample_rate=sr)
    data = corpus_patches(excerpt_corpus, mel=mel, patch_frames=mel.frames(excerpts.shape[-1]))
    x0 = data.patches[chosen, 0]  # [n, M, T]
    mel_spectrum = estimate_spectrum(data.patches[:, 0], ndim=2)

    def to_audio(standard: torch.Tensor) -> torch.Tensor:
        return log_mel_to_audio(data.to_db(standard), mel=mel, n_iter=config.griffin_lim_iters,
                                length=clips.shape[-1])

    for i in tqdm(range(len(chosen)), desc="corrupt", disable=not progress):
        emit(clips[i], f"clean/clip{i}", clip=i, domain="clean", prior="none", level="clean")
        emit(to_audio(x0[i]), f"mel/griffin_lim/clip{i}", clip=i, domain="mel", prior="none", level="t=0")
        for kind in PRIORS:
            noise = _noise(kind, tuple(clips[i].shape), spectrum=wave_spectrum, ndim=1, config=config, generator=generator)
            for snr in config.snr_db:
                noisy = add_noise(clips[i], noise, snr_db=snr, ndim=1)
                emit(noisy, f"waveform/{kind}/snr{snr:g}dB/clip{i}", clip=i, domain="waveform", prior=kind,
                     level=f"snr={snr:g}dB")
            eps = _noise(kind, tuple(x0[i].shape), spectrum=mel_spectrum, ndim=2, config=config, generator=generator)
            for t in config.times:
                noisy = add_noise_at_time(x0[i], eps, t=t)
                emit(to_audio(noisy), f"mel/{kind}/t{t:g}/clip{i}", clip=i, domain="mel", prior=kind, level=f"t={t:g}")
        for sigma in config.blur_sigmas:
            emit(to_audio(gaussian_blur(x0[i], sigma=sigma, ndim=2)), f"mel/blur/sigma{sigma:g}/clip{i}", clip=i,
                 domain="mel", prior="blur", level=f"sigma={sigma:g}")
    manifest = {"sample_rate": sr, "mel_normalisation": {"mean_db": data.mean_db, "std_db": data.std_db},
                "files": entries}
    write_json(out_dir / "corrupt.json", manifest)
    return manifest


@dataclass(frozen=True)
class CorruptRunConfig:
    """A whole ``audiospec corrupt`` run: YAML sections ``data`` and ``corrupt``."""

    data: DataConfig
    corrupt: CorruptConfig = field(default_factory=CorruptConfig)


def run_corrupt(config: CorruptRunConfig, *, out_dir: Path, progress: bool = True) -> dict[str, Any]:
    """Load the corpus and write the corrupted WAVs / PNGs / manifest under ``out_dir``."""
    corpus = load_corpus(config.data, progress=progress)
    save_config(config, Path(out_dir) / "config.yaml")
    return corrupt_corpus(corpus, config=config.corrupt, out_dir=out_dir, progress=progress)
