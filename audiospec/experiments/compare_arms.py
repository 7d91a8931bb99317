"""Extra arms of a prior comparison at equal compute (DESIGN.md question 4, issue 12 item 5).

- **Whitened loss** (``compare.whitened_loss``): for every coloured or matched prior, a second
  set of models trained with the residual measured in the prior's metric,
  ||Σ^{-1/2}(v − target)||² (:mod:`audiospec.diffusion.losses`); arm ``<prior>+whitened``,
  compared with the plain-loss arm of the same prior (for white both losses are equal).
- **Optimised time grid** (``compare.optimized_grid_steps``): every plain-loss model is also
  sampled with Euler on the grid of Benita, Elad & Keshet (2025) that makes the linear-Gaussian
  output spectrum closest (W2) to the training spectrum
  (:func:`audiospec.diffusion.schedule_design.optimize_schedule`); arm ``<prior>@optimized``,
  compared with the uniform grid of the same models, from the same initial noise.

Every arm's comparison with its reference is paired by seed and joins the one Holm family
of the report (:mod:`audiospec.experiments.rows`).
"""

from __future__ import annotations

import torch

from audiospec.diffusion.priors import REFERENCE_PRIOR, NoisePrior
from audiospec.diffusion.schedule_design import optimize_schedule
from audiospec.experiments.protocol import CompareConfig
from audiospec.functional.noise import hermitian_weights

__all__ = ["WHITENED", "OPTIMIZED", "arm_pairs", "optimized_grids", "whitened_priors"]

WHITENED = "+whitened"
OPTIMIZED = "@optimized"


def whitened_priors(cfg: CompareConfig) -> list[str]:
    """The priors that get a whitened-loss arm: every one but white (whose whitened loss is the plain loss)."""
    return [spec.name for spec in cfg.priors if spec.name != REFERENCE_PRIOR] if cfg.whitened_loss else []


def arm_pairs(cfg: CompareConfig) -> list[tuple[str, str]]:
    """(arm, reference arm) of every comparison of a run: priors vs white, whitened vs plain, optimised vs uniform."""
    names = [spec.name for spec in cfg.priors]
    pairs = [(name, REFERENCE_PRIOR) for name in names if name != REFERENCE_PRIOR]
    pairs += [(name + WHITENED, name) for name in whitened_priors(cfg)]
    pairs += [(name + OPTIMIZED, name) for name in names] if cfg.optimized_grid_steps else []
    return pairs


def optimized_grids(prior: NoisePrior, data_variance: torch.Tensor, shape: tuple[int, int],
                    steps: tuple[int, ...]) -> dict[int, torch.Tensor]:
    """Euler grid ``[n + 1]`` per step count n minimising W2 between the linear-Gaussian output and the data
    spectrum ``data_variance`` ``[M, T // 2 + 1]`` of patches of ``shape`` (M, T) (rfft grid, Hermitian
    multiplicities as weights)."""
    noise_variance = prior.spectrum(shape)
    weights = hermitian_weights(shape)
    return {n: optimize_schedule(data_variance, noise_variance, n, divergence="w2", solver="euler", weights=weights)
            for n in steps}
