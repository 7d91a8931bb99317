"""Coloured / matched noise statistics, spectrum normalisation, and noise addition at an SNR or a time."""

from __future__ import annotations

import math

import numpy as np
import pytest
import torch
import torchaudio
from helpers_functional import loglog_slope

from audiospec.functional import (
    add_noise,
    add_noise_at_time,
    colored_noise,
    estimate_spectrum,
    hermitian_weights,
    log_snr,
    matched_noise,
    normalize_spectrum,
    power_law_spectrum,
    process_coefficients,
    radial_frequency,
    rapsd,
)

BETAS = [-1.0, 0.0, 1.0, 2.0]


@pytest.mark.parametrize("beta", BETAS)
def test_colored_noise_1d_slope_distribution(beta):
    """colorednoise's test_slope_distribution: per realisation, the least-squares slope of the
    log periodogram is within 3 of its own standard errors of -beta in >= 95 % of realisations,
    and the mean slope over realisations is within 3 sigma (sigma = spread / sqrt(n))."""
    n, L = 100, 4096
    g = torch.Generator().manual_seed(10)
    x = colored_noise((n, L), beta=beta, generator=g, dtype=torch.float64)  # [n, L]
    periodogram = torch.fft.rfft(x).abs().pow(2).numpy() / L
    f = np.fft.rfftfreq(L)
    slopes, ses = loglog_slope(f[1:], periodogram[:, 1:])
    inside = np.abs(slopes + beta) < 3 * ses
    assert inside.mean() >= 0.95, f"only {inside.mean():.0%} of slopes within 3 SE of {-beta}"
    sigma = slopes.std(ddof=1) / math.sqrt(n)
    assert abs(slopes.mean() + beta) < 3 * sigma, f"mean slope {slopes.mean():.4f} vs {-beta}, sigma {sigma:.4f}"


@pytest.mark.parametrize("beta", BETAS)
def test_colored_noise_2d_slope_distribution(beta):
    """2-D: regress the log periodogram of every rfft2 bin on log |f| (cycles/sample); same criteria."""
    n, H, W = 40, 64, 96
    g = torch.Generator().manual_seed(11)
    x = colored_noise((n, H, W), beta=beta, ndim=2, generator=g, dtype=torch.float64)
    periodogram = (torch.fft.rfft2(x).abs().pow(2) / (H * W)).reshape(n, -1).numpy()  # [n, H * Wr]
    f = radial_frequency((H, W)).reshape(-1).numpy()
    keep = f > 0
    slopes, ses = loglog_slope(f[keep], periodogram[:, keep])
    inside = np.abs(slopes + beta) < 3 * ses
    assert inside.mean() >= 0.95, f"only {inside.mean():.0%} of slopes within 3 SE of {-beta}"
    sigma = slopes.std(ddof=1) / math.sqrt(n)
    assert abs(slopes.mean() + beta) < 3 * sigma, f"mean slope {slopes.mean():.4f} vs {-beta}, sigma {sigma:.4f}"


@pytest.mark.parametrize("beta", BETAS)
def test_colored_noise_2d_rapsd_slope_on_mel_sized_fields(beta):
    """Normalized-mode RAPSD of 64 x 256 coloured noise: slope of the mean spectrum within 3 sigma
    (bootstrap over fields) of -beta, plus the 1e-3 deterministic ring-averaging bias measured in
    test_rapsd.test_normalized_mode_keeps_power_law_slope_on_mel_sized_fields."""
    n, H, W = 32, 64, 256
    g = torch.Generator().manual_seed(12)
    x = colored_noise((n, H, W), beta=beta, ndim=2, generator=g, dtype=torch.float64)
    result = rapsd(x, mode="normalized")
    f = np.log10(result.freqs[1:].numpy())
    power = result.power[:, 1:].numpy()
    slope = np.polyfit(f, np.log10(power.mean(0)), 1)[0]
    idx = np.random.default_rng(0).integers(0, n, size=(200, n))
    sigma = np.polyfit(f, np.log10(power[idx].mean(1)).T, 1)[0].std()
    assert abs(slope + beta) < 3 * sigma + 1e-3, f"slope {slope:.4f} vs {-beta}, sigma {sigma:.4f}"


@pytest.mark.parametrize("ndim,signal_shape", [(1, (1000,)), (2, (24, 33))], ids=["1d", "2d"])
@pytest.mark.parametrize("beta", BETAS)
def test_colored_noise_has_unit_variance(beta, ndim, signal_shape):
    """E[x^2] = 1 per element (the ensemble variance, not the per-realisation sample variance,
    which misses the power of the slowest modes for red noise). Checked to 4 standard errors."""
    n = 400
    g = torch.Generator().manual_seed(13)
    x = colored_noise((n, *signal_shape), beta=beta, ndim=ndim, generator=g, dtype=torch.float64)
    mean_square = x.pow(2).reshape(n, -1).mean(-1)  # [n], i.i.d. across realisations
    se = float(mean_square.std()) / math.sqrt(n)
    assert abs(float(mean_square.mean()) - 1.0) < 4 * se


