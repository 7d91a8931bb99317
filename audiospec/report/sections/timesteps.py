"""The timestep comparison's words, tables and figure (the stage ``timesteps``, issue 28): does spectrum-aware
timestep sampling train faster on mel-spectrograms?"""

from __future__ import annotations

import html
from pathlib import Path
from typing import Any

import numpy as np

from audiospec.diffusion.timestep_config import TimestepConfig
from audiospec.experiments.timestep_results import LOSS, ArmTest, FamilyBound, TimestepsResult, TimeToTarget
from audiospec.measures.statistics import ALPHA
from audiospec.report.page import figure, items, table
from audiospec.report.plots import plt, save_figure
from audiospec.report.sections import Section, register_section
from audiospec.report.text import bullets, markdown_table, number

__all__ = ["by_time_differences", "describe_sampler", "timesteps_answer", "timesteps_html", "timesteps_table", "timesteps_verdicts"]


def _seeds(n: int) -> str:
    """"1 seed", "7 seeds"."""
    return f"{n} seed" if n == 1 else f"{n} seeds"


def describe_sampler(config: TimestepConfig) -> str:
    """An arm's p(t) in words: base density, spectral weighting and its map, resolution shift."""
    base = "uniform" if config.kind == "uniform" else f"logit-normal({config.mu:g}, {config.sigma:g})"
    if config.spectral_weighting:
        where = "drowning time t*(f)" if config.frequency_map == "drowning" else "linear f → t"
        base += f" × R(f(t)), {where}"
    if config.shift != 1.0:
        base += f", shift s = {config.shift:.2f}"
    return base


def _primary(result: TimestepsResult, prior: str) -> list[ArmTest]:
    return [t for t in result.tests if t.prior == prior and t.difference.primary]


def _family(result: TimestepsResult, prior: str, primary: bool) -> FamilyBound:
    return next(f for f in result.families if f.prior == prior and f.primary == primary)


def _lower(result: TimestepsResult, test: ArmTest) -> tuple[int, int]:
    """(seeds where the arm's held-out loss is below the reference's, seeds paired) at the test's step."""
    mine = {p.seed: p.heldout_loss for p in result.points if (p.prior, p.arm, p.step) == (test.prior, test.arm,
                                                                                          test.step)}
    ref = {p.seed: p.heldout_loss for p in result.points if (p.prior, p.arm, p.step) == (test.prior, result.reference,
                                                                                         test.step)}
    paired = [s for s in mine if s in ref]
    return sum(mine[s] < ref[s] for s in paired), len(paired)


def _verdict(test: ArmTest, family: FamilyBound) -> str:
    d = test.difference
    if d.reliable:
        return "reliably lower: it trains faster" if d.mean < 0 else "reliably higher: it trains slower"
    if not family.can_decide:
        return (f"cannot decide with {_seeds(family.n_seeds)} (the smallest Holm p a family of {family.size} can reach "
                f"is {family.smallest_p:.3g}, not below {ALPHA:g})")
    return "no reliable difference"


def timesteps_verdicts(result: TimestepsResult) -> list[str]:
    """The pre-specified primary test, one sentence per prior and primary arm."""
    lines = []
    for prior in result.priors:
        family = _family(result, prior, True)
        for test in _primary(result, prior):
            d, (lower, paired) = test.difference, _lower(result, test)
            p = "not tested" if d.p_value is None else f"p = {d.p_value:.3g}, Holm {d.p_holm:.3g}"
            interval = "" if d.low is None else f" [{d.low:+.4f}, {d.high:+.4f}] at {100 * d.level:g}%"
            lines.append(f"{prior} prior, {test.arm} against {result.reference} at {test.step} steps: held-out loss "
                         f"{d.mean:+.4f}{interval} ({p}; lower in {lower} of {paired} seeds): {_verdict(test, family)}.")
    return lines


