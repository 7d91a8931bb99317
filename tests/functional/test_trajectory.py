"""Trajectory analysis: commit times and the empirical autoregression-order score, on known answers.

The known answer: for a Gaussian field with a power-law spectrum P, the exact denoiser
is linear and diagonal in Fourier space, so the probability-flow ODE of rectified flow can
be integrated per frequency. Under white noise, low frequencies settle first (score ≈ +1);
under noise matched to P every frequency has the same transfer, so x̂0 bands settle together
(score ≈ 0).
"""

import pytest
import torch

from audiospec.errors import AudiospecError
from audiospec.functional import matched_noise, normalize_spectrum, power_law_spectrum
from audiospec.functional.trajectory import band_log_power, commit_times, empirical_autoregression_order

M, T = 32, 64


def _exact_gaussian_trajectory(P: torch.Tensor, S: torch.Tensor, *, n: int, steps: int, seed: int):
    """Euler on dx/dt = v(x, t) with the exact linear velocity, recording x̂0(t). P, S: [M, T//2+1]."""
    g = torch.Generator().manual_seed(seed)
    x = matched_noise((n, M, T), spectrum=S, ndim=2, generator=g, dtype=torch.float64)  # x_1 = eps
    S = normalize_spectrum(S, (M, T))  # the prior sample has unit variance: match its velocity to it
    times = torch.linspace(1.0, 0.0, steps + 1, dtype=torch.float64)
    x0_hats = []
    for i in range(steps):
        t, t_next = times[i], times[i + 1]
        X = torch.fft.rfft2(x, norm="ortho")
        V = (1 - t) ** 2 * P + t**2 * S  # Var of x_t per frequency
        x0_hats.append(torch.fft.irfft2((1 - t) * P / V * X, s=(M, T), norm="ortho"))
        velocity = torch.fft.irfft2((t * S - (1 - t) * P) / V * X, s=(M, T), norm="ortho")
        x = x + (t_next - t) * velocity  # t decreases: dt < 0
    x0_hats.append(x)
    return torch.stack(x0_hats), times


@pytest.mark.parametrize("view", ["cepstrum", "rapsd"])
def test_exact_gaussian_denoiser_is_coarse_to_fine_under_white_noise_only(view):
    P = power_law_spectrum((M, T), beta=2.5) * 50.0
    white = torch.ones_like(P)
    traj, times = _exact_gaussian_trajectory(P, white, n=16, steps=64, seed=0)
    freqs, logp = band_log_power(traj, view=view, n_bands=8)
    score_white = empirical_autoregression_order(freqs, commit_times(logp, times, delta=0.1))
    traj, times = _exact_gaussian_trajectory(P, P.clone(), n=16, steps=64, seed=0)
    freqs, logp = band_log_power(traj, view=view, n_bands=8)
    commit = commit_times(logp, times, delta=0.1)
    score_matched = empirical_autoregression_order(freqs, commit)
    assert score_white > 0.9, score_white  # measured: 0.96 (cepstrum), 1.0 (rapsd)
    assert abs(score_matched) < 0.3, score_matched  # measured: 0.0 (all bands tie)
    # matched: every band settles within a narrow window of time
    mean_commit = commit.mean(0)
    assert float(mean_commit.max() - mean_commit.min()) < 0.15


def test_commit_time_is_first_step_after_which_the_band_stays_put():
    times = torch.tensor([1.0, 0.75, 0.5, 0.25, 0.0])
    log_power = torch.tensor([[0.0, 5.0], [2.0, 5.0], [0.95, 2.0], [1.0, 2.05], [1.0, 2.0]])[:, None, :]  # [S, 1, B]
    commit = commit_times(log_power, times, delta=0.1)
    # band 0 settles at step 2 (t=0.5) even though step 0 was close by chance; band 1 at step 2
    assert commit.tolist() == [[0.5, 0.5]]
    assert commit_times(torch.ones(5, 1, 2), times, delta=0.1).tolist() == [[1.0, 1.0]]


def test_bad_trajectories_are_rejected():
    with pytest.raises(AudiospecError, match="one time per step"):
        commit_times(torch.zeros(3, 2), torch.tensor([1.0, 0.0]))
    with pytest.raises(AudiospecError, match="non-increasing"):
        commit_times(torch.zeros(2, 2), torch.tensor([0.0, 1.0]))
    with pytest.raises(AudiospecError, match="unknown spectral view"):
        band_log_power(torch.zeros(2, 8, 8), view="wavelet")  # type: ignore[arg-type]
