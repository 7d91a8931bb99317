"""The interface every noise prior implements (:mod:`audiospec.diffusion.priors` holds the priors, the one
constructor :func:`~audiospec.diffusion.priors.make_prior` and re-exports :class:`NoisePrior`).

A prior is N(0, Sigma) over the last ``ndim`` axes; this base class makes its noise from one white draw
(:meth:`NoisePrior.sample`), and, for a Sigma diagonal in the orthonormal Fourier basis with power S
(:meth:`NoisePrior.spectrum`), colours, whitens and gives log det Sigma. A prior diagonal in another basis
(:mod:`audiospec.diffusion.prior_dct`) overrides :meth:`~NoisePrior.colour`, :meth:`~NoisePrior.whiten` and
:meth:`~NoisePrior.log_det`.
"""

from __future__ import annotations

from typing import Any, ClassVar, Sequence

import torch

from audiospec.diffusion.prior_spec import PriorKind, PriorSpec
from audiospec.errors import AudiospecError
from audiospec.functional.noise import colour_white, hermitian_weights

__all__ = ["NoisePrior", "signal_shape_of"]


def signal_shape_of(shape: Sequence[int], ndim: int) -> tuple[int, ...]:
    """The signal dims of ``shape``: its last ``ndim`` sizes.

    Args:
        shape: a tensor shape ``[..., F, T]`` or ``[..., L]``.
        ndim: 2 or 1.

    Returns:
        ``(F, T)`` or ``(L,)``.

    Raises:
        AudiospecError: ``ndim`` not 1 or 2, too few dims, or a size below 1.
    """
    shape = tuple(int(s) for s in shape)
    if ndim not in (1, 2) or len(shape) < ndim or min(shape[-ndim:]) < 1:
        axes = "[..., F, T]" if ndim == 2 else "[..., L]"
        raise AudiospecError(f"this noise prior acts on {axes} with sizes >= 1; got shape {shape}")
    return shape[-ndim:]


def _whiten(x: torch.Tensor, spectrum: torch.Tensor, ndim: int) -> torch.Tensor:
    """Sigma^{-1/2} x over the last ``ndim`` axes of ``x``; S on their rfft grid."""
    signal = x.shape[-ndim:]
    dims = tuple(range(-ndim, 0))
    coeffs = torch.fft.rfftn(x, dim=dims, norm="ortho")  # [..., (F,) T // 2 + 1]
    scale = spectrum.rsqrt().to(device=x.device, dtype=coeffs.real.dtype)
    return torch.fft.irfftn(coeffs * scale, s=signal, dim=dims, norm="ortho")


def _draw_device(generator: torch.Generator | None, device: torch.device | str | None) -> torch.device | str | None:
    return generator.device if generator is not None else device


class NoisePrior:
    """Common interface of the noise priors (see module doc). Subclasses set ``kind`` and ``ndim``."""

    kind: ClassVar[PriorKind]
    ndim: int = 2

    @property
    def spec(self) -> PriorSpec:
        """The :class:`PriorSpec` this prior realises."""
        return PriorSpec(kind=self.kind)

    @property
    def name(self) -> str:
        """The name a user types for this prior (``spec.name``)."""
        return self.spec.name

    def spectrum(self, signal_shape: Sequence[int]) -> torch.Tensor:
        """S on the rfft grid of ``signal_shape``: float64, full-plane mean 1.

        Args:
            signal_shape: the signal dims ``(F, T)`` (ndim=2) or ``(L,)`` (ndim=1); leading dims are ignored.

        Returns:
            S ``[F, T // 2 + 1]`` or ``[L // 2 + 1]`` (float64).
        """
        raise NotImplementedError

    def sample(
        self,
        shape: Sequence[int],
        *,
        generator: torch.Generator | None = None,
        device: torch.device | str | None = None,
        dtype: torch.dtype = torch.float32,
    ) -> torch.Tensor:
        """Unit-variance noise of ``shape`` with power spectrum S: :meth:`colour` of a white float64 draw z
        (drawn on the generator's device). Every prior turns the same generator state into the same z, so
        sample k of each prior comes from one underlying draw: the paired design of prior comparisons.

        Args:
            shape: output shape ``(..., F, T)`` (ndim=2) or ``(..., L)`` (ndim=1).
            generator: source of randomness.
            device: device of the result.
            dtype: dtype of the result (drawn and coloured in float64).

        Returns:
            eps of ``shape``.
        """
        signal_shape_of(shape, self.ndim)
        white = torch.randn(tuple(shape), generator=generator, device=_draw_device(generator, device),
                            dtype=torch.float64)
        eps = self.colour(white).to(dtype)
        return eps.to(device) if device is not None else eps

    def colour(self, white: torch.Tensor) -> torch.Tensor:
        """S^{1/2} z in the orthonormal Fourier basis of the last ``ndim`` axes: this prior's noise made from a
        white draw z (same shape and dtype).

        Args:
            white: white noise z ``[..., F, T]`` (ndim=2) or ``[..., L]`` (ndim=1).

        Returns:
            S^{1/2} z, ``white``'s shape and dtype.
        """
        return colour_white(white, spectrum=self.spectrum(signal_shape_of(white.shape, self.ndim)), ndim=self.ndim)

    def whiten(self, x: torch.Tensor) -> torch.Tensor:
        """Sigma^{-1/2} x over the last ``ndim`` axes of ``x`` (same shape and dtype).

        Args:
            x: ``[..., F, T]`` (ndim=2) or ``[..., L]`` (ndim=1).

        Returns:
            Sigma^{-1/2} x, ``x``'s shape.
        """
        return _whiten(x, self.spectrum(signal_shape_of(x.shape, self.ndim)), self.ndim)

    def log_det(self, signal_shape: Sequence[int]) -> float:
        """log det Sigma of one signal (one channel) of ``signal_shape``: Σ_k m_k log S_k over the rfft grid (m_k the
        Hermitian multiplicities, so the sum runs over the full plane).

        Args:
            signal_shape: ``(F, T)`` (ndim=2) or ``(L,)`` (ndim=1).

        Returns:
            log det Sigma (nats).
        """
        shape = signal_shape_of(signal_shape, self.ndim)
        weights = hermitian_weights(shape, dtype=torch.float64)
        return float((weights * self.spectrum(shape).log()).sum())

    def to_dict(self) -> dict[str, Any]:
        """Plain description for the run config (tensors go to :meth:`tensors`).

        Returns:
            A JSON-ready dict with at least ``kind`` and ``ndim``.
        """
        return {"kind": self.kind, "ndim": self.ndim}

    def tensors(self) -> dict[str, torch.Tensor]:
        """Tensors needed to rebuild the prior (saved in checkpoints).

        Returns:
            ``{name: tensor}``; empty for the parametric priors.
        """
        return {}
