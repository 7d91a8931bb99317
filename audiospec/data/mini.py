"""The embedded offline corpus ``mini``: real music and speech cut from two Debian packages.

- music: the 41 orchestral OGG tracks of ``wesnoth-1.16-music`` (44.1 kHz stereo, GPL-2+),
  in :data:`WESNOTH_MUSIC_DIR`;
- speech: the 1,882 Czech voice-actor dialogue clips of ``fillets-ng-data-cs``
  (22.05 kHz mono, GPL-2), ``*/cs/*.ogg`` under :data:`FILLETS_SOUND_DIR`.

:func:`prepare_mini` cuts a balanced, deterministic set of ``n_per_class`` clips per class:

- **music**: tracks sorted by name; each track offers ``floor(usable / clip_seconds)``
  non-overlapping slots in its usable span (the first :data:`MUSIC_HEAD_SKIP_SECONDS` and
  last :data:`MUSIC_TAIL_SKIP_SECONDS` skipped; a track too short for that offers its whole
  length, one shorter than a clip is left out); the clips are spread over the tracks
  round-robin (:func:`~audiospec.data.selection.spread_selection`) and each is cut from
  the centre of its slot, reading only that excerpt (soundfile seek, no full decode);
  a track giving an excerpt quieter than :data:`MUSIC_MIN_RMS_DB` RMS (Wesnoth ships a
  ``silence.ogg``) is left out and the clips are spread again over the other tracks;
- **speech**: clips sorted by path; clip ``i`` starts at utterance ``floor(i * N / n)``
  (so the clips spread over the whole corpus, many levels and characters) and
  concatenates the following utterances, leading/trailing silence trimmed
  (:data:`SPEECH_TRIM_TOP_DB` below the loudest 10 ms frame), with
  :data:`SPEECH_GAP_SECONDS` of silence between them, until ``clip_seconds`` are filled;
  an utterance is never used by two clips. No synthetic signal is ever mixed in.

Every clip is mono (mean of channels), resampled to ``sample_rate``, scaled down only if
its peak exceeds :data:`PEAK_LIMIT` (the gain is recorded), and written as 16-bit PCM to
``out_dir/{music,speech}/NNN.wav`` with ``manifest.json`` (clip provenance, packages,
licences) and a ``.completed`` marker holding the settings.
"""

from __future__ import annotations

import json
import math
import os
import shutil
import subprocess
import sys
import tempfile
import warnings
from dataclasses import dataclass
from pathlib import Path
from typing import Literal

import torch
from tqdm.auto import tqdm

from audiospec.atomic import write_json
from audiospec.data.audio import AUDIO_EXTENSIONS, audio_info, duration_frames, read_audio, write_wav
from audiospec.data.selection import spread_indices, spread_selection
from audiospec.errors import AudiospecError

__all__ = [
    "FILLETS_SOUND_DIR", "MINI_PACKAGES", "MUSIC_MIN_RMS_DB", "MUSIC_HEAD_SKIP_SECONDS", "MUSIC_TAIL_SKIP_SECONDS",
    "PEAK_LIMIT", "SPEECH_GAP_SECONDS", "SPEECH_TRIM_TOP_DB", "WESNOTH_MUSIC_DIR", "DebianPackage",
    "install_command", "prepare_mini",
]

WESNOTH_MUSIC_DIR = Path("/usr/share/games/wesnoth/1.16/data/core/music")
FILLETS_SOUND_DIR = Path("/usr/share/games/fillets-ng/sound")
MUSIC_HEAD_SKIP_SECONDS = 5.0
MUSIC_TAIL_SKIP_SECONDS = 3.0
SPEECH_GAP_SECONDS = 0.15
SPEECH_TRIM_TOP_DB = 40.0
PEAK_LIMIT = 0.99
MUSIC_MIN_RMS_DB = -60.0
_SPEECH_LANGUAGE_FOLDER = "cs"
_EDGE_MARGIN_SECONDS = 0.02  # read a little around each music excerpt so resampling has no edge effects
_MANIFEST_VERSION = 1


@dataclass(frozen=True)
class DebianPackage:
    """A Debian package the corpus is cut from."""

    name: str
    license: str
    role: Literal["music", "speech"]
    homepage: str


MINI_PACKAGES: tuple[DebianPackage, ...] = (
    DebianPackage(name="wesnoth-1.16-music", license="GPL-2+", role="music", homepage="https://www.wesnoth.org"),
    DebianPackage(name="fillets-ng-data-cs", license="GPL-2", role="speech",
                  homepage="https://fillets.sourceforge.net"),
)


