"""Noise priors eps ~ N(0, Sigma), Sigma diagonal in the Fourier basis of the signal axes.

This module is the one home of the noise prior (DESIGN.md sections 2 and 4): what a user
types (:data:`PRIOR_NAMES`, ``beta=<number>``), the specification it parses into
(:class:`PriorSpec`), and the one constructor that turns a specification into noise
(:func:`make_prior`), used by analysis, corruption, training, comparison and the report.

Names a user types, in YAML configs and on the command line:

- ``white``: S(f) = 1, eps ~ N(0, I);
- ``pink``, ``brown``, ``blue``: S(f) ∝ |f|^-beta with beta = 1, 2, -1;
- ``beta=<number>``: any other power law, e.g. ``beta=2.66`` (the data's own slope);
- ``matched``: S(f) = the training data's mean power spectrum (estimated by :func:`make_prior`);
- ``matched_dct``: the training data's mean power per 2-D DCT coefficient, diagonal in that basis
  (:mod:`audiospec.diffusion.prior_dct`; the interface below, with ``spectrum`` its expected Fourier power).

Every prior object has the same interface and acts on the last ``ndim`` axes (2 for
spectrogram batches ``[..., F, T]``, 1 for waveforms ``[..., L]``):

- ``sample(shape, *, generator, device, dtype)``: unit-variance noise of ``shape``, made by
  ``colour(z)`` = S^{1/2} z from one white draw z, so the same generator state gives every prior
  the same underlying draw (paired samples across priors);
- ``spectrum(signal_shape)``: the diagonal S(f) of Sigma on the real-FFT grid
  (``[F, T // 2 + 1]`` or ``[L // 2 + 1]``, float64), normalised so that
  (1/N) sum_f S(f) = 1 over the full plane;
- ``whiten(x)``: Sigma^{-1/2} x = irfft( rfft(x) / sqrt(S) ) (orthonormal FFTs), so that
  whiten(eps) ~ N(0, I) — used for the optional whitened loss;
- ``spec``: the :class:`PriorSpec` it was built from; ``to_dict()`` / ``tensors()``: what
  is needed to rebuild it from a checkpoint (:func:`prior_from_state`).

Under the matched prior SNR(f, t) is the same at every frequency.
"""

from __future__ import annotations

import math
from dataclasses import dataclass
from typing import Any, ClassVar, Sequence, get_args

import torch

from audiospec.errors import AudiospecError
from audiospec.functional._shape import check_finite
from audiospec.functional.noise import (
    estimate_spectrum,
    hermitian_weights,
    normalize_spectrum,
    power_law_spectrum,
    radial_frequency,
)

__all__ = [
    "PriorKind",
    "PriorName",
    "PRIOR_NAMES",
    "NAMED_BETAS",
    "REFERENCE_PRIOR",
    "default_priors",
    "PriorSpec",
    "NoisePrior",
    "WhiteNoise",
    "ColoredNoise",
    "MatchedNoise",
    "DCTMatchedNoise",
    "make_prior",
    "prior_from_state",
]

from audiospec.diffusion.prior_base import NoisePrior, signal_shape_of as _signal_shape  # noqa: E402 - re-exported
from audiospec.diffusion.prior_dct import DCTMatchedNoise  # noqa: E402 - re-exported
from audiospec.diffusion.prior_spec import (  # noqa: E402 - re-exported: the prior's one home is this module
    NAMED_BETAS,
    PRIOR_NAMES,
    REFERENCE_PRIOR,
    PriorKind,
    PriorName,
    PriorSpec,
    check_beta,
    default_priors,
)


@dataclass(frozen=True, kw_only=True)
class WhiteNoise(NoisePrior):
    """S(f) = 1: eps ~ N(0, I). Whitening is the identity.

    Args:
        ndim: 2 (spectrograms ``[..., F, T]``) or 1 (waveforms ``[..., L]``).
    """

    ndim: int = 2
    kind: ClassVar[PriorKind] = "white"

    def spectrum(self, signal_shape: Sequence[int]) -> torch.Tensor:
        return torch.ones_like(radial_frequency(_signal_shape(signal_shape, self.ndim)))

    def colour(self, white: torch.Tensor) -> torch.Tensor:
        _signal_shape(white.shape, self.ndim)
        return white

    def whiten(self, x: torch.Tensor) -> torch.Tensor:
        _signal_shape(x.shape, self.ndim)
        return x


