"""What a stage consumed, recorded in its folder and checked before it writes anything (issue 22).

A stage's :class:`Fingerprint` holds the resolved settings it ran with (``{"data": ..., "compare": ...}``), a
sha256 of the clips it loaded (provenance, labels and samples) and one of its split (the provenance of the
train, validation and test clips). Each stage writes it to ``<stage folder>/fingerprint.json`` first, and before
that checks it against

- its own folder's (what a resumed stage reuses there, models, points or a classifier, was made from the same
  inputs; e.g. ``curve`` into a folder made with other data refuses instead of reusing its points), and
- the fingerprint of the stage whose output it reads (``probe`` and ``baselines`` read the compare stage's
  models, classifier and metric rows: the settings those depend on, the clips and the split must be the same;
  so every stage's test split is the compare stage's).

Only the settings named by a check are compared (``keys``, dotted section paths such as ``"compare.train"``,
minus ``ignore``); a difference is an :class:`AudiospecError` naming each key, its value there and here, and the
fix. A compare folder written before fingerprints were recorded is read from its ``config.yaml`` and
``splits.json`` (no clips digest: the split's provenance stands in for it).
"""

from __future__ import annotations

import hashlib
import json
import os
from dataclasses import dataclass
from pathlib import Path
from typing import Any, Mapping, Sequence

import torch

from audiospec.atomic import write_json
from audiospec.config import config_from_dict, config_to_dict, read_yaml
from audiospec.data import Corpus
from audiospec.data.short_files import SOURCE_SEPARATOR
from audiospec.errors import AudiospecError
from audiospec.experiments.results import read_json

__all__ = ["FINGERPRINT_NAME", "LOCATION_KEYS", "Fingerprint", "check_inputs", "clips_digest", "read_fingerprint", "split_digest"]

FINGERPRINT_NAME = "fingerprint.json"
_SPLITS = ("train", "validation", "test")
_MISSING = object()


LOCATION_KEYS = ("data.data_dir",)
"""Settings never compared: where a dataset is cached is not what it holds (the clips digest says that)."""


def _sha256(value: Any) -> str:
    return hashlib.sha256(json.dumps(value, sort_keys=True).encode("utf-8")).hexdigest()


def _files(source: str) -> list[str]:
    """The real path of every file a clip's provenance names (a joined clip names several)."""
    return [os.path.realpath(part.rpartition("@")[0] or part) for part in source.split(SOURCE_SEPARATOR)]


def _root(sources: Sequence[str]) -> str:
    """The folder that holds every file of ``sources``: the dataset's location, left out of the digests."""
    folders = [os.path.dirname(file) for source in sources for file in _files(source)]
    return os.path.commonpath(folders) if folders else ""


def _canonical(source: str, root: str | None = None) -> str:
    """A clip's provenance with each file as its real path, relative to ``root`` when given (so ``data/mini``,
    ``/abs/data/mini`` and a copy of the folder elsewhere agree)."""
    parts = []
    for part, file in zip(source.split(SOURCE_SEPARATOR), _files(source)):
        shown = os.path.relpath(file, root) if root else file
        parts.append(f"{shown}@{part.rpartition('@')[2]}" if "@" in part else shown)
    return SOURCE_SEPARATOR.join(parts)


def _clips_hashes(corpus: Corpus) -> tuple[str, str]:
    """(location-free, legacy absolute-path) sha256 of a corpus (:func:`clips_digest`)."""
    root = _root(corpus.sources)
    hashes = [hashlib.sha256(json.dumps([corpus.sample_rate, [_canonical(s, base) for s in corpus.sources],
                                         corpus.labels]).encode("utf-8")) for base in (root, None)]
    samples = [corpus.waveforms.detach().to("cpu").contiguous().numpy().tobytes()]
    if corpus.log_mel is not None:
        samples += [repr(corpus.mel).encode("utf-8"),
                    corpus.log_mel.detach().to("cpu", torch.float32).contiguous().numpy().tobytes()]
    for h in hashes:
        for chunk in samples:
            h.update(chunk)
    return hashes[0].hexdigest(), hashes[1].hexdigest()


def clips_digest(corpus: Corpus, *, legacy: bool = False) -> str:
    """sha256 of a corpus: sample rate, provenance (relative to the folder holding the dataset, so a moved or copied
    dataset keeps its digest) and label of every clip, and the clips' float32 samples (or, for a corpus loaded from
    a log-mel cache, its log-mel spectrograms and their mel settings). ``legacy``: with absolute paths, as
    fingerprints before 2026-12-05 recorded it."""
    return _clips_hashes(corpus)[1 if legacy else 0]


def split_digest(sources: Mapping[str, Sequence[str]], *, legacy: bool = False) -> str:
    """sha256 of a split: the provenance of the clips of each of train, validation and test, in order (relative
    to the folder holding them all; ``legacy``: absolute, as before 2026-12-05)."""
    root = None if legacy else _root([source for name in _SPLITS for source in sources[name]])
    return _sha256({name: [_canonical(s, root) for s in sources[name]] for name in _SPLITS})


