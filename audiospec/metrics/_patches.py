"""Input checks shared by the set metrics: a set of log-mel patches ``[N, 1, M, T]`` or ``[N, M, T]``."""

from __future__ import annotations

import torch

from audiospec.errors import AudiospecError
from audiospec.functional._shape import check_finite

__all__ = ["as_patch_set", "as_patch_pair"]


def as_patch_set(x: torch.Tensor, *, name: str, min_size: int = 2) -> torch.Tensor:
    """``[N, 1, M, T]`` or ``[N, M, T]`` -> ``[N, M, T]`` float64, checked (N >= 1, M, T >= ``min_size``, finite)."""
    if not isinstance(x, torch.Tensor):
        raise AudiospecError(f"{name} must be a torch.Tensor [N, 1, M, T], got {type(x).__name__}")
    if x.ndim == 4 and x.shape[1] == 1:
        x = x[:, 0]  # [N, 1, M, T] -> [N, M, T]
    if x.ndim != 3:
        raise AudiospecError(
            f"{name} must be a set of log-mel patches [N, 1, M, T] or [N, M, T], got shape {tuple(x.shape)}"
        )
    N, M, T = x.shape
    if N < 1:
        raise AudiospecError(f"{name} is empty (shape {tuple(x.shape)}); pass at least one patch")
    if M < min_size or T < min_size:
        raise AudiospecError(f"{name} patches are {M} x {T}; need at least {min_size} mel bands and {min_size} frames")
    if not (torch.is_floating_point(x) or x.dtype in (torch.int32, torch.int64)):
        raise AudiospecError(f"{name} must hold real numbers, got dtype {x.dtype}")
    check_finite(x, name=name)
    return x.to(torch.float64)


def as_patch_pair(
    generated: torch.Tensor, real: torch.Tensor, *, min_size: int = 2
) -> tuple[torch.Tensor, torch.Tensor]:
    """Both sets as ``[N, M, T]`` / ``[K, M, T]`` float64, with the same patch size ``M x T``."""
    gen = as_patch_set(generated, name="generated", min_size=min_size)
    ref = as_patch_set(real, name="real", min_size=min_size)
    if gen.shape[1:] != ref.shape[1:]:
        raise AudiospecError(
            f"generated patches are {tuple(gen.shape[1:])} (M, T) but real ones are {tuple(ref.shape[1:])}; "
            "cut both sets to the same number of mel bands and frames"
        )
    return gen, ref
