"""GTZAN music/speech and GTZAN genres (Tzanetakis): archive, folder or hub sources.

Prepared layouts under ``data_dir/<name>/`` (the returned root holds one sub-folder per class):

- archive / URL source: ``music_speech/{music_wav,speech_wav}/*.wav`` (labels ``music``,
  ``speech``: the ``_wav`` suffix is dropped) or ``genres/<genre>/<genre>.000NN.wav``;
- hub / parquet source: ``hf-<owner>--<name>[-<split>][-by-<label column>]/<label>/*``
  (see :mod:`audiospec.data.hub`; a local parquet folder gives ``hf-local-<folder>-<hash>...``);
- extracted folder source: the folder itself (found by its class sub-folders), used in place.

Each prepared root holds a ``.completed`` marker (JSON); when it exists nothing is done.
The default sources are the archive URLs below with their published SHA-256; any other
archive is accepted with a warning if its checksum differs from the official one.
"""

from __future__ import annotations

import hashlib
import shutil
import warnings
from dataclasses import dataclass
from pathlib import Path
from urllib.parse import urlsplit

from audiospec.atomic import write_json
from audiospec.data.archive import extract_tar
from audiospec.data.audio import AUDIO_EXTENSIONS
from audiospec.data.config import HUB_PREFIX
from audiospec.data.download import download_file, sha256_of
from audiospec.data.hub import download_hub_snapshot, export_hub_dataset
from audiospec.data.source import Source, parse_source
from audiospec.errors import AudiospecError

__all__ = [
    "GTZAN_DATASETS",
    "GTZAN_GENRES",
    "GTZAN_GENRES_SHA256",
    "GTZAN_GENRES_URL",
    "GTZAN_MUSIC_SPEECH_SHA256",
    "GTZAN_MUSIC_SPEECH_SIZE",
    "GTZAN_MUSIC_SPEECH_URL",
    "GtzanSpec",
    "known_corrupt",
    "prepare_gtzan",
]

GTZAN_MUSIC_SPEECH_URL = "http://opihi.cs.uvic.ca/sound/music_speech.tar.gz"
GTZAN_MUSIC_SPEECH_SHA256 = "8753bc4129fc0a916d6efcf25dbcaf30e06b41acb44ad7c3d0b5c9d9c90ff546"
GTZAN_MUSIC_SPEECH_SIZE = 297_055_930
GTZAN_GENRES_URL = "http://opihi.cs.uvic.ca/sound/genres.tar.gz"
GTZAN_GENRES_SHA256 = "24347e0223d2ba798e0a558c4c172d9d4a19c00bb7963fe055d183dadb4ef2c6"
GTZAN_GENRES: tuple[str, ...] = (
    "blues", "classical", "country", "disco", "hiphop", "jazz", "metal", "pop", "reggae", "rock",
)


@dataclass(frozen=True)
class GtzanSpec:
    """Where a GTZAN dataset lives and how its extracted folder is laid out.

    Attributes:
        name: dataset name (``DataConfig.dataset``).
        url: default archive URL.
        sha256: published checksum of that archive.
        size: its size in bytes (None when not published).
        archive_name: file name the archive is saved under in ``data_dir/<name>/``.
        root_name: the folder inside the archive whose sub-folders are the classes.
        class_folders: sub-folder names that identify the layout.
        min_class_folders: how many of them must be present to accept a folder.
        label_suffix: dropped from folder names to give labels.
        known_corrupt: file names skipped (with a specific warning) when loading.
    """

    name: str
    url: str
    sha256: str
    size: int | None
    archive_name: str
    root_name: str
    class_folders: tuple[str, ...]
    min_class_folders: int
    label_suffix: str
    known_corrupt: tuple[str, ...]


GTZAN_DATASETS: dict[str, GtzanSpec] = {
    "gtzan-music-speech": GtzanSpec(
        name="gtzan-music-speech", url=GTZAN_MUSIC_SPEECH_URL, sha256=GTZAN_MUSIC_SPEECH_SHA256,
        size=GTZAN_MUSIC_SPEECH_SIZE, archive_name="music_speech.tar.gz", root_name="music_speech",
        class_folders=("music_wav", "speech_wav"), min_class_folders=2, label_suffix="_wav", known_corrupt=(),
    ),
    "gtzan-genres": GtzanSpec(
        name="gtzan-genres", url=GTZAN_GENRES_URL, sha256=GTZAN_GENRES_SHA256, size=None,
        archive_name="genres.tar.gz", root_name="genres", class_folders=GTZAN_GENRES, min_class_folders=1,
        label_suffix="", known_corrupt=("jazz.00054.wav",),
    ),
}


def known_corrupt(name: str, path: Path) -> bool:
    """True when ``path`` is a file of dataset ``name`` known to be corrupt (GTZAN ``jazz.00054.wav``)."""
    spec = GTZAN_DATASETS.get(name)
    return spec is not None and any(path.name.endswith(bad) for bad in spec.known_corrupt)


def _is_layout_root(folder: Path, spec: GtzanSpec) -> bool:
    present = [c for c in spec.class_folders if (folder / c).is_dir()
               and any(p.suffix.lower() in AUDIO_EXTENSIONS for p in (folder / c).iterdir())]
    return len(present) >= spec.min_class_folders


def _find_layout_root(base: Path, spec: GtzanSpec, *, depth: int = 3) -> Path | None:
    """The shallowest folder under ``base`` (``base`` included) laid out like ``spec``."""
    level = [base]
    for _ in range(depth + 1):
        for folder in level:
            if _is_layout_root(folder, spec):
                return folder
        level = sorted(child for folder in level for child in folder.iterdir()
                       if child.is_dir() and not child.name.startswith("."))
    return None


