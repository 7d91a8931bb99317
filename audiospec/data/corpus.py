"""`Corpus` (fixed-length labelled clips) and `load_corpus` (any dataset -> clips)."""

from __future__ import annotations

import warnings
from dataclasses import dataclass
from pathlib import Path

import torch
from tqdm.auto import tqdm

from audiospec.data.audio import audio_info, read_audio
from audiospec.data.config import DataConfig
from audiospec.data.folder import LabelledFile, list_audio_files
from audiospec.data.gtzan import GTZAN_DATASETS, known_corrupt
from audiospec.data.prepare import prepare_dataset
from audiospec.data.segment import num_segments, segment
from audiospec.data.selection import spread_selection
from audiospec.errors import AudiospecError

__all__ = ["Corpus", "load_corpus"]

_LISTED = 5  # file names quoted in an aggregated warning


@dataclass
class Corpus:
    """Fixed-length mono clips with labels and provenance.

    Attributes:
        waveforms: ``[N, L]`` float32 clips at ``sample_rate``.
        labels: ``N`` class labels.
        sources: ``N`` provenance strings ``"<file>@<offset>s"`` (offset of the clip's
            first sample in the source file, in seconds).
        sample_rate: Hz.
    """

    waveforms: torch.Tensor
    labels: list[str]
    sources: list[str]
    sample_rate: int

    def __post_init__(self) -> None:
        if not isinstance(self.waveforms, torch.Tensor) or self.waveforms.ndim != 2:
            shape = tuple(self.waveforms.shape) if isinstance(self.waveforms, torch.Tensor) else type(self.waveforms)
            raise AudiospecError(f"Corpus.waveforms must be a [N, L] tensor, got {shape}")
        if self.waveforms.dtype != torch.float32:
            raise AudiospecError(f"Corpus.waveforms must be float32, got {self.waveforms.dtype}")
        N = self.waveforms.shape[0]
        if len(self.labels) != N or len(self.sources) != N:
            raise AudiospecError(
                f"Corpus has {N} waveforms but {len(self.labels)} labels and {len(self.sources)} sources; "
                "they must match one to one"
            )
        if isinstance(self.sample_rate, bool) or not isinstance(self.sample_rate, int) or self.sample_rate <= 0:
            raise AudiospecError(f"Corpus.sample_rate must be a positive integer, got {self.sample_rate!r}")

    @property
    def classes(self) -> list[str]:
        """Sorted unique labels."""
        return sorted(set(self.labels))

    @property
    def clip_seconds(self) -> float:
        """Clip length in seconds."""
        return self.waveforms.shape[-1] / self.sample_rate

    def __len__(self) -> int:
        return self.waveforms.shape[0]

    def subset(self, label: str) -> Corpus:
        """The clips of one class, in corpus order."""
        if label not in self.labels:
            raise AudiospecError(f"label {label!r} is not in the corpus; its classes are {self.classes}")
        keep = [i for i, lab in enumerate(self.labels) if lab == label]
        return Corpus(
            waveforms=self.waveforms[keep],
            labels=[self.labels[i] for i in keep],
            sources=[self.sources[i] for i in keep],
            sample_rate=self.sample_rate,
        )


def _dataset_files(config: DataConfig, *, progress: bool) -> list[LabelledFile]:
    root = prepare_dataset(
        config.dataset, data_dir=config.data_dir, source=config.source, hub_split=config.hub_split,
        hub_label_column=config.hub_label_column, install=True, progress=progress,
    )
    spec = GTZAN_DATASETS.get(config.dataset)
    return list_audio_files(root, label_suffix=spec.label_suffix if spec is not None else "")