def test_colored_noise_is_reproducible_and_returns_requested_dtype():
    a = colored_noise((3, 128), beta=1.0, generator=torch.Generator().manual_seed(5))
    b = colored_noise((3, 128), beta=1.0, generator=torch.Generator().manual_seed(5))
    c = colored_noise((3, 128), beta=1.0, generator=torch.Generator().manual_seed(6))
    assert a.dtype == torch.float32 and tuple(a.shape) == (3, 128)
    assert torch.equal(a, b)
    assert not torch.equal(a, c)


@pytest.mark.parametrize("signal_shape", [(128,), (129,), (16, 18), (15, 17)], ids=["L128", "L129", "16x18", "15x17"])
def test_power_law_spectrum_is_a_normalised_power_law(signal_shape):
    """|f|^-beta at f > 0, DC set to the value at the lowest non-zero frequency, full-plane mean 1."""
    beta = 1.7
    S = power_law_spectrum(signal_shape, beta=beta)
    f = radial_frequency(signal_shape)
    n_full = math.prod(signal_shape)
    full_plane_mean = (S * hermitian_weights(signal_shape)).sum() / n_full
    torch.testing.assert_close(full_plane_mean, torch.tensor(1.0, dtype=torch.float64))
    positive = f > 0
    ratio = S[positive] * f[positive] ** beta
    torch.testing.assert_close(ratio, torch.full_like(ratio, float(ratio[0])), rtol=1e-12, atol=0)
    f_min = f[positive].min()
    assert float(S.flatten()[0]) == pytest.approx(float(S[f == f_min][0]), rel=1e-12)


@pytest.mark.parametrize(
    "signal_shape", [(1,), (2,), (7,), (8,), (1, 1), (4, 6), (5, 7), (6, 5)], ids=lambda s: "x".join(map(str, s))
)
def test_hermitian_weights_sum_to_full_plane_size(signal_shape):
    w = hermitian_weights(signal_shape)
    assert tuple(w.shape) == tuple(radial_frequency(signal_shape).shape)
    assert float(w.sum()) == math.prod(signal_shape)


def test_hermitian_weighted_rfft_power_equals_full_fft_power():
    x = torch.randn(5, 6, generator=torch.Generator().manual_seed(0), dtype=torch.float64)
    full = torch.fft.fft2(x).abs().pow(2).sum()
    half = (torch.fft.rfft2(x).abs().pow(2) * hermitian_weights((5, 6))).sum()
    torch.testing.assert_close(half, full, rtol=1e-12, atol=0)


@pytest.mark.parametrize("signal_shape", [(64,), (12, 20)], ids=["1d", "2d"])
def test_normalize_spectrum_gives_unit_variance(signal_shape):
    """Any non-negative S rescaled to full-plane mean 1 gives noise with E[x^2] = 1 (to 4 SE)."""
    grid = tuple(radial_frequency(signal_shape).shape)
    raw = torch.rand(grid, generator=torch.Generator().manual_seed(1), dtype=torch.float64) * 50
    S = normalize_spectrum(raw, signal_shape)
    n_full = math.prod(signal_shape)
    assert float((S * hermitian_weights(signal_shape)).sum() / n_full) == pytest.approx(1.0, rel=1e-12)
    torch.testing.assert_close(S / raw, torch.full_like(S, float(S.flatten()[0] / raw.flatten()[0])))  # a pure rescale
    n = 400
    x = matched_noise((n, *signal_shape), spectrum=raw, ndim=len(signal_shape),
                      generator=torch.Generator().manual_seed(2), dtype=torch.float64)
    mean_square = x.pow(2).reshape(n, -1).mean(-1)
    assert abs(float(mean_square.mean()) - 1.0) < 4 * float(mean_square.std()) / math.sqrt(n)


@pytest.mark.parametrize("ndim", [1, 2])
def test_matched_noise_reproduces_the_target_spectrum(ndim):
    """estimate_spectrum of many samples equals the normalised target bin by bin.

    Each bin averages n draws of |c|^2 with c complex Gaussian (relative SD 1/sqrt(n)) or,
    for the real DC / Nyquist bins, chi-square(1) (relative SD sqrt(2/n)); 5 * sqrt(2/n).
    """
    n = 6000
    signal_shape = (96,) if ndim == 1 else (12, 16)
    f = radial_frequency(signal_shape)
    target = torch.exp(-((torch.log((f + 0.02) / 0.1)) ** 2)) + 0.01  # peaked, non-monotonic spectrum
    x = matched_noise((n, *signal_shape), spectrum=target, ndim=ndim,
                      generator=torch.Generator().manual_seed(3), dtype=torch.float64)
    estimate = estimate_spectrum(x, ndim=ndim)
    expected = normalize_spectrum(target, signal_shape)
    rel = (estimate / expected - 1).abs().max()
    assert float(rel) < 5 * math.sqrt(2 / n), f"max relative error {float(rel):.3f}"


