"""frechet_distance: closed form for diagonal Gaussians, an eigenvalue reference, 0, symmetry, bad input."""

from __future__ import annotations

import numpy as np
import pytest
import torch

from audiospec.errors import AudiospecError
from audiospec.metrics import frechet_distance, frechet_distance_from_statistics, gaussian_statistics


def exact_moments(n: int, mu: np.ndarray, std: np.ndarray, *, seed: int) -> np.ndarray:
    """``[n, D]`` samples whose sample mean is exactly ``mu`` and unbiased sample covariance exactly diag(std^2)."""
    z = np.random.default_rng(seed).standard_normal((n, mu.size))
    z -= z.mean(axis=0)
    L = np.linalg.cholesky(np.cov(z, rowvar=False))
    z = np.linalg.solve(L, z.T).T  # whitened: cov(z) = I
    return z * std + mu


def reference_fd(a: np.ndarray, b: np.ndarray) -> float:
    """Independent reference: Tr (C1 C2)^1/2 = Tr (C1^1/2 C2 C1^1/2)^1/2, via symmetric eigendecompositions."""
    mu1, mu2 = a.mean(0), b.mean(0)
    c1, c2 = np.cov(a, rowvar=False), np.cov(b, rowvar=False)
    w, v = np.linalg.eigh(c1)
    s1 = (v * np.sqrt(np.clip(w, 0, None))) @ v.T
    inner = np.linalg.eigvalsh(s1 @ c2 @ s1)
    return float(((mu1 - mu2) ** 2).sum() + np.trace(c1) + np.trace(c2) - 2 * np.sqrt(np.clip(inner, 0, None)).sum())


def test_closed_form_for_diagonal_gaussians():
    """d^2 = ||mu1 - mu2||^2 + sum_i (s1_i - s2_i)^2 when both covariances are diagonal (tolerance 1e-9)."""
    D = 6
    mu1, mu2 = np.linspace(-1, 1, D), np.linspace(0.5, -0.3, D)
    s1, s2 = np.linspace(0.5, 2.0, D), np.linspace(1.5, 0.2, D)
    a = exact_moments(200, mu1, s1, seed=0)
    b = exact_moments(150, mu2, s2, seed=1)
    expected = ((mu1 - mu2) ** 2).sum() + ((s1 - s2) ** 2).sum()
    assert frechet_distance(torch.from_numpy(a), torch.from_numpy(b)) == pytest.approx(expected, rel=1e-9)
    assert frechet_distance(a, b) == pytest.approx(expected, rel=1e-9)  # numpy input too


def test_matches_an_eigenvalue_reference_on_correlated_embeddings():
    rng = np.random.default_rng(2)
    a = rng.standard_normal((300, 16)) @ rng.standard_normal((16, 16))
    b = rng.standard_normal((250, 16)) @ rng.standard_normal((16, 16)) + 0.3
    assert frechet_distance(a, b) == pytest.approx(reference_fd(a, b), rel=1e-8)


def test_zero_for_identical_sets_and_symmetric():
    rng = np.random.default_rng(3)
    a = rng.standard_normal((100, 8)) @ rng.standard_normal((8, 8))
    b = rng.standard_normal((80, 8)) * 2 + 1
    assert frechet_distance(a, a) == pytest.approx(0.0, abs=1e-8 * np.trace(np.cov(a, rowvar=False)))
    assert frechet_distance(a, b) == pytest.approx(frechet_distance(b, a), rel=1e-9)
    assert frechet_distance(a, b) > 1.0


def test_singular_covariances_fall_back_to_the_eps_offset():
    """Fewer samples than dimensions (singular covariances): finite, > 0 between sets, ~0 for a set with itself."""
    rng = np.random.default_rng(4)
    a, b = rng.standard_normal((10, 32)), rng.standard_normal((12, 32)) + 0.5
    d = frechet_distance(a, b)
    assert np.isfinite(d) and d > 0
    assert frechet_distance(a, a) == pytest.approx(0.0, abs=1e-4)


def test_statistics_route_equals_the_embedding_route():
    rng = np.random.default_rng(5)
    a, b = rng.standard_normal((50, 4)), rng.standard_normal((60, 4)) * 3
    mu1, c1 = gaussian_statistics(a)
    mu2, c2 = gaussian_statistics(b)
    assert frechet_distance_from_statistics(mu1, c1, mu2, c2) == pytest.approx(frechet_distance(a, b), rel=1e-12)


@pytest.mark.parametrize(
    ("a", "b", "match"),
    [
        (np.zeros(5), np.zeros((5, 2)), r"embeddings \[N, D\], got shape \(5,\)"),
        (np.ones((5, 3)), np.ones((5, 4)), r"embedding dimensions differ"),
        (np.ones((1, 3)), np.ones((5, 3)), r"at least 2 embeddings"),
        (np.full((5, 3), np.nan), np.ones((5, 3)), r"non-finite"),
        ([[1.0, 2.0]], np.ones((5, 3)), r"tensor or array"),
    ],
)
def test_bad_input_raises(a, b, match):
    with pytest.raises(AudiospecError, match=match):
        frechet_distance(a, b)


def test_non_finite_square_root_is_retried_with_an_eps_offset(monkeypatch):
    """pytorch-fid's fallback: a non-finite sqrtm is recomputed on (C1 + eps I)(C2 + eps I)."""
    from audiospec.metrics import frechet as module

    real_sqrtm, calls = module.linalg.sqrtm, []

    def flaky_sqrtm(A):
        calls.append(A.copy())
        return np.full_like(A, np.nan) if len(calls) == 1 else real_sqrtm(A)

    monkeypatch.setattr(module.linalg, "sqrtm", flaky_sqrtm)
    rng = np.random.default_rng(6)
    a, b = rng.standard_normal((40, 3)), rng.standard_normal((40, 3)) + 1.0
    eps = 1e-3
    d = frechet_distance(a, b, eps=eps)
    assert len(calls) == 2
    c1, c2 = np.cov(a, rowvar=False), np.cov(b, rowvar=False)
    np.testing.assert_allclose(calls[1], (c1 + eps * np.eye(3)) @ (c2 + eps * np.eye(3)), rtol=1e-12)
    assert d == pytest.approx(reference_fd(a, b), abs=10 * eps)


def test_large_imaginary_part_raises(monkeypatch):
    from audiospec.metrics import frechet as module

    monkeypatch.setattr(module.linalg, "sqrtm", lambda A: np.eye(A.shape[0]) * (1 + 0.5j))
    rng = np.random.default_rng(7)
    with pytest.raises(AudiospecError, match="imaginary component of 0.5"):
        frechet_distance(rng.standard_normal((20, 2)), rng.standard_normal((20, 2)))
