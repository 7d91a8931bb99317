"""What each family of tests could decide, in words and folded tables (issue 26).

A stage corrects its tests in Holm families and draws each interval at its family's Bonferroni level
(:mod:`audiospec.measures.statistics`); the result records the level, from which the family's size m is recovered
(:meth:`~audiospec.measures.statistics.Family.of_level`). With n seeds an exact sign-flip test cannot go below
2 / 2^n, so the family cannot reach a Holm-adjusted p below m · 2 / 2^n: when that is not below α the family
"cannot decide with n seeds", whatever the data, and its tests carry no verdict (the page says so once). A test with
fewer seeds than its family's others cannot reach its own 2 / 2^n either.

An interval and a test can disagree: the interval resamples what the stage resamples (the seeds' differences, or
pairs and patches within the seeds), the test is exact over the seeds' means. With every seed of one sign a
bootstrap interval over the seeds excludes 0 at any level, while the test is bound below by 2 / 2^n; the page says
which of its intervals exclude 0 without a rejecting test, and why. Only both together are "reliable"
(:func:`~audiospec.measures.statistics.decide`).
"""

from __future__ import annotations

import html
from dataclasses import dataclass
from typing import Any, Callable, Sequence

from audiospec.functional.stats import smallest_sign_flip_p
from audiospec.measures.statistics import Family, Interval, excludes_zero
from audiospec.report.page import folded, table

__all__ = ["Comparison", "HolmFamily", "cannot_decide", "could_decide", "difference_families", "family_html",
           "family_line", "interval_note", "p_values_text", "reach_text", "sorted_tests", "undecided", "verdict"]


@dataclass(frozen=True)
class Comparison:
    """One test as the page lists it.

    Attributes:
        label: what is compared, e.g. ``"pink vs white at 8 steps"``.
        difference: the difference with its interval at the family's level.
        p_holm: its Holm-adjusted p-value (None: one seed, not tested).
        reliable: :func:`~audiospec.measures.statistics.decide`'s verdict.
        seeds: the seeds it pairs.
        group: the quantity it measures (tests are sorted by effect size within a group: differences of different
            metrics are in different units).
        cells: further table cells, shown between the label and the difference.
    """

    label: str
    difference: Interval
    p_holm: float | None
    reliable: bool
    seeds: int
    group: str = ""
    cells: tuple[Any, ...] = ()


@dataclass(frozen=True)
class HolmFamily:
    """A family of tests Holm-corrected together, as the page shows it.

    Attributes:
        name: what the family tests, e.g. ``"primary: KID against white at 8 steps"``.
        family: its size and α.
        tests: its tests.
        basis: what its intervals resample, e.g. ``"the seeds' differences"``.
    """

    name: str
    family: Family
    tests: tuple[Comparison, ...]
    basis: str

    @property
    def seeds(self) -> int:
        """The most seeds a test of the family pairs (what its best test could use)."""
        return max((t.seeds for t in self.tests), default=0)

    @property
    def smallest_p(self) -> float:
        """The smallest Holm-adjusted p any of its tests can reach (:meth:`Family.smallest_p`)."""
        return self.family.smallest_p(max(self.seeds, 1))

    @property
    def can_decide(self) -> bool:
        """Whether any of its tests can be called reliable, whatever the data."""
        return self.seeds >= 2 and self.family.can_decide(self.seeds)

    @classmethod
    def of(cls, name: str, tests: Sequence[Comparison], *, level: float, basis: str) -> "HolmFamily":
        """The family of ``tests`` whose intervals are at ``level`` (its size recovered from the level)."""
        return cls(name=name, family=Family.of_level(level), tests=tuple(tests), basis=basis)


def could_decide(family: HolmFamily, test: Comparison) -> bool:
    """Whether ``test`` could be called reliable in ``family``: the family can decide and the test's own seeds can
    give p < α (a reliable test always could)."""
    own = test.seeds >= 2 and smallest_sign_flip_p(test.seeds) < family.family.alpha
    return test.reliable or (family.can_decide and own)


def verdict(family: HolmFamily, test: Comparison, *, reliable: str, unreliable: str = "no reliable difference"
            ) -> str | None:
    """The words for a test's verdict, or None where it could not have rejected (the family line says why)."""
    if test.p_holm is None:
        return "one seed: not tested"
    if not could_decide(family, test):
        return None
    return reliable if test.reliable else unreliable


def cannot_decide(family: HolmFamily) -> str:
    """What a family that cannot decide says instead of a verdict: "cannot decide with n seeds" (or that one seed
    is not tested)."""
    return "one seed: not tested" if family.seeds < 2 else f"cannot decide with {family.seeds} seeds"


def undecided(family: HolmFamily | None, tests: Sequence[Comparison]) -> str | None:
    """What a question answered by ``tests`` of ``family`` says instead of a verdict when none of them could have
    rejected: its family cannot decide ("cannot decide with 7 seeds"), or each of the tests has too few seeds of its
    own (an arm run on 3 of the family's 7 seeds); None when one of them could (then a verdict is due).

    Args:
        family: the family the tests belong to (None: no family, nothing to say).
        tests: the tests that answer the question.

    Returns:
        The words in place of a verdict, or None.
    """
    if family is None or any(t.reliable for t in tests):
        return None
    if not family.can_decide:
        return cannot_decide(family)
    if tests and not any(could_decide(family, t) for t in tests):
        seeds = max(t.seeds for t in tests)
        return "one seed: not tested" if seeds < 2 else f"cannot decide with {seeds} seeds"
    return None


def reach_text(family: HolmFamily) -> str:
    """The family's smallest attainable p in a few words: "2 tests on 7 seeds allow p ≥ 0.031"."""
    m = family.family.size
    tests = f"{m} tests on " if m > 1 else ""
    return f"{tests}{family.seeds} seed{'s' if family.seeds != 1 else ''} allow p ≥ {family.smallest_p:.3f}"


