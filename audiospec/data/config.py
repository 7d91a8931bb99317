"""`DataConfig`: which dataset to load and how to cut it into clips (YAML section ``data``)."""

from __future__ import annotations

import math
import typing
from dataclasses import dataclass
from pathlib import Path
from typing import Literal

from audiospec.data.audio import duration_frames
from audiospec.data.short_files import SHORT_FILES, ShortFiles
from audiospec.errors import AudiospecError

__all__ = ["DATASET_NAMES", "DatasetName", "DataConfig", "FOLDER_PREFIX", "HUB_PREFIX", "LOG_MEL_PREFIX",
           "check_dataset_name"]

DatasetName = Literal["mini", "debian", "gtzan-music-speech", "gtzan-genres"]
DATASET_NAMES: tuple[str, ...] = typing.get_args(DatasetName)
FOLDER_PREFIX = "folder:"
LOG_MEL_PREFIX = "log-mel:"  # a corpus carried as log-mel spectrograms (audiospec.data.melcache)
HUB_PREFIX = "hf:"
_MAX_SAMPLE_RATE = 768_000


def check_dataset_name(name: str) -> None:
    """Raise :class:`AudiospecError` unless ``name`` is a known dataset or ``folder:PATH``."""
    if not isinstance(name, str):
        raise AudiospecError(f"dataset must be a string, got {type(name).__name__}: {name!r}")
    for prefix, example in ((FOLDER_PREFIX, "/path/to/audio"), (LOG_MEL_PREFIX, "/path/to/cache")):
        if name.startswith(prefix):
            if not name[len(prefix):].strip():
                raise AudiospecError(f"dataset {name!r} names no folder; write it as '{prefix}{example}'")
            return
    if name not in DATASET_NAMES:
        raise AudiospecError(
            f"unknown dataset {name!r}; valid datasets are {list(DATASET_NAMES)}, 'folder:PATH' (any audio folder) "
            "or 'log-mel:PATH' (a corpus carried as log-mel spectrograms)"
        )


def _positive_int(name: str, value: object) -> None:
    if isinstance(value, bool) or not isinstance(value, int) or value <= 0:
        raise AudiospecError(f"{name} must be a positive integer, got {value!r}")


def _positive_float(name: str, value: object) -> None:
    if isinstance(value, bool) or not isinstance(value, (int, float)) or not math.isfinite(value) or value <= 0:
        raise AudiospecError(f"{name} must be a positive, finite number of seconds, got {value!r}")


def _optional_text(name: str, value: object) -> None:
    if value is not None and (not isinstance(value, str) or not value.strip()):
        raise AudiospecError(f"{name} must be a non-empty string or None, got {value!r}")


