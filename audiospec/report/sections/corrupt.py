"""The corrupted clips' listening set (the stage ``corrupt``): players and spectrograms."""

from __future__ import annotations

from pathlib import Path

from audiospec.experiments.results import CorruptResult, to_json
from audiospec.report.page import listening_section
from audiospec.report.sections import Section, register_section

__all__ = ["corrupt_html"]


def corrupt_html(result: CorruptResult, out_dir: Path) -> str:
    """The listening set of clean, noised and blurred clips."""
    return listening_section(to_json(result), out_dir)


def _summary(result: CorruptResult, folder: Path) -> str:
    return f"wrote {len(result.files)} WAV files with spectrograms to {folder}"


register_section(Section(stage="corrupt", html=corrupt_html, summary=_summary))
