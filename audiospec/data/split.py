"""Train / validation / test splits of a :class:`~audiospec.data.corpus.Corpus`, grouped by recording.

Clips cut from one original recording are alike (same piece, same room, same voice), so a
clip in train and a clip of the same recording in test would leak. Every clip therefore
gets a *group*, the recording it came from (:func:`source_groups`), and a whole group goes
to one split (:func:`split_corpus`); :func:`check_disjoint` asserts it afterwards.

- GTZAN and folder datasets: the group is the file the clip was cut from (the part of
  :attr:`Corpus.sources` before ``@``).
- The prepared corpora ``mini`` and ``debian``: their cut files ``music/NNN.wav`` and
  ``speech/NNN.wav`` are themselves cut from Debian recordings; ``manifest.json`` lists,
  per cut file, the original files and offsets (``clips[i].sources[j].file``). Cut files
  that share an original recording (two excerpts of one Wesnoth track) share a group. A
  ``debian`` clip also names its recording (``clips[i].group``: a track with its remakes,
  one speaker's lines in one level), and that is its group.

Typical use::

    from audiospec.data import DataConfig, load_corpus
    from audiospec.data.split import check_disjoint, split_corpus

    splits = split_corpus(load_corpus(DataConfig(dataset="mini")), seed=0)
    check_disjoint(splits)
    splits["train"].waveforms  # [N_train, L]
"""

from __future__ import annotations

import math
from collections.abc import Mapping, Sequence
from pathlib import Path, PurePosixPath
from typing import Literal, get_args

import torch

from audiospec.data.corpus import Corpus
from audiospec.data.recordings import MANIFEST_NAME, Grouping, clip_files, recording_groups, source_groups
from audiospec.errors import AudiospecError

__all__ = ["MANIFEST_NAME", "SPLIT_NAMES", "Grouping", "SplitName", "check_disjoint", "clip_files", "recording_groups",
           "source_groups", "split_corpus"]  # the grouping by recording is re-exported from audiospec.data.recordings

SplitName = Literal["train", "validation", "test"]
SPLIT_NAMES: tuple[SplitName, ...] = get_args(SplitName)
_SHOWN = 5  # items quoted in an error message


def _check_fractions(fractions: Sequence[float]) -> tuple[float, float, float]:
    """``fractions`` as three positive floats summing to 1, else an error."""
    items = list(fractions) if isinstance(fractions, (list, tuple)) else None
    if items is None or len(items) != len(SPLIT_NAMES) or any(
            isinstance(f, bool) or not isinstance(f, (int, float)) for f in items):
        raise AudiospecError(
            f"fractions must be three numbers (train, validation, test), got {fractions!r}; e.g. (0.7, 0.15, 0.15)"
        )
    train, validation, test = (float(f) for f in items)
    if not all(math.isfinite(f) and f > 0 for f in (train, validation, test)) or abs(
            train + validation + test - 1.0) > 1e-6:
        raise AudiospecError(
            f"fractions must be positive and sum to 1, got {fractions!r} (sum {train + validation + test:g}); "
            "e.g. (0.7, 0.15, 0.15)"
        )
    return train, validation, test


def _class_groups(labels: Sequence[str], groups: Sequence[str]) -> dict[str, dict[str, int]]:
    """``{label: {group: number of clips}}`` (sorted); a group with two labels is an error."""
    label_of: dict[str, str] = {}
    sizes: dict[str, dict[str, int]] = {}
    for label, group in zip(labels, groups):
        if label_of.setdefault(group, label) != label:
            raise AudiospecError(
                f"recording {group!r} has clips labelled {label_of[group]!r} and {label!r}; a recording must have "
                "one label: fix the labels, or pass groups= that separate them"
            )
        sizes.setdefault(label, {}).setdefault(group, 0)
        sizes[label][group] += 1
    for label, per_group in sizes.items():
        if len(per_group) < len(SPLIT_NAMES):
            raise AudiospecError(
                f"class {label!r} has clips from {len(per_group)} recording(s) ({sorted(per_group)[:_SHOWN]}), but a "
                f"train/validation/test split needs at least {len(SPLIT_NAMES)} recordings per class, so that each "
                f"split gets one and no recording is in two splits; add recordings of {label!r} or drop the class"
            )
    return {label: dict(sorted(sizes[label].items())) for label in sorted(sizes)}


