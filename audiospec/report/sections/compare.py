"""The comparison's section (the stage ``compare``): its figures first, then DESIGN.md questions 2 to 4 with what
each family of tests could decide, the long tables and per-test lists folded; and the README tables of a
comparison's results. The words are :mod:`audiospec.report.compare_words`'."""

from __future__ import annotations

import html
from pathlib import Path
from typing import Any

from audiospec.experiments.listen import read_manifest
from audiospec.experiments.results import CompareResult
from audiospec.experiments.rows import PRIMARY_METRIC
from audiospec.report.compare_words import (
    CompareWords,
    arm_answers,
    arm_label,
    compare_answers,
    compare_families,
    compare_words,
)
from audiospec.report.families import cannot_decide, family_html
from audiospec.report.headline_plots import HEADLINE_PLOTS, plot_headlines
from audiospec.report.page import FOLD_ROWS, figure, figures, fmt, folded, items, listening_section, table
from audiospec.report.plots import COMPARE_PLOTS, plot_compare
from audiospec.report.sections import Section, register_section
from audiospec.report.text import bullets, cell, markdown_table, number, table_ci

__all__ = ["CompareWords", "arm_answers", "compare_html", "compare_words"]

_TABLE_METRICS = ["kid_classifier", "fd_classifier", "rapsd_error", "cepstrum_error", "lsd", "mcd_nn_mean",
                  "memorisation_ratio"]


def _metric_rows(result: CompareResult) -> list[list[Any]]:
    rows = [[prior, steps, *(table_ci(per_metric.get(m)) for m in _TABLE_METRICS)]
            for prior in (*result.priors, *result.arms) for steps, per_metric in result.metrics[prior].items()]
    rows += [[f"{prior} (its own noise, no learning)", 0, *(fmt(result.prior_baseline[prior].get(m))
                                                           for m in _TABLE_METRICS)] for prior in result.priors]
    return rows + [[f"reference: {name}", "–", *(fmt(values.get(m)) for m in _TABLE_METRICS)]
                   for name, values in (result.floors or {}).items()]


def _order_rows(result: CompareResult) -> tuple[list[list[Any]], list[list[Any]]]:
    order_rows = [[p, view, table_ci(o.trained_order[view]), table_ci(o.exact.views[view].order),
                   table_ci(o.control.views[view].order) if o.control else "–", o.trained[0].views[view].power_order,
                   o.exact.views[view].power_order]
                  for p, o in result.autoregression_order.items() for view in o.trained_order]
    sweep_rows = [[name, "–" if e.beta is None else f"{e.beta:g}", view, table_ci(e.exact.views[view].order),
                   table_ci(e.exact.views[view].spread),
                   table_ci(e.trained_order[view]) if e.trained_order else "not trained",
                   table_ci(e.quality.get("rapsd_error")) if e.quality else "–"]
                  for name, e in (result.colour_sweep or {}).items() for view in e.exact.views]
    return order_rows, sweep_rows


def _shown(header: list[str], rows: list[list[Any]], what: str) -> str:
    """A table, folded when longer than :data:`FOLD_ROWS` rows."""
    return table(header, rows) if len(rows) <= FOLD_ROWS else folded(f"{what} ({len(rows)} rows)", table(header, rows))


def _order_html(result: CompareResult, words: CompareWords, out_dir: Path) -> str:
    """Question 2: the order figures, the per-prior-and-view table, the sentences folded; the colour sweep."""
    order_rows, sweep_rows = _order_rows(result)
    alpha = f"α̂ = {result.alpha_hat:.2f}" if result.alpha_hat is not None else "not run"
    return f"""
<h3>Question 2: is sampling coarse-to-fine (cepstral autoregression)?</h3>
{figures(figure(out_dir, "trajectory_heatmaps.png", "unexplained fraction of each quefrency band during sampling", "Dark = band decided (little of its content left to change); low bands turning dark first means coarse-to-fine."),
         figure(out_dir, "commit_times.png", "commit time per band, trained vs exact", "Solid: trained models; dashed: the exact linear-Gaussian model. A falling line means low bands commit earlier."))}
<p class='note'>Content order: Spearman(band frequency, −commit time), a band being committed once the unexplained
fraction of its content stays below the threshold; 95% intervals by bootstrap (over seeds and samples for the
trained models, over samples otherwise). Each trained score stands beside the exact linear-Gaussian model with the
centred training spectrum and a control network trained on Gaussian fields, measured the same way; the power-based
order is a secondary view.</p>
{_shown(["prior", "view", "trained (content)", "exact linear-Gaussian", "control network", "trained (power, seed 1)", "exact (power)"], order_rows, "content order per prior and view")}
{folded(f"The {len(words.autoregression)} order answers in words (per prior and view, then their robustness)", f"<ul>{items(words.autoregression)}</ul>")}
<h4>Dose-response of the prior's colour (exact linear-Gaussian model, {alpha})</h4>
{figure(out_dir, "colour_sweep.png", "order and spread against the prior exponent", "The order stays +1 while beta is below the data slope, reaches 0 at the matched prior and flips beyond it.")}
{folded(f"Order and spread per prior exponent and view ({len(sweep_rows)} rows)", table(["prior", "β", "view", "exact order", "exact spread (−dt*/dlog10 f)", "trained order", f"RAPSD error at {min(result.steps)} steps"], sweep_rows))}
"""


