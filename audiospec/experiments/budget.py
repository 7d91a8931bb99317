"""A training budget in seconds instead of steps, and what the machine achieved while spending it.

A protocol meant to run "within 10 minutes on one GPU" cannot name its step count in advance:
the rate depends on the device, the model and how many models share it. :func:`fit_budget`
measures the rate on the machine it runs on (``workers`` copies of one of the run's models
trained side by side for a few dozen steps, :func:`~audiospec.diffusion.parallel.measure_rate`),
and sets every model's budget to the largest multiple of 10 steps that lets all of the run's
models fit into ``train_seconds`` at that rate, with the held-out loss measured every tenth of
it (so the plateau rule, last 20% of the steps, can be read off each model). The choice is
written to ``budget.json`` and reused when the run resumes, so a resumed run never changes its
models' budget. :func:`throughput` summarises what the models' training achieved: steps per
second, FLOPs per step (counted, not estimated), achieved FLOP/s and the fraction of the device's
peak (:mod:`audiospec.diffusion.flops`).
"""

from __future__ import annotations

import dataclasses
import json
import shutil
import time
from pathlib import Path
from typing import Any

import torch

from audiospec.atomic import write_json
from audiospec.diffusion.flops import machine_peak, training_step_flops
from audiospec.diffusion.parallel import TrainJob, measure_rate
from audiospec.diffusion.runtime import default_device
from audiospec.errors import AudiospecError

__all__ = ["BUDGET_NAME", "apply_budget", "fit_budget", "throughput"]

BUDGET_NAME = "budget.json"
CALIBRATION_STEPS = 40
_GRANULARITY = 10  # steps are a multiple of 10, evaluated every tenth


def fit_budget(jobs: list[TrainJob], *, train_seconds: float, workers: int, out_dir: Path) -> dict[str, Any]:
    """The steps per model that fit ``jobs`` into ``train_seconds`` on this machine (module doc); the record is
    written to ``out_dir/budget.json`` (read back instead of measuring again when it is there)."""
    path = Path(out_dir) / BUDGET_NAME
    if path.is_file():
        try:
            record = json.loads(path.read_text())
            fitted, steps = float(record["train_seconds"]), int(record["steps"])
        except (ValueError, KeyError, TypeError):
            raise AudiospecError(f"{str(path)!r} is damaged; delete it (and the run's models) to fit the budget "
                                 "again") from None
        if fitted != train_seconds:
            raise AudiospecError(f"{str(path)!r} fitted train_seconds={fitted:g} ({steps} steps per model), not "
                                 f"{train_seconds:g}; use a new --out folder, or delete it and the models")
        return record
    if not jobs:
        raise AudiospecError("a training budget in seconds needs at least one model to train")
    scratch = Path(out_dir) / "budget-calibration"
    shutil.rmtree(scratch, ignore_errors=True)
    started = time.perf_counter()
    rate = measure_rate(jobs[0], workers=min(workers, len(jobs)), steps=CALIBRATION_STEPS, scratch=scratch)
    shutil.rmtree(scratch, ignore_errors=True)
    per_model = int(train_seconds * rate / len(jobs)) // _GRANULARITY * _GRANULARITY
    if per_model < _GRANULARITY:
        raise AudiospecError(f"train_seconds={train_seconds:g} buys {train_seconds * rate / len(jobs):.1f} steps per "
                             f"model at {rate:.2f} steps/s for {len(jobs)} models; raise it, or train fewer models")
    record = {"train_seconds": train_seconds, "steps_per_second": rate, "models": len(jobs), "workers": workers,
              "steps": per_model, "eval_every": per_model // _GRANULARITY, "device": str(default_device()),
              "calibration_seconds": time.perf_counter() - started}
    write_json(path, record)
    return record


def apply_budget(train: Any, record: dict[str, Any]) -> Any:
    """``train`` (a :class:`~audiospec.diffusion.config.TrainConfig`) with the fitted steps, held-out evaluation
    every tenth of them and a checkpoint at the end."""
    return dataclasses.replace(train, steps=record["steps"], eval_every=record["eval_every"],
                               checkpoint_every=record["steps"])


def throughput(jobs: list[TrainJob], *, workers: int, wall_seconds: float) -> dict[str, Any]:
    """What training ``jobs`` achieved (module doc): every model's steps / s from its ``train_result.json``, the
    pool's model-steps / s over ``wall_seconds``, counted FLOPs per step, achieved FLOP/s and fraction of peak.

    ``jobs`` are the models trained in the call that took ``wall_seconds``; a resumed model counts the steps that
    call ran (its ``train_result.json``: steps − start_step), not the ones trained before.

    Raises:
        AudiospecError: no jobs.
    """
    if not jobs:
        raise AudiospecError("throughput needs at least one trained model")
    rates, steps = [], 0
    for job in jobs:
        result = Path(job.out_dir) / "train_result.json"
        record = json.loads(result.read_text()) if result.is_file() else {}
        rates.append(record.get("steps_per_second") or 0.0)
        steps += int(record.get("steps", job.config.steps)) - int(record.get("start_step", 0))
    config = jobs[0].config
    shape = tuple(jobs[0].patches.shape[-2:])
    flops = training_step_flops(config.model, batch=config.batch_size, shape=shape)
    device = default_device()
    dtype = "bf16" if device.type == "cuda" and config.precision == "bf16" else "fp32"
    peak = machine_peak(device, dtype)
    achieved = steps * flops / wall_seconds if wall_seconds > 0 else 0.0
    return {"device": torch.cuda.get_device_name(device) if device.type == "cuda" else "cpu", "dtype": dtype,
            "workers": workers, "models": len(jobs), "steps_per_model": config.steps, "batch": config.batch_size,
            "patch": list(shape), "wall_seconds": wall_seconds, "model_steps_per_second": steps / wall_seconds,
            "per_model_steps_per_second": rates, "flops_per_step": flops, "achieved_flops_per_second": achieved,
            "peak_flops_per_second": peak.flops_per_second, "peak_how": peak.how,
            "mfu": achieved / peak.flops_per_second if peak.flops_per_second else None}
