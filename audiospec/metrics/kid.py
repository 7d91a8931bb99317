"""Kernel Inception Distance (KID): the unbiased MMD^2 between two sets of embeddings.

Bińkowski, Sutherland, Arbel & Gretton 2018, "Demystifying MMD GANs" (ICLR), eq. (2) and
Appendix D. With the cubic polynomial kernel

    k(x, y) = (gamma x·y + coef0)^degree,   gamma = 1 / D, coef0 = 1, degree = 3,

and sets X = {x_i} (N embeddings) and Y = {y_j} (M embeddings) of dimension D,

    MMD^2_u = 1 / (N (N-1)) sum_{i != i'} k(x_i, x_i')
            + 1 / (M (M-1)) sum_{j != j'} k(y_j, y_j')
            - 2 / (N M)     sum_{i, j}    k(x_i, y_j).

Unlike the Fréchet distance the estimate is unbiased at every N (its expectation is the
population MMD^2, 0 for equal distributions), so it can be negative on a finite sample.
:func:`kid_subsets` reports the mean and spread over random subsets as the paper and
torchmetrics' ``KernelInceptionDistance`` do. Computed in float64.
"""

from __future__ import annotations

import numpy as np
import torch

from audiospec.errors import AudiospecError
from audiospec.metrics.frechet import _as_embeddings

__all__ = ["kernel_inception_distance", "kid_subsets"]


def _embeddings(x: torch.Tensor | np.ndarray, *, name: str) -> torch.Tensor:
    """``[N, D]`` tensor or array -> float64 CPU tensor, checked (N >= 2, finite)."""
    if isinstance(x, (torch.Tensor, np.ndarray)) and x.ndim == 2 and x.shape[0] < 2:
        raise AudiospecError(
            f"{name} has shape {tuple(x.shape)}; the unbiased MMD^2 needs at least 2 embeddings per set"
        )
    return torch.from_numpy(_as_embeddings(x, name=name))


def _check_pair(a: torch.Tensor, b: torch.Tensor) -> None:
    if a.shape[1] != b.shape[1]:
        raise AudiospecError(
            f"embedding dimensions differ: a is {tuple(a.shape)}, b is {tuple(b.shape)}; embed both with the same model"
        )


def _check_kernel(degree: int, gamma: float | None, coef0: float) -> None:
    if isinstance(degree, bool) or not isinstance(degree, int) or degree < 1:
        raise AudiospecError(f"degree must be an integer >= 1, got {degree!r}")
    if gamma is not None and not (np.isfinite(gamma) and gamma > 0):
        raise AudiospecError(f"gamma must be a positive number or None (meaning 1 / D), got {gamma!r}")
    if not np.isfinite(coef0):
        raise AudiospecError(f"coef0 must be finite, got {coef0!r}")


def _mmd2_unbiased(a: torch.Tensor, b: torch.Tensor, *, degree: int, gamma: float, coef0: float) -> float:
    """MMD^2_u (module docstring) of float64 ``a`` ``[N, D]`` and ``b`` ``[M, D]``."""
    N, M = a.shape[0], b.shape[0]
    k_aa = (gamma * (a @ a.T) + coef0) ** degree  # [N, N]
    k_bb = (gamma * (b @ b.T) + coef0) ** degree  # [M, M]
    k_ab = (gamma * (a @ b.T) + coef0) ** degree  # [N, M]
    within_a = (k_aa.sum() - k_aa.diagonal().sum()) / (N * (N - 1))  # i != i'
    within_b = (k_bb.sum() - k_bb.diagonal().sum()) / (M * (M - 1))
    across = k_ab.sum() / (N * M)
    return float(within_a + within_b - 2.0 * across)


