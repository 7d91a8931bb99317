"""Log-mel, mel filterbank, STFT power and dB conversion against librosa (reference tier)."""

from __future__ import annotations

import librosa
import numpy as np
import pytest
import torch
from helpers_functional import chirp_plus_noise

from audiospec.functional import log_mel_spectrogram, mel_filterbank, power_to_db, stft_power

SR = 22050

# librosa keyword names -> audiospec keyword names for the non-default parameter set
NON_DEFAULT = dict(n_mels=64, n_fft=1024, hop_length=256, f_min=50.0, f_max=8000.0, mel_scale="htk")
NON_DEFAULT_LIBROSA = dict(n_mels=64, n_fft=1024, hop_length=256, fmin=50.0, fmax=8000.0, htk=True)

# Tolerance for log-mel in dB. The only difference from librosa is the filterbank:
# torchaudio builds it in float32 arithmetic, librosa in float64 and casts to float32.
# Weights then differ by ~20 float32 ulps (5e-8 absolute on peaks of 0.02), i.e. up to
# ~1e-4 relative on a band's small edge weights; 10 log10(1 + 1e-4) = 4.3e-4 dB. Measured
# worst case on the chirp: 3.8e-4 dB (both dtypes). 2e-3 dB (0.05 % in power) leaves 5x
# margin while still catching any real parameter mismatch (a one-bin shift costs > 0.1 dB).
# test_log_mel_pipeline_is_exact_with_librosa_filterbank shows the rest of the pipeline is exact.
LOG_MEL_ATOL_DB = 2e-3


@pytest.mark.parametrize("dtype", [np.float32, np.float64], ids=["float32", "float64"])
@pytest.mark.parametrize("params", ["defaults", "non_default"])
def test_log_mel_matches_librosa(params, dtype):
    x = chirp_plus_noise(sample_rate=SR, dtype=dtype)
    if params == "defaults":
        expected = librosa.power_to_db(librosa.feature.melspectrogram(y=x, sr=SR))
        ours = log_mel_spectrogram(torch.from_numpy(x))
    else:
        expected = librosa.power_to_db(librosa.feature.melspectrogram(y=x, sr=SR, **NON_DEFAULT_LIBROSA))
        ours = log_mel_spectrogram(torch.from_numpy(x), sample_rate=SR, **NON_DEFAULT)
    assert ours.dtype == torch.from_numpy(x).dtype
    assert tuple(ours.shape) == expected.shape
    diff = np.abs(ours.numpy().astype(np.float64) - expected.astype(np.float64)).max()
    assert diff < LOG_MEL_ATOL_DB, f"log-mel differs from librosa by {diff:.2e} dB (tolerance {LOG_MEL_ATOL_DB} dB)"


def test_log_mel_pipeline_is_exact_with_librosa_filterbank():
    """STFT, projection and dB floor agree with librosa to float64 rounding once the filterbank is shared."""
    x = chirp_plus_noise(sample_rate=SR)
    kw = NON_DEFAULT_LIBROSA
    fb = librosa.filters.mel(sr=SR, n_fft=kw["n_fft"], n_mels=kw["n_mels"], fmin=kw["fmin"], fmax=kw["fmax"], htk=True)
    expected = librosa.power_to_db(librosa.feature.melspectrogram(y=x, sr=SR, **kw))
    ours = log_mel_spectrogram(
        torch.from_numpy(x), sample_rate=SR, **NON_DEFAULT, filterbank=torch.from_numpy(fb.T.astype(np.float64))
    )
    np.testing.assert_allclose(ours.numpy(), expected, rtol=0, atol=1e-9, err_msg="float64 pipeline, tolerance 1e-9 dB")


# Filterbank tolerance: 1e-5 of the largest weight (peaks are ~0.02 with Slaney norm, 1 without);
# measured 2.6e-6 of the peak (float32 arithmetic in torchaudio vs float64-then-cast in librosa).
FB_RTOL_OF_PEAK = 1e-5
FILTERBANK_CASES = [
    pytest.param(dict(sr=22050, n_fft=2048, n_mels=128, fmin=0.0, fmax=None, htk=False, norm="slaney"), id="defaults"),
    pytest.param(dict(sr=22050, n_fft=1024, n_mels=64, fmin=50.0, fmax=8000.0, htk=True, norm="slaney"), id="htk"),
    pytest.param(dict(sr=16000, n_fft=512, n_mels=40, fmin=20.0, fmax=7600.0, htk=False, norm=None), id="no_norm"),
    pytest.param(dict(sr=44100, n_fft=4096, n_mels=80, fmin=0.0, fmax=None, htk=False, norm="slaney"), id="44k"),
    pytest.param(
        dict(sr=22050, n_fft=1023, n_mels=64, fmin=30.0, fmax=9000.0, htk=False, norm="slaney"),
        id="odd_n_fft",
    ),
    pytest.param(
        dict(sr=22051, n_fft=2048, n_mels=64, fmin=0.0, fmax=None, htk=False, norm="slaney"),
        id="odd_sample_rate",
    ),
]


