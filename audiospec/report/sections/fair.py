"""The words, tables and figures of the stage ``fair`` (issue 25): fair references, the band-step measure, the band
swap with demonstrated power, honest likelihoods, and what every test family could decide."""

from __future__ import annotations

from pathlib import Path
from typing import Any

from audiospec.diffusion.priors import REFERENCE_PRIOR
from audiospec.experiments.fair_arms import FAIR_AR
from audiospec.experiments.results_fair import ArmQuality, FairResult, FamilyNote
from audiospec.measures.statistics import Difference
from audiospec.report.page import figure, items, table
from audiospec.report.plots_fair import FAIR_FIGURES, plot_fair
from audiospec.report.sections import Section, register_section
from audiospec.report.text import bullets, cell, interval_text, markdown_table, number

__all__ = ["fair_html", "fair_words"]

TOUCHED = 0.01  # a step "touches" a band when it writes at least 1% of the band's content
KID_DIGITS = 4  # KID of a small test split can be ~1e-3: two decimals would print every arm as 0.00


def _arm(result: FairResult, name: str) -> ArmQuality | None:
    return next((arm for arm in result.arms if arm.name == name), None)


def _family(result: FairResult, prefix: str) -> FamilyNote | None:
    return next((f for f in result.families if f.name.startswith(prefix)), None)


def _verdict(d: Difference | None, note: FamilyNote | None, better: str, worse: str) -> str:
    if d is None or d.p_value is None:
        return "one seed: no test"
    if note is not None and not note.can_decide:
        return (f"cannot decide with {note.n} seeds (the smallest Holm p this family of {note.size} can reach is "
                f"{note.smallest_p:.3f})")
    return (better if d.mean < 0 else worse) if d.reliable else f"no reliable difference (Holm p {d.p_holm:.3f})"


def _touched(shares: tuple[tuple[float, ...], ...]) -> float:
    cells = [v for row in shares for v in row]
    return sum(v >= TOUCHED for v in cells) / max(len(cells), 1)


def _calibration_line(arm: ArmQuality) -> str:
    c = arm.calibration
    if c is None:
        return ""
    return (f"{arm.name}: its sampler at {arm.nfe} NFE with the exact Gaussian network gives KID {c.kid.mean:.3f} "
            f"(draws {c.kid.low:.3f}–{c.kid.high:.3f}) against {c.exact.mean:.3f} ({c.exact.low:.3f}–{c.exact.high:.3f}) "
            f"for that Gaussian sampled exactly: {'within' if c.within_noise else 'NOT within'} the Gaussian's own "
            "sampling noise.")


def quality_words(result: FairResult) -> list[str]:
    """The primary test and the calibration of the fair cepstral AR."""
    ar, white = _arm(result, FAIR_AR), _arm(result, REFERENCE_PRIOR)
    lines = []
    if ar is not None and white is not None:
        verdict = _verdict(result.primary, _family(result, "primary"), "the fair cepstral AR is reliably better",
                           "the fair cepstral AR is reliably worse")
        shown = "–" if result.primary is None else interval_text(result.primary, signed=True)
        lines.append(f"PRIMARY: fair cepstral AR vs the white flow model at {result.nfe} network evaluations "
                     f"({result.steps_per_band} Heun steps per band, {result.n_stages} bands; the flow: "
                     f"{white.steps} Euler steps): KID {interval_text(ar.kid)} vs {interval_text(white.kid)}, "
                     f"difference {shown}: {verdict}. Minus the Gaussian with the training spectrum "
                     f"({result.gaussian_kid:.3f}): {ar.kid_minus_gaussian.mean:+.3f} vs "
                     f"{white.kid_minus_gaussian.mean:+.3f}.")
        lines.append(_calibration_line(ar))
    return [line for line in lines if line]


