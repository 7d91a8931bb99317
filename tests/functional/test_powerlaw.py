"""Power-law fits: recovery of alpha from synthetic 1/f^alpha fields, bootstrap CI, log-log polynomial vs numpy."""

from __future__ import annotations

import numpy as np
import pytest
import torch

from audiospec.functional import colored_noise, fit_loglog_polynomial, fit_power_law, log_resample, rapsd

ALPHAS = [1.0, 1.5, 2.0, 2.5, 3.0]


@pytest.mark.parametrize("alpha", ALPHAS)
@pytest.mark.parametrize(
    "mode,shape", [("pysteps", (128, 128)), ("normalized", (128, 128)), ("normalized", (64, 256))],
    ids=["pysteps-128x128", "normalized-128x128", "normalized-64x256"],
)
def test_fit_power_law_recovers_alpha_of_synthetic_fields(alpha, mode, shape):
    """16 fields of 2-D 1/f^alpha noise: |alpha_hat - alpha| < 0.1.

    f_min skips the 3 rings nearest DC: they hold only a handful of bins, so the log of their
    average is biased low (E[log mean] < log E, up to 0.25 decades for a single complex bin), and
    pysteps' rounded radius merges radii 1 and sqrt(2) into ring 1. Those rings would otherwise
    weigh 2 of ~6 octaves in the log-spaced fit (measured bias up to 0.18 on 64 x 64 fields).
    """
    H, W = shape
    g = torch.Generator().manual_seed(int(alpha * 10))
    fields = colored_noise((16, H, W), beta=alpha, ndim=2, generator=g, dtype=torch.float64)
    spectrum = rapsd(fields, mode=mode)
    fit = fit_power_law(spectrum.freqs, spectrum.power, f_min=4 / max(H, W), n_bootstrap=0)
    assert abs(fit.alpha - alpha) < 0.1, f"alpha_hat = {fit.alpha:.3f} for alpha = {alpha}"
    assert fit.r2 > 0.98


def test_fit_power_law_is_exact_on_a_pure_power_law():
    freqs = torch.fft.rfftfreq(256, dtype=torch.float64)
    power = 10**0.7 * freqs.clamp_min(1e-12) ** -2.35  # DC value is dropped by the fit
    fit = fit_power_law(freqs, power, n_bootstrap=0)
    assert fit.alpha == pytest.approx(2.35, abs=1e-10)
    assert fit.intercept == pytest.approx(0.7, abs=1e-10)
    assert fit.r2 == pytest.approx(1.0, abs=1e-12)
    assert fit.ci is None
    # the resampled points are evenly spaced in log f, from the first positive bin to Nyquist
    steps = torch.diff(torch.log10(fit.freqs))
    torch.testing.assert_close(steps, torch.full_like(steps, float(steps[0])), rtol=1e-9, atol=0)
    assert float(fit.freqs[0]) == pytest.approx(1 / 256) and float(fit.freqs[-1]) == pytest.approx(0.5)


def test_fit_power_law_respects_band_limits():
    """A broken power law (slope -1 below 0.05, -3 above): the band picks the requested branch."""
    freqs = torch.fft.rfftfreq(1024, dtype=torch.float64)[1:]
    power = torch.where(freqs < 0.05, freqs**-1.0, 0.05**2 * freqs**-3.0)
    assert fit_power_law(freqs, power, f_max=0.045, n_bootstrap=0).alpha == pytest.approx(1.0, abs=1e-9)
    assert fit_power_law(freqs, power, f_min=0.06, n_bootstrap=0).alpha == pytest.approx(3.0, abs=1e-9)


def _clips(n: int, seed: int) -> tuple[torch.Tensor, torch.Tensor]:
    g = torch.Generator().manual_seed(seed)
    fields = colored_noise((n, 32, 32), beta=2.0, ndim=2, generator=g, dtype=torch.float64)
    spec = rapsd(fields, mode="normalized")
    return spec.freqs, spec.power


def test_bootstrap_ci_contains_the_estimate_and_shrinks_with_more_clips():
    """Percentile bootstrap over clips: the interval brackets alpha_hat, and 8x more clips make it
    narrower by about sqrt(8) = 2.8 (asserted: by more than 1.8x)."""
    widths = {}
    for n in (8, 64):
        freqs, power = _clips(n, seed=n)
        fit = fit_power_law(freqs, power, f_min=4 / 32, n_bootstrap=500, generator=torch.Generator().manual_seed(0))
        low, high = fit.ci
        assert low < fit.alpha < high
        widths[n] = high - low
    assert widths[64] < widths[8] / 1.8, f"CI widths {widths}"


def test_bootstrap_is_reproducible_with_a_generator():
    freqs, power = _clips(8, seed=1)
    a = fit_power_law(freqs, power, n_bootstrap=200, generator=torch.Generator().manual_seed(3))
    b = fit_power_law(freqs, power, n_bootstrap=200, generator=torch.Generator().manual_seed(3))
    assert a.ci == b.ci


@pytest.mark.parametrize("degree", [1, 2, 3])
def test_fit_loglog_polynomial_matches_numpy_polyfit(degree):
    rng = np.random.default_rng(degree)
    freqs = np.fft.rfftfreq(512)[1:]
    power = 10 ** (0.3 * np.log10(freqs) ** 2 - 1.5 * np.log10(freqs) + 0.2 + 0.1 * rng.standard_normal(freqs.size))
    expected = np.polyfit(np.log10(freqs), np.log10(power), degree)  # highest power first
    fit = fit_loglog_polynomial(torch.from_numpy(freqs), torch.from_numpy(power), degree=degree)
    np.testing.assert_allclose(fit.coeffs.numpy(), expected, rtol=1e-9, atol=1e-11)
    fitted = 10 ** np.polyval(expected, np.log10(freqs))
    np.testing.assert_allclose(fit.fitted.numpy(), fitted, rtol=1e-9)
    np.testing.assert_allclose(fit.ratio.numpy(), power / fitted, rtol=1e-9)


def test_log_resample_is_exact_for_data_linear_in_log_f():
    freqs = torch.fft.rfftfreq(300, dtype=torch.float64)[1:]
    log_power = torch.stack([2.0 - 1.3 * torch.log10(freqs), 0.5 * torch.log10(freqs)])  # [2, K]
    grid, resampled = log_resample(freqs, log_power, n_points=17)
    expected = torch.stack([2.0 - 1.3 * torch.log10(grid), 0.5 * torch.log10(grid)])
    torch.testing.assert_close(resampled, expected, rtol=0, atol=1e-12)
