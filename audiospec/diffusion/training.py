"""The training loop: AdamW + EMA + clipping, atomic safetensors checkpoints, exact resume.

Determinism. One seed (``config.seed``) seeds four explicit ``torch.Generator`` s, never the
global RNG: ``init`` (weights), ``data`` (a fresh permutation of the patches each epoch;
batches are consecutive slices, the last incomplete one is dropped), ``time`` (timesteps,
CPU) and ``noise`` (prior samples, on the training device). Their states, the current
permutation and position, the model, EMA and optimiser states and the loss history go into
every checkpoint, so an interrupted CPU run resumed from its last checkpoint ends with
bit-identical weights to an uninterrupted one (same machine, same thread count).

One step (k = 0, 1, ...):

    x0 = patches[batch_k]
    loss = loss_fn(model, x0)     (a TrainingLoss: t ~ timestep sampler, eps ~ prior, the process's loss;
                                   the loop never asks which process it trains: audiospec.diffusion.processes)
    grad clipped to ``grad_clip``;  AdamW step at lr_k (warm-up then constant)
    theta_ema <- beta_k theta_ema + (1 - beta_k) theta  (audiospec.diffusion.ema)

Files in ``out_dir``: ``config.yaml`` (resolved :class:`TrainConfig`), ``prior.yaml``,
``checkpoint.safetensors`` (:mod:`audiospec.diffusion.checkpoint`), ``loss.csv`` (step, loss),
``heldout.csv`` (step, held-out loss; with validation patches, :mod:`audiospec.diffusion.heldout`) and, at the end of a call that ran
steps, ``train_result.json`` (its wall time and throughput).
"""

from __future__ import annotations

import copy
import functools
import time
from dataclasses import dataclass
from pathlib import Path
from typing import Any, Callable

import torch
import yaml
from tqdm.auto import tqdm

from audiospec.atomic import atomic_write_text, write_json
from audiospec.config import save_config
from audiospec.diffusion.checkpoint import TrainingState, read_training_state, save_training_state
from audiospec.diffusion.config import TrainConfig, check_training_data
from audiospec.diffusion.ema import ema_decay_at, update_ema
from audiospec.diffusion.heldout import held_out_evaluator, plateau_step
from audiospec.diffusion.patch_fingerprint import patches_fingerprint, same_patches
from audiospec.diffusion.priors import NoisePrior
from audiospec.diffusion.processes import Process, TrainingLoss, make_process
from audiospec.diffusion.runtime import Runtime, SingleDevice, batch_shard
from audiospec.diffusion.timestep_config import make_timestep_sampler
from audiospec.diffusion.unet import build_model
from audiospec.errors import AudiospecError

__all__ = ["CHECKPOINT_NAME", "TrainResult", "check_resume", "train"]

CHECKPOINT_NAME = "checkpoint.safetensors"
_RESUMABLE_CHANGES = ("steps", "checkpoint_every", "log_every", "eval_every")  # may differ between a run and its resumption


@dataclass(frozen=True, kw_only=True)
class TrainResult:
    """What :func:`train` did: ``steps`` completed (of which this call ran ``steps - start_step``),
    the loss of every step since step 0, wall time and throughput of this call.

    Attributes:
        out_dir: the run folder.
        checkpoint: the path of ``checkpoint.safetensors``.
        steps: optimisation steps completed, over all calls.
        start_step: the step this call resumed from (0 for a fresh run).
        losses: the loss of every step since step 0.
        seconds: wall time of this call.
        steps_per_second: throughput of this call (0 when it ran no step).
    """

    out_dir: Path
    checkpoint: Path
    steps: int
    start_step: int
    losses: tuple[float, ...]
    seconds: float
    steps_per_second: float

    @property
    def final_loss(self) -> float | None:
        """The loss of the last step, or None before the first."""
        return self.losses[-1] if self.losses else None