def kernel_inception_distance(
    a: torch.Tensor | np.ndarray,
    b: torch.Tensor | np.ndarray,
    *,
    degree: int = 3,
    gamma: float | None = None,
    coef0: float = 1.0,
) -> float:
    """Unbiased MMD^2 between embeddings ``a`` ``[N, D]`` and ``b`` ``[M, D]`` (module docstring).

    ``gamma=None`` means 1 / D, the paper's default. Symmetric; expectation 0 for equal
    distributions, so values scatter around 0 (also below it) when the sets match.
    Memory is O(N^2 + M^2 + N M); use :func:`kid_subsets` for large sets.

    Args:
        a: embeddings ``[N, D]``, N >= 2 (tensor or numpy array).
        b: embeddings ``[M, D]``, M >= 2.
        degree: degree of the polynomial kernel, an integer >= 1.
        gamma: kernel scale, > 0 (None: 1 / D).
        coef0: kernel offset, finite.

    Returns:
        MMD^2_u (may be negative).

    Raises:
        AudiospecError: sets that are not ``[N >= 2, D]`` and finite, different dimensions D, or
            invalid kernel parameters.
    """
    _check_kernel(degree, gamma, coef0)
    a = _embeddings(a, name="a")
    b = _embeddings(b, name="b")
    _check_pair(a, b)
    gamma = 1.0 / a.shape[1] if gamma is None else float(gamma)
    return _mmd2_unbiased(a, b, degree=degree, gamma=gamma, coef0=float(coef0))


def kid_subsets(
    a: torch.Tensor | np.ndarray,
    b: torch.Tensor | np.ndarray,
    *,
    subset_size: int = 1000,
    n_subsets: int = 100,
    generator: torch.Generator | None = None,
    degree: int = 3,
    gamma: float | None = None,
    coef0: float = 1.0,
) -> tuple[float, float]:
    """``(mean, std)`` of MMD^2_u over ``n_subsets`` random subsets of ``subset_size`` from each set.

    As torchmetrics' ``KernelInceptionDistance`` (defaults 100 subsets of 1000): each
    subset draws ``subset_size`` rows of ``a`` ``[N, D]`` and of ``b`` ``[M, D]`` without
    replacement, subsets independent of each other; std is the population std
    (``unbiased=False``) of the subset values, a spread, not a standard error of the mean.

    Args:
        a: embeddings ``[N, D]``.
        b: embeddings ``[M, D]``.
        subset_size: rows per subset, in [2, min(N, M)].
        n_subsets: number of subsets, >= 1.
        generator: randomness of the subsets.
        degree: degree of the polynomial kernel, >= 1.
        gamma: kernel scale, > 0 (None: 1 / D).
        coef0: kernel offset, finite.

    Returns:
        ``(mean, std)`` over the subsets.

    Raises:
        AudiospecError: invalid sets or kernel parameters, a ``subset_size`` outside
            [2, min(N, M)], or ``n_subsets`` < 1.
    """
    _check_kernel(degree, gamma, coef0)
    a = _embeddings(a, name="a")
    b = _embeddings(b, name="b")
    _check_pair(a, b)
    smallest = min(a.shape[0], b.shape[0])
    if isinstance(subset_size, bool) or not isinstance(subset_size, int) or not 2 <= subset_size <= smallest:
        raise AudiospecError(
            f"subset_size must be an integer in [2, {smallest}] (the smaller set), got {subset_size!r}; "
            "lower subset_size or pass more embeddings"
        )
    if isinstance(n_subsets, bool) or not isinstance(n_subsets, int) or n_subsets < 1:
        raise AudiospecError(f"n_subsets must be an integer >= 1, got {n_subsets!r}")
    gamma = 1.0 / a.shape[1] if gamma is None else float(gamma)
    values = torch.empty(n_subsets, dtype=torch.float64)
    for s in range(n_subsets):
        rows_a = torch.randperm(a.shape[0], generator=generator)[:subset_size]
        rows_b = torch.randperm(b.shape[0], generator=generator)[:subset_size]
        values[s] = _mmd2_unbiased(a[rows_a], b[rows_b], degree=degree, gamma=gamma, coef0=float(coef0))
    return float(values.mean()), float(values.std(unbiased=False))
