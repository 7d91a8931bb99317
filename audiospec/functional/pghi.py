"""Phase from STFT magnitude by phase-gradient heap integration (PGHI).

Průša, Balazs & Søndergaard (2017), "A noniterative method for reconstruction of phase from STFT
magnitude", IEEE/ACM TASLP 25(5); Průša & Holighaus (2017), "Phase vocoder done right", EUSIPCO.

For a Gaussian window g(t) = exp(-pi t^2 / gamma) (t in samples) the STFT phase phi and the log
magnitude s = log|V| are tied by (time-invariant phase convention, omega in cycles per sample)

    d phi / d t     = 2 pi omega + (1 / gamma) d s / d omega,
    d phi / d omega = -gamma d s / d t.

A Hann window of n_fft samples is close to the Gaussian with gamma = 0.25645 n_fft^2 (the paper's
fitted value for Hann; ltfat's ``pghi`` uses the same). On the grid of ``torch.stft`` (bin k,
frame n, hop a, M = n_fft) the phase steps between neighbouring coefficients are, with centred
differences of s,

    time step      (n -> n + 1):  dphi_t[k, n] = 2 pi a k / M + (a M / gamma) (s[k + 1, n] - s[k - 1, n]) / 2,
    frequency step (k -> k + 1):  dphi_f[k, n] = -(gamma / (a M)) (s[k, n + 1] - s[k, n - 1]) / 2 - pi,

where the -pi comes from ``torch.stft`` putting the window's centre at n_fft / 2 of each FFT frame
(phase e^{-i pi k} relative to a centred frame). Heap integration: starting from the largest
coefficient (phase 0), repeatedly take the largest coefficient whose phase is known and give each
neighbour whose phase is not yet known the trapezoid step phi[nb] = phi[here] +- (step[here] +
step[nb]) / 2, so the phase always flows along the largest coefficients, where the gradient
estimates are reliable. When the heap runs dry (an island of coefficients separated by quiet
ones), the largest coefficient not yet reached seeds it again. Coefficients below ``tol`` times
the spectrogram's maximum are not integrated and keep phase 0.

Cost: the gradients are batched torch; the integration is sequential by nature and runs in
Python (``heapq``) one spectrogram at a time, about 2-3 us per coefficient on a 2.5 GHz Xeon
(a 6-s clip at n_fft 1024, hop 256: 513 x 517 coefficients, ~0.6 s, the time of ~21 Griffin-Lim
iterations on one thread; ``benchmarks/bench_inversion.py``).
"""

from __future__ import annotations

import heapq
import math

import numpy as np
import torch

from audiospec.errors import AudiospecError
from audiospec.functional._shape import check_finite

__all__ = ["HANN_GAMMA", "pghi_phase", "phase_gradients"]

HANN_GAMMA = 0.25645  # gamma / win_length^2 of the Gaussian closest to a Hann window (Průša et al. 2017; ltfat)


def _check(magnitude: torch.Tensor, *, n_fft: int, hop_length: int) -> None:
    if hop_length < 1 or hop_length > n_fft:
        raise AudiospecError(f"need 1 <= hop_length <= n_fft, got hop_length={hop_length}, n_fft={n_fft}")
    if magnitude.ndim < 2 or magnitude.shape[-2] != n_fft // 2 + 1:
        raise AudiospecError(
            f"magnitude has shape {tuple(magnitude.shape)}, n_fft={n_fft} needs [..., {n_fft // 2 + 1}, T]"
        )
    if magnitude.is_complex():
        raise AudiospecError("magnitude must be real; pass |STFT| (magnitude), not the complex STFT")
    check_finite(magnitude, name="magnitude")
    if bool((magnitude < 0).any()):
        raise AudiospecError("magnitude must be non-negative; pass |STFT| (magnitude), not a signed signal")


def phase_gradients(
    magnitude: torch.Tensor, *, n_fft: int, hop_length: int, floor: float = 1e-5
) -> tuple[torch.Tensor, torch.Tensor]:
    """Phase steps (radians) between neighbouring STFT coefficients, estimated from the magnitude.

    ``magnitude`` ``[..., K, T]`` (K = n_fft // 2 + 1) is |torch.stft| with a Hann window of n_fft
    samples; returns (``dphi_t``, ``dphi_f``), both ``[..., K, T]`` in float64: the phase step to the
    next frame and to the next bin (module doc). The log magnitude is floored at ``floor`` times
    each spectrogram's maximum, so that silent coefficients do not give infinite slopes. Centred
    differences; the magnitude is mirrored at DC and Nyquist (|V| is even there, so the frequency
    slope is 0) and repeated at the first and last frame.
    """
    _check(magnitude, n_fft=n_fft, hop_length=hop_length)
    if not 0.0 < floor < 1.0:
        raise AudiospecError(f"floor must lie in (0, 1), got {floor}")
    a, M = hop_length, n_fft
    gamma = HANN_GAMMA * n_fft**2
    x = magnitude.to(torch.float64)
    peak = x.amax(dim=(-2, -1), keepdim=True).clamp_min(1e-300)  # [..., 1, 1]
    s = torch.log(torch.maximum(x, floor * peak))  # [..., K, T]
    K, T = s.shape[-2:]
    # d s / d k: mirror at DC and Nyquist (s[-1] = s[1], s[K] = s[K - 2]); K >= 2 since n_fft >= 2
    up = torch.cat([s[..., 1:, :], s[..., -2:-1, :]], dim=-2)  # s[k + 1]
    down = torch.cat([s[..., 1:2, :], s[..., :-1, :]], dim=-2)  # s[k - 1]
    ds_dk = 0.5 * (up - down)
    # d s / d n: repeat the first and last frame
    nxt = torch.cat([s[..., :, 1:], s[..., :, -1:]], dim=-1)  # s[n + 1]
    prv = torch.cat([s[..., :, :1], s[..., :, :-1]], dim=-1)  # s[n - 1]
    ds_dn = 0.5 * (nxt - prv)
    k = torch.arange(K, dtype=torch.float64, device=s.device).unsqueeze(-1)  # [K, 1]
    dphi_t = 2.0 * math.pi * a * k / M + (a * M / gamma) * ds_dk  # [K, 1] + [..., K, T]
    dphi_f = -(gamma / (a * M)) * ds_dn - math.pi
    return dphi_t, dphi_f


