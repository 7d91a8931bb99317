"""Metric rows and the tables made from them: intervals over seeds and paired differences, each tested once.

A :class:`MetricRow` is one arm (a prior, a baseline, an extra arm), one seed and one step count with the metrics of
its samples (:func:`audiospec.metrics.evaluate_samples`, against the test split); ``runs.json`` holds a stage's rows.
:func:`quality_table` summarises rows into means with bootstrap intervals over seeds, clipped to each metric's
range; :func:`paired_differences` pairs each arm with its reference by seed and tests the difference exactly
(sign flips over seeds), Holm-corrected within its family (the pre-specified primary comparisons, or every other
one), with intervals at the family's Bonferroni level and the verdict of
:func:`~audiospec.measures.statistics.decide`.
"""

from __future__ import annotations

from dataclasses import dataclass
from pathlib import Path
from typing import Any, Callable, Sequence

import torch

from audiospec.atomic import write_json
from audiospec.data import PatchSet
from audiospec.errors import AudiospecError
from audiospec.experiments.results import DifferenceTable, QualityTable, read_json
from audiospec.functional.stats import bootstrap_interval, paired_bootstrap_pvalue, sign_flip_pvalue
from audiospec.measures.statistics import Difference, Family, Interval, decide, holm_family
from audiospec.metrics import TrainedClassifier, evaluate_samples, summarize_runs

__all__ = ["HEADLINE_METRICS", "PRIMARY_METRIC", "MetricRow", "few_step_quality", "interval_over_seeds",
           "paired_differences", "paired_family", "quality_table", "read_rows", "scored_rows", "write_rows"]

HEADLINE_METRICS: tuple[str, ...] = ("kid_classifier", "fd_classifier", "rapsd_error", "cepstrum_error", "lsd",
                                      "mcd_nn_mean")
PRIMARY_METRIC = "kid_classifier"
# a metric's range, for clipping intervals (unbiased KID can be negative; distances cannot)
_BOUNDS: dict[str, tuple[float | None, float | None]] = {
    "kid_classifier": (None, None), "confidence": (0.0, 1.0), "entropy": (0.0, None), "class_tv": (0.0, 1.0)}


@dataclass(frozen=True)
class MetricRow:
    """The metrics of one arm's samples at one seed and step count (JSON: ``{"prior": arm, "seed", "steps",
    **metrics}``, the format of ``runs.json``)."""

    arm: str
    seed: int
    steps: int
    metrics: dict[str, Any]

    def to_json(self) -> dict[str, Any]:
        return {"prior": self.arm, "seed": self.seed, "steps": self.steps, **self.metrics}

    @classmethod
    def from_json(cls, row: dict[str, Any]) -> "MetricRow":
        metrics = {k: v for k, v in row.items() if k not in ("prior", "seed", "steps")}
        return cls(arm=row["prior"], seed=row["seed"], steps=row["steps"], metrics=metrics)

    def value(self, metric: str) -> float | None:
        """The metric as a finite number, else None (missing, a flag or NaN)."""
        value = self.metrics.get(metric)
        ok = isinstance(value, (int, float)) and not isinstance(value, bool) and value == value
        return float(value) if ok else None


def write_rows(path: Path, rows: Sequence[MetricRow]) -> None:
    """``runs.json``: every row, in order."""
    write_json(path, [row.to_json() for row in rows])


def read_rows(path: Path) -> list[MetricRow]:
    """A ``runs.json`` of metric rows (each with ``prior``, ``seed``, ``steps`` and the same metrics)."""
    rows = read_json(path)
    if not isinstance(rows, list) or not all(isinstance(r, dict) and {"prior", "seed", "steps"} <= set(r)
                                             for r in rows):
        raise AudiospecError(f"{str(path)!r} is not a list of metric rows (prior, seed, steps, metrics); "
                             "re-run the step that writes it")
    metrics = set().union(*rows) if rows else set()
    for i, row in enumerate(rows):
        missing = sorted(metrics - set(row))
        if missing:
            raise AudiospecError(f"{str(path)!r}: row {i} ({row['prior']}, seed {row['seed']}, {row['steps']} steps) "
                                 f"lacks the metric(s) {missing} the other rows have; the file is damaged: re-run the "
                                 "step that writes it")
    return [MetricRow.from_json(row) for row in rows]


def interval_over_seeds(values: Sequence[float], *, bounds: tuple[float | None, float | None] = (0.0, None),
                        level: float = 0.95, seed: int = 0) -> Interval:
    """Mean and percentile-bootstrap interval over seeds, clipped to the metric's range (no interval for one value)."""
    if len(values) < 2:
        return Interval(mean=float(values[0]), low=None, high=None, n=len(values))
    mean, low, high = bootstrap_interval(torch.tensor(values, dtype=torch.float64), level=level, bounds=bounds,
                                         generator=torch.Generator().manual_seed(seed))
    return Interval(mean=mean, low=low, high=high, n=len(values))


def quality_table(rows: Sequence[MetricRow], names: Sequence[str], steps_list: Sequence[int]) -> QualityTable:
    """arm -> steps -> metric -> interval over seeds, for every numeric value of the rows (``seed`` and ``steps``
    too, as the JSON always had them) and every step count the arm was sampled at (of ``steps_list``)."""
    table: QualityTable = {}
    for name in names:
        table[name] = {}
        for steps in steps_list:
            runs = [r.to_json() for r in rows if r.arm == name and r.steps == steps]
            if runs:
                table[name][steps] = {m: interval_over_seeds(_values(runs, m), bounds=_BOUNDS.get(m, (0.0, None)))
                                      for m in summarize_runs(runs)}
    return table


