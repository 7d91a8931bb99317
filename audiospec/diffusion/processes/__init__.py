"""The processes a model can be trained and sampled with, and their registry (:mod:`.base` for the interface).

Every module of this package registers its objectives when the package is imported (each one a
:class:`~audiospec.diffusion.processes.base.ProcessEntry`), so a new process is one new module here and nothing
else. This module is the only place that turns an objective's name (``train.objective``) into behaviour:
:func:`build_process` / :func:`make_process` build the process, :func:`check_objective` validates a training
configuration against it, :func:`baseline_objectives` and :func:`objective_label` describe it to the stages
and the report.
"""

from __future__ import annotations

import importlib
import pkgutil
from typing import Any, Mapping, Protocol

import torch

from audiospec.diffusion.priors import NoisePrior
from audiospec.diffusion.processes.base import (
    Model,
    Process,
    ProcessEntry,
    Settings,
    TrainingLoss,
    entries,
    register,
)
from audiospec.errors import AudiospecError

for _module in pkgutil.iter_modules(__path__):  # every process module registers itself on import
    if _module.name not in ("base", "path", "interpolant"):  # the shared parts register nothing
        importlib.import_module(f"{__name__}.{_module.name}")

from audiospec.diffusion.processes.bands import BandWindows, band_scales  # noqa: E402 - after the registration above
from audiospec.diffusion.processes.blurring import BlurringDiffusion  # noqa: E402
from audiospec.diffusion.processes.cepstral import CepstralAR  # noqa: E402
from audiospec.diffusion.processes.flow import RectifiedFlow  # noqa: E402
from audiospec.diffusion.processes.heat import HeatDissipation  # noqa: E402
from audiospec.diffusion.processes.interpolant import CoarseToFineConfig, coefficient_stats  # noqa: E402
from audiospec.diffusion.processes.vp import VP_T_MAX, VPEps  # noqa: E402

__all__ = ["BandWindows", "BlurringDiffusion", "CepstralAR", "CoarseToFineConfig", "HeatDissipation", "Model", "Process", "ProcessEntry",
           "RectifiedFlow", "Settings", "TrainSettings", "TrainingLoss", "VPEps", "VP_T_MAX", "band_scales", "bands_in_turn", "baseline_objectives",
           "build_process", "check_objective", "check_sampler", "coefficient_stats", "entries", "make_process",
           "objective_label", "objectives", "register"]

SAMPLERS = ("euler", "heun", "ancestral")


class TrainSettings(Protocol):
    """What :func:`make_process` reads of a :class:`~audiospec.diffusion.config.TrainConfig`."""

    objective: str
    whiten_loss: bool
    coarse_to_fine: Any


def objectives() -> tuple[str, ...]:
    """The registered objectives (``train.objective``).

    Returns:
        Their names, the diffusion processes first, then the baselines (alphabetical within each).
    """
    found = entries()
    return tuple(sorted(found, key=lambda name: (found[name].baseline, name)))


def _entry(objective: str) -> ProcessEntry:
    found = entries().get(objective)
    if found is None:
        raise AudiospecError(f"unknown objective {objective!r}; choose one of {objectives()}")
    return found


def baseline_objectives() -> tuple[str, ...]:
    """The explicit coarse-to-fine baselines (trained from white noise and compared with diffusion).

    Returns:
        Their objective names.
    """
    return tuple(name for name, entry in entries().items() if entry.baseline)


def bands_in_turn(objective: str) -> bool:
    """Whether an objective's process generates quefrency bands one after the other.

    Args:
        objective: a registered objective.

    Returns:
        True for an autoregression over bands (e.g. ``"cepstral_ar"``).

    Raises:
        AudiospecError: an unknown objective.
    """
    return _entry(objective).bands_in_turn


def objective_label(objective: str) -> str:
    """An objective's name in tables and sentences, e.g. ``"cepstral AR"``.

    Args:
        objective: a registered objective.

    Returns:
        Its label.

    Raises:
        AudiospecError: an unknown objective.
    """
    return _entry(objective).label


def check_sampler(objective: str, sampler: str | None) -> None:
    """A sampler name must exist and fit the objective's process (None: its default, always fits).

    Args:
        objective: a registered objective.
        sampler: a sampler name, or None.

    Raises:
        AudiospecError: an unknown objective or sampler, or one the objective's process cannot use.
    """
    _check_sampler(_entry(objective), sampler)


