"""Cutting real recordings into fixed-length clips, deterministically: the routines every prepared corpus shares.

- **Music** (:func:`cut_music`): each track offers ``floor(usable / clip_seconds)``
  non-overlapping slots in its usable span (the first :data:`MUSIC_HEAD_SKIP_SECONDS` and
  last :data:`MUSIC_TAIL_SKIP_SECONDS` skipped; a track too short for that offers its whole
  length, one shorter than a clip is left out); ``n`` clips are spread over the tracks
  round-robin (:func:`~audiospec.data.selection.spread_selection`) and each is cut from
  the centre of its slot, reading only that excerpt (soundfile seek, no full decode); a
  track giving an excerpt quieter than :data:`MUSIC_MIN_RMS_DB` RMS (Wesnoth ships a
  ``silence.ogg``) is left out and the clips are spread again over the other tracks.
- **Speech** (:func:`join_utterances`): a clip concatenates consecutive utterances,
  leading/trailing silence trimmed (:data:`SPEECH_TRIM_TOP_DB` below the loudest 10 ms
  frame), with :data:`SPEECH_GAP_SECONDS` of silence between them, until ``clip_seconds``
  are filled (the last utterance is cut short). Two plans use it:
  :func:`cut_speech_spread` (clip ``i`` starts at utterance ``floor(i * N / n)`` of the
  whole sorted list; no utterance in two clips) and :func:`cut_speech_packed` (every group
  of utterances, a speaker in one session, is packed into as many clips as it fills; a
  clip never mixes two groups).

Every clip is mono (mean of channels) at ``sample_rate`` and goes to a
:class:`~audiospec.data.staging.CorpusWriter` as soon as it is cut. No synthetic signal
is ever mixed in.
"""

from __future__ import annotations

import math
import warnings
from collections.abc import Hashable, Sequence
from dataclasses import dataclass
from pathlib import Path
from typing import Protocol

import torch
from tqdm.auto import tqdm

from audiospec.data.audio import audio_info, duration_frames, read_audio
from audiospec.data.packages import ClipLabel, SourceFile
from audiospec.data.selection import spread_indices, spread_selection
from audiospec.errors import AudiospecError

__all__ = [
    "MUSIC_HEAD_SKIP_SECONDS", "MUSIC_MIN_RMS_DB", "MUSIC_TAIL_SKIP_SECONDS", "SPEECH_GAP_SECONDS",
    "SPEECH_TRIM_TOP_DB", "ClipSink", "CutClip", "Excerpt", "check_cut_arguments", "cut_music", "cut_speech_packed",
    "cut_speech_spread", "join_utterances", "music_slots", "trim_silence",
]

MUSIC_HEAD_SKIP_SECONDS = 5.0
MUSIC_TAIL_SKIP_SECONDS = 3.0
MUSIC_MIN_RMS_DB = -60.0
SPEECH_GAP_SECONDS = 0.15
SPEECH_TRIM_TOP_DB = 40.0
_EDGE_MARGIN_SECONDS = 0.02  # read a little around each music excerpt so resampling has no edge effects


def check_cut_arguments(n_per_class: int | None, clip_seconds: float, sample_rate: int) -> None:
    """Raise unless ``n_per_class`` is a positive integer (or None), and the clip length and rate are usable."""
    if n_per_class is not None and (isinstance(n_per_class, bool) or not isinstance(n_per_class, int)
                                    or n_per_class < 1):
        raise AudiospecError(f"n_per_class must be a positive integer, got {n_per_class!r}")
    if isinstance(clip_seconds, bool) or not isinstance(clip_seconds, (int, float)) or not (
            math.isfinite(clip_seconds) and clip_seconds > 0):
        raise AudiospecError(f"clip_seconds must be a positive number of seconds, got {clip_seconds!r}")
    if isinstance(sample_rate, bool) or not isinstance(sample_rate, int) or sample_rate <= 0:
        raise AudiospecError(f"sample_rate must be a positive integer (Hz), got {sample_rate!r}")
    if duration_frames(clip_seconds, sample_rate=sample_rate) < 1:
        raise AudiospecError(f"clip_seconds={clip_seconds} is shorter than one sample at {sample_rate} Hz")


@dataclass(frozen=True)
class Excerpt:
    """A piece of a source file used in a clip (seconds at the source)."""

    file: Path
    offset: float
    duration: float


@dataclass(frozen=True)
class CutClip:
    """A clip ``wave`` ``[L]`` cut from ``excerpts``; ``group``: its source recording key (``None``: its files)."""

    wave: torch.Tensor
    excerpts: tuple[Excerpt, ...]
    group: str | None


