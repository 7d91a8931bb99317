"""The numbers of the timestep comparison (issue 28; arms and settings: :mod:`audiospec.experiments.timestep_arms`).

:class:`TimestepsResult` holds the held-out flow-matching loss of every arm, prior and seed at every checkpoint on
the validation split, with one evaluation distribution of t (stratified uniform) and noise fixed per seed, so arms
trained with different p(t) are measured alike (:func:`~audiospec.diffusion.heldout.validation_loss_by_time`: also
split into bins of t); the training seconds of each checkpoint; at the last checkpoint KID (jackknife interval) and
the content (commit) order per spectral view; each arm's density p(t) on a grid. The **pre-specified primary test**
(:func:`arm_tests`): per prior, the held-out loss at ``primary_step`` of each of ``primary_arms`` minus the
reference's, paired by seed, exact sign flips, Holm within the prior's primary family; every other difference
(other arms, other checkpoints, KID, order) forms the prior's secondary family. :func:`families` gives each family's
smallest attainable p; :func:`time_to_target` the steps and seconds each arm needs to reach the reference's loss at
``primary_step`` (time to quality; descriptive, not tested).
"""

from __future__ import annotations

import math
from dataclasses import dataclass
from typing import Sequence

from audiospec.diffusion.timestep_config import TimestepConfig
from audiospec.experiments.rows import paired_family
from audiospec.experiments.timestep_arms import TimestepsConfig
from audiospec.functional.stats import smallest_sign_flip_p
from audiospec.measures.statistics import ALPHA, Difference, Interval

__all__ = ["LOSS", "ArmEnd", "ArmPoint", "ArmTest", "FamilyBound", "TimeToTarget", "TimestepsResult", "arm_tests",
           "families", "time_to_target"]

LOSS = "heldout_loss"
"""The measure of the primary test (and of the curves)."""


@dataclass(frozen=True)
class ArmPoint:
    """One checkpoint of one arm's model: held-out loss (validation split, fixed draws) and its mean in each of
    ``len(heldout_by_time)`` equal bins of t (t = 1 noise), the training loss (mean of the steps this call ran) and
    the training seconds and steps of the call that reached it."""

    arm: str
    prior: str
    seed: int
    step: int
    heldout_loss: float
    heldout_by_time: tuple[float, ...]
    train_loss: float
    seconds: float
    steps_run: int


@dataclass(frozen=True)
class ArmEnd:
    """One arm's model at the budget: KID against the validation split (jackknife interval over the samples) and
    the content (commit) order of each spectral view."""

    arm: str
    prior: str
    seed: int
    step: int
    kid: Interval
    order: dict[str, float]


@dataclass(frozen=True)
class ArmTest:
    """One paired difference arm − reference of a prior: ``measure`` (``heldout_loss`` at ``step``, ``kid`` or
    ``order_<view>`` at the budget), in the prior's ``primary`` or secondary family."""

    prior: str
    arm: str
    measure: str
    step: int
    difference: Difference


@dataclass(frozen=True)
class FamilyBound:
    """A Holm family of one prior: its size, the seeds paired and the smallest Holm p it can reach
    (:func:`~audiospec.functional.stats.smallest_sign_flip_p`); ``can_decide`` when that is below alpha."""

    prior: str
    primary: bool
    size: int
    n_seeds: int
    smallest_p: float
    can_decide: bool


@dataclass(frozen=True)
class TimeToTarget:
    """Steps and training seconds one arm's model needed to reach the reference arm's held-out loss at the primary
    step (``target``, per seed), interpolated linearly between checkpoints; None for a seed that did not reach it."""

    prior: str
    arm: str
    seeds: tuple[int, ...]
    target: tuple[float, ...]
    steps: tuple[float | None, ...]
    seconds: tuple[float | None, ...]


@dataclass(frozen=True)
class TimestepsResult:
    """``timesteps.json`` (module doc); ``samplers``: the sampler settings each arm trained with (its resolution
    shift resolved for the patch size); ``grid`` and
    ``densities``: p(t) of every arm per prior on the grid; ``seconds_per_step``: mean training seconds per step of
    each arm (equal compute: the arms differ only by how t is drawn)."""

    arms: tuple[str, ...]
    reference: str
    primary_arms: tuple[str, ...]
    priors: tuple[str, ...]
    seeds: tuple[int, ...]
    checkpoints: tuple[int, ...]
    primary_step: int
    points: tuple[ArmPoint, ...]
    ends: tuple[ArmEnd, ...]
    tests: tuple[ArmTest, ...]
    families: tuple[FamilyBound, ...]
    time_to_target: tuple[TimeToTarget, ...]
    samplers: dict[str, TimestepConfig]
    grid: tuple[float, ...]
    densities: dict[str, dict[str, tuple[float, ...]]]
    seconds_per_step: dict[str, float]
    n_train_patches: int
    n_validation_patches: int
    loss_draws: int
    n_samples: int
    sample_steps: int
    label: str = ""


