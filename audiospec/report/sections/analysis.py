"""The analysis's words, tables and figures (the stage ``analysis``): plain-language findings from its numbers."""

from __future__ import annotations

import html
from pathlib import Path
from typing import Any

from audiospec.experiments.results import AnalysisResult, PowerLawSummary, read_json
from audiospec.report.page import figure, figures, folded, items, table
from audiospec.report.plots import PLOTS, plot_all
from audiospec.report.sections import Answer, Section, register_section
from audiospec.report.text import number

__all__ = ["analysis_answers", "analysis_findings", "analysis_html"]


def analysis_findings(result: AnalysisResult) -> list[str]:
    """Plain-language statements derived from the numbers (never hard-coded verdicts)."""
    wave, mel, cep, post = result.waveform, result.mel, result.cepstrum, result.mel.pysteps_mode_no_window
    shape = "is monotonically decreasing" if wave.monotonic_decreasing else "is NOT monotonic"

    def verdict(r2: float) -> str:
        return "close to a power law" if r2 >= 0.95 else "only approximately a power law"

    ci_text = f" (95% CI {mel.ci[0]:.2f}-{mel.ci[1]:.2f})" if mel.ci else ""
    orders = "; ".join(f"under {prior} noise: " + ", ".join(f"{domain} {scores[prior]:+.2f}"
                                                           for domain, scores in result.autoregression_order.items())
                       for prior in next(iter(result.autoregression_order.values())))
    return [
        f"Mean waveform spectrum {shape}: it peaks at {wave.peak_hz:.0f} Hz, climbs up to {wave.rise_db:.1f} dB "
        f"above its minimum at lower frequencies, rises over {100 * wave.rising_fraction:.0f}% of the "
        f"log-frequency axis, and a power law explains R^2 = {wave.power_law.r2:.3f} of it.",
        f"Log-mel RAPSD in the blog post's convention (pysteps, integer radius, no window) is {verdict(post.r2)}: "
        f"alpha = {post.alpha:.2f}, R^2 = {post.r2:.3f} (the post read alpha ~ 2.35 on GTZAN). With the "
        f"radius in cycles/sample per axis ({mel.rapsd_mode}, window {mel.rapsd_window}) it is "
        f"{verdict(mel.r2)}: alpha = {mel.alpha:.2f}{ci_text}, R^2 = {mel.r2:.3f}.",
        f"Cepstral power falls with quefrency as q^-{cep.alpha:.2f} (R^2 = {cep.r2:.3f}).",
        f"Autoregression order (+1 = strictly coarse-to-fine, 0 = all at once) {orders}.",
    ]


def _fit_row(name: str, fit: PowerLawSummary) -> list[Any]:
    return [name, fit.alpha, fit.ci, fit.r2, fit.n]