def _resampled_length(frames: int, *, orig_rate: int, sample_rate: int) -> int:
    """Length after :func:`~audiospec.data.audio.resample`: ``ceil(frames * sample_rate / orig_rate)``."""
    return frames if orig_rate == sample_rate else -(-frames * sample_rate // orig_rate)


def _names(paths: list[Path]) -> str:
    shown = ", ".join(p.name for p in paths[:_LISTED])
    return shown + (f", ... ({len(paths) - _LISTED} more)" if len(paths) > _LISTED else "")


def load_corpus(config: DataConfig, *, progress: bool = True) -> Corpus:
    """Load ``config.dataset`` as fixed-length mono clips at ``config.sample_rate``.

    Steps: prepare the dataset if needed (:func:`~audiospec.data.prepare.prepare_dataset`),
    list its files sorted by ``(label, path)``, resample each to ``config.sample_rate``,
    average channels, and cut it into clips of ``clip_seconds`` every ``hop_seconds``: a file
    of ``L`` samples gives ``floor((L - length) / hop) + 1`` clips, a shorter file none.
    With ``max_clips_per_class`` the clips of each class are picked deterministically and
    spread over its files (:func:`~audiospec.data.selection.spread_selection`: every file
    gives one clip before any gives two; within a file the picks are spread over its
    length). The order is label, then file, then offset.

    Files that cannot be decoded are skipped with a ``warnings.warn`` naming them (the
    known-corrupt GTZAN ``jazz.00054.wav`` is skipped by name with its own warning); files
    shorter than one clip are skipped with one summary warning. A class can end up with
    fewer than ``max_clips_per_class`` clips when a picked file fails to decode.

    Returns:
        a :class:`Corpus` with ``waveforms`` ``[N, clip_length]``.

    Raises:
        AudiospecError: preparation errors, or a dataset with no readable clip at all.
    """
    if not isinstance(config, DataConfig):
        raise AudiospecError(f"config must be a DataConfig, got {type(config).__name__}")
    sr, length, hop = config.sample_rate, config.clip_length, config.hop_length
    files = _dataset_files(config, progress=progress)

    # Pass 1: headers only -> clips per file.
    usable: list[tuple[LabelledFile, int]] = []
    unreadable: list[Path] = []
    short: list[Path] = []
    for item in files:
        if known_corrupt(config.dataset, item.path):
            warnings.warn(
                f"skipping {str(item.path)!r}: {item.path.name} is a known-corrupt file of {config.dataset}",
                stacklevel=2,
            )
            continue
        try:
            info = audio_info(item.path)
        except AudiospecError as err:
            warnings.warn(f"skipping unreadable file {str(item.path)!r}: {err}", stacklevel=2)
            unreadable.append(item.path)
            continue
        count = num_segments(_resampled_length(info.frames, orig_rate=info.sample_rate, sample_rate=sr),
                             length=length, hop=hop)
        if count == 0:
            short.append(item.path)
            continue
        usable.append((item, count))
    if short:
        warnings.warn(
            f"skipped {len(short)} file(s) shorter than clip_seconds={config.clip_seconds}: {_names(short)}",
            stacklevel=2,
        )

    # Which clips: all, or max_clips_per_class spread over each class's files.
    wanted: dict[int, list[int]] = {}
    labels = sorted({item.label for item, _ in usable})
    for label in labels:
        members = [i for i, (item, _) in enumerate(usable) if item.label == label]
        counts = [usable[i][1] for i in members]
        k = sum(counts) if config.max_clips_per_class is None else config.max_clips_per_class
        for group, clip in spread_selection(counts, k=k):
            wanted.setdefault(members[group], []).append(clip)

    # Pass 2: decode the files that contribute clips.
    total = sum(len(v) for v in wanted.values())
    waveforms = torch.empty(total, length, dtype=torch.float32)
    out_labels: list[str] = []
    sources: list[str] = []
    for index in tqdm(sorted(wanted), desc=f"load {config.dataset}", unit="file", disable=not progress):
        item = usable[index][0]
        try:
            wave, _ = read_audio(item.path, sample_rate=sr, mono=True)
        except AudiospecError as err:
            warnings.warn(f"skipping unreadable file {str(item.path)!r}: {err}", stacklevel=2)
            unreadable.append(item.path)
            continue
        if wave.shape[-1] < length:
            warnings.warn(f"skipping {str(item.path)!r}: it decoded to fewer samples than one clip", stacklevel=2)
            continue
        clips = segment(wave, length=length, hop=hop)  # [L] -> [n, length]
        for clip in wanted[index]:
            if clip >= clips.shape[0]:  # the header over-stated the length (e.g. MP3)
                continue
            waveforms[len(out_labels)] = clips[clip]
            out_labels.append(item.label)
            sources.append(f"{item.path}@{clip * hop / sr:.3f}s")
    if not out_labels:
        raise AudiospecError(
            f"dataset {config.dataset!r} gave no readable clip of {config.clip_seconds} s: {len(files)} file(s), "
            f"{len(unreadable)} unreadable, {len(short)} shorter than one clip; check the data or lower clip_seconds"
        )
    return Corpus(waveforms=waveforms[: len(out_labels)].clone() if len(out_labels) < total else waveforms,
                  labels=out_labels, sources=sources, sample_rate=sr)
