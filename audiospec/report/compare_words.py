"""The comparison's words (the stage ``compare``): DESIGN.md questions 2 to 4 answered from its numbers, per test and
in one line per question for the top of the page (:class:`~audiospec.report.sections.Answer`).

A test whose Holm family cannot reach α with its seeds carries no verdict; its family's line says so once
(:mod:`audiospec.report.families`).
"""

from __future__ import annotations

from dataclasses import dataclass
from pathlib import Path
from typing import Any, Sequence

from audiospec.diffusion.priors import REFERENCE_PRIOR
from audiospec.experiments.compare_arms import OPTIMIZED, WHITENED
from audiospec.experiments.results import CompareResult, Difference, Interval, OrderScores, SensitivityRow
from audiospec.experiments.rows import PRIMARY_METRIC
from audiospec.report.families import (
    Comparison,
    HolmFamily,
    difference_families,
    family_line,
    p_values_text,
    reach_text,
    undecided,
    verdict,
)
from audiospec.report.sections import Answer
from audiospec.report.text import cell, ci_text, interval_text, number

__all__ = ["CompareWords", "arm_answers", "arm_label", "compare_answers", "compare_families", "compare_words",
           "robustness"]

BASIS = "the seeds' paired differences (bootstrap)"


@dataclass(frozen=True)
class CompareWords:
    """The comparison's answers: did the samples learn the data's spectrum, how coarse-to-fine is sampling (each
    trained order beside its exact model and control network, and its robustness), the priors against white, the
    extra arms at equal compute (whitened loss, optimised grid) against their references, and what each family of
    tests could decide."""

    samples_vs_prior: tuple[str, ...]
    autoregression: tuple[str, ...]
    priors_vs_white: tuple[str, ...]
    loss_and_schedule: tuple[str, ...] = ()
    families: tuple[str, ...] = ()


def _compared(trained: Interval, exact: Interval) -> str:
    """Whether the trained interval lies above, below or overlaps the exact model's interval."""
    if trained.low is not None and exact.high is not None and trained.low > exact.high:
        return "MORE coarse-to-fine than"
    if trained.high is not None and exact.low is not None and trained.high < exact.low:
        return "LESS coarse-to-fine than"
    return "not distinguishable from"


def _order_answer(name: str, view: str, scores: OrderScores) -> str:
    exact = scores.exact.views[view].order
    trained = scores.trained_order[view]
    calibration = ""
    if scores.control is not None:
        control = scores.control.views[view].order
        agrees = _compared(control, exact).startswith("not")
        calibration = (f"; control network on Gaussian fields {ci_text(control)}, which "
                       + ("agrees with the exact model (the measure is calibrated)" if agrees
                          else "DIFFERS from the exact model (the measure or the network is biased)"))
    return (f"{name} prior, {view} bands: trained models' content order {ci_text(trained)} over "
            f"{len(scores.trained)} seed(s), the exact linear-Gaussian model {ci_text(exact)}{calibration}: the "
            f"trained models are {_compared(trained, exact)} the linear-Gaussian prediction.")


def robustness(rows: Sequence[SensitivityRow]) -> list[str]:
    """Per prior, model and view: does the sign of the content order hold over every measurement setting?"""
    groups: dict[tuple[str, str, str], list[float]] = {}
    for row in rows:
        groups.setdefault((row.prior, row.model, row.view), []).append(row.order)
    lines = []
    for (prior, model, view), values in groups.items():
        signs = {(v > 0.1) - (v < -0.1) for v in values}  # |order| <= 0.1 counts as "no order"
        verdict_ = "robust" if len(signs) == 1 else "NOT robust (its sign changes with the settings)"
        lines.append(f"{prior} prior, {model}, {view} bands: content order from {min(values):+.2f} to "
                     f"{max(values):+.2f} over {len(values)} settings of threshold, bands and steps: {verdict_}.")
    return lines


def compare_families(result: CompareResult) -> dict[bool, HolmFamily]:
    """The comparison's primary (True) and secondary (False) Holm families: the priors against white and the extra
    arms against their references, every metric and step count."""
    references = {**{prior: REFERENCE_PRIOR for prior in result.difference_to_white}, **result.arms}
    primary_steps = sorted({s for per in result.difference_to_white.values() for s, m in per.items()
                            if any(d is not None and d.primary for d in m.values())})
    names = {True: f"Primary family (pre-specified: KID against white at {', '.join(map(str, primary_steps))} steps, "
                   "one test per prior)",
             False: "Secondary family (every other comparison: other step counts and metrics"
                    + (", the whitened loss and the optimised grid)" if result.arms else ")")}
    return difference_families({**result.difference_to_white, **result.arm_differences}, references, names=names,
                               basis=BASIS)


