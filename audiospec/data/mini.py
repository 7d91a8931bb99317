"""The embedded offline corpus ``mini``: real music and speech cut from two Debian packages.

- music: the 41 orchestral OGG tracks of ``wesnoth-1.16-music`` (44.1 kHz stereo, GPL-2+),
  in :data:`WESNOTH_MUSIC_DIR`;
- speech: the 1,882 Czech voice-actor dialogue clips of ``fillets-ng-data-cs``
  (22.05 kHz mono, GPL-2), ``*/cs/*.ogg`` under :data:`FILLETS_SOUND_DIR`.

:func:`prepare_mini` cuts a balanced, deterministic set of ``n_per_class`` clips per class
with the shared routines of :mod:`audiospec.data.cutting`: music clips spread over the
tracks round-robin (:func:`~audiospec.data.cutting.cut_music`, silent tracks left out),
speech clips spread over the whole sorted list of utterances
(:func:`~audiospec.data.cutting.cut_speech_spread`: clip ``i`` starts at utterance
``floor(i * N / n)``, so the clips cover many levels and characters). Every clip is mono,
resampled to ``sample_rate``, scaled down only if its peak exceeds
:data:`~audiospec.data.staging.PEAK_LIMIT` (the gain is recorded), and written as 16-bit
PCM to ``out_dir/{music,speech}/NNN.wav`` with ``manifest.json`` (clip provenance,
packages, licences) and a ``.completed`` marker holding the settings
(:class:`~audiospec.data.staging.CorpusWriter`). The larger corpus beside it is
:mod:`audiospec.data.debian`.
"""

from __future__ import annotations

from pathlib import Path

from audiospec.data.audio import AUDIO_EXTENSIONS
from audiospec.data.cutting import (
    MUSIC_HEAD_SKIP_SECONDS,
    MUSIC_MIN_RMS_DB,
    MUSIC_TAIL_SKIP_SECONDS,
    SPEECH_GAP_SECONDS,
    SPEECH_TRIM_TOP_DB,
    check_cut_arguments,
    cut_music,
    cut_speech_spread,
    music_slots,
)
from audiospec.data.packages import (
    ClipLabel, DebianPackage, InFolder, SourceFile, SourceSet, audio_files, find_sources,
)
from audiospec.data.staging import PEAK_LIMIT, CorpusWriter, already_prepared
from audiospec.errors import AudiospecError

__all__ = [
    "FILLETS_SOUND_DIR", "MINI_PACKAGES", "MINI_SOURCES", "WESNOTH_MUSIC_DIR", "prepare_mini",
]

WESNOTH_MUSIC_DIR = Path("/usr/share/games/wesnoth/1.16/data/core/music")
FILLETS_SOUND_DIR = Path("/usr/share/games/fillets-ng/sound")
_MANIFEST_VERSION = 1

MINI_PACKAGES: tuple[DebianPackage, ...] = (
    DebianPackage(name="wesnoth-1.16-music", license="GPL-2+", role="music", homepage="https://www.wesnoth.org"),
    DebianPackage(name="fillets-ng-data-cs", license="GPL-2", role="speech",
                  homepage="https://fillets.sourceforge.net"),
)


MINI_SOURCES: tuple[SourceSet, ...] = (
    SourceSet(package=MINI_PACKAGES[0], label="music", folder=WESNOTH_MUSIC_DIR),
    SourceSet(package=MINI_PACKAGES[1], label="speech", folder=FILLETS_SOUND_DIR, keep=InFolder("cs")),
)


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


def _source_dir(label: str, folder: Path | None) -> Path | None:
    """``folder`` as a Path (None: the Debian package's); raises when it is not an existing folder."""
    if folder is not None and not Path(folder).is_dir():
        raise AudiospecError(f"{label}={str(folder)!r} is not an existing folder; check the path")
    return Path(folder) if folder is not None else None


def _source_files(given: dict[ClipLabel, Path | None], *, install: bool) -> dict[ClipLabel, list[SourceFile]]:
    """The music and speech files: those under the given folders, else the Debian packages'."""
    needed = [s for s in MINI_SOURCES if given[s.label] is None]
    files = find_sources(needed, corpus="mini", install=install,
                         hint="or point music_dir / speech_dir at other recordings") if needed else {}
    for label, folder in given.items():
        if folder is not None:
            files[label] = [SourceFile(path=p, group=None) for p in audio_files(folder)]
        if not files.get(label):
            raise AudiospecError(f"no audio files ({', '.join(AUDIO_EXTENSIONS)}) for {label} under {str(folder)!r}")
    return files


def _fields(silent_tracks: list[Path], defaults_used: dict[str, bool]) -> dict[str, object]:
    """The manifest's packages and method."""
    return {
        "packages": [p.record() for p in MINI_PACKAGES if defaults_used[p.role]],
        "method": {
            "music_head_skip_seconds": MUSIC_HEAD_SKIP_SECONDS, "music_tail_skip_seconds": MUSIC_TAIL_SKIP_SECONDS,
            "music_min_rms_db": MUSIC_MIN_RMS_DB,
            "music_tracks_left_out_as_silent": [str(p) for p in silent_tracks],
            "speech_gap_seconds": SPEECH_GAP_SECONDS, "speech_trim_top_db": SPEECH_TRIM_TOP_DB,
            "peak_limit": PEAK_LIMIT, "subtype": "PCM_16",
        },
    }


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
    if n_per_class is None:
        raise AudiospecError("n_per_class must be a positive integer for the mini corpus, got None")
    check_cut_arguments(n_per_class, clip_seconds, sample_rate)
    out_dir = Path(out_dir)
    music_dir, speech_dir = _source_dir("music_dir", music_dir), _source_dir("speech_dir", speech_dir)
    settings = _settings(music_dir=music_dir, speech_dir=speech_dir, n_per_class=n_per_class,
                         clip_seconds=clip_seconds, sample_rate=sample_rate)
    if already_prepared(out_dir, settings, corpus="mini"):
        return out_dir
    files = _source_files({"music": music_dir, "speech": speech_dir}, install=install)
    with CorpusWriter(out_dir, sample_rate=sample_rate) as writer:
        music, silent = cut_music(music_slots(files["music"], clip_seconds=clip_seconds), n=n_per_class,
                                  clip_seconds=clip_seconds, sample_rate=sample_rate, sink=writer, progress=progress,
                                  desc="mini: music")
        speech = cut_speech_spread(files["speech"], n=n_per_class, clip_seconds=clip_seconds, sample_rate=sample_rate,
                                   sink=writer, progress=progress, desc="mini: speech")
        fields = _fields(silent, {"music": music_dir is None, "speech": speech_dir is None})
        return writer.finish({"music": music, "speech": speech}, name="audiospec-mini", settings=settings,
                             fields=fields)
