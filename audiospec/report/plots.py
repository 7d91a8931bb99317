"""Every figure of a run, drawn from the stages' typed results (and the analysis's curves, ``figures.json``).

Each function writes PNGs into a stage folder (Agg backend, no display); the report draws them when it is built
and inlines them. :mod:`audiospec.report.spectrograms` draws the spectrogram beside each audio file of a listening set.
"""

from __future__ import annotations

import io
from pathlib import Path
from typing import Any, Callable

import matplotlib

matplotlib.use("Agg")
import matplotlib.pyplot as plt  # noqa: E402
import numpy as np  # noqa: E402
from PIL import Image  # noqa: E402
from matplotlib.ticker import FuncFormatter, LogLocator, NullFormatter  # noqa: E402

from audiospec.atomic import atomic_path  # noqa: E402
from audiospec.experiments.results import (  # noqa: E402
    CALIBRATION,
    AnalysisResult,
    BaselinesResult,
    CompareResult,
    CurveResult,
    PowerLawSummary,
    ProbeResult,
)

__all__ = ["PLOTS", "COMPARE_PLOTS", "plot_all", "plot_baselines", "plot_compare", "plot_curve", "plot_probe",
           "save_figure", "to_array"]


def save_figure(fig: plt.Figure, path: Path, *, dpi: int = 110) -> None:
    """Save as a 128-colour (palette) PNG: about 3x smaller than RGBA and indistinguishable for these plots."""
    buffer = io.BytesIO()
    fig.savefig(buffer, format="png", dpi=dpi, bbox_inches="tight")
    image = Image.open(buffer).convert("RGB").quantize(colors=128)
    with atomic_path(path) as tmp:
        image.save(tmp, format="PNG", optimize=True)
    plt.close(fig)


def _loglog(ax: plt.Axes, xlabel: str, ylabel: str, title: str) -> None:
    ax.set_xscale("log")
    ax.set_yscale("log")
    for axis, (low, high) in ((ax.xaxis, ax.get_xlim()), (ax.yaxis, ax.get_ylim())):
        axis.set_major_locator(LogLocator(base=10, numticks=8))
        axis.set_major_formatter(FuncFormatter(lambda v, _: f"{v:g}"))
        short = 0 < low < high and np.log10(high / low) < 2  # label 2x and 5x too, never every minor tick
        axis.set_minor_locator(LogLocator(base=10, subs=(2.0, 5.0) if short else (2.0, 3.0, 5.0, 7.0)))
        axis.set_minor_formatter(FuncFormatter(lambda v, _: f"{v:g}") if short else NullFormatter())
    ax.set_xlabel(xlabel)
    ax.set_ylabel(ylabel)
    ax.set_title(title)
    ax.grid(True, which="both", alpha=0.3)
    ax.legend(fontsize=8)


def to_array(x: Any) -> np.ndarray:
    return np.asarray(x.tolist() if hasattr(x, "tolist") else x, dtype=float)


def plot_waveform_spectrum(figures: dict[str, Any], result: AnalysisResult, path: Path) -> None:
    data = figures["waveform"]
    freqs = to_array(data["freqs_hz"])
    fig, ax = plt.subplots(figsize=(6.5, 4.5))
    for label, power in data["mean_power"].items():
        ax.plot(freqs, to_array(power), label=f"{label} (log-domain mean)")
    fit = result.waveform.power_law
    ax.plot(freqs, 10 ** fit.intercept * freqs ** (-fit.alpha), "k:", label=f"power-law fit, R²={fit.r2:.2f}")
    ax.axvline(result.waveform.peak_hz, color="grey", lw=0.8, ls="--", label=f"peak {result.waveform.peak_hz:.0f} Hz")
    _loglog(ax, "frequency (Hz)", "power spectral density", "Mean waveform spectrum")
    save_figure(fig, path)


def _class_spectra(curves: dict[str, Any], freqs: Any, fit: PowerLawSummary, path: Path, *,
                   xlabel: str, ylabel: str, title: str) -> None:
    """Per-class log-domain mean spectra with the power-law fit of all clips."""
    freqs = to_array(freqs)
    fig, ax = plt.subplots(figsize=(6.5, 4.5))
    for label, power in curves.items():
        ax.plot(freqs, to_array(power), label=label)
    ax.plot(freqs, 10 ** fit.intercept * freqs ** (-fit.alpha), "k:", label=f"fit α={fit.alpha:.2f}, R²={fit.r2:.3f}")
    _loglog(ax, xlabel, ylabel, title)
    save_figure(fig, path)


