"""`load_corpus`: any dataset (a prepared corpus, a folder, GTZAN, a log-mel cache) as fixed-length clips."""

from __future__ import annotations

import warnings
from collections import Counter
from dataclasses import dataclass
from pathlib import Path

import torch
from tqdm.auto import tqdm

from audiospec.data.audio import audio_info, read_audio
from audiospec.data.config import LOG_MEL_PREFIX, DataConfig
from audiospec.data.corpus import Corpus, SkippedFile
from audiospec.data.folder import LabelledFile, list_audio_files
from audiospec.data.gtzan import GTZAN_DATASETS, known_corrupt
from audiospec.data.melcache import read_log_mel_cache, write_log_mel_cache
from audiospec.data.prepare import prepare_dataset
from audiospec.data.segment import num_segments, segment
from audiospec.data.short_files import ShortFile, joined_clips, plan_short_files, unit_clips
from audiospec.data.selection import spread_selection
from audiospec.errors import AudiospecError
from audiospec.transforms import MelConfig

__all__ = ["export_log_mel", "load_corpus"]

_LISTED = 5  # file names quoted in an aggregated warning or error


class _SkipLog:
    """The files left out so far; ``bad`` raises instead under ``data.strict``."""

    def __init__(self, *, strict: bool) -> None:
        self.strict = strict
        self.items: list[SkippedFile] = []

    def bad(self, path: Path, reason: str, *, warning: str) -> None:
        """A bad file (corrupt, unreadable, NaN, silent): raise when strict, else warn and record."""
        if self.strict:
            raise AudiospecError(
                f"bad file {str(path)!r}: {reason}; data.strict is true, so the first bad file stops the load: "
                "fix or delete the file, or set data.strict: false to skip bad files with a warning"
            )
        warnings.warn(warning, stacklevel=4)  # _SkipLog.bad <- stage <- load_corpus <- caller
        self.items.append(SkippedFile(path=str(path), reason=reason))

    def note(self, path: Path, reason: str) -> None:
        """A file left out by design (known corrupt, shorter than a clip): record it, also when strict."""
        self.items.append(SkippedFile(path=str(path), reason=reason))

    def count(self, prefix: str) -> int:
        return sum(item.reason.startswith(prefix) for item in self.items)


@dataclass(frozen=True)
class _Usable:
    """A listed file whose header promises ``count`` clips, at its own ``rate``; or, with ``parts``, short files
    joined or padded into ``count`` clips (:mod:`audiospec.data.short_files`), ``item`` the first of them."""

    item: LabelledFile
    count: int
    rate: int
    parts: tuple[ShortFile, ...] = ()


def _dataset_files(config: DataConfig, *, progress: bool) -> list[LabelledFile]:
    root = prepare_dataset(
        config.dataset, data_dir=config.data_dir, source=config.source, hub_split=config.hub_split,
        hub_label_column=config.hub_label_column, install=False, progress=progress,
    )
    spec = GTZAN_DATASETS.get(config.dataset)
    return list_audio_files(root, label_suffix=spec.label_suffix if spec is not None else "")


