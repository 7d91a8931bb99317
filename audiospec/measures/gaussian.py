"""The exact linear-Gaussian model: the known answer every measurement is calibrated on.

For zero-mean stationary Gaussian data x0 ~ N(0, diag λ) in the orthonormal 2-D Fourier
basis of ``[..., F, T]`` and a prior eps ~ N(0, diag S), the MMSE velocity of the
rectified-flow path is linear and diagonal (:mod:`audiospec.diffusion.schedule_design`):

    v_k(X, t) = c_k(t) X,   c_k(t) = (t S_k − (1 − t) λ_k) / ((1 − t)² λ_k + t² S_k).

:class:`LinearGaussianVelocity` is that field as a model (``field(x, t)``, like a trained
U-Net), so the same samplers and the same trajectory measures run on it: what the theory
predicts *in the basis that is measured*. :func:`gaussian_fields` draws data from the same
model, to train a *control network* whose measured order should match the exact one.
:class:`GaussianModel` is the exact network of the coarse-to-fine processes
(:mod:`audiospec.diffusion.processes.interpolant`, the band windows, blurring diffusion) for Gaussian data
diagonal in the 2-D DCT; :class:`DCTGaussianVelocity` is rectified flow's exact field for the same data (with a
white or ``matched_dct`` prior), and :func:`dct_gaussian_fields` samples that Gaussian exactly.
"""

from __future__ import annotations

from typing import Sequence

import torch

from audiospec.diffusion.priors import DCTMatchedNoise, NoisePrior, WhiteNoise
from audiospec.diffusion.processes import BandWindows, BlurringDiffusion, CepstralAR, HeatDissipation
from audiospec.diffusion.schedule_design import velocity_gain
from audiospec.errors import AudiospecError
from audiospec.functional._shape import check_finite
from audiospec.functional.cepstrum import dct2, idct2
from audiospec.functional.noise import colour_white, estimate_spectrum, radial_frequency

__all__ = ["DCTGaussianVelocity", "GaussianModel", "LinearGaussianVelocity", "data_spectrum", "dct_gaussian_fields",
           "gaussian_fields"]


def _check_spectrum(spectrum: torch.Tensor, signal_shape: tuple[int, int]) -> torch.Tensor:
    grid = tuple(radial_frequency(signal_shape).shape)
    if tuple(spectrum.shape) != grid:
        raise AudiospecError(f"data spectrum must lie on the rfft grid {grid} of {signal_shape} fields, "
                             f"got {tuple(spectrum.shape)}; estimate it with estimate_spectrum(x, ndim=2)")
    check_finite(spectrum, name="data spectrum")
    if bool((spectrum < 0).any()):
        raise AudiospecError("data spectrum must be non-negative (it is a power spectrum)")
    return spectrum.detach().to(device="cpu", dtype=torch.float64)


class LinearGaussianVelocity:
    """The exact velocity field ``field(x [B, C, F, T], t [B]) -> [B, C, F, T]`` for Gaussian data and a prior.

    ``data_spectrum`` λ ``[F, T // 2 + 1]`` is the data's (centred) power spectrum
    (:func:`audiospec.functional.noise.estimate_spectrum`); the prior's spectrum S on the
    same grid is taken from ``prior``. Computed in float64, returned in x's dtype.

    Args:
        data_spectrum: the data's power spectrum λ ``[F, T // 2 + 1]`` on the rfft grid.
        prior: the noise prior (its spectrum S).
        signal_shape: the field size ``(F, T)``.

    Raises:
        AudiospecError: a spectrum off the grid, not finite or negative.
    """

    def __init__(self, data_spectrum: torch.Tensor, *, prior: NoisePrior, signal_shape: Sequence[int]) -> None:
        F, T = (int(s) for s in signal_shape)
        self.signal_shape = (F, T)
        self.data_spectrum = _check_spectrum(data_spectrum, self.signal_shape)
        self.noise_spectrum = prior.spectrum(self.signal_shape).to(torch.float64)
        self.prior = prior

    def __call__(self, x: torch.Tensor, t: torch.Tensor) -> torch.Tensor:
        if tuple(x.shape[-2:]) != self.signal_shape:
            raise AudiospecError(f"this field is defined on {self.signal_shape} fields, got {tuple(x.shape)}")
        gain = velocity_gain(t.to(torch.float64).cpu(), data_variance=self.data_spectrum,
                             noise_variance=self.noise_spectrum)  # [B, F, Tr]
        gain = gain.reshape(gain.shape[0], *([1] * (x.ndim - 3)), *gain.shape[1:]).to(x.device)  # [B, 1.., F, Tr]
        coeffs = torch.fft.rfft2(x.to(torch.float64), norm="ortho")
        return torch.fft.irfft2(coeffs * gain, s=self.signal_shape, norm="ortho").to(x.dtype)