def plot_mel_rapsd(figures: dict[str, Any], result: AnalysisResult, path: Path) -> None:
    _class_spectra(figures["mel"]["mean_power"], figures["mel"]["freqs"], result.mel, path,
                   xlabel="radial frequency (cycles/sample)", ylabel="RAPSD",
                   title="RAPSD of standardised log-mel patches")


def plot_cepstrum(figures: dict[str, Any], result: AnalysisResult, path: Path) -> None:
    _class_spectra(figures["cepstrum"]["mean_power"], figures["cepstrum"]["quefrency"], result.cepstrum, path,
                   xlabel="quefrency (cycles per mel bin)", ylabel="mean squared cepstral coefficient",
                   title="Cepstral power (DCT-II along mel)")


def plot_hinge(figures: dict[str, Any], result: AnalysisResult, path: Path) -> None:
    data = figures["hinge"]
    freqs = to_array(data["freqs"])
    priors = data["priors"]
    fig, axes = plt.subplots(1, len(priors), figsize=(5 * len(priors), 4.5), sharey=True, squeeze=False)
    for ax, kind in zip(axes[0], priors):
        ax.plot(freqs, to_array(data["clean"]), color="C3", lw=2, label="clean")
        ax.plot(freqs, to_array(data[f"noise_{kind}"]), color="C0", lw=2, label=f"{kind} noise")
        for t, curve in zip(data["times"], data[kind]):
            ax.plot(freqs, to_array(curve), color="C2", alpha=0.35 + 0.6 * t, label=f"noised, t={t:g}")
        _loglog(ax, "radial frequency (cycles/sample)", "RAPSD", f"Hinge spectra, {kind} noise")
    save_figure(fig, path)


def plot_fmax(figures: dict[str, Any], result: AnalysisResult, path: Path) -> None:
    data = figures["f_max"]
    t = to_array(data["t"])
    fig, axes = plt.subplots(1, 3, figsize=(14, 4), sharey=True)
    for ax, domain in zip(axes, ("waveform", "mel", "cepstrum")):
        for kind, values in data[domain].items():
            ax.plot(t, to_array(values), label=kind)
        ax.set_title(f"f_max(t), {domain}")
        ax.set_xlabel("t (1 = pure noise)")
        ax.grid(True, alpha=0.3)
        ax.legend(fontsize=8)
    axes[0].set_ylabel("max detectable frequency (cycles/sample)")
    save_figure(fig, path)


def plot_snr_spectra(figures: dict[str, Any], result: AnalysisResult, path: Path) -> None:
    data = figures["snr"]
    fig, axes = plt.subplots(1, 3, figsize=(14, 4))
    for ax, domain in zip(axes, ("waveform", "mel", "cepstrum")):
        d = data[domain]
        freqs = to_array(d["freqs"])
        keep = freqs > 0
        ax.plot(freqs[keep], to_array(d["data"])[keep], lw=2, color="C3", label="data")
        scores = result.autoregression_order[domain]
        for kind in scores:
            ax.plot(freqs[keep], to_array(d[f"noise_{kind}"])[keep], lw=1, label=f"{kind} noise (order {scores[kind]:+.2f})")
        _loglog(ax, "frequency (cycles/sample)", "power per bin", f"{domain}: data and noise spectra")
    save_figure(fig, path)


PLOTS: dict[str, Callable[[dict[str, Any], AnalysisResult, Path], None]] = {
    "waveform_spectrum.png": plot_waveform_spectrum,
    "mel_rapsd.png": plot_mel_rapsd,
    "cepstrum.png": plot_cepstrum,
    "hinge_mel.png": plot_hinge,
    "fmax.png": plot_fmax,
    "snr_spectra.png": plot_snr_spectra,
}


def plot_all(figures: dict[str, Any], result: AnalysisResult, out_dir: Path) -> list[str]:
    """Write every analysis PNG into ``out_dir``; returns the file names."""
    for name, draw in PLOTS.items():
        draw(figures, result, out_dir / name)
    return list(PLOTS)