def timesteps_answer(result: TimestepsResult, raw: Any = None) -> str:
    """README block ``timesteps.answer``: the answer to the issue's question from the primary tests."""
    tests = [t for prior in result.priors for t in _primary(result, prior)]
    reliable = [t for t in tests if t.difference.reliable]
    undecidable = all(not _family(result, prior, True).can_decide for prior in result.priors)
    arms = ", ".join(result.primary_arms)
    n = len(result.seeds)
    if reliable:
        head = "; ".join(f"{t.arm} on the {t.prior} prior is reliably {'faster' if t.difference.mean < 0 else 'slower'}"
                         for t in reliable)
    elif undecidable:
        head = (f"Cannot decide with {_seeds(n)}: the pre-specified test ({arms} against {result.reference}) cannot "
                f"reach p < {ALPHA:g} after Holm with so few seeds, whatever the data")
    else:
        head = f"No reliable difference between {arms} and {result.reference}"
    means = "; ".join(f"{t.arm}, {t.prior}: {number(t.difference.mean, digits=4, signed=True)}" for t in tests)
    return (f"\n{head} (held-out loss at {result.primary_step} steps minus {result.reference}'s, mean over {_seeds(n)}: "
            f"{means}).\n")


def _mean(values: list[float]) -> float | None:
    return sum(values) / len(values) if values else None


def by_time_differences(result: TimestepsResult, prior: str, arm: str) -> list[float] | None:
    """The arm's held-out loss minus the reference's in each bin of t at the primary step (mean over the seeds both
    have), or None for the reference or an arm without points there."""
    at = {(p.arm, p.seed): p.heldout_by_time for p in result.points if (p.prior, p.step) == (prior, result.primary_step)}
    seeds = [seed for (name, seed) in at if name == arm and (result.reference, seed) in at]
    if arm == result.reference or not seeds:
        return None
    bins = len(at[arm, seeds[0]])
    return [float(np.mean([at[arm, s][b] - at[result.reference, s][b] for s in seeds])) for b in range(bins)]


def _speed(entry: TimeToTarget | None, step: int) -> str:
    """Steps to the reference's loss as a fraction of the primary step (mean over the seeds that reached it)."""
    if entry is None:
        return "–"
    reached = [s for s in entry.steps if s is not None]
    if not reached:
        return f"not reached in {step} steps"
    return f"{number(_mean(reached) / step, digits=2)}" + ("" if len(reached) == len(entry.steps) else
                                                            f" ({len(reached)}/{len(entry.steps)} seeds)")


def _row(result: TimestepsResult, prior: str, arm: str) -> list[str]:
    """One arm of one prior: held-out loss per checkpoint, the difference at the primary step, time to target, KID
    and content order at the end (means over seeds)."""
    losses = " / ".join(number(_mean([p.heldout_loss for p in result.points if (p.prior, p.arm, p.step) ==
                                      (prior, arm, step)]), digits=4) for step in result.checkpoints)
    test = next((t for t in result.tests if (t.prior, t.arm, t.measure, t.step) ==
                 (prior, arm, LOSS, result.primary_step)), None)
    if test is None:
        delta, p = "reference", "–"
    else:
        d = test.difference
        delta = number(d.mean, digits=4, signed=True) + ("" if d.low is None else
                                                         f" [{number(d.low, digits=4, signed=True)}, "
                                                         f"{number(d.high, digits=4, signed=True)}]")
        p = "–" if d.p_value is None else f"{d.p_value:.2g} ({d.p_holm:.2g}){' primary' if d.primary else ''}"
    ends = [e for e in result.ends if (e.prior, e.arm) == (prior, arm)]
    timing = next((t for t in result.time_to_target if (t.prior, t.arm) == (prior, arm)), None)
    bins = by_time_differences(result, prior, arm)
    by_time = "–" if bins is None else " / ".join(number(d, digits=3, signed=True) for d in bins)
    return [prior, arm, describe_sampler(result.samplers[arm]), losses, delta, p, by_time,
            _speed(timing, result.primary_step), number(_mean([e.kid.mean for e in ends]), digits=3),
            number(_mean([e.order.get("cepstrum", float("nan")) for e in ends]), digits=2)]