@dataclass(frozen=True)
class DataConfig:
    """Which dataset to load and how to cut it into fixed-length clips.

    Attributes:
        dataset: ``"mini"`` (the embedded offline corpus), ``"debian"`` (the larger corpus
            from six Debian packages, :mod:`audiospec.data.debian`), ``"gtzan-music-speech"``,
            ``"gtzan-genres"``, or ``"folder:PATH"`` (any folder of audio files, labels
            from first-level sub-folders).
        data_dir: cache folder for downloads and prepared datasets.
        sample_rate: every clip is resampled to this rate (Hz).
        clip_seconds: clip length; a file of ``L`` samples gives
            ``floor((L - length) / hop) + 1`` clips.
        hop_seconds: step between clip starts; ``None`` means ``clip_seconds`` (no overlap).
        max_clips_per_class: cap per label, taken deterministically and spread over the
            source files; ``None`` keeps all clips.
        source: where to get a GTZAN dataset instead of its default archive URL: an
            ``http(s)://`` or ``file://`` archive URL, a local ``.tar.gz`` path, an extracted
            folder, ``hf:owner/name`` (a Hugging Face dataset repo) or a local folder of
            parquet files (``hf:PATH`` or just ``PATH``).
        hub_split: for hub / parquet sources, the one split to use (default: all splits).
        hub_label_column: for hub / parquet sources, the label column (default: the first
            of ``label`` / ``genre`` present).
        strict: ``False`` (default) skips bad files (unreadable, corrupt, NaN, silent) with a
            warning and lists them in ``Corpus.skipped``; ``True`` stops at the first one with
            an :class:`AudiospecError` naming it (:func:`~audiospec.data.corpus.load_corpus`).
        short_files: files shorter than one clip: ``"join"`` consecutive ones of a class and
            folder into clips, ``"pad"`` each to a clip, or ``"skip"`` them
            (:mod:`audiospec.data.short_files`); ``None`` resolves to ``"join"`` for
            ``folder:`` datasets and ``"skip"`` for the others.
    """

    dataset: str
    data_dir: str = "data"
    sample_rate: int = 22050
    clip_seconds: float = 6.0
    hop_seconds: float | None = None
    max_clips_per_class: int | None = None
    source: str | None = None
    hub_split: str | None = None
    hub_label_column: str | None = None
    strict: bool = False
    short_files: ShortFiles | None = None

    def __post_init__(self) -> None:
        check_dataset_name(self.dataset)
        if self.short_files is None:  # resolved here, so the saved config says what was done
            object.__setattr__(self, "short_files", "join" if self.dataset.startswith(FOLDER_PREFIX) else "skip")
        if self.short_files not in SHORT_FILES:
            raise AudiospecError(f"short_files must be one of {list(SHORT_FILES)}, got {self.short_files!r}")
        if not isinstance(self.strict, bool):
            raise AudiospecError(f"strict must be true or false, got {self.strict!r}")
        if not isinstance(self.data_dir, (str, Path)) or not str(self.data_dir).strip():
            raise AudiospecError(f"data_dir must be a non-empty path string, got {self.data_dir!r}")
        _positive_int("sample_rate", self.sample_rate)
        if self.sample_rate > _MAX_SAMPLE_RATE:
            raise AudiospecError(f"sample_rate must be <= {_MAX_SAMPLE_RATE} Hz, got {self.sample_rate}")
        _positive_float("clip_seconds", self.clip_seconds)
        if self.hop_seconds is not None:
            _positive_float("hop_seconds", self.hop_seconds)
        if duration_frames(self.clip_seconds, sample_rate=self.sample_rate) < 1:
            raise AudiospecError(
                f"clip_seconds={self.clip_seconds} at sample_rate={self.sample_rate} is less than one sample; "
                "use a longer clip"
            )
        if self.hop_seconds is not None and duration_frames(self.hop_seconds, sample_rate=self.sample_rate) < 1:
            raise AudiospecError(
                f"hop_seconds={self.hop_seconds} at sample_rate={self.sample_rate} is less than one sample; "
                "use a longer hop or None"
            )
        if self.max_clips_per_class is not None:
            _positive_int("max_clips_per_class", self.max_clips_per_class)
        for name in ("source", "hub_split", "hub_label_column"):
            _optional_text(name, getattr(self, name))
        source = (self.source or "").strip()
        if source.startswith(HUB_PREFIX) and not source[len(HUB_PREFIX):].strip():  # Path("") would be "."
            raise AudiospecError(
                f"source={self.source!r} has an empty hub id; write it as hf:owner/name (a Hugging Face dataset repo)"
            )
        if self.source is not None and self.dataset not in ("gtzan-music-speech", "gtzan-genres"):
            raise AudiospecError(
                f"source={self.source!r} only applies to the GTZAN datasets, not dataset={self.dataset!r}; "
                "remove it (for your own audio use dataset='folder:PATH')"
            )
        for name in ("hub_split", "hub_label_column"):
            if getattr(self, name) is not None and self.source is None:
                raise AudiospecError(
                    f"{name}={getattr(self, name)!r} only applies to a hub or parquet source; "
                    "also set source='hf:owner/name' (or a local parquet folder), or remove it"
                )

    @property
    def clip_length(self) -> int:
        """Clip length in samples at ``sample_rate``."""
        return duration_frames(self.clip_seconds, sample_rate=self.sample_rate)

    @property
    def hop_length(self) -> int:
        """Hop in samples at ``sample_rate`` (``clip_length`` when ``hop_seconds`` is None)."""
        if self.hop_seconds is None:
            return self.clip_length
        return duration_frames(self.hop_seconds, sample_rate=self.sample_rate)
