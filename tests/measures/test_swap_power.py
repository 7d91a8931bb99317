"""Known answers of the band swap with demonstrated power (issue 25): an exact autoregressive sampler of a
Gaussian whose fine bands depend linearly on its coarse ones, swapped at the stage edge, moves its fine content
towards the donor by the data's R² (the ceiling); with independent bands it does not move at all; the ceiling
recovers a known R²; the commit index finds the step that commits the coarse bands."""

from __future__ import annotations

import math

import pytest
import torch

from audiospec.diffusion.priors import WhiteNoise
from audiospec.diffusion.processes import BandWindows, RectifiedFlow
from audiospec.errors import AudiospecError
from audiospec.functional.band_steps import stage_concentration
from audiospec.functional.cepstrum import dct2, idct2
from audiospec.measures.gaussian import DCTGaussianVelocity, dct_gaussian_fields
from audiospec.measures.ordering import recorded
from audiospec.measures.swap_power import commit_index, process_band_swap, swap_ceiling, swap_state
from audiospec.diffusion.solver import solve
from audiospec.experiments.fair_swap import positive_detected, swap_row

M, T, N_BANDS = 8, 2, 2  # quefrency bands (0, 1), (1, 3), (3, 8): K = 3 stages
K_CUT = 3


def _covariance(coupling: float) -> torch.Tensor:
    """A covariance of the D = M T whitened 2-D DCT coefficients (row-major [M, T]): unit variances, every fine
    coefficient (k >= K_CUT) correlated with the coarse coefficient of its frame at ``coupling``."""
    D = M * T
    sigma = torch.eye(D, dtype=torch.float64)
    for k in range(K_CUT, M):
        for l in range(T):
            i, j = k * T + l, (k % K_CUT) * T + l
            sigma[i, j] = sigma[j, i] = coupling
    return sigma


class ExactAR:
    """E[u0 | u_s] of a zero-mean Gaussian with covariance ``sigma`` (whitened 2-D DCT coefficients) under the band
    windows' interpolant u_s = (1 − tau) u0 + tau z, returned as the network's output (the velocity)."""

    def __init__(self, process: BandWindows, sigma: torch.Tensor) -> None:
        self.process, self.sigma = process, sigma

    def __call__(self, x: torch.Tensor, s: torch.Tensor) -> torch.Tensor:
        u = dct2(x.double()).flatten(1)  # [B, D]
        tau = self.process.tau(s.double())[0, 0, :, 0].repeat_interleave(T)  # [D], the same s for the batch
        A = torch.diag(1 - tau)
        cov = A @ self.sigma @ A + torch.diag(tau.square())
        u0 = u @ torch.linalg.solve(cov, A @ self.sigma)  # [B, D]
        v = torch.where(tau > 0, (u - u0) / tau.clamp_min(1e-12), -u0)
        return idct2(v.reshape(x.shape)).to(x.dtype)


def _edge(process: BandWindows, steps_per_band: int) -> int:
    """The grid step at which the band starting at K_CUT begins: the coarse bands are final, the fine pure noise."""
    band = [a for a, _ in process.bands].index(K_CUT)
    return band * steps_per_band


@pytest.mark.parametrize("coupling", [0.0, 0.6])
def test_an_exact_autoregression_swapped_at_a_stage_edge_moves_by_the_datas_r2(coupling):
    process = BandWindows(n_mels=M, n_bands=N_BANDS, method="heun")
    sigma = _covariance(coupling)
    fine = [k * T + l for k in range(K_CUT, M) for l in range(T)]
    coarse = [k * T + l for k in range(K_CUT) for l in range(T)]
    s_ff, s_fc, s_cc = sigma[fine][:, fine], sigma[fine][:, coarse], sigma[coarse][:, coarse]
    r2 = float(torch.trace(s_fc @ torch.linalg.solve(s_cc, s_fc.T)) / torch.trace(s_ff))  # coupling² here
    m = 6
    swap = process_band_swap(process, ExactAR(process, sigma), times=process.time_grid(m * process.n_stages),
                             indices=[_edge(process, m)], n_pairs=200, shape=(M, T), k_cut=K_CUT,
                             bands=process.bands, generator=torch.Generator().manual_seed(0))
    moved = float(swap.pair_directional().mean())
    assert moved == pytest.approx(r2, abs=0.08), (moved, r2)  # 200 pairs; measured 0.000 and 0.358 vs 0 and 0.36
    data = idct2((torch.randn(3000, M * T, dtype=torch.float64, generator=torch.Generator().manual_seed(1))
                  @ torch.linalg.cholesky(sigma).T).reshape(3000, 1, M, T))
    ceiling, _ = swap_ceiling(data[:2000], data[2000:2500], data[2500:], k_cut=K_CUT)
    assert ceiling == pytest.approx(r2, abs=0.05)  # the ceiling is the same R², read off the data alone