def install_command(*, root: bool | None = None) -> list[str]:
    """``apt-get install -y --no-install-recommends <packages>``, prefixed by ``sudo`` unless root.

    Args:
        root: whether the command runs as root (default: this process's effective user).

    Returns:
        The command as an argument list.
    """
    if root is None:
        root = os.geteuid() == 0 if hasattr(os, "geteuid") else False
    prefix = [] if root else ["sudo"]
    return [*prefix, "apt-get", "install", "-y", "--no-install-recommends", *(p.name for p in MINI_PACKAGES)]


def _run(command: list[str]) -> bool:
    """Run an apt command non-interactively; True on success."""
    if command[0] == "sudo" and not sys.stdin.isatty():
        command = ["sudo", "-n", *command[1:]]  # never hang on a password prompt without a terminal
    try:
        result = subprocess.run(command, check=False, env={**os.environ, "DEBIAN_FRONTEND": "noninteractive"})
    except OSError:
        return False
    return result.returncode == 0


def _install_packages() -> None:
    command = install_command()
    if _run(command):
        return
    update = [*command[: command.index("apt-get")], "apt-get", "update"]
    if _run(update) and _run(command):
        return
    raise AudiospecError(
        "could not install the Debian packages of the embedded corpus; install them by hand with\n    "
        + " ".join(command)
        + "\n(run `apt-get update` first if apt cannot find them), then re-run"
    )


def _audio_files(folder: Path) -> list[Path]:
    return sorted(
        (p for p in folder.rglob("*") if p.suffix.lower() in AUDIO_EXTENSIONS and p.is_file()),
        key=lambda p: p.relative_to(folder).as_posix(),
    )


def _default_files(*, install: bool) -> tuple[list[Path], list[Path]]:
    """Music and speech files of the Debian packages, installing them when missing and allowed."""

    def found() -> tuple[list[Path], list[Path]]:
        music = _audio_files(WESNOTH_MUSIC_DIR) if WESNOTH_MUSIC_DIR.is_dir() else []
        speech = _audio_files(FILLETS_SOUND_DIR) if FILLETS_SOUND_DIR.is_dir() else []
        speech = [p for p in speech if p.parent.name == _SPEECH_LANGUAGE_FOLDER]
        return music, speech

    music, speech = found()
    if music and speech:
        return music, speech
    if not install:
        raise AudiospecError(
            f"the embedded corpus needs the Debian packages {[p.name for p in MINI_PACKAGES]} "
            f"(music in {WESNOTH_MUSIC_DIR}, speech in {FILLETS_SOUND_DIR}); install them with\n    "
            + " ".join(install_command())
            + "\nor run `audiospec prepare mini --install-packages` (make corpus does),\n"
            "or point music_dir / speech_dir at other recordings"
        )
    _install_packages()
    music, speech = found()
    if not (music and speech):
        raise AudiospecError(
            f"the Debian packages were installed but no OGG files were found in {WESNOTH_MUSIC_DIR} and "
            f"{FILLETS_SOUND_DIR}; check `dpkg -L {' '.join(p.name for p in MINI_PACKAGES)}`"
        )
    return music, speech


def _peak_safe(clip: torch.Tensor) -> tuple[torch.Tensor, float]:
    """Scale ``[L]`` down so its peak is at most :data:`PEAK_LIMIT`; returns (clip, gain)."""
    peak = float(clip.abs().max())
    gain = 1.0 if peak <= PEAK_LIMIT else PEAK_LIMIT / peak
    return clip * gain, gain


def _trim_silence(wave: torch.Tensor, *, sample_rate: int, top_db: float) -> tuple[int, int]:
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
class _Excerpt:
    """A piece of a source file used in a clip (seconds at the source)."""

    file: Path
    offset: float
    duration: float


