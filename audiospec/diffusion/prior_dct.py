"""The data-matched prior diagonal in the 2-D DCT basis of the patches (prior name ``matched_dct``; issue 25).

The ``matched`` prior equalises the signal-to-noise ratio per Fourier mode of a periodic, stationary model of
the patches. Log-mel patches are neither periodic (a patch's top and bottom mel bins are not neighbours) nor
stationary along mel (low bins carry more power), and the quefrency bands of the cepstral measures are DCT bands.
This prior is the matched prior in that basis: eps = idct2(sqrt(v) ⊙ dct2(z)), z white, v_{k,l} the training
patches' mean power per 2-D DCT coefficient normalised to mean 1 (floored at ``floor`` times the mean, as the
Fourier matched prior). Under it every 2-D DCT coefficient has the same SNR at every time.

:meth:`DCTMatchedNoise.colour`, :meth:`~DCTMatchedNoise.whiten` and :meth:`~DCTMatchedNoise.log_det` are exact;
:meth:`~DCTMatchedNoise.spectrum` is the noise's expected power per rfft bin (the Fourier diagonal of its
covariance), which is all a Fourier-diagonal computation can use: the linear-Gaussian field built from it is an
approximation for this prior (the exact Gaussian calibration of a ``matched_dct`` model is diagonal in the DCT:
:class:`audiospec.measures.gaussian.DCTGaussianVelocity`).
"""

from __future__ import annotations

from typing import Any, ClassVar, Sequence

import torch

from audiospec.diffusion.prior_base import NoisePrior, signal_shape_of
from audiospec.diffusion.prior_spec import PriorKind
from audiospec.errors import AudiospecError
from audiospec.functional._shape import check_finite
from audiospec.functional.cepstrum import dct2, idct2

__all__ = ["DCTMatchedNoise"]


class DCTMatchedNoise(NoisePrior):
    """Noise diagonal in the 2-D DCT with variance ``variance`` per coefficient (module doc).

    Args:
        variance: v ``[M, T]`` per 2-D DCT coefficient, any scale (normalised to mean 1, floored).
        floor: smallest v relative to the mean, in [0, 1).

    Raises:
        AudiospecError: a variance that is not ``[M, T]``, not finite or negative, or a floor outside [0, 1).
    """

    kind: ClassVar[PriorKind] = "matched_dct"

    def __init__(self, variance: torch.Tensor, *, floor: float = 1e-8) -> None:
        if not isinstance(variance, torch.Tensor) or variance.ndim != 2 or min(variance.shape) < 1:
            raise AudiospecError(f"DCTMatchedNoise variance must be a tensor [M, T], got {variance!r:.80}")
        if not 0.0 <= floor < 1.0:
            raise AudiospecError(f"floor must lie in [0, 1), got {floor}")
        v = variance.detach().to(device="cpu", dtype=torch.float64)
        check_finite(v, name="DCTMatchedNoise variance")
        if bool((v < 0).any()) or not float(v.sum()) > 0:
            raise AudiospecError("DCTMatchedNoise variance must be non-negative and not all zero")
        v = (v / v.mean()).clamp_min(floor)
        self.ndim = 2
        self.floor = float(floor)
        self.variance = v / v.mean()
        self.signal_shape = tuple(int(n) for n in v.shape)

    @classmethod
    def from_data(cls, data: torch.Tensor, *, floor: float = 1e-8) -> "DCTMatchedNoise":
        """The prior of training patches ``[N, C, M, T]``: their mean power per 2-D DCT coefficient.

        Args:
            data: training patches ``[N, C, M, T]``.
            floor: smallest variance relative to the mean.

        Returns:
            The prior.

        Raises:
            AudiospecError: data of another rank.
        """
        if data.ndim != 4:
            raise AudiospecError(f"data for a matched_dct prior must have shape [N, C, M, T], got {tuple(data.shape)}")
        return cls(dct2(data.double()).square().mean(dim=(0, 1)), floor=floor)

    def _check(self, signal_shape: Sequence[int]) -> tuple[int, int]:
        shape = signal_shape_of(signal_shape, 2)
        if shape != self.signal_shape:
            raise AudiospecError(f"this matched_dct prior was estimated on {self.signal_shape} patches, got {shape}; "
                                 "estimate it on data of the size you train and sample")
        return shape

    def colour(self, white: torch.Tensor) -> torch.Tensor:
        """idct2(sqrt(v) dct2(z)) of a white draw z ``[..., M, T]`` (same shape and dtype)."""
        self._check(white.shape)
        return idct2(dct2(white) * self.variance.sqrt().to(device=white.device, dtype=white.dtype))

    def whiten(self, x: torch.Tensor) -> torch.Tensor:
        """Sigma^{-1/2} x = idct2(dct2(x) / sqrt(v)) of ``x`` ``[..., M, T]`` (same shape and dtype)."""
        self._check(x.shape)
        return idct2(dct2(x) * self.variance.rsqrt().to(device=x.device, dtype=x.dtype))

    def log_det(self, signal_shape: Sequence[int]) -> float:
        """log det Sigma = Σ log v of one ``(M, T)`` signal (nats)."""
        self._check(signal_shape)
        return float(self.variance.log().sum())

    def spectrum(self, signal_shape: Sequence[int]) -> torch.Tensor:
        """The noise's expected power per rfft bin ``[M, T // 2 + 1]`` float64 (module doc: an approximation for any
        computation that treats the noise as stationary)."""
        M, T = self._check(signal_shape)
        basis = idct2(torch.eye(M * T, dtype=torch.float64).reshape(M * T, M, T))  # [M T, M, T]: each DCT atom
        power = torch.fft.rfft2(basis, norm="ortho").abs().square()  # [M T, M, T // 2 + 1]
        return torch.einsum("k,kft->ft", self.variance.reshape(-1), power)

    def to_dict(self) -> dict[str, Any]:
        """``{"kind", "ndim", "signal_shape", "floor"}``."""
        return {"kind": self.kind, "ndim": 2, "signal_shape": list(self.signal_shape), "floor": self.floor}

    def tensors(self) -> dict[str, torch.Tensor]:
        """``{"variance": v [M, T]}``."""
        return {"variance": self.variance.clone()}

    def __eq__(self, other: object) -> bool:
        return isinstance(other, DCTMatchedNoise) and other.floor == self.floor and \
            torch.equal(other.variance, self.variance)

    def __repr__(self) -> str:
        return f"DCTMatchedNoise(signal_shape={self.signal_shape}, floor={self.floor})"
