"""Noise priors eps ~ N(0, Sigma), Sigma diagonal in the 2-D Fourier basis of ``[..., F, T]``.

Every prior is an object with the same interface (DESIGN.md sections 2 and 4):

- ``sample(shape, *, generator, device, dtype)``: unit-variance noise of ``shape``
  ``[B, C, F, T]`` (any ``[..., F, T]``), coloured over the last two axes;
- ``spectrum(signal_shape)``: the diagonal S(f) of Sigma on the real-FFT grid
  ``[F, T // 2 + 1]`` (float64), normalised so that (1/N) sum_f S(f) = 1 over the full plane;
- ``whiten(x)``: Sigma^{-1/2} x = irfft2( rfft2(x) / sqrt(S) ) (orthonormal FFTs), so that
  whiten(eps) ~ N(0, I) — used for the optional whitened loss;
- ``to_dict()`` / ``tensors()``: what is needed to rebuild the prior from a run config and
  a checkpoint (:func:`prior_from_state`).

The three priors are :class:`WhiteNoise` (S = 1), :class:`ColoredNoise` (S ∝ |f|^-beta,
:func:`audiospec.functional.noise.power_law_spectrum`) and :class:`MatchedNoise` (S = the
data's mean power spectrum, :func:`audiospec.functional.noise.estimate_spectrum`). Under
the matched prior SNR(f, t) is the same at every frequency.
"""

from __future__ import annotations

import math
from dataclasses import dataclass
from typing import Any, ClassVar, Literal, Sequence, get_args

import torch

from audiospec.errors import AudiospecError
from audiospec.functional._shape import check_finite
from audiospec.functional.noise import (
    colored_noise,
    estimate_spectrum,
    hermitian_weights,
    matched_noise,
    normalize_spectrum,
    power_law_spectrum,
    radial_frequency,
)

__all__ = [
    "PriorKind",
    "PRIOR_KINDS",
    "NoisePrior",
    "WhiteNoise",
    "ColoredNoise",
    "MatchedNoise",
    "PriorConfig",
    "make_prior",
    "prior_from_state",
]

PriorKind = Literal["white", "colored", "matched"]
PRIOR_KINDS: tuple[str, ...] = get_args(PriorKind)


def _signal_shape(shape: Sequence[int]) -> tuple[int, int]:
    shape = tuple(int(s) for s in shape)
    if len(shape) < 2 or min(shape[-2:]) < 1:
        raise AudiospecError(f"noise priors act on [..., F, T] with F, T >= 1; got shape {shape}")
    return shape[-2], shape[-1]


def _whiten(x: torch.Tensor, spectrum: torch.Tensor) -> torch.Tensor:
    """irfft2(rfft2(x) / sqrt(S)) over the last two axes of ``x`` ``[..., F, T]``; S ``[F, T // 2 + 1]``."""
    F, T = x.shape[-2:]
    coeffs = torch.fft.rfft2(x, norm="ortho")  # [..., F, T // 2 + 1]
    scale = spectrum.rsqrt().to(device=x.device, dtype=coeffs.real.dtype)
    return torch.fft.irfft2(coeffs * scale, s=(F, T), norm="ortho")


class NoisePrior:
    """Common interface of the noise priors (see module doc). Subclasses set ``kind``."""

    kind: ClassVar[PriorKind]

    def spectrum(self, signal_shape: Sequence[int]) -> torch.Tensor:
        """S on the rfft grid of ``signal_shape`` = (F, T): ``[F, T // 2 + 1]`` float64, full-plane mean 1."""
        raise NotImplementedError

    def sample(
        self,
        shape: Sequence[int],
        *,
        generator: torch.Generator | None = None,
        device: torch.device | str | None = None,
        dtype: torch.dtype = torch.float32,
    ) -> torch.Tensor:
        """Unit-variance noise of ``shape`` ``[..., F, T]`` with power spectrum S (drawn on the generator's device)."""
        raise NotImplementedError

    def whiten(self, x: torch.Tensor) -> torch.Tensor:
        """Sigma^{-1/2} x over the last two axes of ``x`` ``[..., F, T]`` (same shape and dtype)."""
        return _whiten(x, self.spectrum(_signal_shape(x.shape)))

    def to_dict(self) -> dict[str, Any]:
        """Plain description for the run config (tensors go to :meth:`tensors`)."""
        return {"kind": self.kind}

    def tensors(self) -> dict[str, torch.Tensor]:
        """Tensors needed to rebuild the prior (saved in checkpoints)."""
        return {}


