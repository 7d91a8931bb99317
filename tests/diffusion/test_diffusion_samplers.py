"""Samplers on analytic fields: exactness, convergence order, point masses, and the model-level ``sample``."""

from __future__ import annotations

import math

import pytest
import torch

from audiospec.diffusion import (
    ColoredNoise,
    WhiteNoise,
    ancestral_sample,
    check_time_grid,
    euler_sample,
    grid_from_logits,
    heun_sample,
    optimize_schedule,
    sample,
    uniform_time_grid,
)
from audiospec.diffusion.samplers import VP_T_MAX
from audiospec.errors import AudiospecError
from audiospec.functional import power_law_spectrum, process_coefficients

X1 = torch.randn(4, 1, 8, 16, generator=torch.Generator().manual_seed(0), dtype=torch.float64)
RANDOM_GRID = grid_from_logits(torch.randn(7, generator=torch.Generator().manual_seed(1)))


@pytest.mark.parametrize("solver", [euler_sample, heun_sample])
@pytest.mark.parametrize("times", [uniform_time_grid(1), uniform_time_grid(5), RANDOM_GRID])
def test_constant_velocity_is_integrated_exactly(solver, times):
    u = torch.randn_like(X1)
    out = solver(lambda x, t: u, X1, times=times)
    torch.testing.assert_close(out, X1 - u, rtol=0, atol=1e-13)  # x(0) = x(1) + (0 - 1) u


@pytest.mark.parametrize("solver", [euler_sample, heun_sample])
def test_velocity_linear_in_time_is_exact_for_heun_only(solver):
    # dx/dt = t u: x(0) = x(1) - u / 2; Heun (trapezoidal) is exact, Euler is off by O(h)
    u = torch.randn_like(X1)
    out = solver(lambda x, t: t[:, None, None, None] * u, X1, times=uniform_time_grid(4))
    error = (out - (X1 - 0.5 * u)).abs().max().item()
    if solver is heun_sample:
        assert error < 1e-13
    else:
        assert error == pytest.approx(0.125 * u.abs().max().item(), rel=1e-9)  # sum_i h^2/2 = 1/(2N)


@pytest.mark.parametrize("solver, order", [(euler_sample, 1), (heun_sample, 2)])
def test_linear_field_converges_at_the_solver_order(solver, order):
    a = 1.3  # dx/dt = a x from t = 1 to 0: x(0) = x(1) exp(-a)
    exact = X1 * math.exp(-a)
    errors = [(solver(lambda x, t: a * x, X1, times=uniform_time_grid(n)) - exact).abs().max().item()
              for n in (16, 32, 64, 128)]
    observed = [math.log2(c / f) for c, f in zip(errors, errors[1:])]
    assert all(abs(p - order) < 0.1 for p in observed), observed


@pytest.mark.parametrize("times", [uniform_time_grid(1), uniform_time_grid(3), RANDOM_GRID])
def test_euler_with_the_exact_point_mass_velocity_lands_on_the_point(times):
    # data x0 = c: x_t = (1 - t) c + t eps, so v(x, t) = eps - c = (x - c) / t and x0_hat = x - t v = c
    c = torch.randn(1, 1, 8, 16, generator=torch.Generator().manual_seed(2), dtype=torch.float64)
    seen = []

    def record(i, t, x_t, x0_hat):
        seen.append((i, t))
        torch.testing.assert_close(x0_hat, c.expand_as(x0_hat), rtol=0, atol=1e-12)

    out = euler_sample(lambda x, t: (x - c) / t[:, None, None, None], X1, times=times, callback=record)
    torch.testing.assert_close(out, c.expand_as(out), rtol=0, atol=1e-12)
    assert [i for i, _ in seen] == list(range(times.numel() - 1))
    assert [t for _, t in seen] == times[:-1].tolist()


def _vp_exact_eps_point_mass(c):
    def eps_model(x, t):
        alpha, sigma = process_coefficients(t, process="vp_cosine")
        return (x - alpha[:, None, None, None] * c) / sigma[:, None, None, None]
    return eps_model


@pytest.mark.parametrize("prior", [WhiteNoise(), ColoredNoise(beta=1.0)], ids=repr)
def test_ancestral_sampler_lands_on_a_point_mass(prior):
    c = torch.randn(1, 1, 8, 16, generator=torch.Generator().manual_seed(3), dtype=torch.float64)
    x0_hats = []
    out = ancestral_sample(_vp_exact_eps_point_mass(c), X1, times=uniform_time_grid(10, t_max=VP_T_MAX), prior=prior,
                           generator=torch.Generator().manual_seed(4), callback=lambda i, t, x, x0: x0_hats.append(x0))
    torch.testing.assert_close(out, c.expand_as(out), rtol=0, atol=1e-9)
    assert len(x0_hats) == 10 and all(torch.allclose(h, c.expand_as(h), atol=1e-9) for h in x0_hats)


