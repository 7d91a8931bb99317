"""audiospec.functional.inversion: log-mel -> waveform by inverse mel + Griffin-Lim."""

from __future__ import annotations

import pytest
import torch

from audiospec.errors import AudiospecError
from audiospec.functional.inversion import inverse_mel_power, mel_to_waveform
from audiospec.functional.mel import log_mel_spectrogram, mel_filterbank
from audiospec.functional.noise import colored_noise
from audiospec.transforms import MelConfig

SR, N_FFT, HOP, M = 22050, 1024, 256, 64
MEL = dict(sample_rate=SR, n_fft=N_FFT, hop_length=HOP)


def _log_mel(x: torch.Tensor) -> torch.Tensor:
    return log_mel_spectrogram(x, n_mels=M, top_db=80.0, **MEL)


def _sine(freq: float, seconds: float = 1.0) -> torch.Tensor:
    t = torch.arange(int(SR * seconds), dtype=torch.float32) / SR
    return 0.5 * torch.sin(2 * torch.pi * freq * t)


@pytest.mark.parametrize("freq", [440.0, 2500.0])
def test_sine_inverts_to_a_waveform_peaking_at_the_sine_frequency(freq):
    y = mel_to_waveform(_log_mel(_sine(freq)), **MEL)
    spectrum = torch.fft.rfft(y * torch.hann_window(y.shape[-1])).abs()
    peak = torch.fft.rfftfreq(y.shape[-1], 1.0 / SR)[spectrum.argmax()].item()
    # the mel bands are the resolution limit: 64 Slaney bands to 11 kHz are ~60 Hz wide below 1 kHz, ~7% above
    assert abs(peak - freq) < max(60.0, 0.07 * freq), peak


def test_round_trip_log_mel_of_the_inverted_waveform():
    # stated tolerances (mean |error| in dB over the bins within `range_db` of the loudest one):
    # broadband pink noise < 1 dB everywhere above the top_db floor; tones < 1.5 dB on their loud core and
    # < 5 dB down to -60 dB, where mel inversion smears each tone over its whole band (its side lobes differ).
    noise = 0.1 * colored_noise((2 * SR,), beta=1.0, generator=torch.Generator().manual_seed(0))
    tones = _sine(440.0) + 0.3 * _sine(1800.0)
    for x, checks in ((noise, {79: 1.0}), (tones, {20: 1.5, 60: 5.0})):
        S = _log_mel(x)
        y = mel_to_waveform(S, **MEL)
        assert y.shape == ((S.shape[-1] - 1) * HOP,)
        S2 = _log_mel(y)
        assert S2.shape == S.shape
        for range_db, tolerance in checks.items():
            loud = S > S.amax() - range_db
            assert (S2 - S)[loud].abs().mean().item() < tolerance, (range_db, tolerance)


def test_inversion_is_deterministic_and_batch_consistent():
    # The guarantee (mel_to_waveform's docstring): repeated identical calls are bit-identical; a batch item
    # and the same item inverted alone have the same log-mel within a stated dB tolerance, *not* the same
    # samples: zero-phase Griffin-Lim with momentum amplifies last-bit differences of batched FFT plans
    # (they depend on the batch shape and the CPU kind) into phases, and sample values, that differ by up to
    # the amplitude (0.38 and 1.09 measured here for the two tones below).
    noise = 0.1 * colored_noise((SR,), beta=1.0, generator=torch.Generator().manual_seed(0))
    S = _log_mel(torch.stack([_sine(440.0), _sine(880.0), noise]))
    a, b = mel_to_waveform(S, **MEL), mel_to_waveform(S, **MEL)
    assert torch.equal(a, b)
    # mean |log-mel difference| (dB) over the bins within 60 dB of each item's peak. Measured on an Intel Xeon:
    # tones 0.76 / 1.24 dB, pink noise 0.01 dB; 1e-5 dB perturbations of the input (a stand-in for another
    # CPU's rounding) move pure tones by up to 2.5 dB, pink noise by 0.01 dB. Pure tones are the worst case:
    # their round-trip error itself is 3-5 dB on these bins (test_round_trip_log_mel_of_the_inverted_waveform).
    for i, tolerance in enumerate((3.0, 3.0, 0.25)):
        single = mel_to_waveform(S[i], **MEL)
        loud = S[i] > S[i].amax() - 60.0
        error_db = (_log_mel(a[i]) - _log_mel(single))[loud].abs().mean().item()
        assert error_db < tolerance, (i, error_db, tolerance)


def test_inverse_mel_power_solves_the_filterbank_equations():
    fb = mel_filterbank(sample_rate=SR, n_fft=N_FFT, n_mels=M, dtype=torch.float64)  # [K, M]
    power = torch.rand(N_FFT // 2 + 1, 5, generator=torch.Generator().manual_seed(1), dtype=torch.float64)
    mel = fb.T @ power
    X = inverse_mel_power(mel, filterbank=fb, nnls_iter=300)
    assert bool((X >= 0).all())
    assert ((fb.T @ X - mel).norm() / mel.norm()).item() < 0.01


def test_defaults_match_the_mel_config():
    config = MelConfig(n_fft=1024, hop_length=256, n_mels=M)
    S = log_mel_spectrogram(_sine(440.0), sample_rate=config.sample_rate, n_fft=config.n_fft,
                            hop_length=config.hop_length, n_mels=config.n_mels, f_min=config.f_min, f_max=config.f_max)
    y = mel_to_waveform(S, sample_rate=config.sample_rate, n_fft=config.n_fft, hop_length=config.hop_length,
                        f_min=config.f_min, f_max=config.f_max)
    assert y.ndim == 1


def test_inversion_errors():
    with pytest.raises(AudiospecError, match=r"needs log-mel spectrograms \[\.\.\., M, T\]"):
        mel_to_waveform(torch.zeros(64), **MEL)
    with pytest.raises(AudiospecError, match="n_iter must be >= 1"):
        mel_to_waveform(torch.zeros(64, 10), n_iter=0, **MEL)
    with pytest.raises(AudiospecError, match="non-finite"):
        mel_to_waveform(torch.full((64, 10), float("nan")), **MEL)
    with pytest.raises(AudiospecError, match="need 1 <= hop_length <= n_fft"):
        mel_to_waveform(torch.zeros(64, 10), sample_rate=SR, n_fft=256, hop_length=512)
    with pytest.raises(AudiospecError, match=r"the filterbank expects \[\.\.\., 64, T\]"):
        inverse_mel_power(torch.ones(32, 4), filterbank=torch.ones(513, 64))