def test_estimate_spectrum_of_white_noise_is_one():
    x = torch.randn(4000, 64, generator=torch.Generator().manual_seed(4), dtype=torch.float64)
    est = estimate_spectrum(x, ndim=1)
    assert float((est - 1).abs().max()) < 5 * math.sqrt(2 / 4000)


@pytest.mark.parametrize("dtype", [torch.float32, torch.float64])
def test_add_noise_matches_torchaudio(dtype):
    g = torch.Generator().manual_seed(5)
    x = torch.randn(3, 2000, generator=g, dtype=dtype)
    noise = torch.randn(3, 2000, generator=g, dtype=dtype) * 0.3
    snr = torch.tensor([0.0, 10.0, -5.0], dtype=dtype)
    expected = torchaudio.functional.add_noise(x, noise, snr)
    tol = dict(rtol=1e-5, atol=1e-5) if dtype == torch.float32 else dict(rtol=1e-12, atol=1e-12)
    torch.testing.assert_close(add_noise(x, noise, snr_db=snr), expected, **tol)


@pytest.mark.parametrize("ndim", [1, 2])
@pytest.mark.parametrize("snr_db", [-10.0, 0.0, 6.0, 30.0])
def test_add_noise_measured_snr_equals_requested(snr_db, ndim):
    g = torch.Generator().manual_seed(6)
    shape = (4, 500) if ndim == 1 else (4, 20, 30)
    x = torch.randn(shape, generator=g, dtype=torch.float64) * torch.arange(1, 5, dtype=torch.float64).reshape(
        4, *([1] * ndim)
    )
    noise = colored_noise(shape, beta=1.0, ndim=ndim, generator=g, dtype=torch.float64)
    y = add_noise(x, noise, snr_db=snr_db, ndim=ndim)
    dims = tuple(range(-ndim, 0))
    measured = 10 * torch.log10(x.pow(2).sum(dims) / (y - x).pow(2).sum(dims))
    torch.testing.assert_close(measured, torch.full_like(measured, snr_db), rtol=0, atol=1e-9)


@pytest.mark.parametrize("process", ["rectified_flow", "vp_cosine"])
def test_add_noise_at_time_gives_the_process_snr(process):
    """With x0 and eps of equal energy, 10 log10(|alpha_t x0|^2 / |x_t - alpha_t x0|^2) = lambda(t) in dB."""
    B, L = 5, 256
    g = torch.Generator().manual_seed(7)
    x0 = torch.randn(B, L, generator=g, dtype=torch.float64)
    eps = torch.randn(B, L, generator=g, dtype=torch.float64)
    eps = eps * (x0.norm(dim=-1, keepdim=True) / eps.norm(dim=-1, keepdim=True))  # equal energy per example
    t = torch.tensor([0.05, 0.3, 0.5, 0.7, 0.95], dtype=torch.float64)
    x_t = add_noise_at_time(x0, eps, t=t, process=process)
    alpha_t, sigma_t = process_coefficients(t, process=process)
    torch.testing.assert_close(x_t, alpha_t[:, None] * x0 + sigma_t[:, None] * eps, rtol=0, atol=1e-14)
    signal = alpha_t[:, None] * x0
    measured_db = 10 * torch.log10(signal.pow(2).sum(-1) / (x_t - signal).pow(2).sum(-1))
    torch.testing.assert_close(measured_db, 10 / math.log(10) * log_snr(t, process=process), rtol=0, atol=1e-9)


def test_add_noise_at_time_endpoints_and_scalar_t():
    g = torch.Generator().manual_seed(8)
    x0 = torch.randn(2, 3, 16, generator=g)
    eps = torch.randn(2, 3, 16, generator=g)
    torch.testing.assert_close(add_noise_at_time(x0, eps, t=0.0), x0)  # t = 0: clean data
    torch.testing.assert_close(add_noise_at_time(x0, eps, t=1.0), eps)  # t = 1: pure noise
    torch.testing.assert_close(add_noise_at_time(x0, eps, t=1.0, process="vp_cosine"), eps, rtol=0, atol=1e-6)


def test_colour_white_scales_each_frequency_by_the_root_of_the_spectrum():
    from audiospec.functional.noise import colour_white

    z = torch.randn(3, 16, 24, generator=torch.Generator().manual_seed(0), dtype=torch.float64)
    spectrum = power_law_spectrum((16, 24), beta=1.5) * 4.0  # used as given: not renormalised
    coloured = colour_white(z, spectrum=spectrum, ndim=2)
    ratio = torch.fft.rfft2(coloured, norm="ortho") / torch.fft.rfft2(z, norm="ortho")
    torch.testing.assert_close(ratio.abs(), spectrum.sqrt().expand_as(ratio.abs()), rtol=1e-9, atol=0)