def compare_words(result: CompareResult) -> CompareWords:
    """DESIGN.md questions 2 to 4 answered from the measured numbers (no verdict is hard-coded)."""
    learned = []
    most = max(result.steps)
    floors = result.floors or {}
    for name, per_steps in result.metrics.items():
        generated = per_steps.get(most, {}).get("rapsd_error")
        prior_error = result.prior_baseline.get(name, {}).get("rapsd_error")
        if generated is None or prior_error is None:
            continue
        closer = "closer to" if generated.mean < prior_error else "NOT closer to"
        learned.append(f"{name} prior: samples at {most} steps have mean mel-RAPSD error {ci_text(generated)} "
                       f"against the data, the prior's own noise {prior_error:.3f}: the model's output is "
                       f"{closer} the data's spectrum than its prior is.")
    order = [_order_answer(name, view, scores) for name, scores in result.autoregression_order.items()
             for view in scores.trained_order]
    order += robustness(result.sensitivity)
    families = compare_families(result)
    versus = sorted((line for name, per_steps in result.difference_to_white.items()
                     for line in _difference_lines(name, REFERENCE_PRIOR, per_steps, floors, families)),
                    key=lambda line: not line.startswith("PRIMARY"))  # the pre-specified test first
    return CompareWords(samples_vs_prior=tuple(learned), autoregression=tuple(order), priors_vs_white=tuple(versus),
                        loss_and_schedule=tuple(arm_answers(result.arms, result.arm_differences, floors, families)),
                        families=tuple(family_line(f) for f in families.values()))


def _difference_lines(name: str, reference: str, per_steps: dict[int, dict[str, Difference | None]],
                      floors: dict[str, dict[str, Any]], families: dict[bool, HolmFamily]) -> list[str]:
    """One sentence per step count: the primary metric's paired difference of ``name`` to ``reference``, its
    Holm-corrected p and the real-vs-real floor beside it, and the verdict where its family can decide."""
    floor = floors.get("real train vs test", {}).get(PRIMARY_METRIC)
    floor_text = f" (floor, real training vs test patches: {floor:.4f})" if isinstance(floor, float) else ""
    lines = []
    for steps, per_metric in per_steps.items():
        diff = per_metric.get(PRIMARY_METRIC)
        if diff is None:
            continue
        tested = Comparison(label=name, difference=diff, p_holm=diff.p_holm, reliable=diff.reliable, seeds=diff.n)
        words = verdict(families[diff.primary], tested,
                        reliable=f"{'better (lower)' if diff.mean < 0 else 'worse (higher)'} than {reference}, reliably")
        p = f", Holm-corrected p = {diff.p_holm:.3f}" if diff.p_holm is not None else ""
        family = "PRIMARY (pre-specified, its own Holm family): " if diff.primary else ""
        shown = interval_text(diff, signed=True, label=f"{100 * diff.level:.2f}% CI ")
        lines.append(f"{family}{name} vs {reference} at {steps} steps: KID difference {shown}{p}{floor_text}"
                     + (f": {words}." if words else "."))
    return lines


def arm_answers(arms: dict[str, str], arm_differences: dict[str, Any], floors: dict[str, dict[str, Any]],
                families: dict[bool, HolmFamily] | None = None) -> list[str]:
    """DESIGN.md question 4 at equal compute (whitened vs plain loss, optimised vs uniform Euler grid): one sentence
    per arm (``arms``: arm -> reference arm) and step count; ``families``: the Holm families the tests belong to
    (default: those of ``arm_differences`` alone)."""
    if families is None:
        families = difference_families(arm_differences, arms, names={True: "primary", False: "secondary"},
                                       basis=BASIS)
    return [line for arm, reference in arms.items()
            for line in _difference_lines(arm, reference, arm_differences.get(arm, {}), floors, families)]


def arm_label(arm: str, result: CompareResult) -> str:
    """An arm as a reader names it, with its seed count when it has fewer seeds than the priors."""
    label = (arm.replace(WHITENED, " + whitened loss") if arm.endswith(WHITENED) else
             arm.replace(OPTIMIZED, ", optimised grid") if arm.endswith(OPTIMIZED) else arm)
    counts = {stat.n for per_metric in result.metrics.get(arm, {}).values()
              for metric, stat in per_metric.items() if metric == PRIMARY_METRIC}
    return label + (f" ({counts.pop()} seeds)" if len(counts) == 1 and counts != {len(result.seeds)} else "")


def _family_verdict(family: HolmFamily, tests: Sequence[Comparison], better: str) -> str:
    """The verdict of a question answered by some tests of ``family``, in a few words."""
    reliable = [f"{t.label} {'better' if t.difference.mean < 0 else 'worse'}" for t in tests if t.reliable]
    return undecided(family, tests) or (("reliably: " + ", ".join(reliable)) if reliable else
                                        f"no reliable difference ({better})")


