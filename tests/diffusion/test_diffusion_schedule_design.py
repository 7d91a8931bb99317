"""Spectral transfer function of the Euler / Heun sampler and schedule optimisation (Benita et al. 2025).

The closed form H_k = prod_i g_i(k) is checked against a Monte-Carlo run of the *actual*
samplers (:func:`euler_sample`, :func:`heun_sample`) driven by the exact linear-Gaussian
velocity applied in Fourier space.
"""

from __future__ import annotations

import math

import pytest
import torch

from audiospec.diffusion import (
    ColoredNoise,
    euler_sample,
    gaussian_divergence,
    grid_from_logits,
    heun_sample,
    optimize_schedule,
    output_spectrum,
    transfer_function,
    uniform_time_grid,
    velocity_gain,
)
from audiospec.errors import AudiospecError
from audiospec.functional import estimate_spectrum, hermitian_weights, power_law_spectrum
from helpers_diffusion import linear_gaussian_velocity

SHAPE = (16, 32)
LAM = power_law_spectrum(SHAPE, beta=2.5)  # data spectrum lambda_k, a mel-like power law
S_PINK = power_law_spectrum(SHAPE, beta=1.0)  # pink prior
WEIGHTS = hermitian_weights(SHAPE)
SOLVERS = {"euler": euler_sample, "heun": heun_sample}


def test_velocity_gain_endpoints_and_log_derivative():
    assert torch.allclose(velocity_gain(torch.tensor(1.0), data_variance=LAM, noise_variance=S_PINK), torch.ones_like(LAM))
    assert torch.allclose(velocity_gain(torch.tensor(0.0), data_variance=LAM, noise_variance=S_PINK), -torch.ones_like(LAM))
    # c = V' / (2 V): compare with a central difference of log V / 2
    t, h = 0.37, 1e-6
    V = lambda s: (1 - s) ** 2 * LAM + s**2 * S_PINK  # noqa: E731
    numeric = (torch.log(V(t + h)) - torch.log(V(t - h))) / (4 * h)
    torch.testing.assert_close(velocity_gain(torch.tensor(t, dtype=torch.float64), data_variance=LAM, noise_variance=S_PINK), numeric,
                               rtol=1e-7, atol=1e-8)


@pytest.mark.parametrize("solver", ["euler", "heun"])
@pytest.mark.parametrize("grid", ["uniform", "random"])
def test_transfer_function_matches_the_simulated_sampler(solver, grid):
    n = 1000
    times = uniform_time_grid(6) if grid == "uniform" else grid_from_logits(torch.randn(6, generator=torch.Generator().manual_seed(0)))
    prior = ColoredNoise(beta=1.0)
    x1 = prior.sample((n, 1, *SHAPE), generator=torch.Generator().manual_seed(1), dtype=torch.float64)
    out = SOLVERS[solver](linear_gaussian_velocity(LAM, S_PINK), x1, times=times)
    H = transfer_function(times, data_variance=LAM, noise_variance=S_PINK, solver=solver)

    # (1) exact: the sampler multiplies every Fourier coefficient of every sample by H_k
    torch.testing.assert_close(torch.fft.rfft2(out, norm="ortho"), H * torch.fft.rfft2(x1, norm="ortho"),
                               rtol=1e-9, atol=1e-12)
    # (2) statistical: the empirical output spectrum matches H_k^2 S_k. Each bin is a mean of n
    # chi-square draws (relative sd 1/sqrt(n) complex bins, sqrt(2/n) real ones): allow 6 sigma per bin
    ratio = estimate_spectrum(out, ndim=2) / output_spectrum(times, data_variance=LAM, noise_variance=S_PINK, solver=solver)
    assert (ratio - 1).abs().max().item() < 6 * math.sqrt(2 / n)
    assert abs(ratio.mean().item() - 1) < 0.01