def _header(result: TimestepsResult) -> list[str]:
    shown = " / ".join(map(str, result.checkpoints))
    return ["prior", "arm", "p(t)", f"held-out loss at {shown} steps", f"Δ vs {result.reference} at "
            f"{result.primary_step} steps", "p (Holm)", "Δ per quarter of t, data → noise",
            f"steps to {result.reference}'s loss, ÷ {result.primary_step}", "KID", "content order (cepstrum)"]


def timesteps_table(result: TimestepsResult, raw: Any = None) -> str:
    """README block ``timesteps.table``: every prior and arm (means over seeds; Δ with its interval at the family's
    Bonferroni level, p exact sign flip with Holm in brackets)."""
    return markdown_table(_header(result), [_row(result, prior, arm) for prior in result.priors
                                            for arm in result.arms])


def _families_text(result: TimestepsResult) -> list[str]:
    return [f"{f.prior} prior, {'primary' if f.primary else 'secondary'} family: {f.size} tests on "
            f"{_seeds(f.n_seeds)}, smallest attainable Holm p {f.smallest_p:.3g}" + ("" if f.can_decide else " (cannot decide)")
            for f in result.families]


def timesteps_families(result: TimestepsResult, raw: Any = None) -> str:
    """README block ``timesteps.families``: each family's size and smallest attainable p."""
    return bullets(_families_text(result))


def timesteps_html(result: TimestepsResult, out_dir: Path) -> str:
    """The section of the page: label, what was measured, the verdicts, the families, the table and the figure."""
    label = f"<p><strong>{html.escape(result.label)}</strong></p>" if result.label else ""
    speeds = ", ".join(f"{arm} {v:.3f}" for arm, v in result.seconds_per_step.items())
    return f"""
<h2 id="timesteps">Timestep samplers at equal compute</h2>{label}
<p>{len(result.arms)} arms x {len(result.priors)} priors x {_seeds(len(result.seeds))}, trained to
{result.checkpoints[-1]} steps with the protocol's training; the held-out flow-matching loss on
{result.n_validation_patches} validation patches with t stratified over [0, 1) and fixed noise ({result.loss_draws}
draws per patch), the same for every arm; KID of {result.n_samples} samples at {result.sample_steps} Euler steps and
the content order at the end. Training seconds per step: {html.escape(speeds)}.
Pre-specified primary test: held-out loss at {result.primary_step} steps, each of {html.escape(", ".join(result.primary_arms))}
against {html.escape(result.reference)}, paired by seed, exact sign flips, Holm within each prior.</p>
<ul>{items(timesteps_verdicts(result))}</ul><ul>{items(_families_text(result))}</ul>
{table(_header(result), [_row(result, prior, arm) for prior in result.priors for arm in result.arms])}
{figure(out_dir, "timesteps.png", "held-out loss against steps and seconds, and each arm's p(t)",
        "From the left: held-out loss per arm (mean over seeds); each arm minus " + result.reference
        + " per seed (below 0 = lower loss); the loss against training seconds; each arm's p(t); each arm minus "
        + result.reference + " in each bin of t at the primary step (t = 1 noise).")}
"""


def _curve(result: TimestepsResult, prior: str, arm: str, seconds: bool = False) -> tuple[np.ndarray, np.ndarray]:
    """Mean over seeds of the held-out loss at each checkpoint, against steps or cumulative training seconds."""
    xs, ys = [], []
    for step in result.checkpoints:
        mine = [p for p in result.points if (p.prior, p.arm) == (prior, arm) and p.step <= step]
        at = [p.heldout_loss for p in mine if p.step == step]
        if at:
            seeds = {p.seed for p in mine}
            xs.append(sum(p.seconds for p in mine) / len(seeds) if seconds else step)
            ys.append(sum(at) / len(at))
    return np.array(xs, dtype=float), np.array(ys)


