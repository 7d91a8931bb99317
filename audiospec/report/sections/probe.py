"""The probe's words, tables and figures (the stage ``probe``): the band swap and the likelihoods answered from
its numbers."""

from __future__ import annotations

from pathlib import Path
from typing import Any

from audiospec.experiments.results import ProbeResult
from audiospec.report.page import figure, items, table
from audiospec.report.plots import plot_probe
from audiospec.report.sections import Section, register_section
from audiospec.report.text import bullets, cell, interval_text, markdown_table, number, table_ci

__all__ = ["probe_html", "probe_words"]


def _p_text(p_holm: float | None) -> str:
    return "one seed: no test" if p_holm is None else f"Holm p = {p_holm:.3f}"


def probe_words(result: ProbeResult) -> list[str]:
    """The band swap's and the likelihoods' answers from the numbers, the primary tests first."""
    swap, likelihood, lik_level = result.swap, result.likelihood, result.likelihood_level
    levels = {True: result.swap_level, False: result.swap_secondary_level or result.swap_level}
    lines = []
    for row in sorted(swap, key=lambda r: not r.primary):
        verdict = ("fine content follows the swapped coarse content more than in the Gaussian model: a causal "
                   "coarse-to-fine dependence" if row.reliable and row.excess.mean > 0 else
                   "fine content follows the swapped coarse content less than in the Gaussian model"
                   if row.reliable else "no reliable difference from the Gaussian model")
        family = "PRIMARY" if row.primary else "secondary"
        lines.append(f"band swap ({family}), {row.prior} prior, swap at t={row.time:g}: donor share of the un-swapped "
                     f"bands {interval_text(row.trained)} vs {row.exact.mean:.3f} for the exact Gaussian model; excess "
                     f"{interval_text(row.excess, signed=True, label=f'{100 * levels[row.primary]:.1f}%: ')}, "
                     f"{_p_text(row.p_holm)}: {verdict}.")
    gaussian = next(r for r in likelihood if r.kind == "gaussian")
    for row in likelihood:
        if row.versus_white is None:
            continue
        better = "higher" if row.versus_white.mean < 0 else "lower"
        verdict = (f"the {row.name} prior gives the test patches a {better} likelihood than white"
                   if row.reliable else "no reliable difference" if row.trusted else
                   f"no verdict: the calibration ({row.calibration:+.4f}) or integration check "
                   f"({row.integration:+.4f}) is at least half the difference")
        lines.append(f"likelihood, {row.name} − white: "
                     f"{interval_text(row.versus_white, signed=True, label=f'{100 * lik_level:.1f}%: ')} bits/dim, "
                     f"{_p_text(row.p_holm)}: {verdict} (the Gaussian with the training spectrum: "
                     f"{gaussian.bits_per_dim.mean:.3f} bits/dim).")
    return lines