def test_ancestral_sampler_converges_to_a_gaussian_spectrum():
    # data x0 ~ N(0, lambda) per Fourier bin, prior white; exact eps_hat = E[eps | x_t] = sigma_t x_t / V_t per bin.
    # With the MMSE x0_hat, ancestral sampling misses Var[x0 | x_t] at each step: the output variance
    # is too low by O(1/N), so the deficit must shrink ~4x from 50 to 200 steps.
    shape = (8, 16)
    lam = power_law_spectrum(shape, beta=2.0)

    def eps_model(x, t):
        alpha, sigma = process_coefficients(t[:1], process="vp_cosine")
        gain = sigma / (alpha**2 * lam + sigma**2)  # [F, T//2+1]
        return torch.fft.irfft2(torch.fft.rfft2(x, norm="ortho") * gain, s=shape, norm="ortho")

    deficits = []
    for steps in (50, 200):
        gen = torch.Generator().manual_seed(5)
        x1 = torch.randn(1000, 1, *shape, generator=gen, dtype=torch.float64)
        out = ancestral_sample(eps_model, x1, times=uniform_time_grid(steps, t_max=VP_T_MAX), prior=WhiteNoise(),
                               generator=gen)
        power = torch.fft.rfft2(out, norm="ortho").abs().square().mean(dim=(0, 1))  # [F, T//2+1]
        deficits.append(1.0 - (power / lam).mean().item())  # sampling sd of this mean: ~0.5%
    assert 0 < deficits[1] < 0.05
    assert 2.5 < deficits[0] / deficits[1] < 5.0


def _stub_flow_model(x, t):
    return torch.zeros_like(x) + 0.1 * t[:, None, None, None]


def test_sample_wiring_shapes_determinism_and_callbacks():
    calls = []
    kwargs = dict(prior=ColoredNoise(beta=1.0), n=3, shape=(8, 16), steps=4)
    a = sample(_stub_flow_model, generator=torch.Generator().manual_seed(6), callback=lambda *args: calls.append(args), **kwargs)
    b = sample(_stub_flow_model, generator=torch.Generator().manual_seed(6), batch_size=2, **kwargs)
    assert a.shape == (3, 1, 8, 16) and torch.equal(a, b)
    assert [c[0] for c in calls] == [0, 1, 2, 3] and calls[0][1] == 1.0 and calls[0][2].shape == (3, 1, 8, 16)
    heun = sample(_stub_flow_model, sampler="heun", generator=torch.Generator().manual_seed(6), **kwargs)
    assert heun.shape == a.shape
    grid = optimize_schedule(power_law_spectrum((8, 16), beta=2.0), power_law_spectrum((8, 16), beta=1.0), 4)
    custom = sample(_stub_flow_model, times=grid, prior=ColoredNoise(beta=1.0), n=2, shape=(8, 16))
    assert custom.shape == (2, 1, 8, 16)
    vp = sample(lambda x, t: torch.zeros_like(x), sampler="ancestral", objective="vp_eps", prior=WhiteNoise(), n=2,
                shape=(8, 16), steps=5, generator=torch.Generator().manual_seed(7))
    assert vp.shape == (2, 1, 8, 16) and bool(torch.isfinite(vp).all())


def test_sampler_errors_name_the_fix():
    kwargs = dict(prior=WhiteNoise(), n=2, shape=(8, 16))
    with pytest.raises(AudiospecError, match="use 'euler' or 'heun' for flow_matching"):
        sample(_stub_flow_model, sampler="ancestral", steps=4, **kwargs)
    with pytest.raises(AudiospecError, match="give the number of sampling steps"):
        sample(_stub_flow_model, **kwargs)
    with pytest.raises(AudiospecError, match="disagrees with the time grid"):
        sample(_stub_flow_model, steps=3, times=uniform_time_grid(4), **kwargs)
    with pytest.raises(AudiospecError, match="unknown sampler 'dpm'"):
        sample(_stub_flow_model, sampler="dpm", steps=4, **kwargs)
    with pytest.raises(AudiospecError, match="must decrease strictly"):
        check_time_grid([0.0, 0.5, 1.0])
    with pytest.raises(AudiospecError, match="must start below t = 1"):
        ancestral_sample(lambda x, t: x, X1, times=uniform_time_grid(3), prior=WhiteNoise())
    with pytest.raises(AudiospecError, match="positive integer"):
        uniform_time_grid(0)
