"""The probe's words, tables and figures (the stage ``probe``): the band swap and the likelihoods answered from
its numbers, each family of tests with what it could decide (:mod:`audiospec.report.families`)."""

from __future__ import annotations

from pathlib import Path
from typing import Any

from audiospec.experiments.results import LikelihoodRow, ProbeResult, SwapRow
from audiospec.report.families import (
    Comparison,
    HolmFamily,
    family_html,
    family_line,
    p_values_text,
    reach_text,
    undecided,
    verdict,
)
from audiospec.report.page import figure, figures, folded, items, table
from audiospec.report.plots import plot_probe
from audiospec.report.sections import Answer, Section, register_section
from audiospec.report.text import bullets, cell, interval_text, markdown_table, number, table_ci

__all__ = ["probe_answers", "probe_families", "probe_html", "probe_words"]

SWAP_BASIS = "the seeds and the trajectory pairs within them (two-level bootstrap)"
LIKELIHOOD_BASIS = "the seeds and the shared test patches (crossed bootstrap)"


def _swap_test(row: SwapRow, seeds: int) -> Comparison:
    return Comparison(label=f"{row.prior}, swap at t={row.time:g}", difference=row.excess, p_holm=row.p_holm,
                  reliable=row.reliable, seeds=seeds, cells=(table_ci(row.trained), table_ci(row.exact)))


def _likelihood_test(row: LikelihoodRow, seeds: int) -> Comparison:
    return Comparison(label=f"{row.name} − white", difference=row.versus_white, p_holm=row.p_holm, reliable=row.reliable,
                  seeds=seeds, cells=(table_ci(row.bits_per_dim),))


def probe_families(result: ProbeResult) -> dict[str, HolmFamily]:
    """The probe's Holm families: the primary swap time per prior, the other swap times, the likelihoods against
    white (a family without a test is left out); the tests pair the run's seeds."""
    seeds = len(result.seeds)
    swaps = {primary: [_swap_test(r, seeds) for r in result.swap if r.primary == primary] for primary in (True, False)}
    found = {
        "swap primary": HolmFamily.of("Band swap, primary family (one pre-specified swap time per prior)",
                                      swaps[True], level=result.swap_level, basis=SWAP_BASIS) if swaps[True] else None,
        "swap secondary": HolmFamily.of("Band swap, secondary family (the other swap times)", swaps[False],
                                        level=result.swap_secondary_level or result.swap_level, basis=SWAP_BASIS)
        if swaps[False] else None}
    likelihood = [_likelihood_test(r, seeds) for r in result.likelihood if r.versus_white is not None]
    if likelihood:
        found["likelihood"] = HolmFamily.of("Likelihoods against white", likelihood, level=result.likelihood_level,
                                            basis=LIKELIHOOD_BASIS)
    return {name: family for name, family in found.items() if family is not None}


def _p_text(p_holm: float | None) -> str:
    return "one seed: no test" if p_holm is None else f"Holm p = {p_holm:.3f}"


def probe_words(result: ProbeResult) -> list[str]:
    """The band swap's and the likelihoods' answers from the numbers, the primary tests first."""
    swap, likelihood, lik_level = result.swap, result.likelihood, result.likelihood_level
    levels = {True: result.swap_level, False: result.swap_secondary_level or result.swap_level}
    families, seeds = probe_families(result), len(result.seeds)
    lines = []
    for row in sorted(swap, key=lambda r: not r.primary):
        words = verdict(families["swap primary" if row.primary else "swap secondary"], _swap_test(row, seeds),
                        reliable="fine content follows the swapped coarse content more than in the Gaussian model (the "
                                 "network is not band-independent; a coarse-to-fine dependence only where the "
                                 "swap's positive control is detected, see the fair stage)" if row.excess.mean > 0 else
                        "fine content follows the swapped coarse content less than in the Gaussian model",
                        unreliable="no reliable difference from the Gaussian model")
        family = "PRIMARY" if row.primary else "secondary"
        lines.append(f"band swap ({family}), {row.prior} prior, swap at t={row.time:g}: donor share of the un-swapped "
                     f"bands {interval_text(row.trained)} vs {row.exact.mean:.3f} for the exact Gaussian model; excess "
                     f"{interval_text(row.excess, signed=True, label=f'{100 * levels[row.primary]:.1f}%: ')}, "
                     f"{_p_text(row.p_holm)}" + (f": {words}." if words else "."))
    gaussian = next(r for r in likelihood if r.kind == "gaussian")
    for row in likelihood:
        if row.versus_white is None:
            continue
        better = "higher" if row.versus_white.mean < 0 else "lower"
        words = verdict(families["likelihood"], _likelihood_test(row, seeds),
                        reliable=f"the {row.name} prior gives the test patches a {better} likelihood than white",
                        unreliable="no reliable difference" if row.trusted else
                        f"no verdict: the calibration ({row.calibration:+.4f}) or integration check "
                        f"({row.integration:+.4f}) is at least half the difference")
        lines.append(f"likelihood, {row.name} − white: "
                     f"{interval_text(row.versus_white, signed=True, label=f'{100 * lik_level:.1f}%: ')} bits/dim, "
                     f"{_p_text(row.p_holm)}" + (f": {words}" if words else "") + " (the Gaussian with the training "
                     f"spectrum: {gaussian.bits_per_dim.mean:.3f} bits/dim).")
    return lines


