"""power_spectrum against scipy.signal (reference tier), Parseval, sine peaks, batch consistency."""

from __future__ import annotations

import numpy as np
import pytest
import scipy.signal
import scipy.stats
import torch
from helpers_functional import chirp_plus_noise

from audiospec.functional import log_domain_mean, power_spectrum

FS = 8000.0
RTOL = 1e-10  # float64 throughout on both sides; measured ~1e-15 of the peak


def _max_rel_err(ours: np.ndarray, expected: np.ndarray) -> float:
    return float(np.abs(ours - expected).max() / np.abs(expected).max())


@pytest.mark.parametrize("window", ["hann", "boxcar"])
@pytest.mark.parametrize(
    "n_fft,hop_length", [(256, None), (200, 50), (255, 255)], ids=["half", "quarter", "odd_no_overlap"]
)
def test_welch_matches_scipy(window, n_fft, hop_length):
    x = chirp_plus_noise(sample_rate=int(FS), seconds=0.6, seed=1) + 0.3  # DC offset exercises detrend
    noverlap = n_fft // 2 if hop_length is None else n_fft - hop_length
    f_ref, p_ref = scipy.signal.welch(
        x, fs=FS, window=window, nperseg=n_fft, noverlap=noverlap, detrend="constant", scaling="density"
    )
    ours = power_spectrum(torch.from_numpy(x), sample_rate=FS, method="welch", n_fft=n_fft, hop_length=hop_length,
                          window=window)
    np.testing.assert_allclose(ours.freqs.numpy(), f_ref, rtol=1e-14, atol=0)
    assert _max_rel_err(ours.power.numpy(), p_ref) < RTOL


@pytest.mark.parametrize("window", ["hann", "boxcar"])
@pytest.mark.parametrize("length", [1000, 1001], ids=["even", "odd"])
def test_periodogram_matches_scipy(window, length):
    x = chirp_plus_noise(sample_rate=int(FS), seconds=1.0, seed=2)[:length] - 0.2
    f_ref, p_ref = scipy.signal.periodogram(x, fs=FS, window=window, detrend="constant", scaling="density")
    ours = power_spectrum(torch.from_numpy(x), sample_rate=FS, method="periodogram", window=window)
    np.testing.assert_allclose(ours.freqs.numpy(), f_ref, rtol=1e-14, atol=0)
    assert _max_rel_err(ours.power.numpy(), p_ref) < RTOL


def test_float32_waveform_is_computed_in_float32_to_single_precision():
    x = chirp_plus_noise(sample_rate=int(FS), seconds=0.5, seed=3, dtype=np.float32)
    _, p_ref = scipy.signal.welch(x.astype(np.float64), fs=FS, nperseg=256, detrend="constant")
    ours = power_spectrum(torch.from_numpy(x), sample_rate=FS, n_fft=256)
    assert ours.power.dtype == torch.float32
    # float32 FFTs of 256 samples: relative error per bin well below 1e-4 (measured ~1e-6)
    assert _max_rel_err(ours.power.double().numpy(), p_ref) < 1e-4


@pytest.mark.parametrize("length", [4096, 4097], ids=["even", "odd"])
def test_parseval_boxcar_periodogram_integrates_to_variance(length):
    """sum_k P_k df = var(x) (population variance, after removing the mean), to float64 rounding."""
    g = torch.Generator().manual_seed(4)
    x = 3.0 * torch.randn(5, length, generator=g, dtype=torch.float64) + 1.5
    spec = power_spectrum(x, sample_rate=FS, method="periodogram", window="boxcar")
    df = FS / length
    torch.testing.assert_close(spec.power.sum(-1) * df, x.var(dim=-1, unbiased=False), rtol=1e-12, atol=0)


def test_parseval_boxcar_welch_integrates_to_mean_frame_variance():
    g = torch.Generator().manual_seed(5)
    x = torch.randn(3, 4096, generator=g, dtype=torch.float64)
    n_fft = 512
    spec = power_spectrum(x, sample_rate=FS, n_fft=n_fft, hop_length=n_fft, window="boxcar")
    frames = x.unfold(-1, n_fft, n_fft)  # [3, 8, 512]
    expected = frames.var(dim=-1, unbiased=False).mean(-1)
    torch.testing.assert_close(spec.power.sum(-1) * (FS / n_fft), expected, rtol=1e-12, atol=0)


@pytest.mark.parametrize("method", ["welch", "periodogram"])
@pytest.mark.parametrize("offset", [0.0, 0.3], ids=["on_bin", "off_bin"])
def test_sine_peaks_in_its_bin(method, offset):
    """A sine at (k + offset) bins peaks in bin k (nearest bin), for Hann and boxcar windows."""
    n_fft, k = 512, 40
    length = 8192
    n_bins = n_fft if method == "welch" else length
    freq = (k + offset) * FS / n_bins
    t = torch.arange(length, dtype=torch.float64) / FS
    x = torch.sin(2 * torch.pi * freq * t)
    for window in ("hann", "boxcar"):
        spec = power_spectrum(x, sample_rate=FS, method=method, n_fft=n_fft, window=window)
        assert int(spec.power.argmax()) == k
        assert float(spec.freqs[k]) == pytest.approx(k * FS / n_bins)


@pytest.mark.parametrize("method", ["welch", "periodogram"])
def test_batch_equals_per_clip_loop(method):
    g = torch.Generator().manual_seed(6)
    x = torch.randn(2, 3, 3000, generator=g, dtype=torch.float32)
    batched = power_spectrum(x, sample_rate=FS, method=method, n_fft=256).power
    for i in range(2):
        for j in range(3):
            single = power_spectrum(x[i, j], sample_rate=FS, method=method, n_fft=256).power
            torch.testing.assert_close(batched[i, j], single, rtol=1e-12, atol=0)


def test_log_domain_mean_is_the_geometric_mean():
    rng = np.random.default_rng(7)
    spectra = rng.random((6, 33)) + 1e-3
    ours = log_domain_mean(torch.from_numpy(spectra), dim=0)
    np.testing.assert_allclose(ours.numpy(), scipy.stats.gmean(spectra, axis=0), rtol=1e-12)
