"""Mean and Student-t confidence interval of each metric over independent runs (seeds)."""

from __future__ import annotations

import math
from collections.abc import Mapping, Sequence

from audiospec.errors import AudiospecError
from audiospec.functional.stats import mean_confidence_interval

__all__ = ["summarize_runs"]


def summarize_runs(
    runs: Sequence[Mapping[str, object]], *, level: float = 0.95
) -> dict[str, dict[str, float | int]]:
    """``{metric: {"mean", "low", "high", "n"}}`` over ``runs`` (e.g. one :func:`evaluate_samples` dict per seed).

    Only numeric values count (None, strings and NaN are skipped); a metric with no
    numeric value in any run is left out. With one value the interval is NaN (see
    :func:`audiospec.functional.mean_confidence_interval`).

    Args:
        runs: one mapping metric -> value per independent run, at least one.
        level: confidence level of the Student-t interval, in (0, 1).

    Returns:
        ``{metric: {"mean": float, "low": float, "high": float, "n": int}}``.

    Raises:
        AudiospecError: no runs, or a run that is not a mapping.
    """
    if len(runs) == 0:
        raise AudiospecError("summarize_runs needs at least one run, got none")
    values: dict[str, list[float]] = {}
    for run in runs:
        if not isinstance(run, Mapping):
            raise AudiospecError(f"each run must be a dict of metrics, got {type(run).__name__}")
        for key, value in run.items():
            if isinstance(value, (int, float)) and not isinstance(value, bool) and not math.isnan(float(value)):
                values.setdefault(key, []).append(float(value))
    summary: dict[str, dict[str, float | int]] = {}
    for key, vals in values.items():
        mean, low, high = mean_confidence_interval(vals, level=level)
        summary[key] = {"mean": mean, "low": low, "high": high, "n": len(vals)}
    return summary
