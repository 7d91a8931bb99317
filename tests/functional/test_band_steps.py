"""Known answers of the issue-25 measures: band-step shares, the ridge ceiling, the directional share, the smallest
attainable p of a sign-flip family."""

import itertools

import pytest
import torch

from audiospec.errors import AudiospecError
from audiospec.functional.band_steps import band_step_shares, directional_share, ridge_r2
from audiospec.functional.cepstrum import dct_matrix
from audiospec.functional.stats import holm_adjusted, sign_flip_pvalue, smallest_sign_flip_p

BANDS = [(0, 1), (1, 3), (3, 8), (8, 16)]


def _in_band(coeffs: torch.Tensor, band: tuple[int, int]) -> torch.Tensor:
    """Fields [..., M, T] whose mel DCT lives in ``band`` only: coefficients [..., T, M] back through the basis."""
    M = coeffs.shape[-1]
    mask = torch.zeros(M, dtype=torch.float64)
    mask[band[0]:band[1]] = 1.0
    return ((coeffs * mask) @ dct_matrix(M, dtype=torch.float64).T).transpose(-1, -2)


def test_an_autoregressive_trajectory_writes_each_band_in_its_own_step_only():
    g = torch.Generator().manual_seed(0)
    final = torch.randn(2, 5, 16, generator=g, dtype=torch.float64)  # [N, T, M]: quefrency coefficients
    states = [torch.zeros(2, 16, 5, dtype=torch.float64)]
    for band in BANDS:  # step k adds band k, coarse first
        states.append(states[-1] + _in_band(final, band))
    shares = band_step_shares(torch.stack(states), BANDS)
    torch.testing.assert_close(shares, torch.eye(4, dtype=torch.float64), atol=1e-12, rtol=0)


def test_a_diffusion_like_trajectory_refines_every_band_at_every_step():
    g = torch.Generator().manual_seed(1)
    final = torch.randn(3, 16, 6, generator=g, dtype=torch.float64)
    # x0_hat(t_i) = (i / S) x_final: every coefficient moves by the same amount at each of S steps
    S = 5
    trajectory = torch.stack([final * i / S for i in range(S + 1)])
    shares = band_step_shares(trajectory, BANDS)
    torch.testing.assert_close(shares, torch.full((4, S), 1 / S, dtype=torch.float64), atol=1e-12, rtol=0)
    with pytest.raises(AudiospecError, match="within"):
        band_step_shares(trajectory, [(0, 17)])


def test_ridge_ceiling_is_exact_on_a_known_linear_dependence():
    g = torch.Generator().manual_seed(2)
    x = torch.randn(400, 3, generator=g, dtype=torch.float64)
    w = torch.tensor([[1.0, -2.0], [0.5, 0.0], [0.0, 1.5]], dtype=torch.float64)
    noise = torch.randn(400, 2, generator=g, dtype=torch.float64)
    y = x @ w + noise  # explained variance per column: |w_col|^2 / (|w_col|^2 + 1)
    expected = 1 - 2 / (float(w.square().sum()) + 2)  # pooled over both columns: 1 - sum(noise var) / sum(total var)
    r2 = ridge_r2(x[:300], y[:300], x[300:], y[300:], alpha=1e-6)
    assert r2 == pytest.approx(expected, abs=0.05)  # sampling error of 100 test rows
    # independent targets: nothing predictable (R² near 0, maybe slightly negative)
    assert abs(ridge_r2(x[:300], noise[:300], x[300:], noise[300:], alpha=1.0)) < 0.05


def test_directional_share_reads_how_far_a_swap_moved_towards_the_donor():
    own, donor = torch.zeros(3, 4), torch.ones(3, 4)
    swapped = torch.stack([torch.zeros(4), torch.ones(4), 0.25 * torch.ones(4)])
    torch.testing.assert_close(directional_share(swapped, own, donor), torch.tensor([0.0, 1.0, 0.25],
                                                                                   dtype=torch.float64))
    with pytest.raises(AudiospecError, match="identical"):
        directional_share(swapped, own, own)


@pytest.mark.parametrize("n, m", [(3, 1), (5, 2), (7, 3)])
def test_smallest_attainable_p_is_reached_by_the_most_extreme_data(n, m):
    # every difference positive: the smallest sign-flip p; a family of m such tests, Holm-adjusted
    p = sign_flip_pvalue([1.0 + 0.1 * i for i in range(n)])
    assert p == pytest.approx(2 / 2**n)
    assert min(holm_adjusted([p] * m)) == pytest.approx(smallest_sign_flip_p(n, family_size=m))
    # and nothing reaches below it: the exhaustive set of sign patterns of one sample
    d = torch.arange(1.0, n + 1.0)
    assert min(sign_flip_pvalue((torch.tensor(s) * d).tolist())
               for s in itertools.product([-1.0, 1.0], repeat=n)) >= 2 / 2**n - 1e-12
    assert smallest_sign_flip_p(3) == 0.25 and smallest_sign_flip_p(7, family_size=3) == pytest.approx(0.046875)
