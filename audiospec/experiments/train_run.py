"""``audiospec train`` and ``audiospec sample``: one model on one dataset, and audio from its checkpoint.

A training run folder holds what :func:`audiospec.diffusion.training.train` writes
(``config.yaml``, ``prior.yaml``, ``checkpoint.safetensors``, ``loss.csv``,
``train_result.json``) plus ``run.yaml`` (data, mel, patch and prior settings) and
``normalisation.json`` (the dB mean and std that map model space back to log-mel), which
``sample`` needs to turn generated patches into audio.
"""

from __future__ import annotations

import json
import math
from dataclasses import dataclass, field
from pathlib import Path
from typing import Any

import torch
from tqdm.auto import tqdm

from audiospec.atomic import write_json
from audiospec.config import config_from_dict, config_to_dict, load_config, read_yaml, save_config
from audiospec.data import DataConfig, corpus_patches, load_corpus
from audiospec.diffusion.checkpoint import load_checkpoint
from audiospec.diffusion.config import TrainConfig, check_training_data
from audiospec.diffusion.checkpoint import read_training_state
from audiospec.diffusion.priors import PriorSpec, make_prior
from audiospec.diffusion.runtime import Runtime
from audiospec.diffusion.processes import make_process
from audiospec.diffusion.samplers import SamplerName
from audiospec.diffusion.solver import solve
from audiospec.diffusion.training import TrainResult, check_resume, train
from audiospec.errors import AudiospecError
from audiospec.experiments.listen import Spectrograms, write_patch_audio
from audiospec.transforms import MelConfig

__all__ = ["TrainRunConfig", "run_train", "run_sample", "train_section"]


@dataclass(frozen=True)
class TrainRunConfig:
    """``audiospec train --config``: YAML sections ``data``, ``mel``, ``patch_frames``, ``prior``, ``train``."""

    data: DataConfig
    mel: MelConfig = field(default_factory=MelConfig)
    patch_frames: int = 128
    prior: PriorSpec = field(default_factory=PriorSpec)
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


def train_section(raw: dict[str, Any]) -> dict[str, Any]:
    """The :class:`TrainRunConfig` mapping of a YAML file: a train file as it is, or a recipe's ``compare`` section.

    A recipe (``recipes/*/conf/*.yaml``) holds one model's settings in ``compare.{mel, patch_frames,
    train}``; ``audiospec train --config RECIPE --prior pink`` trains that model alone, so the
    per-model budget is written once.
    """
    if "compare" not in raw or "train" in raw:
        return dict(raw)
    compare = raw["compare"]
    if not isinstance(compare, dict):
        raise AudiospecError(f"the recipe's compare section must be a mapping of settings, got {compare!r}")
    return {"data": raw.get("data", {}), **{k: compare[k] for k in ("mel", "patch_frames", "train") if k in compare}}


def run_train(config: TrainRunConfig, *, out_dir: Path, resume: bool = True, progress: bool = True,
              runtime: Runtime | None = None) -> TrainResult:
    """Cut the corpus into patches and train (or resume) one model in ``out_dir``.

    ``runtime``: None for one device, or an :class:`~audiospec.diffusion.runtime.AccelerateRuntime`
    under ``accelerate launch`` for data-parallel training.
    """
    out_dir = Path(out_dir)
    _check_same_run(config, out_dir, resume=resume)
    data = corpus_patches(load_corpus(config.data, progress=progress), mel=config.mel,
                          patch_frames=config.patch_frames)
    check_training_data(config.train, data.patches)
    prior = make_prior(config.prior, data=data.patches)
    if resume:  # every check before the first write: a refused resume leaves the folder as it was
        check_resume(config.train, data.patches, prior=prior, out_dir=out_dir)
    if runtime is None or runtime.is_main_process:
        save_config(config, out_dir / "run.yaml", checksum=True)
        write_json(out_dir / "normalisation.json", {"mean_db": list(data.mean_db), "std_db": data.std_db,
                                                    "centring": "per mel bin"})
    return train(config.train, data.patches, prior=prior, out_dir=out_dir, resume=resume, progress=progress,
                 runtime=runtime)


def _check_same_run(config: TrainRunConfig, out_dir: Path, *, resume: bool) -> None:
    """Refuse, before anything is written, to resume a run folder made with other data / mel / patch / prior settings.

    (The ``train`` section is checked against the checkpoint by :func:`train` itself.)
    """
    saved_path = out_dir / "run.yaml"
    if not (resume and (out_dir / "checkpoint.safetensors").is_file() and saved_path.is_file()):
        return
    raw = read_yaml(saved_path)
    try:  # settings added since the file was written take their defaults
        raw = config_to_dict(config_from_dict(TrainRunConfig, raw, where=str(saved_path)))
    except AudiospecError:
        pass  # compared as written: it differs
    saved = {k: v for k, v in raw.items() if k != "train"}
    current = {k: v for k, v in config_to_dict(config).items() if k != "train"}
    changed = sorted(k for k in set(saved) | set(current) if saved.get(k) != current.get(k))
    if changed:
        raise AudiospecError(
            f"cannot resume {str(out_dir)!r}: its run.yaml has other {changed} settings than this config; "
            "pass a new --out folder, or --no-resume to start that run over"
        )


