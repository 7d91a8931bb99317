"""``audiospec train`` and ``audiospec sample``: one model on one dataset, and audio from its checkpoint.

A training run folder holds what :func:`audiospec.diffusion.training.train` writes
(``config.yaml``, ``prior.yaml``, ``checkpoint.safetensors``, ``loss.csv``,
``train_result.json``) plus ``run.yaml`` (data, mel, patch and prior settings) and
``normalisation.json`` (the dB mean and std that map model space back to log-mel), which
``sample`` needs to turn generated patches into audio.
"""

from __future__ import annotations

import json
from dataclasses import dataclass, field
from pathlib import Path

import torch

from audiospec.atomic import write_json
from audiospec.config import load_config, save_config
from audiospec.data import DataConfig, load_corpus
from audiospec.diffusion.checkpoint import load_checkpoint
from audiospec.diffusion.config import TrainConfig, check_training_data
from audiospec.diffusion.priors import PriorConfig, make_prior
from audiospec.diffusion.runtime import Runtime
from audiospec.diffusion.samplers import SamplerName, sample
from audiospec.diffusion.training import TrainResult, train
from audiospec.errors import AudiospecError
from audiospec.experiments.listen import write_patch_audio
from audiospec.experiments.patches import corpus_patches
from audiospec.transforms import MelConfig

__all__ = ["TrainRunConfig", "run_train", "run_sample"]


@dataclass(frozen=True)
class TrainRunConfig:
    """``audiospec train --config``: YAML sections ``data``, ``mel``, ``patch_frames``, ``prior``, ``train``."""

    data: DataConfig
    mel: MelConfig = field(default_factory=MelConfig)
    patch_frames: int = 128
    prior: PriorConfig = field(default_factory=PriorConfig)
    train: TrainConfig = field(default_factory=TrainConfig)

    def __post_init__(self) -> None:
        if self.mel.sample_rate != self.data.sample_rate:
            raise AudiospecError(f"mel.sample_rate={self.mel.sample_rate} differs from data.sample_rate="
                                 f"{self.data.sample_rate}; set them equal")
        clip_frames = self.mel.frames(self.data.clip_length)
        if self.patch_frames > clip_frames:
            raise AudiospecError(
                f"patch_frames={self.patch_frames} is longer than a clip ({clip_frames} frames of "
                f"{self.data.clip_seconds} s); lower patch_frames or raise data.clip_seconds"
            )
        self.train.model.check_patch_shape((self.mel.n_mels, self.patch_frames))


def run_train(config: TrainRunConfig, *, out_dir: Path, resume: bool = True, progress: bool = True,
              runtime: Runtime | None = None) -> TrainResult:
    """Cut the corpus into patches and train (or resume) one model in ``out_dir``.

    ``runtime``: None for one device, or an :class:`~audiospec.diffusion.runtime.AccelerateRuntime`
    under ``accelerate launch`` for data-parallel training.
    """
    out_dir = Path(out_dir)
    data = corpus_patches(load_corpus(config.data, progress=progress), mel=config.mel,
                          patch_frames=config.patch_frames)
    check_training_data(config.train, data.patches)
    prior = make_prior(config.prior, patches=data.patches)
    if runtime is None or runtime.is_main_process:
        save_config(config, out_dir / "run.yaml")
        write_json(out_dir / "normalisation.json", {"mean_db": data.mean_db, "std_db": data.std_db})
    return train(config.train, data.patches, prior=prior, out_dir=out_dir, resume=resume, progress=progress,
                 runtime=runtime)


def run_sample(checkpoint: Path, *, n: int, steps: int, out_dir: Path, sampler: SamplerName = "euler",
               seed: int = 0, griffin_lim_iters: int = 32) -> list[tuple[str, str]]:
    """Sample ``n`` patches with the EMA weights of ``checkpoint`` and write them as WAV + PNG into ``out_dir``."""
    checkpoint = Path(checkpoint)
    run_dir = checkpoint.parent
    for name in ("run.yaml", "normalisation.json"):
        if not (run_dir / name).is_file():
            raise AudiospecError(f"{str(run_dir / name)!r} is missing: sample needs a folder written by `audiospec train`")
    run = load_config(TrainRunConfig, run_dir / "run.yaml")
    norm = json.loads((run_dir / "normalisation.json").read_text())
    _, ema, train_config, prior = load_checkpoint(checkpoint)
    patches = sample(ema, prior=prior, n=n, steps=steps, sampler=sampler, objective=train_config.objective,
                     shape=(run.mel.n_mels, run.patch_frames), generator=torch.Generator().manual_seed(seed))
    log_mel = patches[:, 0] * norm["std_db"] + norm["mean_db"]
    return write_patch_audio(log_mel, mel=run.mel, out_dir=Path(out_dir), n_iter=griffin_lim_iters,
                             title=f"{prior.to_dict()['kind']} prior, {steps} {sampler} steps")
