"""The figures of the stage ``fair`` (issue 25), drawn from its typed result: band × step heat maps, the softness
dose–response, the band swap against its ceiling and controls."""

from __future__ import annotations

from pathlib import Path

import matplotlib

matplotlib.use("Agg")
import matplotlib.pyplot as plt  # noqa: E402
import numpy as np  # noqa: E402

from audiospec.experiments.results_fair import FairResult  # noqa: E402
from audiospec.report.plots import save_figure  # noqa: E402

__all__ = ["FAIR_FIGURES", "plot_fair"]

FAIR_FIGURES = ("fair_band_steps.png", "fair_sweep.png", "fair_swap.png")


def _heat_maps(result: FairResult, path: Path) -> None:
    """One band × step heat map per arm (mean over seeds) and, for the fair AR and white, their exact networks."""
    panels = [(arm.name, arm.shares) for arm in result.arms]
    panels += [(f"{arm.name}: exact Gaussian", arm.exact_shares) for arm in result.arms
               if arm.exact_shares is not None and (arm.softness == 0.0 or arm.name == "white")]
    cols = min(4, len(panels))
    rows = -(-len(panels) // cols)
    fig, axes = plt.subplots(rows, cols, figsize=(3.6 * cols, 2.8 * rows), squeeze=False, layout="constrained")
    for ax, (name, shares) in zip(axes.flat, panels):
        image = ax.imshow(np.asarray(shares), aspect="auto", origin="lower", cmap="magma", vmin=0.0,
                          vmax=max(0.05, float(np.max(shares))))
        ax.set_title(name, fontsize=8)
        ax.set_xlabel("sampling step (t = 1 → 0)", fontsize=7)
        ax.set_ylabel("quefrency band", fontsize=7)
        fig.colorbar(image, ax=ax, fraction=0.046).ax.tick_params(labelsize=6)
    for ax in list(axes.flat)[len(panels):]:
        ax.axis("off")
    fig.suptitle(f"share of each band's final content written per step ({result.nfe} network evaluations)",
                 fontsize=9)
    save_figure(fig, path)


def _sweep(result: FairResult, path: Path) -> None:
    """KID (with the exact-Gaussian calibration) and stage concentration / content order against the softness."""
    arms = sorted((a for a in result.arms if a.softness is not None), key=lambda a: a.softness)
    w = np.array([a.softness for a in arms])
    fig, (left, right) = plt.subplots(1, 2, figsize=(9.0, 3.4))
    for values, label, style in (([a.kid for a in arms], "trained", "o-"),):
        means = np.array([v.mean for v in values])
        err = np.array([[v.mean - (v.low if v.low is not None else v.mean) for v in values],
                        [(v.high if v.high is not None else v.mean) - v.mean for v in values]])
        left.errorbar(w, means, yerr=err, fmt=style, capsize=3, label=label)
    left.plot(w, [a.calibration.kid.mean if a.calibration else np.nan for a in arms], "s:", label="exact Gaussian")
    left.axhline(result.gaussian_kid, color="0.5", ls="--", lw=0.9, label="Gaussian, training spectrum")
    left.set_xlabel("softness (0 = bands in turn, 1 = all at once)")
    left.set_ylabel("KID vs test")
    left.legend(fontsize=7)
    right.plot(w, [a.concentration.mean for a in arms], "o-", label="stage concentration")
    right.plot(w, [a.order.mean if a.order else np.nan for a in arms], "s--", label="content order (cepstrum)")
    right.axhline(1.0 / result.n_stages, color="0.5", ls=":", lw=0.9, label="even spread (1/K)")
    right.set_xlabel("softness")
    right.legend(fontsize=7)
    for ax in (left, right):
        ax.grid(True, alpha=0.3)
    save_figure(fig, path)


def _swap(result: FairResult, path: Path) -> None:
    """Directional share of the un-swapped bands per swap row, with its interval; the data's ceiling."""
    rows = list(result.swap)
    fig, ax = plt.subplots(figsize=(max(6.0, 0.5 * len(rows) + 2), 3.8))
    colours = {"positive control": "C3", "negative control": "C7", "prior": "C0"}
    for i, row in enumerate(rows):
        d = row.directional
        low, high = (d.low if d.low is not None else d.mean), (d.high if d.high is not None else d.mean)
        ax.errorbar([i], [d.mean], yerr=[[d.mean - low], [high - d.mean]], fmt="o", capsize=3,
                    color=colours.get(row.role, "C1"))
        if row.exact is not None:
            ax.plot([i], [row.exact], "x", color="k")
    ax.axhline(result.ceiling, color="C2", ls="--", label=f"ceiling: held-out linear R² = {result.ceiling:.3f}")
    ax.axhline(0.0, color="0.6", lw=0.8)
    ax.set_xticks(np.arange(len(rows)), [f"{r.name}\n{r.when}" for r in rows], rotation=60, fontsize=6.5)
    ax.set_ylabel("directional share (0 own, 1 donor)")
    ax.set_title("band swap: red positive control, grey negative controls, blue priors; x = exact Gaussian",
                 fontsize=8)
    ax.legend(fontsize=7)
    ax.grid(True, alpha=0.3)
    save_figure(fig, path)


def plot_fair(result: FairResult, out_dir: Path) -> list[str]:
    """Every figure of the stage into ``out_dir``; returns their names (:data:`FAIR_FIGURES`)."""
    out_dir = Path(out_dir)
    _heat_maps(result, out_dir / FAIR_FIGURES[0])
    _sweep(result, out_dir / FAIR_FIGURES[1])
    _swap(result, out_dir / FAIR_FIGURES[2])
    return list(FAIR_FIGURES)