def _music_clips(files: list[Path], *, n: int, clip_seconds: float, sample_rate: int,
                 progress: bool) -> tuple[list[tuple[torch.Tensor, list[_Excerpt]]], list[Path]]:
    """The music clips and the tracks left out because an excerpt of them was (near) silent."""
    length = duration_frames(clip_seconds, sample_rate=sample_rate)
    spans: list[tuple[Path, float, float, int]] = []  # (file, lo, hi, file rate)
    for path in files:
        try:
            info = audio_info(path)
        except AudiospecError as err:
            warnings.warn(f"skipping music file {str(path)!r}: {err}", stacklevel=3)
            continue
        duration = info.duration
        if duration >= MUSIC_HEAD_SKIP_SECONDS + clip_seconds + MUSIC_TAIL_SKIP_SECONDS:
            spans.append((path, MUSIC_HEAD_SKIP_SECONDS, duration - MUSIC_TAIL_SKIP_SECONDS, info.sample_rate))
        elif duration >= clip_seconds + 2 * _EDGE_MARGIN_SECONDS:
            spans.append((path, _EDGE_MARGIN_SECONDS, duration - _EDGE_MARGIN_SECONDS, info.sample_rate))
    capacity = [int((hi - lo) // clip_seconds) for _, lo, hi, _ in spans]

    def cut(track: int, slot: int) -> tuple[torch.Tensor, _Excerpt]:
        path, lo, hi, rate = spans[track]
        width = (hi - lo) / capacity[track]
        start = lo + slot * width + (width - clip_seconds) / 2  # centre of the slot
        first = max(0, math.floor((start - _EDGE_MARGIN_SECONDS) * rate))
        frames = math.ceil((clip_seconds + 2 * _EDGE_MARGIN_SECONDS) * rate)
        wave, _ = read_audio(path, sample_rate=sample_rate, mono=True, start=first, frames=frames)
        lead = round((start - first / rate) * sample_rate)
        clip = wave[lead: lead + length]
        if clip.shape[-1] < length:
            raise AudiospecError(f"music file {str(path)!r} ended early at {start:.2f} s; it may be truncated")
        return clip, _Excerpt(file=path, offset=start, duration=clip_seconds)

    # A track with a (near) silent excerpt (e.g. Wesnoth's "silence.ogg") is left out and the
    # clips are spread again over the others; excerpts already cut are reused.
    min_rms = 10 ** (MUSIC_MIN_RMS_DB / 20)
    memo: dict[tuple[int, int], tuple[torch.Tensor, _Excerpt]] = {}
    silent: set[int] = set()
    with tqdm(total=n, desc="mini: music", disable=not progress, leave=False) as bar:
        while True:
            counts = [0 if t in silent else c for t, c in enumerate(capacity)]
            if sum(counts) < n:
                raise AudiospecError(
                    f"the music files offer only {sum(counts)} non-overlapping, non-silent {clip_seconds} s clips, "
                    f"fewer than n_per_class={n}; lower n_per_class or clip_seconds, or add music"
                )
            clips = []
            for track, slot in spread_selection(counts, k=n):
                if (track, slot) not in memo:
                    memo[(track, slot)] = cut(track, slot)
                    bar.update(1)
                clip, excerpt = memo[(track, slot)]
                if float(clip.pow(2).mean().sqrt()) < min_rms:
                    silent.add(track)
                    break
                clips.append((clip, [excerpt]))
            else:
                return clips, [spans[t][0] for t in sorted(silent)]


def _speech_clips(files: list[Path], *, n: int, clip_seconds: float, sample_rate: int,
                  progress: bool) -> list[tuple[torch.Tensor, list[_Excerpt]]]:
    length = duration_frames(clip_seconds, sample_rate=sample_rate)
    gap = torch.zeros(duration_frames(SPEECH_GAP_SECONDS, sample_rate=sample_rate))
    if len(files) < n:
        raise AudiospecError(f"only {len(files)} speech files for n_per_class={n}; lower n_per_class or add speech")
    starts = spread_indices(len(files), k=n) + [len(files)]
    clips = []
    for i in tqdm(range(n), desc="mini: speech", disable=not progress, leave=False):
        pieces: list[torch.Tensor] = []
        excerpts: list[_Excerpt] = []
        filled = 0
        for path in files[starts[i]: starts[i + 1]]:
            if filled >= length:
                break
            try:
                wave, _ = read_audio(path, sample_rate=sample_rate, mono=True)
            except AudiospecError as err:
                warnings.warn(f"skipping speech file {str(path)!r}: {err}", stacklevel=3)
                continue
            lo, hi = _trim_silence(wave, sample_rate=sample_rate, top_db=SPEECH_TRIM_TOP_DB)
            if hi <= lo:
                continue
            if pieces:
                pieces.append(gap)
                filled += gap.shape[-1]
            used = min(hi - lo, max(0, length - filled))
            if used == 0:
                break
            pieces.append(wave[lo: lo + used])
            excerpts.append(_Excerpt(file=path, offset=lo / sample_rate, duration=used / sample_rate))
            filled += used
        if filled < length:
            raise AudiospecError(
                f"speech clip {i} could not be filled: the utterances {starts[i]}..{starts[i + 1] - 1} hold less "
                f"than {clip_seconds} s of speech; lower n_per_class or clip_seconds, or add speech files"
            )
        clips.append((torch.cat(pieces)[:length], excerpts))
    return clips


def _settings(*, music_dir: Path | None, speech_dir: Path | None, n_per_class: int, clip_seconds: float,
              sample_rate: int) -> dict[str, object]:
    return {
        "version": _MANIFEST_VERSION,
        "music_dir": str(music_dir.resolve()) if music_dir is not None else str(WESNOTH_MUSIC_DIR),
        "speech_dir": str(speech_dir.resolve()) if speech_dir is not None else str(FILLETS_SOUND_DIR),
        "n_per_class": n_per_class,
        "clip_seconds": float(clip_seconds),
        "sample_rate": sample_rate,
    }


def _check_arguments(n_per_class: int, clip_seconds: float, sample_rate: int) -> None:
    if isinstance(n_per_class, bool) or not isinstance(n_per_class, int) or n_per_class < 1:
        raise AudiospecError(f"n_per_class must be a positive integer, got {n_per_class!r}")
    if isinstance(clip_seconds, bool) or not isinstance(clip_seconds, (int, float)) or not (
            math.isfinite(clip_seconds) and clip_seconds > 0):
        raise AudiospecError(f"clip_seconds must be a positive number of seconds, got {clip_seconds!r}")
    if isinstance(sample_rate, bool) or not isinstance(sample_rate, int) or sample_rate <= 0:
        raise AudiospecError(f"sample_rate must be a positive integer (Hz), got {sample_rate!r}")
    if duration_frames(clip_seconds, sample_rate=sample_rate) < 1:
        raise AudiospecError(f"clip_seconds={clip_seconds} is shorter than one sample at {sample_rate} Hz")


def _source_dir(label: str, folder: Path | None) -> Path | None:
    """``folder`` as a Path (None: the Debian package's); raises when it is not an existing folder."""
    if folder is not None and not Path(folder).is_dir():
        raise AudiospecError(f"{label}={str(folder)!r} is not an existing folder; check the path")
    return Path(folder) if folder is not None else None


def _already_prepared(out_dir: Path, settings: dict[str, object]) -> bool:
    """True when ``out_dir`` holds a corpus cut with ``settings``; raises when it holds anything else."""
    marker = out_dir / ".completed"
    if marker.is_file():
        previous = json.loads(marker.read_text())
        if previous == settings:
            return True
        raise AudiospecError(
            f"{str(out_dir)!r} already holds a mini corpus prepared with {previous}, not {settings}; "
            "delete the folder to re-cut it, or choose another out_dir"
        )
    if out_dir.exists() and any(out_dir.iterdir()):
        raise AudiospecError(
            f"{str(out_dir)!r} exists, is not empty and is not a prepared mini corpus (no .completed marker); "
            "delete it or choose another out_dir"
        )
    return False


def _source_files(music_dir: Path | None, speech_dir: Path | None, *, install: bool) -> tuple[list[Path], list[Path]]:
    """The music and speech files: those under the given folders, else the Debian packages'."""
    if music_dir is None or speech_dir is None:
        default_music, default_speech = _default_files(install=install)
    music = _audio_files(music_dir) if music_dir is not None else default_music
    speech = _audio_files(speech_dir) if speech_dir is not None else default_speech
    for label, files, folder in (("music", music, music_dir), ("speech", speech, speech_dir)):
        if not files:
            raise AudiospecError(f"no audio files ({', '.join(AUDIO_EXTENSIONS)}) for {label} under {str(folder)!r}")
    return music, speech


def _write_corpus(out_dir: Path, cut: dict[str, list[tuple[torch.Tensor, list[_Excerpt]]]], *, sample_rate: int,
                  settings: dict[str, object], silent_tracks: list[Path], defaults_used: dict[str, bool]) -> None:
    """Write the clips (peak-limited), ``manifest.json`` and ``.completed`` to a temp folder renamed ``out_dir``."""
    width = max(3, max(len(str(len(clips) - 1)) for clips in cut.values()))  # n_per_class clips per class
    out_dir.parent.mkdir(parents=True, exist_ok=True)
    tmp = Path(tempfile.mkdtemp(prefix=f".{out_dir.name}.tmp-", dir=out_dir.parent))
    try:
        entries = []
        for label, clips in cut.items():
            for index, (clip, excerpts) in enumerate(clips):
                clip, gain = _peak_safe(clip)
                rel = f"{label}/{index:0{width}d}.wav"
                write_wav(tmp / rel, clip, sample_rate=sample_rate, subtype="PCM_16")
                entries.append({
                    "file": rel, "label": label, "duration": clip.shape[-1] / sample_rate, "sample_rate": sample_rate,
                    "gain": gain,
                    "sources": [{"file": str(e.file), "offset": round(e.offset, 4), "duration": round(e.duration, 4)}
                                for e in excerpts],
                })
        write_json(tmp / "manifest.json", {
            "name": "audiospec-mini",
            **settings,
            "classes": {label: len(clips) for label, clips in cut.items()},
            "packages": [{"name": p.name, "license": p.license, "role": p.role, "homepage": p.homepage}
                         for p in MINI_PACKAGES if defaults_used[p.role]],
            "method": {
                "music_head_skip_seconds": MUSIC_HEAD_SKIP_SECONDS, "music_tail_skip_seconds": MUSIC_TAIL_SKIP_SECONDS,
                "music_min_rms_db": MUSIC_MIN_RMS_DB,
                "music_tracks_left_out_as_silent": [str(p) for p in silent_tracks],
                "speech_gap_seconds": SPEECH_GAP_SECONDS, "speech_trim_top_db": SPEECH_TRIM_TOP_DB,
                "peak_limit": PEAK_LIMIT, "subtype": "PCM_16",
            },
            "clips": entries,
        })
        write_json(tmp / ".completed", settings)
        if out_dir.exists():
            out_dir.rmdir()  # empty (checked before cutting)
        tmp.rename(out_dir)
    finally:
        if tmp.exists():
            shutil.rmtree(tmp, ignore_errors=True)


def prepare_mini(
    out_dir: str | Path,
    *,
    music_dir: Path | None = None,
    speech_dir: Path | None = None,
    n_per_class: int = 64,
    clip_seconds: float = 6.0,
    sample_rate: int = 22050,
    install: bool = False,
    progress: bool = True,
) -> Path:
    """Cut the embedded music/speech corpus into ``out_dir`` (idempotent); returns ``out_dir``.

    Args:
        out_dir: output folder, e.g. ``data/mini``; built in a temporary folder and
            renamed when complete.
        music_dir: folder of music recordings (default: the ``wesnoth-1.16-music`` tracks).
        speech_dir: folder of short speech recordings, searched recursively (default: the
            ``*/cs/*.ogg`` clips of ``fillets-ng-data-cs``).
        n_per_class: clips per class.
        clip_seconds: clip length.
        sample_rate: output rate (Hz).
        install: when the default packages are missing, run
            ``[sudo] apt-get install -y --no-install-recommends wesnoth-1.16-music fillets-ng-data-cs``
            (with ``apt-get update`` and a retry if that fails). Off by default: the library
            only reports what is missing and the command that installs it; the Makefile's
            ``corpus`` target and ``audiospec prepare mini --install-packages`` turn it on.
        progress: show progress bars.

    Returns:
        ``out_dir`` as a :class:`~pathlib.Path`.

    Output:
        ``out_dir/music/000.wav ...``, ``out_dir/speech/000.wav ...`` (mono PCM_16),
        ``out_dir/manifest.json`` and ``out_dir/.completed`` (the settings, as JSON).

    Raises:
        AudiospecError: missing packages and ``install=False`` (with the command), a failed
            install, too little audio for the request, ``out_dir`` holding something else, or
            ``out_dir`` already prepared with different settings.
    """
    _check_arguments(n_per_class, clip_seconds, sample_rate)
    out_dir = Path(out_dir)
    music_dir, speech_dir = _source_dir("music_dir", music_dir), _source_dir("speech_dir", speech_dir)
    settings = _settings(music_dir=music_dir, speech_dir=speech_dir, n_per_class=n_per_class,
                         clip_seconds=clip_seconds, sample_rate=sample_rate)
    if _already_prepared(out_dir, settings):
        return out_dir
    music, speech = _source_files(music_dir, speech_dir, install=install)
    music_clips, silent_tracks = _music_clips(music, n=n_per_class, clip_seconds=clip_seconds,
                                              sample_rate=sample_rate, progress=progress)
    speech_clips = _speech_clips(speech, n=n_per_class, clip_seconds=clip_seconds, sample_rate=sample_rate,
                                 progress=progress)
    _write_corpus(out_dir, {"music": music_clips, "speech": speech_clips}, sample_rate=sample_rate, settings=settings,
                  silent_tracks=silent_tracks, defaults_used={"music": music_dir is None, "speech": speech_dir is None})
    return out_dir
