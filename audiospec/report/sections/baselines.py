"""The baselines' words, tables and figures (the stage ``baselines``): the explicit coarse-to-fine models against
the diffusion models, answered from its numbers, each family of tests with what it could decide."""

from __future__ import annotations

import html
from pathlib import Path
from typing import Any

from audiospec.diffusion.priors import REFERENCE_PRIOR
from audiospec.diffusion.processes import bands_in_turn, objective_label
from audiospec.experiments.results import CALIBRATION, BaselinesResult, Difference
from audiospec.experiments.rows import PRIMARY_METRIC
from audiospec.report.families import (
    Comparison,
    HolmFamily,
    cannot_decide,
    difference_families,
    family_html,
    family_line,
    p_values_text,
    reach_text,
    undecided,
    verdict,
)
from audiospec.report.page import FOLD_ROWS, figure, fmt, folded, items, table
from audiospec.report.plots import plot_baselines
from audiospec.report.sections import Answer, Section, register_section
from audiospec.report.text import bullets, cell, interval_text, markdown_table, number, table_ci

__all__ = ["baselines_answers", "baselines_families", "baselines_html", "baselines_words"]


def baselines_families(result: BaselinesResult, *, metric: str | None = PRIMARY_METRIC) -> dict[bool, HolmFamily]:
    """The baselines' primary (True) and secondary (False) Holm families of differences to white diffusion (tests of
    ``metric`` only; None: every metric, as they were corrected)."""
    table = {name: {s: {m: d for m, d in per.items() if metric is None or m == metric} for s, per in steps.items()}
             for name, steps in result.difference_to_white.items()}
    names = {True: f"Primary family (pre-specified: KID at {result.primary_steps} steps, one test per baseline)",
             False: "Secondary family (every other step count and metric)"}
    return difference_families(table, {name: REFERENCE_PRIOR for name in table}, names=names,
                               basis="the seeds' paired differences (bootstrap)")


def _compute_claim(budgets: dict[str, dict[str, int] | None], name: str) -> str:
    """"equal compute and NFE" when the recorded budgets say so, else both budgets."""
    mine, white = budgets.get(name), budgets.get(REFERENCE_PRIOR)
    if mine is not None and mine == white:
        return (f"equal compute and NFE: {mine['train_steps']} training steps of {mine['batch_size']} patches, "
                f"{mine['nfe_per_step']} network evaluation(s) per sampling step")
    shown = {arm: "unknown (the seeds differ)" if b is None else
             f"{b['train_steps']} steps x {b['batch_size']} patches, {b['nfe_per_step']} evaluation(s) per step"
             for arm, b in ((REFERENCE_PRIOR, white), (name, mine))}
    return f"NOT equal compute or NFE: diffusion {shown[REFERENCE_PRIOR]}; {name} {shown[name]}"


def _primary(result: BaselinesResult, name: str) -> list[str]:
    """The primary test of one baseline (KID against white diffusion at the pre-specified step count)."""
    primary_steps, table = result.primary_steps, result.metrics
    diff: Difference | None = result.difference_to_white.get(name, {}).get(primary_steps, {}).get(PRIMARY_METRIC)
    if diff is None:
        return []
    floor = result.floors["real train vs test"][PRIMARY_METRIC]
    mine = table[name][primary_steps][PRIMARY_METRIC]
    white = table[REFERENCE_PRIOR][primary_steps][PRIMARY_METRIC]
    calib = table[CALIBRATION + name][primary_steps][PRIMARY_METRIC]
    tested = Comparison(label=name, difference=diff, p_holm=diff.p_holm, reliable=diff.reliable, seeds=diff.n)
    words = verdict(baselines_families(result)[True], tested,
                    reliable=f"the {name} baseline is reliably {'better' if diff.mean < 0 else 'worse'} than diffusion")
    p = "one seed: no test" if diff.p_holm is None else f"Holm p = {diff.p_holm:.3f}"
    shown = interval_text(diff, signed=True, label=f"{100 * diff.level:.1f}%: ")
    return [f"{name} vs the white-prior diffusion model at {primary_steps} steps (PRIMARY, "
            f"{_compute_claim(result.budgets, name)}): KID {interval_text(mine)} vs {interval_text(white)}, "
            f"difference {shown}, {p}" + (f": {words}." if words and diff.p_holm is not None else ".")
            + f" Its sampler with the exact Gaussian network: {calib.mean:.3f}; "
            f"floor {floor:.3f}."]


