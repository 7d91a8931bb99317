"""Mel-cepstral distortion statistics: constant, hand value, numpy reference, properties, bad input."""

from __future__ import annotations

import math

import numpy as np
import pytest
import scipy.fft
import torch
from helpers_metrics import corrupted, mel_like_set

from audiospec.errors import AudiospecError
from audiospec.metrics import MCD_CONSTANT, mel_cepstral_distortion, mel_cepstral_distortion_stats


def test_constant_is_the_standard_one():
    """MCD = 10 / ln 10 * sqrt(2 * sum (c_i - c'_i)^2)."""
    c1, c2 = torch.tensor([1.0, 2.0, -1.0], dtype=torch.float64), torch.tensor([0.5, 2.0, 1.0], dtype=torch.float64)
    expected = 10.0 / math.log(10.0) * math.sqrt(2.0 * (0.25 + 0.0 + 4.0))
    assert float(mel_cepstral_distortion(c1, c2)) == pytest.approx(expected, abs=1e-12)
    assert MCD_CONSTANT == pytest.approx(6.1418515, abs=1e-6)


def test_by_hand_on_two_bands():
    """M = 2, n_coeffs = 1: c1 = (x0 - x1) / sqrt(2), averaged over frames.

    generated frames c1 = (0, sqrt 2) -> mean sqrt(2)/2; real c1 = (sqrt 2, sqrt 2) -> sqrt 2.
    MCD = 10/ln10 * sqrt(2 * (sqrt(2)/2)^2) = 10 / ln 10.
    """
    gen = torch.tensor([[[1.0, 3.0], [1.0, 1.0]]])
    real = torch.tensor([[[2.0, 2.0], [0.0, 0.0]]])
    stats = mel_cepstral_distortion_stats(gen, real, n_coeffs=1)
    assert stats["mcd_mean"] == pytest.approx(10.0 / math.log(10.0), abs=1e-12)
    assert stats["mcd_nn_mean"] == pytest.approx(10.0 / math.log(10.0), abs=1e-12)
    assert math.isnan(stats["mcd_nn_std"]) and math.isnan(stats["mcd_nn_real_mean"])  # one sample each


def test_matches_a_numpy_reference():
    gen, real = mel_like_set(6, M=20, T=16, seed=1), mel_like_set(9, M=20, T=16, seed=2)
    K = 13

    def vectors(x):
        return scipy.fft.dct(x[:, 0].numpy(), type=2, norm="ortho", axis=-2)[:, 1 : K + 1].mean(-1)  # [N, K]

    g, r = vectors(gen), vectors(real)
    const = 10 / np.log(10) * np.sqrt(2)
    nn = np.array([min(const * np.linalg.norm(gi - rj) for rj in r) for gi in g])
    rr = np.array([min(const * np.linalg.norm(r[i] - r[j]) for j in range(len(r)) if j != i) for i in range(len(r))])
    stats = mel_cepstral_distortion_stats(gen, real, n_coeffs=K)
    assert stats["mcd_mean"] == pytest.approx(const * np.linalg.norm(g.mean(0) - r.mean(0)), rel=1e-10)
    assert stats["mcd_nn_mean"] == pytest.approx(nn.mean(), rel=1e-10)
    assert stats["mcd_nn_std"] == pytest.approx(nn.std(ddof=1), rel=1e-10)
    assert stats["mcd_nn_real_mean"] == pytest.approx(rr.mean(), rel=1e-10)


def test_zero_for_identical_sets_and_mean_mcd_symmetric():
    a, b = mel_like_set(10, seed=3), mel_like_set(8, seed=4) * 0.5
    same = mel_cepstral_distortion_stats(a, a)
    assert same["mcd_mean"] == 0.0 and same["mcd_nn_mean"] == 0.0 and same["mcd_nn_std"] == 0.0
    assert same["mcd_nn_real_mean"] > 0
    ab, ba = mel_cepstral_distortion_stats(a, b), mel_cepstral_distortion_stats(b, a)
    assert ab["mcd_mean"] == pytest.approx(ba["mcd_mean"], rel=1e-12)


@pytest.mark.parametrize("key", ["mcd_mean", "mcd_nn_mean"])
def test_grows_monotonically_with_white_noise_corruption(key):
    real = mel_like_set(24, seed=5)
    values = [mel_cepstral_distortion_stats(corrupted(real, w), real)[key] for w in (0.0, 0.05, 0.15, 0.3, 0.6, 1.0)]
    assert values[0] == 0.0
    assert all(later > earlier for earlier, later in zip(values, values[1:])), values


@pytest.mark.parametrize("n_coeffs", [0, 8, 2.5])
def test_bad_n_coeffs_raises(n_coeffs):
    x = mel_like_set(3, M=8, T=8)
    with pytest.raises(AudiospecError, match=r"n_coeffs must be an int in \[1, 7\] for 8 mel bands"):
        mel_cepstral_distortion_stats(x, x, n_coeffs=n_coeffs)
