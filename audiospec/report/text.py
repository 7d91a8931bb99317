"""Numbers as they appear in sentences and tables: intervals with three decimals, p-values, verdicts."""

from __future__ import annotations

from audiospec.measures.statistics import Interval

__all__ = ["ci_text", "interval_text", "table_ci"]


def interval_text(stat: Interval, *, signed: bool = False, label: str = "") -> str:
    """``mean [low, high]`` with 3 decimals (``label`` before the bounds), or ``mean`` alone without an interval."""
    fmt = "+.3f" if signed else ".3f"
    if stat.low is None or stat.high is None or stat.low != stat.low:
        return f"{stat.mean:{fmt}}" + (" (one value, no interval)" if label else "")
    return f"{stat.mean:{fmt}} [{label}{stat.low:{fmt}}, {stat.high:{fmt}}]"


def ci_text(stat: Interval | None) -> str:
    """A signed interval labelled as a 95% CI, "n/a" for none (the sentences of the comparison)."""
    return "n/a" if stat is None else interval_text(stat, signed=True, label="95% CI ")


def table_ci(stat: Interval | None) -> str:
    """An interval in a table cell, "–" for none."""
    return "–" if stat is None else interval_text(stat)
