"""Train many models at once: a list of :class:`TrainJob` run by a pool of worker processes.

An experiment needs dozens of small models (priors x seeds, control networks, baselines). One
small U-Net leaves most of a GPU idle (its time goes to Python and kernel launches), so on a
GPU several processes train side by side, each with its own CUDA context, and the device
interleaves their kernels; on a CPU the cores are shared out (``threads`` each). Every job is
an ordinary :func:`audiospec.diffusion.training.train` call into its own folder, so a stage
that later asks for the same model finds it finished and only loads it, and an interrupted
pool resumes job by job from the checkpoints.

Workers are started with ``spawn`` (CUDA cannot be forked) and receive the job (config, prior,
patches, folder) by pickling; results come back as :class:`~audiospec.diffusion.training.TrainResult`.
A failing job does not stop the others; the first error is raised after the pool finishes.
"""

from __future__ import annotations

import concurrent.futures
import json
import multiprocessing
import os
from dataclasses import dataclass
from pathlib import Path

import torch
from tqdm.auto import tqdm

from audiospec.diffusion.checkpoint import load_checkpoint
from audiospec.diffusion.config import TrainConfig
from audiospec.diffusion.priors import NoisePrior
from audiospec.diffusion.runtime import OnDevice, evaluation_network
from audiospec.diffusion.heldout import on_loss_plateau, read_heldout
from audiospec.diffusion.training import CHECKPOINT_NAME, TrainResult, train
from audiospec.errors import AudiospecError

__all__ = ["Convergence", "TrainJob", "convergence", "is_finished", "measure_rate", "train_job", "train_jobs",
           "trained_network"]


@dataclass(frozen=True)
class TrainJob:
    """One model to train: :func:`~audiospec.diffusion.training.train` ``(config, patches, prior=prior,
    out_dir=out_dir, validation=validation)``; ``patches`` ``[N, C, M, T]``, ``validation`` held-out patches whose
    loss is recorded every ``config.eval_every`` steps (or None)."""

    config: TrainConfig
    prior: NoisePrior
    patches: torch.Tensor
    out_dir: Path
    validation: torch.Tensor | None = None


@dataclass(frozen=True)
class Convergence:
    """Whether a trained model is on the held-out-loss plateau: the last ``fraction`` of its steps improved the
    held-out loss by less than ``tolerance`` (relative); ``on_plateau`` None when no evaluation lies at or before
    (1 - fraction) of its steps (``heldout``: ``{step: loss}``)."""

    out_dir: str
    steps: int
    heldout: dict[int, float]
    on_plateau: bool | None


def is_finished(job: TrainJob) -> bool:
    """True when ``job.out_dir`` holds a checkpoint at (or past) ``job.config.steps`` (read from its result file)."""
    result = Path(job.out_dir) / "train_result.json"
    if not (Path(job.out_dir) / CHECKPOINT_NAME).is_file() or not result.is_file():
        return False
    try:
        return int(json.loads(result.read_text())["steps"]) >= job.config.steps
    except (ValueError, KeyError, TypeError):
        return False


def train_job(job: TrainJob, *, progress: bool = True) -> TrainResult:
    """Train (or resume, or only load) one job in this process."""
    return train(job.config, job.patches, prior=job.prior, out_dir=job.out_dir, progress=progress,
                 validation=job.validation)


def trained_network(job: TrainJob, *, progress: bool = True) -> torch.nn.Module | OnDevice:
    """The EMA network of ``job`` (what every sampler uses), trained, resumed or only loaded; on a GPU machine it
    runs there (:func:`~audiospec.diffusion.runtime.evaluation_network`)."""
    return evaluation_network(load_checkpoint(train_job(job, progress=progress).checkpoint)[1])


def _run_job(job: TrainJob, threads: int) -> TrainResult:
    torch.set_num_threads(threads)
    return train_job(job, progress=False)


def train_jobs(jobs: list[TrainJob], *, workers: int = 1, threads: int | None = None,
               progress: bool = True) -> list[TrainResult | None]:
    """Train every job not yet finished, ``workers`` at a time (module doc); returns one result per job
    (``None`` for a job that was already finished and not touched).

    ``workers=1`` trains in this process, one job after the other. ``threads``: torch threads per
    worker (default: this machine's CPUs shared out evenly, at least 1).
    """
    if not isinstance(workers, int) or isinstance(workers, bool) or workers < 1:
        raise AudiospecError(f"workers must be a positive integer, got {workers!r}")
    folders = [str(Path(job.out_dir).resolve()) for job in jobs]
    if len(set(folders)) != len(folders):
        raise AudiospecError("two training jobs write into the same folder; give each model its own out_dir")
    todo = [i for i, job in enumerate(jobs) if not is_finished(job)]
    results: list[TrainResult | None] = [None] * len(jobs)
    cpus = len(os.sched_getaffinity(0)) if hasattr(os, "sched_getaffinity") else (os.cpu_count() or 1)
    threads = threads if threads is not None else max(1, cpus // min(workers, max(1, len(todo))))
    bar = tqdm(total=len(todo), desc="train models", unit="model", disable=not progress)
    try:
        if workers == 1 or len(todo) <= 1:
            for i in todo:
                results[i] = train_job(jobs[i], progress=False)
                bar.update(1)
            return results
        errors: list[BaseException] = []
        context = multiprocessing.get_context("spawn")
        with concurrent.futures.ProcessPoolExecutor(max_workers=workers, mp_context=context) as pool:
            futures = {pool.submit(_run_job, jobs[i], threads): i for i in todo}
            for future in concurrent.futures.as_completed(futures):
                try:
                    results[futures[future]] = future.result()
                except BaseException as err:  # noqa: BLE001 - reported after the other jobs finish
                    errors.append(err)
                bar.update(1)
        if errors:
            raise errors[0]
        return results
    finally:
        bar.close()


def convergence(jobs: list[TrainJob], *, fraction: float = 0.2, tolerance: float = 0.01) -> list[Convergence]:
    """The held-out-loss plateau verdict of every job's model from its ``heldout.csv`` (:class:`Convergence`)."""
    out = []
    for job in jobs:
        heldout = read_heldout(job.out_dir)
        verdict = on_loss_plateau(heldout, job.config.steps, fraction=fraction, tolerance=tolerance) if (
            job.config.steps in heldout) else None
        out.append(Convergence(out_dir=str(job.out_dir), steps=job.config.steps, heldout=heldout, on_plateau=verdict))
    return out


def measure_rate(job: TrainJob, *, workers: int, steps: int, scratch: str | Path, threads: int | None = None) -> float:
    """Training steps per second that ``workers`` copies of ``job`` make together, run side by side as
    :func:`train_jobs` runs them (``steps`` each, in folders under ``scratch``, without held-out evaluation).

    Each worker's rate is its loop's steps over its loop's seconds (process start-up and model building left
    out); the copies overlap in time, so the sum is the machine's throughput for this kind of model.
    """
    import dataclasses

    config = dataclasses.replace(job.config, steps=steps, checkpoint_every=steps, eval_every=None)
    copies = [TrainJob(config=dataclasses.replace(config, seed=config.seed + i), prior=job.prior, patches=job.patches,
                       out_dir=Path(scratch) / f"rate{i}") for i in range(workers)]
    results = train_jobs(copies, workers=workers, threads=threads, progress=False)
    return sum(r.steps_per_second for r in results if r is not None)
