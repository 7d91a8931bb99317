"""The autoregression measurement of a prior comparison, each number beside its calibration.

Per prior (:func:`prior_orders`): (a) the exact linear-Gaussian model with the training
patches' centred spectrum, (b) a control network of the same architecture and budget trained
on Gaussian fields with that spectrum, and the trained models of every seed, all measured by
:func:`audiospec.measures.ordering.measure_field` with the same sampler and steps. Plus
the dose-response sweep of the prior's colour on the exact model (:func:`colour_sweep`) and a
sensitivity table over threshold, band count and steps (:func:`sensitivity`).
"""

from __future__ import annotations

import dataclasses
from typing import Any

import torch

from audiospec.diffusion.parallel import TrainJob
from audiospec.diffusion.priors import NoisePrior, PriorSpec, make_prior
from audiospec.experiments.models import ModelStore
from audiospec.experiments.protocol import CompareConfig, ProtocolConfig
from audiospec.experiments.results import Interval, OrderScores, SensitivityRow, SweepEntry
from audiospec.functional.powerlaw import fit_power_law
from audiospec.functional.rapsd import MEL_RING_STEP, rapsd
from audiospec.measures.gaussian import LinearGaussianVelocity, data_spectrum, gaussian_fields
from audiospec.measures.ordering import bootstrap_mean, content_order, measure_field, record_trajectory

__all__ = ["control_job", "alpha_hat", "prior_orders", "sweep_specs", "colour_sweep", "sensitivity"]


def alpha_hat(patches: torch.Tensor) -> float:
    """The RAPSD power-law slope of the centred training patches (normalised rings, as the order measure)."""
    radial = rapsd(patches[:, 0].double(), mode="normalized", ring_step=MEL_RING_STEP)
    return fit_power_law(radial.freqs, radial.power.mean(0), n_bootstrap=0).alpha


def _measure(field: Any, prior: NoisePrior, cfg: ProtocolConfig, shape: tuple[int, int], seed: int):
    return measure_field(field, prior, n=cfg.trajectory_samples, steps=cfg.trajectory_steps, shape=shape,
                         settings=cfg.order, sampler=cfg.sampler, seed=seed)


def control_job(store: ModelStore, prior: NoisePrior, patches: torch.Tensor, cfg: ProtocolConfig) -> TrainJob:
    """The control network's training: same architecture and budget, on Gaussian fields with the data's spectrum."""
    seed = cfg.seeds[0]
    fields = gaussian_fields(data_spectrum(patches), patches.shape,
                             generator=torch.Generator().manual_seed(10_000 + seed))
    return store.job(prior.name, "control", config=dataclasses.replace(cfg.train, seed=seed), prior=prior,
                     patches=fields)




def prior_orders(prior: NoisePrior, models: list[tuple[int, Any]], patches: torch.Tensor, cfg: CompareConfig,
                 store: ModelStore) -> OrderScores:
    """Exact, control and trained measurements of one prior; ``models`` = (seed, EMA network) per seed."""
    shape = tuple(patches.shape[-2:])
    spectrum = data_spectrum(patches)
    exact, _ = _measure(LinearGaussianVelocity(spectrum, prior=prior, signal_shape=shape), prior, cfg, shape, 0)
    control = None
    if cfg.control:
        control, _ = _measure(store.network(control_job(store, prior, patches, cfg)), prior, cfg, shape, 0)
    measured = [_measure(model, prior, cfg, shape, seed) for seed, model in models]
    trained_order = {view: bootstrap_mean([m.views[view].order.mean for m, _ in measured],
                                          [reps[view] for _, reps in measured], seed=cfg.order.seed)
                     for view in cfg.order.views}
    return OrderScores(exact=exact, control=control, trained=tuple(m for m, _ in measured),
                       trained_order=trained_order)


def sweep_specs(alpha: float) -> list[PriorSpec]:
    """The dose-response priors: 1/f^β with β ∈ {0 (white), 1, 2, α̂, α̂ + 1}, and the data-matched prior."""
    betas = [PriorSpec(kind="power_law", beta=b) for b in (1.0, 2.0, round(alpha, 2), round(alpha + 1.0, 2))]
    return [PriorSpec(kind="white"), *betas, PriorSpec(kind="matched")]


def colour_sweep(patches: torch.Tensor, cfg: ProtocolConfig, trained: dict[str, OrderScores],
                 quality: dict[str, dict[str, Interval]]) -> tuple[float, dict[str, SweepEntry]]:
    """The exact model's order and spread for every :func:`sweep_specs` prior, beside the trained arms that exist.

    ``trained`` / ``quality``: per prior name, the trained models' orders and their few-step quality.
    """
    shape = tuple(patches.shape[-2:])
    spectrum, alpha = data_spectrum(patches), alpha_hat(patches)
    sweep = {}
    for spec in sweep_specs(alpha):
        prior = make_prior(spec, data=patches)
        exact, _ = _measure(LinearGaussianVelocity(spectrum, prior=prior, signal_shape=shape), prior, cfg, shape, 0)
        arm = trained.get(spec.name)
        sweep[spec.name] = SweepEntry(beta=spec.beta if spec.kind != "matched" else None, exact=exact,
                                      trained_order=arm.trained_order if arm else None,
                                      quality=quality.get(spec.name))
    return alpha, sweep


def sensitivity(prior: NoisePrior, model: Any, seed: int, patches: torch.Tensor,
                cfg: CompareConfig) -> list[SensitivityRow]:
    """Content order of the exact model and the first trained model over thresholds, band counts and steps."""
    shape = tuple(patches.shape[-2:])
    exact = LinearGaussianVelocity(data_spectrum(patches), prior=prior, signal_shape=shape)
    rows = []
    for name, field in (("exact", exact), (f"trained (seed {seed})", model)):
        for steps in (cfg.trajectory_steps, cfg.sensitivity_steps):
            trajectory, times = record_trajectory(field, prior, n=cfg.trajectory_samples, steps=steps, shape=shape,
                                                  sampler=cfg.sampler, generator=torch.Generator().manual_seed(seed))
            rows += [SensitivityRow(prior=prior.name, model=name, view=view, threshold=threshold, n_bands=bands,
                                    steps=steps, order=content_order(trajectory, times, view=view, n_bands=bands,
                                                                     threshold=threshold))
                     for view in cfg.order.views for threshold in cfg.sensitivity_thresholds
                     for bands in cfg.sensitivity_bands]
    return rows
