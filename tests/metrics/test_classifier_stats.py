"""classifier_statistics: limiting cases, a hand example, and bad input."""

from __future__ import annotations

import math

import pytest
import torch

from audiospec.errors import AudiospecError
from audiospec.metrics import classifier_statistics


def test_confident_and_balanced_predictions():
    proba = torch.tensor([[1.0, 0.0, 0.0], [0.0, 1.0, 0.0], [0.0, 0.0, 1.0]])
    stats = classifier_statistics(proba, classes=["x", "y", "z"])
    assert stats["confidence"] == 1.0 and stats["entropy"] == 0.0
    assert stats["marginal_entropy"] == pytest.approx(math.log(3))
    assert stats["inception_score"] == pytest.approx(3.0)
    assert stats["class_fractions"] == pytest.approx({"x": 1 / 3, "y": 1 / 3, "z": 1 / 3})


def test_uniform_guesses():
    stats = classifier_statistics(torch.full((5, 4), 0.25))
    assert stats["confidence"] == pytest.approx(0.25) and stats["entropy"] == pytest.approx(math.log(4))
    assert stats["inception_score"] == pytest.approx(1.0)
    assert stats["class_fractions"]["0"] == 1.0  # ties go to the first class


def test_by_hand():
    """Rows (0.9, 0.1) and (0.4, 0.6): confidence 0.75, entropy mean of H(0.9) and H(0.6), marginal (0.65, 0.35)."""
    stats = classifier_statistics(torch.tensor([[0.9, 0.1], [0.4, 0.6]], dtype=torch.float64), classes=["m", "s"])

    def h(p):
        return -sum(q * math.log(q) for q in p)

    assert stats["confidence"] == pytest.approx(0.75)
    assert stats["entropy"] == pytest.approx((h([0.9, 0.1]) + h([0.4, 0.6])) / 2)
    assert stats["marginal_entropy"] == pytest.approx(h([0.65, 0.35]))
    assert stats["inception_score"] == pytest.approx(math.exp(h([0.65, 0.35]) - stats["entropy"]))
    assert stats["class_fractions"] == {"m": 0.5, "s": 0.5}


@pytest.mark.parametrize(
    ("proba", "classes", "match"),
    [
        (torch.tensor([0.5, 0.5]), None, r"\[N >= 1, C >= 2\], got \(2,\)"),
        (torch.tensor([[2.0, -1.0]]), None, r"non-negative and sum to 1"),
        (torch.tensor([[3.0, 1.0]]), None, r"pass softmax probabilities, not logits"),
        (torch.tensor([[math.nan, 1.0]]), None, r"proba contains 1 non-finite"),
        (torch.tensor([[0.5, 0.5]]), ["a"], r"got 1 class names for 2 probability columns"),
    ],
)
def test_bad_input_raises(proba, classes, match):
    with pytest.raises(AudiospecError, match=match):
        classifier_statistics(proba, classes=classes)
