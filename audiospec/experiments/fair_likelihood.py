"""Likelihoods of the test patches per prior, honest about their data (stage ``fair``; issue 25).

Bits per dimension through the probability-flow ODE (:func:`~audiospec.measures.likelihood.ode_log_likelihood`)
of ``likelihood_patches`` test patches, every seed, with:

- a bootstrap **clustered by recording**: the test patches come from a handful of recordings, so the outer level
  resamples recordings and the inner one the patches of each (:func:`~audiospec.functional.stats.
  hierarchical_bootstrap`; per patch the value is its mean over seeds);
- the **integration check on every seed** (half the RK4 steps minus full) and the calibration (the same ODE on
  the arm's exact Gaussian field minus that Gaussian's closed form, first seed);
- the **floor**: log-mel is floored at (clip maximum − ``top_db``), an atom of probability the ODE density does
  not have; the floor pixels are counted, and the likelihood is measured again with them **dequantised**
  (moved down by U(0, ``dequantise_db``) dB, the atom spread into a density) from ``t_min`` > 0.

A difference to white is tested over seeds (exact sign flips, Holm over the priors) and called reliable only when
:func:`~audiospec.measures.statistics.decide` says so and the checks are below half of it.
"""

from __future__ import annotations

import math
from typing import Any

import torch

from audiospec.data import PatchSet
from audiospec.diffusion.priors import REFERENCE_PRIOR
from audiospec.diffusion.processes import RectifiedFlow
from audiospec.experiments.fair_arms import Arm, FairConfig, calibration_gaussian, exact_network
from audiospec.experiments.results_fair import LikelihoodArm
from audiospec.functional.cepstrum import dct2
from audiospec.functional.stats import hierarchical_bootstrap, sign_flip_pvalue
from audiospec.measures.gaussian import data_spectrum
from audiospec.measures.likelihood import gaussian_log_likelihood, ode_log_likelihood
from audiospec.measures.statistics import Family, Interval, decide, holm_family

__all__ = ["floor_mask", "likelihood_arms"]

BATCH = 32


def floor_mask(test: PatchSet, *, top_db: float | None) -> torch.Tensor:
    """The test pixels at their clip's log-mel floor (clip maximum − ``top_db``, within 1e-3 dB) ``[N, 1, M, T]``.

    Args:
        test: the test patches.
        top_db: the log-mel dynamic range (None: no floor).

    Returns:
        A bool mask of the patches' shape.
    """
    db = test.to_db(test.patches.double())  # [N, 1, M, T]
    mask = torch.zeros_like(db, dtype=torch.bool)
    if top_db is None:
        return mask
    for clip in test.clip_index.unique().tolist():
        rows = test.clip_index == clip
        mask[rows] = db[rows] <= float(db[rows].max()) - top_db + 1e-3
    return mask


def _bits(model: Any, x: torch.Tensor, prior: Any, steps: int, seed: int, t_min: float = 0.0) -> torch.Tensor:
    g = torch.Generator().manual_seed(seed)
    return torch.cat([ode_log_likelihood(model, x[i:i + BATCH], prior=prior, steps=steps, n_probes=1, generator=g,
                                         t_min=t_min).bits_per_dim for i in range(0, x.shape[0], BATCH)])


def _closed_form(arm: Arm, x: torch.Tensor, patches: torch.Tensor) -> torch.Tensor:
    """Bits/dim of ``x`` under the arm's calibration Gaussian, in closed form."""
    dims = math.prod(x.shape[1:])
    if calibration_gaussian(arm, patches) == "dct":
        var = dct2(patches.double()).square().mean(dim=(0, 1))
        c = dct2(x.double())
        log_p = -0.5 * (c.square() / var + var.log() + math.log(2 * math.pi)).flatten(1).sum(1)
    else:
        spectrum = data_spectrum(patches)
        log_p = gaussian_log_likelihood(x, spectrum=spectrum.clamp_min(1e-8 * float(spectrum.mean())))
    return -log_p / (dims * math.log(2.0))