def _tests_html(result: CompareResult, words: CompareWords, out_dir: Path) -> str:
    """Questions 3 and 4: the figures, the primary tests in words, each family's reach and its sorted tests folded."""
    families = compare_families(result)
    shown = {fam: family_html(f, header=["arm vs reference", "metric"],
                              show=lambda d: cell(d, digits=3, signed=True, label=f"{100 * d.level:.2f}%: "),
                              reliable=lambda t: "better" if t.difference.mean < 0 else "worse",
                              open_up_to=FOLD_ROWS if fam else 0)
             for fam, f in families.items()}
    primary = [line for line in words.priors_vs_white if line.startswith("PRIMARY")]
    q4 = (f"<h3>Question 4: do the whitened loss and the optimised time grid help at equal compute?</h3>"
          f"{figure(out_dir, 'arm_differences.png', 'KID difference of each arm to its reference', 'Below 0 the arm helps; intervals at the secondary family level.')}"
          f"{folded(f'The {len(words.loss_and_schedule)} tests of question 4 in words', f'<ul>{items(words.loss_and_schedule)}</ul>')}"
          if words.loss_and_schedule else "")
    rows = _metric_rows(result)
    return f"""
<h3>Question 3: does a pink prior beat white at equal compute?</h3>
{figure(out_dir, "metrics_vs_steps.png", "metrics against sampling steps", "Every headline metric against steps; lower is better, bootstrap intervals over seeds.")}
<ul>{items(primary)}</ul>
<p class='note'>Differences to the reference arm, paired by seed, exact sign-flip test over seeds (n seeds cannot
give p below 2 / 2<sup>n</sup>), Holm-corrected within each family, intervals at its Bonferroni level. "No reliable
difference" is a result; a family that cannot reach α says so instead of a verdict per test.</p>
{shown.get(True, "")}{shown.get(False, "")}
{folded(f"Every metric per arm and step count, with the floors ({len(rows)} rows)", table(["arm", "steps", *_TABLE_METRICS], rows))}
{q4}"""


def compare_html(result: CompareResult, out_dir: Path) -> str:
    """The comparison's part of the page: headline figures, questions 2 to 4, generated audio (folded)."""
    words = compare_words(result)
    listening = out_dir / "listening.json"
    players = listening_section(read_manifest(listening), out_dir, generated=True) if listening.is_file() else ""
    return f"""
<h2 id="compare">Noise priors compared: {html.escape(", ".join(result.priors))}</h2>
{f"<p><strong>{html.escape(result.label)}</strong></p>" if result.label else ""}
<p>{len(result.seeds)} seeds per prior, {html.escape(result.sampler)} sampler; means with 95% intervals over seeds.
Every quality metric compares generated patches with the {result.n_test_patches} patches of the held-out test split
(recordings disjoint from training); "real train vs test" is the floor a perfect model reaches, "gaussian, train
spectrum" what second-order statistics alone give, and each prior's own noise the score of no learning.</p>
{figures(figure(out_dir, "kid_vs_steps.png", "KID against steps per prior", "Lower is better; 95% intervals over seeds. Solid grey: the floor (real training vs test patches); dashed: Gaussian fields with the training spectrum; the shaded step count is the pre-specified test."),
         figure(out_dir, "order_views.png", "content order per view and prior", "Trained models' content order (+1 coarse to fine) with its interval; x: the exact linear-Gaussian model; diamond: the control network on Gaussian fields."))}
{_order_html(result, words, out_dir)}
{_tests_html(result, words, out_dir)}
<h3>Did the models learn the data's spectrum?</h3><ul>{items(words.samples_vs_prior)}</ul>
{players}
"""


