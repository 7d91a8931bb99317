"""The process interface every model family implements, the training loss built on it, and the registry.

A *process* (as ``flow_matching``'s ``ProbPath``) says, for data x0 and prior noise eps:

- how to corrupt x0 at its time (:meth:`Process.corrupt`) and what the network predicts there
  (:meth:`Process.target`), hence its training loss (:meth:`Process.loss`, given the run's drawn t and eps);
- how one sampling step goes (:meth:`Process.step` on its own state, :meth:`Process.view` of that state as a
  patch), from which initial state (:meth:`Process.initial`) and on which default grid
  (:meth:`Process.time_grid`).

:mod:`audiospec.diffusion.solver` runs any process; :class:`TrainingLoss` (as EDM's ``loss_fn(net, images)``,
carrying the schedule and the weighting) lets the training loop call ``loss_fn(model, x0, generators=...)``
without knowing which objective it trains. Rectified flow with any prior (:mod:`~.flow`), VP eps-prediction
(:mod:`~.vp`), the cepstral autoregression (:mod:`~.cepstral`) and heat dissipation (:mod:`~.heat`) are
implementations; a new one (blurring diffusion, a softness sweep between diffusion and autoregression) is one new
module in this package that calls :func:`register`. Shapes: x0, eps, x_t ``[B, C, M, T]``; t ``[B]``.
"""

from __future__ import annotations

from dataclasses import dataclass
from typing import Any, Callable, Mapping, Protocol

import torch

from audiospec.diffusion.priors import NoisePrior
from audiospec.diffusion.timesteps import TimestepSampler
from audiospec.errors import AudiospecError

__all__ = ["Model", "Process", "ProcessEntry", "Settings", "TrainingLoss", "entries", "register"]

Model = Callable[[torch.Tensor, torch.Tensor], torch.Tensor]
"""A network: (x_t ``[B, C, M, T]``, t ``[B]``) -> prediction ``[B, C, M, T]``."""


class Process(Protocol):
    """A forward process with its parametrisation, loss and sampling step (module doc).

    Attributes:
        name: the objective's name (``train.objective``), e.g. ``"flow_matching"``.
        prior: the noise eps is drawn from (training and the start of sampling).
        nfe_per_step: network evaluations per sampling step.
        commit_bands: the log-spaced quefrency bands it generates one after the other (None: all at once).
    """

    name: str
    prior: NoisePrior
    nfe_per_step: int
    commit_bands: int | None

    def corrupt(self, x0: torch.Tensor, eps: torch.Tensor, t: torch.Tensor) -> torch.Tensor:
        """x0 corrupted with eps at the process's own time.

        Args:
            x0: clean patches ``[B, C, M, T]``.
            eps: prior noise ``[B, C, M, T]``.
            t: the process's times ``[B]``.

        Returns:
            x_t ``[B, C, M, T]``.
        """
        ...

    def target(self, x0: torch.Tensor, eps: torch.Tensor, t: torch.Tensor) -> torch.Tensor:
        """What the network regresses at (x_t, t), in the basis its loss is measured in.

        Args:
            x0: clean patches ``[B, C, M, T]``.
            eps: prior noise ``[B, C, M, T]``.
            t: the process's times ``[B]``.

        Returns:
            The target ``[B, C, M, T]``.
        """
        ...

    def loss(self, model: Model, x0: torch.Tensor, *, t: torch.Tensor, eps: torch.Tensor,
             generator: torch.Generator | None = None) -> torch.Tensor:
        """The training loss of a batch.

        Args:
            model: the network.
            x0: clean patches ``[B, C, M, T]``.
            t: run-sampled times ``[B]`` (mapped to the process's own time where it has one).
            eps: prior noise ``[B, C, M, T]``.
            generator: draws anything else the process needs (CPU).

        Returns:
            The scalar loss ``[]``.
        """
        ...

    def time_grid(self, steps: int) -> torch.Tensor:
        """The default sampling grid.

        Args:
            steps: the number of steps.

        Returns:
            ``[steps + 1]`` float64, decreasing.
        """
        ...

    def check_grid(self, times: torch.Tensor) -> torch.Tensor:
        """A grid the process can sample on.

        Args:
            times: a decreasing grid ``[N + 1]``.

        Returns:
            The checked grid ``[N + 1]`` (an AudiospecError says why one is refused).
        """
        ...

    def initial(self, size: tuple[int, ...], *, generator: torch.Generator | None,
                device: torch.device) -> torch.Tensor:
        """The state at t = 1.

        Args:
            size: ``(n, C, M, T)``.
            generator: randomness of the draw.
            device: where the samples are integrated.

        Returns:
            The state ``[n, ...]``.
        """
        ...

    def step(self, model: Model, state: torch.Tensor, times: torch.Tensor, i: int, *,
             generator: torch.Generator | None = None) -> tuple[torch.Tensor, torch.Tensor]:
        """One step from ``times[i]`` to ``times[i + 1]``.

        Args:
            model: the network.
            state: the state at ``times[i]`` ``[B, ...]``.
            times: the grid ``[N + 1]``.
            i: the step, 0 .. N − 1.
            generator: randomness of stochastic steps.

        Returns:
            (the next state, the data prediction in state form), each ``[B, ...]``.
        """
        ...

    def view(self, state: torch.Tensor) -> torch.Tensor:
        """A state as patches.

        Args:
            state: the state ``[B, ...]``.

        Returns:
            Patches ``[B, C, M, T]``.
        """
        ...