def _values(runs: list[dict[str, Any]], metric: str) -> list[float]:
    return [float(r[metric]) for r in runs if isinstance(r.get(metric), (int, float)) and r[metric] == r[metric]]


def _paired(rows: Sequence[MetricRow], pairs: Sequence[tuple[str, str]], steps_list: Sequence[int]
            ) -> dict[tuple[str, int, str], list[float]]:
    """(arm, steps, metric) -> per-seed differences arm − reference, over the seeds both have a number for."""
    paired: dict[tuple[str, int, str], list[float]] = {}
    for name, reference in pairs:
        for steps in steps_list:
            mine = {r.seed: r for r in rows if r.steps == steps and r.arm == name}
            ref = {r.seed: r for r in rows if r.steps == steps and r.arm == reference}
            if not mine:
                continue
            for m in HEADLINE_METRICS:
                paired[name, steps, m] = [mine[s].value(m) - ref[s].value(m) for s in sorted(mine)
                                          if s in ref and mine[s].value(m) is not None and ref[s].value(m) is not None]
    return paired


def paired_differences(rows: Sequence[MetricRow], pairs: Sequence[tuple[str, str]], steps_list: Sequence[int],
                       primary: Sequence[tuple[str, int]] = ()) -> DifferenceTable:
    """Paired (by seed) differences of each arm to its reference arm (``pairs``) for every headline metric and step
    count (module doc). The exact sign-flip test over seeds (a bootstrap is anti-conservative with a handful of
    seeds); with n seeds it cannot go below p = 2 / 2^n, so only a small primary family (``primary``: (arm,
    steps) of :data:`PRIMARY_METRIC`) can reach a verdict with a handful of seeds."""
    paired = _paired(rows, pairs, steps_list)
    first = {(name, steps, PRIMARY_METRIC) for name, steps in primary}
    out: DifferenceTable = {}
    for members in (first, set(paired) - first):
        tested = [k for k in paired if k in members and len(paired[k]) >= 2]
        p = [sign_flip_pvalue(paired[k]) if len(paired[k]) <= 16 else
             paired_bootstrap_pvalue(paired[k], generator=torch.Generator().manual_seed(0)) for k in tested]
        adjusted, raw = dict(zip(tested, holm_family(p))), dict(zip(tested, p))
        family = Family(size=len(tested))
        for key in (k for k in paired if k in members):
            diffs = paired[key]
            base = interval_over_seeds(diffs, bounds=(None, None), level=family.level) if diffs else None
            difference = None if base is None else Difference(
                **vars(base), level=family.level, p_value=raw.get(key), p_holm=adjusted.get(key),
                primary=members is first)
            if difference is not None:
                difference = Difference(**{**vars(difference), "reliable": decide(difference, family)})
            out.setdefault(key[0], {}).setdefault(key[1], {})[key[2]] = difference
    return out


def paired_family(differences: dict[Any, Sequence[float]], *, primary: bool = True) -> tuple[dict[Any, Difference],
                                                                                          Family]:
    """Per-seed paired differences by key, tested as one family: exact sign flips over seeds, Holm within the
    family (the differences with at least two seeds: the tests run), intervals at its Bonferroni level and the
    verdict of :func:`~audiospec.measures.statistics.decide`.

    Args:
        differences: key -> per-seed differences (a key with none is left out; one with one value is not tested).
        primary: mark the differences as a pre-specified (primary) family.

    Returns:
        (key -> its :class:`~audiospec.measures.statistics.Difference`, in the order of ``differences``, the family).
    """
    p = [sign_flip_pvalue(list(d)) if len(d) >= 2 else None for d in differences.values()]
    family = Family(size=sum(value is not None for value in p))
    out = {}
    for (name, d), p_raw, p_holm in zip(differences.items(), p, holm_family(p)):
        if not d:
            continue
        base = interval_over_seeds(list(d), bounds=(None, None), level=family.level)
        difference = Difference(**vars(base), level=family.level, p_value=p_raw, p_holm=p_holm, primary=primary)
        out[name] = Difference(**{**vars(difference), "reliable": decide(difference, family)})
    return out, family


def scored_rows(generate: Callable[[int, torch.Generator], torch.Tensor], name: str, seed: int, data: PatchSet,
                classifier: TrainedClassifier, steps_list: Sequence[int], train: torch.Tensor) -> list[MetricRow]:
    """One metric row per step count, labelled ``name``: ``generate(steps, generator)`` -> samples ``[n, 1, M, T]``
    scored against ``data`` (``train``: the training patches, for the memorisation metrics). The generator is seeded
    with 10 000 seed + steps, so every arm of a seed and step count starts from the same seed."""
    rows = []
    for steps in steps_list:
        generated = generate(steps, torch.Generator().manual_seed(10_000 * seed + steps))
        rows.append(MetricRow(arm=name, seed=seed, steps=steps, metrics=evaluate_samples(
            generated, data.patches, classifier=classifier, real_labels=data.labels, train=train)))
    return rows


def few_step_quality(rows: Sequence[MetricRow], steps: int) -> dict[str, dict[str, Interval]]:
    """Per arm sampled at ``steps`` steps: the headline metrics there, mean and interval over seeds (an arm of the
    optimised grid may not be sampled at that count)."""
    names = sorted({row.arm for row in rows if row.steps == steps})
    table = quality_table(rows, names, (steps,))
    return {name: {m: v for m, v in table[name][steps].items() if m in HEADLINE_METRICS} for name in names}
