"""The training curve's words, table and figure (the stage ``curve``): is the comparison's budget on the plateau?"""

from __future__ import annotations

import html
from pathlib import Path
from typing import Any

from audiospec.experiments.results import CurveResult
from audiospec.report.page import FOLD_ROWS, figure, folded, items, table
from audiospec.report.plots import plot_curve
from audiospec.report.sections import Answer, Section, register_section
from audiospec.report.text import cell, markdown_table, number, table_ci

__all__ = ["curve_answers", "curve_html", "curve_verdicts"]


def _untested(budget: int, checkpoints: tuple[int, ...], fraction: float) -> str:
    """Why the budget's plateau cannot be tested, and the fix."""
    if budget not in checkpoints:
        return (f"not tested (the budget, {budget} steps, is not one of curve.checkpoints {list(checkpoints)}: add it) "
                "for")
    return (f"not tested (no checkpoint at or before {100 * (1 - fraction):g}% of the budget, "
            f"<= {int((1 - fraction) * budget)} steps, among curve.checkpoints {list(checkpoints)}: add one) for")


def curve_verdicts(result: CurveResult) -> list[str]:
    """Per prior: is the comparison's budget on the held-out-loss plateau, and on the (weak) KID plateau?"""
    budget, checkpoints = result.budget, result.checkpoints
    state = {True: "ON", False: "NOT on", None: _untested(budget, checkpoints, result.plateau_fraction)}
    lines = []
    for prior, marks in result.plateau.items():
        by_loss = result.loss_plateau[prior]
        reached = [int(s) for s, ok in by_loss.items() if ok]
        first = f"first checkpoint on it: {min(reached)} steps" if reached else "no checkpoint reached it"
        lines.append(f"{prior} prior, budget {budget} steps: {state[by_loss.get(budget)]} the held-out-loss "
                     f"plateau (last {100 * result.plateau_fraction:g}% of the steps improve the validation loss by < "
                     f"{100 * result.loss_tolerance:g}%; {first}); {state[marks.get(budget)]} the KID plateau "
                     "(improvement < the 95% half-width of KID, a weak test at this sample size).")
    return lines


def curve_html(result: CurveResult, out_dir: Path) -> str:
    """The curve's part of the page: the verdicts, every checkpoint's losses and KID, the figure."""
    rows = [[p.prior, p.seed, p.step, p.train_loss, p.heldout_loss, table_ci(p.kid)] for p in result.points]
    shown = table(["prior", "seed", "step", "training loss", "held-out loss", "held-out KID"], rows)
    return f"""
<h2 id="curve">Training curves on the validation split</h2>
{figure(out_dir, "curve.png", "held-out loss and KID against steps", "The held-out loss falls while the model learns; the budget is on the plateau when its last fifth no longer improves it.")}
<p>{result.n_validation_patches} validation patches (the test split stays untouched); KID of {result.n_samples} samples
at {result.sample_steps} Euler steps with a jackknife 95% interval. {html.escape(f"{result.steps_per_second:.2f}")}
training steps/s.</p><ul>{items(curve_verdicts(result))}</ul>
{shown if len(rows) <= FOLD_ROWS else folded(f"Every checkpoint's losses and KID ({len(rows)} rows)", shown)}
"""


def curve_answers(result: CurveResult, folder: Path) -> list[Answer]:
    """The curve's question in a line: is the comparison's training budget on the held-out-loss plateau?"""
    budget = result.budget
    states = {prior: marks.get(budget) for prior, marks in result.loss_plateau.items()}
    words = {True: "on the plateau", False: "NOT on the plateau", None: "not tested"}
    groups: dict[str, list[str]] = {}
    for prior, state in states.items():
        groups.setdefault(words[state], []).append(prior)
    last = {prior: max((p for p in result.points if p.prior == prior), key=lambda p: p.step) for prior in states}
    losses = ", ".join(f"{prior} {number(p.heldout_loss, digits=3)} at {p.step}" for prior, p in last.items())
    return [Answer(
        key="curve.plateau", question="Is the training budget on the held-out-loss plateau?", figure="curve.png",
        caption="Training loss, held-out loss and held-out KID against training steps.",
        line=((f"Budget {budget} training steps" if budget is not None else
               "The budget is not recorded in this result file") + f"; on the plateau when the last "
              f"{100 * result.plateau_fraction:g}% of the steps improve the validation loss by < "
              f"{100 * result.loss_tolerance:g}%. Held-out loss at the last checkpoint: {losses}."),
        verdict="; ".join(f"{', '.join(priors)}: {state}" for state, priors in groups.items()))]


def curve_table(result: CurveResult, raw: Any = None) -> str:
    """README block ``curve.table``: per prior, the held-out loss at every checkpoint (mean over seeds), its change
    over the last fifth of the steps, and KID at every checkpoint."""
    steps = sorted({p.step for p in result.points})
    last = steps[-1]
    before = max((s for s in steps if s <= (1 - result.plateau_fraction) * last), default=None)
    rows = []
    for prior in dict.fromkeys(p.prior for p in result.points):
        mine = [p for p in result.points if p.prior == prior]
        loss = {s: sum(p.heldout_loss for p in mine if p.step == s) / max(1, sum(p.step == s for p in mine))
                for s in steps}
        change = "–" if before is None else f"{number(100 * (loss[last] - loss[before]) / loss[last], digits=1, signed=True)}%"
        kids = " / ".join(cell(next(p.kid for p in mine if p.step == s)) for s in steps)
        rows.append([prior, " / ".join(number(loss[s], digits=3) for s in steps), change, kids])
    shown = " / ".join(map(str, steps))
    return markdown_table(["prior", f"held-out loss at {shown} steps", f"last {last - (before or 0)} steps",
                           f"KID at {shown} steps (seed {result.points[0].seed})"], rows)


def _summary(result: CurveResult, folder: Path) -> str:
    return "\n".join(curve_verdicts(result)) + f"\ncurve: {folder / 'curve.png'}"


register_section(Section(stage="curve", html=curve_html, figures=plot_curve, markdown={"table": curve_table},
                         summary=_summary, figure_names=("curve.png",), answer=curve_answers))
