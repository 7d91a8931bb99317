"""Ranks and Spearman's rank correlation (the autoregression orders are rank correlations)."""

from __future__ import annotations

import torch

from audiospec.errors import AudiospecError

__all__ = ["rankdata", "spearman"]


def rankdata(x: torch.Tensor) -> torch.Tensor:
    """Ranks 1..n of a 1-D tensor, ties given their average rank (scipy ``rankdata(method="average")``).

    Args:
        x: values ``[n]``.

    Returns:
        Ranks ``[n]`` (float64), 1 for the smallest.

    Raises:
        AudiospecError: ``x`` not 1-D.
    """
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
    """Spearman rank correlation of two 1-D tensors; 0.0 when either is constant (no order).

    Args:
        x: values ``[n]``, n >= 2.
        y: values ``[n]``.

    Returns:
        The correlation of the ranks, in [-1, 1].

    Raises:
        AudiospecError: tensors not 1-D, of different lengths, or shorter than 2.
    """
    if x.shape != y.shape or x.ndim != 1 or x.numel() < 2:
        raise AudiospecError(f"spearman needs two 1-D tensors of equal length >= 2, got {tuple(x.shape)} and {tuple(y.shape)}")
    rx = rankdata(x) - (x.numel() + 1) / 2.0
    ry = rankdata(y) - (y.numel() + 1) / 2.0
    denom = torch.sqrt((rx**2).sum() * (ry**2).sum())
    if float(denom) == 0.0:
        return 0.0
    return float((rx * ry).sum() / denom)
