"""Timestep samplers: densities, histograms, the resolution shift and its inverse, spectral weighting."""

from __future__ import annotations

import math

import pytest
import torch

from audiospec.diffusion import (
    LogitNormalTimesteps,
    ShiftedTimesteps,
    SpectralWeightedTimesteps,
    TimestepConfig,
    UniformTimesteps,
    make_timestep_sampler,
    resolution_shift,
    shift_time,
    unshift_time,
)
from audiospec.diffusion.priors import ColoredNoise, MatchedNoise, WhiteNoise
from audiospec.diffusion.timesteps import MIN_DROWNING_SPREAD, T_EPS
from audiospec.errors import AudiospecError
from audiospec.functional import log_snr
from helpers_diffusion import structured_patches

GRID = (torch.arange(20000, dtype=torch.float64) + 0.5) / 20000  # midpoints of (0, 1)


def _cdf_from_pdf(sampler, t: torch.Tensor) -> torch.Tensor:
    cdf = torch.cumsum(sampler.pdf(GRID), 0) / GRID.numel()
    return torch.from_numpy(__import__("numpy").interp(t.numpy(), GRID.numpy(), cdf.numpy()))


def _ks_distance(sampler, n: int = 20000, seed: int = 0) -> float:
    """Kolmogorov-Smirnov distance between n samples and the sampler's own density."""
    t = sampler.sample(n, generator=torch.Generator().manual_seed(seed)).double().sort().values
    empirical = torch.arange(1, n + 1, dtype=torch.float64) / n
    return float((empirical - _cdf_from_pdf(sampler, t)).abs().max())


def _ratio_patches():
    return structured_patches(64, (32, 64), beta=2.0, seed=3)


SAMPLERS = {
    "uniform": UniformTimesteps(),
    "logit_normal": LogitNormalTimesteps(mu=0.0, sigma=1.0),
    "logit_normal_shifted_mu": LogitNormalTimesteps(mu=0.5, sigma=0.7),
    "shifted_uniform": ShiftedTimesteps(base=UniformTimesteps(), shift=3.0),
    "shifted_logit_normal": ShiftedTimesteps(base=LogitNormalTimesteps(), shift=0.5),
    "spectral": SpectralWeightedTimesteps.from_data(_ratio_patches(), base=LogitNormalTimesteps()),
    "spectral_drowning_white": SpectralWeightedTimesteps.from_data(_ratio_patches(), base=LogitNormalTimesteps(),
                                                                   prior=WhiteNoise()),
    "spectral_drowning_pink": SpectralWeightedTimesteps.from_data(_ratio_patches(), base=UniformTimesteps(),
                                                                  prior=ColoredNoise(beta=1.0)),
}


@pytest.mark.parametrize("name", list(SAMPLERS))
def test_samples_follow_the_density(name):
    sampler = SAMPLERS[name]
    assert abs(float(sampler.pdf(GRID).mean()) - 1.0) < 1e-3  # the density integrates to one
    t = sampler.sample(1000, generator=torch.Generator().manual_seed(1))
    assert t.shape == (1000,) and t.dtype == torch.float32
    assert float(t.min()) >= T_EPS and float(t.max()) <= 1 - T_EPS
    # KS critical value at alpha = 0.001 for n = 20000: 1.95 / sqrt(n) = 0.0138
    assert _ks_distance(sampler) < 0.0138


def test_samplers_are_deterministic_given_a_generator():
    for sampler in SAMPLERS.values():
        a = sampler.sample(64, generator=torch.Generator().manual_seed(2))
        b = sampler.sample(64, generator=torch.Generator().manual_seed(2))
        assert torch.equal(a, b)


def test_logit_normal_median_is_sigmoid_mu():
    t = LogitNormalTimesteps(mu=1.0, sigma=0.5).sample(20001, generator=torch.Generator().manual_seed(3))
    assert abs(float(t.median()) - 1 / (1 + math.exp(-1.0))) < 0.01


def test_shift_round_trip_and_sign_convention():
    t = torch.linspace(0, 1, 1001, dtype=torch.float64)
    for s in (0.25, 0.5, 1.0, math.sqrt(2), 3.0, 10.0):
        torch.testing.assert_close(unshift_time(shift_time(t, shift=s), shift=s), t, rtol=0, atol=1e-14)
        torch.testing.assert_close(shift_time(unshift_time(t, shift=s), shift=s), t, rtol=0, atol=1e-14)
    inner = t[1:-1]
    shifted = shift_time(inner, shift=2.0)
    assert bool((shifted > inner).all())  # s > 1: towards noise (t = 1)
    # endpoints fixed, and the shift is log-SNR - 2 log s (equivalently logit(t') = logit(t) + log s)
    assert float(shift_time(0.0, shift=2.0)) == 0.0 and float(shift_time(1.0, shift=2.0)) == 1.0
    torch.testing.assert_close(log_snr(shifted), log_snr(inner) - 2 * math.log(2.0), rtol=0, atol=1e-10)


