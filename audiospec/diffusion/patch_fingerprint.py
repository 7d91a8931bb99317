"""The record of a model's training patches a checkpoint keeps, and the test that a resume trains on the same
patches (:func:`same_patches`): equal within a tolerance, not bit for bit, because the same patches summed by
another thread count differ in the last bits."""

from __future__ import annotations

import math

import torch


def patches_fingerprint(patches: torch.Tensor) -> list[float]:
    """The training patches ``[N, C, M, T]`` as a checkpoint records them: the shape, four statistics and each
    statistic's scale (``[*shape, *stats, *scales]``, see :func:`same_patches`). Normalised patches have a sum near 0
    and a sum of squares pinned to N C M T by the normalisation itself, whatever clips they come from, so the third
    moment and a patch-order-weighted sum are what tell one dataset from another.

    Args:
        patches: the training patches ``[N, C, M, T]``.

    Returns:
        ``[N, C, M, T, sum, sum of squares, sum of cubes, patch-weighted sum, and the four scales]``.
    """
    x = patches.detach().to(torch.float64)
    weights = torch.cos(torch.arange(x.shape[0], dtype=torch.float64) * _GOLDEN).view(-1, *([1] * (x.ndim - 1)))
    stats = [x.sum(), x.square().sum(), x.pow(3).sum(), (weights * x).sum()]
    scales = [x.abs().sum(), x.square().sum(), x.abs().pow(3).sum(), x.abs().sum()]
    return [float(s) for s in patches.shape] + [float(v) for v in stats] + [float(v) for v in scales]


_GOLDEN = (1 + 5 ** 0.5) / 2  # the patch weights cos(n * golden ratio) repeat for no patch count
_OLD_FINGERPRINT = 6  # [N, C, M, T, sum, sum of squares]: checkpoints written before 2026-12-04

FINGERPRINT_TOLERANCE = 1e-5
"""Relative tolerance of :func:`same_patches`: far above the last-bit differences of the same patches summed (or
computed) with another thread count or CPU, far below the change of one clip in a corpus (~1e-2)."""


def same_patches(saved: list[float], current: list[float]) -> bool:
    """True when two :func:`patches_fingerprint` records describe the same patches: the shape exactly, every statistic
    within :data:`FINGERPRINT_TOLERANCE` of its scale (|Δ Σ f(x)| <= tol Σ |f(x)|).

    Not bit equality: a float64 sum's order follows the thread count (a worker process trains with one thread, the
    stage that resumes it may use all), so the same patches give sums that differ in the last bits from one process
    to the next. A checkpoint written before the statistics were added holds only the shape, the sum and the sum of
    squares; it is compared on those (weaker: normalised patches pin both).

    Args:
        saved: the checkpoint's record.
        current: the record of the patches at hand (:func:`patches_fingerprint`).

    Returns:
        Whether training may resume on ``current``.
    """
    shape = 4
    if len(saved) == _OLD_FINGERPRINT:
        ours = current[:shape] + current[shape:shape + 2]
        numel = math.prod(ours[:shape]) or 1.0
        scales = [math.sqrt(numel * max(saved[-1], ours[-1], 0.0)), max(abs(saved[-1]), abs(ours[-1]))]
        pairs = zip(saved[shape:], ours[shape:], scales)
    else:
        if len(saved) != len(current):
            return False
        n = (len(current) - shape) // 2
        scales = [max(abs(a), abs(b)) for a, b in zip(saved[shape + n:], current[shape + n:])]
        pairs = zip(saved[shape:shape + n], current[shape:shape + n], scales)
        ours = current
    if saved[:shape] != ours[:shape]:
        return False
    return all(abs(a - b) <= FINGERPRINT_TOLERANCE * scale for a, b, scale in pairs)
