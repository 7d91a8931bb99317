"""Shape helpers shared by the functional modules (one concept: broadcasting and checks)."""

from __future__ import annotations

import torch

from audiospec.errors import AudiospecError

__all__ = ["append_dims", "check_finite", "check_min_length"]


def append_dims(x: torch.Tensor, target_ndim: int) -> torch.Tensor:
    """Append trailing singleton dims so ``x`` broadcasts against a ``target_ndim`` tensor.

    ``[B] -> [B, 1, ..., 1]`` (k-diffusion's ``append_dims``).
    """
    missing = target_ndim - x.ndim
    if missing < 0:
        raise AudiospecError(f"cannot append dims: tensor has {x.ndim} dims, more than the target {target_ndim}")
    return x.reshape(*x.shape, *([1] * missing))


def check_finite(x: torch.Tensor, *, name: str) -> None:
    """Raise :class:`AudiospecError` if ``x`` holds NaN or Inf values."""
    if not torch.is_floating_point(x) and not torch.is_complex(x):
        return
    bad = ~torch.isfinite(x)
    if bool(bad.any()):
        n_bad = int(bad.sum())
        raise AudiospecError(
            f"{name} contains {n_bad} non-finite value(s) (NaN or Inf) out of {x.numel()}; "
            "clean or drop the offending clips before analysis"
        )


def check_min_length(x: torch.Tensor, *, minimum: int, name: str, dims: int = 1) -> None:
    """Raise :class:`AudiospecError` if any of the last ``dims`` sizes of ``x`` is below ``minimum``."""
    if x.ndim < dims:
        raise AudiospecError(f"{name} must have at least {dims} dim(s), got shape {tuple(x.shape)}")
    sizes = tuple(x.shape[-dims:])
    if min(sizes) < minimum:
        raise AudiospecError(
            f"{name} has trailing size {sizes}, shorter than one frame ({minimum} samples); "
            "use longer clips or a smaller n_fft / window"
        )
