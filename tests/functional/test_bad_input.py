"""Bad input to every public entry point raises AudiospecError with a message naming the problem."""

from __future__ import annotations

import pytest
import torch

import audiospec.functional as F
from audiospec.errors import AudiospecError
from audiospec.transforms import RAPSD, MelConfig


def _with(value: float, shape=(8, 8), at=(2, 3)) -> torch.Tensor:
    x = torch.randn(shape, generator=torch.Generator().manual_seed(0))
    x[at] = value
    return x


FREQS = torch.fft.rfftfreq(64, dtype=torch.float64)
POWER = 1.0 / (FREQS + 0.01)

# (id, callable, regex the message must match)
CASES = [
    # non-finite values
    ("rapsd_nan", lambda: F.rapsd(_with(float("nan"))), r"field contains 1 non-finite"),
    ("rapsd_inf", lambda: F.rapsd(_with(float("inf"))), r"field contains 1 non-finite"),
    ("log_mel_nan", lambda: F.log_mel_spectrogram(torch.full((4096,), float("nan"))),
     r"waveform contains 4096 non-finite"),
    ("stft_inf", lambda: F.stft_power(_with(float("-inf"), shape=(2, 4096), at=(1, 5))),
     r"waveform contains 1 non-finite"),
    ("power_spectrum_inf", lambda: F.power_spectrum(_with(float("inf"), shape=(4096,), at=7), sample_rate=8000),
     r"waveform contains 1 non-finite"),
    ("dct_nan", lambda: F.dct(torch.full((4, 8), float("nan"))), r"non-finite"),
    ("add_noise_nan", lambda: F.add_noise(torch.randn(2, 8), _with(float("nan"), (2, 8), (0, 0)), snr_db=0.0),
     r"noise contains 1 non-finite"),
    ("fit_power_law_nan", lambda: F.fit_power_law(FREQS, POWER * float("nan")), r"power contains .* non-finite"),
    ("estimate_spectrum_inf", lambda: F.estimate_spectrum(_with(float("inf"))), r"signal contains 1 non-finite"),
    ("snr_nan", lambda: F.snr_per_frequency(0.5, data_power=POWER * float("nan")), r"data_power contains"),
    # too short
    ("welch_shorter_than_n_fft", lambda: F.power_spectrum(torch.randn(100), sample_rate=8000, n_fft=256),
     r"trailing size \(100,\), shorter than one frame \(256 samples\)"),
    ("stft_uncentred_shorter_than_n_fft", lambda: F.stft_power(torch.randn(1000), n_fft=2048, center=False),
     r"shorter than one frame \(2048 samples\)"),
    ("stft_reflect_too_short", lambda: F.stft_power(torch.randn(100), n_fft=512, pad_mode="reflect"),
     r"reflect padding needs more than n_fft // 2 = 256 samples, got 100"),
    ("log_mel_empty", lambda: F.log_mel_spectrogram(torch.randn(3, 0)), r"trailing size \(0,\)"),
    ("periodogram_one_sample", lambda: F.power_spectrum(torch.randn(1), sample_rate=8000, method="periodogram"),
     r"trailing size \(1,\)"),
    ("rapsd_one_row", lambda: F.rapsd(torch.randn(1, 8)), r"at least 2 x 2, got 1 x 8"),
    ("fit_band_too_narrow", lambda: F.fit_power_law(FREQS, POWER, f_min=0.49), r"need at least 3 positive frequencies"),
    # wrong ndim / shape
    ("rapsd_1d", lambda: F.rapsd(torch.randn(16)), r"RAPSD needs a field \[\.\.\., H, W\], got shape \(16,\)"),
    ("log_mel_0d", lambda: F.log_mel_spectrogram(torch.tensor(1.0)), r"at least 1 dim"),
    ("cepstrum_1d", lambda: F.cepstrum(torch.randn(8)), r"got shape \(8,\)"),
    ("dct2_1d", lambda: F.dct2_spectrum(torch.randn(8)), r"got shape \(8,\)"),
    ("colored_noise_ndim_3", lambda: F.colored_noise((4, 4, 4), beta=1.0, ndim=3), r"ndim must be 1 .* or 2 .*got 3"),
    ("colored_noise_shape_too_small", lambda: F.colored_noise((16,), beta=1.0, ndim=2), r"needs 2 trailing signal dim"),
    ("radial_frequency_3d", lambda: F.radial_frequency((4, 4, 4)), r"1 or 2 entries, got \(4, 4, 4\)"),
    ("matched_noise_grid", lambda: F.matched_noise((4, 64), spectrum=torch.ones(10)),
     r"need the rfft grid shape \(33,\)"),
    ("add_noise_shapes", lambda: F.add_noise(torch.randn(2, 8), torch.randn(2, 9), snr_db=0.0),
     r"\(2, 8\) and .*\(2, 9\)"),
    ("add_noise_at_time_shapes", lambda: F.add_noise_at_time(torch.randn(2, 8), torch.randn(2, 9), t=0.5),
     r"x0 shape \(2, 8\) and noise shape \(2, 9\) differ"),
    ("rankdata_2d", lambda: F.rankdata(torch.randn(3, 3)), r"1-D tensor, got shape \(3, 3\)"),
    ("spearman_lengths", lambda: F.spearman(torch.randn(3), torch.randn(4)), r"got \(3,\) and \(4,\)"),
    ("expected_cepstral_power_grid", lambda: F.expected_cepstral_power(torch.ones(8, 8), (8, 8)),
     r"does not fit a 8 x 8"),
    ("rapsd_module_size", lambda: RAPSD(16, 16)(torch.randn(16, 17)), r"built for 16 x 16 fields, got \(16, 17\)"),
    ("rapsd_foreign_weights", lambda: F.rapsd(torch.randn(8, 8), rings=F.ring_map(3, 3)), r"does not fit a 8 x 8"),
    ("snr_noise_shape", lambda: F.snr_per_frequency(0.5, data_power=POWER, noise_power=POWER[:-1]), r"differs from"),
    ("max_freq_shape", lambda: F.max_detectable_frequency(0.5, freqs=FREQS[:-1], data_power=POWER), r"differs from"),
    # unknown closed choices
    ("rapsd_mode", lambda: F.rapsd(torch.randn(8, 8), mode="radial"),
     r"unknown RAPSD mode 'radial'; choose 'pysteps' or"),
    ("rapsd_window", lambda: F.rapsd(torch.randn(8, 8), window="hann"),
     r"unknown window 'hann'; choose None or 'kaiser'"),
    ("ring_weights_mode", lambda: F.ring_weights(8, 8, mode="log"), r"unknown RAPSD mode 'log'"),
    ("spectrum_method", lambda: F.power_spectrum(torch.randn(4096), sample_rate=8000, method="multitaper"),
     r"unknown spectrum method 'multitaper'"),
    ("spectrum_window", lambda: F.power_spectrum(torch.randn(4096), sample_rate=8000, window="hamming"),
     r"unknown window 'hamming'; choose 'hann' or 'boxcar'"),
    ("process_coefficients", lambda: F.process_coefficients(0.5, process="ddpm"), r"unknown process 'ddpm'"),
    ("log_snr_process", lambda: F.log_snr(0.5, process="edm"), r"unknown process 'edm'"),
    ("time_from_log_snr_process", lambda: F.time_from_log_snr(0.0, process="edm"), r"unknown process 'edm'"),
    ("add_noise_at_time_process",
     lambda: F.add_noise_at_time(torch.randn(2, 4), torch.randn(2, 4), t=0.5, process="ve"),
     r"unknown process 've'"),
    ("crossing_time_process", lambda: F.crossing_time(POWER, process="cosine"), r"unknown process 'cosine'"),
    # negative / zero spectra
    ("snr_negative_data", lambda: F.snr_per_frequency(0.5, data_power=-POWER), r"data_power must be non-negative"),
    ("snr_nonpositive_noise", lambda: F.snr_per_frequency(0.5, data_power=POWER, noise_power=POWER * 0),
     r"noise_power must be strictly positive"),
    ("normalize_negative", lambda: F.normalize_spectrum(-POWER[:33], (64,)), r"must be non-negative"),
    ("normalize_all_zero", lambda: F.normalize_spectrum(torch.zeros(33), (64,)), r"zero everywhere"),
    ("matched_noise_negative", lambda: F.matched_noise((2, 64), spectrum=-torch.ones(33)), r"must be non-negative"),
    ("fit_power_law_negative", lambda: F.fit_power_law(FREQS, -POWER), r"strictly positive"),
    ("fit_power_law_zero", lambda: F.fit_power_law(FREQS, POWER * 0), r"strictly positive"),
    ("loglog_polynomial_dc", lambda: F.fit_loglog_polynomial(FREQS, POWER), r"positive frequencies and powers"),
    ("log_domain_mean_negative", lambda: F.log_domain_mean(-POWER[None]), r"must be non-negative"),
    ("autoregression_negative", lambda: F.autoregression_order(FREQS, -POWER), r"data_power must be non-negative"),
    ("add_noise_silent_noise", lambda: F.add_noise(torch.randn(2, 8), torch.zeros(2, 8), snr_db=0.0), r"zero energy"),
    # t outside [0, 1]
    ("t_above_one", lambda: F.add_noise_at_time(torch.randn(2, 4), torch.randn(2, 4), t=1.5), r"\[0, 1\], got .*1\.5"),
    ("t_below_zero", lambda: F.process_coefficients(torch.tensor([-0.1, 0.5])),
     r"must lie in \[0, 1\], got values from -0\.1"),
    ("t_nan", lambda: F.log_snr(float("nan")), r"must lie in \[0, 1\]"),
    ("snr_t_outside", lambda: F.snr_per_frequency(2.0, data_power=POWER), r"must lie in \[0, 1\]"),
    ("max_freq_t_outside", lambda: F.max_detectable_frequency(-1.0, freqs=FREQS, data_power=POWER),
     r"must lie in \[0, 1\]"),
    # tau <= 0
    ("max_freq_tau_zero", lambda: F.max_detectable_frequency(0.5, freqs=FREQS, data_power=POWER, tau=0.0),
     r"tau must be positive, got 0"),
    ("crossing_time_tau_negative", lambda: F.crossing_time(POWER, tau=-1.0), r"tau must be positive, got -1"),
    ("autoregression_tau_zero", lambda: F.autoregression_order(FREQS, POWER, tau=0.0), r"tau must be positive"),
    # other out-of-range settings
    ("mel_f_max_above_nyquist", lambda: F.mel_filterbank(sample_rate=16000, n_fft=512, f_max=9000.0),
     r"Nyquist \(8000\.0 Hz\).*f_max=9000"),
    ("mel_sample_rate", lambda: F.mel_filterbank(sample_rate=0, n_fft=512), r"sample_rate must be positive, got 0"),
    ("stft_hop_zero", lambda: F.stft_power(torch.randn(4096), hop_length=0), r"hop_length=0"),
    ("power_to_db_amin", lambda: F.power_to_db(torch.rand(4, 4), amin=0.0), r"amin and ref must be positive"),
    ("power_to_db_top_db", lambda: F.power_to_db(torch.rand(4, 4), top_db=-1.0), r"top_db must be non-negative"),
    ("spectrum_sample_rate", lambda: F.power_spectrum(torch.randn(4096), sample_rate=0),
     r"sample_rate must be positive"),
    ("dct_n_coeffs", lambda: F.dct(torch.randn(4, 8), n_coeffs=9), r"1 <= n_coeffs <= n, got n=8, n_coeffs=9"),
    ("colored_noise_beta_nan", lambda: F.colored_noise((16,), beta=float("nan")), r"beta must be a finite number"),
    ("ci_level", lambda: F.mean_confidence_interval([1.0, 2.0], level=1.5), r"\(0, 1\), got 1\.5"),
    ("ci_empty", lambda: F.mean_confidence_interval([]), r"at least one value"),
    ("fit_ci_level", lambda: F.fit_power_law(FREQS, POWER, ci_level=0.0), r"ci_level must lie in \(0, 1\)"),
    ("log_resample_points", lambda: F.log_resample(FREQS[1:], POWER[1:], n_points=1), r"n_points must be >= 2"),
    ("log_resample_dc", lambda: F.log_resample(FREQS, POWER), r"positive, strictly increasing"),
    ("mel_config_n_fft", lambda: MelConfig(n_fft=1), r"n_fft=1"),
    ("mel_config_f_max", lambda: MelConfig(f_max=20000.0), r"f_max=20000"),
]


@pytest.mark.parametrize("call,match", [pytest.param(c, m, id=i) for i, c, m in CASES])
def test_bad_input_raises_audiospec_error(call, match):
    with pytest.raises(AudiospecError, match=match):
        call()


def test_audiospec_error_is_a_value_error():
    assert issubclass(AudiospecError, ValueError)


# Inputs that once slipped through or raised a bare torch error (bugs found by these tests, now fixed).
def test_power_to_db_rejects_or_handles_1d_input_cleanly():
    with pytest.raises(AudiospecError, match=r"\[\.\.\., F, T\]|shape \(10,\)"):
        F.power_to_db(torch.rand(10))


def test_power_to_db_rejects_nan():
    with pytest.raises(AudiospecError, match=r"non-finite"):
        F.power_to_db(_with(float("nan"), shape=(4, 10), at=(1, 1)).abs())


def test_power_to_db_rejects_negative_power():
    with pytest.raises(AudiospecError, match=r"non-negative"):
        F.power_to_db(-torch.rand(4, 10))


def test_hermitian_weights_rejects_3d_shapes():
    with pytest.raises(AudiospecError, match=r"1 or 2 entries"):
        F.hermitian_weights((4, 4, 4))
