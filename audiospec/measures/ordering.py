"""How coarse-to-fine is a sampler, calibrated on known answers (DESIGN.md section 5, "Trajectory analysis").

:func:`measure_field` samples ``samples`` trajectories from any velocity field (a trained
U-Net, the exact :class:`~audiospec.measures.gaussian.LinearGaussianVelocity`, a control
network), records x̂0(t) at every step, and measures per spectral view the content commit
times (primary), their order and spread with bootstrap intervals over samples, and the
power-based order (secondary). The same function runs on every field, so a trained model's
score always stands beside the exact linear-Gaussian answer measured the same way.
"""

from __future__ import annotations

from dataclasses import dataclass
from typing import Any, Callable, Sequence

import torch

from audiospec.config import check_counts
from audiospec.diffusion.priors import NoisePrior
from audiospec.diffusion.samplers import SamplerName, sample
from audiospec.errors import AudiospecError
from audiospec.measures.statistics import Interval
from audiospec.functional.trajectory import (
    SpectralView,
    band_log_power,
    commit_times,
    content_commit_times,
    ordering_scores,
    unexplained_fraction,
)

__all__ = ["Measurement", "OrderSettings", "ViewOrder",
           "record_trajectory", "recorded", "measure_trajectory", "measure_field", "bootstrap_mean",
           "content_order"]


@dataclass(frozen=True)
class OrderSettings:
    """How the order is measured: bands, thresholds and the bootstrap (YAML ``compare.order``).

    Args:
        views: the spectral views measured (``cepstrum``, ``modulation``, ``rapsd``).
        n_bands: log-spaced bands per view, >= 2.
        threshold: a band is committed once its unexplained content fraction stays below this.
        delta: the power measure's tolerance in log10 power (0.1 = 1 dB).
        n_bootstrap: bootstrap replicates over samples, >= 1.
        seed: the bootstrap's seed.

    Raises:
        AudiospecError: a count below its minimum or a non-positive tolerance.
    """

    views: tuple[SpectralView, ...] = ("cepstrum", "modulation", "rapsd")
    n_bands: int = 8
    threshold: float = 0.1  # content: e_b(t) <= threshold
    delta: float = 0.1  # power: |log10 band power - final| <= delta (1 dB)
    n_bootstrap: int = 200
    seed: int = 0

    def __post_init__(self) -> None:
        check_counts("order", n_bootstrap=self.n_bootstrap)
        check_counts("order", minimum=2, n_bands=self.n_bands)
        for key in ("threshold", "delta"):
            if not getattr(self, key) > 0:
                raise AudiospecError(f"order.{key} must be positive, got {getattr(self, key)}")


@dataclass(frozen=True)
class ViewOrder:
    """One spectral view of one set of sampling trajectories (:mod:`audiospec.measures.ordering`).

    Content measure (primary): commit time per band, order and spread with bootstrap 95%
    intervals over samples, and the mean unexplained fraction e_b(t) ``[S + 1][B]``.
    Power measure (secondary, labelled so in the report): commit times, order, spread.

    Args:
        freqs: each band's centre frequency.
        commit_t: each band's content commit time.
        order: the content order with its interval.
        spread: the content spread with its interval.
        power_commit_t: each band's power commit time.
        power_order: the power order.
        power_spread: the power spread.
        fraction: the mean unexplained fraction per recorded step and band.
    """

    freqs: tuple[float, ...]
    commit_t: tuple[float, ...]
    order: Interval
    spread: Interval
    power_commit_t: tuple[float, ...]
    power_order: float
    power_spread: float
    fraction: tuple[tuple[float, ...], ...]


@dataclass(frozen=True)
class Measurement:
    """Trajectories of ``samples`` samples over ``steps`` steps, measured per view.

    Args:
        t: the recorded times (1 first, 0 last).
        steps: sampling steps.
        samples: trajectories measured.
        views: the measurement of each view.
    """

    t: tuple[float, ...]
    steps: int
    samples: int
    views: dict[str, ViewOrder]


def record_trajectory(field: Any, prior: NoisePrior, *, n: int, steps: int, shape: tuple[int, int],
                      sampler: SamplerName = "euler", generator: torch.Generator | None = None
                      ) -> tuple[torch.Tensor, torch.Tensor]:
    """x̂0(t) at every step of ``n`` trajectories sampled from ``field`` with the flow-matching sampler, and the final
    sample.

    Args:
        field: the velocity field (a network or an exact model).
        prior: the noise prior.
        n: trajectories.
        steps: sampling steps S.
        shape: the patch size (M, T).
        sampler: ``"euler"`` or ``"heun"``.
        generator: randomness of the initial noise.

    Returns:
        (trajectory ``[S + 1, n, M, T]`` float64, times ``[S + 1]``).
    """
    return recorded(lambda callback: sample(field, prior=prior, n=n, steps=steps, sampler=sampler, shape=shape,
                                            generator=generator, callback=callback))


def recorded(draw: Callable[[Any], torch.Tensor]) -> tuple[torch.Tensor, torch.Tensor]:
    """Run ``draw(callback)``, any sampler calling ``callback(i, t_i, x_i, x0_hat_i)`` per step and returning the
    final sample, and keep every x̂0.

    Args:
        draw: ``draw(callback) -> final sample [n, 1, M, T]``.

    Returns:
        (x̂0 at every step and the final sample ``[S + 1, n, M, T]`` float64, times ``[S + 1]``, 0 last).
    """
    snapshots: list[torch.Tensor] = []
    times: list[float] = []

    def record(step: int, t: float, x_t: torch.Tensor, x0_hat: torch.Tensor) -> None:
        snapshots.append(x0_hat[:, 0].detach().to("cpu", torch.float64))
        times.append(float(t))

    final = draw(record)
    snapshots.append(final[:, 0].to("cpu", torch.float64))
    times.append(0.0)
    return torch.stack(snapshots), torch.tensor(times, dtype=torch.float64)


