"""What the report says about each stage: one module per stage registers its :class:`Section` (its words, figures,
HTML, README tables and its :class:`Answer` lines for the top of the page); a stage without one gets the generic
section of :mod:`audiospec.report.build`."""

from __future__ import annotations

import importlib
import pkgutil
from dataclasses import dataclass, field
from pathlib import Path
from typing import Any, Callable

from audiospec.errors import AudiospecError

__all__ = ["Answer", "Section", "register_section", "section_for"]


@dataclass(frozen=True)
class Answer:
    """One question of a run answered in a line, with one small figure (the page opens with them, issue 26).

    Attributes:
        key: the question's stable name (``"compare.priors"``): two runs' answers are matched by it.
        question: the question in a reader's words.
        line: the answer: the number, its interval, its calibration and the verdict.
        figure: a PNG in the stage folder (drawn by the section's ``figures``), or None.
        caption: what to look for in the figure.
        verdict: the verdict alone, a few words (shown in bold).
    """

    key: str
    question: str
    line: str
    figure: str | None = None
    caption: str = ""
    verdict: str = ""


@dataclass(frozen=True)
class Section:
    """How the report renders the result of the stage ``stage``.

    Attributes:
        stage: the stage's name.
        html: ``html(result, folder) -> str``, its part of the page (figures already drawn).
        figures: ``figures(result, folder) -> names``, draws its PNGs into the stage folder (None: no figure).
        figure_names: the PNGs ``figures`` draws: drawn again only when one is missing or older than the result
            file (a damaged image is reported, not silently redrawn).
        summary: ``summary(result, folder) -> str``, what its command prints when it finishes (None: the path of
            its result file).
        markdown: README blocks by name: ``render(result, raw) -> str`` (``raw``: the result file's JSON, whose
            sentences an older file still holds), for :mod:`audiospec.report.markdown`.
        answer: ``answer(result, folder) -> answers``, its questions answered in a line each for the top of the
            page and the side-by-side view of two runs (:mod:`audiospec.report.answers`; None: it answers none).
    """

    stage: str
    html: Callable[[Any, Path], str]
    figures: Callable[[Any, Path], list[str]] | None = None
    figure_names: tuple[str, ...] = ()
    summary: Callable[[Any, Path], str] | None = None
    markdown: dict[str, Callable[[Any, Any], str]] = field(default_factory=dict)
    answer: Callable[[Any, Path], list[Answer]] | None = None


_SECTIONS: dict[str, Section] = {}
_DISCOVERED = False


def register_section(section: Section) -> Section:
    """Add (or replace, for a test) the section of a stage; returns it."""
    _SECTIONS[section.stage] = section
    return section


def section_for(stage: str) -> Section | None:
    """The registered section of ``stage`` (the modules of this package are imported first), or None."""
    global _DISCOVERED
    if not _DISCOVERED:
        _DISCOVERED = True
        for module in pkgutil.iter_modules(__path__):
            importlib.import_module(f"{__name__}.{module.name}")
    return _SECTIONS.get(stage)


def markdown_block(kind: str) -> tuple[Section, Callable[[Any, Any], str]]:
    """The section and renderer of a README block named ``<stage>.<name>``."""
    stage, _, name = kind.partition(".")
    section = section_for(stage)
    if section is None or name not in section.markdown:
        known = sorted(f"{s.stage}.{n}" for s in _SECTIONS.values() for n in s.markdown)
        raise AudiospecError(f"unknown README block {kind!r}; the blocks are {known}")
    return section, section.markdown[name]
