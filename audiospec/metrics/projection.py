"""Fréchet distance in a low-dimensional PCA projection fitted on training embeddings.

The Fréchet distance of N-sample estimates is biased, FD_N ~ FD_inf + k / N with k
growing with the embedding dimension D (Chong & Forsyth 2020, "Effectively Unbiased FID
and Inception Score and where to find them", CVPR), so it measures N more than quality
unless N >> D. Projecting both sets onto the top ``dims``
principal axes of the *training* embeddings (Pearson 1901; Hotelling 1933),

    z = V_K^T (x - mu_train),   V_K = top-K eigenvectors of Cov(x_train)  ([D, K]),

fixes one axis system for every model and keeps D small; :func:`projected_frechet_distance`
then refuses sets with fewer than ``min_ratio * dims`` samples, where the bias dominates.
"""

from __future__ import annotations

from dataclasses import dataclass

import numpy as np
import torch

from audiospec.errors import AudiospecError
from audiospec.metrics.frechet import _as_embeddings, frechet_distance

__all__ = ["Projection", "fit_projection", "projected_frechet_distance"]


@dataclass(frozen=True, eq=False)
class Projection:
    """A fitted PCA projection (float64, CPU).

    ``mean`` ``[D]``: training mean mu_train; ``components`` ``[K, D]``: orthonormal rows,
    the principal axes in order of decreasing variance, each signed so its largest-magnitude
    entry is positive; ``explained_variance`` ``[K]``: the variance (unbiased, N - 1) of the
    training embeddings along each axis.

    Args:
        mean: training mean ``[D]``.
        components: principal axes ``[K, D]``, orthonormal rows.
        explained_variance: variance along each axis ``[K]``.
    """

    mean: torch.Tensor
    components: torch.Tensor
    explained_variance: torch.Tensor

    @property
    def dims(self) -> int:
        """K, the number of kept axes."""
        return int(self.components.shape[0])

    def apply(self, x: torch.Tensor | np.ndarray) -> torch.Tensor:
        """Embeddings ``[N, D]`` -> coordinates ``[N, K]`` = (x - mean) V_K (float64).

        Args:
            x: embeddings ``[N, D]`` (tensor or numpy array), N >= 2, finite.

        Returns:
            Coordinates ``[N, K]`` (float64).

        Raises:
            AudiospecError: embeddings of another dimension than the projection's D, or invalid embeddings.
        """
        x = torch.from_numpy(_as_embeddings(x, name="embeddings"))
        D = self.mean.shape[0]
        if x.shape[1] != D:
            raise AudiospecError(
                f"embeddings are {tuple(x.shape)} but the projection was fitted on dimension {D}; "
                "embed with the model the projection was fitted for"
            )
        return (x - self.mean) @ self.components.T  # [N, D] @ [D, K] -> [N, K]


def fit_projection(train_embeddings: torch.Tensor | np.ndarray, *, dims: int = 16) -> Projection:
    """PCA of ``train_embeddings`` ``[N, D]``: their mean and top ``dims`` principal axes.

    The axes are the right singular vectors of the centred matrix (X - mu) = U S V^T, and
    the explained variances S_k^2 / (N - 1). Needs 1 <= dims <= min(D, N - 1) (N points
    span at most N - 1 directions around their mean).

    Args:
        train_embeddings: training embeddings ``[N, D]`` (tensor or numpy array), finite.
        dims: K, the number of axes kept, in [1, min(D, N - 1)].

    Returns:
        The fitted :class:`Projection`.

    Raises:
        AudiospecError: invalid embeddings, or ``dims`` outside [1, min(D, N - 1)].
    """
    x = torch.from_numpy(_as_embeddings(train_embeddings, name="train_embeddings"))
    N, D = x.shape
    if isinstance(dims, bool) or not isinstance(dims, int) or not 1 <= dims <= min(D, N - 1):
        raise AudiospecError(
            f"dims must be an integer in [1, min(D, N - 1)] = [1, {min(D, N - 1)}] for train embeddings "
            f"of shape {(N, D)}, got {dims!r}; lower dims or pass more training embeddings"
        )
    mean = x.mean(dim=0)  # [D]
    _, S, Vh = torch.linalg.svd(x - mean, full_matrices=False)  # Vh: [min(N, D), D]
    components = Vh[:dims].clone()  # [K, D]
    peak = components.abs().argmax(dim=1, keepdim=True)  # [K, 1]
    components *= torch.sign(components.gather(1, peak))  # deterministic sign per axis
    explained = S[:dims] ** 2 / (N - 1)
    return Projection(mean=mean, components=components, explained_variance=explained)


def projected_frechet_distance(
    a: torch.Tensor | np.ndarray,
    b: torch.Tensor | np.ndarray,
    projection: Projection,
    *,
    min_ratio: float = 10,
) -> float:
    """Fréchet distance d^2 between ``projection.apply(a)`` ``[N, K]`` and ``projection.apply(b)`` ``[M, K]``.

    See :func:`audiospec.metrics.frechet_distance` for d^2. Raises :class:`AudiospecError`
    when min(N, M) < ``min_ratio`` * K: below that the estimate is dominated by its
    sample-size bias rather than by the difference between the sets.

    Args:
        a: embeddings ``[N, D]``.
        b: embeddings ``[M, D]``.
        projection: a :class:`Projection` from :func:`fit_projection`.
        min_ratio: samples per kept axis required in each set, > 0.

    Returns:
        d^2 >= 0 in the projected coordinates.

    Raises:
        AudiospecError: ``projection`` not a :class:`Projection`, a non-positive ``min_ratio``,
            invalid embeddings, or fewer than ``min_ratio * K`` samples in a set.
    """
    if not isinstance(projection, Projection):
        raise AudiospecError(f"projection must be a Projection from fit_projection, got {type(projection).__name__}")
    if not (np.isfinite(min_ratio) and min_ratio > 0):
        raise AudiospecError(f"min_ratio must be a positive number, got {min_ratio!r}")
    za, zb = projection.apply(a), projection.apply(b)
    needed = int(np.ceil(min_ratio * projection.dims))
    smallest = min(za.shape[0], zb.shape[0])
    if smallest < needed:
        raise AudiospecError(
            f"projected FD with {projection.dims} dims needs at least {needed} samples per set "
            f"(min_ratio {min_ratio} x dims), got {za.shape[0]} and {zb.shape[0]}; with fewer the "
            "Fréchet distance is bias-dominated: generate more samples or fit the projection with fewer dims"
        )
    return frechet_distance(za, zb)
