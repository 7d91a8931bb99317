"""What a family of exact sign-flip tests could decide (issue 26): its size recovered from the level its intervals
were drawn at, and the smallest Holm-adjusted p it can reach with n seeds."""

from __future__ import annotations

import pytest

from audiospec.errors import AudiospecError
from audiospec.functional.stats import holm_adjusted, sign_flip_pvalue
from audiospec.measures.statistics import ALPHA, Family


@pytest.mark.parametrize("size", [1, 2, 3, 46, 148])
def test_a_family_is_recovered_from_its_intervals_level(size):
    assert Family.of_level(Family(size=size).level).size == size


def test_the_committed_protocols_levels_name_its_families():
    # recipes/mini/results/protocol-results-*.json: the primary family (2 priors vs white) and 148 secondary tests
    assert Family.of_level(0.975).size == 2 and Family.of_level(0.9996621621621622).size == 148


def test_the_smallest_p_is_what_the_best_data_gives_after_holm():
    # every seed's difference of one sign: the exact test's smallest p, 2 / 2^n, for each of the m tests of the family
    for n, m in [(3, 1), (7, 2), (7, 3), (7, 6)]:
        best = sign_flip_pvalue([1.0 + 0.1 * i for i in range(n)])
        assert min(holm_adjusted([best] * m)) == pytest.approx(Family(size=m).smallest_p(n))


def test_three_seeds_cannot_decide_and_seven_can_in_a_family_of_two_not_of_six():
    assert Family(size=1).smallest_p(3) == 0.25 and not Family(size=1).can_decide(3)
    assert Family(size=2).smallest_p(7) == pytest.approx(0.03125) and Family(size=2).can_decide(7)
    assert Family(size=3).smallest_p(7) == pytest.approx(0.046875) and Family(size=3).can_decide(7)
    assert Family(size=6).smallest_p(7) == pytest.approx(0.09375) and not Family(size=6).can_decide(7)
    assert Family(size=148).smallest_p(7) == 1.0 and ALPHA == 0.05


def test_a_level_of_no_family_is_an_error():
    with pytest.raises(AudiospecError, match=r"an interval level of 0.9 belongs to no family at alpha = 0.05"):
        Family.of_level(0.9)