def plot_metrics_vs_steps(result: CompareResult, path: Path) -> None:
    """Each headline metric against sampling steps, one line per prior, 95% CI error bars."""
    metrics = [m for m in ("kid_classifier", "fd_classifier", "rapsd_error", "cepstrum_error")
               if any(m in result.metrics[p][s] for p in result.priors for s in result.steps)]
    fig, axes = plt.subplots(1, len(metrics), figsize=(4.2 * len(metrics), 3.8), squeeze=False)
    steps = np.asarray(result.steps, dtype=float)
    for ax, metric in zip(axes[0], metrics):
        for prior in result.priors:
            stats = [result.metrics[prior][int(s)].get(metric) for s in steps]
            mean = np.array([st.mean if st else np.nan for st in stats])
            low = np.array([st.low if st and st.low is not None else np.nan for st in stats])
            high = np.array([st.high if st and st.high is not None else np.nan for st in stats])
            yerr = np.vstack([mean - low, high - mean])
            ax.errorbar(steps, mean, yerr=np.where(np.isfinite(yerr), yerr, 0.0), marker="o", capsize=3, label=prior)
        ax.set_xscale("log", base=2)
        ax.set_xlabel("sampling steps")
        ax.set_title(metric)
        ax.grid(True, alpha=0.3)
        ax.legend(fontsize=8)
    save_figure(fig, path)


def _not_measured(path: Path, text: str) -> None:
    """A figure saying what is missing (a result file written before its numbers were recorded)."""
    fig, ax = plt.subplots(figsize=(6, 1.2))
    ax.text(0.5, 0.5, text, ha="center", va="center", transform=ax.transAxes)
    ax.set_axis_off()
    save_figure(fig, path)


def plot_trajectory_heatmaps(result: CompareResult, path: Path) -> None:
    """Which quefrency is decided when: log10 unexplained fraction e_b(t) of the first trained model, per prior."""
    if not result.autoregression_order:
        return _not_measured(path, "content order not in this result file")
    priors = list(result.autoregression_order)
    fig, axes = plt.subplots(1, len(priors), figsize=(4.5 * len(priors), 3.8), squeeze=False)
    for ax, prior in zip(axes[0], priors):
        run = result.autoregression_order[prior].trained[0]
        view = run.views["cepstrum"]
        fraction = np.log10(np.clip(to_array(view.fraction), 1e-4, None))  # [S, B]
        shown = ax.imshow(fraction.T, origin="lower", aspect="auto", cmap="viridis", vmin=-4, vmax=0.5,
                          extent=(0, fraction.shape[0], 0, fraction.shape[1]))
        steps = np.interp(to_array(view.commit_t), to_array(run.t)[::-1], np.arange(fraction.shape[0])[::-1])
        ax.plot(steps, np.arange(fraction.shape[1]) + 0.5, "w.-", label="commit step")
        ax.set_xlabel("sampling step (noise → data)")
        ax.set_ylabel("quefrency band (low → high)")
        ax.set_title(f"{prior}: log10 e_b(t)")
        ax.legend(fontsize=8, loc="upper right")
        fig.colorbar(shown, ax=ax)
    save_figure(fig, path)


def plot_commit_times(result: CompareResult, path: Path) -> None:
    """Content commit time per band: trained models (mean over seeds, solid) beside the exact model (dashed)."""
    if not result.autoregression_order:
        return _not_measured(path, "content order not in this result file")
    views = list(next(iter(result.autoregression_order.values())).trained_order)
    fig, axes = plt.subplots(1, len(views), figsize=(4.6 * len(views), 3.8), squeeze=False)
    for ax, view in zip(axes[0], views):
        for i, (prior, scores) in enumerate(result.autoregression_order.items()):
            freqs = to_array(scores.exact.views[view].freqs)
            trained = np.mean([to_array(run.views[view].commit_t) for run in scores.trained], axis=0)
            ax.plot(freqs, trained, marker="o", color=f"C{i}", label=f"{prior} trained")
            ax.plot(freqs, to_array(scores.exact.views[view].commit_t), ls="--", color=f"C{i}", label=f"{prior} exact")
        ax.set_xscale("log")
        ax.set_xlabel("band frequency (cycles/sample)")
        ax.set_ylabel("commit time t (1 = noise)")
        ax.set_title(f"when each {view} band is decided")
        ax.grid(True, alpha=0.3)
        ax.legend(fontsize=7)
    save_figure(fig, path)