def _generators(seed: int, device: torch.device, *, process_index: int = 0) -> dict[str, torch.Generator]:
    """Independent generators for weights, data order, timesteps (CPU) and noise (training device).

    Weights and data order are the same in every process of a data-parallel run; timesteps
    and noise get a stream per process (process 0 keeps the single-process streams).
    """
    seeds = torch.randint(0, 2**62, (4 + 2 * process_index,), generator=torch.Generator().manual_seed(seed)).tolist()
    time_seed, noise_seed = (seeds[2], seeds[3]) if process_index == 0 else (seeds[-2], seeds[-1])
    return {
        "init": torch.Generator().manual_seed(seeds[0]),
        "data": torch.Generator().manual_seed(seeds[1]),
        "time": torch.Generator().manual_seed(time_seed),
        "noise": torch.Generator(device=device).manual_seed(noise_seed),
    }


def _write_loss_csv(path: Path, losses: list[float]) -> None:
    lines = ["step,loss"] + [f"{i + 1},{loss:.9g}" for i, loss in enumerate(losses)]
    atomic_write_text(path, "\n".join(lines) + "\n")


def _resolved(saved: dict[str, Any], path: Path) -> dict[str, Any]:
    """A checkpoint's saved config with every setting added since it was written at its default."""
    try:
        return TrainConfig.from_dict(saved).to_dict()
    except AudiospecError as err:
        raise AudiospecError(f"cannot resume {str(path)!r}: its saved settings are not a valid config ({err}); "
                             "use a new out_dir or resume=False") from None


def _check_resume(state: TrainingState, config: TrainConfig, prior: NoisePrior, fingerprint: list[float], path: Path) -> None:
    if state.step > config.steps:
        raise AudiospecError(
            f"cannot resume {str(path)!r}: it is already trained to {state.step} steps, past steps={config.steps}, "
            f"and training cannot be undone; set steps >= {state.step}, or use a new out_dir or resume=False"
        )
    saved = {k: v for k, v in _resolved(state.config, path).items() if k not in _RESUMABLE_CHANGES}
    current = {k: v for k, v in config.to_dict().items() if k not in _RESUMABLE_CHANGES}
    changed = sorted(k for k in set(saved) | set(current) if saved.get(k) != current.get(k))
    if changed:
        raise AudiospecError(
            f"cannot resume {str(path)!r}: settings {changed} differ from the checkpoint's "
            f"(only {list(_RESUMABLE_CHANGES)} may change); use a new out_dir or resume=False"
        )
    same_prior = state.prior == prior.to_dict() and set(state.prior_tensors) == set(prior.tensors()) and all(
        torch.equal(state.prior_tensors[k], v.cpu()) for k, v in prior.tensors().items()
    )
    if not same_prior:
        raise AudiospecError(
            f"cannot resume {str(path)!r}: the noise prior {prior.to_dict()} differs from the checkpoint's {state.prior}"
        )
    if state.data_fingerprint and not same_patches(state.data_fingerprint, fingerprint):
        raise AudiospecError(
            f"cannot resume {str(path)!r}: the training patches differ from the ones the run started with "
            "(shape or content); use a new out_dir or resume=False"
        )


def check_resume(config: TrainConfig, patches: torch.Tensor, *, prior: NoisePrior, out_dir: str | Path) -> None:
    """Raise, writing nothing, unless :func:`train` with ``resume=True`` could continue ``out_dir`` (no checkpoint
    there, or one made with the same settings, prior and patches and at most ``config.steps`` steps): for callers
    that write files of their own beside the run before training."""
    path = _checked_out_dir(config, patches, prior, out_dir)[0] / CHECKPOINT_NAME
    if path.is_file():
        _check_resume(read_training_state(path), config, prior, patches_fingerprint(patches), path)


