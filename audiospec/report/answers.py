"""Answers first (issue 26): the page opens with one line and one small figure per question of the run, and two runs'
answers can be read side by side.

Each stage's section answers its own questions (its ``answer`` hook returns :class:`Answer` lines, rendered from its
typed result); this module only lays them out, in run order, so a new stage's answers appear without a change here.
Two runs' answers are matched by :attr:`Answer.key`.
"""

from __future__ import annotations

import html
from dataclasses import dataclass
from pathlib import Path
from typing import Sequence

from audiospec.report.page import data_uri, asset
from audiospec.report.sections import Answer

__all__ = ["Found", "answers_section", "side_by_side_section"]


@dataclass(frozen=True)
class Found:
    """An answer with where it came from.

    Attributes:
        stage: the stage's name (its section's anchor).
        folder: the stage folder its figure is in.
        answer: the answer.
    """

    stage: str
    folder: Path
    answer: Answer


def _thumbnail(found: Found) -> str:
    name = found.answer.figure
    if not name:
        return ""
    caption = found.answer.caption or found.answer.question
    return (f'<img src="{data_uri(asset(found.folder, name))}" alt="{html.escape(caption)}" '
            f'title="{html.escape(caption)}">')


def _text(answer: Answer) -> str:
    verdict = f" <span class='verdict'>{html.escape(answer.verdict)}</span>" if answer.verdict else ""
    return f"<p>{html.escape(answer.line)}{verdict}</p>"


def _card(found: Found) -> str:
    answer = found.answer
    layout = "answer" if answer.figure else "answer nofigure"
    return (f"<div class='{layout}' data-key='{html.escape(answer.key)}'><h3>{html.escape(answer.question)} "
            f"<a href='#{html.escape(found.stage)}' title='the section'>›</a></h3>{_thumbnail(found)}"
            f"{_text(answer)}</div>")


def answers_section(found: Sequence[Found]) -> str:
    """The section ``answers``: a card per answer (question, figure, line, verdict), in run order."""
    if not found:
        return ("<h2 id='answers'>Answers</h2><p class='note'>No stage of this run answers a question; its sections "
                "follow.</p>")
    return ("<h2 id='answers'>Answers <span class='note'>a line per question of this run: the number, its interval, "
            "its calibration and, in bold, the verdict; › leads to the details</span></h2>"
            f"<div class='answers'>{''.join(_card(f) for f in found)}</div>")


def _cell(found: Found | None) -> str:
    if found is None:
        return "<td class='note'>not in this run</td>"
    return f"<td>{_thumbnail(found)}{_text(found.answer)}</td>"


def side_by_side_section(runs: Sequence[tuple[str, Sequence[Found]]]) -> str:
    """The section ``answers`` of two (or more) runs: a row per question (matched by key, in the first run's order,
    then the others'), a column per run."""
    keyed = [{f.answer.key: f for f in found} for _, found in runs]
    keys = list(dict.fromkeys(key for per_run in keyed for key in per_run))
    question = {key: next(per_run[key].answer.question for per_run in keyed if key in per_run) for key in keys}
    head = "".join(f"<th>{html.escape(name)}</th>" for name, _ in runs)
    rows = "".join(f"<tr><th colspan='{len(runs)}'>{html.escape(question[key])}</th></tr>"
                   f"<tr>{''.join(_cell(per_run.get(key)) for per_run in keyed)}</tr>" for key in keys)
    return (f"<h2 id='answers'>Answers side by side</h2><p class='note'>Every question either run answers, each "
            f"run's line and figure in its column (its own report has the details).</p>"
            f"<table class='side'><tr>{head}</tr>{rows}</table>")