def band_step_words(result: FairResult) -> list[str]:
    """What the band × step shares say about "diffusion refines every band at every step"."""
    ar, white = _arm(result, FAIR_AR), _arm(result, REFERENCE_PRIOR)
    if ar is None or white is None:
        return []
    even = 1.0 / result.n_stages
    lines = [f"Band-step shares: the white flow model writes each band's content with stage concentration "
             f"{interval_text(white.concentration)} (the share written in a band's busiest {result.n_stages}th of "
             f"the steps: 1 for an autoregression, {even:.3f} for an even spread); {100 * _touched(white.shares):.0f}% "
             f"of its band × step cells carry at least {100 * TOUCHED:.0f}% of their band. The fair cepstral AR: "
             f"{interval_text(ar.concentration)}, {100 * _touched(ar.shares):.0f}% of cells; their exact Gaussian "
             f"networks: {_exact_concentration(white)} and {_exact_concentration(ar)}."]
    test, note = result.concentration_test, _family(result, "band steps")
    every = _touched(white.shares) >= 0.9
    if test is None:
        lines.append("Conclusion 1 (\"ordering is not autoregression: diffusion refines every band at every step\"): "
                     "NOT TESTED by this result (it holds no paired test of the concentrations): the numbers above "
                     "describe, they do not decide.")
    elif test.reliable and test.mean > 0:
        lines.append(f"Conclusion 1 (\"ordering is not autoregression: diffusion refines every band at every step\"), "
                     f"tested by the concentration of the fair cepstral AR minus white's, "
                     f"{interval_text(test, signed=True)} (Holm p {test.p_holm:.3f}): "
                     + ("KEPT: diffusion spreads each band over the whole trajectory while the autoregression writes "
                        "it in its own stage." if every else
                        "RESTATED: diffusion writes each band over more steps than the autoregression's own stage "
                        f"(ordering is not autoregression), but not at every step: "
                        f"{100 * (1 - _touched(white.shares)):.0f}% of its band × step cells write less than "
                        f"{100 * TOUCHED:.0f}% of their band."))
    else:
        verdict = _verdict(test, note, "the fair cepstral AR is reliably LESS concentrated than diffusion",
                           "the fair cepstral AR is reliably more concentrated")
        lines.append(f"Conclusion 1: NOT SUPPORTED by the band-step measure here: the fair cepstral AR's concentration "
                     f"minus white's is {interval_text(test, signed=True)}: {verdict}.")
    return lines


def _exact_concentration(arm: ArmQuality) -> str:
    return number(arm.exact_concentration, digits=3)


def swap_words(result: FairResult) -> list[str]:
    """The band swap's power, and the pre-specified test between priors (conclusion 2)."""
    positive = [r for r in result.swap if r.role == "positive control"]
    negative = [r for r in result.swap if r.role == "negative control"]
    lines = [f"Ceiling: a ridge regression of the fine DCT coefficients (from {result.k_cut}) of a test patch on its "
             f"coarse ones (fitted on train, penalty {result.ceiling_alpha:g} chosen on validation) explains "
             f"{result.ceiling:.3f} of their variance: the directional share an exact autoregressive sampler of a "
             "linear-Gaussian conditional would show when swapped at its stage edge."]
    ceiling_of_negatives = max((r.directional.high or r.directional.mean for r in negative), default=None)
    for row in positive:
        lines.append(f"Positive control, the fair cepstral AR swapped at its stage edge (t = {row.time:.3f}): "
                     f"directional share {interval_text(row.directional)} (its exact Gaussian network "
                     f"{number(row.exact, digits=3, signed=True)}; the pairs' one-sided p {row.p_pairs:.4f}); negative "
                     "controls (networks trained on band-independent Gaussian fields) reach at most "
                     f"{number(ceiling_of_negatives, digits=3)} (upper interval bounds).")
    lines.append("The positive control is " + ("DETECTED: its interval lies above every negative control's."
                                               if result.positive_detected else
                                               "NOT detected above the negative controls: the swap has no demonstrated "
                                               "power at this strength."))
    note = _family(result, "swap")
    for name, d in result.prior_tests.items():
        verdict = _verdict(d, note, f"{name} couples reliably less than white", f"{name} couples reliably more than white")
        lines.append(f"Pre-specified test, {name} − white, excess directional share at equal commit "
                     f"({result.commit_level:.0%} of the coarse content): {interval_text(d, signed=True)}: {verdict}.")
    decided = note is not None and note.can_decide and any(d.reliable for d in result.prior_tests.values())
    lines.append("Conclusion 2 (\"the coupling is not a property of noise colour; matched couples as much as pink\"): "
                 + ("RESTATED by the pre-specified test above." if decided else
                    "WITHDRAWN as a finding: it came from no test between priors, and the pre-specified test here "
                    + ("cannot decide with these seeds." if note is not None and not note.can_decide else
                       "finds no reliable difference (absence of evidence, not evidence of equal coupling).")))
    return lines


def likelihood_words(result: FairResult) -> list[str]:
    """Likelihood differences to white, clustered by recording, with the floor and the dequantised rerun."""
    note = _family(result, "likelihood")
    lines = [f"Floor: {result.floor_pixels} of {result.test_pixels} test pixels "
             f"({100 * result.floor_pixels / max(result.test_pixels, 1):.1f}%) sit at their clip's log-mel floor, "
             f"an atom the ODE density does not model; {result.n_recordings} test recordings are the bootstrap's "
             "clusters."]
    for row in result.likelihood:
        if row.versus_white is None:
            continue
        verdict = _verdict(Difference(**vars(row.versus_white), p_value=row.p_value, p_holm=row.p_holm,
                                      reliable=row.reliable), note, "higher likelihood than white",
                           "lower likelihood than white")
        dq = "–" if row.dequantised_versus_white is None else interval_text(row.dequantised_versus_white, signed=True)
        lines.append(f"Likelihood, {row.name} − white: {interval_text(row.versus_white, signed=True)} bits/dim "
                     f"(clustered by recording); dequantised floor from t_min: {dq}; integration checks "
                     f"{', '.join(f'{v:+.4f}' for v in row.integration)}, calibration {number(row.calibration, digits=4, signed=True)}: "
                     f"{verdict}.")
    return lines