@dataclass(frozen=True)
class Fingerprint:
    """What a stage consumed: resolved ``settings`` (plain mapping), ``clips`` and ``split`` digests ("" =
    unknown, not compared); ``legacy``: the same two digests with absolute paths, as fingerprints recorded before
    2026-12-05, which a recorded fingerprint may match instead."""

    stage: str
    settings: dict[str, Any]
    clips: str = ""
    split: str = ""
    legacy: tuple[str, str] = ("", "")  # the clips and split digests with absolute paths (accepted, never written)

    @classmethod
    def of(cls, stage: str, config: Any, *, corpus: Corpus, split: Mapping[str, Sequence[str]] | None = None
           ) -> "Fingerprint":
        """The fingerprint of a stage run with ``config`` (its run config dataclass) on ``corpus`` and ``split``."""
        clips, clips_legacy = _clips_hashes(corpus)
        return cls(stage=stage, settings=config_to_dict(config), clips=clips,
                   split=split_digest(split) if split is not None else "",
                   legacy=(clips_legacy, split_digest(split, legacy=True) if split is not None else ""))

    def write(self, folder: Path) -> None:
        write_json(Path(folder) / FINGERPRINT_NAME, {"stage": self.stage, "settings": self.settings,
                                                      "clips": self.clips, "split": self.split})

    def differences(self, there: "Fingerprint", *, keys: Sequence[str], ignore: Sequence[str] = ()) -> list[str]:
        """What differs between ``there`` (a recorded fingerprint) and this one, within ``keys`` minus ``ignore``."""
        out = [f"the {part} ({getattr(there, part)[:12]} there, {getattr(self, part)[:12]} here)"
               for part, old in zip(("clips", "split"), self.legacy) if getattr(self, part) and getattr(there, part)
               and getattr(there, part) not in (getattr(self, part), old)]
        mine, theirs = _leaves(self.settings), _leaves(there.settings)
        for key in sorted(set(mine) | set(theirs)):
            skipped = _under(key, ignore) or _under(key, LOCATION_KEYS)
            if _under(key, keys) and not skipped and mine.get(key, _MISSING) != theirs.get(key, _MISSING):
                out.append(f"{key}: {_shown(theirs.get(key, _MISSING))} there, {_shown(mine.get(key, _MISSING))} here")
        return out


def _leaves(value: Any, prefix: str = "") -> dict[str, Any]:
    """A nested mapping flattened to dotted keys (lists stay values)."""
    if not isinstance(value, dict):
        return {prefix: value}
    out: dict[str, Any] = {}
    for key, item in value.items():
        out.update(_leaves(item, f"{prefix}.{key}" if prefix else str(key)))
    return out


def _under(key: str, roots: Sequence[str]) -> bool:
    return any(key == root or key.startswith(root + ".") for root in roots)


def _shown(value: Any) -> str:
    return "(not set)" if value is _MISSING else repr(value)


def read_fingerprint(folder: Path, *, legacy: type | None = None) -> Fingerprint | None:
    """The fingerprint recorded in ``folder``; for a folder from before fingerprints, with ``legacy`` (the stage's
    run config class), one read from its ``config.yaml`` and ``splits.json``; None when there is none."""
    folder = Path(folder)
    path = folder / FINGERPRINT_NAME
    if path.is_file():
        data = read_json(path)
        if not (isinstance(data, dict) and isinstance(data.get("settings"), dict)):
            raise AudiospecError(f"{str(path)!r} is not a stage fingerprint (no settings); re-run the stage that "
                                 f"wrote {str(folder)!r}, into a new folder")
        return Fingerprint(stage=str(data.get("stage", "")), settings=data["settings"],
                           clips=str(data.get("clips") or ""), split=str(data.get("split") or ""))
    if legacy is None or not (folder / "config.yaml").is_file() or not (folder / "splits.json").is_file():
        return None
    settings = config_to_dict(config_from_dict(legacy, read_yaml(folder / "config.yaml"),
                                               where=str(folder / "config.yaml")))
    splits = read_json(folder / "splits.json")
    if not (isinstance(splits, dict) and all(isinstance(splits.get(name), list) for name in _SPLITS)):
        raise AudiospecError(f"{str(folder / 'splits.json')!r} lacks the train, validation and test lists; re-run "
                             "the stage that wrote it")
    return Fingerprint(stage=folder.name, settings=settings, split=split_digest(splits))


def check_inputs(here: Fingerprint, there: Fingerprint | None, *, keys: Sequence[str], ignore: Sequence[str] = (),
                 what: str, fix: str) -> None:
    """Raise, naming every difference, unless ``there`` (None: nothing recorded, nothing to check) matches
    ``here`` within ``keys``. ``what`` says whose fingerprint ``there`` is, ``fix`` what to do about it."""
    if there is None:
        return
    changed = here.differences(there, keys=keys, ignore=ignore)
    if changed:
        shown = "; ".join(changed[:6]) + (f"; ... ({len(changed) - 6} more)" if len(changed) > 6 else "")
        raise AudiospecError(f"{what} was made from other inputs than this {here.stage} run: {shown}; {fix}")
