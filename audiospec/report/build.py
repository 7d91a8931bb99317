"""Assemble one self-contained HTML report from whatever a run folder holds.

Every registered stage (:func:`audiospec.experiments.stage.stages`) whose result file is in its folder of the run
(``analysis/analysis.json``, ``compare/results.json``, ...) becomes a section of ``RUN_DIR/report.html``, in run
order: its figures are drawn into its folder (and the spectrograms of its audio files), then its section
(:mod:`audiospec.report.sections`) renders its words and tables. A stage without a section of its own gets a
generic one: a table of every number of its result. The page opens with the answers of every section that has
them (:mod:`audiospec.report.answers`); :func:`build_side_by_side` lays two runs' answers side by side.
"""

from __future__ import annotations

import html
from pathlib import Path
from typing import Any

from audiospec.errors import AudiospecError
from audiospec.experiments.results import to_json
from audiospec.experiments.stage import Stage, stages
from audiospec.report.answers import Found, answers_section, side_by_side_section
from audiospec.report.page import FOLD_ROWS, folded, table, write_page
from audiospec.report.spectrograms import draw_spectrograms
from audiospec.report.sections import Section, section_for

__all__ = ["build_report", "build_side_by_side", "render_stage", "run_answers", "stage_html", "summary_text"]


def _leaves(value: Any, prefix: str = "") -> list[tuple[str, Any]]:
    if isinstance(value, dict):
        return [leaf for key, item in value.items() for leaf in _leaves(item, f"{prefix}.{key}" if prefix else str(key))]
    if isinstance(value, (list, tuple)) and value and not all(isinstance(v, (int, float, str)) for v in value):
        return [leaf for i, item in enumerate(value) for leaf in _leaves(item, f"{prefix}[{i}]")]
    return [(prefix, value)]


def _generic(stage: Stage) -> Section:
    """The section of a stage the report has no words for: every value of its result, in a table."""

    def render(result: Any, folder: Path) -> str:
        rows = [[key, value] for key, value in _leaves(to_json(result))]
        shown = table(['value', ''], rows)
        return (f"<h2 id='{html.escape(stage.name)}'>{html.escape(stage.summary or stage.name)}</h2>"
                + (shown if len(rows) <= FOLD_ROWS else folded(f"Every value of its result ({len(rows)})", shown)))

    return Section(stage=stage.name, html=render)


def _section(stage: Stage) -> Section:
    return section_for(stage.name) or _generic(stage)


def _stale(section: Section, folder: Path, output: Path) -> bool:
    """Whether a section's figures are to be drawn: one is missing, or older than the result file."""
    made = output.stat().st_mtime_ns
    return not section.figure_names or any(not (folder / name).is_file() or (folder / name).stat().st_mtime_ns < made
                                           for name in section.figure_names)


def _prepared(stage: Stage, folder: Path) -> tuple[Any, Section]:
    """The result of ``stage`` in ``folder`` and its section, its figures drawn first (when missing or stale)."""
    folder = Path(folder)
    result = stage.read(folder)
    section = _section(stage)
    draw_spectrograms(folder)
    if section.figures is not None and _stale(section, folder, folder / stage.output):
        section.figures(result, folder)
    return result, section


def stage_html(stage: Stage, folder: Path) -> str:
    """The section of ``stage`` for the result in ``folder``, its figures drawn first (when missing or stale)."""
    result, section = _prepared(stage, folder)
    return section.html(result, Path(folder))


def summary_text(stage: Stage, result: Any, folder: Path) -> str:
    """What the command of ``stage`` prints when it finishes (its section's summary, else where its result is)."""
    section = _section(stage)
    return section.summary(result, Path(folder)) if section.summary else f"results: {Path(folder) / stage.output}"


def render_stage(stage: Stage, folder: Path) -> Path:
    """Draw one stage's figures and write ``folder/report.html`` with its section alone; returns the page."""
    folder = Path(folder)
    return write_page(folder / "report.html", title=f"audiospec {stage.verb}: {folder.name}",
                      sections=[stage_html(stage, folder)])


def _stages_in(run_dir: Path) -> list[Stage]:
    """The stages whose result file is in ``run_dir`` in the run layout (``<stage>/<output>``)."""
    return [stage for stage in stages() if (run_dir / stage.name / stage.output).is_file()]


def _present(run_dir: Path) -> list[Stage]:
    """The stages whose result file is in ``run_dir`` (an error naming the files when none is)."""
    run_dir = Path(run_dir)
    if not run_dir.is_dir():
        raise AudiospecError(f"run folder {str(run_dir)!r} does not exist; run `audiospec demo` or `analyze` first")
    present = _stages_in(run_dir)
    if not present:
        expected = ", ".join(f"{stage.name}/{stage.output}" for stage in stages())
        raise AudiospecError(f"{str(run_dir)!r} holds none of {expected}; nothing to report")
    return present


def _answers(stage: Stage, result: Any, section: Section, folder: Path) -> list[Found]:
    return [Found(stage=stage.name, folder=folder, answer=a) for a in section.answer(result, folder)] \
        if section.answer is not None else []


def run_answers(run_dir: Path) -> list[Found]:
    """Every answer of the stages in ``run_dir``, in run order (their figures drawn when missing or stale)."""
    found = []
    for stage in _present(run_dir):
        folder = Path(run_dir) / stage.name
        found += _answers(stage, *_prepared(stage, folder), folder)
    return found


def _own_stage(folder: Path) -> Stage | None:
    """The stage whose result lies in ``folder`` itself (a stage command's ``--out``), when no run layout is there."""
    if not folder.is_dir() or _stages_in(folder):
        return None
    return next((stage for stage in stages() if (folder / stage.output).is_file()), None)


def build_report(run_dir: Path, *, title: str | None = None) -> Path:
    """Write ``run_dir/report.html`` from the stages present (module doc): the answers, then a section per stage;
    returns its path."""
    run_dir = Path(run_dir)
    own = _own_stage(run_dir)
    if own is not None:  # a stage's own folder (e.g. `audiospec timesteps --out X`): its page alone, redrawn
        return render_stage(own, run_dir)
    sections, found = [], []
    for stage in _present(run_dir):
        folder = run_dir / stage.name
        result, section = _prepared(stage, folder)
        sections.append(section.html(result, folder))
        found += _answers(stage, result, section, folder)
    return write_page(run_dir / "report.html", title=title or f"audiospec report: {run_dir.name}",
                      sections=[answers_section(found), *sections])


def build_side_by_side(runs: list[Path], out: Path) -> Path:
    """Write ``out``: the answers of two (or more) run folders side by side, one column per run; returns its path."""
    if len(runs) < 2:
        raise AudiospecError(f"a side-by-side view needs two run folders, got {len(runs)}")
    names = [Path(r).name or str(r) for r in runs]
    if len(set(names)) < len(names):
        names = [str(r) for r in runs]
    columns = [(name, run_answers(Path(run))) for name, run in zip(names, runs)]
    return write_page(Path(out), title=f"audiospec: {' vs '.join(names)}", sections=[side_by_side_section(columns)])