def _priors_answer(result: CompareResult, families: dict[bool, HolmFamily]) -> Answer:
    question = "Does a coloured noise prior beat white noise at equal compute?"
    primary = [(name, s, d) for name, per in result.difference_to_white.items() for s, m in per.items()
               if (d := m.get(PRIMARY_METRIC)) is not None and d.primary]
    floors = result.floors or {}
    scale = (f"Floor (real vs real patches) {number(floors.get('real train vs test', {}).get(PRIMARY_METRIC), digits=3)}"
             f"; Gaussian with the training spectrum "
             f"{number(floors.get('gaussian, train spectrum', {}).get(PRIMARY_METRIC), digits=3)}.")
    if not primary or True not in families:
        kid = ", ".join(f"{p} {cell(result.metrics[p].get(max(result.steps), {}).get(PRIMARY_METRIC))}"
                        for p in result.priors)
        return Answer(key="compare.priors", question=question, figure="kid_vs_steps.png",
                      line=f"KID at {max(result.steps)} steps: {kid}; no test against white (one prior). {scale}")
    family, steps = families[True], primary[0][1]
    kid = ", ".join(f"{p} {number(result.metrics[p].get(steps, {}).get(PRIMARY_METRIC).mean)}" for p in result.priors
                    if result.metrics[p].get(steps, {}).get(PRIMARY_METRIC) is not None)
    diffs = ", ".join(f"{name} {cell(d, signed=True, label=f'{100 * d.level:g}%: ' if i == 0 else '')}"
                      for i, (name, _, d) in enumerate(primary))
    tests = [Comparison(label=name, difference=d, p_holm=d.p_holm, reliable=d.reliable, seeds=d.n) for name, _, d in primary]
    return Answer(
        key="compare.priors", question=question, figure="kid_vs_steps.png",
        caption="KID per prior against sampling steps; grey lines: the floor and the Gaussian baseline.",
        line=(f"KID against held-out test patches at {steps} steps (pre-specified; lower is better): {kid}. "
              f"Minus white: {diffs}; Holm p {p_values_text([d.p_holm for _, _, d in primary])} "
              f"({reach_text(family)}). {scale}"),
        verdict=_family_verdict(family, tests, "at α = 0.05"))


def _order_line(result: CompareResult) -> Answer:
    question = "Is sampling coarse-to-fine, as the linear-Gaussian model predicts?"
    orders = result.autoregression_order
    if not orders:
        return Answer(key="compare.order", question=question,
                      line="This result file holds no content-order numbers (written before they were recorded).")
    views = list(next(iter(orders.values())).trained_order)
    view = "cepstrum" if "cepstrum" in views else views[0]
    trained = ", ".join(f"{p} {cell(o.trained_order[view], signed=True)}" for p, o in orders.items())
    exact = " / ".join(number(o.exact.views[view].order.mean, signed=True) for o in orders.values())
    controls = {p: _compared(o.control.views[view].order, o.exact.views[view].order).startswith("not")
                for p, o in orders.items() if o.control is not None}
    calibration = (f"a control network on Gaussian fields agrees with it for {sum(controls.values())} of "
                   f"{len(controls)} priors" + (" (calibrated)" if all(controls.values()) else "")
                   if controls else "no control network was trained (not calibrated)")
    groups: dict[str, list[str]] = {}
    for p, o in orders.items():
        t, e = o.trained_order[view], o.exact.views[view].order
        shape = ("coarse-to-fine" if t.low is not None and t.low > 0 else "fine-to-coarse"
                 if t.high is not None and t.high < 0 else "no clear order")
        relation = {"MORE": "more than predicted", "LESS": "less than predicted"}.get(_compared(t, e).split()[0],
                                                                                      "as predicted")
        groups.setdefault(f"{shape}, {relation}", []).append(p)
    return Answer(
        key="compare.order", question=question, figure="order_views.png",
        caption="Trained order per view with its interval; x: exact linear-Gaussian model; ◇: control network.",
        line=(f"Content order of the {view} bands while sampling (+1 strictly coarse to fine, 0 all at once), "
              f"{len(result.seeds)} seeds: {trained}; the exact linear-Gaussian model predicts {exact}; {calibration}."),
        verdict="; ".join(f"{', '.join(priors)}: {words}" for words, priors in groups.items()))


def _arms_answer(result: CompareResult, families: dict[bool, HolmFamily]) -> Answer:
    ranges = []
    for arm in result.arms:
        values = [d.mean for d in (m.get(PRIMARY_METRIC) for m in result.arm_differences.get(arm, {}).values()) if d]
        if values:
            shown = number(values[0], signed=True) if len(values) == 1 else \
                f"{number(min(values), signed=True)} to {number(max(values), signed=True)}"
            ranges.append(f"{arm_label(arm, result)} {shown}")
    family = families.get(False)
    reach = f" Tested in one Holm family with every other comparison: {reach_text(family)}." if family else ""
    tests = [t for t in family.tests if t.group == PRIMARY_METRIC and t.label.split(" vs ")[0] in result.arms] \
        if family else []
    return Answer(
        key="compare.arms", question="Do the whitened loss and the optimised time grid help at equal compute?",
        figure="arm_differences.png", caption="KID difference of each arm to its reference; below 0 helps.",
        line=f"KID minus the reference arm's, over the step counts (below 0 helps): {'; '.join(ranges)}.{reach}",
        verdict=_family_verdict(family, tests, "at α = 0.05") if family else "")


def compare_answers(result: CompareResult, folder: Path) -> list[Answer]:
    """The comparison's questions in a line each: the order of sampling, the priors against white, and the extra arms
    when the run has them."""
    families = compare_families(result)
    answers = [_order_line(result), _priors_answer(result, families)]
    return answers + ([_arms_answer(result, families)] if result.arms else [])