def _read_split_file(path: Path) -> list[tuple[int, str, SplitName]]:
    """``(line number, file or group, split)`` per entry of a ``<file or group>,<split>`` file.

    Blank lines and ``#`` comments are skipped, and so is a first line whose split field is
    ``split`` (a CSV header such as ``file,split``).
    """
    try:
        lines = Path(path).read_text().splitlines()
    except (OSError, UnicodeDecodeError) as err:
        raise AudiospecError(f"could not read split_file {str(path)!r}: {err}; check the path") from err
    entries: list[tuple[int, str, SplitName]] = []
    first = True
    for number, raw in enumerate(lines, start=1):
        line = raw.strip()
        if not line or line.startswith("#"):
            continue
        name, _, split = (part.strip() for part in line.rpartition(","))
        if first and split.lower() == "split":
            first = False
            continue
        first = False
        if not name:
            raise AudiospecError(
                f"{path}:{number}: expected '<file or group>,<split>', got {raw!r}; e.g. 'blues/blues.00000.wav,test'"
            )
        if split not in SPLIT_NAMES:
            raise AudiospecError(
                f"{path}:{number}: unknown split {split!r} in {raw!r}; the splits are {list(SPLIT_NAMES)}"
            )
        entries.append((number, name, split))  # type: ignore[arg-type]
    return entries


def _suffixes(name: str) -> list[tuple[str, ...]]:
    """Every trailing run of path parts of ``name``: ``a/b/c`` -> ``(a, b, c), (b, c), (c,)``."""
    parts = PurePosixPath(name.replace("\\", "/")).parts
    return [parts[i:] for i in range(len(parts))]


def _pinned(path: Path, sources: Sequence[str], groups: Sequence[str]) -> dict[str, SplitName]:
    """``{group: split}`` from a split file; a name matches a group key or clip file, or a trailing part of one."""
    index: dict[tuple[str, ...], set[str]] = {}
    for source, group in zip(sources, groups):
        for name in (group, *clip_files(source)):
            for suffix in _suffixes(name):
                index.setdefault(suffix, set()).add(group)
    pinned: dict[str, tuple[SplitName, int]] = {}
    for number, name, split in _read_split_file(path):
        found = index.get(tuple(PurePosixPath(name.replace("\\", "/")).parts), set())
        if not found:
            raise AudiospecError(
                f"{path}:{number}: {name!r} is neither a file nor a recording of the corpus; use a path as in "
                f"corpus.sources (or its end, e.g. 'blues/blues.00000.wav') or a group key, e.g. {groups[0]!r}"
            )
        if len(found) > 1:
            raise AudiospecError(
                f"{path}:{number}: {name!r} matches {len(found)} recordings ({sorted(found)[:_SHOWN]}); "
                "write more of its path"
            )
        group = next(iter(found))
        previous = pinned.setdefault(group, (split, number))
        if previous[0] != split:
            raise AudiospecError(
                f"{path}:{number}: {name!r} puts recording {group!r} in {split!r}, but line {previous[1]} put it in "
                f"{previous[0]!r}; a recording goes to one split"
            )
    return {group: split for group, (split, _) in pinned.items()}


def _assign_class(sizes: dict[str, int], *, fractions: tuple[float, float, float], pinned: dict[str, SplitName],
                  generator: torch.Generator) -> dict[str, SplitName]:
    """Split one class's groups (``{group: clips}``): pinned ones as given, the rest greedily.

    The free groups are shuffled with ``generator``, then taken largest first (ties in
    shuffled order); each goes to the split furthest below its target ``fraction * clips``
    (ties: train, validation, test), except that when as few groups are left as splits
    without a group, they go to those splits, so each split gets at least one.
    """
    target = {s: f * sum(sizes.values()) for s, f in zip(SPLIT_NAMES, fractions)}
    assignment = {g: s for g, s in pinned.items() if g in sizes}
    count = {s: sum(sizes[g] for g, p in assignment.items() if p == s) for s in SPLIT_NAMES}
    free = [g for g in sizes if g not in assignment]
    order = [free[i] for i in torch.randperm(len(free), generator=generator).tolist()]
    order.sort(key=lambda g: -sizes[g])  # stable: equal sizes keep the shuffled order
    for k, group in enumerate(order):
        empty = [s for s in SPLIT_NAMES if s not in assignment.values()]
        candidates = empty if len(order) - k <= len(empty) else list(SPLIT_NAMES)
        best = max(candidates, key=lambda s: target[s] - count[s])  # first of equal deficits
        assignment[group] = best
        count[best] += sizes[group]
    return assignment