def _family(families: dict[str, HolmFamily], name: str, header: list[str]) -> str:
    family = families.get(name)
    if family is None:
        return ""
    return family_html(family, header=header, show=lambda d: interval_text(d, signed=True),
                       reliable=lambda t: "reliable, " + ("more" if t.difference.mean > 0 else "less") + " than Gaussian"
                       if name.startswith("swap") else "reliable, " + ("higher" if t.difference.mean < 0 else "lower")
                       + " likelihood", open_up_to=20)


def probe_html(result: ProbeResult, out_dir: Path) -> str:
    """The probe's part of the page: its figures, then the band-swap intervention and the likelihoods, each family
    with what it could decide and its calibration; the sentences folded."""
    families = probe_families(result)
    words = probe_words(result)
    lik_rows = [[r.name, table_ci(r.bits_per_dim), "–" if r.calibration is None else f"{r.calibration:+.4f}",
                 "–" if r.integration is None else f"{r.integration:+.4f}"] for r in result.likelihood]
    return f"""
<h2 id="probe">Beyond correlation: a band-swap intervention and likelihoods</h2>
<p>Seeds {", ".join(str(s) for s in result.seeds)}; {result.n_pairs} trajectory pairs per model; likelihoods of
{result.n_test_patches} held-out test patches.</p>
{figures(figure(out_dir, "probe_swap.png", "donor share per quefrency band", "Per band: ratio of sums over pairs. Shaded: the swapped coefficients (near 1 for the Gaussian model; a trained model may rewrite them later). To the right, a trained line above its dashed exact line means fine content made from the coarse content it was given."),
         figure(out_dir, "probe_likelihood.png", "bits per dimension per prior", "Lower is better; the Gaussian with the training spectrum is the second-order baseline."))}
<h3>Do fine bands follow the coarse bands they are generated after?</h3>
{_family(families, "swap primary", ["prior, swap time", "trained share", "exact Gaussian share"])}
{_family(families, "swap secondary", ["prior, swap time", "trained share", "exact Gaussian share"])}
<p class='note'>At time t the DCT coefficients below {result.k_cut} along mel (the coarse spectral envelope) of two
trajectories are swapped and sampling finishes. Donor share of the bands above them (not swapped): 0 when the fine
content stays the trajectory's own, 1 when it follows the donor's coarse content. The exact linear-Gaussian model
(same prior, same data spectrum, same initial noise) is the calibration: its modes evolve independently, so its
share is only the leakage of its flow map between DCT bands. Difference: the paired excess over it; exact sign-flip
test over per-seed mean excesses; intervals by two-level bootstrap over seeds and pairs at the family's level.</p>
<h3>Likelihood of held-out patches per prior</h3>
{_family(families, "likelihood", ["model", "bits/dim"])}
{table(["model", "bits/dim", "calibration", "integration check"], lik_rows)}
<p class='note'>Bits per dimension through the probability-flow ODE (RK4, Hutchinson trace estimate) in model space
(centred, scaled log-mel), so only differences between rows mean something. Calibration: the same ODE pipeline on
the exact Gaussian field minus its closed form (should be ≈ 0); integration: the first seed at half the RK4 steps
minus full; a difference at most twice either check gets no verdict. Intervals by crossed bootstrap (seeds and the
shared test patches) at {100 * result.likelihood_level:.1f}%; exact sign-flip test over seeds, Holm-adjusted.</p>
{folded(f"The probe's {len(words)} answers in words", f"<ul>{items(words)}</ul>")}
"""


def _primary_swap(result: ProbeResult, families: dict[str, HolmFamily]) -> Answer:
    rows = [r for r in result.swap if r.primary]
    family = families.get("swap primary")
    shown = ", ".join(f"{r.prior} {cell(r.excess, digits=3, signed=True)}" for r in rows)
    reliable = [r.prior for r in rows if r.reliable and r.excess.mean > 0]
    words = undecided(family, [_swap_test(r, len(result.seeds)) for r in rows]) or (
        f"reliable coarse-to-fine dependence: {', '.join(reliable)}" if reliable else "no reliable dependence")
    return Answer(
        key="probe.swap", question="Does fine content follow the coarse content it is generated after?",
        figure="probe_swap.png", caption="Donor share per band after the swap; dashed: the exact Gaussian model.",
        line=(f"Coarse bands of two sampling trajectories swapped at t = {rows[0].time:g}: share of the fine content "
              f"that follows the donor, minus the exact Gaussian model's ({len(result.seeds)} seeds × {result.n_pairs} "
              f"pairs): {shown}; Holm p {p_values_text([r.p_holm for r in rows])} ({reach_text(family)})."),
        verdict=words)