def _checked_out_dir(config: TrainConfig, patches: torch.Tensor, prior: NoisePrior,
                     out_dir: str | Path) -> tuple[Path, Process]:
    """Validate the inputs of :func:`train` before any work; returns ``out_dir`` as a Path and the process trained
    (:func:`~audiospec.diffusion.processes.make_process`: it refuses a prior its objective cannot train with)."""
    if not isinstance(config, TrainConfig):
        raise AudiospecError(f"config must be a TrainConfig (TrainConfig.from_dict(...)), got {type(config).__name__}")
    if not isinstance(prior, NoisePrior):
        raise AudiospecError(f"prior must be a NoisePrior (WhiteNoise(), ColoredNoise(beta=...), MatchedNoise...), got {prior!r}")
    check_training_data(config, patches)
    N, C, M, T = patches.shape
    process = make_process(config, prior, n_mels=M, data=patches)  # a process may read the data's moments
    prior.spectrum((M, T))  # a matched prior of another patch size fails here
    out_dir = Path(out_dir)
    if out_dir.exists() and not out_dir.is_dir():
        raise AudiospecError(f"out_dir {str(out_dir)!r} exists and is not a folder")
    return out_dir, process


@dataclass
class _RunState:
    """What a checkpoint holds that changes during a run (module doc, Determinism)."""

    model: torch.nn.Module
    ema_model: torch.nn.Module
    optimizer: torch.optim.Optimizer
    gens: dict[str, torch.Generator]
    order: torch.Tensor  # [N] permutation of the patches in this epoch
    position: int  # index into ``order`` of the next batch
    step: int  # steps completed
    losses: list[float]  # loss of every logged step since step 0


def _initial_state(config: TrainConfig, prior: NoisePrior, runtime: Runtime, *, n_patches: int,
                   fingerprint: list[float], checkpoint_path: Path, resume: bool) -> _RunState:
    """A fresh run's state (generators drawn in a fixed order), or the checkpoint's when resuming."""
    gens = _generators(config.seed, runtime.device, process_index=runtime.process_index)
    model = build_model(config.model, generator=gens["init"])
    ema_model = copy.deepcopy(model).requires_grad_(False)
    optimizer = torch.optim.AdamW(
        model.parameters(), lr=config.lr, betas=config.betas, weight_decay=config.weight_decay
    )
    run = _RunState(model=model, ema_model=ema_model, optimizer=optimizer, gens=gens,
                    order=torch.randperm(n_patches, generator=gens["data"]), position=0, step=0, losses=[])
    if resume and checkpoint_path.is_file():
        state = read_training_state(checkpoint_path)
        _check_resume(state, config, prior, fingerprint, checkpoint_path)
        model.load_state_dict(state.model)
        ema_model.load_state_dict(state.ema)
        optimizer.load_state_dict(state.optimizer)
        for name, gen in gens.items():
            if name in state.rng:
                gen.set_state(state.rng[name])
        run.order, run.position, run.step = state.data_order, state.data_position, state.step
        run.losses = state.losses.tolist()
        runtime.load_state_dict(state.runtime)
    return run


def _save(run: _RunState, *, path: Path, config: TrainConfig, prior: NoisePrior, runtime: Runtime,
          fingerprint: list[float], data_range: tuple[float, float]) -> None:
    """Checkpoint ``run`` at its current step to ``path`` and write ``loss.csv`` beside it."""
    net = runtime.unwrap_model(run.model)
    save_training_state(path, TrainingState(
        step=run.step, config=config.to_dict(), model=net.state_dict(), ema=run.ema_model.state_dict(),
        optimizer=run.optimizer.state_dict(), prior=prior.to_dict(), prior_tensors=prior.tensors(),
        rng={name: gen.get_state() for name, gen in run.gens.items() if name != "init"},
        data_order=run.order, data_position=run.position, losses=torch.tensor(run.losses, dtype=torch.float64),
        runtime=runtime.state_dict(), data_fingerprint=fingerprint, data_range=data_range,
    ))
    _write_loss_csv(path.parent / "loss.csv", run.losses)


