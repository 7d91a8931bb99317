"""Listenable corruptions of real clips (the stage ``corrupt``; DESIGN.md section 5, "Listening").

For a few clips of a corpus it writes WAV files of:

- the clean clip;
- waveform-domain noise at several SNRs (dB), for each prior of ``config.priors``
  (default white, pink 1/f^beta, matched to the corpus' mean waveform spectrum);
- mel-domain noise at several flow times t (x_t = (1 - t) x0 + t eps on the
  standardised log-mel patch, the corruption a mel diffusion model undoes), for each
  prior (2-D over the patch: white, pink, matched to the corpus' mel spectrum), and Gaussian blur
  of the mel patch, turned back into audio with Griffin-Lim;

plus the spectrogram of every file (``spectrograms.safetensors``, drawn by the report) and ``corrupt.json``
listing them all.
"""

from __future__ import annotations

import dataclasses
from dataclasses import dataclass, field
from pathlib import Path

import torch
from tqdm.auto import tqdm

from audiospec.config import check_counts
from audiospec.data import Corpus, DataConfig, corpus_patches, write_wav
from audiospec.diffusion.priors import PriorSpec, default_priors, make_prior
from audiospec.errors import AudiospecError
from audiospec.experiments.context import RunContext
from audiospec.experiments.fingerprint import Fingerprint
from audiospec.experiments.listen import Spectrograms, listening_gain, log_mel_to_audio
from audiospec.experiments.results import CorruptResult, ListeningFile
from audiospec.experiments.stage import Stage, register
from audiospec.functional.blur import gaussian_blur
from audiospec.functional.noise import add_noise, add_noise_at_time
from audiospec.transforms import LogMelSpectrogram, MelConfig

__all__ = ["STAGE", "CorruptConfig", "CorruptRunConfig", "corrupt_corpus", "run_corrupt"]


@dataclass(frozen=True)
class CorruptConfig:
    """Settings of :func:`corrupt_corpus` (YAML section ``corrupt``); ``priors`` are prior names."""

    mel: MelConfig = field(default_factory=MelConfig)
    clips_per_class: int = 2
    listen_seconds: float = 3.0
    snr_db: tuple[float, ...] = (20.0, 10.0, 0.0)
    times: tuple[float, ...] = (0.25, 0.5, 0.75)
    blur_sigmas: tuple[float, ...] = (1.0, 3.0)
    priors: tuple[PriorSpec, ...] = field(default_factory=default_priors)
    griffin_lim_iters: int = 32
    seed: int = 0

    def __post_init__(self) -> None:
        check_counts("corrupt", griffin_lim_iters=self.griffin_lim_iters)
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


def corrupt_corpus(corpus: Corpus, *, config: CorruptConfig, out_dir: Path, progress: bool = True) -> CorruptResult:
    """Write clean and corrupted WAVs (and their spectrograms) for a few clips; returns the manifest.

    The files of one clip (clean, noised, Griffin-Lim, blurred) share one gain, recorded as
    ``gain`` in each entry, so their levels and SNRs are as computed.
    """
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
    # mel domain: one standardised log-mel patch per excerpt, noised at flow time t, back to audio
    excerpt_corpus = dataclasses.replace(corpus, waveforms=excerpts)
    data = corpus_patches(excerpt_corpus, mel=mel, patch_frames=mel.frames(excerpts.shape[-1]))
    x0 = data.patches[chosen, 0]  # [n, M, T]
    wave_priors = {spec.name: make_prior(spec, data=excerpts, ndim=1) for spec in config.priors}
    mel_priors = {spec.name: make_prior(spec, data=data.patches, ndim=2) for spec in config.priors}

    def to_audio(standard: torch.Tensor) -> torch.Tensor:
        return log_mel_to_audio(data.to_db(standard), mel=mel, n_iter=config.griffin_lim_iters,
                                length=clips.shape[-1])

    entries: list[ListeningFile] = []
    spectrograms = Spectrograms(mel)
    for i in tqdm(range(len(chosen)), desc="corrupt", disable=not progress):
        # (relative path, domain, prior, level, waveform) of every file of this clip
        files = [(f"clean/clip{i}", "clean", "none", "clean", clips[i]),
                 (f"mel/griffin_lim/clip{i}", "mel", "none", "t=0", to_audio(x0[i]))]
        for name in wave_priors:
            noise = wave_priors[name].sample(tuple(clips[i].shape), generator=generator)
            files += [(f"waveform/{name}/snr{snr:g}dB/clip{i}", "waveform", name, f"snr={snr:g}dB",
                       add_noise(clips[i], noise, snr_db=snr, ndim=1)) for snr in config.snr_db]
            eps = mel_priors[name].sample(tuple(x0[i].shape), generator=generator)
            files += [(f"mel/{name}/t{t:g}/clip{i}", "mel", name, f"t={t:g}", to_audio(add_noise_at_time(x0[i], eps, t=t)))
                      for t in config.times]
        files += [(f"mel/blur/sigma{s:g}/clip{i}", "mel", "blur", f"sigma={s:g}",
                   to_audio(gaussian_blur(x0[i], sigma=s, ndim=2))) for s in config.blur_sigmas]
        entries += _write_set(files, clip=i, label=corpus.labels[chosen[i]], out_dir=out_dir, mel=mel, sample_rate=sr,
                              spectrograms=spectrograms)
    spectrograms.write(out_dir)
    return CorruptResult(sample_rate=sr, files=tuple(entries),
                         mel_normalisation={"mean_db": data.mean_db, "std_db": data.std_db})


def _write_set(files: list[tuple[str, str, str, str, torch.Tensor]], *, clip: int, label: str, out_dir: Path,
               mel: MelConfig, sample_rate: int, spectrograms: Spectrograms) -> list[ListeningFile]:
    """Write one clip's listening set with one shared gain; a WAV and a spectrogram per file, manifest entries
    back."""
    gain = listening_gain([wave for *_, wave in files])
    to_mel = LogMelSpectrogram(mel)
    entries = []
    for rel, domain, prior, level, wave in files:
        write_wav(out_dir / f"{rel}.wav", gain * wave, sample_rate=sample_rate)
        spectrograms.add(f"{rel}.png", to_mel(gain * wave), title=rel)
        entries.append(ListeningFile(clip=clip, label=label, domain=domain, prior=prior, level=level,
                                     wav=f"{rel}.wav", png=f"{rel}.png", gain=gain))
    return entries


@dataclass(frozen=True)
class CorruptRunConfig:
    """A whole ``audiospec corrupt`` run: YAML sections ``data`` and ``corrupt``."""

    data: DataConfig
    corrupt: CorruptConfig = field(default_factory=CorruptConfig)


def run_corrupt(config: CorruptRunConfig, context: RunContext) -> CorruptResult:
    """Write the corrupted WAVs and their spectrograms under the stage folder; the manifest is the result."""
    corpus = context.corpus
    corpus.require_audio('corrupt (it writes noised audio)')
    context.record(config, None, Fingerprint.of("corrupt", config, corpus=corpus))
    return corrupt_corpus(corpus, config=config.corrupt, out_dir=context.out_dir, progress=context.progress)


STAGE = register(Stage(
    name="corrupt", config=CorruptRunConfig, result=CorruptResult, output="corrupt.json", run=run_corrupt, order=20,
    needs_audio=True, optional=False,
    summary="Write clean, noised (each prior; waveform and mel domain) and blurred clips as WAV + PNG.",
    examples="  audiospec corrupt --dataset mini --out runs/corrupt-mini"))