def data_spectrum(patches: torch.Tensor) -> torch.Tensor:
    """The centred training patches' 2-D power spectrum: the covariance of the exact Gaussian model.

    Args:
        patches: centred patches ``[N, 1, M, T]``.

    Returns:
        λ ``[M, T // 2 + 1]`` float64.
    """
    return estimate_spectrum(patches[:, 0].double(), ndim=2)


def gaussian_fields(spectrum: torch.Tensor, shape: Sequence[int], *, generator: torch.Generator | None = None,
                    dtype: torch.dtype = torch.float32) -> torch.Tensor:
    """Zero-mean Gaussian fields with a given power spectrum (not renormalised).

    Args:
        spectrum: the power spectrum ``[F, T // 2 + 1]`` on the rfft grid.
        shape: the fields' shape ``[..., F, T]``.
        generator: randomness of the draw.
        dtype: the result's dtype.

    Returns:
        Fields ``[..., F, T]``.

    Raises:
        AudiospecError: a spectrum off the grid, not finite or negative.
    """
    spectrum = _check_spectrum(spectrum, tuple(int(s) for s in tuple(shape)[-2:]))
    white = torch.randn(tuple(shape), generator=generator, dtype=torch.float64)
    return colour_white(white, spectrum=spectrum, ndim=2).to(dtype)


class GaussianModel:
    """The exact network of a coarse-to-fine process for data with independent Gaussian 2-D DCT coefficients.

    c0 ~ N(mean, var) per coefficient of the 2-D DCT (``[C, M, T]`` each, e.g. from
    :func:`~audiospec.diffusion.processes.coefficient_stats`: the Gaussian closest to the training split that is
    diagonal in that basis). Both schedules are diagonal there too (the cepstral one depends on the quefrency
    alone, so the DCT along time commutes with it), hence E[c0 | c_s] = mean + alpha var /
    (alpha^2 var + sigma^2) (c_s - alpha mean) per coefficient, returned in the process's
    parametrisation (in pixel space, like a network). The known answer of the tests and the
    calibration of the ``baselines`` stage: sampled with ``eta = 0`` on a fine grid it reproduces
    N(mean, var) (the sampler follows the probability flow of the interpolant).

    Args:
        process: a :class:`~audiospec.diffusion.processes.CepstralAR`,
            :class:`~audiospec.diffusion.processes.HeatDissipation`,
            :class:`~audiospec.diffusion.processes.BlurringDiffusion` or
            :class:`~audiospec.diffusion.processes.BandWindows` (moments in its whitened coordinates:
            :meth:`~audiospec.diffusion.processes.BandWindows.whitened_moments`).
        mean: the coefficients' mean ``[C, M, T]``.
        var: their variance ``[C, M, T]``, >= 0.

    Raises:
        AudiospecError: shapes that differ or a negative variance.
    """

    def __init__(self, process: CepstralAR | HeatDissipation | BlurringDiffusion | BandWindows, mean: torch.Tensor,
                 var: torch.Tensor) -> None:
        if mean.shape != var.shape or bool((var < 0).any()):
            raise AudiospecError(f"mean {tuple(mean.shape)} and var {tuple(var.shape)} must have the same shape, "
                                 "var >= 0")
        self.process, self.mean, self.var = process, mean.double(), var.double()

    def __call__(self, x: torch.Tensor, s: torch.Tensor) -> torch.Tensor:
        c = dct2(x.double())  # [B, C, M, T]
        s = s.double().cpu()
        alpha, sigma = (v.to(device=c.device, dtype=c.dtype) for v in self.process.schedule(s, tuple(x.shape[-2:])))
        mean, var = self.mean.to(device=c.device, dtype=c.dtype), self.var.to(device=c.device, dtype=c.dtype)
        denominator = alpha.square() * var + sigma.square()
        gain = torch.where(denominator > 0, alpha * var / denominator.clamp_min(1e-300), torch.zeros_like(c))
        c0_hat = mean + gain * (c - alpha * mean)
        return idct2(self.process.output_for(c0_hat, c, s)).to(x.dtype)  # output_for is diagonal in this basis


