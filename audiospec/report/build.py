"""Assemble one self-contained HTML report from whatever a run folder holds.

A run folder may contain ``analysis/`` (``audiospec analyze``), ``corrupt/``
(``audiospec corrupt``), ``compare/`` (``audiospec compare``), ``probe/`` (``audiospec probe``) and ``baselines/``
(``audiospec baselines``); each present part
becomes a section of ``RUN_DIR/report.html``.
"""

from __future__ import annotations

from pathlib import Path
from typing import Any, Callable

from audiospec.errors import AudiospecError
from audiospec.experiments.results import AnalysisResult, BaselinesResult, CompareResult, ProbeResult, read_result
from audiospec.report.html import (
    analysis_section,
    baselines_section,
    compare_section,
    listening_section,
    probe_section,
    read_manifest,
    write_page,
)

__all__ = ["SECTIONS", "build_report"]


# (sub-folder, JSON file, reader, section builder) in page order
SECTIONS: list[tuple[str, str, Callable[[Path], Any], Callable[[Any, Path], str]]] = [
    ("analysis", "analysis.json", lambda path: read_result(AnalysisResult, path), analysis_section),
    ("corrupt", "corrupt.json", read_manifest, listening_section),
    ("compare", "results.json", lambda path: read_result(CompareResult, path), compare_section),
    ("probe", "probe.json", lambda path: read_result(ProbeResult, path), probe_section),
    ("baselines", "baselines.json", lambda path: read_result(BaselinesResult, path), baselines_section),
]


def build_report(run_dir: Path, *, title: str | None = None) -> Path:
    """Write ``run_dir/report.html`` from the parts present; returns its path."""
    run_dir = Path(run_dir)
    if not run_dir.is_dir():
        raise AudiospecError(f"run folder {str(run_dir)!r} does not exist; run `audiospec demo` or `analyze` first")
    sections = []
    for folder, name, read, build in SECTIONS:
        path = run_dir / folder / name
        if path.is_file():
            sections.append(build(read(path), run_dir / folder))
    if not sections:
        expected = ", ".join(f"{folder}/{name}" for folder, name, _, _ in SECTIONS)
        raise AudiospecError(f"{str(run_dir)!r} holds none of {expected}; nothing to report")
    return write_page(run_dir / "report.html", title=title or f"audiospec report: {run_dir.name}", sections=sections)