def _resampled_length(frames: int, *, orig_rate: int, sample_rate: int) -> int:
    """Length after :func:`~audiospec.data.audio.resample`: ``ceil(frames * sample_rate / orig_rate)``."""
    return frames if orig_rate == sample_rate else -(-frames * sample_rate // orig_rate)


def _names(paths: list[Path]) -> str:
    shown = ", ".join(p.name for p in paths[:_LISTED])
    return shown + (f", ... ({len(paths) - _LISTED} more)" if len(paths) > _LISTED else "")


def _scan(files: list[LabelledFile], config: DataConfig, log: _SkipLog) -> list[_Usable]:
    """Pass 1, headers only: the files that promise at least one clip, and how many; short files joined or padded
    into clips (``config.short_files``), in listing order."""
    usable: list[tuple[int, _Usable]] = []
    short: list[tuple[int, ShortFile]] = []
    for index, item in enumerate(files):
        if known_corrupt(config.dataset, item.path):
            warnings.warn(
                f"skipping {str(item.path)!r}: {item.path.name} is a known-corrupt file of {config.dataset}",
                stacklevel=3,
            )
            log.note(item.path, f"known corrupt: a known-corrupt file of {config.dataset}")
            continue
        try:
            info = audio_info(item.path)
        except AudiospecError as err:
            log.bad(item.path, f"unreadable: {err}", warning=f"skipping unreadable file {str(item.path)!r}: {err}")
            continue
        frames = _resampled_length(info.frames, orig_rate=info.sample_rate, sample_rate=config.sample_rate)
        count = num_segments(frames, length=config.clip_length, hop=config.hop_length)
        if count == 0:
            short.append((index, ShortFile(item=item, frames=frames, rate=info.sample_rate)))
            if config.short_files == "skip":
                log.note(item.path, f"short: {info.duration:.3f} s, shorter than clip_seconds={config.clip_seconds}")
            continue
        usable.append((index, _Usable(item=item, count=count, rate=info.sample_rate)))
    units = plan_short_files([f for _, f in short], policy=config.short_files, clip_length=config.clip_length)
    first = {f.item.path: index for index, f in short}
    usable += [(first[unit[0].item.path], _Usable(item=unit[0].item, rate=unit[0].rate, parts=unit,
                                                  count=unit_clips(unit, length=config.clip_length,
                                                                   hop=config.hop_length))) for unit in units]
    if short:
        verb, middle, tail = {"skip": ("skipped", "", "; join or pad would keep them"),
                              "pad": ("padded", " by repeating each", ""),
                              "join": ("joined", f" into {len(units)} clip source(s)", "")}[config.short_files]
        warnings.warn(f"{verb} {len(short)} file(s) shorter than clip_seconds={config.clip_seconds}{middle}: "
                      f"{_names([f.item.path for _, f in short])} (data.short_files: {config.short_files}{tail})",
                      stacklevel=3)
    return [u for _, u in sorted(usable, key=lambda pair: pair[0])]


def _select(usable: list[_Usable], config: DataConfig) -> dict[int, list[int]]:
    """Which clips of which usable file: all, or ``max_clips_per_class`` spread over each class's files."""
    wanted: dict[int, list[int]] = {}
    for label in sorted({u.item.label for u in usable}):
        members = [i for i, u in enumerate(usable) if u.item.label == label]
        counts = [usable[i].count for i in members]
        k = sum(counts) if config.max_clips_per_class is None else config.max_clips_per_class
        for group, clip in spread_selection(counts, k=k):
            wanted.setdefault(members[group], []).append(clip)
    return wanted


SILENT_PEAK = 2.0**-24
"""A clip whose samples stay within this of their mean is silent: below the 24-bit quantum, nothing a recording
holds (a 1e-30-amplitude file has no spectrum above the log-mel floor)."""
IMPLAUSIBLE_PEAK = 1e6
"""A file peaking above this (120 dB over full scale) is corrupt or mis-scaled float data: its powers overflow
float32 in the spectra, so it is left out (named) instead of turning the analysis non-finite."""


def _silence(values: torch.Tensor) -> str | None:
    """Why ``values`` is silent: constant (``"every sample is 0 (digital silence)"``), or deviating from its mean by
    less than :data:`SILENT_PEAK`; None when it is audible."""
    if bool(values.amax() == values.amin()):
        value = float(values.flatten()[0])
        return "every sample is 0 (digital silence)" if value == 0.0 else f"every sample equals {value:g} (no sound)"
    centred = values.double() - values.double().mean()
    peak = float(centred.abs().amax())
    return None if peak >= SILENT_PEAK else f"peak amplitude {peak:.3g} is below {SILENT_PEAK:.3g} (no sound)"


def _implausible(values: torch.Tensor) -> str | None:
    peak = float(values.abs().amax())
    return None if peak <= IMPLAUSIBLE_PEAK else (f"peak amplitude {peak:.3g} is above {IMPLAUSIBLE_PEAK:g} "
                                                  "(corrupt or mis-scaled float samples)")


def _decoded(path: Path, config: DataConfig, log: _SkipLog) -> torch.Tensor | None:
    """One file at the corpus rate ``[L]``, or None (recorded in ``log``) when it is unreadable, implausible or
    silent."""
    try:
        wave, _ = read_audio(path, sample_rate=config.sample_rate, mono=True)
    except AudiospecError as err:
        log.bad(path, f"unreadable: {err}", warning=f"skipping unreadable file {str(path)!r}: {err}")
        return None
    loud = _implausible(wave)
    if loud is not None:
        log.bad(path, f"implausible: {loud}", warning=f"skipping {str(path)!r}: {loud}")
        return None
    silent = _silence(wave)
    if silent is not None:
        log.bad(path, f"silent: {silent}", warning=f"skipping {str(path)!r}: it is silent, {silent}")
        return None
    return wave


def _file_clips(usable: _Usable, clips_wanted: list[int], config: DataConfig,
                log: _SkipLog) -> list[tuple[int, torch.Tensor, str]]:
    """Decode one file (or the short files of a unit) and return its wanted ``(clip index, [length] clip,
    provenance)`` triples, silent clips left out."""
    path, length, hop, sr = usable.item.path, config.clip_length, config.hop_length, config.sample_rate
    if usable.parts:
        decoded = [(part, _decoded(part.item.path, config, log)) for part in usable.parts]
        parts = [(part, wave) for part, wave in decoded if wave is not None]
        clips = joined_clips(parts, length=length, hop=hop, sample_rate=sr) if parts else []
    else:
        wave = _decoded(path, config, log)
        if wave is not None and wave.shape[-1] < length:
            log.bad(path, "short: it decoded to fewer samples than one clip (its header over-states the length)",
                    warning=f"skipping {str(path)!r}: it decoded to fewer samples than one clip")
            wave = None
        clips = [] if wave is None else [(clip, f"{path}@{c * hop / sr:.3f}s")
                                         for c, clip in enumerate(segment(wave, length=length, hop=hop))]
    picked = [(c, *clips[c]) for c in clips_wanted if c < len(clips)]  # the header may over-state (e.g. MP3)
    quiet = [c for c, clip, _ in picked if _silence(clip) is not None]
    if quiet:
        offsets = ", ".join(f"{c * hop / sr:.3f}s" for c in quiet)
        reason = f"silent clips: {len(quiet)} clip(s) at {offsets} are digital silence (constant samples)"
        log.bad(path, reason, warning=f"leaving out {len(quiet)} silent clip(s) of {str(path)!r} at {offsets}")
    return [(c, clip, source) for c, clip, source in picked if c not in quiet]


def _warn_upsampling(rates: dict[Path, int], config: DataConfig) -> None:
    """Warn when files are upsampled: their clips hold nothing above the source Nyquist frequency."""
    low = sorted({rate for rate in rates.values() if rate < config.sample_rate})
    if not low:
        return
    paths = [path for path, rate in rates.items() if rate < config.sample_rate]
    warnings.warn(
        f"{len(paths)} file(s) have source sample rate(s) {low} Hz, below data.sample_rate={config.sample_rate} Hz "
        f"({_names(paths)}): they are upsampled, so their clips are empty above the source Nyquist frequency "
        f"({low[0] / 2:g} Hz for {low[0]} Hz files) and so are those mel bands; set data.sample_rate to {low[0]} "
        "(or lower) to analyse only recorded content, or remove these files",
        stacklevel=3,
    )


def _no_clip_error(config: DataConfig, *, n_files: int, log: _SkipLog) -> AudiospecError:
    """The error for a dataset that gave no clip at all: counts per reason and the first skipped files."""
    shown = "; ".join(f"{Path(s.path).name}: {s.reason}" for s in log.items[:_LISTED])
    loud = f", {log.count('implausible')} with implausible samples" if log.count("implausible") else ""
    return AudiospecError(
        f"dataset {config.dataset!r} gave no readable clip of {config.clip_seconds} s: {n_files} file(s), "
        f"{log.count('unreadable')} unreadable, {log.count('short')} shorter than one clip, "
        f"{log.count('silent')} silent{loud}; check the data or lower clip_seconds (skipped: {shown})"
    )


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

    Bad files (unreadable, empty, corrupt, truncated, NaN/Inf samples, all-silent) are
    skipped with a ``warnings.warn`` naming them, and so are silent clips (every sample
    equal, e.g. digital silence: they have no spectrum to analyse) of otherwise audible files;
    with ``config.strict`` the first one raises instead. Only the files that contribute clips
    are decoded, so with ``max_clips_per_class`` a bad file that is never picked goes unseen.
    Files left out by design, the known-corrupt GTZAN ``jazz.00054.wav`` and files shorter
    than one clip (one summary warning) under ``short_files: skip``, are skipped also when strict;
    ``join`` and ``pad`` make clips of short files instead (:mod:`audiospec.data.short_files`). Every left-out file
    is listed with its reason in :attr:`Corpus.skipped`. A class can end up with fewer than
    ``max_clips_per_class`` clips when a picked file or clip is left out. A warning names
    the files whose own rate is below ``config.sample_rate`` (upsampled: empty above their
    Nyquist frequency); :attr:`Corpus.source_rates` counts the files per rate.

    Args:
        config: what to load (dataset, rate, clip length, hop, caps, strictness).
        progress: show progress bars.

    Returns:
        a :class:`Corpus` with ``waveforms`` ``[N, clip_length]``.

    Raises:
        AudiospecError: preparation errors, a bad file when ``config.strict``, or a dataset
            with no readable clip at all (the message lists the skipped files).
    """
    if not isinstance(config, DataConfig):
        raise AudiospecError(f"config must be a DataConfig, got {type(config).__name__}")
    if config.dataset.startswith(LOG_MEL_PREFIX):
        return read_log_mel_cache(config.dataset[len(LOG_MEL_PREFIX):])
    files = _dataset_files(config, progress=progress)
    log = _SkipLog(strict=config.strict)
    usable = _scan(files, config, log)
    wanted = _select(usable, config)

    # Pass 2: decode the files that contribute clips.
    total = sum(len(v) for v in wanted.values())
    waveforms = torch.empty(total, config.clip_length, dtype=torch.float32)
    labels: list[str] = []
    sources: list[str] = []
    rates: dict[Path, int] = {}
    for index in tqdm(sorted(wanted), desc=f"load {config.dataset}", unit="file", disable=not progress):
        use = usable[index]
        for _, samples, source in _file_clips(use, wanted[index], config, log):
            waveforms[len(labels)] = samples
            labels.append(use.item.label)
            sources.append(source)
            rates.update({part.item.path: part.rate for part in use.parts} or {use.item.path: use.rate})
    if not labels:
        raise _no_clip_error(config, n_files=len(files), log=log)
    _warn_upsampling(rates, config)
    return Corpus(waveforms=waveforms[: len(labels)].clone() if len(labels) < total else waveforms,
                  labels=labels, sources=sources, sample_rate=config.sample_rate, skipped=log.items,
                  source_rates=dict(sorted(Counter(rates.values()).items())))


def export_log_mel(data: DataConfig, *, mel: MelConfig, out_dir: Path, progress: bool = True) -> Path:
    """Load the audio corpus of ``data`` and write it as a log-mel cache (:func:`~audiospec.data.write_log_mel_cache`)
    with the model stages' ``mel`` settings, for a machine without the audio.

    Args:
        data: the dataset to load (audio, not a cache).
        mel: the log-mel settings of the stages that will read the cache (a recipe's ``compare.mel``).
        out_dir: the cache folder, which a recipe then names as ``dataset: "log-mel:<out_dir>"``.
        progress: show progress bars.

    Returns:
        ``out_dir`` as a :class:`~pathlib.Path`.

    Raises:
        AudiospecError: a dataset without audio, or the loading and writing errors of the two steps.
    """
    corpus = load_corpus(data, progress=progress)
    corpus.require_audio("export-log-mel")
    return write_log_mel_cache(corpus, mel=mel, out_dir=out_dir)
