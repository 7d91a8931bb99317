"""Sentences the stages or the report wrote before issue 26, as the report words them now: a test whose Holm family
cannot reach α with its seeds carries no verdict ("no reliable difference" could not have come out otherwise)."""

from __future__ import annotations

import re
from typing import Callable, Sequence

NO_VERDICT = re.compile(r": no reliable difference( from the Gaussian model)?(?=[. ])")


def as_now(lines: Sequence[str], undecidable: Callable[[str], bool]) -> list[str]:
    """``lines`` with the verdict of each line ``undecidable`` picks dropped (the rest of the sentence as it was)."""
    return [NO_VERDICT.sub("", line) if undecidable(line) else line for line in lines]
