"""Deterministic, balanced picks: take k items spread evenly over groups, never all from the first."""

from __future__ import annotations

from collections.abc import Sequence

from audiospec.errors import AudiospecError

__all__ = ["spread_indices", "spread_selection"]


def spread_indices(n: int, *, k: int) -> list[int]:
    """``k`` of the indices ``0 .. n-1``, evenly spaced: ``floor(i * n / k)`` for ``i < k``.

    ``k >= n`` returns all ``n`` indices.
    """
    if n < 0 or k < 0:
        raise AudiospecError(f"n and k must be >= 0, got n={n}, k={k}")
    if k >= n:
        return list(range(n))
    return [(i * n) // k for i in range(k)]


def spread_selection(counts: Sequence[int], *, k: int) -> list[tuple[int, int]]:
    """Pick ``k`` ``(group, item)`` pairs from groups holding ``counts[g]`` items each.

    Groups take turns (round ``r`` gives one more item to every group with more than
    ``r`` items); when a round has more candidate groups than picks left, the groups
    served are spread evenly over the candidates (:func:`spread_indices`). Inside a
    group, its ``m`` picks are spread evenly over its items. The result is sorted by
    ``(group, item)``; fewer than ``k`` pairs come back when ``sum(counts) < k``.
    """
    if k < 0:
        raise AudiospecError(f"k must be >= 0, got {k}")
    if any(c < 0 for c in counts):
        raise AudiospecError(f"counts must be >= 0, got {list(counts)}")
    taken = [0] * len(counts)
    remaining = k
    round_ = 0
    while remaining > 0:
        candidates = [g for g, c in enumerate(counts) if c > round_]
        if not candidates:
            break
        for j in spread_indices(len(candidates), k=remaining):
            taken[candidates[j]] += 1
        remaining -= min(remaining, len(candidates))
        round_ += 1
    return [(g, i) for g, m in enumerate(taken) for i in spread_indices(counts[g], k=m)]
