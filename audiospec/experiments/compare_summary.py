"""Summaries of a prior comparison: intervals over seeds, paired differences to white, answers in words.

Works on the per-run metric rows and per-seed trajectories that
:func:`audiospec.experiments.compare.run_compare` collects, and returns a typed
:class:`~audiospec.experiments.results.CompareResult`.
"""

from __future__ import annotations

from typing import TYPE_CHECKING, Any

from audiospec.diffusion.priors import REFERENCE_PRIOR
from audiospec.experiments.results import Answers, CompareResult, Interval, OrderScores, Trajectory
from audiospec.functional.stats import mean_confidence_interval
from audiospec.metrics import summarize_runs

if TYPE_CHECKING:
    from audiospec.experiments.compare import CompareConfig

__all__ = ["HEADLINE_METRICS", "VIEWS", "summarize", "answers"]

VIEWS: tuple[str, ...] = ("cepstrum", "rapsd")
HEADLINE_METRICS: tuple[str, ...] = ("fd_classifier", "rapsd_error", "cepstrum_error", "lsd", "mcd_nn_mean")


def _interval(values: list[float]) -> Interval:
    mean, low, high = mean_confidence_interval(values)
    finite = low == low  # NaN with a single value
    return Interval(mean=mean, low=low if finite else None, high=high if finite else None, n=len(values))


def _paired_difference(rows: list[dict[str, Any]], prior: str, steps: int, metric: str) -> Interval | None:
    """Mean and CI over seeds of (metric under ``prior``) - (metric under the reference prior), paired by seed."""
    value = {(r["prior"], r["seed"]): r.get(metric) for r in rows if r["steps"] == steps}
    diffs = [v - value[(REFERENCE_PRIOR, s)] for (p, s), v in value.items()
             if p == prior and isinstance(v, float) and isinstance(value.get((REFERENCE_PRIOR, s)), float)]
    return _interval(diffs) if diffs else None


def summarize(rows: list[dict[str, Any]], trajectories: dict[str, list[Trajectory]],
              analytic: dict[str, dict[str, float]], baseline: dict[str, dict[str, Any]],
              cfg: "CompareConfig") -> CompareResult:
    """Means and 95% CIs over seeds, paired differences to white, AR scores, and the answers in words."""
    names = [spec.name for spec in cfg.priors]
    table = {name: {str(steps): {metric: _finite(Interval(**stat)) for metric, stat in summarize_runs(
        [r for r in rows if r["prior"] == name and r["steps"] == steps]).items()} for steps in cfg.steps}
        for name in names}
    differences = {name: {str(steps): {m: _paired_difference(rows, name, steps, m) for m in HEADLINE_METRICS}
                          for steps in cfg.steps} for name in names if name != REFERENCE_PRIOR}
    order = {name: OrderScores(analytic=analytic[name],
                               **{view: _interval([getattr(run, view).score for run in runs]) for view in VIEWS})
             for name, runs in trajectories.items()}
    return CompareResult(
        priors=tuple(names), seeds=tuple(cfg.seeds), steps=tuple(cfg.steps), sampler=cfg.sampler,
        metrics=table, prior_baseline=baseline, difference_to_white=differences, autoregression_order=order,
        trajectories={k: tuple(v) for k, v in trajectories.items()},
        answers=answers(table, differences, order, baseline, cfg),
    )


def _finite(stat: Interval) -> Interval:
    if stat.low is not None and stat.low != stat.low:
        return Interval(mean=stat.mean, low=None, high=None, n=stat.n)
    return stat


def _ci_text(stat: Interval | None) -> str:
    if stat is None:
        return "n/a"
    if stat.low is None:
        return f"{stat.mean:+.3f} (one seed, no interval)"
    return f"{stat.mean:+.3f} [95% CI {stat.low:+.3f}, {stat.high:+.3f}]"


def answers(table: dict[str, Any], differences: dict[str, Any], order: dict[str, OrderScores],
            baseline: dict[str, dict[str, Any]], cfg: "CompareConfig") -> Answers:
    """DESIGN.md questions 2 and 3 answered from the measured numbers (no verdict is hard-coded)."""
    learned = []
    most = str(max(cfg.steps))
    for name in table:
        generated = table[name][most].get("rapsd_error")
        prior_error = baseline[name].get("rapsd_error")
        if generated is None or prior_error is None:
            continue
        closer = "closer to" if generated.mean < prior_error else "NOT closer to"
        learned.append(f"{name} prior: samples at {most} steps have mean mel-RAPSD error {_ci_text(generated)} "
                       f"against the data, the prior's own noise {prior_error:.3f}: the model's output is "
                       f"{closer} the data's spectrum than its prior is.")
    q2 = [f"{name} prior: empirical autoregression order {_ci_text(scores.cepstrum)} (cepstral bands), "
          f"{_ci_text(scores.rapsd)} (RAPSD bands); the data and prior spectra predict "
          f"{scores.analytic['cepstrum']:+.2f} and {scores.analytic['rapsd']:+.2f}."
          for name, scores in order.items()]
    q3 = []
    for name, per_steps in differences.items():
        for steps in cfg.steps:
            diff = per_steps[str(steps)]["fd_classifier"]
            if diff is None:
                continue
            if diff.low is not None and diff.high < 0:
                verdict = "better (lower) than white"
            elif diff.low is not None and diff.low > 0:
                verdict = "worse (higher) than white"
            else:
                verdict = "not distinguishable from white at this number of seeds"
            q3.append(f"{name} vs white at {steps} steps: classifier Fréchet distance difference "
                      f"{_ci_text(diff)}: {verdict}.")
    return Answers(samples_vs_prior=tuple(learned), question_2_cepstral_autoregression=tuple(q2),
                   question_3_pink_vs_white=tuple(q3))
