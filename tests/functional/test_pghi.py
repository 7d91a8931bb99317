"""pghi_phase: against pghipy (reference tier), against zero phase, the paper's phase gradients, bad input."""

from __future__ import annotations

import math

import numpy as np
import pytest
import torch

from audiospec.errors import AudiospecError
from audiospec.functional.pghi import HANN_GAMMA, pghi_phase, phase_gradients

SR, N_FFT, HOP = 22050, 1024, 256
WINDOW = torch.hann_window(N_FFT, periodic=True, dtype=torch.float64)


def _chirp_with_harmonics(seconds: float = 2.0) -> torch.Tensor:
    """``[L]`` float64: a 200 -> 1800 Hz linear chirp with 5 harmonics (1/h amplitudes) and a 3 kHz tone."""
    t = np.arange(int(SR * seconds)) / SR
    phase = 2 * np.pi * np.cumsum(200.0 + 800.0 * t) / SR
    x = sum(0.5 / h * np.sin(h * phase) for h in range(1, 6)) + 0.2 * np.sin(2 * np.pi * 3000.0 * t)
    return torch.from_numpy(x)


def _stft(x: torch.Tensor) -> torch.Tensor:
    return torch.stft(x, N_FFT, HOP, window=WINDOW, center=True, pad_mode="constant", return_complex=True)


def _spectral_convergence_db(magnitude: torch.Tensor, phase: torch.Tensor, length: int) -> float:
    """20 log10(|| |STFT(istft(A e^{i phase}))| - A ||_F / ||A||_F): how consistent the phase is with A."""
    y = torch.istft(magnitude * torch.exp(1j * phase), N_FFT, HOP, window=WINDOW, length=length)
    return 20.0 * math.log10(((_stft(y).abs() - magnitude).norm() / magnitude.norm()).item())


def test_matches_pghipy_in_reconstruction_quality():
    pghipy = pytest.importorskip("pghipy")  # reference implementation (numba), frames x bins layout
    x = _chirp_with_harmonics()
    A = _stft(x).abs()  # [K, T]
    ours = pghi_phase(A, n_fft=N_FFT, hop_length=HOP)
    theirs = pghipy.pghi(A.numpy().T.copy(), win_length=N_FFT, hop_length=HOP, gamma=HANN_GAMMA * N_FFT**2, tol=1e-5)
    sc_ours = _spectral_convergence_db(A, ours, x.numel())
    sc_theirs = _spectral_convergence_db(A, torch.from_numpy(theirs.T.copy()), x.numel())
    # measured: -30.72 dB both (they differ by 3e-5 dB: pghipy takes one-sided slopes at DC and Nyquist,
    # we mirror the spectrum there, as ltfat does); 0.5 dB is a fraction of what one Griffin-Lim iteration moves
    assert abs(sc_ours - sc_theirs) < 0.5, (sc_ours, sc_theirs)
    assert sc_ours < -25.0, sc_ours


def test_pghi_reconstructs_a_chirp_far_better_than_zero_phase():
    x = _chirp_with_harmonics()
    A = _stft(x).abs()
    sc_pghi = _spectral_convergence_db(A, pghi_phase(A, n_fft=N_FFT, hop_length=HOP), x.numel())
    sc_zero = _spectral_convergence_db(A, torch.zeros_like(A), x.numel())
    # measured: PGHI -30.7 dB, zero phase -1.0 dB (the true phase gives -312 dB, float64 rounding)
    assert sc_pghi < -25.0, sc_pghi
    assert sc_zero > -5.0, sc_zero
    assert sc_zero - sc_pghi > 20.0


@pytest.mark.parametrize("freq", [440.0, 2500.0])
def test_time_step_of_a_tone_is_its_frequency(freq):
    # the paper's d phi / d t = 2 pi omega + (1 / gamma) d s / d omega: at the tone's peak bin the phase
    # advances 2 pi f hop / sr per frame, whatever bin the tone falls between (Hann ~ Gaussian, gamma = 0.25645 M^2)
    t = torch.arange(SR, dtype=torch.float64) / SR
    A = _stft(torch.sin(2 * torch.pi * freq * t)).abs()  # [K, T]
    dphi_t, _ = phase_gradients(A, n_fft=N_FFT, hop_length=HOP)
    k = int(A[:, 20].argmax())
    expected = 2 * math.pi * freq * HOP / SR
    # measured error: 0.014 rad (440 Hz) and 0.010 rad (2.5 kHz) of 32 and 182 rad per frame, the Hann-vs-Gaussian
    # difference; 0.05 rad per frame is 0.7 Hz
    err = (dphi_t[k, 10:-10] - expected).abs().max().item()
    assert err < 0.05, err