def analysis_html(result: AnalysisResult, out_dir: Path) -> str:
    """The analysis's part of the page: the plots drawn by :func:`plot_all` first, the findings, the tables folded."""
    findings = items(analysis_findings(result))
    mel, cep = result.mel, result.cepstrum
    fit_rows = [_fit_row("mel RAPSD (all)", mel)]
    fit_rows += [_fit_row(f"mel RAPSD ({k})", v) for k, v in mel.by_class.items()]
    fit_rows += [_fit_row("mel RAPSD, pysteps convention", mel.pysteps_mode_no_window),
                 _fit_row("cepstral power", cep), _fit_row("waveform spectrum", result.waveform.power_law)]
    priors = list(next(iter(result.autoregression_order.values())))
    ar_rows = [[domain, *(s[p] for p in priors)] for domain, s in result.autoregression_order.items()]
    fmax = result.f_max
    every = max(1, len(fmax.t) // 10)  # the table shows about ten times; the figure has all of them
    fmax_rows = [[t, *(getattr(fmax, d)[k][i] for d in ("waveform", "mel", "cepstrum") for k in priors)]
                 for i, t in enumerate(fmax.t) if i % every == 0]
    fmax_head = ["t", *(f"{d} {k}" for d in ("wave", "mel", "cep") for k in priors)]
    classes = ", ".join(f"{k}: {v}" for k, v in result.classes.items())
    skipped = "".join(f"<li>{html.escape(s.path)}: {html.escape(s.reason)}</li>" for s in result.skipped)
    skipped = f"<p>{len(result.skipped)} input file(s) were left out:</p><ul>{skipped}</ul>" if skipped else ""
    return f"""
<h2 id="analysis">Spectral analysis</h2>
{figures(figure(out_dir, "mel_rapsd.png", "mel RAPSD", "Log-mel patches read as images: close to a straight line (power law) with slope -alpha."),
         figure(out_dir, "waveform_spectrum.png", "mean waveform spectrum", "A power law would be a straight line: the waveform spectrum rises to a peak first, so it is not one."),
         figure(out_dir, "snr_spectra.png", "data and noise spectra per domain", "Where a noise curve lies above the data curve, that frequency is already drowned; the order says which drown first."),
         figure(out_dir, "fmax.png", "f_max(t)", "The highest frequency still above the noise at time t: a curve that falls steadily means coarse-to-fine."))}
<p>{result.n_clips} clips of {result.clip_seconds:.1f} s at {result.sample_rate} Hz ({html.escape(classes)}).</p>
{skipped}
<ul>{findings}</ul>
{folded("Two more figures: cepstral power and the hinge of noised spectra", figures(
    figure(out_dir, "cepstrum.png", "cepstral power", "Cepstral power falls with quefrency: the spectral envelope (low quefrency) carries most of the variance."),
    figure(out_dir, "hinge_mel.png", "hinge spectra", "Noised spectra bend (hinge) where the noise floor meets the data: the hinge moves to lower frequencies as t grows.")))}
{folded(f"Power-law fits ({len(fit_rows)} rows)", table(["spectrum", "alpha", "95% CI", "R²", "n"], fit_rows))}
{folded("Autoregression order per domain and prior (+1 coarse-to-fine, 0 all at once, −1 fine-to-coarse)", table(["domain", *priors], ar_rows))}
{folded(f"Maximal detectable frequency f_max(t), cycles/sample ({len(fmax_rows)} rows)", table(fmax_head, fmax_rows))}
"""


def analysis_answers(result: AnalysisResult, folder: Path) -> list[Answer]:
    """The analysis's question in a line: how close the data's spectra are to a power law, and the order the noise
    priors should then give."""
    mel, wave = result.mel, result.waveform
    ci = f" [95% CI {number(mel.ci[0])}, {number(mel.ci[1])}]" if mel.ci else ""
    close = "close to a power law" if mel.r2 >= 0.95 else "only approximately a power law"
    order = result.autoregression_order.get("mel", {})
    predicted = " / ".join(f"{number(v, signed=True)} ({prior})" for prior, v in order.items())
    return [Answer(
        key="analysis.spectrum", question="Does the data's spectrum follow a power law?", figure="mel_rapsd.png",
        caption="Log-mel RAPSD per class with its power-law fit.",
        line=(f"Log-mel patches read as images: α = {number(mel.alpha)}{ci}, R² = {number(mel.r2, digits=3)} over "
              f"{mel.n_patches} patches (the blog post read 2.35 on GTZAN); cepstral power falls as "
              f"q^−{number(result.cepstrum.alpha)}; the waveform spectrum peaks at {wave.peak_hz:.0f} Hz (power-law "
              f"R² = {number(wave.power_law.r2, digits=3)}). Predicted mel order under noise: {predicted}."),
        verdict=f"mel spectrum {close}" + ("" if wave.power_law.r2 >= 0.95 else "; waveform spectrum is not"))]


def _figures(result: AnalysisResult, folder: Path) -> list[str]:
    """The analysis's PNGs, drawn from its curves (``figures.json``; a folder without it keeps the PNGs it has)."""
    curves = folder / "figures.json"
    return plot_all(read_json(curves), result, folder) if curves.is_file() else []


def _summary(result: AnalysisResult, folder: Path) -> str:
    return f"analysis written to {folder} (report: {folder / 'report.html'})"


register_section(Section(stage="analysis", html=analysis_html, figures=_figures,
                         summary=_summary, figure_names=tuple(PLOTS), answer=analysis_answers))