def dct_gaussian_fields(variance: torch.Tensor, shape: Sequence[int], *, generator: torch.Generator | None = None,
                        dtype: torch.dtype = torch.float32) -> torch.Tensor:
    """Zero-mean Gaussian fields with independent 2-D DCT coefficients of variance ``variance`` (the Gaussian closest
    to non-stationary patches that is diagonal in the DCT; sampled exactly).

    Args:
        variance: per 2-D DCT coefficient ``[M, T]``, >= 0.
        shape: the fields' shape ``[..., M, T]``.
        generator: randomness of the draw.
        dtype: the result's dtype.

    Returns:
        Fields ``[..., M, T]``.

    Raises:
        AudiospecError: a variance of another size or negative.
    """
    if tuple(variance.shape) != tuple(shape)[-2:] or bool((variance < 0).any()):
        raise AudiospecError(f"variance must be [M, T] = {tuple(shape)[-2:]} and >= 0, got {tuple(variance.shape)}")
    white = torch.randn(tuple(shape), generator=generator, dtype=torch.float64)
    return idct2(white * variance.double().sqrt()).to(dtype)


class DCTGaussianVelocity:
    """The exact rectified-flow velocity ``field(x [B, C, M, T], t [B])`` for zero-mean data with independent 2-D DCT
    coefficients of variance lambda and a prior diagonal in the same basis (white or ``matched_dct``):
    v = idct2(c(t) ⊙ dct2(x)), c_k(t) = (t S_k − (1 − t) lambda_k) / ((1 − t)² lambda_k + t² S_k).

    Args:
        variance: lambda per 2-D DCT coefficient ``[M, T]``, > 0.
        prior: a :class:`~audiospec.diffusion.priors.WhiteNoise` or
            :class:`~audiospec.diffusion.priors.DCTMatchedNoise` of that size.

    Raises:
        AudiospecError: a prior that is not diagonal in the 2-D DCT.
    """

    def __init__(self, variance: torch.Tensor, *, prior: WhiteNoise | DCTMatchedNoise) -> None:
        if isinstance(prior, DCTMatchedNoise):
            noise = prior.variance
        elif isinstance(prior, WhiteNoise):
            noise = torch.ones_like(variance, dtype=torch.float64)
        else:
            raise AudiospecError(f"the DCT-diagonal exact field needs a white or matched_dct prior, got {prior.name!r}")
        self.variance, self.noise = variance.double().cpu(), noise.double().cpu()

    def __call__(self, x: torch.Tensor, t: torch.Tensor) -> torch.Tensor:
        gain = velocity_gain(t.to(torch.float64).cpu(), data_variance=self.variance, noise_variance=self.noise)
        gain = gain.reshape(gain.shape[0], *([1] * (x.ndim - 3)), *gain.shape[1:]).to(x.device)  # [B, 1.., M, T]
        return idct2(dct2(x.double()) * gain).to(x.dtype)
