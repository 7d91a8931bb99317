"""Gaussian blur as a corruption: the inverse-heat-dissipation view (Rissanen et al. 2023).

Blurring with a Gaussian kernel of standard deviation sigma (in samples) multiplies
every Fourier coefficient by exp(-2 pi^2 sigma^2 |f|^2) (f in cycles/sample), a
deterministic low-pass filter: high frequencies vanish first, exactly the coarse-to-fine
order that white noise only approximates on power-law data. Applied with periodic
boundaries (in the Fourier domain) over the last ``ndim`` axes.
"""

from __future__ import annotations

import math

import torch

from audiospec.errors import AudiospecError
from audiospec.functional._shape import check_finite
from audiospec.functional.noise import NDim, radial_frequency

__all__ = ["gaussian_blur", "blur_transfer"]


def blur_transfer(signal_shape: tuple[int, ...], *, sigma: float, device=None) -> torch.Tensor:
    """Transfer function exp(-2 pi^2 sigma^2 |f|^2) on the rfft grid of ``signal_shape`` (float64).

    Args:
        signal_shape: the signal's last dims, ``(L,)`` or ``(H, W)``.
        sigma: standard deviation of the Gaussian kernel in samples, finite and >= 0.
        device: device of the result.

    Returns:
        Gains ``[L // 2 + 1]`` or ``[H, W // 2 + 1]`` (float64), 1 at DC.

    Raises:
        AudiospecError: a negative, NaN or infinite ``sigma``.
    """
    if not (math.isfinite(sigma) and sigma >= 0):
        raise AudiospecError(f"blur sigma must be a finite number >= 0 (in samples), got {sigma!r}")
    f = radial_frequency(signal_shape, device=device)
    return torch.exp(-2.0 * math.pi**2 * sigma**2 * f**2)


def gaussian_blur(x: torch.Tensor, *, sigma: float, ndim: NDim = 2) -> torch.Tensor:
    """Blur ``x`` ``[..., L]`` (ndim=1) or ``[..., H, W]`` (ndim=2) with a Gaussian of ``sigma`` samples.

    Args:
        x: signals ``[..., L]`` or images / spectrograms ``[..., H, W]``.
        sigma: kernel standard deviation in samples, >= 0 (0 returns ``x``).
        ndim: 1 or 2, the number of trailing dims blurred (periodic boundaries).

    Returns:
        The blurred signal, ``x``'s shape and dtype (computed in float64).

    Raises:
        AudiospecError: ``ndim`` not 1 or 2 or larger than ``x.ndim``, NaN / Inf in ``x``, or a bad ``sigma``.
    """
    if ndim not in (1, 2) or x.ndim < ndim:
        raise AudiospecError(f"gaussian_blur needs ndim 1 or 2 and at least that many dims, got ndim={ndim}, shape {tuple(x.shape)}")
    check_finite(x, name="signal")
    signal_shape = tuple(x.shape[-ndim:])
    dims = tuple(range(-ndim, 0))
    transfer = blur_transfer(signal_shape, sigma=sigma, device=x.device)
    coeffs = torch.fft.rfftn(x.to(torch.float64), dim=dims)
    return torch.fft.irfftn(coeffs * transfer, s=signal_shape, dim=dims).to(x.dtype)