@dataclass(frozen=True)
class TrainingLoss:
    """The training loss of a run as one object: it draws t from the run's timestep sampler and eps from the
    process's prior, then asks the process for its loss (module doc).

    Attributes:
        process: the process being trained.
        timesteps: the run's timestep sampler.
    """

    process: Process
    timesteps: TimestepSampler

    def __call__(self, model: Model, x0: torch.Tensor, *, generators: Mapping[str, torch.Generator]) -> torch.Tensor:
        """The loss of one batch ``x0`` ``[B, C, M, T]``.

        Args:
            model: the network.
            x0: clean patches ``[B, C, M, T]``, on the training device.
            generators: the run's generators; ``"time"`` (CPU) draws t and anything else the process needs,
                ``"noise"`` (training device) draws eps.

        Returns:
            The scalar loss ``[]`` with a graph to the model's parameters.
        """
        t = self.timesteps.sample(x0.shape[0], generator=generators["time"])  # [B]
        eps = self.process.prior.sample(x0.shape, generator=generators["noise"], device=x0.device, dtype=x0.dtype)
        return self.process.loss(model, x0, t=t, eps=eps, generator=generators["time"])


@dataclass(frozen=True)
class Settings:
    """Everything a process may be built from (each implementation reads what it needs).

    Attributes:
        prior: the noise prior.
        n_mels: mel bins M of the patches (None when unknown).
        sampler: the sampler name chosen at sampling time (None: the process's default).
        whiten: measure the loss in the prior's metric.
        clip_x0: clamp the data prediction while sampling (VP eps only).
        eta: the stochastic share of the sampler (None: the process's default).
        coarse_to_fine: the coarse-to-fine settings (``train.coarse_to_fine``), or None.
        data: training patches ``[N, C, M, T]`` for processes whose prior depends on the data, or None.
    """

    prior: NoisePrior
    n_mels: int | None = None
    sampler: str | None = None
    whiten: bool = False
    clip_x0: float | None = None
    eta: float | None = None
    coarse_to_fine: Any = None
    data: torch.Tensor | None = None


@dataclass(frozen=True)
class ProcessEntry:
    """One objective of the registry.

    Attributes:
        name: the objective (``train.objective``).
        build: ``build(settings) -> Process``.
        label: its name in tables and sentences.
        samplers: the sampler names it accepts, its default first (empty: its own sampler only).
        whitening: whether ``train.whiten_loss`` applies.
        baseline: an explicit coarse-to-fine baseline (trained from white noise, compared with diffusion).
        bands_in_turn: it generates quefrency bands one after the other (the commit measure's positive control;
            it needs at least two sampling steps per band).
    """

    name: str
    build: Callable[[Settings], Process]
    label: str
    samplers: tuple[str, ...] = ()
    whitening: bool = True
    baseline: bool = False
    bands_in_turn: bool = False


_REGISTRY: dict[str, ProcessEntry] = {}


def register(entry: ProcessEntry) -> ProcessEntry:
    """Add an objective to the registry (each process module calls this once).

    Args:
        entry: the objective.

    Returns:
        ``entry``.

    Raises:
        AudiospecError: another entry already has its name.
    """
    if entry.name in _REGISTRY and _REGISTRY[entry.name] is not entry:
        raise AudiospecError(f"two processes register the objective {entry.name!r}; give the new one its own name")
    _REGISTRY[entry.name] = entry
    return entry


def entries() -> dict[str, ProcessEntry]:
    """The registered objectives by name, in registration order.

    Returns:
        A copy of the registry.
    """
    return dict(_REGISTRY)
