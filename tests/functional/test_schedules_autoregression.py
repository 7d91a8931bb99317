"""Forward-process schedules (round trips) and the SNR-per-frequency analyses against closed forms.

Closed forms (DESIGN.md section 2), for P(f) = c f^-alpha and white noise S = 1:
SNR(f, t) = (alpha_t / sigma_t)^2 c f^-alpha > tau  <=>  f < f_c(t) = (c / (tau r(t)^2))^(1/alpha),
with r(t) = sigma_t / alpha_t:  t / (1 - t) for rectified flow,  tan(pi t / 2) for VP cosine.
On a grid of spacing df, f_max(t) is the largest grid frequency below min(0.5, f_c).
"""

from __future__ import annotations

import math

import pytest
import torch

from audiospec.functional import (
    autoregression_order,
    crossing_time,
    log_snr,
    max_detectable_frequency,
    power_law_spectrum,
    process_coefficients,
    snr_per_frequency,
    time_from_log_snr,
)

PROCESSES = ["rectified_flow", "vp_cosine"]
T_INTERIOR = torch.linspace(0.01, 0.99, 99, dtype=torch.float64)


def _noise_to_signal(t: torch.Tensor, process: str) -> torch.Tensor:
    """r(t) = sigma_t / alpha_t, written out independently of audiospec."""
    return t / (1 - t) if process == "rectified_flow" else torch.tan(math.pi * t / 2)


def test_process_coefficients_closed_forms():
    t = T_INTERIOR
    a, s = process_coefficients(t, process="rectified_flow")
    torch.testing.assert_close(a, 1 - t, rtol=0, atol=0)
    torch.testing.assert_close(s, t, rtol=0, atol=0)
    a, s = process_coefficients(t, process="vp_cosine")
    torch.testing.assert_close(a**2 + s**2, torch.ones_like(t), rtol=0, atol=1e-15)  # variance preserving
    torch.testing.assert_close(a, torch.cos(math.pi * t / 2), rtol=0, atol=0)


@pytest.mark.parametrize("process", PROCESSES)
def test_log_snr_and_time_from_log_snr_round_trip(process):
    lam = log_snr(T_INTERIOR, process=process)
    assert bool((torch.diff(lam) < 0).all()), "log-SNR must decrease strictly with t"
    torch.testing.assert_close(time_from_log_snr(lam, process=process), T_INTERIOR, rtol=0, atol=1e-12)
    lam_grid = torch.linspace(-20, 20, 81, dtype=torch.float64)
    torch.testing.assert_close(log_snr(time_from_log_snr(lam_grid, process=process), process=process), lam_grid,
                               rtol=0, atol=1e-8)
    a, s = process_coefficients(T_INTERIOR, process=process)
    torch.testing.assert_close(lam, torch.log(a**2 / s**2), rtol=0, atol=1e-12)


@pytest.mark.parametrize("process", PROCESSES)
def test_log_snr_endpoints(process):
    assert float(log_snr(0.0, process=process)) == math.inf
    assert float(time_from_log_snr(math.inf, process=process)) == 0.0
    assert float(time_from_log_snr(-math.inf, process=process)) == 1.0
    if process == "rectified_flow":
        assert float(log_snr(1.0, process=process)) == -math.inf


def test_snr_per_frequency_formula():
    f = torch.fft.rfftfreq(64, dtype=torch.float64)
    P = 1.0 / (f + 0.02)
    S = power_law_spectrum((64,), beta=1.0)
    t = torch.tensor([[0.2, 0.5], [0.7, 0.9]], dtype=torch.float64)
    snr = snr_per_frequency(t, data_power=P, noise_power=S, process="vp_cosine")  # [2, 2, K]
    r = _noise_to_signal(t, "vp_cosine")
    torch.testing.assert_close(snr, P / S / r[..., None] ** 2, rtol=1e-12, atol=0)
    torch.testing.assert_close(snr_per_frequency(0.5, data_power=P), P, rtol=1e-12, atol=0)  # white, r = 1


@pytest.mark.parametrize("process", PROCESSES)
@pytest.mark.parametrize("tau", [0.5, 1.0, 4.0])
@pytest.mark.parametrize("noise", ["white", "pink"])
def test_crossing_time_inverts_snr(process, tau, noise):
    """SNR(f, t*(f)) = tau at every frequency (f > 0)."""
    K = 129
    f = torch.fft.rfftfreq(2 * (K - 1), dtype=torch.float64)[1:]
    P = 5.0 * f**-2.2
    S = None if noise == "white" else power_law_spectrum((2 * (K - 1),), beta=1.0)[1:]
    t_star = crossing_time(P, noise_power=S, tau=tau, process=process)  # [K - 1]
    assert bool(((t_star > 0) & (t_star < 1)).all())
    snr = snr_per_frequency(t_star, data_power=P, noise_power=S, process=process)  # [K - 1, K - 1]
    torch.testing.assert_close(torch.diagonal(snr), torch.full_like(P, tau), rtol=1e-9, atol=0)


