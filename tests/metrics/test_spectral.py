"""Set-level spectral distances: hand-computed values, a scipy reference, 0 / symmetry / monotone growth, bad input."""

from __future__ import annotations

import math

import numpy as np
import pytest
import scipy.fft
import torch
from helpers_metrics import corrupted, mel_like_set

from audiospec.errors import AudiospecError
from audiospec.metrics import cepstrum_error, log_spectral_distance, mel_cepstral_distortion_stats, rapsd_error

SET_DISTANCES = [log_spectral_distance, rapsd_error, cepstrum_error]



def test_log_spectral_distance_by_hand():
    """Band means: generated (2, 2), real (0, 3) -> sqrt(((2 - 0)^2 + (2 - 3)^2) / 2) = sqrt(2.5)."""
    gen = torch.tensor([[[1.0, 3.0], [2.0, 2.0]]])  # [1, M=2, T=2]
    real = torch.tensor([[[0.0, 0.0], [4.0, 2.0]], [[0.0, 0.0], [2.0, 4.0]]])  # [2, 2, 2]
    assert log_spectral_distance(gen, real) == pytest.approx(math.sqrt(2.5), abs=1e-12)


def test_rapsd_error_by_hand():
    """2 x 2 fields, normalized rings: ring 1 averages the powers |F(0,1)|^2 / 4 and |F(1,0)|^2 / 4.

    generated [[1, 0], [0, 0]]: F(0,1) = F(1,0) = 1 -> 0.25.
    real [[1, 1], [0, 0]] -> (0 + 4/4) / 2 = 0.5 and [[2, 0], [0, 0]] -> (1 + 1) / 2 = 1; log-domain mean sqrt(0.5).
    """
    gen = torch.tensor([[[1.0, 0.0], [0.0, 0.0]]])
    real = torch.tensor([[[1.0, 1.0], [0.0, 0.0]], [[2.0, 0.0], [0.0, 0.0]]])
    expected = abs(math.log10(0.25) - 0.5 * math.log10(0.5))
    assert rapsd_error(gen, real) == pytest.approx(expected, abs=1e-12)


def test_cepstrum_error_by_hand():
    """M = 2: c1 = (x0 - x1) / sqrt(2) per frame; generated c1 = (0, sqrt 2) -> power 1, real (sqrt 2, sqrt 2) -> 2."""
    gen = torch.tensor([[[1.0, 3.0], [1.0, 1.0]]])  # bands x frames
    real = torch.tensor([[[2.0, 2.0], [0.0, 0.0]]])
    assert cepstrum_error(gen, real) == pytest.approx(math.log10(2.0), abs=1e-12)


def test_cepstrum_error_matches_a_scipy_reference():
    gen, real = mel_like_set(5, M=16, T=24, seed=1), mel_like_set(7, M=16, T=24, seed=2)

    def mean_power(x):
        c = scipy.fft.dct(x[:, 0].numpy(), type=2, norm="ortho", axis=-2)  # [N, M, T]
        return np.exp(np.log((c**2).mean(-1)).mean(0))[1:]  # log-domain mean over clips, c0 dropped

    expected = np.abs(np.log10(mean_power(gen)) - np.log10(mean_power(real))).mean()
    assert cepstrum_error(gen, real) == pytest.approx(expected, rel=1e-10)


@pytest.mark.parametrize("metric", SET_DISTANCES, ids=lambda f: f.__name__)
def test_zero_for_identical_sets_and_symmetric(metric):
    a, b = mel_like_set(12, seed=3), mel_like_set(9, seed=4) * 0.7
    assert metric(a, a) == 0.0
    assert metric(a, b) == pytest.approx(metric(b, a), rel=1e-12)
    assert metric(a, b) > 0


@pytest.mark.parametrize("metric", SET_DISTANCES, ids=lambda f: f.__name__)
def test_grows_monotonically_with_white_noise_corruption(metric):
    real = mel_like_set(24, seed=5)
    values = [metric(corrupted(real, w), real) for w in (0.0, 0.05, 0.15, 0.3, 0.6, 1.0)]
    assert values[0] == 0.0
    assert all(later > earlier for earlier, later in zip(values, values[1:])), values


@pytest.mark.parametrize("metric", SET_DISTANCES, ids=lambda f: f.__name__)
def test_channel_dim_is_optional(metric):
    a, b = mel_like_set(4, seed=6), mel_like_set(5, seed=7)
    assert metric(a, b) == metric(a[:, 0], b[:, 0])
    assert metric(a.float(), b.float()) == pytest.approx(metric(a, b), rel=1e-5)


@pytest.mark.parametrize("metric", [*SET_DISTANCES, mel_cepstral_distortion_stats], ids=lambda f: f.__name__)
@pytest.mark.parametrize(
    ("gen", "real", "match"),
    [
        (torch.zeros(3, 2, 8, 8), torch.zeros(3, 1, 8, 8), r"generated must be .*got shape \(3, 2, 8, 8\)"),
        (torch.zeros(8, 8), torch.zeros(3, 8, 8), r"generated must be .*got shape \(8, 8\)"),
        (torch.zeros(0, 8, 8), torch.zeros(3, 8, 8), r"generated is empty"),
        (torch.zeros(3, 8, 8), torch.zeros(3, 10, 8), r"same number of mel bands"),
        (torch.zeros(3, 8, 8), torch.full((3, 8, 8), math.nan), r"real contains 192 non-finite"),
        (torch.zeros(3, 1, 8), torch.zeros(3, 1, 8), r"need at least 2 mel bands"),
        (np.zeros((3, 8, 8)), torch.zeros(3, 8, 8), r"must be a torch.Tensor"),
    ],
)
def test_bad_input_raises(metric, gen, real, match):
    with pytest.raises(AudiospecError, match=match):
        metric(gen, real)