@pytest.mark.parametrize("solver, order", [("euler", 1), ("heun", 2)])
def test_output_spectrum_converges_to_the_data_spectrum(solver, order):
    errors = []
    for n_steps in (250, 500, 1000):
        out = output_spectrum(uniform_time_grid(n_steps), data_variance=LAM, noise_variance=S_PINK, solver=solver)
        errors.append((out / LAM - 1).abs().max().item())
    assert errors[-1] < (0.01 if solver == "euler" else 1e-4)
    for coarse, fine in zip(errors, errors[1:]):  # halving h divides the error by 2^order
        assert 2 ** order * 0.8 < coarse / fine < 2 ** order * 1.25


@pytest.mark.parametrize("divergence", ["w2", "kl"])
@pytest.mark.parametrize("solver", ["euler", "heun"])
@pytest.mark.parametrize("prior_spectrum", ["white", "pink"])
def test_optimised_schedule_beats_the_uniform_grid(divergence, solver, prior_spectrum):
    S = torch.ones_like(LAM) if prior_spectrum == "white" else S_PINK
    n_steps = 8
    grid = optimize_schedule(LAM, S, n_steps, divergence=divergence, solver=solver, weights=WEIGHTS)
    assert grid.shape == (n_steps + 1,) and grid.dtype == torch.float64
    assert grid[0] == 1.0 and grid[-1] == 0.0 and bool((grid[1:] < grid[:-1]).all())

    def d(times):
        out = output_spectrum(times, data_variance=LAM, noise_variance=S, solver=solver)
        return gaussian_divergence(out, LAM, divergence=divergence, weights=WEIGHTS).item()

    assert d(grid) < 0.9 * d(uniform_time_grid(n_steps))


def test_optimised_schedule_with_many_steps_reproduces_the_data_spectrum():
    grid = optimize_schedule(LAM, S_PINK, 64, divergence="kl", solver="heun", weights=WEIGHTS)
    out = output_spectrum(grid, data_variance=LAM, noise_variance=S_PINK, solver="heun")
    assert (out / LAM - 1).abs().max().item() < 0.01


def test_divergences_vanish_only_at_the_data_spectrum():
    for divergence in ("w2", "kl"):
        assert gaussian_divergence(LAM, LAM, divergence=divergence).item() == 0.0
        assert gaussian_divergence(1.1 * LAM, LAM, divergence=divergence).item() > 0.0
    # closed forms for one frequency: W2^2 = (sqrt(a) - sqrt(b))^2, KL = (a/b - 1 - log(a/b)) / 2
    a, b = torch.tensor([4.0]), torch.tensor([1.0])
    assert gaussian_divergence(a, b, divergence="w2").item() == pytest.approx(1.0)
    assert gaussian_divergence(a, b, divergence="kl").item() == pytest.approx(0.5 * (4 - 1 - math.log(4)))


def test_grid_from_logits_is_monotone_and_zero_logits_give_the_uniform_grid():
    torch.testing.assert_close(grid_from_logits(torch.zeros(5)), uniform_time_grid(5), rtol=0, atol=1e-15)
    grid = grid_from_logits(torch.randn(9, generator=torch.Generator().manual_seed(0)))
    assert grid[0] == 1.0 and grid[-1] == 0.0 and bool((grid.diff() < 0).all())


def test_schedule_design_errors():
    with pytest.raises(AudiospecError, match="strictly positive"):
        optimize_schedule(torch.zeros(4), torch.ones(4), 4)
    with pytest.raises(AudiospecError, match="n_steps must be a positive integer"):
        optimize_schedule(LAM, S_PINK, 0)
    with pytest.raises(AudiospecError, match="unknown divergence 'tv'"):
        optimize_schedule(LAM, S_PINK, 4, divergence="tv")
    with pytest.raises(AudiospecError, match="unknown ODE solver 'rk4'"):
        transfer_function(uniform_time_grid(4), data_variance=LAM, noise_variance=S_PINK, solver="rk4")
    with pytest.raises(AudiospecError, match="do not broadcast"):
        transfer_function(uniform_time_grid(4), data_variance=LAM, noise_variance=torch.ones(3))
