"""What a family of tests could decide, in words (issue 26): its size, seeds and smallest attainable p; no verdict
where it could not reject; why an interval and a test disagree; its tests sorted by effect size and folded."""

from __future__ import annotations

import re

import pytest

from audiospec.measures.statistics import Difference, Family, Interval
from audiospec.report.families import (
    Comparison,
    HolmFamily,
    could_decide,
    family_html,
    family_line,
    interval_note,
    sorted_tests,
    undecided,
    verdict,
)


def _test(mean: float, low: float, high: float, p: float | None, *, seeds: int, reliable: bool = False,
          group: str = "kid") -> Comparison:
    return Comparison(label=f"arm {mean:+g}", difference=Interval(mean=mean, low=low, high=high, n=seeds), p_holm=p,
                  reliable=reliable, seeds=seeds, group=group)


def _family(tests, size: int) -> HolmFamily:
    return HolmFamily(name="Secondary family", family=Family(size=size), tests=tuple(tests), basis="the seeds (bootstrap)")


def test_a_family_that_cannot_reach_alpha_says_so_once_and_its_tests_carry_no_verdict():
    # 3 seeds, every seed of one sign: the bootstrap interval excludes 0, the exact test cannot go below 0.25
    family = _family([_test(-0.48, -0.59, -0.34, 0.5, seeds=3), _test(-0.18, -0.29, -0.07, 0.5, seeds=3)], size=2)
    assert family.smallest_p == 0.5 and not family.can_decide
    assert family_line(family) == (
        "Secondary family: 2 tests on 3 seeds; the smallest Holm-corrected p it can reach is 0.500 (2 · 2 / 2^3), not "
        "below α = 0.05: it cannot decide with 3 seeds, whatever the data, so its tests carry no verdict.")
    assert all(verdict(family, t, reliable="better") is None for t in family.tests)
    note = interval_note(family)
    assert note.startswith("2 of its 2 intervals exclude 0 while the test does not reject: the interval resamples "
                           "the seeds (bootstrap)") and "cannot go below 2 / 2^3 before Holm's factor of 2" in note


def test_a_family_that_can_decide_gives_each_test_its_verdict():
    family = _family([_test(-0.28, -0.60, 0.12, 0.344, seeds=7), _test(0.9, 0.5, 1.2, 0.031, seeds=7, reliable=True)],
                     size=2)
    assert family.smallest_p == pytest.approx(2 * 2 / 2**7) and family.can_decide
    assert "is 0.031 (2 · 2 / 2^7), below α = 0.05, so its tests can decide." in family_line(family)
    assert [verdict(family, t, reliable="worse") for t in family.tests] == ["no reliable difference", "worse"]
    assert interval_note(family) == ""  # the interval of the untested-positive one includes 0: they agree


def test_a_test_with_fewer_seeds_than_its_family_cannot_reach_its_own_alpha():
    family = _family([_test(0.3, 0.2, 0.4, 0.031, seeds=7, reliable=True), _test(0.5, 0.4, 0.6, 1.0, seeds=3),
                      _test(0.1, -0.2, 0.3, None, seeds=1)], size=2)
    assert family.seeds == 7 and family.can_decide
    assert could_decide(family, family.tests[0]) and not could_decide(family, family.tests[1])
    assert verdict(family, family.tests[1], reliable="worse") is None
    assert verdict(family, family.tests[2], reliable="worse") == "one seed: not tested"


def test_tests_are_sorted_by_effect_size_within_their_metric():
    tests = [_test(0.1, 0, 0.2, 1.0, seeds=3), _test(-0.5, -1, 0, 1.0, seeds=3, group="lsd"),
             _test(-0.4, -1, 0, 1.0, seeds=3), _test(2.0, 1, 3, 1.0, seeds=3, group="lsd")]
    assert [(t.group, t.difference.mean) for t in sorted_tests(tests)] == [
        ("kid", -0.4), ("kid", 0.1), ("lsd", 2.0), ("lsd", -0.5)]


def test_a_long_family_is_folded_and_has_no_verdict_column_when_it_cannot_decide():
    family = _family([_test(0.01 * i, -1, 1, 1.0, seeds=3) for i in range(30)], size=30)
    page = family_html(family, header=["arm"], show=lambda d: f"{d.mean:+.2f}", reliable=lambda t: "worse",
                       open_up_to=20)
    assert re.search(r"<details><summary>30 tests of this family \(sorted by the size of the difference\)</summary>"
                     r"<table>", page)
    assert "<th>verdict</th>" not in page and "no reliable difference" not in page
    assert page.index("+0.29") < page.index("+0.01")  # the largest difference first
    decided = _family([_test(0.3, 0.2, 0.4, 0.031, seeds=7, reliable=True)], size=2)
    shown = family_html(decided, header=["arm"], show=lambda d: f"{d.mean:+.2f}", reliable=lambda t: "worse",
                        open_up_to=20)
    assert "<details>" not in shown and "<th>verdict</th>" in shown and "<td>worse</td>" in shown


def test_a_family_is_read_from_the_level_a_difference_was_drawn_at():
    difference = Difference(mean=-0.175, low=-0.452, high=0.095, n=7, level=1 - 0.05 / 148, p_value=0.3, p_holm=1.0)
    family = HolmFamily.of("Secondary family", [Comparison(label="pink vs white at 4 steps", difference=difference,
                                                       p_holm=1.0, reliable=False, seeds=7)],
                           level=difference.level, basis="the seeds")
    assert family.family.size == 148 and family.smallest_p == 1.0
    assert "(148 · 2 / 2^7, capped at 1)" in family_line(family)


def test_a_question_whose_tests_could_not_reject_gets_no_verdict_even_in_a_family_that_can_decide():
    # a family of 2 on 7 seeds can reach 0.031, but arms run on 3 of the seeds cannot go below 2 / 2^3 = 0.25
    short = [_test(0.5, 0.4, 0.6, 1.0, seeds=3), _test(-0.2, -0.3, -0.1, 1.0, seeds=3)]
    family = _family([_test(0.1, -0.1, 0.3, 0.5, seeds=7), *short], size=2)
    assert family.can_decide and undecided(family, short) == "cannot decide with 3 seeds"
    assert undecided(family, family.tests) is None  # the 7-seed test could have rejected: "no reliable difference"
    assert undecided(family, [_test(0.1, 0, 0.2, None, seeds=1)]) == "one seed: not tested"
    decided = _family([_test(0.3, 0.2, 0.4, 0.031, seeds=7, reliable=True), *short], size=2)
    assert undecided(decided, decided.tests) is None  # a reliable test is a verdict
    cannot = _family(short, size=2)
    assert undecided(cannot, short) == "cannot decide with 3 seeds" and undecided(None, short) is None