def _train_step(run: _RunState, data: torch.Tensor, *, config: TrainConfig, runtime: Runtime,
                loss_fn: TrainingLoss) -> torch.Tensor:
    """One optimisation step at ``run.step`` on ``data`` ``[N, C, M, T]`` (module doc); returns the detached loss.

    Advances ``run.order`` / ``run.position`` (a fresh permutation each epoch), not ``run.step``.
    """
    N, B, device = data.shape[0], config.batch_size, runtime.device
    if run.position + B > N:  # next epoch: a fresh permutation
        run.order, run.position = torch.randperm(N, generator=run.gens["data"]), 0
    index = batch_shard(run.order[run.position : run.position + B], process_index=runtime.process_index,
                        num_processes=runtime.num_processes)  # this process's share of the global batch
    run.position += B
    x0 = data[index.to(device)]  # [b, C, M, T], b = B / num_processes
    for group in run.optimizer.param_groups:
        group["lr"] = config.lr_at(run.step)
    with runtime.autocast():  # t from the run's sampler, eps from the prior, the process's loss: one call
        loss = loss_fn(run.model, x0, generators=run.gens)
    run.optimizer.zero_grad(set_to_none=True)
    runtime.backward(loss)
    if config.grad_clip is not None:
        runtime.clip_grad_norm_(run.model.parameters(), config.grad_clip)
    runtime.optimizer_step(run.optimizer)
    update_ema(run.ema_model, runtime.unwrap_model(run.model), decay=ema_decay_at(run.step, decay=config.ema_decay))
    return loss.detach()


def _train_loop(run: _RunState, data: torch.Tensor, *, config: TrainConfig, runtime: Runtime,
                loss_fn: TrainingLoss, save: Callable[[], None],
                evaluate: Callable[[int], None] | None, progress: bool) -> None:
    """Steps ``run.step`` .. ``config.steps``: losses logged every ``log_every``, ``evaluate(step)`` every
    ``eval_every`` and at the end, checkpoints every ``checkpoint_every`` and at the end (main process); raises on
    a non-finite loss."""
    pending: list[torch.Tensor] = []
    bar = tqdm(total=config.steps, initial=min(run.step, config.steps), desc="train", unit="step",
               disable=not progress or not runtime.is_main_process, dynamic_ncols=True)
    try:
        while run.step < config.steps:
            pending.append(_train_step(run, data, config=config, runtime=runtime, loss_fn=loss_fn))
            run.step += 1
            step = run.step
            bar.update(1)
            last = step == config.steps
            if step % config.log_every == 0 or step % config.checkpoint_every == 0 or last:
                run.losses.extend(torch.stack(pending).float().cpu().tolist())
                pending = []
                bar.set_postfix(loss=f"{run.losses[-1]:.4f}")
                if not bool(torch.isfinite(torch.tensor(run.losses[-1]))):
                    raise AudiospecError(
                        f"the loss became {run.losses[-1]} at step {step}; lower lr, set grad_clip or check the data "
                        "normalisation (the last good checkpoint is kept)"
                    )
            if evaluate is not None and _evaluates(step, config, last):
                evaluate(step)
            if (step % config.checkpoint_every == 0 or last) and runtime.is_main_process:
                save()
    finally:
        bar.close()


def _evaluates(step: int, config: TrainConfig, last: bool) -> bool:
    """Whether the held-out loss is measured after ``step``: every ``eval_every`` steps and at the end; with
    ``eval_every`` None, at the end and at :func:`plateau_step` of the budget (the two losses the plateau rule reads)."""
    if last:
        return True
    if config.eval_every is not None:
        return step % config.eval_every == 0
    return step == plateau_step(config.steps)


