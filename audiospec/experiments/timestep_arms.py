"""Timestep samplers compared at equal compute (issue 28): the arms, their settings and their numbers.

The YAML section ``timesteps`` (:class:`TimestepsConfig`) lists the arms, each a name (its models' folder) and the
training-time sampler that replaces ``compare.train.timesteps`` (:class:`TimestepArm`); every other training setting
is the protocol's, so the arms differ only by p(t) and cost the same per step. The default arms are the issue's:

- ``uniform``: t ~ U(0, 1);
- ``logit-normal``: logit-normal(0, 1) (Esser et al. 2024), the reference every arm is compared with;
- ``shifted``: logit-normal(0, 1) with the resolution shift s = sqrt(m / n) of Esser et al. for the patch size used
  (m = F T positions, n those of ``shift_reference``, the 32 x 32 latent grid on which Esser et al. chose
  logit-normal(0, 1)), i.e. mu = log s; ``shifted-x4``: the shift for a patch four times as long, to see whether the
  size of the shift matters (:attr:`TimestepArm.shift_for_length`);
- ``spectral``: the timestep notebook's strategy 2, p(t) ∝ p0(t) R(f(t)) with R the training split's mel RAPSD over
  its log-log polynomial fit and the notebook's linear map f -> t, p0 = logit-normal(0, 1);
- ``drowning``: the same weighting with f(t) the inverse of the prior's drowning time t*(f) (the time band f
  falls below SNR tau under that prior) instead of the linear map.

The numbers of the comparison and its pre-specified tests: :mod:`audiospec.experiments.timestep_results`.
"""

from __future__ import annotations

import dataclasses
import math
import re
from dataclasses import dataclass, field
from typing import Sequence

import torch

from audiospec.diffusion.priors import NoisePrior, PriorSpec
from audiospec.diffusion.time_shift import resolution_shift
from audiospec.diffusion.timestep_config import TimestepConfig, make_timestep_sampler
from audiospec.errors import AudiospecError

__all__ = ["DEFAULT_ARMS", "TimestepArm", "TimestepsConfig", "arm_densities", "arm_timesteps"]

_ARM_NAME = re.compile(r"^[a-z0-9][a-z0-9_.+-]*$")


@dataclass(frozen=True)
class TimestepArm:
    """One arm of the comparison (an entry of ``timesteps.arms``).

    Args:
        name: the arm's name and its models' folder: lower-case letters, digits and ``_ . + -``.
        timesteps: the training-time sampler (YAML as ``train.timesteps``), replacing ``compare.train.timesteps``.
        shift_for_length: apply the resolution shift of a patch this many times as long as the trained one
            (1: the patch size used) against ``timesteps.shift_reference``, in place of ``timesteps.shift``;
            None: no resolution shift beyond ``timesteps.shift``.

    Raises:
        AudiospecError: a name that is not a folder-safe word, a non-positive ``shift_for_length``, or both a shift
            and ``shift_for_length``.
    """

    name: str
    timesteps: TimestepConfig = field(default_factory=lambda: TimestepConfig(kind="logit_normal"))
    shift_for_length: float | None = None

    def __post_init__(self) -> None:
        if not isinstance(self.name, str) or not _ARM_NAME.match(self.name):
            raise AudiospecError(f"timesteps.arms: an arm's name must be lower-case letters, digits and '_ . + -' "
                                 f"(it names the models' folder), got {self.name!r}")
        if self.shift_for_length is not None:
            if not (math.isfinite(self.shift_for_length) and self.shift_for_length > 0):
                raise AudiospecError(f"timesteps.arms[{self.name}].shift_for_length must be a positive number (1: the "
                                     f"patch size used), got {self.shift_for_length!r}")
            if self.timesteps.shift != 1.0:
                raise AudiospecError(f"timesteps.arms[{self.name}] sets both timesteps.shift={self.timesteps.shift} "
                                     f"and shift_for_length={self.shift_for_length}; keep one")


DEFAULT_ARMS: tuple[TimestepArm, ...] = (
    TimestepArm(name="uniform", timesteps=TimestepConfig(kind="uniform")),
    TimestepArm(name="logit-normal"),
    TimestepArm(name="shifted", shift_for_length=1.0),
    TimestepArm(name="shifted-x4", shift_for_length=4.0),
    TimestepArm(name="spectral", timesteps=TimestepConfig(kind="logit_normal", spectral_weighting=True)),
    TimestepArm(name="drowning", timesteps=TimestepConfig(kind="logit_normal", spectral_weighting=True,
                                                          frequency_map="drowning")),
)
"""The issue's arms (module doc)."""


def _default_priors() -> tuple[PriorSpec, ...]:
    return (PriorSpec.parse("white"), PriorSpec.parse("pink"))


