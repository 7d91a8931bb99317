"""README result sections generated from the committed result files, never typed in (``audiospec report --markdown``).

A README marks each generated part with the block's kind and the result file it is made from (a path relative to
the README)::

    <!-- generated: compare.kid results/protocol-results-cpu-intel-xeon-2026-11-28.json -->
    | arm | 4 steps | ... |
    <!-- end generated -->

and the text between the markers is replaced by what the kind's renderer makes of that file (the kinds are the
``markdown`` renderers of the report's sections, ``<stage>.<name>``; a block may sit inside a line or a table
cell). :func:`update_readme` rewrites a README's blocks; with ``check`` it only lists the stale ones, which is what
the test of the READMEs does. The human prose around the blocks is the README's own.
"""

from __future__ import annotations

import re
from pathlib import Path

from audiospec.atomic import atomic_write_text, read_json
from audiospec.errors import AudiospecError
from audiospec.experiments.results import from_json
from audiospec.experiments.stage import stage as stage_named
from audiospec.report.sections import markdown_block

__all__ = ["BLOCK", "render_block", "update_readme"]

BLOCK = re.compile(r"(?P<open><!-- generated: (?P<kind>[\w.]+) (?P<source>\S+) -->)(?P<body>.*?)"
                   r"(?P<close><!-- end generated -->)", re.S)


def render_block(kind: str, source: Path) -> str:
    """The text of a block of ``kind`` made from the result file ``source`` (read as its stage's result; sentences
    an older file holds are passed along for what its numbers no longer cover)."""
    section, render = markdown_block(kind)
    raw = read_json(source)
    result = from_json(stage_named(section.stage).result, raw, where=str(source))
    return render(result, raw)


def update_readme(path: Path, *, check: bool = False) -> list[str]:
    """Regenerate every block of the README at ``path`` (module doc); returns the blocks that were stale (with
    ``check`` nothing is written)."""
    path = Path(path)
    if not path.is_file():
        raise AudiospecError(f"README {str(path)!r} does not exist")
    text = path.read_text(encoding="utf-8")
    stale: list[str] = []

    def replace(match: re.Match[str]) -> str:
        source = path.parent / match["source"]
        if not source.is_file():
            raise AudiospecError(f"{str(path)!r}: the block {match['kind']} names {match['source']!r}, which is not a "
                                 f"file beside it ({str(source)!r}); commit the result file or fix the marker")
        body = render_block(match["kind"], source)
        if body != match["body"]:
            stale.append(f"{path}: {match['kind']} from {match['source']}")
        return match["open"] + body + match["close"]

    updated = BLOCK.sub(replace, text)
    if not check and updated != text:
        atomic_write_text(path, updated)
    return stale
