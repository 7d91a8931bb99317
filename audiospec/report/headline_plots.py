"""The comparison's headline figures (issue 26): small enough for the answers at the top of the page, and the figure
its section leads with.

- ``kid_vs_steps.png``: KID against sampling steps per prior with its interval over seeds, the floor (real
  training vs test patches) and the Gaussian with the training spectrum as lines, the primary step count marked;
- ``order_views.png``: the trained models' content order per view and prior with its interval, the exact
  linear-Gaussian model and the control network as markers;
- ``arm_differences.png``: each extra arm's KID difference to its reference arm per step count, with its interval
  at its family's level.
"""

from __future__ import annotations

from pathlib import Path

import matplotlib.pyplot as plt
import numpy as np

from audiospec.experiments.results import CompareResult
from audiospec.experiments.rows import PRIMARY_METRIC
from audiospec.report.plots import save_figure

__all__ = ["HEADLINE_PLOTS", "plot_arm_differences", "plot_headlines", "plot_kid_vs_steps", "plot_order_views"]

_SIZE = (5.6, 3.3)


def _bars(stats: list) -> tuple[np.ndarray, np.ndarray]:
    """Means and ``yerr`` ``[2, n]`` of intervals (NaN mean for none; no bar without bounds)."""
    mean = np.array([s.mean if s is not None else np.nan for s in stats])
    low = np.array([s.low if s is not None and s.low is not None else np.nan for s in stats])
    high = np.array([s.high if s is not None and s.high is not None else np.nan for s in stats])
    err = np.vstack([mean - low, high - mean])
    return mean, np.where(np.isfinite(err), err, 0.0)


def _empty(path: Path, text: str) -> None:
    fig, ax = plt.subplots(figsize=_SIZE)
    ax.text(0.5, 0.5, text, ha="center", va="center", wrap=True, transform=ax.transAxes)
    ax.set_axis_off()
    save_figure(fig, path)


def plot_kid_vs_steps(result: CompareResult, path: Path) -> None:
    """KID per prior against steps, intervals over seeds; floor and Gaussian baseline as lines (module doc)."""
    fig, ax = plt.subplots(figsize=_SIZE)
    steps = list(result.steps)
    for i, prior in enumerate(result.priors):
        mean, err = _bars([result.metrics[prior].get(s, {}).get(PRIMARY_METRIC) for s in steps])
        ax.errorbar(np.array(steps) * (1 + 0.03 * (i - 1)), mean, yerr=err, marker="o", capsize=3, label=prior)
    floors = result.floors or {}
    for name, style in (("real train vs test", "-"), ("gaussian, train spectrum", "--")):
        value = floors.get(name, {}).get(PRIMARY_METRIC)
        if isinstance(value, (int, float)):
            label = "floor: real train vs test" if name.startswith("real") else "Gaussian, train spectrum"
            ax.axhline(value, color="0.35", ls=style, lw=1, label=label)
    primary = sorted({s for per in result.difference_to_white.values() for s, m in per.items()
                      if (d := m.get(PRIMARY_METRIC)) is not None and d.primary})
    for s in primary:
        ax.axvline(s, color="0.8", lw=6, zorder=0, label="pre-specified test" if s == primary[0] else None)
    ax.set_xscale("log", base=2)
    ax.set_xticks(steps, [str(s) for s in steps])
    ax.set_xlabel("sampling steps")
    ax.set_ylabel("KID vs test split (lower better)")
    ax.set_title(f"KID per prior, {len(result.seeds)} seeds (95% intervals)", fontsize=9)
    ax.grid(True, alpha=0.3)
    ax.legend(fontsize=7)
    save_figure(fig, path)


def plot_order_views(result: CompareResult, path: Path) -> None:
    """The trained content order per view and prior, exact model (x) and control network (◇) as markers."""
    orders = result.autoregression_order
    if not orders:
        _empty(path, "content order not in this result file")
        return
    views = list(next(iter(orders.values())).trained_order)
    fig, ax = plt.subplots(figsize=_SIZE)
    width = 0.8 / max(len(orders), 1)
    for i, (prior, scores) in enumerate(orders.items()):
        x = np.arange(len(views)) + (i - (len(orders) - 1) / 2) * width
        mean, err = _bars([scores.trained_order[v] for v in views])
        ax.errorbar(x, mean, yerr=err, fmt="o", capsize=3, color=f"C{i}", label=f"{prior}: trained")
        ax.plot(x, [scores.exact.views[v].order.mean for v in views], "x", ms=9, color=f"C{i}",
                label="exact linear-Gaussian" if i == 0 else None)
        if scores.control is not None:
            ax.plot(x, [scores.control.views[v].order.mean for v in views], "D", mfc="none", ms=7, color=f"C{i}",
                    label="control network" if i == 0 else None)
    ax.axhline(0.0, color="black", lw=0.6)
    ax.set_xticks(np.arange(len(views)), [f"{v} bands" for v in views])
    ax.set_ylim(-1.05, 1.05)
    ax.set_ylabel("content order (+1 coarse to fine)")
    ax.set_title(f"order of sampling, {len(result.seeds)} seeds", fontsize=9)
    ax.grid(True, axis="y", alpha=0.3)
    ax.legend(fontsize=6.5, ncol=2)
    save_figure(fig, path)


def plot_arm_differences(result: CompareResult, path: Path) -> None:
    """Each extra arm's KID difference to its reference per step count, with its interval (module doc)."""
    arms = [arm for arm in result.arms if result.arm_differences.get(arm)]
    if not arms:
        _empty(path, "no extra arms (whitened loss, optimised grid) in this run")
        return
    fig, ax = plt.subplots(figsize=_SIZE)
    steps = list(result.steps)
    for i, arm in enumerate(arms):
        per = result.arm_differences[arm]
        shown = [s for s in steps if per.get(s, {}).get(PRIMARY_METRIC) is not None]
        mean, err = _bars([per[s][PRIMARY_METRIC] for s in shown])
        ax.errorbar(np.array(shown) * (1 + 0.03 * (i - len(arms) / 2)), mean, yerr=err, marker="o", capsize=3,
                    label=f"{arm} − {result.arms[arm]}")
    ax.axhline(0.0, color="black", lw=0.8)
    ax.set_xscale("log", base=2)
    ax.set_xticks(steps, [str(s) for s in steps])
    ax.set_xlabel("sampling steps")
    ax.set_ylabel("KID difference (below 0: helps)")
    ax.set_title("whitened loss / optimised grid vs reference", fontsize=9)
    ax.grid(True, alpha=0.3)
    ax.legend(fontsize=6.5)
    save_figure(fig, path)


HEADLINE_PLOTS = {"kid_vs_steps.png": plot_kid_vs_steps, "order_views.png": plot_order_views,
                  "arm_differences.png": plot_arm_differences}


def plot_headlines(result: CompareResult, out_dir: Path) -> list[str]:
    """Write the headline PNGs into ``out_dir``; returns the file names."""
    for name, draw in HEADLINE_PLOTS.items():
        draw(result, Path(out_dir) / name)
    return list(HEADLINE_PLOTS)