def test_resolution_shift_is_sqrt_of_pixel_ratio():
    assert resolution_shift((64, 256), reference_shape=(64, 128)) == pytest.approx(math.sqrt(2))
    assert resolution_shift((1024, 1024), reference_shape=(512, 512)) == pytest.approx(2.0)  # Esser et al.'s example
    assert resolution_shift((64, 128), reference_shape=(64, 128)) == 1.0


def test_shifted_logit_normal_equals_logit_normal_with_shifted_mean():
    s = 3.0
    shifted = ShiftedTimesteps(base=LogitNormalTimesteps(mu=0.2, sigma=0.8), shift=s)
    direct = LogitNormalTimesteps(mu=0.2 + math.log(s), sigma=0.8)
    torch.testing.assert_close(shifted.pdf(GRID), direct.pdf(GRID), rtol=1e-9, atol=1e-12)


def test_spectral_weighting_multiplies_the_base_density_by_the_ratio():
    freqs = torch.linspace(0.01, 0.5, 50, dtype=torch.float64)
    flat = SpectralWeightedTimesteps(base=LogitNormalTimesteps(), freqs=freqs, ratio=torch.ones(50))
    torch.testing.assert_close(flat.pdf(GRID), LogitNormalTimesteps().pdf(GRID), rtol=2e-3, atol=1e-3)
    # excess power at the lowest frequencies (R > 1 there) -> more weight near t = 1 (noise), where they form
    ratio = 1.0 + 4.0 * (freqs < 0.05).double()
    low = SpectralWeightedTimesteps(base=UniformTimesteps(), freqs=freqs, ratio=ratio)
    assert float(low.pdf(torch.tensor(0.99))) > 3.0 * float(low.pdf(torch.tensor(0.5)))
    assert float(low.frequency(torch.tensor(1.0))) == pytest.approx(0.01)
    assert float(low.frequency(torch.tensor(0.0))) == pytest.approx(0.5)


def test_spectral_ratio_from_data_is_near_one_for_a_power_law():
    sampler = SAMPLERS["spectral"]
    assert sampler.ratio.min() > 0.5 and sampler.ratio.max() < 2.0  # a pure power law fits its polynomial well


def test_make_timestep_sampler_composes_the_config():
    patches = _ratio_patches()
    sampler = make_timestep_sampler(
        TimestepConfig(kind="logit_normal", mu=0.1, sigma=0.9, shift=2.0, spectral_weighting=True), patches=patches
    )
    assert isinstance(sampler, ShiftedTimesteps) and isinstance(sampler.base, SpectralWeightedTimesteps)
    assert sampler.base.base == LogitNormalTimesteps(mu=0.1, sigma=0.9)
    assert make_timestep_sampler(TimestepConfig()) == UniformTimesteps()


def test_timestep_errors_name_the_value():
    with pytest.raises(AudiospecError, match="sigma > 0"):
        LogitNormalTimesteps(sigma=0.0)
    with pytest.raises(AudiospecError, match="time shift s must be a finite positive number"):
        shift_time(0.5, shift=-1.0)
    with pytest.raises(AudiospecError, match="unknown timestep sampler 'cosine'"):
        TimestepConfig(kind="cosine")
    with pytest.raises(AudiospecError, match="pass patches"):
        make_timestep_sampler(TimestepConfig(spectral_weighting=True))
    with pytest.raises(AudiospecError, match="positive integer"):
        UniformTimesteps().sample(0)
    with pytest.raises(AudiospecError, match="strictly increasing"):
        SpectralWeightedTimesteps(base=UniformTimesteps(), freqs=torch.tensor([0.0, 0.1]), ratio=torch.ones(2))


def test_drowning_map_sends_each_time_to_the_ring_deciding_then():
    patches = _ratio_patches()
    sampler = SpectralWeightedTimesteps.from_data(patches, base=UniformTimesteps(), prior=WhiteNoise())
    t_star = sampler.drowning
    # a power law under white noise: coarse rings drown later (larger t*), so the map is monotone decreasing
    assert bool((t_star[1:] <= t_star[:-1] + 1e-12).all()) and float(t_star[0] - t_star[-1]) > 0.1
    # at each ring's own drowning time the map gives that ring back
    inner = slice(1, -1)
    torch.testing.assert_close(sampler.frequency(t_star[inner]), sampler.freqs[inner], rtol=1e-9, atol=1e-12)


