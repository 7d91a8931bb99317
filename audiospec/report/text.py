"""Numbers as they appear in sentences and tables: intervals with three decimals, p-values, verdicts."""

from __future__ import annotations

from audiospec.measures.statistics import Interval

__all__ = ["bullets", "cell", "ci_text", "interval_text", "markdown_table", "number", "table_ci"]


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


def number(value: float | None, *, digits: int = 2, signed: bool = False) -> str:
    """A number as the READMEs print it: ``digits`` decimals, a true minus sign, "–" for none."""
    if value is None or value != value:
        return "–"
    text = f"{value:+.{digits}f}" if signed else f"{value:.{digits}f}"
    return text.replace("-", "−")


def cell(stat: Interval | None, *, digits: int = 2, signed: bool = False, label: str = "") -> str:
    """``mean [low, high]`` as the READMEs print it (``label`` before the bounds, e.g. the level), or the mean alone
    without an interval."""
    if stat is None:
        return "–"
    mean = number(stat.mean, digits=digits, signed=signed)
    if stat.low is None or stat.high is None:
        return mean
    return f"{mean} [{label}{number(stat.low, digits=digits, signed=signed)}, " \
           f"{number(stat.high, digits=digits, signed=signed)}]"


def markdown_table(header: list[str], rows: list[list[str]]) -> str:
    """A GitHub-flavoured markdown table, between blank lines."""
    lines = ["| " + " | ".join(header) + " |", "| " + " | ".join("---" for _ in header) + " |"]
    lines += ["| " + " | ".join(str(c) for c in row) + " |" for row in rows]
    return "\n" + "\n".join(lines) + "\n"


def bullets(lines: list[str] | tuple[str, ...]) -> str:
    """A markdown list of sentences, between blank lines."""
    return "\n" + "\n".join(f"- {line}" for line in lines) + "\n"