def kid_table(result: CompareResult, raw: Any = None) -> str:
    """README block ``compare.kid``: mean KID against the test split per arm and step count, 95% interval over
    seeds."""
    rows = [[arm_label(arm, result), *(cell(result.metrics[arm].get(s, {}).get(PRIMARY_METRIC)) for s in result.steps)]
            for arm in (*result.priors, *result.arms)]
    return markdown_table(["arm", *(f"{s} steps" for s in result.steps)], rows)


def floors_text(result: CompareResult, raw: Any = None) -> str:
    """README block ``compare.floors`` (inline): the KID floor, the second-order baseline and each prior's noise."""
    floors = result.floors or {}
    real, gaussian = (floors.get(name, {}).get(PRIMARY_METRIC) for name in ("real train vs test",
                                                                            "gaussian, train spectrum"))
    noise = ", ".join(f"{number(result.prior_baseline[p].get(PRIMARY_METRIC), digits=2)} ({p})" for p in result.priors)
    return (f"real training vs test KID **{number(real, digits=3)}**, Gaussian fields with the training spectrum "
            f"{number(gaussian, digits=3)}; each prior's own noise {noise}")


def _legacy_order(raw: Any) -> list[str]:
    answers = raw.get("answers", {}) if isinstance(raw, dict) else {}
    return [line for line in answers.get("question_2_cepstral_autoregression", []) if "content order from" not in line]


def headline(result: CompareResult, raw: Any = None) -> str:
    """README block ``compare.headline`` (inline): the pre-specified primary tests and their verdict (or that their
    family cannot decide with the run's seeds)."""
    primary = [(name, steps, d) for name, per_steps in result.difference_to_white.items()
               for steps, per_metric in per_steps.items() if (d := per_metric.get(PRIMARY_METRIC)) and d.primary]
    shown = ", ".join(f"{name} {cell(d, signed=True, label=f'{100 * d.level:g}%: ')}" for name, _, d in primary)
    p = " / ".join(number(d.p_holm, digits=2) for _, _, d in primary)
    family = compare_families(result).get(True)
    reliable = [name for name, _, d in primary if d.reliable]
    verdict = (f"reliably different: {', '.join(reliable)}" if reliable else "no reliable difference"
               if family is None or family.can_decide else
               f"{cannot_decide(family)} (smallest reachable p {family.smallest_p:.2f})")
    steps = sorted({s for _, s, _ in primary})
    return (f"KID against white at {', '.join(map(str, steps))} steps ({len(result.seeds)} seeds): {shown}, Holm p "
            f"{p}: **{verdict}**")


MARKDOWN = {
    "kid": kid_table, "floors": floors_text, "headline": headline,
    "seeds": lambda result, raw: str(len(result.seeds)),
    "primary": lambda result, raw: bullets([line for line in compare_words(result).priors_vs_white
                                            if line.startswith("PRIMARY")]),
    "tests": lambda result, raw: bullets(
        [line for line in compare_words(result).families if line.startswith("Secondary")]
        + [line for line in compare_words(result).priors_vs_white if not line.startswith("PRIMARY")]
        + list(compare_words(result).loss_and_schedule)),
    "samples": lambda result, raw: bullets(compare_words(result).samples_vs_prior),
    "order": lambda result, raw: bullets([line for line in compare_words(result).autoregression
                                          if "content order from" not in line] or _legacy_order(raw)),
}


def _summary(result: CompareResult, folder: Path) -> str:
    words = compare_words(result)
    return "\n".join(words.families + words.priors_vs_white + words.loss_and_schedule) or f"results in {folder}"


def _figures(result: CompareResult, folder: Path) -> list[str]:
    return plot_compare(result, folder) + plot_headlines(result, folder)


register_section(Section(stage="compare", html=compare_html, figures=_figures, markdown=MARKDOWN,
                         summary=_summary, figure_names=(*COMPARE_PLOTS, *HEADLINE_PLOTS), answer=compare_answers))