def fair_words(result: FairResult) -> list[str]:
    """Every answer of the stage, the primary test first."""
    return quality_words(result) + band_step_words(result) + swap_words(result) + likelihood_words(result)


def _arm_rows(result: FairResult) -> list[list[str]]:
    rows = []
    for arm in result.arms:
        c = arm.calibration
        rows.append([arm.name, str(arm.nfe), cell(arm.kid, digits=KID_DIGITS),
                     cell(arm.kid_minus_gaussian, digits=KID_DIGITS, signed=True),
                     "–" if c is None else f"{number(c.kid.mean, digits=KID_DIGITS)} / "
                                           f"{number(c.exact.mean, digits=KID_DIGITS)}"
                     + ("" if c.within_noise else " (NOT within noise)"),
                     cell(arm.concentration), cell(arm.order, signed=True)])
    return rows


QUALITY_HEADER = ["arm", "NFE", "KID", "KID − Gaussian", "exact Gaussian: sampler / exact", "stage concentration",
                  "content order"]


def quality_table(result: FairResult, raw: Any = None) -> str:
    """README block ``fair.quality``: every arm at the stage's NFE beside its calibration and band-step numbers."""
    return markdown_table(QUALITY_HEADER, _arm_rows(result))


def swap_table(result: FairResult, raw: Any = None) -> str:
    """README block ``fair.swap``: every swap row with its exact model and excess."""
    rows = [[r.name, r.role, r.when, f"{r.time:.3f}", cell(r.directional, digits=3), number(r.exact, digits=3,
                                                                                               signed=True),
             cell(r.excess, digits=3, signed=True), cell(r.donor_share, digits=3)] for r in result.swap]
    return markdown_table(["model", "role", "swap", "t", "directional share", "exact", "excess", "donor share"], rows)


def likelihood_table(result: FairResult, raw: Any = None) -> str:
    """README block ``fair.likelihood``."""
    rows = [[r.name, cell(r.bits_per_dim, digits=3), cell(r.versus_white, digits=3, signed=True),
             number(r.p_holm, digits=3), cell(r.dequantised, digits=3),
             cell(r.dequantised_versus_white, digits=3, signed=True), number(r.calibration, digits=4, signed=True),
             " / ".join(number(v, digits=4, signed=True) for v in r.integration)] for r in result.likelihood]
    return markdown_table(["prior", "bits/dim", "− white (by recording)", "Holm p", "dequantised, t_min",
                           "− white", "calibration", "integration (per seed)"], rows)


def families_table(result: FairResult, raw: Any = None) -> str:
    """README block ``fair.families``: every family's size, seeds and smallest attainable p."""
    rows = [[f.name, str(f.size), str(f.n), f"{f.smallest_p:.3f}",
             "yes" if f.can_decide else f"cannot decide with {f.n} seeds"] for f in result.families]
    return markdown_table(["family", "tests", "seeds", "smallest Holm p", "can decide"], rows)


def fair_html(result: FairResult, out_dir: Path) -> str:
    """The stage's part of the page."""
    header = QUALITY_HEADER
    return f"""
<h2 id="fair">Fair references and tests with demonstrated power</h2>
<p>{result.label} Seeds {", ".join(str(s) for s in result.seeds)}; {result.train_steps} training steps per model;
every arm sampled at {result.nfe} network evaluations.</p><ul>{items(fair_words(result))}</ul>
{table(header, _arm_rows(result))}
{figure(out_dir, FAIR_FIGURES[0], "band-step shares", "Per arm, the share of each quefrency band's final content written in each sampling step (rows: bands, DC at the bottom). An autoregression writes each band in its own stage only; diffusion spreads it.")}
{figure(out_dir, FAIR_FIGURES[1], "softness dose-response", "From the fair cepstral AR (softness 0) to band-whitened flow (1): KID beside the exact Gaussian through the same sampler, and how concentrated each band's writing is.")}
{figure(out_dir, FAIR_FIGURES[2], "band swap with controls", "Directional share of the un-swapped bands after a swap; the dashed line is the data's linear ceiling.")}
{table(["family", "tests", "seeds", "smallest Holm p", "can decide"],
       [[f.name, f.size, f.n, f"{f.smallest_p:.3f}", "yes" if f.can_decide else "no"] for f in result.families])}
"""


MARKDOWN = {"quality": quality_table, "swap": swap_table, "likelihood": likelihood_table,
            "families": families_table, "verdicts": lambda result, raw: bullets(fair_words(result))}


def _summary(result: FairResult, folder: Path) -> str:
    return "\n".join(fair_words(result)) + f"\nresults: {folder / 'fair.json'}"


register_section(Section(stage="fair", html=fair_html, figures=plot_fair, markdown=MARKDOWN, summary=_summary,
                         figure_names=FAIR_FIGURES))
