"""The resolution shift of a timestep schedule (Esser et al. 2024, "resolution-dependent shifting of timestep
schedules"): t' = s t / (1 + (s - 1) t), its inverse, and s for a patch size (:class:`~audiospec.diffusion.timesteps.
ShiftedTimesteps` samples with it). float64 throughout; t = 1 is noise."""

from __future__ import annotations

import math
from typing import Sequence

import torch

from audiospec.errors import AudiospecError

__all__ = ["check_shift", "resolution_shift", "shift_time", "unshift_time"]


def check_shift(shift: float) -> None:
    """A resolution shift must be a finite positive number (1 = no shift).

    Args:
        shift: the shift s.

    Raises:
        AudiospecError: any other value.
    """
    if not (isinstance(shift, (int, float)) and math.isfinite(shift) and shift > 0):
        raise AudiospecError(f"time shift s must be a finite positive number (1 = no shift), got {shift!r}")


def shift_time(t: torch.Tensor | float, *, shift: float) -> torch.Tensor:
    """t' = s t / (1 + (s - 1) t) (Esser et al. 2024); s > 1 moves t towards noise (t = 1). float64.

    Args:
        t: times ``[*t]`` in [0, 1] (a float works too).
        shift: s, finite and > 0 (1 = no shift).

    Returns:
        t' ``[*t]`` float64.

    Raises:
        AudiospecError: a ``shift`` that is not a finite positive number.
    """
    check_shift(shift)
    t = torch.as_tensor(t, dtype=torch.float64)
    return shift * t / (1.0 + (shift - 1.0) * t)


def unshift_time(t_shifted: torch.Tensor | float, *, shift: float) -> torch.Tensor:
    """Inverse of :func:`shift_time`: t = t' / (s - (s - 1) t'). float64.

    Args:
        t_shifted: shifted times t' ``[*t]`` in [0, 1].
        shift: s, finite and > 0.

    Returns:
        t ``[*t]`` float64.

    Raises:
        AudiospecError: a ``shift`` that is not a finite positive number.
    """
    check_shift(shift)
    t_shifted = torch.as_tensor(t_shifted, dtype=torch.float64)
    return t_shifted / (shift - (shift - 1.0) * t_shifted)


def resolution_shift(shape: Sequence[int], *, reference_shape: Sequence[int]) -> float:
    """s = sqrt(m / n) with m = prod(shape), n = prod(reference_shape) pixel counts (Esser et al. 2024).

    E.g. training on 64 x 256 patches with a schedule tuned on 64 x 128 gives s = sqrt(2).

    Args:
        shape: the patch size trained on, e.g. ``(F, T)``.
        reference_shape: the patch size the schedule was tuned on.

    Returns:
        The shift s.

    Raises:
        AudiospecError: a shape with a non-positive pixel count.
    """
    m, n = math.prod(int(s) for s in shape), math.prod(int(s) for s in reference_shape)
    if m < 1 or n < 1:
        raise AudiospecError(f"shapes must have positive sizes, got {tuple(shape)} and reference {tuple(reference_shape)}")
    return math.sqrt(m / n)