@dataclass(frozen=True, kw_only=True)
class ColoredNoise(NoisePrior):
    """S(f) ∝ |f|^-beta (beta = 1 pink, 2 brown, -1 blue), DC at S(f_min), unit variance.

    See :func:`audiospec.functional.noise.power_law_spectrum` for the grid and DC handling.

    Args:
        beta: the spectral exponent, finite.
        ndim: 2 (spectrograms ``[..., F, T]``) or 1 (waveforms ``[..., L]``).
    """

    beta: float = 1.0
    ndim: int = 2
    kind: ClassVar[PriorKind] = "power_law"

    def __post_init__(self) -> None:
        check_beta(self.beta, "ColoredNoise")

    @property
    def spec(self) -> PriorSpec:
        return PriorSpec(kind="power_law", beta=float(self.beta))

    def spectrum(self, signal_shape: Sequence[int]) -> torch.Tensor:
        return power_law_spectrum(_signal_shape(signal_shape, self.ndim), beta=float(self.beta))

    def to_dict(self) -> dict[str, Any]:
        return {"kind": self.kind, "beta": float(self.beta), "ndim": self.ndim}


def _normalised_with_floor(spectrum: torch.Tensor, signal_shape: tuple[int, ...], floor: float) -> torch.Tensor:
    """Full-plane mean 1, values >= floor. Idempotent bit for bit, so a saved spectrum reloads unchanged."""
    weights = hermitian_weights(signal_shape, dtype=torch.float64)
    n_full = math.prod(signal_shape)
    if abs(float((spectrum * weights).sum()) / n_full - 1.0) <= 1e-12 and float(spectrum.min()) >= floor:
        return spectrum.clone()  # already normalised (e.g. read back from a checkpoint)
    spectrum = normalize_spectrum(spectrum, signal_shape)
    return normalize_spectrum(spectrum.clamp_min(floor), signal_shape)


class MatchedNoise(NoisePrior):
    """S(f) = the data's mean power spectrum on a fixed ``signal_shape`` ((F, T) or (L,)), unit variance.

    ``spectrum`` (rfft grid of ``signal_shape``) is renormalised to full-plane mean 1 and
    floored at ``floor`` (relative to that mean) so that :meth:`whiten` stays finite where
    the data has (almost) no power.

    Args:
        spectrum: S on the rfft grid ``[F, T // 2 + 1]`` or ``[L // 2 + 1]``, any scale.
        signal_shape: ``(F, T)`` or ``(L,)``; the prior only acts on signals of this size.
        floor: smallest S relative to the mean, in [0, 1).

    Raises:
        AudiospecError: a spectrum that is not a tensor on the rfft grid of ``signal_shape``,
            a ``floor`` outside [0, 1), or NaN / Inf values.
    """

    kind: ClassVar[PriorKind] = "matched"

    def __init__(self, spectrum: torch.Tensor, *, signal_shape: Sequence[int], floor: float = 1e-8) -> None:
        ndim = len(tuple(signal_shape))
        signal_shape = _signal_shape(signal_shape, ndim)
        grid = tuple(radial_frequency(signal_shape).shape)
        if not isinstance(spectrum, torch.Tensor) or tuple(spectrum.shape) != grid:
            got = tuple(spectrum.shape) if isinstance(spectrum, torch.Tensor) else type(spectrum).__name__
            raise AudiospecError(
                f"MatchedNoise spectrum must be a tensor on the rfft grid {grid} of signals {signal_shape}, got {got}; "
                "build it with MatchedNoise.from_data(data)"
            )
        if not 0.0 <= floor < 1.0:
            raise AudiospecError(f"floor must lie in [0, 1), got {floor}")
        spectrum = spectrum.detach().to(device="cpu", dtype=torch.float64)
        check_finite(spectrum, name="MatchedNoise spectrum")
        self.signal_shape: tuple[int, ...] = signal_shape
        self.ndim = ndim
        self.floor = float(floor)
        self._spectrum = _normalised_with_floor(spectrum, signal_shape, floor)

    @classmethod
    def from_data(cls, data: torch.Tensor, *, ndim: int = 2, floor: float = 1e-8) -> "MatchedNoise":
        """Estimate S from training data: patches ``[N, C, F, T]`` (ndim=2) or clips ``[N, L]`` (ndim=1).

        Args:
            data: training patches ``[N, C, F, T]`` (ndim=2) or clips ``[N, L]`` (ndim=1).
            ndim: 2 or 1.
            floor: smallest S relative to the mean, in [0, 1).

        Returns:
            The :class:`MatchedNoise` prior of the data's signal size.

        Raises:
            AudiospecError: ``data`` of another rank than ``ndim`` asks for.
        """
        want = {1: "[N, L]", 2: "[N, C, F, T]"}.get(ndim, "[N, L] or [N, C, F, T]")
        if data.ndim != len(want.split(",")):
            raise AudiospecError(f"data for a matched prior must have shape {want}, got {tuple(data.shape)}")
        return cls(estimate_spectrum(data, ndim=ndim), signal_shape=data.shape[-ndim:], floor=floor)

    def _check(self, signal_shape: Sequence[int]) -> None:
        if _signal_shape(signal_shape, self.ndim) != self.signal_shape:
            raise AudiospecError(
                f"this MatchedNoise prior was estimated on {self.signal_shape} signals, got "
                f"{tuple(signal_shape)[-self.ndim:]}; estimate it on data of the size you train and sample"
            )

    def spectrum(self, signal_shape: Sequence[int]) -> torch.Tensor:
        self._check(signal_shape)
        return self._spectrum.clone()

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


