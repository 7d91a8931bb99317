"""Held-out loss during and after training: what says whether a model is on its loss plateau.

:func:`validation_loss` measures a network's training loss on held-out patches with fixed draws;
:func:`held_out_evaluator` writes it to ``heldout.csv`` every ``eval_every`` steps of a run
(:func:`audiospec.diffusion.training.train`), :func:`read_heldout` reads it back, and
:func:`on_loss_plateau` applies the plateau rule (the last 20% of a budget improve the held-out loss by less
than 1%, relative).
"""

from __future__ import annotations

import math
from pathlib import Path
from typing import Callable, Iterable

import torch

from audiospec.atomic import atomic_write_text
from audiospec.diffusion.processes import Process
from audiospec.diffusion.solver import model_device
from audiospec.errors import AudiospecError

__all__ = ["HELDOUT_NAME", "PLATEAU_FRACTION", "checkpoint_before", "held_out_evaluator", "on_loss_plateau",
           "plateau_step", "read_heldout", "validation_loss", "validation_loss_by_time"]


def _fixed_draws(n: int, shape: tuple[int, ...], *, process: Process, draws: int, seed: int):
    """The held-out draws: per draw, t ``[n]`` stratified over [0, 1) (one point in each of n equal bins, shuffled)
    and eps ``[n, C, M, T]`` from the process's prior, all from one generator seeded with ``seed``."""
    gen = torch.Generator().manual_seed(seed)
    for _ in range(draws):
        t = (torch.arange(n, dtype=torch.float64) + torch.rand(n, generator=gen, dtype=torch.float64)) / n
        t = t[torch.randperm(n, generator=gen)].float()
        eps = process.prior.sample(shape, generator=gen, dtype=torch.float32)
        yield t, eps, gen


@torch.no_grad()
def validation_loss(model: torch.nn.Module, patches: torch.Tensor, *, process: Process, draws: int = 1, seed: int = 0,
                    batch_size: int = 64) -> float:
    """Mean training loss of ``model`` on held-out patches over ``draws`` fixed draws of (t, eps).

    t is stratified over [0, 1) (one point per patch in each of N equal bins, shuffled), whatever the run's
    timestep sampler, and eps drawn from the process's prior, both from a generator seeded with ``seed``: the same
    draws at every call, so checkpoints (and runs with different timestep samplers) differ only by the model.

    Args:
        model: the network (its EMA weights, in evaluation mode).
        patches: held-out patches ``[N, C, M, T]``.
        process: the process it was trained with (its loss and prior).
        draws: draws of (t, eps) per patch.
        seed: the seed of the draws.
        batch_size: patches per evaluation.

    Returns:
        The mean loss.

    Raises:
        AudiospecError: no patches.
    """
    n = patches.shape[0]
    if n < 1:
        raise AudiospecError("the held-out loss needs at least one patch")
    device = model_device(model, None)
    total = 0.0
    for t, eps, gen in _fixed_draws(n, tuple(patches.shape), process=process, draws=draws, seed=seed):
        for start in range(0, n, batch_size):
            part = slice(start, start + batch_size)
            x0 = patches[part].to(device=device, dtype=torch.float32)
            loss = process.loss(model, x0, t=t[part], eps=eps[part].to(device), generator=gen)
            total += float(loss) * x0.shape[0]
    return total / (n * draws)


