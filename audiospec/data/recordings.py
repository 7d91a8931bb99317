"""Which recording each clip of a corpus comes from: the groups a split by recording keeps together
(:mod:`audiospec.data.split`, whose module doc says how they are found)."""

from __future__ import annotations

import json
import os
from dataclasses import dataclass
from pathlib import Path

from audiospec.data.corpus import SOURCE_SEPARATOR, Corpus
from audiospec.errors import AudiospecError

__all__ = ["MANIFEST_NAME", "Grouping", "clip_files", "recording_groups", "source_groups"]

MANIFEST_NAME = "manifest.json"
"""File name of a prepared corpus's manifest, looked for beside the source files."""

_CORPUS_NAMES = ("audiospec-mini", "audiospec-debian")  # the "name" of a manifest written by prepare_mini / _debian
_SHOWN = 5  # items quoted in an error message


def _clip_file(source: str) -> str:
    """The file part of a ``"<file>@<offset>s"`` provenance string (the whole string without ``@``)."""
    return source.rsplit("@", 1)[0] if "@" in source else source


def clip_files(source: str) -> list[str]:
    """The files a clip was cut from: one, or every file of a clip joined from short files (provenance parts
    separated by :data:`~audiospec.data.corpus.SOURCE_SEPARATOR`)."""
    return [_clip_file(part) for part in source.split(SOURCE_SEPARATOR)]


def _manifest_originals(path: Path) -> dict[Path, list[str]]:
    """``{resolved cut file: [original recordings it was cut from]}`` from a corpus ``manifest.json``.

    A clip's ``group`` (a ``debian`` manifest) is its one recording; otherwise its source files are.
    """
    try:
        data = json.loads(Path(path).read_text())
    except (OSError, UnicodeDecodeError, json.JSONDecodeError) as err:
        raise AudiospecError(
            f"could not read the corpus manifest {str(path)!r}: {err}; pass the manifest.json written by "
            "prepare_mini or prepare_debian"
        ) from err
    clips = data.get("clips") if isinstance(data, dict) else None
    if not isinstance(clips, list):
        raise AudiospecError(
            f"{str(path)!r} is not a prepared corpus manifest (no 'clips' list); "
            "pass the manifest.json written by prepare_mini or prepare_debian, or manifest=None"
        )
    originals: dict[Path, list[str]] = {}
    for index, entry in enumerate(clips):
        try:
            files = [str(entry["group"])] if "group" in entry else [str(source["file"]) for source in entry["sources"]]
            cut = Path(path).parent / str(entry["file"])
        except (KeyError, TypeError) as err:
            raise AudiospecError(
                f"{str(path)!r}: clips[{index}] = {entry!r} lacks 'file' or 'sources[].file'; "
                "re-create the corpus with `audiospec prepare`"
            ) from err
        if not files:
            raise AudiospecError(f"{str(path)!r}: clips[{index}] ({entry['file']!r}) lists no source recording")
        originals[cut.resolve()] = files
    return originals


_RECREATE = "re-create the corpus (delete {folder!r}, then `audiospec prepare`)"


def _is_prepared_corpus(folder: Path) -> bool:
    """``folder`` holds a corpus cut by ``prepare_mini`` / ``_debian``, which always has a manifest (its marker names
    the folders it was cut from; a GTZAN marker names an archive)."""
    try:
        marker = json.loads((folder / ".completed").read_text())
    except (OSError, UnicodeDecodeError, json.JSONDecodeError):
        return False
    return isinstance(marker, dict) and ({"music_dir", "speech_dir"} <= set(marker) or "package_root" in marker)


def _find_manifest(files: list[str]) -> Path | None:
    """A prepared corpus's ``manifest.json`` in the common parent folder of ``files`` (or the folder above it).

    A manifest that exists but does not parse is an error, and so is a prepared corpus without one: either way
    the cut files of one recording could not be kept together, and the split would leak.
    """
    try:
        parent = Path(os.path.commonpath([str(Path(f).resolve().parent) for f in files]))
    except ValueError:  # no common folder (e.g. different drives)
        return None
    for folder in (parent, parent.parent):
        candidate = folder / MANIFEST_NAME
        if candidate.exists() or candidate.is_symlink():
            try:
                data = json.loads(candidate.read_text())
            except (OSError, UnicodeDecodeError, json.JSONDecodeError) as err:
                raise AudiospecError(
                    f"{str(candidate)!r} exists but cannot be read ({err}): it would say which clips share a "
                    f"recording, and without it the split could put one recording in train and test; "
                    + _RECREATE.format(folder=str(folder)) + ", or rename the file if it is not a corpus manifest"
                ) from None
            if isinstance(data, dict) and data.get("name") in _CORPUS_NAMES:
                return candidate
        elif _is_prepared_corpus(folder):
            raise AudiospecError(
                f"the prepared corpus in {str(folder)!r} has no {MANIFEST_NAME}: it lists the recordings each clip "
                "was "
                "cut from, and without it the split could put one recording in train and test; "
                + _RECREATE.format(folder=str(folder))
            )
    return None