def run_sample(checkpoint: Path, *, n: int, steps: int, out_dir: Path, sampler: SamplerName = "euler",
               seed: int = 0, griffin_lim_iters: int = 32, progress: bool = True) -> list[tuple[str, str, float]]:
    """Sample ``n`` patches with the EMA weights of ``checkpoint`` and write them as WAV into ``out_dir``, their
    spectrograms to ``spectrograms.safetensors`` (``audiospec sample`` draws them as the PNGs the manifest names).

    Returns (wav, png, gain) per sample; the gains are also written to ``out_dir/samples.json``.
    """
    checkpoint = Path(checkpoint)
    run_dir = checkpoint.parent
    for name in ("run.yaml", "normalisation.json"):
        if not (run_dir / name).is_file():
            raise AudiospecError(f"{str(run_dir / name)!r} is missing: sample needs a folder written by `audiospec train`")
    try:
        run = load_config(TrainRunConfig, run_dir / "run.yaml")
    except AudiospecError as err:
        raise AudiospecError(f"the run settings in {str(run_dir / 'run.yaml')!r} are damaged or edited ({err}); "
                             "re-run `audiospec train` into that folder to rewrite it") from None
    shape = (run.mel.n_mels, run.patch_frames)
    mean_db, std_db = _read_normalisation(run_dir / "normalisation.json", run.mel.n_mels)
    state = read_training_state(checkpoint)
    trained_on = state.data_fingerprint[2:4]  # [N, C, M, T, statistics...]
    if trained_on and tuple(int(v) for v in trained_on) != shape:
        raise AudiospecError(
            f"checkpoint {str(checkpoint)!r} was trained on {int(trained_on[0])} x {int(trained_on[1])} patches, but "
            f"{str(run_dir / 'run.yaml')!r} says {shape[0]} x {shape[1]} (n_mels x patch_frames); "
            "sample a checkpoint with the run.yaml written beside it"
        )
    _, ema, train_config, prior = load_checkpoint(checkpoint)
    # x0_hat of an eps-network is (x - sigma eps_hat) / alpha: near t = 1 it multiplies the network's error by
    # sigma / alpha (~600); the exact x0_hat, a mean of training patches, never leaves their range, so the VP
    # process clips to it (the others take no clip)
    clip = max(abs(v) for v in state.data_range) if state.data_range else None
    process = make_process(train_config, prior, n_mels=shape[0], sampler=sampler, clip_x0=clip)
    with tqdm(total=steps, desc="sample", unit="step", disable=not progress) as bar:
        patches = solve(process, ema, n=n, steps=steps, shape=shape, generator=torch.Generator().manual_seed(seed),
                        callback=lambda *_: bar.update())
    _check_samples(patches, checkpoint=checkpoint, sampler=sampler, steps=steps)
    log_mel = patches[:, 0] * std_db + mean_db[:, None]  # [n, M, T]: the mean mel profile restored
    spectrograms = Spectrograms(run.mel)
    files = write_patch_audio(log_mel, mel=run.mel, out_dir=Path(out_dir), n_iter=griffin_lim_iters,
                              title=f"{prior.name} prior, {steps} {sampler} steps", spectrograms=spectrograms)
    spectrograms.write(Path(out_dir))
    write_json(Path(out_dir) / "samples.json", {
        "checkpoint": str(checkpoint), "prior": prior.name, "steps": steps, "sampler": sampler, "seed": seed,
        "sample_rate": run.mel.sample_rate, "files": [{"wav": w, "png": p, "gain": g} for w, p, g in files]})
    return files


def _check_samples(patches: torch.Tensor, *, checkpoint: Path, sampler: str, steps: int) -> None:
    """Generated patches (model space: the training patches standardised, |x| < 10 in practice) must be finite and
    of the data's order; else name the cause before the audio inversion fails on them."""
    peak = float(patches.abs().amax()) if bool(torch.isfinite(patches).all()) else float("inf")
    if peak > 100.0:
        raise AudiospecError(
            f"sampling {str(checkpoint)!r} with {steps} {sampler} steps diverged: the generated patches reach "
            f"|x| = {peak:.3g} in model space, where the training patches have std 1; the model is undertrained for "
            "this sampler (train longer, or sample with more steps), or the checkpoint is damaged"
        )


def _read_normalisation(path: Path, n_mels: int) -> tuple[torch.Tensor, float]:
    """``normalisation.json``: the per-mel-bin dB mean ``[M]`` and the global std of the training patches."""
    try:
        norm = json.loads(path.read_text())
    except (OSError, UnicodeDecodeError, json.JSONDecodeError) as err:
        raise AudiospecError(f"cannot read {str(path)!r} ({err}); re-run `audiospec train` into that folder") from None
    mean = norm.get("mean_db") if isinstance(norm, dict) else None
    mean = [mean] * n_mels if isinstance(mean, (int, float)) else mean  # runs from before per-bin centring
    std = norm.get("std_db") if isinstance(norm, dict) else None
    ok = (isinstance(mean, list) and len(mean) == n_mels and all(isinstance(v, (int, float)) and math.isfinite(v)
                                                                 for v in mean)
          and isinstance(std, (int, float)) and math.isfinite(std) and std > 0)
    if not ok:
        raise AudiospecError(f"{str(path)!r} must hold mean_db ({n_mels} finite numbers, one per mel bin) and a "
                             f"finite std_db > 0, "
                             f"got {norm!r}; re-run `audiospec train` into that folder")
    return torch.tensor(mean, dtype=torch.float32), float(std)
