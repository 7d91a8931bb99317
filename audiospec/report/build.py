"""Assemble one self-contained HTML report from whatever a run folder holds.

A run folder may contain ``analysis/`` (``audiospec analyze``), ``corrupt/``
(``audiospec corrupt``), ``compare/`` (``audiospec compare``), ``probe/`` (``audiospec probe``) and ``baselines/``
(``audiospec baselines``); each present part
becomes a section of ``RUN_DIR/report.html``.
"""

from __future__ import annotations

import json
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
    write_page,
)

__all__ = ["SECTIONS", "build_report"]


def _manifest(path: Path) -> dict[str, Any]:
    try:
        manifest = json.loads(path.read_text())
    except (OSError, UnicodeDecodeError, json.JSONDecodeError) as err:
        raise AudiospecError(f"cannot read {str(path)!r}: {err}; re-run the step that writes it") from None
    if not isinstance(manifest, dict) or not isinstance(manifest.get("files"), list):
        raise AudiospecError(f"{str(path)!r} lacks its list of 'files'; re-run the step that writes it")
    return manifest


# (sub-folder, JSON file, reader, section builder) in page order
SECTIONS: list[tuple[str, str, Callable[[Path], Any], Callable[[Any, Path], str]]] = [
    ("analysis", "analysis.json", lambda path: read_result(AnalysisResult, path), analysis_section),
    ("corrupt", "corrupt.json", _manifest, listening_section),
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