def _clustered(values: torch.Tensor, recordings: list[str], level: float, seed: int) -> Interval:
    groups = {}
    for value, key in zip(values.tolist(), recordings):
        groups.setdefault(key, []).append(value)
    per = [torch.tensor(v, dtype=torch.float64) for v in groups.values()]
    mean, low, high = hierarchical_bootstrap(per, level=level, n_bootstrap=4000,
                                             generator=torch.Generator().manual_seed(seed))
    return Interval(mean=float(values.mean()), low=low, high=high, n=len(per))


def _measure(arm: Arm, models: list[tuple[int, Any]], x: torch.Tensor, x_dequantised: torch.Tensor,
             patches: torch.Tensor, fair: FairConfig) -> dict[str, Any]:
    """Per seed: bits/dim ``[n]``, the dequantised rerun and the integration check; the calibration (first seed)."""
    full, half, dequantised = [], [], []
    for seed, model in models:
        full.append(_bits(model, x, arm.prior, fair.likelihood_steps, seed))
        half.append(_bits(model, x, arm.prior, fair.likelihood_steps // 2, seed))
        dequantised.append(_bits(model, x_dequantised, arm.prior, fair.likelihood_steps, seed, fair.t_min))
    exact = exact_network(arm, RectifiedFlow(prior=arm.prior), patches)
    calibration = float((_bits(exact, x, arm.prior, fair.likelihood_steps, models[0][0])
                         - _closed_form(arm, x, patches)).mean())
    return {"full": torch.stack(full), "dequantised": torch.stack(dequantised), "calibration": calibration,
            "integration": tuple(float((h - f).mean()) for h, f in zip(half, full))}


def likelihood_arms(arms: list[tuple[Arm, list[tuple[int, Any]]]], test: PatchSet, recordings: list[str],
                    fair: FairConfig, patches: torch.Tensor, *, top_db: float | None
                    ) -> tuple[list[LikelihoodArm], Family]:
    """Every prior's likelihood row (module doc) and the family of its tests against white."""
    order = torch.randperm(test.patches.shape[0], generator=torch.Generator().manual_seed(0))[:fair.likelihood_patches]
    x, keys = test.patches[order], [recordings[i] for i in order.tolist()]
    mask = floor_mask(test, top_db=top_db)[order]
    width = fair.dequantise_db / test.std_db  # dB -> model units
    noise = torch.rand(x.shape, generator=torch.Generator().manual_seed(1))
    x_dequantised = x - mask.float() * width * noise
    measured = {arm.name: _measure(arm, models, x, x_dequantised, patches, fair) for arm, models in arms}
    white = measured[REFERENCE_PRIOR]
    family = Family(size=len(measured) - 1)
    tested = [name for name in measured if name != REFERENCE_PRIOR]
    diffs = {name: measured[name]["full"] - white["full"] for name in tested}  # [seeds, n]
    p = [sign_flip_pvalue(d.mean(1)) if d.shape[0] >= 2 else None for d in diffs.values()]
    adjusted = dict(zip(tested, holm_family(p)))
    rows = []
    for name, m in measured.items():
        versus = dq_versus = None
        p_value, reliable = None, False
        if name != REFERENCE_PRIOR:
            versus = _clustered(diffs[name].mean(0), keys, family.level, 1)
            dq_versus = _clustered((m["dequantised"] - white["dequantised"]).mean(0), keys, family.level, 2)
            p_value = p[tested.index(name)]
            checks = max([abs(m["calibration"])] + [abs(v) for v in m["integration"]])
            reliable = decide(versus, family, p_holm=adjusted[name], trusted=checks < 0.5 * abs(versus.mean))
        rows.append(LikelihoodArm(
            name=name, bits_per_dim=_clustered(m["full"].mean(0), keys, 0.95, 0), versus_white=versus,
            p_value=p_value, p_holm=adjusted.get(name), reliable=reliable,
            dequantised=_clustered(m["dequantised"].mean(0), keys, 0.95, 3), dequantised_versus_white=dq_versus,
            calibration=m["calibration"], integration=m["integration"]))
    return rows, family