def _draw_device(generator: torch.Generator | None, device: torch.device | str | None) -> torch.device | str | None:
    return generator.device if generator is not None else device


@dataclass(frozen=True, kw_only=True)
class WhiteNoise(NoisePrior):
    """S(f) = 1: eps ~ N(0, I). Whitening is the identity."""

    kind: ClassVar[PriorKind] = "white"

    def spectrum(self, signal_shape: Sequence[int]) -> torch.Tensor:
        return torch.ones_like(radial_frequency(_signal_shape(signal_shape)))

    def sample(self, shape, *, generator=None, device=None, dtype=torch.float32):
        _signal_shape(shape)
        eps = torch.randn(tuple(shape), generator=generator, device=_draw_device(generator, device), dtype=dtype)
        return eps.to(device) if device is not None else eps

    def whiten(self, x: torch.Tensor) -> torch.Tensor:
        _signal_shape(x.shape)
        return x


@dataclass(frozen=True, kw_only=True)
class ColoredNoise(NoisePrior):
    """S(f) ∝ |f|^-beta (beta = 1 pink, 2 brown, -1 blue), DC at S(f_min), unit variance.

    See :func:`audiospec.functional.noise.power_law_spectrum` for the grid and DC handling.
    """

    beta: float = 1.0
    kind: ClassVar[PriorKind] = "colored"

    def __post_init__(self) -> None:
        if not isinstance(self.beta, (int, float)) or not math.isfinite(self.beta):
            raise AudiospecError(f"ColoredNoise beta must be a finite number (1 = pink, 2 = brown), got {self.beta!r}")

    def spectrum(self, signal_shape: Sequence[int]) -> torch.Tensor:
        return power_law_spectrum(_signal_shape(signal_shape), beta=float(self.beta))

    def sample(self, shape, *, generator=None, device=None, dtype=torch.float32):
        _signal_shape(shape)
        eps = colored_noise(tuple(shape), beta=float(self.beta), ndim=2, generator=generator, device=device, dtype=dtype)
        return eps.to(device) if device is not None else eps

    def to_dict(self) -> dict[str, Any]:
        return {"kind": self.kind, "beta": float(self.beta)}


def _normalised_with_floor(spectrum: torch.Tensor, signal_shape: tuple[int, int], floor: float) -> torch.Tensor:
    """Full-plane mean 1, values >= floor. Idempotent bit for bit, so a saved spectrum reloads unchanged."""
    weights = hermitian_weights(signal_shape, dtype=torch.float64)
    n_full = signal_shape[0] * signal_shape[1]
    if abs(float((spectrum * weights).sum()) / n_full - 1.0) <= 1e-12 and float(spectrum.min()) >= floor:
        return spectrum.clone()  # already normalised (e.g. read back from a checkpoint)
    spectrum = normalize_spectrum(spectrum, signal_shape)
    return normalize_spectrum(spectrum.clamp_min(floor), signal_shape)