def plot_colour_sweep(result: CompareResult, path: Path) -> None:
    """Dose-response of the prior's colour: order and spread of the exact model against β, per view."""
    sweep = result.colour_sweep or {}
    powers = {name: e for name, e in sweep.items() if e.beta is not None}
    betas = np.array([e.beta for e in powers.values()])
    fig, axes = plt.subplots(1, 2, figsize=(10, 3.8))
    if not sweep:
        axes[0].text(0.5, 0.5, "colour sweep not run (compare.colour_sweep: false)", ha="center",
                     transform=axes[0].transAxes)
    views = list(next(iter(sweep.values())).exact.views) if sweep else []
    for j, (ax, score) in enumerate(zip(axes, ("order", "spread"))):
        for i, view in enumerate(views):
            values = np.array([getattr(e.exact.views[view], score).mean for e in powers.values()])
            ax.plot(betas, values, marker="o", color=f"C{i}", label=f"{view} (exact)")
            trained = [(e.beta, e.trained_order[view].mean) for e in powers.values() if e.trained_order]
            if score == "order" and trained:
                ax.plot(*zip(*trained), marker="s", ls="none", color=f"C{i}", mfc="none", label=f"{view} (trained)")
            for name, entry in sweep.items():
                if entry.beta is None:  # the data-matched prior, drawn at the data's own slope
                    ax.plot([result.alpha_hat], [getattr(entry.exact.views[view], score).mean], marker="*",
                            ms=12, ls="none", color=f"C{i}", label=f"{view}: {name}" if j == 0 else None)
        if result.alpha_hat is not None:
            ax.axvline(result.alpha_hat, color="grey", ls=":", label="α̂ (data slope)")
        ax.axhline(0.0, color="black", lw=0.6)
        ax.set_xlabel("prior exponent β (S ∝ f^-β)")
        ax.set_title(f"exact linear-Gaussian {score}")
        ax.grid(True, alpha=0.3)
        if ax.get_legend_handles_labels()[0]:  # nothing to label when the sweep was not run
            ax.legend(fontsize=7)
    save_figure(fig, path)


COMPARE_PLOTS: dict[str, Callable[[CompareResult, Path], None]] = {
    "metrics_vs_steps.png": plot_metrics_vs_steps,
    "trajectory_heatmaps.png": plot_trajectory_heatmaps,
    "commit_times.png": plot_commit_times,
    "colour_sweep.png": plot_colour_sweep,
}


def plot_compare(result: CompareResult, out_dir: Path) -> list[str]:
    """Write every comparison PNG into ``out_dir``; returns the file names."""
    for name, draw in COMPARE_PLOTS.items():
        draw(result, out_dir / name)
    return list(COMPARE_PLOTS)


def plot_curve(result: CurveResult, out_dir: Path) -> list[str]:
    """``curve.png``: held-out loss and held-out KID (jackknife 95% bars) against training steps, one line per prior
    and seed; returns the file names."""
    fig, axes = plt.subplots(1, 3, figsize=(13.5, 3.8))
    for (prior, seed) in dict.fromkeys((p.prior, p.seed) for p in result.points):
        mine = sorted((p for p in result.points if p.prior == prior and p.seed == seed), key=lambda p: p.step)
        steps = np.array([p.step for p in mine], dtype=float)
        label = f"{prior}, seed {seed}"
        axes[0].plot(steps, [p.train_loss for p in mine], marker="o", label=label)
        axes[1].plot(steps, [p.heldout_loss for p in mine], marker="o", label=label)
        kid = np.array([p.kid.mean for p in mine])
        err = np.vstack([kid - np.array([p.kid.low for p in mine]), np.array([p.kid.high for p in mine]) - kid])
        axes[2].errorbar(steps, kid, yerr=err, marker="o", capsize=3, label=label)
    titles = ("training loss (mean since last checkpoint)", "held-out loss (validation split)",
              f"held-out KID ({result.n_samples} samples, {result.sample_steps} Euler steps)")
    for ax, title in zip(axes, titles):
        ax.set_xscale("log", base=2)
        ax.set_xlabel("training steps")
        ax.set_title(title, fontsize=9)
        ax.grid(True, alpha=0.3)
        ax.legend(fontsize=7)
    save_figure(fig, out_dir / "curve.png")
    return ["curve.png"]


def _error_bars(stats: list[Any]) -> tuple[np.ndarray, np.ndarray]:
    """Means and ``yerr`` ``[2, n]`` of intervals for ``errorbar``; an interval without bounds gets no bar."""
    means = np.array([st.mean for st in stats])
    low = np.array([st.low if st.low is not None else st.mean for st in stats])
    high = np.array([st.high if st.high is not None else st.mean for st in stats])
    return means, np.vstack([means - low, high - means])