def _scores_of(fraction: torch.Tensor, times: torch.Tensor, freqs: torch.Tensor, threshold: float
               ) -> tuple[torch.Tensor, float, float]:
    """Content commit times ``[B]`` of the sample-mean fraction ``[S, n, B]``, and their (order, spread)."""
    commit = content_commit_times(fraction.mean(1), times, threshold=threshold)  # [B]
    order, spread = ordering_scores(freqs, commit)
    return commit, order, spread


def _percentiles(values: torch.Tensor, point: float) -> Interval:
    low, high = torch.quantile(values, torch.tensor([0.025, 0.975], dtype=values.dtype)).tolist()
    return Interval(mean=point, low=low, high=high, n=int(values.numel()))


def measure_trajectory(trajectory: torch.Tensor, times: torch.Tensor, view: SpectralView,
                       settings: OrderSettings) -> tuple[ViewOrder, torch.Tensor]:
    """The measurement of one view of one trajectory set.

    Args:
        trajectory: x̂0 at every step ``[S + 1, n, M, T]``.
        times: the recorded times ``[S + 1]``.
        view: ``cepstrum``, ``modulation`` or ``rapsd``.
        settings: bands, threshold and bootstrap.

    Returns:
        (the view's measurement, the bootstrap replicates of its order ``[R]``).
    """
    freqs, fraction = unexplained_fraction(trajectory, view=view, n_bands=settings.n_bands)  # [S + 1, n, B]
    commit, order, spread = _scores_of(fraction, times, freqs, settings.threshold)
    n = fraction.shape[1]
    g = torch.Generator().manual_seed(settings.seed)
    replicates = torch.tensor([_scores_of(fraction[:, torch.randint(n, (n,), generator=g)], times, freqs,
                                          settings.threshold)[1:] for _ in range(settings.n_bootstrap)],
                              dtype=torch.float64)  # [R, 2]: order, spread
    _, log_power = band_log_power(trajectory, view=view, n_bands=settings.n_bands)  # [S + 1, n, B]
    power_commit = commit_times(log_power.mean(1), times, delta=settings.delta)  # [B]
    power_order, power_spread = ordering_scores(freqs, power_commit)
    return ViewOrder(
        freqs=tuple(freqs.tolist()), commit_t=tuple(commit.tolist()),
        order=_percentiles(replicates[:, 0], order), spread=_percentiles(replicates[:, 1], spread),
        power_commit_t=tuple(power_commit.tolist()), power_order=power_order, power_spread=power_spread,
        fraction=tuple(tuple(row) for row in fraction.mean(1).tolist()),
    ), replicates[:, 0]


def measure_field(field: Any, prior: NoisePrior, *, n: int, steps: int, shape: tuple[int, int],
                  settings: OrderSettings, sampler: SamplerName = "euler", seed: int = 0
                  ) -> tuple[Measurement, dict[str, torch.Tensor]]:
    """Sample ``n`` trajectories of ``steps`` steps from ``field`` and measure every view of ``settings``.

    Args:
        field: the velocity field.
        prior: the noise prior.
        n: trajectories.
        steps: sampling steps.
        shape: the patch size (M, T).
        settings: views, bands, threshold and bootstrap.
        sampler: ``"euler"`` or ``"heun"``.
        seed: the seed of the initial noise.

    Returns:
        (the measurement, per view the bootstrap replicates of its order, for intervals pooled over seeds
        by :func:`bootstrap_mean`).
    """
    trajectory, times = record_trajectory(field, prior, n=n, steps=steps, shape=shape, sampler=sampler,
                                          generator=torch.Generator().manual_seed(seed))
    views, replicates = {}, {}
    for view in settings.views:
        views[view], replicates[view] = measure_trajectory(trajectory, times, view, settings)
    return Measurement(t=tuple(times.tolist()), steps=steps, samples=n, views=views), replicates


def bootstrap_mean(points: Sequence[float], replicates: Sequence[torch.Tensor], *, seed: int = 0) -> Interval:
    """Interval of the mean over seeds: resample seeds, and within each its own bootstrap replicate (two levels).

    Args:
        points: each seed's estimate.
        replicates: each seed's bootstrap replicates ``[R]``.
        seed: the seed of the resampling.

    Returns:
        The mean of the points with the 95% percentile interval.
    """
    stacked = torch.stack(list(replicates))  # [K seeds, R]
    K, R = stacked.shape
    g = torch.Generator().manual_seed(seed)
    seeds = torch.randint(K, (R, K), generator=g)  # [R, K]
    means = stacked[seeds, torch.arange(R)[:, None]].mean(1)  # [R]
    return _percentiles(means, float(torch.tensor(list(points), dtype=torch.float64).mean()))


def content_order(trajectory: torch.Tensor, times: torch.Tensor, *, view: SpectralView, n_bands: int,
                  threshold: float) -> float:
    """The content order alone (no interval), for sensitivity tables.

    Args:
        trajectory: x̂0 at every step ``[S + 1, n, M, T]``.
        times: the recorded times ``[S + 1]``.
        view: the spectral view.
        n_bands: log-spaced bands.
        threshold: the commit threshold.

    Returns:
        The order in [-1, 1].
    """
    freqs, fraction = unexplained_fraction(trajectory, view=view, n_bands=n_bands)
    return _scores_of(fraction, times, freqs, threshold)[1]
