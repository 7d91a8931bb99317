"""fit_projection / projected_frechet_distance: a 3-D subspace recovered exactly, a shift along an axis
giving d^2 = delta^2, the real-vs-real floor, the sample-count guard, bad input."""

from __future__ import annotations

import numpy as np
import pytest
import torch

from audiospec.errors import AudiospecError
from audiospec.metrics import Projection, fit_projection, frechet_distance, projected_frechet_distance


def subspace_data(n: int, *, seed: int) -> tuple[np.ndarray, np.ndarray, np.ndarray]:
    """``[n, 10]`` points x = z B + mu with z ``[n, 3]`` of std (3, 2, 1) and B ``[3, 10]`` orthonormal rows."""
    rng = np.random.default_rng(seed)
    basis = np.linalg.qr(rng.standard_normal((10, 3)))[0].T  # [3, 10]
    z = rng.standard_normal((n, 3)) * np.array([3.0, 2.0, 1.0])
    mu = rng.standard_normal(10)
    return z @ basis + mu, z, basis


def test_data_in_a_3d_subspace_keeps_all_its_variance():
    """dims = 3 on rank-3 data: explained variances = eigenvalues of Cov(z), their sum = Tr Cov(x),
    the axes span the subspace, and x is rebuilt from its coordinates. Tolerance 1e-10 (measured worst 4.9e-15)."""
    x, z, basis = subspace_data(300, seed=0)
    proj = fit_projection(torch.from_numpy(x), dims=3)
    total = np.trace(np.cov(x, rowvar=False))
    eigenvalues = np.linalg.eigvalsh(np.cov(z, rowvar=False))[::-1]  # descending
    np.testing.assert_allclose(proj.explained_variance.numpy(), eigenvalues, rtol=1e-10)
    assert float(proj.explained_variance.sum()) == pytest.approx(total, rel=1e-10)
    np.testing.assert_allclose(np.linalg.svd(proj.components.numpy() @ basis.T, compute_uv=False), 1.0, rtol=1e-10)
    coords = proj.apply(x)  # [300, 3]
    rebuilt = coords @ proj.components + proj.mean
    np.testing.assert_allclose(rebuilt.numpy(), x, atol=1e-10)
    assert float(coords.var(dim=0, unbiased=True).sum()) == pytest.approx(total, rel=1e-10)


def test_axes_are_orthonormal_sorted_and_signed():
    """Extra axes beyond the rank carry no variance (< 1e-20 of the total; measured 2.2e-32);
    the K x K Gram matrix is I (1e-12); each axis's largest entry is positive."""
    x, _, _ = subspace_data(200, seed=1)
    proj = fit_projection(x, dims=5)
    ev = proj.explained_variance
    assert proj.dims == 5
    assert bool((ev[:-1] >= ev[1:]).all())
    assert float(ev[3:].sum()) < 1e-20 * float(ev.sum())
    np.testing.assert_allclose((proj.components @ proj.components.T).numpy(), np.eye(5), atol=1e-12)
    peak = proj.components.abs().argmax(dim=1, keepdim=True)
    assert bool((proj.components.gather(1, peak) > 0).all())


def anisotropic(n: int, rng: np.random.Generator) -> np.ndarray:
    """``[n, 64]`` Gaussian embeddings with standard deviations from 3 down to 0.1."""
    return rng.standard_normal((n, 64)) * np.geomspace(3.0, 0.1, 64)


def test_shift_along_an_axis_gives_delta_squared():
    """b = a + delta u with u the first axis: equal covariances, projected mean gap delta, so d^2 = delta^2
    (1e-6 relative, the sqrtm round-off; measured 2.3e-13 and 1.8e-14)."""
    rng = np.random.default_rng(0)
    proj = fit_projection(anisotropic(2000, rng), dims=8)
    a = anisotropic(400, rng)
    for delta in (0.5, 2.0):
        b = a + delta * proj.components[0].numpy()
        assert projected_frechet_distance(a, b, proj) == pytest.approx(delta**2, rel=1e-6)


def test_two_draws_of_one_distribution_are_near_zero_relative_to_a_shift():
    """Real-vs-real floor: two independent sets of 400 from the training distribution score below 15% of
    the same pair with b shifted by one standard deviation (3) along the top axis (d^2 ~ 9 + floor).

    Measured: 0.525 vs 10.50 (5.0%); over seeds 0-5 the ratio ranged 5.0%-10.8%.
    """
    rng = np.random.default_rng(0)
    proj = fit_projection(anisotropic(2000, rng), dims=8)
    a, b = anisotropic(400, rng), anisotropic(400, rng)
    same = projected_frechet_distance(a, b, proj)
    shifted = projected_frechet_distance(a, b + 3.0 * proj.components[0].numpy(), proj)
    assert same < 0.15 * shifted
    assert same == pytest.approx(frechet_distance(proj.apply(a), proj.apply(b)), rel=1e-12)


def test_real_vs_real_floor_falls_as_one_over_n():
    """Chong & Forsyth 2020: FD_N ~ FD_inf + k / N, and FD_inf = 0 for one distribution, so quadrupling N
    divides the mean floor by ~4. Accepted 3.0-5.5 (measured 1.678 / 0.387 = 4.33, standard error ~0.29)."""
    rng = np.random.default_rng(0)
    proj = fit_projection(anisotropic(2000, rng), dims=8)
    floors = {
        N: np.mean([projected_frechet_distance(anisotropic(N, rng), anisotropic(N, rng), proj) for _ in range(20)])
        for N in (200, 800)
    }
    assert 3.0 < floors[200] / floors[800] < 5.5


def test_refuses_too_few_samples():
    """16 dims x min_ratio 10 -> 160 samples per set; 159 is refused, 160 accepted."""
    rng = np.random.default_rng(0)
    proj = fit_projection(anisotropic(500, rng), dims=16)
    with pytest.raises(AudiospecError, match=r"needs at least 160 samples per set .* got 159 and 300.*bias-dominated"):
        projected_frechet_distance(anisotropic(159, rng), anisotropic(300, rng), proj)
    assert projected_frechet_distance(anisotropic(160, rng), anisotropic(160, rng), proj) >= 0.0
    with pytest.raises(AudiospecError, match=r"needs at least 48 samples per set \(min_ratio 3 x dims\)"):
        projected_frechet_distance(anisotropic(40, rng), anisotropic(300, rng), proj, min_ratio=3)


def test_bad_input():
    rng = np.random.default_rng(0)
    train = anisotropic(20, rng)
    with pytest.raises(AudiospecError, match=r"dims must be an integer in \[1, min\(D, N - 1\)\] = \[1, 19\].*got 20"):
        fit_projection(train, dims=20)
    with pytest.raises(AudiospecError, match=r"dims must be an integer .* got 0"):
        fit_projection(train, dims=0)
    proj = fit_projection(train, dims=4)
    with pytest.raises(AudiospecError, match=r"embeddings are \(5, 63\) but the projection was fitted on dimension 64"):
        proj.apply(np.zeros((5, 63)))
    with pytest.raises(AudiospecError, match="projection must be a Projection from fit_projection, got dict"):
        projected_frechet_distance(train, train, {"mean": 0})
    with pytest.raises(AudiospecError, match="min_ratio must be a positive number, got 0"):
        projected_frechet_distance(train, train, proj, min_ratio=0)
    assert isinstance(proj, Projection)
