"""expected_cepstral_power: analytic cepstral variances of stationary noise vs Monte Carlo."""

import pytest
import torch

from audiospec.errors import AudiospecError
from audiospec.functional import cepstral_power, colored_noise, expected_cepstral_power, power_law_spectrum


@pytest.mark.parametrize("beta", [0.0, 1.0, 2.0])
def test_matches_monte_carlo_within_sampling_error(beta):
    M, T, n = 32, 64, 3000
    g = torch.Generator().manual_seed(1)
    fields = colored_noise((n, M, T), beta=beta, ndim=2, generator=g, dtype=torch.float64)
    empirical = cepstral_power(fields).mean(0)  # [M]
    analytic = expected_cepstral_power(power_law_spectrum((M, T), beta=beta), (M, T))
    # each entry averages n * T chi-square(1) draws with correlated frames: 3% is > 5 sigma here
    torch.testing.assert_close(empirical, analytic, rtol=0.03, atol=0.0)


def test_white_noise_is_white_in_the_cepstral_domain():
    M, T = 16, 10
    analytic = expected_cepstral_power(torch.ones(M, T // 2 + 1, dtype=torch.float64), (M, T))
    torch.testing.assert_close(analytic, torch.ones(M, dtype=torch.float64))


def test_wrong_spectrum_shape_is_rejected():
    with pytest.raises(AudiospecError, match="does not fit a 16 x 10 field"):
        expected_cepstral_power(torch.ones(16, 10), (16, 10))