def train(
    config: TrainConfig,
    patches: torch.Tensor,
    *,
    prior: NoisePrior,
    out_dir: str | Path,
    resume: bool = True,
    progress: bool = True,
    runtime: Runtime | None = None,
    validation: torch.Tensor | None = None,
) -> TrainResult:
    """Train a U-Net on normalised log-mel ``patches`` ``[N, C, M, T]`` (module doc); returns a :class:`TrainResult`.

    Every input is validated before any work. With ``resume=True`` an existing
    ``out_dir/checkpoint.safetensors`` is continued (its settings must match, except
    ``steps`` (not below the checkpoint's), ``checkpoint_every``, ``log_every``; a refused
    resume writes nothing, :func:`check_resume`); ``resume=False`` starts over and
    overwrites it. ``runtime`` chooses device and precision (default
    :class:`~audiospec.diffusion.runtime.SingleDevice` on CUDA if available, with
    ``config.precision``); it is the seam for a multi-GPU engine. With held-out ``validation``
    patches ``[N', C, M, T]``, the EMA network's :func:`validation_loss` (fixed draws) is written to
    ``heldout.csv`` every ``config.eval_every`` steps and at the end (:func:`read_heldout`).

    Args:
        config: the run's settings.
        patches: normalised training patches ``[N, C, M, T]``.
        prior: the noise prior (a :class:`~audiospec.diffusion.priors.NoisePrior`).
        out_dir: the run folder (config, prior, checkpoint, loss history).
        resume: continue an existing checkpoint in ``out_dir``.
        progress: show a progress bar.
        runtime: device / precision / data-parallel engine (default :class:`SingleDevice`).
        validation: held-out patches ``[N', C, M, T]`` whose loss is recorded, or None.

    Returns:
        :class:`TrainResult`; the weights are in ``result.checkpoint``
        (:func:`~audiospec.diffusion.checkpoint.load_checkpoint`).

    Raises:
        AudiospecError: invalid patches (see :func:`check_training_data`), a prior that does not
            fit them, or a checkpoint in ``out_dir`` whose settings, prior or data differ.
    """
    out_dir, process = _checked_out_dir(config, patches, prior, out_dir)
    timesteps = make_timestep_sampler(config.timesteps, patches=patches, prior=prior)
    loss_fn = TrainingLoss(process=process, timesteps=timesteps)
    runtime = runtime if runtime is not None else SingleDevice(precision=config.precision)
    fingerprint = patches_fingerprint(patches)
    checkpoint_path = out_dir / CHECKPOINT_NAME
    run = _initial_state(config, prior, runtime, n_patches=patches.shape[0], fingerprint=fingerprint,
                         checkpoint_path=checkpoint_path, resume=resume)
    start_step = run.step

    out_dir.mkdir(parents=True, exist_ok=True)
    save_config(config, out_dir / "config.yaml")
    atomic_write_text(out_dir / "prior.yaml", yaml.safe_dump(prior.to_dict(), sort_keys=False))
    layout = torch.channels_last if config.memory_format == "channels_last" else torch.contiguous_format
    run.model.to(memory_format=layout)  # in place: the optimizer keeps its parameters
    run.model, run.optimizer = runtime.prepare(run.model, run.optimizer)
    run.ema_model = run.ema_model.to(runtime.device, memory_format=layout)
    data = patches.to(device=runtime.device, dtype=torch.float32)
    run.model.train()
    save = functools.partial(_save, run, path=checkpoint_path, config=config, prior=prior, runtime=runtime,
                             fingerprint=fingerprint, data_range=(float(patches.min()), float(patches.max())))

    evaluate = None
    if validation is not None and runtime.is_main_process:
        keep = torch.linspace(0, validation.shape[0] - 1, min(config.eval_patches, validation.shape[0])).round().long()
        evaluate = held_out_evaluator(run.ema_model, validation[keep.unique()], process=process, out_dir=out_dir,
                                      start_step=run.step, seed=config.seed)
    started = time.perf_counter()
    _train_loop(run, data, config=config, runtime=runtime, loss_fn=loss_fn, save=save, evaluate=evaluate,
                progress=progress)
    if start_step >= config.steps and not checkpoint_path.is_file():
        save()
    seconds = time.perf_counter() - started
    ran = max(0, run.step - start_step)
    result = TrainResult(
        out_dir=out_dir, checkpoint=checkpoint_path, steps=run.step, start_step=start_step,
        losses=tuple(run.losses), seconds=seconds, steps_per_second=ran / seconds if ran and seconds > 0 else 0.0,
    )
    if runtime.is_main_process and (ran or not (out_dir / "train_result.json").is_file()):
        write_json(out_dir / "train_result.json", _summary(result))  # a call that only loads keeps the record
    return result


def _summary(result: TrainResult) -> dict[str, Any]:
    return {
        "steps": result.steps, "start_step": result.start_step, "final_loss": result.final_loss,
        "seconds": result.seconds, "steps_per_second": result.steps_per_second,
        "checkpoint": str(result.checkpoint),
    }
