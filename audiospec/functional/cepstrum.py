"""Cepstra: the orthonormal DCT-II of a log-mel spectrogram along the mel axis (MFCC),
and the 2-D DCT power spectrum of a log-mel patch.

The DCT-II basis is built in float64 (the same matrix as
``torchaudio.functional.create_dct(n_coeffs, n, norm="ortho")``, which builds it in
float32) and equals ``scipy.fft.dct(x, type=2, norm="ortho")`` to float64 precision.
"""

from __future__ import annotations

import math

import torch

from audiospec.errors import AudiospecError
from audiospec.functional._shape import check_finite
from audiospec.functional.noise import hermitian_weights

__all__ = ["quefrency_axis", "band_edges", "quefrency_bands", "dct_matrix", "dct", "dct2", "idct2", "cepstrum",
           "cepstral_power", "dct2_spectrum", "expected_cepstral_power"]


def quefrency_axis(n_mels: int, *, dtype: torch.dtype = torch.float64) -> torch.Tensor:
    """Quefrency of each DCT-II coefficient along ``n_mels`` mel bins: k / (2 M) cycles per mel bin, ``[M]``."""
    return torch.arange(n_mels, dtype=dtype) / (2.0 * n_mels)


def band_edges(n_bins: int, *, n_bands: int) -> torch.Tensor:
    """Log-spaced integer band edges over bins 1 .. n_bins - 1 (DC excluded).

    Args:
        n_bins: bins of the axis (e.g. DCT coefficients along mel), >= 3.
        n_bands: bands wanted, >= 2 (fewer come back when edges coincide after rounding).

    Returns:
        The edges ``[B + 1]`` (long), B <= n_bands: band b is bins ``edges[b]`` to ``edges[b + 1] - 1``.

    Raises:
        AudiospecError: fewer than 3 bins or 2 bands.
    """
    if n_bins < 3 or n_bands < 2:
        raise AudiospecError(f"need at least 3 bins and 2 bands, got n_bins={n_bins}, n_bands={n_bands}")
    edges = torch.logspace(0.0, torch.log10(torch.tensor(float(n_bins))).item(), n_bands + 1, dtype=torch.float64)
    return torch.unique(edges.round().long().clamp(1, n_bins))


def quefrency_bands(n_mels: int, *, n_bands: int) -> list[tuple[int, int]]:
    """The quefrency bands of the cepstral model, the band swap and the commit measure: band 0 = the DC
    coefficient, then the log-spaced bands of :func:`band_edges`.

    Args:
        n_mels: DCT coefficients along mel (= mel bins), >= 3.
        n_bands: log-spaced bands above DC, >= 2.

    Returns:
        ``[(start, stop)]`` DCT coefficients of each band, DC first.

    Raises:
        AudiospecError: fewer than 3 mel bins or 2 bands.
    """
    edges = band_edges(n_mels, n_bands=n_bands).tolist()
    return [(0, 1)] + list(zip(edges[:-1], edges[1:]))


def dct_matrix(n: int, *, n_coeffs: int | None = None, device=None, dtype: torch.dtype = torch.float32) -> torch.Tensor:
    """Orthonormal DCT-II basis ``[n, n_coeffs]``: ``x [..., n] @ D -> [..., n_coeffs]``.

    Args:
        n: length of the transformed axis, >= 1.
        n_coeffs: number of coefficients kept, 1 <= n_coeffs <= n (default ``n``).
        device: device of the result.
        dtype: dtype of the result (built in float64, then cast).

    Returns:
        The basis ``[n, n_coeffs]``; with ``n_coeffs = n`` it is orthogonal (D^T D = I).

    Raises:
        AudiospecError: ``n`` < 1 or ``n_coeffs`` outside [1, n].
    """
    n_coeffs = n if n_coeffs is None else n_coeffs
    if n < 1 or not 1 <= n_coeffs <= n:
        raise AudiospecError(f"need 1 <= n_coeffs <= n, got n={n}, n_coeffs={n_coeffs}")
    # X_k = sqrt(2 / n) * c_k * sum_j x_j cos(pi k (j + 1/2) / n),  c_0 = 1 / sqrt(2), c_k = 1 otherwise
    j = torch.arange(n, dtype=torch.float64)[:, None]  # [n, 1]
    k = torch.arange(n_coeffs, dtype=torch.float64)[None, :]  # [1, C]
    basis = torch.cos(math.pi * k * (j + 0.5) / n) * math.sqrt(2.0 / n)  # [n, C]
    basis[:, 0] /= math.sqrt(2.0)
    return basis.to(device=device, dtype=dtype)


def dct(x: torch.Tensor, *, dim: int = -1, n_coeffs: int | None = None, basis: torch.Tensor | None = None) -> torch.Tensor:
    """Orthonormal DCT-II of ``x`` along ``dim`` (first ``n_coeffs`` coefficients kept).

    Args:
        x: input ``[..., n, ...]`` with the transformed axis of length n at ``dim``.
        dim: the transformed axis.
        n_coeffs: number of coefficients kept (default all ``n``).
        basis: a precomputed :func:`dct_matrix` ``[n, C]`` (overrides ``n_coeffs``).

    Returns:
        ``x`` with axis ``dim`` replaced by C = ``n_coeffs`` coefficients; equals
        ``scipy.fft.dct(x, type=2, norm="ortho", axis=dim)[..., :C]``.

    Raises:
        AudiospecError: NaN / Inf in ``x`` or a bad ``n_coeffs``.
    """
    check_finite(x, name="input")
    n = x.shape[dim]
    if basis is None:
        basis = dct_matrix(n, n_coeffs=n_coeffs, device=x.device, dtype=x.dtype)
    moved = x.movedim(dim, -1)  # [..., n]
    return (moved @ basis).movedim(-1, dim)  # [..., n] @ [n, C] -> [..., C]