def _seed_values(points: Sequence[ArmPoint], ends: Sequence[ArmEnd], prior: str
                 ) -> dict[tuple[str, str, int], dict[int, float]]:
    """(arm, measure, step) -> seed -> value for one prior."""
    values: dict[tuple[str, str, int], dict[int, float]] = {}
    for p in points:
        if p.prior == prior:
            values.setdefault((p.arm, LOSS, p.step), {})[p.seed] = p.heldout_loss
    for e in ends:
        if e.prior == prior:
            values.setdefault((e.arm, "kid", e.step), {})[e.seed] = e.kid.mean
            for view, order in e.order.items():
                values.setdefault((e.arm, f"order_{view}", e.step), {})[e.seed] = order
    return values


def _family(prior: str, keys: list[tuple[str, str, int]], values: dict, reference: str, primary: bool
            ) -> list[ArmTest]:
    """The paired differences of one family (:func:`~audiospec.experiments.rows.paired_family`)."""
    diffs = {}
    for arm, measure, step in keys:
        mine, ref = values[arm, measure, step], values.get((reference, measure, step), {})
        diffs[arm, measure, step] = [mine[s] - ref[s] for s in sorted(mine) if s in ref]
    tests, _ = paired_family(diffs, primary=primary)
    return [ArmTest(prior=prior, arm=arm, measure=measure, step=step, difference=difference)
            for (arm, measure, step), difference in tests.items()]


def arm_tests(points: Sequence[ArmPoint], ends: Sequence[ArmEnd], config: TimestepsConfig) -> tuple[ArmTest, ...]:
    """Every paired difference arm − reference (module doc): per prior the primary family (held-out loss at the
    primary step of the primary arms) and the secondary family (every other arm, checkpoint, KID and order)."""
    out: list[ArmTest] = []
    for prior in (spec.name for spec in config.priors):
        values = _seed_values(points, ends, prior)
        first = [(arm, LOSS, config.primary) for arm in config.primary_arms if (arm, LOSS, config.primary) in values]
        rest = [k for k in values if k[0] != config.reference and k not in first]
        out += _family(prior, first, values, config.reference, True)
        out += _family(prior, rest, values, config.reference, False)
    return tuple(out)


def families(tests: Sequence[ArmTest], config: TimestepsConfig, n_seeds: int) -> tuple[FamilyBound, ...]:
    """The size of each prior's primary and secondary family and the smallest Holm p it can reach with
    ``n_seeds`` paired seeds (the primary family's size is fixed in advance: the primary arms)."""
    out = []
    for prior in (spec.name for spec in config.priors):
        for primary in (True, False):
            size = len(config.primary_arms) if primary else sum(
                1 for t in tests if t.prior == prior and not t.difference.primary and t.difference.p_value is not None)
            smallest = smallest_sign_flip_p(max(1, n_seeds), family_size=max(1, size))
            out.append(FamilyBound(prior=prior, primary=primary, size=size, n_seeds=n_seeds, smallest_p=smallest,
                                   can_decide=n_seeds >= 2 and smallest < ALPHA))
    return tuple(out)


def _reach(curve: list[tuple[int, float, float]], target: float) -> tuple[float | None, float | None]:
    """(steps, seconds) at which a curve of (step, cumulative seconds, loss) first reaches ``target``."""
    previous = (0, 0.0, math.inf)
    for step, seconds, loss in curve:
        if loss <= target:
            if not math.isfinite(previous[2]):
                return float(step), seconds
            frac = (previous[2] - target) / (previous[2] - loss) if previous[2] > loss else 1.0
            return previous[0] + frac * (step - previous[0]), previous[1] + frac * (seconds - previous[1])
        previous = (step, seconds, loss)
    return None, None


def time_to_target(points: Sequence[ArmPoint], config: TimestepsConfig) -> tuple[TimeToTarget, ...]:
    """Per prior and arm, per seed: the steps and seconds to the reference's held-out loss at the primary step
    (:class:`TimeToTarget`; the reference itself reaches it at the primary step by definition)."""
    out = []
    for prior in (spec.name for spec in config.priors):
        mine = [p for p in points if p.prior == prior]
        targets = {p.seed: p.heldout_loss for p in mine if p.arm == config.reference and p.step == config.primary}
        seeds = tuple(sorted(targets))
        for arm in (a.name for a in config.arms):
            reached = []
            for seed in seeds:
                curve, total = [], 0.0
                for p in sorted((p for p in mine if p.arm == arm and p.seed == seed), key=lambda p: p.step):
                    total += p.seconds
                    curve.append((p.step, total, p.heldout_loss))
                reached.append(_reach(curve, targets[seed]))
            out.append(TimeToTarget(prior=prior, arm=arm, seeds=seeds, target=tuple(targets[s] for s in seeds),
                                    steps=tuple(r[0] for r in reached), seconds=tuple(r[1] for r in reached)))
    return tuple(out)