def _layout_error(spec: GtzanSpec, where: Path) -> AudiospecError:
    top = sorted(p.name for p in where.iterdir())[:10] if where.is_dir() else []
    return AudiospecError(
        f"{str(where)!r} is not laid out like {spec.name} (expected {spec.root_name}/ with sub-folders "
        f"{list(spec.class_folders[:4])}{'...' if len(spec.class_folders) > 4 else ''} holding audio files; "
        f"found {top}); pass the original archive or its extracted folder"
    )


def _hub_slug(source: Source, split: str | None, label_column: str | None) -> str:
    """Folder name of an exported hub dataset: one per (repo or folder, split, label column)."""
    if source.local:
        digest = hashlib.sha1(str(Path(source.location).resolve()).encode()).hexdigest()[:8]
        slug = f"local-{Path(source.location).name}-{digest}"
    else:
        slug = source.location.replace("/", "--")
    return f"hf-{slug}" + (f"-{split}" if split else "") + (f"-by-{label_column}" if label_column else "")


def _prepare_hub(spec: GtzanSpec, source: Source, *, base: Path, split: str | None, label_column: str | None,
                 progress: bool) -> Path:
    dest = base / _hub_slug(source, split, label_column)
    if (dest / ".completed").is_file():
        return dest
    if source.local:
        folder = Path(source.location)
    else:
        snapshot = base / "hub-snapshots" / _hub_slug(source, None, None)
        folder = download_hub_snapshot(source.location, local_dir=snapshot, progress=progress)
    return export_hub_dataset(folder, dest, cache_dir=base / ".hf-cache", split=split, label_column=label_column,
                              progress=progress)


def _archive_from(spec: GtzanSpec, source: Source | None, *, base: Path, progress: bool) -> tuple[Path, str]:
    """The local archive to extract (downloading it if needed) and a description of its origin."""
    if source is None:
        archive = download_file(spec.url, base / spec.archive_name, sha256=spec.sha256, expected_size=spec.size,
                                progress=progress)
        return archive, spec.url
    if source.kind == "url":
        name = Path(urlsplit(source.location).path).name or spec.archive_name
        archive = download_file(source.location, base / name, sha256=None, progress=progress)
    else:
        archive = Path(source.location)
    digest = sha256_of(archive)
    if digest != spec.sha256:
        warnings.warn(
            f"archive {source.location!r} has sha256 {digest}, not the official {spec.name} checksum "
            f"{spec.sha256}; using it because it was passed explicitly as the source",
            stacklevel=3,
        )
    return archive, source.location


def _extract_layout_root(spec: GtzanSpec, archive: Path, root: Path, *, origin: str, progress: bool) -> None:
    """Extract ``archive`` beside ``root``, move its layout root to ``root`` and mark it ``.completed``."""
    staging = root.parent / ".extract"
    if staging.exists():  # left by an interrupted run
        shutil.rmtree(staging)
    extract_tar(archive, staging, progress=progress)
    try:
        found = _find_layout_root(staging, spec)
        if found is None:
            raise _layout_error(spec, staging)
        if root.exists():  # left by an interrupted run (no marker)
            shutil.rmtree(root)
        found.rename(root)
        write_json(root / ".completed", {"dataset": spec.name, "source": origin, "archive": str(archive)})
    finally:
        shutil.rmtree(staging, ignore_errors=True)


def prepare_gtzan(
    name: str,
    *,
    data_dir: str | Path,
    source: str | None = None,
    hub_split: str | None = None,
    hub_label_column: str | None = None,
    progress: bool = True,
) -> Path:
    """Download / extract / export GTZAN dataset ``name``; returns the folder of class sub-folders.

    Args:
        name: ``"gtzan-music-speech"`` or ``"gtzan-genres"``.
        data_dir: cache folder; the dataset goes to ``data_dir/<name>/``.
        source: None (the official archive URL), an http(s)/file URL, a local archive, an
            extracted folder (used in place), ``hf:owner/name`` or a local parquet folder.
        hub_split: hub / parquet sources only: the one split to export (default all).
        hub_label_column: hub / parquet sources only: the label column (default ``label``
            or ``genre``).
        progress: show progress bars.

    Raises:
        AudiospecError: unknown name, unreachable network (with the manual command), a bad
            checksum, a corrupt archive, or a folder not laid out like the dataset.
    """
    if name not in GTZAN_DATASETS:
        raise AudiospecError(f"unknown GTZAN dataset {name!r}; valid ones are {sorted(GTZAN_DATASETS)}")
    spec = GTZAN_DATASETS[name]
    base = Path(data_dir) / name
    root = base / spec.root_name
    archive_like = source is None or not (source.startswith(HUB_PREFIX) or Path(source).expanduser().is_dir())
    if archive_like and (root / ".completed").is_file():  # done before: the archive is no longer needed
        return root
    parsed = parse_source(source) if source is not None else None
    if parsed is not None and parsed.kind != "hub" and (hub_split is not None or hub_label_column is not None):
        raise AudiospecError(
            f"hub_split / hub_label_column apply to hub or parquet sources, but source {source!r} is a {parsed.kind}; "
            "remove them"
        )
    if parsed is not None and parsed.kind == "hub":
        return _prepare_hub(spec, parsed, base=base, split=hub_split, label_column=hub_label_column,
                            progress=progress)
    if parsed is not None and parsed.kind == "folder":
        found = _find_layout_root(Path(parsed.location), spec)
        if found is None:
            raise _layout_error(spec, Path(parsed.location))
        return found
    archive, origin = _archive_from(spec, parsed, base=base, progress=progress)
    _extract_layout_root(spec, archive, root, origin=origin, progress=progress)
    return root