def _connected(originals: list[list[str]]) -> list[str]:
    """Group key per clip: clips sharing any original file are joined; the key is the component's first file."""
    root: dict[str, str] = {}

    def find(name: str) -> str:
        while root.setdefault(name, name) != name:
            root[name] = root[root[name]]  # path halving
            name = root[name]
        return name

    for files in originals:
        for other in files[1:]:
            a, b = find(files[0]), find(other)
            root[max(a, b)] = min(a, b)  # the smaller name is the root, so the key is the component's minimum
    return [find(files[0]) for files in originals]


@dataclass(frozen=True)
class Grouping:
    """How the clips of a corpus were grouped into recordings: ``keys`` (one per clip) and, in words, on what basis
    (recorded beside every split, so a result says how its split was made)."""

    keys: list[str]
    basis: str

    def record(self) -> dict[str, object]:  # the JSON form written beside a split
        return {"basis": self.basis, "n_groups": len(set(self.keys))}


def recording_groups(corpus: Corpus, *, manifest: Path | None = None) -> Grouping:
    """:func:`source_groups` with the basis it used (a corpus manifest, or one group per source file); clips joined
    from several short files join those files' groups."""
    if not isinstance(corpus, Corpus):
        raise AudiospecError(f"corpus must be a Corpus, got {type(corpus).__name__}")
    files = [clip_files(s) for s in corpus.sources]
    if manifest is None:
        manifest = _find_manifest([f for per_clip in files for f in per_clip]) if files else None
        if manifest is None:
            return Grouping(keys=_connected(files) if files else [], basis="one group per source file (no manifest "
                            "beside the files); pin files cut from one recording to one split with split_file")
    originals = _manifest_originals(Path(manifest))
    missing = sorted({f for per_clip in files for f in per_clip if Path(f).resolve() not in originals})
    if missing:
        raise AudiospecError(
            f"{len(missing)} clip file(s) are not listed in the corpus manifest {str(manifest)!r}: "
            f"{missing[:_SHOWN]}; re-create the corpus with `audiospec prepare`, or pass the manifest of this corpus"
        )
    keys = _connected([[o for f in per_clip for o in originals[Path(f).resolve()]] for per_clip in files])
    return Grouping(keys=keys, basis=f"the original recordings listed in {str(manifest)!r}")


def source_groups(corpus: Corpus, *, manifest: Path | None = None) -> list[str]:
    """The group key of each clip: the original recording it was cut from.

    Default: the file part of ``corpus.sources`` (before the last ``@``), one group per file,
    right for GTZAN and folder datasets. With a prepared corpus's manifest (``manifest``, or
    a ``manifest.json`` written by :func:`~audiospec.data.mini.prepare_mini` or
    :func:`~audiospec.data.debian.prepare_debian` found in the common parent folder of the
    source files or the folder above it) each cut file is mapped to the original recordings
    listed for it (``clips[i].group`` when given, else ``clips[i].sources[j].file``); cut
    files that share an original recording (two excerpts of one Wesnoth track) get the same
    key, the first (sorted) original of the connected set. A ``mini`` speech cut file
    concatenates several utterances that no other cut file uses, so it is a group of its
    own; a ``debian`` one shares its group with the other clips of its speaker and level.

    Args:
        corpus: the clips, with their ``sources``.
        manifest: a mini corpus ``manifest.json`` (default: found beside the source files).

    Returns:
        ``N`` group keys, one per clip of ``corpus``.

    Raises:
        AudiospecError: an unreadable or malformed manifest (also one found beside the files), a
            prepared corpus without its manifest, or a clip file the manifest does not list.
    """
    return recording_groups(corpus, manifest=manifest).keys