def _likelihood(result: ProbeResult, families: dict[str, HolmFamily]) -> Answer:
    rows = [r for r in result.likelihood if r.versus_white is not None]
    family = families.get("likelihood")
    gaussian = next((r for r in result.likelihood if r.kind == "gaussian"), None)
    shown = ", ".join(f"{r.name} {cell(r.versus_white, digits=3, signed=True)}" for r in rows)
    checks = max((abs(v) for r in rows for v in (r.calibration, r.integration) if v is not None), default=None)
    likelier = {True: [r.name for r in rows if r.reliable and r.versus_white.mean < 0],
                False: [r.name for r in rows if r.reliable and r.versus_white.mean >= 0]}
    reliable = [f"more likely than under white: {', '.join(likelier[True])}"] if likelier[True] else []
    reliable += [f"less likely than under white: {', '.join(likelier[False])}"] if likelier[False] else []
    words = undecided(family, [_likelihood_test(r, len(result.seeds)) for r in rows]) or (
        "reliably " + "; ".join(reliable) if reliable else "no reliable difference")
    return Answer(
        key="probe.likelihood", question="Does a coloured prior make held-out patches more likely?",
        figure="probe_likelihood.png", caption="Bits per dimension per model; lower is better.",
        line=(f"Bits per dimension of the test patches minus white's (below 0: more likely): {shown}; Holm p "
              f"{p_values_text([r.p_holm for r in rows])} ({reach_text(family)}); calibration and integration "
              f"checks within {number(checks, digits=4)}; the Gaussian with the training spectrum "
              f"{number(gaussian.bits_per_dim.mean if gaussian else None, digits=3)} bits/dim."),
        verdict=words)


def probe_answers(result: ProbeResult, folder: Path) -> list[Answer]:
    """The probe's questions in a line each: the primary band swap and the likelihoods."""
    families = probe_families(result)
    answers = [_primary_swap(result, families)] if any(r.primary for r in result.swap) else []
    return answers + ([_likelihood(result, families)] if "likelihood" in families else [])


def swap_table(result: ProbeResult, raw: Any = None) -> str:
    """README block ``probe.swap``: the donor share of the un-swapped bands per prior and swap time, trained and
    exact, and their paired excess at the family's level."""
    levels = {True: result.swap_level, False: result.swap_secondary_level or result.swap_level}
    families, seeds = probe_families(result), len(result.seeds)
    names = {True: "swap primary", False: "swap secondary"}
    rows = [[r.prior, f"**{r.time:g} (primary)**" if r.primary else f"{r.time:g}", number(r.trained.mean, digits=3),
             number(r.exact.mean, digits=3), cell(r.excess, digits=3, signed=True,
                                                  label=f"{100 * levels[r.primary]:.1f}%: "),
             number(r.p_holm, digits=3), verdict(families[names[r.primary]], _swap_test(r, seeds), reliable="reliable")
             or "–"] for r in result.swap]
    return markdown_table(["prior", "swap at t", "trained", "exact Gaussian", "excess (paired)", "Holm p", "verdict"],
                          rows) + _family_lines(families, ("swap primary", "swap secondary"))


def _family_lines(families: dict[str, HolmFamily], names: tuple[str, ...]) -> str:
    """Each family's reach, a line each below a README table ("–": no verdict, its family cannot decide)."""
    return "\n" + "\n".join(f"{family_line(families[n])}  " for n in names if n in families) + "\n"


def likelihood_table(result: ProbeResult, raw: Any = None) -> str:
    """README block ``probe.likelihood``: bits per dimension of the test patches per model, the difference to white
    at the family's level, the calibration and the integration check."""
    level = f"{100 * result.likelihood_level:.1f}%: "
    rows = [[r.name, cell(r.bits_per_dim, digits=3),
             "–" if r.versus_white is None else cell(r.versus_white, digits=3, signed=True, label=level),
             number(r.p_holm, digits=3), number(r.calibration, digits=4, signed=True),
             number(r.integration, digits=4, signed=True)] for r in result.likelihood]
    return markdown_table(["model", "bits/dim", "minus white", "Holm p", "calibration", "integration check"],
                          rows) + _family_lines(probe_families(result), ("likelihood",))


MARKDOWN = {"swap": swap_table, "likelihood": likelihood_table,
            "primary": lambda result, raw: bullets([line for line in probe_words(result) if "(secondary)" not in line])}


def _summary(result: ProbeResult, folder: Path) -> str:
    lines = [family_line(f) for f in probe_families(result).values()] + probe_words(result)
    return "\n".join(lines) + f"\nresults: {folder / 'probe.json'}"


register_section(Section(stage="probe", html=probe_html, figures=plot_probe, markdown=MARKDOWN,
                         summary=_summary, figure_names=("probe_swap.png", "probe_likelihood.png"),
                         answer=probe_answers))