def probe_html(result: ProbeResult, out_dir: Path) -> str:
    """The probe's part of the page: the band-swap causal test and the likelihoods, each with its calibration."""
    answers = items(probe_words(result))
    swap_rows = [[r.prior, r.time, "primary" if r.primary else "secondary", table_ci(r.trained), table_ci(r.exact),
                  interval_text(r.excess, signed=True), "–" if r.p_holm is None else f"{r.p_holm:.3f}",
                  "reliable" if r.reliable else "no reliable difference"] for r in result.swap]
    lik_rows = [[r.name, table_ci(r.bits_per_dim), "–" if r.versus_white is None else interval_text(r.versus_white, signed=True),
                 "–" if r.p_holm is None else f"{r.p_holm:.3f}",
                 "–" if r.calibration is None else f"{r.calibration:+.4f}",
                 "–" if r.integration is None else f"{r.integration:+.4f}"] for r in result.likelihood]
    return f"""
<h2 id="probe">Beyond correlation: a causal band-swap test and likelihoods</h2>
<p>Seeds {", ".join(str(s) for s in result.seeds)}; {result.n_pairs} trajectory pairs per model; likelihoods of
{result.n_test_patches} held-out test patches.</p><ul>{answers}</ul>
<h3>Do fine bands follow the coarse bands they are generated after?</h3>
<p class='note'>At time t the DCT coefficients below {result.k_cut} along mel (the coarse spectral envelope) of two
trajectories are swapped and sampling finishes. Donor share of the bands above them (not swapped): 0 when the fine
content stays the trajectory's own, 1 when it follows the donor's coarse content. The exact linear-Gaussian model
(same prior, same data spectrum, same initial noise) is the calibration: its modes evolve independently, so its
share is only the leakage of its flow map between DCT bands. Headline share: the kept bands pooled per pair, the
pairs' ratios averaged. Exact sign-flip test over per-seed mean excesses, Holm within two families: the primary
test (one pre-specified swap time per prior) and the other times; intervals by two-level bootstrap over seeds and
pairs at {100 * result.swap_level:.1f}% (primary) and {100 * (result.swap_secondary_level or result.swap_level):.1f}%
(secondary), the families' Bonferroni levels.</p>
{table(["prior", "swap at t", "family", "trained share", "exact Gaussian share", "excess (paired)", "Holm p", "verdict"], swap_rows)}
{figure(out_dir, "probe_swap.png", "donor share per quefrency band", "Per band: ratio of sums over pairs. Shaded: the swapped coefficients (near 1 for the Gaussian model; a trained model may rewrite them later). To the right, a trained line above its dashed exact line means fine content made from the coarse content it was given.")}
<h3>Likelihood of held-out patches per prior</h3>
<p class='note'>Bits per dimension through the probability-flow ODE (RK4, Hutchinson trace estimate) in model space
(centred, scaled log-mel), so only differences between rows mean something. Calibration: the same ODE pipeline on
the exact Gaussian field minus its closed form (should be ≈ 0); integration: the first seed at half the RK4 steps
minus full; a difference at most twice either check gets no verdict. Intervals by crossed bootstrap (seeds and the
shared test patches) at {100 * result.likelihood_level:.1f}% (Bonferroni over the priors compared with white);
exact sign-flip test over seeds, Holm-adjusted.</p>
{table(["model", "bits/dim", "minus white", "Holm p", "calibration", "integration check"], lik_rows)}
{figure(out_dir, "probe_likelihood.png", "bits per dimension per prior", "Lower is better; the Gaussian with the training spectrum is the second-order baseline.")}
"""


def swap_table(result: ProbeResult, raw: Any = None) -> str:
    """README block ``probe.swap``: the donor share of the un-swapped bands per prior and swap time, trained and
    exact, and their paired excess at the family's level."""
    levels = {True: result.swap_level, False: result.swap_secondary_level or result.swap_level}
    rows = [[r.prior, f"**{r.time:g} (primary)**" if r.primary else f"{r.time:g}", number(r.trained.mean, digits=3),
             number(r.exact.mean, digits=3), cell(r.excess, digits=3, signed=True,
                                                  label=f"{100 * levels[r.primary]:.1f}%: "),
             number(r.p_holm, digits=3), "reliable" if r.reliable else "no reliable difference"] for r in result.swap]
    return markdown_table(["prior", "swap at t", "trained", "exact Gaussian", "excess (paired)", "Holm p", "verdict"],
                          rows)


def likelihood_table(result: ProbeResult, raw: Any = None) -> str:
    """README block ``probe.likelihood``: bits per dimension of the test patches per model, the difference to white
    at the family's level, the calibration and the integration check."""
    level = f"{100 * result.likelihood_level:.1f}%: "
    rows = [[r.name, cell(r.bits_per_dim, digits=3),
             "–" if r.versus_white is None else cell(r.versus_white, digits=3, signed=True, label=level),
             number(r.p_holm, digits=3), number(r.calibration, digits=4, signed=True),
             number(r.integration, digits=4, signed=True)] for r in result.likelihood]
    return markdown_table(["model", "bits/dim", "minus white", "Holm p", "calibration", "integration check"], rows)


MARKDOWN = {"swap": swap_table, "likelihood": likelihood_table,
            "primary": lambda result, raw: bullets([line for line in probe_words(result) if "(secondary)" not in line])}


def _summary(result: ProbeResult, folder: Path) -> str:
    return "\n".join(probe_words(result)) + f"\nresults: {folder / 'probe.json'}"


register_section(Section(stage="probe", html=probe_html, figures=plot_probe, markdown=MARKDOWN,
                         summary=_summary, figure_names=("probe_swap.png", "probe_likelihood.png")))