class MatchedNoise(NoisePrior):
    """S(f) = the data's mean power spectrum on a fixed ``signal_shape`` (F, T), unit variance.

    ``spectrum`` ``[F, T // 2 + 1]`` is renormalised to full-plane mean 1 and floored at
    ``floor`` (relative to that mean) so that :meth:`whiten` stays finite where the data
    has (almost) no power.
    """

    kind: ClassVar[PriorKind] = "matched"

    def __init__(self, spectrum: torch.Tensor, *, signal_shape: Sequence[int], floor: float = 1e-8) -> None:
        signal_shape = _signal_shape(signal_shape)
        grid = tuple(radial_frequency(signal_shape).shape)
        if not isinstance(spectrum, torch.Tensor) or tuple(spectrum.shape) != grid:
            got = tuple(spectrum.shape) if isinstance(spectrum, torch.Tensor) else type(spectrum).__name__
            raise AudiospecError(
                f"MatchedNoise spectrum must be a tensor on the rfft grid {grid} of signals {signal_shape}, got {got}; "
                "build it with MatchedNoise.from_data(patches)"
            )
        if not 0.0 <= floor < 1.0:
            raise AudiospecError(f"floor must lie in [0, 1), got {floor}")
        spectrum = spectrum.detach().to(device="cpu", dtype=torch.float64)
        check_finite(spectrum, name="MatchedNoise spectrum")
        self.signal_shape: tuple[int, int] = signal_shape
        self.floor = float(floor)
        self._spectrum = _normalised_with_floor(spectrum, signal_shape, floor)

    @classmethod
    def from_data(cls, patches: torch.Tensor, *, floor: float = 1e-8) -> "MatchedNoise":
        """Estimate S from training patches ``[N, C, F, T]`` (mean 2-D power spectrum over N and C)."""
        if patches.ndim != 4:
            raise AudiospecError(f"patches must have shape [N, C, F, T], got {tuple(patches.shape)}")
        return cls(estimate_spectrum(patches, ndim=2), signal_shape=patches.shape[-2:], floor=floor)

    def _check(self, signal_shape: Sequence[int]) -> None:
        if _signal_shape(signal_shape) != self.signal_shape:
            raise AudiospecError(
                f"this MatchedNoise prior was estimated on {self.signal_shape} patches, got signals of "
                f"{tuple(signal_shape)[-2:]}; estimate it on patches of the size you train and sample"
            )

    def spectrum(self, signal_shape: Sequence[int]) -> torch.Tensor:
        self._check(signal_shape)
        return self._spectrum.clone()

    def sample(self, shape, *, generator=None, device=None, dtype=torch.float32):
        self._check(shape)
        eps = matched_noise(tuple(shape), spectrum=self._spectrum, ndim=2, generator=generator, device=device, dtype=dtype)
        return eps.to(device) if device is not None else eps

    def to_dict(self) -> dict[str, Any]:
        return {"kind": self.kind, "signal_shape": list(self.signal_shape), "floor": self.floor}

    def tensors(self) -> dict[str, torch.Tensor]:
        return {"spectrum": self._spectrum.clone()}

    def __eq__(self, other: object) -> bool:
        return (
            isinstance(other, MatchedNoise)
            and other.signal_shape == self.signal_shape
            and other.floor == self.floor
            and torch.equal(other._spectrum, self._spectrum)
        )

    def __repr__(self) -> str:
        return f"MatchedNoise(signal_shape={self.signal_shape}, floor={self.floor})"


@dataclass(frozen=True, kw_only=True)
class PriorConfig:
    """Which prior a run uses (YAML: ``prior: {kind: colored, beta: 1.0}``).

    ``kind``: ``"white"``, ``"colored"`` (1/f^beta) or ``"matched"`` (estimated from the
    training patches by :func:`make_prior`). ``beta`` is used by ``"colored"`` only.
    """

    kind: PriorKind = "white"
    beta: float = 1.0

    def __post_init__(self) -> None:
        if self.kind not in PRIOR_KINDS:
            raise AudiospecError(f"unknown prior kind {self.kind!r}; choose one of {PRIOR_KINDS}")
        if not isinstance(self.beta, (int, float)) or not math.isfinite(self.beta):
            raise AudiospecError(f"prior beta must be a finite number, got {self.beta!r}")


def make_prior(config: PriorConfig, *, patches: torch.Tensor | None = None) -> NoisePrior:
    """Build the prior a :class:`PriorConfig` names; ``"matched"`` needs the training ``patches`` ``[N, C, F, T]``."""
    if config.kind == "white":
        return WhiteNoise()
    if config.kind == "colored":
        return ColoredNoise(beta=float(config.beta))
    if patches is None:
        raise AudiospecError("the 'matched' prior is estimated from data: pass patches=[N, C, F, T]")
    return MatchedNoise.from_data(patches)


def prior_from_state(description: dict[str, Any], tensors: dict[str, torch.Tensor]) -> NoisePrior:
    """Rebuild a prior from :meth:`NoisePrior.to_dict` and :meth:`NoisePrior.tensors` (as saved in checkpoints)."""
    kind = description.get("kind")
    if kind == "white":
        return WhiteNoise()
    if kind == "colored":
        return ColoredNoise(beta=float(description["beta"]))
    if kind == "matched":
        if "spectrum" not in tensors:
            raise AudiospecError("a 'matched' prior needs its 'spectrum' tensor, which the checkpoint lacks")
        return MatchedNoise(
            tensors["spectrum"], signal_shape=description["signal_shape"], floor=float(description.get("floor", 1e-8))
        )
    raise AudiospecError(f"unknown prior kind {kind!r} in the saved description; expected one of {PRIOR_KINDS}")
