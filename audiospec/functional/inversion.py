"""Log-mel spectrogram -> waveform: dB -> power -> inverse mel filterbank -> Griffin-Lim.

Steps (the inverse of :func:`audiospec.functional.mel.log_mel_spectrogram`, up to phase):

1. power mel P = ref * 10^(S_dB / 10)  (inverse of :func:`power_to_db`; the top_db floor is not undone);
2. linear power spectrogram X >= 0 with fb^T X ≈ P, where fb ``[n_fft // 2 + 1, n_mels]`` is
   :func:`audiospec.functional.mel.mel_filterbank` with the same (Slaney) conventions:
   the minimum-norm least-squares solution X = relu(pinv(fb^T) P), as torchaudio's
   ``InverseMelScale`` computes (its own filterbank differs from ours for odd n_fft), then
   ``nnls_iter`` accelerated projected-gradient (FISTA) steps on ||fb^T X - P||^2 subject to X >= 0 (librosa's
   ``mel_to_stft`` solves the same non-negative least squares problem);
3. phase by Griffin & Lim (1984) with momentum (Perraudin et al. 2013),
   ``torchaudio.functional.griffinlim`` with a periodic Hann window, started from zero phase
   (``rand_init=False``), so the result is deterministic.

Shapes: ``[..., M, T] -> [..., L]`` with L = (T - 1) * hop_length by default, so that
log-mel(waveform) has T frames again (center=True framing).
"""

from __future__ import annotations

import torch
import torchaudio

from audiospec.errors import AudiospecError
from audiospec.functional._shape import check_finite
from audiospec.functional.mel import MelNorm, MelScaleName, mel_filterbank

__all__ = ["inverse_mel_power", "mel_to_waveform"]


def inverse_mel_power(
    mel_power: torch.Tensor,
    *,
    filterbank: torch.Tensor,
    nnls_iter: int = 100,
) -> torch.Tensor:
    """Non-negative X ``[..., K, T]`` with fb^T X ≈ ``mel_power`` ``[..., M, T]``, fb ``[K, M]`` (module doc, step 2)."""
    K, M = filterbank.shape
    if mel_power.ndim < 2 or mel_power.shape[-2] != M:
        raise AudiospecError(f"mel power has shape {tuple(mel_power.shape)}, the filterbank expects [..., {M}, T]")
    if nnls_iter < 0:
        raise AudiospecError(f"nnls_iter must be >= 0, got {nnls_iter}")
    fb = filterbank.to(device=mel_power.device, dtype=torch.float64)  # [K, M]
    A = fb.transpose(0, 1)  # [M, K]: mel = A @ spec
    P = mel_power.to(torch.float64)
    X = torch.relu(torch.linalg.pinv(A) @ P)  # [K, M] @ [..., M, T] -> [..., K, T]
    if nnls_iter:
        step = 1.0 / float(torch.linalg.matrix_norm(A, ord=2)) ** 2  # 1 / Lipschitz constant of the gradient
        Y, momentum = X, 1.0
        for _ in range(nnls_iter):  # FISTA (Beck & Teboulle 2009) with projection onto X >= 0
            X_next = torch.relu(Y - step * (A.transpose(0, 1) @ (A @ Y - P)))  # [..., K, T]
            momentum_next = 0.5 * (1.0 + (1.0 + 4.0 * momentum**2) ** 0.5)
            Y = X_next + ((momentum - 1.0) / momentum_next) * (X_next - X)
            X, momentum = X_next, momentum_next
    return X.to(mel_power.dtype)


def mel_to_waveform(
    log_mel_db: torch.Tensor,
    *,
    sample_rate: int,
    n_fft: int,
    hop_length: int,
    f_min: float = 0.0,
    f_max: float | None = None,
    n_iter: int = 32,
    momentum: float = 0.99,
    ref: float = 1.0,
    norm: MelNorm = "slaney",
    mel_scale: MelScaleName = "slaney",
    nnls_iter: int = 100,
    length: int | None = None,
) -> torch.Tensor:
    """Waveform ``[..., L]`` whose log-mel (same settings) approximates ``log_mel_db`` ``[..., M, T]``.

    The mel settings must equal those the spectrogram was made with (:class:`audiospec.transforms.MelConfig`
    fields). ``n_iter`` Griffin-Lim iterations with ``momentum`` (torchaudio's default 0.99);
    ``length`` defaults to (T - 1) * hop_length.

    What is guaranteed, and what is not:

    - **Determinism.** Repeated calls with the same input (values, shape, dtype, device) on the same
      machine return bit-identical waveforms (zero initial phase, no randomness).
    - **Batch consistency, in log-mel dB.** Item ``i`` of a batch and the same spectrogram inverted
      alone have the same log-mel (re-analysed with the same settings) to within a mean absolute
      difference of 3 dB over the bins within 60 dB of the item's peak for pure tones, the worst case
      (measured 0.8-1.2 dB), and 0.25 dB for broadband sound (measured 0.01 dB); that is below the
      inversion's own round-trip error on those bins.
    - **Not sample equality** across batch shapes, dtypes or CPU kinds: Griffin-Lim from zero phase
      with momentum amplifies last-bit differences of the FFT plans (which depend on the batch shape
      and the CPU) into different phases, so samples can differ by up to the signal amplitude while
      the spectrogram the user hears and sees agrees as above.
    """
    if log_mel_db.ndim < 2:
        raise AudiospecError(f"mel_to_waveform needs log-mel spectrograms [..., M, T], got shape {tuple(log_mel_db.shape)}")
    check_finite(log_mel_db, name="log-mel spectrogram")
    if n_iter < 1:
        raise AudiospecError(f"n_iter must be >= 1 Griffin-Lim iteration, got {n_iter}")
    if not 0.0 <= momentum < 1.0:
        raise AudiospecError(f"momentum must lie in [0, 1), got {momentum}")
    if ref <= 0:
        raise AudiospecError(f"ref must be positive, got {ref}")
    if hop_length < 1 or hop_length > n_fft:
        raise AudiospecError(f"need 1 <= hop_length <= n_fft, got hop_length={hop_length}, n_fft={n_fft}")
    M, T = log_mel_db.shape[-2:]
    dtype = log_mel_db.dtype if log_mel_db.dtype in (torch.float32, torch.float64) else torch.float32
    fb = mel_filterbank(sample_rate=sample_rate, n_fft=n_fft, n_mels=M, f_min=f_min, f_max=f_max,
                        norm=norm, mel_scale=mel_scale, device=log_mel_db.device, dtype=torch.float64)  # [K, M]
    mel_power = ref * 10.0 ** (log_mel_db.to(torch.float64) / 10.0)  # [..., M, T]
    power = inverse_mel_power(mel_power, filterbank=fb, nnls_iter=nnls_iter).to(dtype)  # [..., K, T]
    window = torch.hann_window(n_fft, periodic=True, device=log_mel_db.device, dtype=dtype)
    lead = power.shape[:-2]
    waveform = torchaudio.functional.griffinlim(
        power.reshape(-1, *power.shape[-2:]), window, n_fft, hop_length, n_fft, 2.0, n_iter, momentum,
        length if length is not None else (T - 1) * hop_length, False,
    )  # [N, L]
    return waveform.reshape(*lead, waveform.shape[-1])