def test_frequency_step_of_a_click_is_its_delay():
    # d phi / d omega = -gamma d s / d t: a click at sample t0 gives phase steps -2 pi (t0 - n hop) / M - pi per
    # bin in frame n (torch.stft's frame starts half a window before the frame centre)
    t0 = 5 * HOP + 100
    x = torch.zeros(20 * HOP, dtype=torch.float64)
    x[t0] = 1.0
    A = _stft(x).abs()
    _, dphi_f = phase_gradients(A, n_fft=N_FFT, hop_length=HOP)
    n = 5  # the click is 100 samples after the frame centre, inside the windows of frames 4, 5 and 6
    expected = -2 * math.pi * (t0 - n * HOP) / N_FFT - math.pi
    # measured error: 0.06 rad at every bin. The centred difference over two hops is exact for a Gaussian's
    # quadratic log-window, not for Hann's: 0.22 rad in frame 6, and rad-size errors in frames whose
    # neighbours hardly see the click (frame 4: 3.7 rad), where the magnitude is small and matters little
    err = (dphi_f[:, n] - expected).abs().max().item()
    assert err < 0.15, err


def test_batch_items_integrate_as_alone_and_silence_gets_zero_phase():
    x = _chirp_with_harmonics(1.0)
    A = torch.stack([_stft(x).abs(), _stft(0.1 * x.flip(0)).abs(), torch.zeros(N_FFT // 2 + 1, 87)])  # [3, K, T]
    batched = pghi_phase(A, n_fft=N_FFT, hop_length=HOP)
    assert batched.shape == A.shape and batched.dtype == torch.float64
    for i in range(2):
        alone = pghi_phase(A[i], n_fft=N_FFT, hop_length=HOP)
        sc_batched = _spectral_convergence_db(A[i], batched[i], x.numel())
        sc_alone = _spectral_convergence_db(A[i], alone, x.numel())
        assert abs(sc_batched - sc_alone) < 0.01, (i, sc_batched, sc_alone)  # measured: identical
    assert bool((batched[2] == 0).all())


def test_float32_input_gives_float32_phase_of_the_same_quality():
    x = _chirp_with_harmonics(1.0)
    A = _stft(x).abs()
    phase32 = pghi_phase(A.float(), n_fft=N_FFT, hop_length=HOP)
    assert phase32.dtype == torch.float32
    sc32 = _spectral_convergence_db(A, phase32.double(), x.numel())
    sc64 = _spectral_convergence_db(A, pghi_phase(A, n_fft=N_FFT, hop_length=HOP), x.numel())
    assert abs(sc32 - sc64) < 0.5, (sc32, sc64)  # measured: -28.6175 dB both (6e-5 dB apart)


def test_pghi_errors():
    A = torch.ones(N_FFT // 2 + 1, 10)
    with pytest.raises(AudiospecError, match=r"n_fft=1024 needs \[\.\.\., 513, T\]"):
        pghi_phase(torch.ones(512, 10), n_fft=N_FFT, hop_length=HOP)
    with pytest.raises(AudiospecError, match="need 1 <= hop_length <= n_fft"):
        pghi_phase(A, n_fft=N_FFT, hop_length=2048)
    with pytest.raises(AudiospecError, match="must be non-negative"):
        pghi_phase(-A, n_fft=N_FFT, hop_length=HOP)
    with pytest.raises(AudiospecError, match="must be real"):
        pghi_phase(A * (1 + 1j), n_fft=N_FFT, hop_length=HOP)
    with pytest.raises(AudiospecError, match="non-finite"):
        pghi_phase(A * float("nan"), n_fft=N_FFT, hop_length=HOP)
    with pytest.raises(AudiospecError, match=r"tol must lie in \(0, 1\), got 0.0"):
        pghi_phase(A, n_fft=N_FFT, hop_length=HOP, tol=0.0)