def baselines_words(result: BaselinesResult) -> list[str]:
    """The baselines' answers from the numbers (the primary test and the rest of each, the few-steps caveat of a
    model that generates bands in turn, the commit measure's order on each)."""
    lines = []
    for kind in result.kinds:
        name = objective_label(kind)
        per_steps = result.difference_to_white.get(name, {})
        lines += _primary(result, name)
        others = [(steps, d) for steps, metrics in per_steps.items() for metric, d in metrics.items()
                  if d is not None and not d.primary and metric == PRIMARY_METRIC]
        reliable = [f"{steps} steps ({d.mean:+.3f}, Holm p {d.p_holm:.3f})" for steps, d in others if d.reliable]
        secondary = baselines_families(result, metric=None).get(False)
        cannot = secondary is not None and not secondary.can_decide and not reliable
        lines.append(f"{name}, KID vs white at the other step counts (secondary): "
                     + (f"reliable at {', '.join(reliable)}" if reliable else
                        f"{cannot_decide(secondary)} (a family of {secondary.family.size} tests)"
                        if cannot else "no reliable difference") + ".")
    in_turn = [kind for kind in result.kinds if bands_in_turn(kind)]
    for kind in in_turn:
        few = [s for s in result.steps if s < 2 * result.n_stages]
        if few:
            lines.append(f"{objective_label(kind)} at {', '.join(map(str, few))} steps: fewer than two steps per band "
                         f"({result.n_stages} bands), so bands are drawn jointly or as their conditional mean; "
                         "its rows there show the cost of a fixed band order at few steps, not its quality.")
    for kind in result.kinds:
        name = objective_label(kind)
        if name in result.orders:
            lines.append(f"commit measure (cepstrum content order) on the {name} baseline: "
                         f"{interval_text(result.orders[name], signed=True)} (+1 = bands committed strictly coarse to "
                         "fine" + ("; +1 by construction, the measure's positive control)" if kind in in_turn else ")"))
    return lines


def baselines_html(result: BaselinesResult, out_dir: Path) -> str:
    """The baselines' part of the page: the figure, then the explicit coarse-to-fine models beside the diffusion
    models, calibrated, each family with what it could decide; long tables folded."""
    answers = items(baselines_words(result))
    metrics = ["kid_classifier", "fd_classifier", "rapsd_error", "cepstrum_error", "lsd", "mcd_nn_mean"]
    rows = [[name, steps, *(table_ci(per_metric.get(m)) for m in metrics)]
            for name in (*result.names, *(n for n in result.metrics if n not in result.names))
            for steps, per_metric in result.metrics[name].items()]
    rows += [[f"reference: {name}", "–", *(fmt(values.get(m)) for m in metrics)] for name, values in result.floors.items()]
    families = "".join(family_html(f, header=["baseline vs white", "metric"],
                                   show=lambda d: cell(d, digits=3, signed=True, label=f"{100 * d.level:.1f}%: "),
                                   reliable=lambda t: "better" if t.difference.mean < 0 else "worse",
                                   open_up_to=FOLD_ROWS if primary else 0)
                       for primary, f in baselines_families(result, metric=None).items())
    speed = ", ".join(f"{name} {v:.2f}" for name, v in result.train_steps_per_second.items()) or "not measured"
    return f"""
<h2 id="baselines">Explicit coarse-to-fine models: cepstral autoregression and heat dissipation</h2>
{figure(out_dir, "baselines_kid.png", "KID against steps", "Lower is better. Thick lines: the explicit coarse-to-fine models; dotted: their samplers with the exact Gaussian network; grey: the floor and the Gaussian with the training spectrum.")}
<p>Seeds {", ".join(str(s) for s in result.seeds)}; every model has the compare section's budget (same U-Net,
optimiser, steps and training split) and is sampled with one network evaluation per step from the same noise seeds;
{result.n_test_patches} test patches. The cepstral model generates {result.n_stages} quefrency bands in turn (the
commit measure's bands), each by flow matching given the lower ones; heat dissipation blurs and un-blurs
(IHDM, sampler η = {result.heat_eta:g}). Training throughput (steps/s, this machine): {html.escape(speed)}.</p>
<ul>{answers}</ul>
<p class='note'>Rows "exact Gaussian, …" are each baseline's calibration: the same sampler with the exact network for
Gaussian data with the training split's mean and variance per coefficient. Differences to the white-prior diffusion
model paired by seed; exact sign-flip tests, Holm within each family; intervals at the families' Bonferroni
levels.</p>
{families}
{folded(f"Every metric per model and step count, with the floors ({len(rows)} rows)", table(["model", "steps", *metrics], rows))}
"""


