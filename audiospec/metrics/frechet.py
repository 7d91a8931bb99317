"""Fréchet distance between Gaussians fitted to two sets of embeddings (FID / FAD).

For X_1 ~ N(mu_1, C_1) and X_2 ~ N(mu_2, C_2) (Dowson & Landau 1982; Heusel et al. 2017)

    d^2 = ||mu_1 - mu_2||^2 + Tr(C_1 + C_2 - 2 (C_1 C_2)^{1/2}),

with sample means and unbiased sample covariances (``np.cov``). The matrix square root
follows pytorch-fid's ``calculate_frechet_distance``: ``scipy.linalg.sqrtm`` in float64;
if the result is not finite, or its relative residual ||X X - A||_F / ||A||_F exceeds
``tol`` (what ``sqrtm(..., disp=False)`` used to return; ``disp`` is deprecated since
scipy 1.16, so the residual is computed here), the covariances are offset by
``eps * I`` and the root taken again; a small imaginary part from round-off is dropped,
a large one (diagonal beyond 1e-3) raises.
"""

from __future__ import annotations

import numpy as np
import torch
from scipy import linalg

from audiospec.errors import AudiospecError

__all__ = ["frechet_distance", "gaussian_statistics", "frechet_distance_from_statistics"]


def _as_embeddings(x: torch.Tensor | np.ndarray, *, name: str) -> np.ndarray:
    """``[N, D]`` -> float64 numpy, checked."""
    if isinstance(x, torch.Tensor):
        x = x.detach().to("cpu", torch.float64).numpy()
    elif isinstance(x, np.ndarray):
        x = x.astype(np.float64, copy=False)
    else:
        raise AudiospecError(f"{name} must be a tensor or array [N, D], got {type(x).__name__}")
    if x.ndim != 2:
        raise AudiospecError(f"{name} must be a set of embeddings [N, D], got shape {tuple(x.shape)}")
    if x.shape[0] < 2 or x.shape[1] < 1:
        raise AudiospecError(
            f"{name} has shape {tuple(x.shape)}; a covariance needs at least 2 embeddings of dimension >= 1"
        )
    if not np.isfinite(x).all():
        raise AudiospecError(f"{name} contains {int((~np.isfinite(x)).sum())} non-finite value(s); drop those samples")
    return x


def gaussian_statistics(x: torch.Tensor | np.ndarray) -> tuple[np.ndarray, np.ndarray]:
    """Mean ``[D]`` and unbiased covariance ``[D, D]`` (float64) of embeddings ``[N, D]``.

    Args:
        x: embeddings ``[N, D]``, N >= 2, finite (a tensor or a numpy array).

    Returns:
        ``(mu, cov)``: numpy arrays ``[D]`` and ``[D, D]``.

    Raises:
        AudiospecError: not a tensor or array ``[N >= 2, D >= 1]``, or non-finite values.
    """
    x = _as_embeddings(x, name="embeddings")
    return x.mean(axis=0), np.atleast_2d(np.cov(x, rowvar=False))


def _sqrtm_trace(product: np.ndarray, *, tol: float) -> float | None:
    """Tr(product^{1/2}) with pytorch-fid's imaginary-part check; None if the root is unusable."""
    root = linalg.sqrtm(product)
    if not np.isfinite(root).all():
        return None
    residual = np.linalg.norm(root @ root - product, "fro") / max(np.linalg.norm(product, "fro"), 1e-300)
    if not residual <= tol:
        return None
    if np.iscomplexobj(root):
        if not np.allclose(np.diagonal(root).imag, 0.0, atol=1e-3):
            raise AudiospecError(
                f"the square root of C_1 C_2 has an imaginary component of {np.max(np.abs(root.imag)):.3g}; "
                "the covariances are degenerate: use more samples than embedding dimensions"
            )
        root = root.real
    return float(np.trace(root))