class ClipSink(Protocol):
    """Where clips go as they are cut (:class:`~audiospec.data.staging.CorpusWriter`), each under a key."""

    def stage(self, label: ClipLabel, key: Hashable, clip: CutClip) -> None: ...


def trim_silence(wave: torch.Tensor, *, sample_rate: int, top_db: float) -> tuple[int, int]:
    """``(start, stop)`` sample indices of ``[L]`` without leading/trailing silence (10 ms frames).

    A frame is silent when its RMS is more than ``top_db`` below the loudest frame's;
    ``(0, 0)`` for an all-silent waveform.
    """
    frame = max(1, sample_rate // 100)
    n_frames = math.ceil(wave.shape[-1] / frame)
    padded = torch.nn.functional.pad(wave, (0, n_frames * frame - wave.shape[-1]))
    rms = padded.reshape(n_frames, frame).pow(2).mean(dim=-1).sqrt()  # [n_frames]
    loudest = float(rms.max())
    if loudest == 0.0:
        return 0, 0
    loud = torch.nonzero(rms > loudest * 10 ** (-top_db / 20)).flatten()
    start, stop = int(loud[0]) * frame, min(wave.shape[-1], (int(loud[-1]) + 1) * frame)
    return start, stop


@dataclass(frozen=True)
class _Span:
    """The usable part ``[lo, hi)`` (seconds) of a music track, ``slots`` clips wide; ``rate``: the file's."""

    source: SourceFile
    lo: float
    hi: float
    rate: int
    slots: int


def music_slots(files: Sequence[SourceFile], *, clip_seconds: float) -> list[_Span]:
    """The usable span and slot count of every readable track at least one clip long (headers only)."""
    spans: list[_Span] = []
    for source in files:
        try:
            info = audio_info(source.path)
        except AudiospecError as err:
            warnings.warn(f"skipping music file {str(source.path)!r}: {err}", stacklevel=3)
            continue
        duration = info.duration
        if duration >= MUSIC_HEAD_SKIP_SECONDS + clip_seconds + MUSIC_TAIL_SKIP_SECONDS:
            lo, hi = MUSIC_HEAD_SKIP_SECONDS, duration - MUSIC_TAIL_SKIP_SECONDS
        elif duration >= clip_seconds + 2 * _EDGE_MARGIN_SECONDS:
            lo, hi = _EDGE_MARGIN_SECONDS, duration - _EDGE_MARGIN_SECONDS
        else:
            continue
        spans.append(_Span(source=source, lo=lo, hi=hi, rate=info.sample_rate, slots=int((hi - lo) // clip_seconds)))
    return spans


def _cut_slot(span: _Span, slot: int, *, clip_seconds: float, sample_rate: int) -> CutClip:
    """The clip at the centre of slot ``slot`` of ``span``, reading only that excerpt."""
    length = duration_frames(clip_seconds, sample_rate=sample_rate)
    width = (span.hi - span.lo) / span.slots
    start = span.lo + slot * width + (width - clip_seconds) / 2  # centre of the slot
    first = max(0, math.floor((start - _EDGE_MARGIN_SECONDS) * span.rate))
    frames = math.ceil((clip_seconds + 2 * _EDGE_MARGIN_SECONDS) * span.rate)
    wave, _ = read_audio(span.source.path, sample_rate=sample_rate, mono=True, start=first, frames=frames)
    lead = round((start - first / span.rate) * sample_rate)
    clip = wave[lead: lead + length]
    if clip.shape[-1] < length:
        raise AudiospecError(f"music file {str(span.source.path)!r} ended early at {start:.2f} s; it may be truncated")
    return CutClip(wave=clip, excerpts=(Excerpt(file=span.source.path, offset=start, duration=clip_seconds),),
                   group=span.source.group)


def cut_music(spans: Sequence[_Span], *, n: int, clip_seconds: float, sample_rate: int, sink: ClipSink,
              progress: bool, desc: str) -> tuple[list[tuple[int, int]], list[Path]]:
    """Cut ``n`` clips spread over the tracks into ``sink``; returns their keys ``(track, slot)`` and the silent tracks.

    A track with a (near) silent excerpt is left out and the clips are spread again over
    the others; excerpts already cut are reused (each ``(track, slot)`` is staged once).
    """
    min_rms = 10 ** (MUSIC_MIN_RMS_DB / 20)
    rms: dict[tuple[int, int], float] = {}
    silent: set[int] = set()
    with tqdm(total=n, desc=desc, disable=not progress, leave=False) as bar:
        while True:
            counts = [0 if t in silent else span.slots for t, span in enumerate(spans)]
            if sum(counts) < n:
                raise AudiospecError(
                    f"the music files offer only {sum(counts)} non-overlapping, non-silent {clip_seconds} s clips, "
                    f"fewer than n_per_class={n}; lower n_per_class or clip_seconds, or add music"
                )
            keys = spread_selection(counts, k=n)
            for key in keys:
                if key not in rms:
                    clip = _cut_slot(spans[key[0]], key[1], clip_seconds=clip_seconds, sample_rate=sample_rate)
                    rms[key] = float(clip.wave.pow(2).mean().sqrt())
                    sink.stage("music", key, clip)
                    bar.update(1)
                if rms[key] < min_rms:
                    silent.add(key[0])
                    break
            else:
                return keys, [spans[t].source.path for t in sorted(silent)]


def join_utterances(files: Sequence[SourceFile], *, clip_seconds: float,
                    sample_rate: int) -> tuple[CutClip | None, int]:
    """One clip of the utterances ``files`` in order; returns ``(clip, files used)``, clip ``None`` when not filled.

    Unreadable files are skipped with a warning and all-silent ones are skipped; both count
    as used. The clip's ``group`` is the first file's.
    """
    length = duration_frames(clip_seconds, sample_rate=sample_rate)
    gap = torch.zeros(duration_frames(SPEECH_GAP_SECONDS, sample_rate=sample_rate))
    pieces: list[torch.Tensor] = []
    excerpts: list[Excerpt] = []
    filled = used_files = 0
    for source in files:
        if filled >= length:
            break
        used_files += 1
        try:
            wave, _ = read_audio(source.path, sample_rate=sample_rate, mono=True)
        except AudiospecError as err:
            warnings.warn(f"skipping speech file {str(source.path)!r}: {err}", stacklevel=3)
            continue
        lo, hi = trim_silence(wave, sample_rate=sample_rate, top_db=SPEECH_TRIM_TOP_DB)
        if hi <= lo:
            continue
        if pieces:
            pieces.append(gap)
            filled += gap.shape[-1]
        used = min(hi - lo, max(0, length - filled))
        if used == 0:
            break
        pieces.append(wave[lo: lo + used])
        excerpts.append(Excerpt(file=source.path, offset=lo / sample_rate, duration=used / sample_rate))
        filled += used
    if filled < length:
        return None, used_files
    return CutClip(wave=torch.cat(pieces)[:length], excerpts=tuple(excerpts), group=files[0].group), used_files


def cut_speech_spread(files: Sequence[SourceFile], *, n: int, clip_seconds: float, sample_rate: int,
                      sink: ClipSink, progress: bool, desc: str) -> list[int]:
    """``n`` clips, clip ``i`` from utterance ``floor(i * N / n)`` on (never past the next clip's first); keys ``i``."""
    if len(files) < n:
        raise AudiospecError(f"only {len(files)} speech files for n_per_class={n}; lower n_per_class or add speech")
    starts = spread_indices(len(files), k=n) + [len(files)]
    for i in tqdm(range(n), desc=desc, disable=not progress, leave=False):
        clip, _ = join_utterances(files[starts[i]: starts[i + 1]], clip_seconds=clip_seconds, sample_rate=sample_rate)
        if clip is None:
            raise AudiospecError(
                f"speech clip {i} could not be filled: the utterances {starts[i]}..{starts[i + 1] - 1} hold less "
                f"than {clip_seconds} s of speech; lower n_per_class or clip_seconds, or add speech files"
            )
        sink.stage("speech", i, clip)
    return list(range(n))


def cut_speech_packed(files: Sequence[SourceFile], *, clip_seconds: float, sample_rate: int, sink: ClipSink,
                      progress: bool, desc: str) -> list[int]:
    """Pack each group's utterances (in file order) into consecutive clips; the group's rest, < 1 clip, is left.

    Groups are taken in order of first appearance in ``files``; clip ``j`` of group ``g``
    is staged with key ``(g, j)``. Returns the number of clips of each group.
    """
    groups: dict[str | None, list[SourceFile]] = {}
    for source in files:
        groups.setdefault(source.group, []).append(source)
    counts: list[int] = []
    for g, members in enumerate(tqdm(groups.values(), desc=desc, disable=not progress, leave=False)):
        start = j = 0
        while start < len(members):
            clip, used = join_utterances(members[start:], clip_seconds=clip_seconds, sample_rate=sample_rate)
            if clip is None:
                break
            sink.stage("speech", (g, j), clip)
            start, j = start + used, j + 1
        counts.append(j)
    return counts