def split_corpus(
    corpus: Corpus,
    *,
    fractions: Sequence[float] = (0.7, 0.15, 0.15),
    seed: int = 0,
    groups: Sequence[str] | None = None,
    split_file: Path | None = None,
) -> dict[SplitName, Corpus]:
    """Split ``corpus`` into train / validation / test by recording, stratified by class.

    Each class is split on its own (classes in sorted order, one ``torch.Generator`` seeded
    with ``seed``): its groups (recordings) are shuffled, taken largest first, and each goes
    to the split furthest below ``fraction * (clips of the class)``, every split getting at
    least one group of every class. All clips of a group go to one split, so no recording
    is in two splits; with equal-sized groups each split's clip count is within one group of
    its target. ``split_file`` (lines ``<file or group>,<split>``; ``#`` comments, blank
    lines and a ``file,split`` header allowed) fixes the split of the groups it names, e.g.
    an official split; a name is a clip file as in ``corpus.sources``, a group key, or the
    end of either's path (``blues/blues.00000.wav``); the other groups are split as above.

    Args:
        corpus: clips ``[N, L]`` with labels and sources.
        fractions: (train, validation, test), positive, summing to 1.
        seed: seeds the shuffle; the same seed and corpus give the same split.
        groups: ``N`` group keys (default :func:`source_groups`, which reads a corpus manifest
            beside the files when there is one).
        split_file: optional fixed assignment.

    Returns:
        ``{"train": Corpus, "validation": Corpus, "test": Corpus}``, clips in corpus order,
        built with :meth:`Corpus.take` so the other fields (``skipped``,
        ``source_rates``, ...) are kept.

    Raises:
        AudiospecError: bad fractions or seed, a class with fewer than 3 recordings, a group
            with two labels, a bad split-file line (named with its number), or a split file
            that leaves a split without any recording of a class.
    """
    if not isinstance(corpus, Corpus):
        raise AudiospecError(f"corpus must be a Corpus, got {type(corpus).__name__}")
    shares = _check_fractions(fractions)
    if isinstance(seed, bool) or not isinstance(seed, int):
        raise AudiospecError(f"seed must be an integer, got {seed!r}")
    keys = list(groups) if groups is not None else source_groups(corpus)
    if len(keys) != len(corpus):
        raise AudiospecError(f"groups has {len(keys)} keys for a corpus of {len(corpus)} clips; give one per clip")
    per_class = _class_groups(corpus.labels, keys)
    pinned = _pinned(split_file, corpus.sources, keys) if split_file is not None else {}
    generator = torch.Generator().manual_seed(seed)
    split_of: dict[str, SplitName] = {}
    for label, sizes in per_class.items():
        assigned = _assign_class(sizes, fractions=shares, pinned=pinned, generator=generator)
        lacking = [s for s in SPLIT_NAMES if s not in assigned.values()]
        if lacking:
            raise AudiospecError(
                f"split_file {str(split_file)!r} leaves no recording of class {label!r} for {lacking}; "
                f"assign at least one {label!r} recording to each split, or list fewer of them"
            )
        split_of.update(assigned)
    return {split: corpus.take([i for i, g in enumerate(keys) if split_of[g] == split]) for split in SPLIT_NAMES}


def check_disjoint(
    splits: Mapping[str, Corpus],
    *,
    groups: Mapping[str, Sequence[str]] | None = None,
    manifest: Path | None = None,
) -> None:
    """Raise unless no recording (group) has clips in two splits.

    Args:
        splits: ``{split name: Corpus}``, e.g. the result of :func:`split_corpus`.
        groups: ``{split name: group key per clip}``; default :func:`source_groups` of each
            split (with ``manifest``). Pass the keys used for :func:`split_corpus` when it was
            given custom ``groups``.
        manifest: the corpus manifest for :func:`source_groups`.

    Raises:
        AudiospecError: naming the recordings found in two splits, and which splits.
    """
    home: dict[str, str] = {}
    clashes: list[str] = []
    for name, split in splits.items():
        keys = list(groups[name]) if groups is not None else source_groups(split, manifest=manifest)
        if len(keys) != len(split):
            raise AudiospecError(f"groups[{name!r}] has {len(keys)} keys for {len(split)} clips; give one per clip")
        for key in dict.fromkeys(keys):
            if home.setdefault(key, name) != name:
                clashes.append(f"{key!r} in {home[key]!r} and {name!r}")
    if clashes:
        raise AudiospecError(
            f"{len(clashes)} recording(s) have clips in two splits, which leaks between them: "
            f"{'; '.join(clashes[:_SHOWN])}; split by recording with split_corpus"
        )