def cepstrum(log_mel: torch.Tensor, *, n_coeffs: int | None = None) -> torch.Tensor:
    """Mel-cepstrum (MFCC): DCT-II along the mel axis of ``log_mel`` ``[..., M, T]`` -> ``[..., C, T]``.

    With a dB log-mel input and ``n_coeffs=20`` this equals
    ``librosa.feature.mfcc(S=log_mel, n_mfcc=20)`` (librosa uses the same orthonormal DCT-II).

    Args:
        log_mel: log-mel spectrograms ``[..., M, T]``.
        n_coeffs: number of cepstral coefficients C kept (default M).

    Returns:
        Cepstra ``[..., C, T]``: coefficient k is quefrency k / (2 M) cycles per mel bin.

    Raises:
        AudiospecError: fewer than 2 dims, NaN / Inf values or a bad ``n_coeffs``.
    """
    if log_mel.ndim < 2:
        raise AudiospecError(f"cepstrum needs a log-mel spectrogram [..., M, T], got shape {tuple(log_mel.shape)}")
    return dct(log_mel, dim=-2, n_coeffs=n_coeffs)


def cepstral_power(log_mel: torch.Tensor) -> torch.Tensor:
    """Mean squared cepstral coefficient per quefrency: ``[..., M, T] -> [..., M]`` (mean over frames).

    Args:
        log_mel: log-mel spectrograms ``[..., M, T]``.

    Returns:
        Cepstral power ``[..., M]``, one value per quefrency (see :func:`cepstrum`).

    Raises:
        AudiospecError: fewer than 2 dims or NaN / Inf values.
    """
    return cepstrum(log_mel).pow(2).mean(dim=-1)


def dct2(x: torch.Tensor) -> torch.Tensor:
    """Orthonormal 2-D DCT-II of fields over their last two axes, as matrix products D_M^T x D_T.

    Args:
        x: fields ``[..., M, T]``.

    Returns:
        Coefficients ``[..., M, T]`` in ``x``'s dtype and device (:func:`idct2` inverts it).
    """
    M, T = x.shape[-2:]
    return dct_matrix(M, device=x.device, dtype=x.dtype).T @ x @ dct_matrix(T, device=x.device, dtype=x.dtype)


def idct2(c: torch.Tensor) -> torch.Tensor:
    """Inverse of :func:`dct2`: D_M c D_T^T.

    Args:
        c: 2-D DCT-II coefficients ``[..., M, T]``.

    Returns:
        Fields ``[..., M, T]``.
    """
    M, T = c.shape[-2:]
    return dct_matrix(M, device=c.device, dtype=c.dtype) @ c @ dct_matrix(T, device=c.device, dtype=c.dtype).T


def dct2_spectrum(field: torch.Tensor) -> torch.Tensor:
    """Power of the orthonormal 2-D DCT-II of ``field`` ``[..., H, W]`` -> ``[..., H, W]``.

    Index (i, j) holds frequency (i / (2H), j / (2W)) cycles/sample; the DCT avoids the
    wrap-around discontinuity of the FFT at the patch edges.

    Args:
        field: fields ``[..., H, W]`` (e.g. log-mel patches).

    Returns:
        Squared DCT-II coefficients ``[..., H, W]``; they sum to ``sum(field ** 2)`` (orthonormal).

    Raises:
        AudiospecError: fewer than 2 dims or NaN / Inf values.
    """
    if field.ndim < 2:
        raise AudiospecError(f"dct2_spectrum needs a field [..., H, W], got shape {tuple(field.shape)}")
    return dct(dct(field, dim=-1), dim=-2).pow(2)


def expected_cepstral_power(spectrum: torch.Tensor, signal_shape: tuple[int, int]) -> torch.Tensor:
    """E[cepstral_power(eps)] for stationary Gaussian noise eps ``[M, T]`` with 2-D spectrum S.

    ``spectrum`` is S on the rfft grid ``[M, T // 2 + 1]`` (as in
    :mod:`audiospec.functional.noise`). Along the mel axis each frame has the circulant
    covariance C[i, j] = c((i - j) mod M), c = IDFT of the marginal S_mel(k_y) = mean over
    k_x of S; the DCT-II coefficients then have variances diag(D^T C D). Returns ``[M]`` (float64).

    Args:
        spectrum: the noise's power spectrum S on the rfft grid ``[M, T // 2 + 1]``.
        signal_shape: ``(M, T)``, the shape of the noise field.

    Returns:
        Expected cepstral power ``[M]`` (float64), comparable with :func:`cepstral_power` of
        samples of that noise.

    Raises:
        AudiospecError: a ``spectrum`` whose shape is not ``[M, T // 2 + 1]``.
    """
    M, T = signal_shape
    if tuple(spectrum.shape) != (M, T // 2 + 1):
        raise AudiospecError(f"spectrum shape {tuple(spectrum.shape)} does not fit a {M} x {T} field")
    S = spectrum.to(torch.float64)
    weights = hermitian_weights((M, T), device=S.device)
    marginal = (S * weights).sum(dim=-1) / T  # [M]: mean over the full k_x axis
    lag_cov = torch.fft.ifft(marginal).real  # [M]: c(d)
    idx = torch.arange(M, device=S.device)
    cov = lag_cov[(idx[:, None] - idx[None, :]) % M]  # [M, M] circulant
    basis = dct_matrix(M, device=S.device, dtype=torch.float64)  # [M, M]
    return torch.einsum("ik,ij,jk->k", basis, cov, basis)
