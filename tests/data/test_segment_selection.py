"""segment (counts, content, errors) and the deterministic spread selection."""

from __future__ import annotations

import pytest
import torch

from audiospec.data import segment
from audiospec.data.selection import spread_indices, spread_selection
from audiospec.errors import AudiospecError


@pytest.mark.parametrize(("L", "length", "hop", "expected"), [
    (10, 10, None, 1), (19, 10, None, 1), (20, 10, None, 2), (25, 10, 5, 4), (10, 3, 4, 2), (100, 7, 1, 94),
])
def test_segment_count_is_floor_formula_and_content_matches(L, length, hop, expected):
    x = torch.arange(L, dtype=torch.float32)
    out = segment(x, length=length, hop=hop)
    assert out.shape == (expected, length)
    step = hop or length
    for n in range(expected):
        torch.testing.assert_close(out[n], x[n * step: n * step + length])


def test_segment_keeps_leading_dims():
    x = torch.randn(2, 3, 50)
    out = segment(x, length=20, hop=15)  # [2, 3, 50] -> [2, 3, 3, 20]
    assert out.shape == (2, 3, 3, 20)
    torch.testing.assert_close(out[1, 2, 2], x[1, 2, 30:50])


def test_segment_errors():
    with pytest.raises(AudiospecError, match=r"has 5 samples, fewer than one segment of length=6"):
        segment(torch.zeros(5), length=6)
    with pytest.raises(AudiospecError, match=r"length must be a positive integer.*got 0"):
        segment(torch.zeros(5), length=0)
    with pytest.raises(AudiospecError, match=r"hop must be a positive integer.*got -1"):
        segment(torch.zeros(5), length=2, hop=-1)
    with pytest.raises(AudiospecError, match=r"shape \[\.\.\., L\], got \(\)"):
        segment(torch.tensor(1.0), length=1)


def test_spread_indices_are_even():
    assert spread_indices(10, k=5) == [0, 2, 4, 6, 8]
    assert spread_indices(3, k=5) == [0, 1, 2]
    assert spread_indices(7, k=0) == []


def test_spread_selection_serves_every_group_before_any_twice():
    counts = [5, 5, 1, 5]
    picks = spread_selection(counts, k=6)
    per_group = [sum(1 for g, _ in picks if g == group) for group in range(4)]
    assert per_group == [2, 2, 1, 1]  # round 0: all four; round 1: two of the three with items left
    assert len(picks) == len(set(picks)) == 6
    # fewer picks than groups: spread over them, not the first ones
    assert [g for g, _ in spread_selection([3] * 10, k=3)] == [0, 3, 6]
    # within a group, picks are spread over its items
    assert spread_selection([10], k=2) == [(0, 0), (0, 5)]
    # asking for more than exists returns everything
    assert len(spread_selection([2, 1], k=10)) == 3