@torch.no_grad()
def validation_loss_by_time(model: torch.nn.Module, patches: torch.Tensor, *, process: Process, bins: int,
                            draws: int = 1, seed: int = 0, batch_size: int = 64
                            ) -> tuple[tuple[float, ...], tuple[int, ...]]:
    """:func:`validation_loss` on the same draws of (t, eps) (for a process that draws nothing more, as flow matching),
    split by t into ``bins`` equal bins of [0, 1) (t = 1 noise): where in the diffusion time a model is better or
    worse. The bins' means weighted by their counts give :func:`validation_loss` (up to the order of summation).

    Args:
        model: the network (its EMA weights, in evaluation mode).
        patches: held-out patches ``[N, C, M, T]``.
        process: the process it was trained with (its loss and prior).
        bins: equal bins of t, >= 1.
        draws: draws of (t, eps) per patch.
        seed: the seed of the draws.
        batch_size: patches per evaluation.

    Returns:
        (the mean loss in each bin ``[bins]``, NaN for a bin no draw fell in; the draws in each bin ``[bins]``).

    Raises:
        AudiospecError: no patches, or ``bins`` < 1.
    """
    n = patches.shape[0]
    if n < 1 or not isinstance(bins, int) or bins < 1:
        raise AudiospecError(f"the held-out loss by time needs at least one patch and bins >= 1, got {n} patches "
                             f"and bins={bins!r}")
    device = model_device(model, None)
    totals, counts = [0.0] * bins, [0] * bins
    for t, eps, gen in _fixed_draws(n, tuple(patches.shape), process=process, draws=draws, seed=seed):
        which = (t.double() * bins).floor().long().clamp(0, bins - 1)  # [n] bin of each draw
        for start in range(0, n, batch_size):
            for b in range(bins):
                index = start + torch.nonzero(which[start:start + batch_size] == b).flatten()
                if index.numel():
                    x0 = patches[index].to(device=device, dtype=torch.float32)
                    loss = process.loss(model, x0, t=t[index], eps=eps[index].to(device), generator=gen)
                    totals[b] += float(loss) * index.numel()
                    counts[b] += index.numel()
    return tuple(total / count if count else float("nan") for total, count in zip(totals, counts)), tuple(counts)


HELDOUT_NAME = "heldout.csv"


def read_heldout(out_dir: str | Path) -> dict[int, float]:
    """``{step: held-out loss}`` of a run folder (``heldout.csv``, written when training had validation patches)."""
    path = Path(out_dir) / HELDOUT_NAME
    if not path.is_file():
        return {}
    rows = [line.split(",") for line in path.read_text().splitlines()[1:] if line.strip()]
    try:
        return {int(step): float(loss) for step, loss in rows}
    except ValueError:
        raise AudiospecError(f"{str(path)!r} is damaged (expected 'step,loss' rows); delete it to recompute") from None


PLATEAU_FRACTION = 0.2
"""The plateau rule's window: the last 20% of a budget must improve the held-out loss by less than the tolerance."""


def plateau_step(budget: int, fraction: float = PLATEAU_FRACTION) -> int:
    """The last step at or before (1 - fraction) * budget: where the plateau rule reads its earlier loss (0: none).

    Args:
        budget: the training steps.
        fraction: the plateau rule's window.

    Returns:
        The step, or 0 when the budget is too short to have one.
    """
    return math.floor((1.0 - fraction) * budget)


def checkpoint_before(steps: Iterable[int], budget: int, fraction: float) -> int | None:
    """The last checkpoint at or before (1 - fraction) * budget, None when there is none or budget is not measured."""
    steps = list(steps)
    earlier = [s for s in steps if s <= plateau_step(budget, fraction)]
    return max(earlier) if earlier and budget in steps else None


def on_loss_plateau(losses: dict[int, float], budget: int, *, fraction: float = PLATEAU_FRACTION,
                    tolerance: float = 0.01) -> bool | None:
    """True when the last ``fraction`` of ``budget`` steps improved the held-out loss by less than ``tolerance``
    (relative to the loss at ``budget``); None when no checkpoint lies at or before (1 - fraction) * budget."""
    earlier = checkpoint_before(losses, budget, fraction)
    if earlier is None:
        return None
    return losses[earlier] - losses[budget] < tolerance * abs(losses[budget])


def held_out_evaluator(ema_model: torch.nn.Module, validation: torch.Tensor, *, process: Process, out_dir: Path,
                       start_step: int, seed: int) -> Callable[[int], None]:
    """``evaluate(step)``: the EMA network's :func:`validation_loss` appended to ``heldout.csv`` (entries past the
    checkpoint a resumed run starts from are dropped: they belonged to steps it runs again)."""
    history = {k: v for k, v in read_heldout(out_dir).items() if k <= start_step}

    def evaluate(step: int) -> None:
        ema_model.eval()
        history[step] = validation_loss(ema_model, validation, process=process, seed=seed)
        lines = ["step,loss"] + [f"{k},{history[k]:.9g}" for k in sorted(history)]
        atomic_write_text(out_dir / HELDOUT_NAME, "\n".join(lines) + "\n")

    return evaluate