@dataclass(frozen=True)
class TimestepsConfig:
    """The YAML section ``timesteps`` (module doc).

    Args:
        arms: the arms, distinct names, at least two.
        reference: the arm every other is compared with (logit-normal(0, 1) by default).
        primary_arms: the arms of the pre-specified primary test (held-out loss at ``primary_step`` against the
            reference, one Holm family per prior); not the reference.
        priors: the noise priors, each trained with every arm.
        seeds: the seeds (empty: ``compare.seeds``).
        checkpoints: increasing step counts at which the held-out loss is measured; the last is the budget.
        primary_step: the checkpoint of the primary test (None: the last).
        shift_reference: the patch size (F, T) whose resolution shift is 1 (``shift_for_length``).
        loss_draws: draws of (t, eps) per validation patch for the held-out loss.
        time_bins: equal bins of t in which the held-out loss is also reported (where in time an arm gains).
        n_samples: samples for KID at the end (>= 3, for the jackknife).
        sample_steps: Euler steps of those samples.
        label: shown at the top of the report's section (e.g. "CPU preview, 3 seeds").

    Raises:
        AudiospecError: any violated constraint, naming its key.
    """

    arms: tuple[TimestepArm, ...] = DEFAULT_ARMS
    reference: str = "logit-normal"
    primary_arms: tuple[str, ...] = ("spectral", "drowning")
    priors: tuple[PriorSpec, ...] = field(default_factory=_default_priors)
    seeds: tuple[int, ...] = ()
    checkpoints: tuple[int, ...] = (100, 200, 400, 800)
    primary_step: int | None = None
    shift_reference: tuple[int, int] = (32, 32)
    loss_draws: int = 2
    time_bins: int = 4
    n_samples: int = 64
    sample_steps: int = 16
    label: str = ""

    def __post_init__(self) -> None:
        names = [arm.name for arm in self.arms]
        if len(names) < 2 or len(set(names)) != len(names):
            raise AudiospecError(f"timesteps.arms must be at least two arms with distinct names, got {names}")
        if self.reference not in names:
            raise AudiospecError(f"timesteps.reference {self.reference!r} is not an arm; the arms are {names}")
        wrong = [a for a in self.primary_arms if a not in names or a == self.reference]
        if wrong or len(set(self.primary_arms)) != len(self.primary_arms):
            raise AudiospecError(f"timesteps.primary_arms {list(self.primary_arms)} must be distinct arms other than "
                                 f"the reference {self.reference!r}; the arms are {names}")
        marks = list(self.checkpoints)
        if not marks or min(marks) < 1 or marks != sorted(set(marks)):
            raise AudiospecError(f"timesteps.checkpoints must be increasing positive step counts, got {marks}")
        if self.primary_step is not None and self.primary_step not in marks:
            raise AudiospecError(f"timesteps.primary_step={self.primary_step} must be one of timesteps.checkpoints "
                                 f"{marks}")
        prior_names = [spec.name for spec in self.priors]
        if not prior_names or len(set(prior_names)) != len(prior_names):
            raise AudiospecError(f"timesteps.priors must be distinct and non-empty, got {prior_names}")
        if len(set(self.seeds)) != len(self.seeds):
            raise AudiospecError(f"timesteps.seeds must be distinct, got {list(self.seeds)}")
        if min(self.shift_reference) < 1:
            raise AudiospecError(f"timesteps.shift_reference must be a patch size [F, T] >= 1, got "
                                 f"{list(self.shift_reference)}")
        if self.loss_draws < 1 or self.time_bins < 1 or self.sample_steps < 1 or self.n_samples < 3:
            raise AudiospecError(f"timesteps needs loss_draws >= 1, time_bins >= 1, sample_steps >= 1 and n_samples "
                                 f">= 3; got {self.loss_draws}, {self.time_bins}, {self.sample_steps}, {self.n_samples}")

    @property
    def budget(self) -> int:
        """The last checkpoint: every model's training steps."""
        return self.checkpoints[-1]

    @property
    def primary(self) -> int:
        """The checkpoint of the primary test."""
        return self.primary_step if self.primary_step is not None else self.budget


def arm_timesteps(arm: TimestepArm, shape: tuple[int, int], reference_shape: Sequence[int]) -> TimestepConfig:
    """The sampler settings an arm trains with on patches of ``shape`` (F, T): its own, with the resolution shift
    s = sqrt(F T ``shift_for_length`` / (F0 T0)) when it asks for one (``reference_shape`` = (F0, T0))."""
    if arm.shift_for_length is None:
        return arm.timesteps
    shift = resolution_shift(shape, reference_shape=reference_shape) * math.sqrt(arm.shift_for_length)
    return dataclasses.replace(arm.timesteps, shift=shift)


def arm_densities(arms: Sequence[TimestepArm], priors: Sequence[NoisePrior], patches: torch.Tensor,
                  reference_shape: Sequence[int], *, size: int = 200
                  ) -> tuple[tuple[float, ...], dict[str, dict[str, tuple[float, ...]]]]:
    """Each arm's training density p(t) per prior (built as training builds it, from the training ``patches``
    ``[N, C, F, T]``) at the midpoints of ``size`` equal cells of (0, 1): (grid, prior -> arm -> p)."""
    grid = (torch.arange(size, dtype=torch.float64) + 0.5) / size
    shape = tuple(patches.shape[-2:])
    densities = {prior.name: {arm.name: tuple(make_timestep_sampler(arm_timesteps(arm, shape, reference_shape),
                                                                    patches=patches, prior=prior).pdf(grid).tolist())
                              for arm in arms} for prior in priors}
    return tuple(grid.tolist()), densities