def test_crossing_time_of_a_silent_bin_is_zero():
    P = torch.tensor([1.0, 0.0, 2.0], dtype=torch.float64)
    t_star = crossing_time(P)
    assert float(t_star[1]) == 0.0 and float(t_star[0]) == pytest.approx(0.5)


@pytest.mark.parametrize("process", PROCESSES)
@pytest.mark.parametrize("c,alpha", [(1e-3, 1.0), (0.05, 2.0), (1.0, 2.5), (3.0, 3.0)])
@pytest.mark.parametrize("tau", [1.0, 10.0])
def test_max_detectable_frequency_closed_form_power_law(process, c, alpha, tau):
    L = 1024
    f = torch.fft.rfftfreq(L, dtype=torch.float64)  # spacing df = 1 / L
    P = c * f.clamp_min(f[1]) ** -alpha  # DC is never reported (f_max counts f > 0 only)
    f_max = max_detectable_frequency(T_INTERIOR, freqs=f, data_power=P, tau=tau, process=process)
    f_c = (c / (tau * _noise_to_signal(T_INTERIOR, process) ** 2)) ** (1 / alpha)
    expected_upper = f_c.clamp(max=0.5)
    # f_max is the largest grid frequency strictly below f_c: within one grid spacing below it
    assert bool((f_max <= expected_upper + 1e-12).all())
    resolvable = f_c >= f[1]
    assert bool((f_max[resolvable] > expected_upper[resolvable] - 1.0 / L).all())
    assert bool((f_max[~resolvable] == 0).all())
    assert bool((torch.diff(f_max) <= 0).all()), "f_max(t) must not increase with noise level"


def test_max_detectable_frequency_white_data_is_all_or_nothing():
    """Flat data spectrum P = c under white noise: every f is detectable iff c / r(t)^2 > tau."""
    f = torch.fft.rfftfreq(256, dtype=torch.float64)
    c = 4.0
    for process in PROCESSES:
        f_max = max_detectable_frequency(T_INTERIOR, freqs=f, data_power=torch.full_like(f, c), process=process)
        detectable = c / _noise_to_signal(T_INTERIOR, process) ** 2 > 1.0
        torch.testing.assert_close(f_max, torch.where(detectable, 0.5, 0.0).to(torch.float64), rtol=0, atol=0)


def test_max_detectable_frequency_endpoints():
    f = torch.fft.rfftfreq(64, dtype=torch.float64)
    P = f.clamp_min(f[1]) ** -2.0
    for process in PROCESSES:
        assert float(max_detectable_frequency(0.0, freqs=f, data_power=P, process=process)) == 0.5  # clean data
        assert float(max_detectable_frequency(1.0, freqs=f, data_power=P, process=process)) == 0.0  # pure noise


@pytest.mark.parametrize("process", PROCESSES)
def test_autoregression_order_power_law_under_white_noise_is_one(process):
    f = torch.fft.rfftfreq(512, dtype=torch.float64)
    P = 2.0 * f.clamp_min(f[1]) ** -2.35
    assert autoregression_order(f, P, process=process) == pytest.approx(1.0, abs=1e-12)
    # pink noise on a steeper power law still drowns high frequencies first
    S = power_law_spectrum((512,), beta=1.0)
    assert autoregression_order(f, P, noise_power=S, process=process) == pytest.approx(1.0, abs=1e-12)


@pytest.mark.parametrize("process", PROCESSES)
def test_autoregression_order_data_matched_noise_is_zero(process):
    f = torch.fft.rfftfreq(512, dtype=torch.float64)
    P = 2.0 * f.clamp_min(f[1]) ** -2.35 * (1 + 0.3 * torch.sin(40 * f))
    assert autoregression_order(f, P, noise_power=P, process=process) == 0.0
    # a pink prior on pink data is also data-matched (up to a constant factor)
    S = f.clamp_min(f[1]) ** -1.0
    assert autoregression_order(f, 7.0 * S, noise_power=S, process=process) == 0.0


def test_autoregression_order_rising_spectrum_is_minus_one():
    f = torch.fft.rfftfreq(512, dtype=torch.float64)
    assert autoregression_order(f, (f + 0.01) ** 2) == pytest.approx(-1.0, abs=1e-12)


def test_autoregression_order_peaked_spectrum_is_in_between():
    """A waveform-like spectrum rising to a peak near f = 0.05 and falling after: partial order.

    With 64 log-spaced points from 1/512 to 0.5 (8 octaves) the peak sits 4.7 octaves up:
    ~59 % of the points rise (anti-ordered), ~41 % fall, so the score must lie well inside (-1, 1)."""
    f = torch.fft.rfftfreq(512, dtype=torch.float64)
    peaked = torch.exp(-(torch.log(f.clamp_min(1e-4) / 0.05)) ** 2) + 1e-6
    score = autoregression_order(f, peaked)
    assert -0.8 < score < 0.8
    # moving the peak towards DC makes the spectrum mostly falling: the score rises
    earlier = torch.exp(-(torch.log(f.clamp_min(1e-4) / 0.005)) ** 2) + 1e-6
    assert autoregression_order(f, earlier) > score
