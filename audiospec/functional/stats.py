"""Small statistics used by the analyses: ranks, Spearman correlation, mean with a t-interval."""

from __future__ import annotations

import math

import torch
from scipy import stats as _scipy_stats

from audiospec.errors import AudiospecError

__all__ = ["rankdata", "spearman", "mean_confidence_interval"]


def rankdata(x: torch.Tensor) -> torch.Tensor:
    """Ranks 1..n of a 1-D tensor, ties given their average rank (scipy ``rankdata(method="average")``)."""
    if x.ndim != 1:
        raise AudiospecError(f"rankdata needs a 1-D tensor, got shape {tuple(x.shape)}")
    values, order = torch.sort(x, stable=True)
    _, inverse, counts = torch.unique_consecutive(values, return_inverse=True, return_counts=True)
    ends = torch.cumsum(counts, dim=0).to(torch.float64)  # last 1-based rank of each tie group
    group_rank = ends - (counts.to(torch.float64) - 1.0) / 2.0
    ranks = torch.empty_like(x, dtype=torch.float64)
    ranks[order] = group_rank[inverse]
    return ranks


def spearman(x: torch.Tensor, y: torch.Tensor) -> float:
    """Spearman rank correlation of two 1-D tensors; 0.0 when either is constant (no order)."""
    if x.shape != y.shape or x.ndim != 1 or x.numel() < 2:
        raise AudiospecError(f"spearman needs two 1-D tensors of equal length >= 2, got {tuple(x.shape)} and {tuple(y.shape)}")
    rx = rankdata(x) - (x.numel() + 1) / 2.0
    ry = rankdata(y) - (y.numel() + 1) / 2.0
    denom = torch.sqrt((rx**2).sum() * (ry**2).sum())
    if float(denom) == 0.0:
        return 0.0
    return float((rx * ry).sum() / denom)


def mean_confidence_interval(values: torch.Tensor | list[float], *, level: float = 0.95) -> tuple[float, float, float]:
    """Mean and Student-t confidence interval ``(mean, low, high)`` of independent values (e.g. seeds).

    With a single value the interval is (nan, nan): one seed says nothing about spread.
    """
    v = torch.as_tensor(values, dtype=torch.float64).flatten()
    if v.numel() == 0:
        raise AudiospecError("mean_confidence_interval needs at least one value")
    if not 0.0 < level < 1.0:
        raise AudiospecError(f"confidence level must lie in (0, 1), got {level}")
    mean = float(v.mean())
    n = v.numel()
    if n < 2:
        return mean, math.nan, math.nan
    sem = float(v.std(unbiased=True)) / math.sqrt(n)
    half = float(_scipy_stats.t.ppf(0.5 + level / 2.0, df=n - 1)) * sem
    return mean, mean - half, mean + half
