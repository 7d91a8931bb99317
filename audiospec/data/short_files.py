"""Files shorter than one clip (``data.short_files``): join consecutive ones into clips, pad each, or skip them.

Speech datasets are mostly utterances of 1-5 s, shorter than a 6 s clip. Three policies:

- ``"join"`` (the default for folder datasets): consecutive short files of one class *and one folder* (in
  listing order) are concatenated until they fill a clip; the last group of a folder, if shorter, is padded.
  A file is used by one clip only, and the clip's provenance names every file it holds
  (``"a.wav@0.000s | b.wav@0.000s"``, :data:`SOURCE_SEPARATOR`), so the split keeps
  them in one group (:func:`~audiospec.data.split.source_groups`): no recording is in two splits.
- ``"pad"``: each short file becomes one clip, padded.
- ``"skip"``: short files are left out (recorded in ``Corpus.skipped``).

Padding repeats the group's own audio end to end until the clip is full (loop padding), marked ``"+repeated"``
after the last file's offset in the provenance: silence would give constant log-mel patches, which have no
spectrum to analyse and teach a model nothing but the floor.
"""

from __future__ import annotations

from dataclasses import dataclass
from typing import Literal, Sequence, get_args

import torch

from audiospec.data.folder import LabelledFile
from audiospec.data.segment import num_segments, segment

__all__ = ["SHORT_FILES", "SOURCE_SEPARATOR", "ShortFile", "ShortFiles", "joined_clips", "plan_short_files",
           "unit_clips"]

SOURCE_SEPARATOR = " | "
"""Separates the parts of the provenance of a clip joined from several files: ``"a.wav@0.000s | b.wav@0.000s"``."""
ShortFiles = Literal["join", "pad", "skip"]
SHORT_FILES: tuple[str, ...] = get_args(ShortFiles)


@dataclass(frozen=True)
class ShortFile:
    """A listed file shorter than one clip: ``frames`` at the corpus rate, ``rate`` its own."""

    item: LabelledFile
    frames: int
    rate: int


def plan_short_files(short: Sequence[ShortFile], *, policy: ShortFiles, clip_length: int
                     ) -> list[tuple[ShortFile, ...]]:
    """The clip sources ("units") made of ``short`` files (in listing order) under ``policy`` (module doc)."""
    if policy == "skip":
        return []
    if policy == "pad":
        return [(f,) for f in short]
    units: list[tuple[ShortFile, ...]] = []
    current: list[ShortFile] = []
    for f in short:
        home = (f.item.label, f.item.path.parent)
        if current and home != (current[0].item.label, current[0].item.path.parent):
            units.append(tuple(current))  # a folder's last, short group: padded when decoded
            current = []
        current.append(f)
        if sum(p.frames for p in current) >= clip_length:
            units.append(tuple(current))
            current = []
    if current:
        units.append(tuple(current))
    return units


def unit_clips(unit: Sequence[ShortFile], *, length: int, hop: int) -> int:
    """Clips a unit gives: its files end to end, padded to at least one clip."""
    return num_segments(max(length, sum(f.frames for f in unit)), length=length, hop=hop)


def joined_clips(parts: Sequence[tuple[ShortFile, torch.Tensor]], *, length: int, hop: int, sample_rate: int
                 ) -> list[tuple[torch.Tensor, str]]:
    """Clips ``[length]`` of the decoded ``parts`` (file, ``[L_i]`` waveform) end to end, repeated to at least one
    clip (module doc), each with its provenance (every file it holds, with the offset of its first sample there)."""
    stream = torch.cat([wave for _, wave in parts])  # [sum L_i]
    audio = stream.shape[-1]
    if audio < length:  # loop padding: [audio] -> [length]
        stream = stream.repeat(-(-length // audio))[:length]
    starts = torch.tensor([0] + [wave.shape[-1] for _, wave in parts]).cumsum(0).tolist()
    out = []
    for c, clip in enumerate(segment(stream, length=length, hop=hop)):  # [n, length]
        a, b = c * hop, c * hop + length
        names = [f"{f.item.path}@{max(0, a - s) / sample_rate:.3f}s"
                 for (f, wave), s in zip(parts, starts) if s < b and s + wave.shape[-1] > a]
        if b > audio:
            names[-1] += "+repeated"
        out.append((clip, SOURCE_SEPARATOR.join(names)))
    return out
