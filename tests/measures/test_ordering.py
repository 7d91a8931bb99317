"""The order measure on known answers: the exact linear-Gaussian denoiser through the same pipeline.

Data: stationary Gaussian fields with a power-law spectrum (alpha = 2.5) plus a non-zero mean
mel profile (the confound of the measurement issue), centred per mel bin as the model space is
(audiospec.data.patches). Under the exact denoiser, theory says: white prior +1 (coarse
to fine), matched prior 0 (every band at once), flipped prior (beta = alpha + 1) -1.
"""

from __future__ import annotations

import pytest
import torch

from audiospec.measures.gaussian import LinearGaussianVelocity, gaussian_fields
from audiospec.diffusion.priors import ColoredNoise, MatchedNoise, WhiteNoise
from audiospec.measures.ordering import OrderSettings, bootstrap_mean, measure_field, record_trajectory
from audiospec.functional import estimate_spectrum, power_law_spectrum, ring_weights
from audiospec.functional.trajectory import band_log_power, commit_times, ordering_scores
from audiospec.functional.rapsd import MEL_RING_STEP

M, T, ALPHA = 32, 64, 2.5
SETTINGS = OrderSettings(n_bands=8, threshold=0.1, delta=0.1, n_bootstrap=50)


@pytest.fixture(scope="module")
def centred():
    g = torch.Generator().manual_seed(0)
    fields = gaussian_fields(power_law_spectrum((M, T), beta=ALPHA), (256, 1, M, T), generator=g, dtype=torch.float64)
    profile = 0.75 * torch.linspace(2.0, -1.0, M) ** 3 / 8.0  # a mean mel profile (removed by the centring)
    raw = fields + profile[:, None]
    return raw - raw.mean(dim=(0, 3), keepdim=True)  # per-mel-bin centring, as corpus_patches does


PRIORS = {
    "white": (lambda x: WhiteNoise(), +1.0),
    "matched": (lambda x: MatchedNoise.from_data(x), 0.0),
    "flipped": (lambda x: ColoredNoise(beta=ALPHA + 1.0), -1.0),
}


@pytest.mark.parametrize("name", list(PRIORS))
def test_exact_denoiser_on_non_zero_mean_data_scores_the_theoretical_order(centred, name):
    make, expected = PRIORS[name]
    prior = make(centred)
    field = LinearGaussianVelocity(estimate_spectrum(centred[:, 0], ndim=2), prior=prior, signal_shape=(M, T))
    measured, _ = measure_field(field, prior, n=32, steps=64, shape=(M, T), settings=SETTINGS, seed=1)
    for view, scores in measured.views.items():
        # measured (content / power): white +1.00 / +1.00 in every view; matched 0.00 / 0.00 (all bands tie);
        # flipped -1.00 / -1.00 (rapsd, cepstrum), -0.98 / -1.00 (modulation)
        assert abs(scores.order.mean - expected) <= 0.1, (name, view, "content", scores.order)
        assert abs(scores.power_order - expected) <= 0.1, (name, view, "power", scores.power_order)
        assert scores.order.low <= scores.order.mean <= scores.order.high
        if expected == 0.0:
            assert abs(scores.spread.mean) < 1e-9  # every band commits at the same step
        else:
            assert scores.spread.mean * expected > 0  # the spread has the order's sign


def test_matched_prior_of_centred_data_gives_equal_snr_in_every_band(centred):
    lam = estimate_spectrum(centred[:, 0], ndim=2)
    S = MatchedNoise.from_data(centred).spectrum((M, T))
    rings, _ = ring_weights(M, T, mode="normalized", ring_step=MEL_RING_STEP)
    ratio = (lam.reshape(-1) @ rings) / (S.reshape(-1) @ rings)  # SNR(f, t) / ((1-t)^2 / t^2) per ring
    # the same at every t, since both sides scale with t alike: relative spread 0 up to the 1e-8 floor
    assert float(ratio.std() / ratio.mean()) < 1e-6


def test_an_uncentred_mean_profile_fakes_an_order_under_the_matched_prior(centred):
    """The confound of the old measurement: x̂0 that keeps the mean profile (the profile is 'committed' at t = 1)."""
    prior = MatchedNoise.from_data(centred)
    field = LinearGaussianVelocity(estimate_spectrum(centred[:, 0], ndim=2), prior=prior, signal_shape=(M, T))
    trajectory, times = record_trajectory(field, prior, n=32, steps=64, shape=(M, T), generator=torch.Generator().manual_seed(1))
    profile = torch.linspace(2.0, -1.0, M, dtype=torch.float64) ** 3
    profile = 0.5 * profile / profile.std()  # std 0.5 against unit-variance fields
    orders = {}
    for name, traj in (("centred", trajectory), ("uncentred", trajectory + profile[:, None])):
        for view in ("cepstrum", "rapsd"):
            freqs, log_power = band_log_power(traj, view=view, n_bands=8)
            orders[name, view] = ordering_scores(freqs, commit_times(log_power.mean(1), times, delta=0.1))[0]
    assert orders["centred", "cepstrum"] == orders["centred", "rapsd"] == 0.0
    # measured: +0.95 (cepstrum) and +0.29 (rapsd; +0.47 / +0.56 at delta 0.05 / 0.2) from the profile alone
    assert orders["uncentred", "cepstrum"] > 0.5 and orders["uncentred", "rapsd"] > 0.2, orders


def test_seed_pooled_interval_contains_the_mean_and_is_clipped_to_the_score_range():
    replicates = [torch.full((100,), 0.9), torch.linspace(0.8, 1.0, 100)]
    interval = bootstrap_mean([0.9, 0.9], replicates, seed=0)
    assert interval.low <= interval.mean <= interval.high <= 1.0 and interval.mean == pytest.approx(0.9)