def _heap_integrate(mag: np.ndarray, dphi_t: np.ndarray, dphi_f: np.ndarray, tol: float) -> np.ndarray:
    """Heap integration of one spectrogram: ``[K, T]`` arrays (float64) -> phase ``[K, T]``.

    The heap holds magnitude ranks (0 = largest coefficient) rather than (magnitude, index) pairs:
    the same order, with cheaper comparisons; ties keep the row-major order of the coefficients.
    """
    K, T = mag.shape
    peak = float(mag.max()) if mag.size else 0.0
    if peak <= 0.0:
        return np.zeros((K, T))
    W = T + 2  # a one-coefficient border that is never "to do" removes all bounds checks
    shape = (K + 2, W)
    todo_np = np.zeros(shape, dtype=np.uint8)
    todo_np[1:-1, 1:-1] = mag > tol * peak
    padded, gt, gf = np.zeros(shape), np.zeros(shape), np.zeros(shape)
    padded[1:-1, 1:-1], gt[1:-1, 1:-1], gf[1:-1, 1:-1] = mag, dphi_t, dphi_f
    candidates = np.flatnonzero(todo_np)
    by_rank = candidates[np.argsort(-padded.ravel()[candidates], kind="stable")]  # cell of each rank
    rank_np = np.zeros(padded.size, dtype=np.int64)
    rank_np[by_rank] = np.arange(by_rank.size)
    cell, rank = by_rank.tolist(), rank_np.tolist()
    gt_l, gf_l = gt.ravel().tolist(), gf.ravel().tolist()
    todo = bytearray(todo_np.ravel().tobytes())
    phase = [0.0] * padded.size
    push, pop = heapq.heappush, heapq.heappop
    for seed_rank, seed in enumerate(cell):  # an island's largest coefficient, phase 0
        if not todo[seed]:
            continue
        todo[seed] = 0
        heap = [seed_rank]
        while heap:
            i = cell[pop(heap)]
            p, t_i, f_i = phase[i], gt_l[i], gf_l[i]
            j = i + 1  # next frame
            if todo[j]:
                todo[j] = 0
                phase[j] = p + 0.5 * (t_i + gt_l[j])
                push(heap, rank[j])
            j = i - 1  # previous frame
            if todo[j]:
                todo[j] = 0
                phase[j] = p - 0.5 * (t_i + gt_l[j])
                push(heap, rank[j])
            j = i + W  # next bin
            if todo[j]:
                todo[j] = 0
                phase[j] = p + 0.5 * (f_i + gf_l[j])
                push(heap, rank[j])
            j = i - W  # previous bin
            if todo[j]:
                todo[j] = 0
                phase[j] = p - 0.5 * (f_i + gf_l[j])
                push(heap, rank[j])
    return np.asarray(phase).reshape(shape)[1:-1, 1:-1]


def pghi_phase(magnitude: torch.Tensor, *, n_fft: int, hop_length: int, tol: float = 1e-5) -> torch.Tensor:
    """Phase ``[..., K, T]`` (radians) for an STFT magnitude ``[..., K, T]``, K = n_fft // 2 + 1, by PGHI.

    ``magnitude`` is |torch.stft| (``center=True``, periodic or symmetric Hann window of n_fft samples,
    hop ``hop_length``); ``magnitude * exp(1j * phase)`` is then an STFT whose ``torch.istft``
    approximates the signal (up to a global sign per island of coefficients). Coefficients below
    ``tol`` times each spectrogram's maximum (default 1e-5, -100 dB, as in the paper) get phase 0;
    the same level floors the log magnitude of the gradient estimates (:func:`phase_gradients`).

    Deterministic. Each spectrogram of the batch is integrated on its own, in Python on the CPU
    (module doc: ~0.6 s for a 6-s clip at n_fft 1024, hop 256); the result is returned on the input's device and dtype
    (float32 for non-float input).
    """
    _check(magnitude, n_fft=n_fft, hop_length=hop_length)
    if not 0.0 < tol < 1.0:
        raise AudiospecError(f"tol must lie in (0, 1), got {tol}")
    K, T = magnitude.shape[-2:]
    dphi_t, dphi_f = phase_gradients(magnitude, n_fft=n_fft, hop_length=hop_length, floor=tol)  # [..., K, T]
    mags = magnitude.detach().to("cpu", torch.float64).reshape(-1, K, T).numpy()
    steps_t = dphi_t.cpu().reshape(-1, K, T).numpy()
    steps_f = dphi_f.cpu().reshape(-1, K, T).numpy()
    phase = np.stack([_heap_integrate(m, t, f, tol) for m, t, f in zip(mags, steps_t, steps_f)])  # [N, K, T]
    dtype = magnitude.dtype if magnitude.dtype in (torch.float32, torch.float64) else torch.float32
    return torch.from_numpy(phase).reshape(magnitude.shape).to(device=magnitude.device, dtype=dtype)