def test_flat_ratio_or_a_matched_prior_leave_the_base_density_exactly():
    patches = _ratio_patches()
    base = LogitNormalTimesteps(mu=0.3, sigma=0.8)
    flat = SpectralWeightedTimesteps(base=base, freqs=torch.linspace(0.01, 0.5, 30), ratio=torch.ones(30))
    centres = (torch.arange(flat.grid_size, dtype=torch.float64) + 0.5) / flat.grid_size  # the tabulation grid
    p0 = base.pdf(centres)
    torch.testing.assert_close(flat.pdf(centres), p0 / p0.mean(), rtol=1e-12, atol=0)  # p0 itself, renormalised
    assert float(p0.mean()) == pytest.approx(1.0, abs=1e-3)
    matched = SpectralWeightedTimesteps.from_data(patches, base=base, prior=MatchedNoise.from_data(patches))
    # S = P: every ring drowns at about one time (t* = 1/2 up to the fit's error): no map, no weighting
    assert float(matched.drowning.max() - matched.drowning.min()) < MIN_DROWNING_SPREAD
    torch.testing.assert_close(matched.pdf(centres), p0 / p0.mean(), rtol=1e-12, atol=0)


def test_drowning_map_with_a_flat_ratio_is_the_base_density_exactly():
    """A real spectral order (white prior: t*(f) spans most of (0, 1)) but R = 1: the weight is 1 at every t."""
    freqs = torch.linspace(0.02, 0.5, 25, dtype=torch.float64)
    drowning = 0.9 - 0.8 * (freqs - 0.02) / 0.48  # coarse rings drown late, fine ones early
    base = LogitNormalTimesteps(mu=-0.2, sigma=1.1)
    flat = SpectralWeightedTimesteps(base=base, freqs=freqs, ratio=torch.ones(25), drowning=drowning)
    centres = (torch.arange(flat.grid_size, dtype=torch.float64) + 0.5) / flat.grid_size
    p0 = base.pdf(centres)
    assert float(drowning.max() - drowning.min()) > MIN_DROWNING_SPREAD  # the map is in use, not switched off
    torch.testing.assert_close(flat.pdf(centres), p0 / p0.mean(), rtol=1e-12, atol=0)


def test_drowning_map_with_linear_drowning_times_is_the_notebooks_map():
    """t*(f) = (f_max - f) / (f_max - f_min) inverts to the notebook's f(t) = f_min + (1 - t)(f_max - f_min), so the
    two weightings are one density (up to the interpolation of R at the same frequencies)."""
    freqs = torch.linspace(0.02, 0.5, 40, dtype=torch.float64)
    ratio = 1.0 + 0.5 * torch.sin(12 * freqs)  # any positive R
    linear_times = (freqs[-1] - freqs) / (freqs[-1] - freqs[0])
    notebook = SpectralWeightedTimesteps(base=UniformTimesteps(), freqs=freqs, ratio=ratio)
    drowning = SpectralWeightedTimesteps(base=UniformTimesteps(), freqs=freqs, ratio=ratio, drowning=linear_times)
    torch.testing.assert_close(drowning.frequency(GRID), notebook.frequency(GRID), rtol=1e-9, atol=1e-12)
    torch.testing.assert_close(drowning.pdf(GRID), notebook.pdf(GRID), rtol=1e-9, atol=1e-12)


def test_drowning_density_is_the_base_times_the_ratio_at_each_rings_drowning_time():
    """p(t*(f_k)) ∝ p0(t*(f_k)) R(f_k): at its own drowning time every ring carries its own ratio."""
    freqs = torch.linspace(0.02, 0.5, 30, dtype=torch.float64)
    ratio = torch.linspace(2.0, 0.5, 30, dtype=torch.float64) ** 2
    drowning = 0.95 - 0.9 * ((freqs - 0.02) / 0.48) ** 0.5  # a curved, decreasing t*(f)
    base = LogitNormalTimesteps(mu=0.3, sigma=0.9)
    sampler = SpectralWeightedTimesteps(base=base, freqs=freqs, ratio=ratio, drowning=drowning, grid_size=200_000)
    t_k = drowning[1:-1]
    expected = base.pdf(t_k) * ratio[1:-1]
    measured = sampler.pdf(t_k)
    # one normalising constant for every ring; the tabulated density is constant on cells of width 5e-6
    torch.testing.assert_close(measured / measured.mean(), expected / expected.mean(), rtol=2e-3, atol=0)