def _deltas(result: TimestepsResult, prior: str, arm: str) -> tuple[list[int], list[float]]:
    """Every seed's and checkpoint's held-out loss of ``arm`` minus the reference's (paired by seed)."""
    ref = {(p.seed, p.step): p.heldout_loss for p in result.points if (p.prior, p.arm) == (prior, result.reference)}
    pairs = [(p.step, p.heldout_loss - ref[p.seed, p.step]) for p in result.points
             if (p.prior, p.arm) == (prior, arm) and (p.seed, p.step) in ref]
    return [s for s, _ in pairs], [d for _, d in pairs]


def _bins_panel(ax: Any, result: TimestepsResult, prior: str, colours: dict[str, str]) -> None:
    """Bars of each arm's held-out loss minus the reference's in each bin of t at the primary step."""
    others = [arm for arm in result.arms if by_time_differences(result, prior, arm) is not None]
    for i, arm in enumerate(others):
        deltas = by_time_differences(result, prior, arm)
        width = 1.0 / (len(deltas) * (len(others) + 1))
        centres = (np.arange(len(deltas)) + 0.5) / len(deltas)
        ax.bar(centres + (i - (len(others) - 1) / 2) * width, deltas, width=width, color=colours[arm], label=arm)
    ax.axhline(0.0, color="grey", linewidth=1)


def plot_timesteps(result: TimestepsResult, out_dir: Path) -> list[str]:
    """``timesteps.png``: per prior (rows) the held-out loss against steps, the paired difference to the reference
    (per seed, and the mean), the loss against training seconds, each arm's p(t) and the difference per bin of t at
    the primary step; returns the file names."""
    fig, axes = plt.subplots(len(result.priors), 5, figsize=(21, 3.9 * len(result.priors)), squeeze=False,
                             layout="constrained")
    colours = {arm: f"C{i}" for i, arm in enumerate(result.arms)}
    for row, prior in zip(axes, result.priors):
        for arm in result.arms:
            style = {"label": arm, "marker": "o", "color": colours[arm],
                     "linewidth": 2.4 if arm == result.reference else 1.2}
            row[0].plot(*_curve(result, prior, arm), **style)
            row[2].plot(*_curve(result, prior, arm, seconds=True), **style)
            row[3].plot(result.grid, result.densities[prior][arm], label=arm, color=colours[arm])
            steps, deltas = _deltas(result, prior, arm)
            if arm != result.reference and steps:
                row[1].scatter(steps, deltas, s=12, alpha=0.5, color=colours[arm])
                means = {s: np.mean([d for t, d in zip(steps, deltas) if t == s]) for s in sorted(set(steps))}
                row[1].plot(list(means), list(means.values()), color=colours[arm], label=arm)
        _bins_panel(row[4], result, prior, colours)
        row[1].axhline(0.0, color="grey", linewidth=1)
        titles = (f"{prior}: held-out loss (mean over seeds)", f"{prior}: arm − {result.reference} (seeds, mean)",
                  f"{prior}: held-out loss vs training time", f"{prior}: p(t) of each arm (t = 1 noise)",
                  f"{prior}: arm − {result.reference} per bin of t at {result.primary_step} steps")
        for ax, title, xlabel in zip(row, titles, ("training steps", "training steps", "training seconds", "t", "t")):
            ax.set_title(title, fontsize=9)
            ax.set_xlabel(xlabel)
            ax.grid(True, alpha=0.3)
            ax.legend(fontsize=7)
    save_figure(fig, out_dir / "timesteps.png")
    return ["timesteps.png"]


def _summary(result: TimestepsResult, folder: Path) -> str:
    return "\n".join(timesteps_verdicts(result)) + f"\ntimesteps: {folder / 'timesteps.png'}"


register_section(Section(stage="timesteps", html=timesteps_html, figures=plot_timesteps,
                         figure_names=("timesteps.png",), summary=_summary,
                         markdown={"table": timesteps_table, "answer": timesteps_answer,
                                   "families": timesteps_families}))