def frechet_distance_from_statistics(
    mu1: np.ndarray, cov1: np.ndarray, mu2: np.ndarray, cov2: np.ndarray, *, eps: float = 1e-6, tol: float = 1e-5
) -> float:
    """d^2 between N(mu1 ``[D]``, cov1 ``[D, D]``) and N(mu2, cov2) (see the module docstring).

    Args:
        mu1: mean ``[D]`` of the first Gaussian.
        cov1: covariance ``[D, D]`` of the first Gaussian.
        mu2: mean ``[D]`` of the second Gaussian.
        cov2: covariance ``[D, D]`` of the second Gaussian.
        eps: diagonal offset of the retry when C_1 C_2 has no usable square root, > 0.
        tol: largest relative residual of the square root accepted before the retry.

    Returns:
        d^2 >= 0, in squared embedding units.

    Raises:
        AudiospecError: statistics of mismatched dimensions, ``eps`` <= 0, or a square root that
            stays non-finite or clearly complex.
    """
    mu1, mu2 = np.atleast_1d(np.asarray(mu1, np.float64)), np.atleast_1d(np.asarray(mu2, np.float64))
    cov1, cov2 = np.atleast_2d(np.asarray(cov1, np.float64)), np.atleast_2d(np.asarray(cov2, np.float64))
    D = mu1.shape[0]
    if mu2.shape != (D,) or cov1.shape != (D, D) or cov2.shape != (D, D):
        raise AudiospecError(
            f"mismatched Gaussian statistics: mu1 {mu1.shape}, cov1 {cov1.shape}, mu2 {mu2.shape}, cov2 {cov2.shape}; "
            "both sets must use embeddings of the same dimension"
        )
    if eps <= 0:
        raise AudiospecError(f"eps must be positive, got {eps}")
    diff = mu1 - mu2
    tr_covmean = _sqrtm_trace(cov1 @ cov2, tol=tol)
    if tr_covmean is None:  # near-singular product: offset both covariances and retry (pytorch-fid)
        offset = np.eye(D) * eps
        tr_covmean = _sqrtm_trace((cov1 + offset) @ (cov2 + offset), tol=np.inf)
        if tr_covmean is None:
            raise AudiospecError(
                f"the matrix square root of C_1 C_2 is not finite even with {eps} added to the diagonal; "
                "check the embeddings for constant or huge values"
            )
    d2 = float(diff @ diff + np.trace(cov1) + np.trace(cov2) - 2.0 * tr_covmean)
    return max(d2, 0.0)  # round-off can give -1e-12 for identical sets


def frechet_distance(a: torch.Tensor | np.ndarray, b: torch.Tensor | np.ndarray, *, eps: float = 1e-6) -> float:
    """Fréchet distance d^2 between Gaussians fitted to embeddings ``a`` ``[N, D]`` and ``b`` ``[K, D]``.

    Symmetric, 0 for identical sets, in squared embedding units. Computed in float64.
    With fewer samples than dimensions the covariances are singular; the ``eps``
    retry keeps the result finite but it is then dominated by the estimation bias
    (Chong & Forsyth 2020), so compare only values computed with equal N.

    Args:
        a: embeddings ``[N, D]``, N >= 2 (tensor or numpy array).
        b: embeddings ``[K, D]``, K >= 2.
        eps: diagonal offset of the near-singular retry, > 0.

    Returns:
        d^2 >= 0.

    Raises:
        AudiospecError: sets that are not ``[N >= 2, D]`` and finite, different dimensions D,
            or a degenerate square root (see :func:`frechet_distance_from_statistics`).
    """
    a = _as_embeddings(a, name="a")
    b = _as_embeddings(b, name="b")
    if a.shape[1] != b.shape[1]:
        raise AudiospecError(
            f"embedding dimensions differ: a is {tuple(a.shape)}, b is {tuple(b.shape)}; embed both with the same model"
        )
    mu1, cov1 = gaussian_statistics(a)
    mu2, cov2 = gaussian_statistics(b)
    return frechet_distance_from_statistics(mu1, cov1, mu2, cov2, eps=eps)