def baselines_answers(result: BaselinesResult, folder: Path) -> list[Answer]:
    """The baselines' question in a line: the explicit coarse-to-fine models against white diffusion at the
    pre-specified step count, calibrated."""
    steps, names = result.primary_steps, [objective_label(k) for k in result.kinds]
    family = baselines_families(result).get(True)
    found = [(n, d) for n in names if (d := result.difference_to_white.get(n, {}).get(steps, {}).get(PRIMARY_METRIC))]
    if family is None or not found:
        return []
    kid = lambda name: result.metrics.get(name, {}).get(steps, {}).get(PRIMARY_METRIC)  # noqa: E731
    calib = ", ".join(f"{n} {number(kid(CALIBRATION + n).mean if kid(CALIBRATION + n) else None)}" for n, _ in found)
    reliable = [f"{n} {'better' if d.mean < 0 else 'worse'}" for n, d in found if d.reliable]
    tests = [Comparison(label=n, difference=d, p_holm=d.p_holm, reliable=d.reliable, seeds=d.n) for n, d in found]
    words = undecided(family, tests) or ("reliably: " + ", ".join(reliable) if reliable else "no reliable difference")
    return [Answer(
        key="baselines.kid", question="Do explicit coarse-to-fine models beat diffusion at equal compute?",
        figure="baselines_kid.png", caption="KID against steps; thick: the explicit coarse-to-fine models.",
        line=(f"KID at {steps} steps (pre-specified; lower is better): "
              + ", ".join(f"{n} {number(kid(n).mean if kid(n) else None)}" for n, _ in found)
              + f" vs white diffusion {number(kid(REFERENCE_PRIOR).mean if kid(REFERENCE_PRIOR) else None)}; minus "
              + "white: " + ", ".join(f"{cell(d, signed=True, label=f'{100 * d.level:g}%: ' if i == 0 else '')}"
                                      for i, (_, d) in enumerate(found))
              + f"; Holm p {p_values_text([d.p_holm for _, d in found])} ({reach_text(family)}). Calibration, their "
              f"samplers with the exact Gaussian network: {calib}; floor "
              f"{number(result.floors.get('real train vs test', {}).get(PRIMARY_METRIC), digits=3)}."),
        verdict=words)]


def kid_table(result: BaselinesResult, raw: Any = None) -> str:
    """README block ``baselines.kid``: KID per model and step count (the diffusion priors, the baselines, then each
    baseline's sampler with the exact Gaussian network), 95% intervals over seeds."""
    names = [*result.names, *(n for n in result.metrics if n not in result.names)]
    label = {n: f"calibration: exact Gaussian network, {n[len(CALIBRATION):]} sampler" for n in names
             if n.startswith(CALIBRATION)}
    rows = [[label.get(name, name), *(cell(result.metrics[name].get(s, {}).get(PRIMARY_METRIC)) for s in result.steps)]
            for name in names]
    header = [f"{s} (primary)" if s == result.primary_steps else f"{s} steps" for s in result.steps]
    return markdown_table(["model", *header], rows)


def headline(result: BaselinesResult, raw: Any = None) -> str:
    """README block ``baselines.headline`` (inline): each baseline's primary difference to white and the verdict."""
    found = [(objective_label(k), result.difference_to_white.get(objective_label(k), {}).get(result.primary_steps, {})
              .get(PRIMARY_METRIC)) for k in result.kinds]
    found = [(name, d) for name, d in found if d is not None]
    shown = ", ".join(f"{name} {number(d.mean, signed=True)}" for name, d in found)
    family = baselines_families(result).get(True)
    cannot = family is not None and not family.can_decide
    verdicts = {("reliably " + ("better" if d.mean < 0 else "worse")) if d.reliable else
                cannot_decide(family) if cannot else "no reliable difference" for _, d in found}
    p = " / ".join(number(d.p_holm, digits=3) for _, d in found)
    return (f"at {result.primary_steps} steps: {shown} KID vs white, **{' / '.join(sorted(verdicts))}** "
            f"(Holm p {p})")


MARKDOWN = {"kid": kid_table, "headline": headline,
            "primary": lambda result, raw: bullets([line for line in baselines_words(result) if "PRIMARY" in line])}


def _summary(result: BaselinesResult, folder: Path) -> str:
    lines = [family_line(f) for f in baselines_families(result, metric=None).values()] + baselines_words(result)
    return "\n".join(lines) + f"\nresults: {folder / 'baselines.json'}"


register_section(Section(stage="baselines", html=baselines_html, figures=plot_baselines, markdown=MARKDOWN,
                         summary=_summary, figure_names=("baselines_kid.png",), answer=baselines_answers))
