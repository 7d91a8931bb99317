"""The models of a stage folder: ``<stage>/models/<arm>/<run>``, one :class:`~audiospec.diffusion.parallel.TrainJob`
each, trained (or resumed, or only loaded) by :mod:`audiospec.diffusion.parallel`.

A stage lists its jobs (so ``audiospec run`` can train every model up front, side by side), trains what is not
finished, and then asks for each network; another stage reads them only when they are finished
(:meth:`ModelStore.finished`), never training in a folder that is not its own. The records each model's training
left (checkpoint state, ``train_result.json``) give the budget and throughput a stage reports.
"""

from __future__ import annotations

import dataclasses
from dataclasses import dataclass
from pathlib import Path
from typing import Any, Sequence

import torch

from audiospec.atomic import write_json
from audiospec.diffusion.checkpoint import load_checkpoint, read_training_state
from audiospec.diffusion.config import TrainConfig
from audiospec.diffusion.parallel import TrainJob, convergence, train_jobs, trained_network
from audiospec.diffusion.priors import NoisePrior
from audiospec.diffusion.training import CHECKPOINT_NAME, TrainResult, train
from audiospec.errors import AudiospecError
from audiospec.experiments.results import read_json

__all__ = ["ModelStore", "train_to_checkpoint"]


@dataclass(frozen=True)
class ModelStore:
    """The models under ``folder/models`` (module doc)."""

    folder: Path
    progress: bool = True

    def job(self, arm: str, run: str, *, config: TrainConfig, prior: NoisePrior, patches: torch.Tensor,
            validation: torch.Tensor | None = None) -> TrainJob:
        """The training of one model into ``models/<arm>/<run>`` (``run``: ``seed<n>`` or ``control``)."""
        return TrainJob(config=config, prior=prior, patches=patches, out_dir=self.folder / "models" / arm / run,
                        validation=validation)

    def train(self, jobs: list[TrainJob]) -> None:
        """Train every job not yet finished (already trained by ``run`` with workers > 1: only checked), and write
        the held-out convergence of every model to ``convergence.json``."""
        train_jobs(jobs, progress=self.progress)
        write_json(self.folder / "convergence.json", [dataclasses.asdict(c) for c in convergence(jobs)])

    def network(self, job: TrainJob) -> Any:
        """The EMA network of ``job`` (what every sampler uses), trained, resumed or only loaded."""
        return trained_network(job, progress=self.progress)

    def finished(self, arm: str, seed: int, *, steps: int, owner: str = "compare") -> Any:
        """The EMA network of ``arm`` and ``seed``, read only: it must have finished ``steps`` steps (a stage never
        trains in another's folder; ``owner`` names the stage that trains it)."""
        path = self.folder / "models" / arm / f"seed{seed}" / CHECKPOINT_NAME
        if not path.is_file():
            raise AudiospecError(f"{str(path)!r} is missing: run `audiospec {owner}` with this config into "
                                 f"{str(self.folder)!r} first (it trains the models this stage reads)")
        step = read_training_state(path).step
        if step != steps:
            raise AudiospecError(f"{str(path)!r} is trained to {step} steps, not {owner}.train.steps={steps}: "
                                 f"finish the {owner} stage first (`audiospec {owner}` into {str(self.folder)!r} "
                                 "resumes it)")
        return load_checkpoint(path)[1]

    def budget(self, arm: str, seeds: Sequence[int], nfe_per_step: int) -> dict[str, int] | None:
        """The training budget recorded in the checkpoints of ``models/<arm>/seed*`` (steps and batch size; None
        when the seeds differ) and the network evaluations per sampling step."""
        budgets = set()
        for seed in seeds:
            state = read_training_state(self.folder / "models" / arm / f"seed{seed}" / CHECKPOINT_NAME)
            budgets.add((state.step, int(state.config["batch_size"])))
        if len(budgets) != 1:
            return None
        steps, batch = budgets.pop()
        return {"train_steps": steps, "batch_size": batch, "nfe_per_step": nfe_per_step}

    def throughput(self, arm: str, seeds: Sequence[int]) -> float | None:
        """Mean training steps per second of ``models/<arm>/seed*`` from their ``train_result.json`` (the record of
        the call that trained each; None when no model has one, e.g. runs from before records were kept)."""
        speeds = []
        for seed in seeds:
            path = self.folder / "models" / arm / f"seed{seed}" / "train_result.json"
            record = read_json(path) if path.is_file() else {}
            if isinstance(record, dict) and isinstance(record.get("steps_per_second"), (int, float)) and \
                    record["steps_per_second"] > 0:
                speeds.append(float(record["steps_per_second"]))
        return sum(speeds) / len(speeds) if speeds else None


def train_to_checkpoint(config: TrainConfig, patches: torch.Tensor, *, prior: NoisePrior, model_dir: Path,
                        point: Path, progress: bool = True) -> TrainResult:
    """Train (or resume) the model in ``model_dir`` to ``config.steps`` steps, to measure the checkpoint whose
    result file ``point`` is missing (stages that measure a model at several step counts: ``curve``, ``timesteps``).

    Args:
        config: the training, ``steps`` the checkpoint.
        patches: the training patches ``[N, C, M, T]``.
        prior: the noise prior.
        model_dir: the model's folder (resumed from its checkpoint).
        point: the missing result file of this checkpoint (named in the error).
        progress: show a progress bar.

    Returns:
        The training's result at ``config.steps``.

    Raises:
        AudiospecError: the model is already trained past ``config.steps``: the checkpoint can no longer be measured
            (a silent mislabel otherwise), or what :func:`~audiospec.diffusion.training.train` raises.
    """
    checkpoint = Path(model_dir) / CHECKPOINT_NAME
    done = read_training_state(checkpoint).step if checkpoint.is_file() else 0
    if done > config.steps:
        raise AudiospecError(f"the model in {str(model_dir)!r} is already trained to {done} steps, past the "
                             f"checkpoint at {config.steps} whose point {str(point)!r} is missing; delete "
                             f"{str(model_dir)!r} to recompute it")
    return train(config, patches, prior=prior, out_dir=model_dir, progress=progress)