def _check_sampler(entry: ProcessEntry, sampler: str | None) -> None:
    if sampler is None:
        return
    if sampler not in SAMPLERS:
        raise AudiospecError(f"unknown sampler {sampler!r}; choose one of {SAMPLERS}")
    if not entry.samplers:
        raise AudiospecError(f"objective {entry.name!r} is a coarse-to-fine baseline, not a diffusion process: it "
                             "has its own sampler; sample it through audiospec.diffusion.solver.solve with its "
                             "process (or the `audiospec baselines` stage)")
    if sampler not in entry.samplers:
        others = "; ".join(f"{' or '.join(repr(s) for s in e.samplers)} for {e.name}"
                           for e in entries().values() if e.samplers and e.name != entry.name)
        raise AudiospecError(f"sampler {sampler!r} does not fit objective {entry.name!r}: use "
                             f"{' or '.join(repr(s) for s in entry.samplers)} for {entry.name} models "
                             f"(the others: {others})")


def build_process(objective: str, *, prior: NoisePrior, n_mels: int | None = None, sampler: str | None = None,
                  whiten: bool = False, clip_x0: float | None = None, eta: float | None = None,
                  coarse_to_fine: Any = None, data: torch.Tensor | None = None) -> Process:
    """The process of ``objective`` (module doc).

    Args:
        objective: a registered objective.
        prior: the noise prior.
        n_mels: mel bins of the patches (the cepstral model needs them).
        sampler: the sampler chosen at sampling time (None: the objective's default); it must fit the objective.
        whiten: measure the loss in the prior's metric.
        clip_x0: clamp the data prediction while sampling (VP eps).
        eta: the stochastic share of a process's own sampler (None: its default).
        coarse_to_fine: the coarse-to-fine settings (``train.coarse_to_fine``).
        data: training patches ``[N, C, M, T]`` for a process whose prior depends on the data (heat).

    Returns:
        The process.

    Raises:
        AudiospecError: an unknown objective or sampler, a sampler that does not fit it, or settings the
            process refuses (e.g. a coloured prior for a baseline).
    """
    entry = _entry(objective)
    _check_sampler(entry, sampler)
    return entry.build(Settings(prior=prior, n_mels=n_mels, sampler=sampler, whiten=whiten, clip_x0=clip_x0,
                                eta=eta, coarse_to_fine=coarse_to_fine, data=data))


def make_process(config: TrainSettings, prior: NoisePrior, *, n_mels: int, sampler: str | None = None,
                 clip_x0: float | None = None, eta: Mapping[str, float] | None = None,
                 data: torch.Tensor | None = None) -> Process:
    """The process a training configuration trains (:func:`build_process` with its objective and settings).

    Args:
        config: the run's :class:`~audiospec.diffusion.config.TrainConfig`.
        prior: the noise prior.
        n_mels: mel bins of the patches.
        sampler: the sampler chosen at sampling time (None: the objective's default).
        clip_x0: clamp the data prediction while sampling (VP eps).
        eta: per objective, the stochastic share of its own sampler (e.g. ``{"heat": 0.5}``); others keep theirs.
        data: training patches ``[N, C, M, T]`` (heat's prior at s = 1).

    Returns:
        The process.

    Raises:
        AudiospecError: as :func:`build_process`.
    """
    return build_process(config.objective, prior=prior, n_mels=n_mels, sampler=sampler, whiten=config.whiten_loss,
                         clip_x0=clip_x0, eta=(eta or {}).get(config.objective),
                         coarse_to_fine=config.coarse_to_fine, data=data)


def check_objective(objective: str, *, whiten_loss: bool) -> None:
    """A training configuration's objective must be registered and accept its loss settings.

    Args:
        objective: ``train.objective``.
        whiten_loss: ``train.whiten_loss``.

    Raises:
        AudiospecError: an unknown objective, or a whitened loss for a baseline trained from white noise.
    """
    entry = _entry(objective)
    if whiten_loss and not entry.whitening:
        raise AudiospecError(f"whiten_loss applies to diffusion objectives; the {objective!r} baseline trains from "
                             "white noise, so set whiten_loss: false")