def test_a_swap_on_a_coefficient_state_takes_the_rows_below_the_cut():
    process = BandWindows(n_mels=M, n_bands=N_BANDS)
    g = torch.Generator().manual_seed(2)
    a, b = torch.randn(2, 1, M, T, generator=g), torch.randn(2, 1, M, T, generator=g)
    swapped = swap_state(process, a, b, k_cut=K_CUT)
    assert torch.equal(swapped[..., :K_CUT, :], b[..., :K_CUT, :]) and torch.equal(swapped[..., K_CUT:, :],
                                                                                   a[..., K_CUT:, :])
    with pytest.raises(AudiospecError, match="k_cut"):
        swap_state(process, a, b, k_cut=M)


def test_the_commit_index_of_the_exact_white_flow_and_the_concentration_of_an_autoregression():
    var = (1.0 + torch.arange(M, dtype=torch.float64)[:, None]) ** -2.0 * torch.ones(1, T, dtype=torch.float64)
    flow = RectifiedFlow(prior=WhiteNoise())
    trajectory, times = recorded(lambda callback: solve(flow, DCTGaussianVelocity(var, prior=WhiteNoise()), n=64,
                                                        shape=(M, T), steps=20, callback=callback,
                                                        generator=torch.Generator().manual_seed(3)))
    early, late = commit_index(trajectory, k_cut=K_CUT, level=0.2), commit_index(trajectory, k_cut=K_CUT, level=0.8)
    assert 1 <= early < late <= 18 and float(times[early]) > float(times[late])
    x = dct_gaussian_fields(var, (4000, 1, M, T), generator=torch.Generator().manual_seed(4))
    assert float((dct2(x.double())[:, 0].var(0) / var - 1).abs().max()) < 0.12
    autoregression = torch.eye(4, dtype=torch.float64).repeat_interleave(3, dim=1)  # 4 bands, 3 steps each
    assert torch.equal(stage_concentration(autoregression / 3, n_stages=4), torch.ones(4, dtype=torch.float64))
    even = torch.full((4, 12), 1 / 12, dtype=torch.float64)
    assert torch.allclose(stage_concentration(even, n_stages=4), torch.full((4,), 0.25, dtype=torch.float64))
    with pytest.raises(AudiospecError, match="n_stages"):
        stage_concentration(even, n_stages=13)
    assert math.isfinite(float(swap_ceiling(x[:2000], x[2000:3000], x[3000:], k_cut=K_CUT)[0]))


def _swaps(coupling: float, seeds: range, n_pairs: int = 24):
    """One exact-autoregression swap at the stage edge per "seed" (its own noise), as the stage ``fair`` runs them."""
    process = BandWindows(n_mels=M, n_bands=N_BANDS, method="heun")
    m = 3
    model = ExactAR(process, _covariance(coupling))
    return [process_band_swap(process, model, times=process.time_grid(m * process.n_stages),
                              indices=[_edge(process, m)], n_pairs=n_pairs, shape=(M, T), k_cut=K_CUT,
                              bands=process.bands, generator=torch.Generator().manual_seed(seed)) for seed in seeds]


def test_the_positive_control_is_detected_above_negative_controls_only_when_it_has_power():
    # positive control: coarse-to-fine dependence R² = 0.36 (coupling 0.6); negative controls: independent bands
    # (as the control networks trained on band-independent Gaussian fields); rows as the stage builds them
    negatives = [swap_row(f"control {i}", "negative control", "equal t", _swaps(0.0, range(10 * i, 10 * i + 3)), None)
                 for i in range(2)]
    positive = swap_row("fair cepstral AR", "positive control", "stage edge", _swaps(0.6, range(3)), None)
    assert positive_detected([positive, *negatives])
    assert positive.directional.low > 0.15 and positive.p_pairs < 0.01  # measured 0.35 (0.29-0.40), p 0.0002
    assert all(abs(n.directional.mean) < 0.01 for n in negatives)  # exact: nothing to follow; measured |.| < 1e-8
    # a positive control no stronger than its negatives is not detected (intervals of 3 x 24 pairs, ±0.06 wide)
    strong = [swap_row("control", "negative control", "equal t", _swaps(0.6, range(20, 23)), None)]
    assert not positive_detected([positive, *strong])
    assert not positive_detected([swap_row("null", "positive control", "stage edge", _swaps(0.0, range(3)), None),
                                  *strong])
    assert not positive_detected([positive])  # no negative control, no detection
