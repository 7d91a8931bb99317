"""DCT, cepstrum (MFCC) and 2-D DCT spectrum against scipy.fft and librosa (reference tier)."""

from __future__ import annotations

import librosa
import numpy as np
import pytest
import scipy.fft
import torch
from helpers_functional import chirp_plus_noise

from audiospec.functional import cepstral_power, cepstrum, dct, dct2_spectrum, dct_matrix, log_mel_spectrogram

ATOL64 = 1e-12  # float64 on both sides, inputs of order 1-100: measured ~1e-13


@pytest.mark.parametrize("dim", [-1, 0, 1])
@pytest.mark.parametrize("n_coeffs", [None, 5])
def test_dct_matches_scipy(dim, n_coeffs):
    x = np.random.default_rng(0).standard_normal((7, 12, 9))
    expected = scipy.fft.dct(x, type=2, norm="ortho", axis=dim)
    if n_coeffs is not None:
        expected = np.take(expected, np.arange(n_coeffs), axis=dim)
    ours = dct(torch.from_numpy(x), dim=dim, n_coeffs=n_coeffs).numpy()
    np.testing.assert_allclose(ours, expected, rtol=0, atol=ATOL64)


def test_dct_float32_matches_scipy():
    x = np.random.default_rng(1).standard_normal((4, 64)).astype(np.float32)
    expected = scipy.fft.dct(x.astype(np.float64), type=2, norm="ortho")
    ours = dct(torch.from_numpy(x))
    assert ours.dtype == torch.float32
    np.testing.assert_allclose(ours.numpy(), expected, rtol=0, atol=1e-5)  # float32 matmul of 64 terms of O(1)


@pytest.mark.parametrize("n", [1, 2, 7, 64])
def test_dct_matrix_is_orthonormal_and_inverts(n):
    D = dct_matrix(n, dtype=torch.float64)  # [n, n]
    torch.testing.assert_close(D.T @ D, torch.eye(n, dtype=torch.float64), rtol=0, atol=1e-13)
    x = torch.randn(3, n, generator=torch.Generator().manual_seed(n), dtype=torch.float64)
    torch.testing.assert_close(dct(x) @ D.T, x, rtol=0, atol=1e-13)  # inverse DCT-II = D^T


def test_cepstrum_is_dct_along_the_mel_axis():
    log_mel = np.random.default_rng(2).standard_normal((2, 40, 11)) * 20 - 30  # dB-like [B, M, T]
    expected = scipy.fft.dct(log_mel, type=2, norm="ortho", axis=-2)
    np.testing.assert_allclose(cepstrum(torch.from_numpy(log_mel)).numpy(), expected, rtol=0, atol=1e-11)


@pytest.mark.parametrize("dtype", [np.float32, np.float64], ids=["float32", "float64"])
def test_cepstrum_matches_librosa_mfcc(dtype):
    x = chirp_plus_noise(seconds=1.0, dtype=dtype)
    log_mel = librosa.power_to_db(librosa.feature.melspectrogram(y=x, sr=22050))  # [128, T] dB
    expected = librosa.feature.mfcc(S=log_mel, n_mfcc=20)
    ours = cepstrum(torch.from_numpy(log_mel), n_coeffs=20).numpy()
    assert ours.shape == expected.shape == (20, log_mel.shape[-1])
    # coefficients reach ~1e3 (sum of 128 dB values); float32 matmul vs pocketfft: measured 3e-5 absolute
    atol = 1e-9 if dtype == np.float64 else 5e-4
    np.testing.assert_allclose(ours, expected, rtol=0, atol=atol)


def test_cepstrum_of_our_log_mel_matches_librosa_mfcc_from_audio():
    """End to end: cepstrum(log_mel_spectrogram(x)) vs librosa.feature.mfcc(y=x) with equal parameters.

    Tolerance: log-mel agrees to 2e-3 dB (test_mel_reference); the orthonormal DCT cannot
    amplify an error vector's norm, so each coefficient is within 2e-3 * sqrt(128) ~ 0.023.
    """
    x = chirp_plus_noise(seconds=1.0)
    expected = librosa.feature.mfcc(y=x, sr=22050, n_mfcc=20)
    ours = cepstrum(log_mel_spectrogram(torch.from_numpy(x)), n_coeffs=20).numpy()
    np.testing.assert_allclose(ours, expected, rtol=0, atol=0.023)


def test_dct2_spectrum_matches_scipy_dctn():
    field = np.random.default_rng(3).standard_normal((3, 16, 24))
    expected = scipy.fft.dctn(field, type=2, norm="ortho", axes=(-2, -1)) ** 2
    np.testing.assert_allclose(dct2_spectrum(torch.from_numpy(field)).numpy(), expected, rtol=0, atol=ATOL64)


def test_dct2_spectrum_preserves_energy():
    field = torch.randn(2, 16, 24, generator=torch.Generator().manual_seed(4), dtype=torch.float64)
    torch.testing.assert_close(dct2_spectrum(field).sum((-2, -1)), field.pow(2).sum((-2, -1)), rtol=1e-12, atol=0)


def test_cepstrum_batch_equals_per_item_loop():
    log_mel = torch.randn(2, 3, 64, 20, generator=torch.Generator().manual_seed(5), dtype=torch.float64)
    batched = cepstrum(log_mel, n_coeffs=13)
    for i in range(2):
        for j in range(3):
            torch.testing.assert_close(batched[i, j], cepstrum(log_mel[i, j], n_coeffs=13), rtol=0, atol=1e-12)


def test_cepstral_power_is_mean_square_coefficient_per_quefrency():
    log_mel = np.random.default_rng(6).standard_normal((2, 32, 10))
    expected = (scipy.fft.dct(log_mel, type=2, norm="ortho", axis=-2) ** 2).mean(-1)
    np.testing.assert_allclose(cepstral_power(torch.from_numpy(log_mel)).numpy(), expected, rtol=1e-12)
