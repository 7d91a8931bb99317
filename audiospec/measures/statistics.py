"""Intervals, paired differences and the one rule that calls a difference *reliable*.

Every stage compares things the same way (DESIGN.md section 5): the seed is the unit of replication, a
difference is paired by seed and tested exactly (sign flips over seeds), the tests of one question form a
:class:`Family` that is Holm-corrected on its own, and each interval is drawn at the family's Bonferroni level
1 − α / m. :func:`decide` is the library's single definition of "reliable":

    reliable  <=>  Holm-adjusted p < α within its family
                   and the interval at the family's Bonferroni level excludes 0
                   and the measurement's own checks allow a verdict (e.g. a likelihood's calibration and
                   integration checks are below half the difference).

With one seed there is no p-value and never a verdict. With n seeds the exact test cannot go below p = 2 / 2^n,
so a family of m tests cannot reject anything unless m · 2 / 2^n < α (:meth:`Family.can_decide`: 3 seeds never
can); when every seed agrees in sign the bootstrap interval of the mean excludes 0, so the interval condition only
removes verdicts that a lucky p-value would give without a consistent sign.
"""

from __future__ import annotations

from dataclasses import dataclass
from typing import Sequence

from audiospec.errors import AudiospecError
from audiospec.functional.stats import holm_adjusted, smallest_sign_flip_p

__all__ = ["ALPHA", "Difference", "Family", "Interval", "decide", "excludes_zero", "holm_family"]

ALPHA = 0.05
"""The error rate of every family of tests."""


@dataclass(frozen=True)
class Interval:
    """A mean with its interval over ``n`` values (``low`` / ``high`` None with one value).

    Attributes:
        mean: the point estimate.
        low: the lower bound, or None.
        high: the upper bound, or None.
        n: how many values it summarises.
    """

    mean: float
    low: float | None
    high: float | None
    n: int


@dataclass(frozen=True)
class Difference(Interval):
    """A paired difference to a reference: its interval at ``level`` (the Bonferroni level of its family), the
    exact sign-flip ``p_value`` over seeds, the Holm-adjusted ``p_holm`` within its family (``primary`` or the
    secondary one) and the verdict of :func:`decide` (``reliable``).

    Attributes:
        mean: the mean difference over seeds.
        low: the interval's lower bound, or None.
        high: its upper bound, or None.
        n: the number of paired values.
        level: the interval's level.
        p_value: the unadjusted p-value (None: one seed, not tested).
        p_holm: the Holm-adjusted p-value within the family (None: not tested).
        reliable: :func:`decide`'s verdict.
        primary: in the pre-specified primary family rather than the secondary one.
    """

    level: float = 0.95
    p_value: float | None = None
    p_holm: float | None = None
    reliable: bool = False
    primary: bool = False


@dataclass(frozen=True)
class Family:
    """Tests corrected together: Holm on their p-values, intervals at the Bonferroni level ``1 − alpha / size``.

    Attributes:
        size: the number of tests m (at least 1 is used for the level).
        alpha: the family's error rate.
    """

    size: int
    alpha: float = ALPHA

    @property
    def level(self) -> float:
        """The Bonferroni level of the family's intervals, 1 − alpha / m."""
        return 1.0 - self.alpha / max(self.size, 1)

    @classmethod
    def of_level(cls, level: float, *, alpha: float = ALPHA) -> "Family":
        """The family whose intervals are at ``level`` (a result records its intervals' level, 1 − alpha / m, and
        this recovers m).

        Args:
            level: the level of the family's intervals, 1 − alpha / m.
            alpha: the family's error rate.

        Returns:
            The family of m tests (m rounded to the nearest whole number).

        Raises:
            AudiospecError: a level outside (1 − alpha, 1) (no family of one or more tests has it).
        """
        if not 1.0 - alpha - 1e-9 <= level < 1.0:
            raise AudiospecError(f"an interval level of {level!r} belongs to no family at alpha = {alpha}: a family of "
                                 f"m tests has the level 1 − alpha / m, in [{1 - alpha:g}, 1)")
        return cls(size=max(1, round(alpha / (1.0 - level))), alpha=alpha)

    def smallest_p(self, n_seeds: int) -> float:
        """The smallest Holm-adjusted p any of its tests can reach with ``n_seeds`` paired seeds (exact sign flips:
        m · 2 / 2^n, :func:`~audiospec.functional.stats.smallest_sign_flip_p`).

        Args:
            n_seeds: the number of paired seeds of a test.

        Returns:
            The smallest Holm-adjusted p, capped at 1.
        """
        return smallest_sign_flip_p(n_seeds, family_size=max(self.size, 1))

    def can_decide(self, n_seeds: int) -> bool:
        """Whether any of its tests can be called reliable with ``n_seeds`` seeds, whatever the data (its smallest
        attainable p below alpha); a family that cannot "cannot decide with n seeds".

        Args:
            n_seeds: the number of paired seeds of a test.

        Returns:
            True when its smallest attainable p is below alpha.
        """
        return self.smallest_p(n_seeds) < self.alpha


def excludes_zero(interval: Interval) -> bool:
    """Whether an interval lies on one side of 0.

    Args:
        interval: the interval.

    Returns:
        True when both bounds exist and lie on one side of 0.
    """
    return interval.low is not None and interval.high is not None and (interval.low > 0 or interval.high < 0)


def decide(difference: Interval, family: Family, *, p_holm: float | None = None, trusted: bool = True) -> bool:
    """Whether a difference is *reliable* (module doc): Holm rejects within ``family``, its interval excludes 0 and
    its checks allow a verdict.

    Args:
        difference: the difference with its interval at the family's level (a :class:`Difference` carries its
            Holm-adjusted p-value).
        family: the family it was corrected in.
        p_holm: its Holm-adjusted p-value (default the difference's own; rows keep it beside the interval).
        trusted: whether the measurement's own checks allow a verdict.

    Returns:
        True when reliable.
    """
    if p_holm is None:
        p_holm = getattr(difference, "p_holm", None)
    return p_holm is not None and p_holm < family.alpha and excludes_zero(difference) and trusted


def holm_family(p_values: Sequence[float | None]) -> list[float | None]:
    """Holm-adjusted p-values of one family.

    Args:
        p_values: the family's p-values (None: that test was not run and is not counted).

    Returns:
        The adjusted p-values, in the same order (None stays None).
    """
    tested = [i for i, p in enumerate(p_values) if p is not None]
    adjusted = dict(zip(tested, holm_adjusted([float(p_values[i]) for i in tested]))) if tested else {}
    return [adjusted.get(i) for i in range(len(p_values))]
