"""Cut waveforms into fixed-length, possibly overlapping, segments."""

from __future__ import annotations

import torch

from audiospec.errors import AudiospecError

__all__ = ["num_segments", "segment"]


def num_segments(num_samples: int, *, length: int, hop: int) -> int:
    """``floor((num_samples - length) / hop) + 1`` segments, or 0 when ``num_samples < length``."""
    if num_samples < length:
        return 0
    return (num_samples - length) // hop + 1


def segment(waveform: torch.Tensor, *, length: int, hop: int | None = None) -> torch.Tensor:
    """Fixed-length segments of the last axis: ``[..., L] -> [..., N, length]``.

    Segment ``n`` is ``waveform[..., n * hop : n * hop + length]`` and
    ``N = floor((L - length) / hop) + 1``; trailing samples that do not fill a whole
    segment are dropped. ``hop=None`` means ``hop = length`` (no overlap); ``hop < length``
    overlaps, ``hop > length`` leaves gaps.

    Args:
        waveform: signals ``[..., L]``.
        length: samples per segment, a positive integer <= L.
        hop: samples between segment starts, a positive integer (default ``length``).

    Returns:
        Segments ``[..., N, length]``, a view of ``waveform`` (no copy; ``.clone()`` it
        before writing in place).

    Raises:
        AudiospecError: non-positive ``length`` / ``hop``, a 0-d tensor, or ``L < length``.
    """
    if isinstance(length, bool) or not isinstance(length, int) or length < 1:
        raise AudiospecError(f"length must be a positive integer number of samples, got {length!r}")
    if hop is None:
        hop = length
    if isinstance(hop, bool) or not isinstance(hop, int) or hop < 1:
        raise AudiospecError(f"hop must be a positive integer number of samples or None, got {hop!r}")
    if not isinstance(waveform, torch.Tensor) or waveform.ndim < 1:
        shape = tuple(waveform.shape) if isinstance(waveform, torch.Tensor) else type(waveform).__name__
        raise AudiospecError(f"waveform must be a tensor of shape [..., L], got {shape}")
    L = waveform.shape[-1]
    if L < length:
        raise AudiospecError(
            f"waveform has {L} samples, fewer than one segment of length={length}; "
            "use a shorter segment length or a longer recording"
        )
    return waveform.unfold(-1, length, hop)  # [..., L] -> [..., N, length]