def make_prior(spec: PriorSpec | str, *, data: torch.Tensor | None = None, ndim: int = 2) -> NoisePrior:
    """The prior a :class:`PriorSpec` (or a name, see :data:`PRIOR_NAMES`) stands for, over ``ndim`` axes.

    ``"matched"`` is estimated from ``data``: training patches ``[N, C, F, T]`` (ndim=2) or
    clips ``[N, L]`` (ndim=1); ``"matched_dct"`` from patches (ndim=2 only).

    Args:
        spec: a :class:`PriorSpec` or a prior name (``"pink"``, ``"beta=1.5"``, ...).
        data: training data ``[N, C, F, T]`` or ``[N, L]``, needed by ``"matched"`` only.
        ndim: 2 (spectrograms) or 1 (waveforms).

    Returns:
        A :class:`WhiteNoise`, :class:`ColoredNoise`, :class:`MatchedNoise` or :class:`DCTMatchedNoise`.

    Raises:
        AudiospecError: an invalid name, ``ndim`` not 1 or 2, a matched prior without data, or ``"matched_dct"``
            with ndim=1.
    """
    if not isinstance(spec, PriorSpec):
        spec = PriorSpec.parse(spec)
    if ndim not in (1, 2):
        raise AudiospecError(f"ndim must be 1 (waveforms) or 2 (spectrograms), got {ndim!r}")
    if spec.kind == "white":
        return WhiteNoise(ndim=ndim)
    if spec.kind == "power_law":
        return ColoredNoise(beta=spec.beta, ndim=ndim)
    if data is None:
        raise AudiospecError(f"the {spec.name!r} prior is estimated from data: pass data=[N, C, F, T] (or [N, L] with "
                             "ndim=1 for 'matched')")
    if spec.kind == "matched_dct":
        if ndim != 2:
            raise AudiospecError("the 'matched_dct' prior is diagonal in the 2-D DCT of patches: use ndim=2")
        return DCTMatchedNoise.from_data(data)
    return MatchedNoise.from_data(data, ndim=ndim)


def prior_from_state(description: dict[str, Any], tensors: dict[str, torch.Tensor]) -> NoisePrior:
    """Rebuild a prior from :meth:`NoisePrior.to_dict` and :meth:`NoisePrior.tensors` (as saved in checkpoints).

    Checkpoints written before the ``power_law`` kind say ``"colored"``; both are read.

    Args:
        description: the saved :meth:`NoisePrior.to_dict`.
        tensors: the saved :meth:`NoisePrior.tensors` (the matched prior's ``spectrum`` ``[F, T // 2 + 1]``).

    Returns:
        The prior, equal to the one saved.

    Raises:
        AudiospecError: an unknown kind, or a matched prior without its ``spectrum`` tensor.
    """
    kind = description.get("kind")
    ndim = int(description.get("ndim", 2))
    if kind == "white":
        return WhiteNoise(ndim=ndim)
    if kind in ("power_law", "colored"):
        return ColoredNoise(beta=float(description["beta"]), ndim=ndim)
    if kind == "matched":
        if "spectrum" not in tensors:
            raise AudiospecError("a 'matched' prior needs its 'spectrum' tensor, which the checkpoint lacks")
        return MatchedNoise(
            tensors["spectrum"], signal_shape=description["signal_shape"], floor=float(description.get("floor", 1e-8))
        )
    if kind == "matched_dct" and "variance" in tensors:
        return DCTMatchedNoise(tensors["variance"], floor=float(description.get("floor", 1e-8)))
    raise AudiospecError(f"unknown prior kind {kind!r} in the saved description; expected one of {get_args(PriorKind)}")