def plot_probe(result: ProbeResult, out_dir: Path) -> list[str]:
    """``probe_swap.png``: donor share per quefrency band after a swap at each time, trained models (solid, per
    prior) against the exact Gaussian model (dashed), the swapped coefficients shaded; ``probe_likelihood.png``:
    bits/dim per prior with intervals and the closed-form Gaussian. Returns the file names."""
    times = sorted({row.time for row in result.swap}, reverse=True)
    fig, axes = plt.subplots(1, len(times), figsize=(4.2 * len(times), 3.6), squeeze=False, sharey=True)
    centres = to_array(result.band_centres)
    cut = 0.5 * (centres[result.kept_bands[0] - 1] + centres[result.kept_bands[0]]) if result.kept_bands else None
    for ax, t in zip(axes[0], times):
        for i, row in enumerate(r for r in result.swap if r.time == t):
            ax.plot(centres, row.band_shares, marker="o", color=f"C{i}", label=f"{row.prior}, trained")
            ax.plot(centres, row.exact_band_shares, ls="--", color=f"C{i}", alpha=0.7, label=f"{row.prior}, exact")
        if cut is not None:
            ax.axvspan(0, cut, color="0.9", zorder=0)
        ax.set_xscale("symlog", linthresh=float(centres[1]) if len(centres) > 1 else 1e-3)
        ax.set_ylim(-0.02, 1.02)
        ax.set_xlabel("quefrency (cycles per mel bin)")
        ax.set_title(f"low quefrencies swapped at t = {t:g}", fontsize=9)
        ax.grid(True, alpha=0.3)
    axes[0][0].set_ylabel("donor share (0 own, 1 donor)")
    axes[0][0].legend(fontsize=7)
    save_figure(fig, out_dir / "probe_swap.png")
    fig, ax = plt.subplots(figsize=(5.5, 3.4))
    rows = list(result.likelihood)
    means, yerr = _error_bars([r.bits_per_dim for r in rows])
    ax.errorbar(np.arange(len(rows)), means, yerr=yerr, fmt="o", capsize=4)
    ax.set_xticks(np.arange(len(rows)), [r.name.split(" (")[0] for r in rows], rotation=20, fontsize=8)
    ax.set_ylabel("bits / dim (test patches, model space)")
    ax.set_title(f"probability-flow likelihood ({100 * result.likelihood_level:g}% intervals)", fontsize=9)
    ax.grid(True, alpha=0.3)
    save_figure(fig, out_dir / "probe_likelihood.png")
    return ["probe_swap.png", "probe_likelihood.png"]


def plot_baselines(result: BaselinesResult, out_dir: Path, *, metric: str = "kid_classifier") -> list[str]:
    """``baselines_kid.png``: KID against sampling steps (= network evaluations) for the diffusion priors (solid)
    and the coarse-to-fine baselines (thick), intervals over seeds; each baseline's exact-Gaussian calibration
    dotted; the floor (real vs real) and the Gaussian with the training spectrum as horizontal lines."""
    fig, ax = plt.subplots(figsize=(6.4, 4.0))
    for i, name in enumerate(result.names):
        per_steps = result.metrics.get(name, {})
        steps = sorted(s for s in per_steps if per_steps[s].get(metric) is not None)  # a metric may be missing
        stats = [per_steps[s][metric] for s in steps]
        means, yerr = _error_bars(stats)
        baseline = i >= len(result.names) - len(result.kinds)
        ax.errorbar(steps, means, yerr=yerr, marker="s" if baseline else "o",
                    lw=2.4 if baseline else 1.2, capsize=3, color=f"C{i}", label=name)
        calibration = result.metrics.get(CALIBRATION + name)
        shown = [s for s in steps if calibration and calibration.get(s, {}).get(metric) is not None]
        if shown:
            ax.plot(shown, [calibration[s][metric].mean for s in shown], ls=":", color=f"C{i}",
                    label=f"{name}: exact Gaussian network")
    for (label, values), ls in zip(result.floors.items(), ("-", "--")):
        if isinstance(values.get(metric), (int, float)):
            ax.axhline(values[metric], color="0.4", ls=ls, lw=0.9, label=label)
    ax.set_xscale("log", base=2)
    ax.set_xticks(list(result.steps), [str(s) for s in result.steps])
    ax.set_xlabel("sampling steps (network evaluations)")
    ax.set_ylabel("KID vs the test split (lower is better)")
    compute = {True: "equal compute", False: "UNEQUAL compute", None: "compute not recorded"}[result.equal_compute]
    ax.set_title(f"diffusion vs explicit coarse-to-fine models, {compute} ({len(result.seeds)} seeds)", fontsize=9)
    ax.grid(True, alpha=0.3)
    ax.legend(fontsize=6.5, ncol=2)
    save_figure(fig, out_dir / "baselines_kid.png")
    return ["baselines_kid.png"]
