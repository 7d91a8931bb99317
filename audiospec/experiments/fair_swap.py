"""The band swap with demonstrated power (stage ``fair``; issue 25).

What a swap of the coarse quefrencies (DCT coefficients below ``k_cut`` along mel) can show is bounded by the
data: :func:`~audiospec.measures.swap_power.swap_ceiling` (the held-out linear R² of the fine coefficients on the
coarse ones) is the expected directional share of an exact autoregressive sampler swapped where the coarse bands
are final and the fine ones undrawn. Measured here, each with the directional share ⟨y′ − y_a, y_b − y_a⟩ /
||y_b − y_a||² and the donor share of the un-swapped bands, per pair and both directions:

- the **positive control**: the fair cepstral AR swapped at the edge where the band starting at ``k_cut`` begins
  (its exact Gaussian network, with independent bands, moves nothing there);
- the **negative controls**: the control networks (trained on Gaussian fields whose bands are independent),
  beside their exact fields from the same noise;
- every **prior**'s flow models, at an equal t (``swap_time``) and at an equal commit state: the grid step at
  which that prior's exact Gaussian model has committed ``commit_level`` of the coarse bands' content;
  the *excess* over the exact model, paired per pair, is what a trained network adds.

Priors are compared with each other only through one pre-specified family (:func:`prior_tests`): the excess
directional share at equal commit, each prior minus white, paired by seed (exact sign flips, Holm).
"""

from __future__ import annotations

from typing import Any

import torch

from audiospec.diffusion.processes import Process
from audiospec.diffusion.priors import REFERENCE_PRIOR
from audiospec.diffusion.solver import solve, uniform_time_grid
from audiospec.experiments.fair_arms import FairConfig
from audiospec.experiments.results_fair import SwapArm
from audiospec.experiments.rows import paired_family
from audiospec.functional.stats import hierarchical_bootstrap
from audiospec.measures.ordering import recorded
from audiospec.measures.statistics import Difference, Family, Interval
from audiospec.measures.swap_power import ProcessSwap, commit_index, process_band_swap

__all__ = ["diffusion_grid", "edge_step", "equal_commit_step", "equal_t_step", "positive_detected", "prior_tests",
           "swap_family", "swap_row"]

N_BOOTSTRAP = 4000


def edge_step(process: Any, k_cut: int, steps_per_band: int) -> int:
    """The grid step of a softness-0 band-window grid at which the band starting at ``k_cut`` begins."""
    band = [start for start, _ in process.bands].index(k_cut)
    return band * steps_per_band


def equal_t_step(fair: FairConfig) -> int:
    """The grid step of the equal-t swap on the diffusion models' uniform grid."""
    return round((1.0 - fair.swap_time) * fair.swap_steps)


def equal_commit_step(process: Process, exact: Any, fair: FairConfig, shape: tuple[int, int]) -> int:
    """The grid step at which the exact Gaussian model of a prior has committed ``commit_level`` of the coarse
    bands' content (on the diffusion models' uniform swap grid)."""
    trajectory, _ = recorded(lambda callback: solve(process, exact, n=64, shape=shape, steps=fair.swap_steps,
                                                    generator=torch.Generator().manual_seed(70_000),
                                                    callback=callback))
    return commit_index(trajectory, k_cut=fair.k_cut, level=fair.commit_level)


def swap_family(process: Process, models: list[tuple[int, Any]], exact: Any | None, *, times: torch.Tensor,
                indices: list[int], fair: FairConfig, shape: tuple[int, int], bands: list[tuple[int, int]]
                ) -> tuple[list[ProcessSwap], list[ProcessSwap] | None]:
    """Swaps of every model (one per seed) and of the exact network from each seed's noise, at ``indices``."""
    kwargs = dict(times=times, indices=indices, n_pairs=fair.swap_pairs, shape=shape, k_cut=fair.k_cut, bands=bands)
    trained = [process_band_swap(process, model, generator=torch.Generator().manual_seed(seed), **kwargs)
               for seed, model in models]
    exacts = None if exact is None else [process_band_swap(process, exact, generator=torch.Generator().manual_seed(
        seed), **kwargs) for seed, _ in models]
    return trained, exacts


def _interval(per_seed: list[torch.Tensor], seed: int) -> Interval:
    mean, low, high = hierarchical_bootstrap(per_seed, n_bootstrap=N_BOOTSTRAP,
                                             generator=torch.Generator().manual_seed(seed))
    return Interval(mean=mean, low=low, high=high, n=sum(int(x.numel()) for x in per_seed))


def _p_pairs(values: torch.Tensor, seed: int) -> float:
    """One-sided bootstrap p of a mean <= 0 over pooled pairs (Davison & Hinkley 1997, §4.4: shift to the null)."""
    g = torch.Generator().manual_seed(seed)
    centred = values - values.mean()
    means = centred[torch.randint(values.numel(), (N_BOOTSTRAP, values.numel()), generator=g)].mean(1)
    return (1 + int((means >= float(values.mean())).sum())) / (N_BOOTSTRAP + 1)


def swap_row(name: str, role: str, when: str, trained: list[ProcessSwap], exacts: list[ProcessSwap] | None,
             j: int = 0) -> SwapArm:
    """One row from the swaps of every seed (swap ``j`` of each)."""
    directional = [s.pair_directional()[j] for s in trained]  # per seed [pairs]
    donors = [s.pair_shares()[j] for s in trained]
    exact, excess, per_seed = None, None, [float(d.mean()) for d in directional]
    if exacts is not None:
        mine = [s.pair_directional()[j] for s in exacts]
        diffs = [a - b for a, b in zip(directional, mine)]
        exact = float(torch.cat(mine).mean())
        excess, per_seed = _interval(diffs, 2), [float(d.mean()) for d in diffs]
    return SwapArm(name=name, role=role, when=when, time=trained[0].times[j], directional=_interval(directional, 0),
                   donor_share=_interval(donors, 1), exact=exact, excess=excess, seed_means=tuple(per_seed),
                   p_pairs=_p_pairs(torch.cat(directional), 3))


def positive_detected(rows: list[SwapArm]) -> bool:
    """The positive control's directional interval lies above every negative control's."""
    positive = [r for r in rows if r.role == "positive control"]
    negative = [r for r in rows if r.role == "negative control"]
    return bool(positive and negative) and all(
        p.directional.low is not None and n.directional.high is not None and p.directional.low > n.directional.high
        for p in positive for n in negative)


def prior_tests(rows: list[SwapArm]) -> tuple[dict[str, Difference], Family]:
    """The pre-specified family (module doc): excess directional share at equal commit, prior − white by seed."""
    at = {r.name: r for r in rows if r.role == "prior" and r.when == "equal commit"}
    white = at.get(REFERENCE_PRIOR)
    names = [name for name in at if name != REFERENCE_PRIOR]
    if white is None:
        return {}, Family(size=len(names))
    return paired_family({name: [a - b for a, b in zip(at[name].seed_means, white.seed_means)] for name in names})


def diffusion_grid(fair: FairConfig) -> torch.Tensor:
    """The diffusion models' uniform swap grid."""
    return uniform_time_grid(fair.swap_steps)
