"""Quality, calibration and the band-step measure of every arm of the stage ``fair`` (issue 25).

Per arm at the stage's NFE: KID (and every metric of :func:`~audiospec.metrics.evaluate_samples`) against the
test split per seed, beside the Gaussian with the training spectrum (every quality number is also given minus
its KID); the arm's sampler with its exact Gaussian network over ``calibration_draws`` draws, beside that Gaussian
sampled exactly over as many draws (:class:`~audiospec.experiments.results_fair.Calibration`); the band × step
shares of :func:`~audiospec.functional.band_steps.band_step_shares` on ``trajectory_samples`` trajectories per
seed, their stage concentration, and the commit measure's content order (cepstrum view) for the dose–response of
the softness sweep. The exact network's shares are the known answer beside each arm's (for the fair cepstral
AR: 1 in its own stage, 0 elsewhere).
"""

from __future__ import annotations

import math
from typing import Any

import torch

from audiospec.data import PatchSet
from audiospec.diffusion.processes import Process
from audiospec.diffusion.solver import solve
from audiospec.experiments.fair_arms import Arm, FairConfig, calibration_gaussian, exact_network, exact_samples
from audiospec.experiments.protocol import CompareConfig
from audiospec.experiments.results_fair import Calibration
from audiospec.experiments.rows import MetricRow, interval_over_seeds
from audiospec.functional.band_steps import band_step_shares, stage_concentration
from audiospec.functional.cepstrum import quefrency_bands
from audiospec.measures.ordering import bootstrap_mean, measure_trajectory, recorded
from audiospec.measures.statistics import Interval
from audiospec.metrics import TrainedClassifier, evaluate_samples
from audiospec.metrics.kid import kernel_inception_distance

__all__ = ["BandSteps", "arm_rows", "band_steps", "calibrate", "kid_of"]


def kid_of(samples: torch.Tensor, test: PatchSet, classifier: TrainedClassifier) -> float:
    """KID of samples ``[n, 1, M, T]`` against the test split in the classifier's embedding."""
    return float(kernel_inception_distance(classifier.embed(samples.float()), classifier.embed(test.patches)))


def arm_rows(name: str, seed: int, generate: Any, nfe: int, test: PatchSet, classifier: TrainedClassifier,
             train: torch.Tensor, n: int) -> MetricRow:
    """One metric row of an arm's samples (``generate(n, generator)``) at NFE ``nfe`` (its ``steps`` field), drawn
    from the seed 10 000 seed + nfe as every stage's rows."""
    samples = generate(n, torch.Generator().manual_seed(10_000 * seed + nfe))
    return MetricRow(arm=name, seed=seed, steps=nfe, metrics=evaluate_samples(
        samples, test.patches, classifier=classifier, real_labels=test.labels, train=train))


def _spread(values: list[float]) -> tuple[Interval, float]:
    t = torch.tensor(values, dtype=torch.float64)
    sd = float(t.std()) if t.numel() > 1 else math.nan
    return Interval(mean=float(t.mean()), low=float(t.min()), high=float(t.max()), n=t.numel()), sd


def calibrate(arm: Arm, process: Process, steps: int, patches: torch.Tensor, test: PatchSet,
              classifier: TrainedClassifier, fair: FairConfig, n: int) -> Calibration:
    """The arm's sampler with its exact Gaussian network, and that Gaussian sampled exactly, over the draws."""
    exact, kind = exact_network(arm, process, patches), calibration_gaussian(arm, patches)
    shape = tuple(patches.shape[-2:])
    through, direct = [], []
    for draw in range(fair.calibration_draws):
        g = torch.Generator().manual_seed(50_000 + draw)
        through.append(kid_of(solve(process, exact, n=n, shape=shape, steps=steps, generator=g), test, classifier))
        direct.append(kid_of(exact_samples(kind, patches, n, torch.Generator().manual_seed(60_000 + draw)), test,
                             classifier))
    kid, sd = _spread(through)
    exact_kid, exact_sd = _spread(direct)
    noise = 2.0 * math.sqrt(((sd if sd == sd else 0.0) ** 2 + (exact_sd if exact_sd == exact_sd else 0.0) ** 2)
                            / len(through))
    return Calibration(kid=kid, sd=sd, exact=exact_kid, exact_sd=exact_sd,
                       within_noise=abs(kid.mean - exact_kid.mean) <= noise)


class BandSteps:
    """Band-step shares, stage concentration and content order of one arm, accumulated over seeds."""

    def __init__(self) -> None:
        self.shares: list[torch.Tensor] = []
        self.concentrations: list[float] = []
        self.orders: list[float] = []
        self.replicates: list[torch.Tensor] = []

    def add(self, shares: torch.Tensor, concentration: float, order: tuple[float, torch.Tensor] | None) -> None:
        """One seed's shares ``[K, S]``, concentration and (order, bootstrap replicates)."""
        self.shares.append(shares)
        self.concentrations.append(concentration)
        if order is not None:
            self.orders.append(order[0])
            self.replicates.append(order[1])

    def mean_shares(self) -> tuple[tuple[float, ...], ...]:
        """The shares averaged over seeds, ``[K][S]``."""
        return tuple(tuple(row) for row in torch.stack(self.shares).mean(0).tolist())

    def concentration(self) -> Interval:
        """The mean concentration with its interval over seeds."""
        return interval_over_seeds(self.concentrations, bounds=(0.0, 1.0))

    def order(self, seed: int = 0) -> Interval | None:
        """The content order over seeds (two-level bootstrap), None when not measured."""
        return bootstrap_mean(self.orders, self.replicates, seed=seed) if self.orders else None


def band_steps(process: Process, model: Any, *, steps: int, shape: tuple[int, int], cfg: CompareConfig, n: int,
               seed: int, with_order: bool = True) -> tuple[torch.Tensor, float, tuple[float, torch.Tensor] | None]:
    """Shares ``[K, S]``, stage concentration (mean over bands) and the cepstrum content order of ``n`` trajectories.

    Args:
        process: the arm's process.
        model: its network (or exact network).
        steps: sampling steps.
        shape: the patch size (M, T).
        cfg: the compare section (the commit measure's settings).
        n: trajectories.
        seed: the initial noise's seed.
        with_order: also measure the content order.

    Returns:
        (shares, concentration, (order, bootstrap replicates) or None).
    """
    trajectory, times = recorded(lambda callback: solve(process, model, n=n, shape=shape, steps=steps,
                                                        generator=torch.Generator().manual_seed(seed),
                                                        callback=callback))
    bands = quefrency_bands(shape[0], n_bands=cfg.order.n_bands)
    shares = band_step_shares(trajectory, bands)
    concentration = float(stage_concentration(shares, n_stages=len(bands)).mean())
    order = None
    if with_order:
        view, replicates = measure_trajectory(trajectory, times, "cepstrum", cfg.order)
        order = (view.order.mean, replicates)
    return shares, concentration, order