@pytest.mark.parametrize("case", FILTERBANK_CASES)
def test_mel_filterbank_matches_librosa(case):
    expected = librosa.filters.mel(
        sr=case["sr"], n_fft=case["n_fft"], n_mels=case["n_mels"], fmin=case["fmin"], fmax=case["fmax"],
        htk=case["htk"], norm=case["norm"],
    ).T  # librosa is [n_mels, K]; ours is [K, n_mels]
    ours = mel_filterbank(
        sample_rate=case["sr"], n_fft=case["n_fft"], n_mels=case["n_mels"], f_min=case["fmin"], f_max=case["fmax"],
        mel_scale="htk" if case["htk"] else "slaney", norm=case["norm"],
    )
    assert tuple(ours.shape) == expected.shape
    err = np.abs(ours.numpy() - expected).max() / np.abs(expected).max()
    assert err < FB_RTOL_OF_PEAK, f"filterbank differs by {err:.1e} of its peak weight (tolerance {FB_RTOL_OF_PEAK})"


STFT_CASES = [
    dict(n_fft=2048, hop_length=512, center=True, pad_mode="constant"),
    dict(n_fft=512, hop_length=128, center=True, pad_mode="reflect"),
    dict(n_fft=1023, hop_length=300, center=False, pad_mode="constant"),
]


@pytest.mark.parametrize("case", STFT_CASES, ids=lambda c: f"nfft{c['n_fft']}-center{c['center']}-{c['pad_mode']}")
@pytest.mark.parametrize("dtype", [np.float32, np.float64], ids=["float32", "float64"])
def test_stft_power_matches_librosa(case, dtype):
    x = chirp_plus_noise(sample_rate=SR, seconds=0.5, dtype=dtype)
    expected = np.abs(librosa.stft(x, **case)) ** 2
    ours = stft_power(torch.from_numpy(x), **case).numpy()
    # relative to the spectrogram peak: float64 FFTs agree to ~1e-15, float32 (pocketfft vs
    # torch's MKL/pocketfft) to ~3e-7 of the peak (measured); tolerances 1e-12 and 5e-6
    rtol = 1e-12 if dtype == np.float64 else 5e-6
    err = np.abs(ours - expected).max() / expected.max()
    assert ours.shape == expected.shape
    assert err < rtol, f"STFT power differs by {err:.1e} of its peak (tolerance {rtol})"


POWER_TO_DB_CASES = [
    pytest.param(dict(), id="defaults"),
    pytest.param(dict(top_db=None), id="no_top_db"),
    pytest.param(dict(amin=1e-5, top_db=40.0), id="amin_top_db"),
    pytest.param(
        dict(ref=2.0, amin=1e-5, top_db=40.0),
        id="ref",
    ),
]


@pytest.mark.parametrize("kwargs", POWER_TO_DB_CASES)
def test_power_to_db_matches_librosa_per_spectrogram(kwargs):
    rng = np.random.default_rng(3)
    power = rng.random((3, 20, 30)) ** 6 * 10.0  # wide dynamic range so the top_db floor is active
    expected = np.stack([librosa.power_to_db(p, **kwargs) for p in power])  # one max per spectrogram
    ours = power_to_db(torch.from_numpy(power), **kwargs).numpy()
    np.testing.assert_allclose(ours, expected, rtol=0, atol=1e-10, err_msg="float64, tolerance 1e-10 dB")


def test_log_mel_batch_equals_per_clip_loop():
    """[2, 3, L] in one call equals six separate calls (per-spectrogram top_db floor)."""
    clips = np.stack([chirp_plus_noise(sample_rate=SR, seconds=0.4, seed=s) * (s + 1) for s in range(6)])
    x = torch.from_numpy(clips.reshape(2, 3, -1))
    batched = log_mel_spectrogram(x, n_mels=64, n_fft=1024, hop_length=256)
    for i in range(2):
        for j in range(3):
            single = log_mel_spectrogram(x[i, j], n_mels=64, n_fft=1024, hop_length=256)
            torch.testing.assert_close(batched[i, j], single, rtol=0, atol=1e-9)


def test_stft_sine_peaks_in_its_bin():
    """A sine at bin k * sr / n_fft puts every interior frame's maximum in bin k."""
    n_fft, k = 1024, 37
    t = torch.arange(SR // 2, dtype=torch.float64) / SR
    x = torch.sin(2 * torch.pi * (k * SR / n_fft) * t)
    spec = stft_power(x, n_fft=n_fft, hop_length=256)  # [K, T]
    interior = spec[:, 4:-4]  # frames fully inside the signal
    assert bool((interior.argmax(dim=0) == k).all())
    # a Hann window keeps > 99.9 % of the frame's energy within the main lobe k-1..k+1
    main_lobe = interior[k - 1 : k + 2].sum(0) / interior.sum(0)
    assert float(main_lobe.min()) > 0.999