def p_values_text(values: Sequence[float | None]) -> str:
    """Holm p-values of a few tests: "0.344 / 0.984", or "0.047 each" when they are equal."""
    shown = ["–" if v is None else f"{v:.3f}" for v in values]
    return f"{shown[0]} each" if len(shown) > 1 and len(set(shown)) == 1 else " / ".join(shown)


def _seeds_text(family: HolmFamily) -> str:
    counts = sorted({t.seeds for t in family.tests})
    return f"{counts[0]} seeds" if len(counts) == 1 else f"{counts[0]}–{counts[-1]} seeds"


def family_line(family: HolmFamily) -> str:
    """The family's size, seeds and smallest attainable p, and whether it can decide (said once for all its tests)."""
    m, n, alpha = family.family.size, family.seeds, family.family.alpha
    head = f"{family.name}: {m} test{'s' if m != 1 else ''} on {_seeds_text(family)}"
    if n < 2:
        return f"{head}: one seed, nothing can be tested."
    capped = ", capped at 1" if m * 2 / 2**n > 1 else ""
    reach = f"the smallest Holm-corrected p it can reach is {family.smallest_p:.3f} ({m} · 2 / 2^{n}{capped})"
    if family.can_decide:
        return f"{head}; {reach}, below α = {alpha:g}, so its tests can decide."
    return (f"{head}; {reach}, not below α = {alpha:g}: it {cannot_decide(family)}, whatever the data, so its "
            "tests carry no verdict.")


def interval_note(family: HolmFamily) -> str:
    """Why intervals and tests of the family disagree, when they do ("" when they agree)."""
    alpha = family.family.alpha
    rejects = [t.p_holm is not None and t.p_holm < alpha for t in family.tests]
    excludes = [excludes_zero(t.difference) for t in family.tests]
    only_interval = sum(e and not r for e, r in zip(excludes, rejects))
    only_test = sum(r and not e for e, r in zip(excludes, rejects))
    notes = []
    if only_interval:
        bound = (f"; with {family.seeds} seeds it cannot go below 2 / 2^{family.seeds} before Holm's factor of "
                 f"{family.family.size}") if not family.can_decide else ""
        notes.append(f"{only_interval} of its {len(family.tests)} intervals exclude 0 while the test does not reject: "
                     f"the interval resamples {family.basis}, which excludes 0 whenever they agree in sign, whereas "
                     f"the test is exact over the {family.seeds} seeds' means{bound}.")
    if only_test:
        notes.append(f"{only_test} test(s) reject while the interval includes 0: the seeds' signs agree more than "
                     "their sizes do.")
    if notes:
        notes.append("A difference is called reliable only when both agree.")
    return " ".join(notes)


def sorted_tests(tests: Sequence[Comparison]) -> list[Comparison]:
    """Tests in their groups' first-seen order, the largest difference first within a group."""
    groups = list(dict.fromkeys(t.group for t in tests))
    return sorted(tests, key=lambda t: (groups.index(t.group), -abs(t.difference.mean)))


def family_html(family: HolmFamily, *, header: Sequence[str], show: Callable[[Interval], str],
                reliable: Callable[[Comparison], str], open_up_to: int = 0) -> str:
    """The family line, the interval note and its tests in a table sorted by effect size (folded beyond
    ``open_up_to`` rows), a verdict column only where the family can decide.

    Args:
        family: the family.
        header: column names of the label and of each test's ``cells``.
        show: how a difference is shown in a cell.
        reliable: the words of a reliable test's verdict.
        open_up_to: the most rows shown unfolded.
    """
    decides = family.can_decide
    rows = [[t.label, *t.cells, show(t.difference), "–" if t.p_holm is None else f"{t.p_holm:.3f}",
             *([verdict(family, t, reliable=reliable(t)) or "–"] if decides else [])] for t in sorted_tests(family.tests)]
    columns = [*header, "difference", "Holm p", *(["verdict"] if decides else [])]
    note = interval_note(family)
    shown = table(columns, rows)
    if len(rows) > open_up_to:
        order = "sorted by the size of the difference" + (" within each metric" if len({t.group for t in
                                                                                          family.tests}) > 1 else "")
        shown = folded(f"{len(rows)} tests of this family ({order})", shown)
    return (f"<p class='family'>{html.escape(family_line(family))}"
            f"{f' <span class=note>{html.escape(note)}</span>' if note else ''}</p>{shown}")


def difference_families(table: dict[str, dict[int, dict[str, Any]]], references: dict[str, str], *,
                        names: dict[bool, str], basis: str) -> dict[bool, HolmFamily]:
    """The primary (True) and secondary (False) families of a table of paired differences (arm -> steps -> metric
    -> :class:`~audiospec.measures.statistics.Difference`), each test labelled "arm vs reference at s steps"; a
    family without a test is left out.

    Args:
        table: the differences.
        references: each arm's reference arm.
        names: the two families' names.
        basis: what their intervals resample.
    """
    tests: dict[bool, list[Comparison]] = {True: [], False: []}
    levels: dict[bool, float] = {}
    for arm, per_steps in table.items():
        for steps, per_metric in per_steps.items():
            for metric, d in per_metric.items():
                if d is None:
                    continue
                tests[d.primary].append(Comparison(label=f"{arm} vs {references[arm]} at {steps} steps", difference=d,
                                               p_holm=d.p_holm, reliable=d.reliable, seeds=d.n, group=metric,
                                               cells=(metric,)))
                levels[d.primary] = d.level
    return {primary: HolmFamily.of(names[primary], found, level=levels[primary], basis=basis)
            for primary, found in tests.items() if found}
