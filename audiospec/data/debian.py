"""The larger prepared corpus ``debian``: hours of real music and speech from six Debian packages.

Beside ``mini`` (the demo's 64 + 64 clips), for models trained to convergence:

- music, one recording per track (:data:`DEBIAN_SOURCES`): the orchestral tracks of
  ``wesnoth-1.16-music``, the three Warzone 2100 albums of ``warzone2100-music`` (Opus),
  the CD soundtrack of Drascula (``drascula-music``) and the Fish Fillets tracks of
  ``fillets-ng-data``; a remake or an old version of a track (``track3_enhanced``,
  ``menu_enhanced``, ``frantic-old``) is the same recording as the track (:func:`_track`);
- speech: the Czech and Dutch voice-actor dialogue of ``fillets-ng-data-cs`` and
  ``fillets-ng-data-nl``, ``<level>/<language>/<level code>-<speaker>-<line>.ogg``; a
  recording is one speaker's lines in one level and language (:func:`_speaker_in_level`).
  The two fish are voiced by the same actor in every level of a language, so the split
  keeps a level's lines together, not a voice.

:func:`prepare_debian` packs every speech recording into as many clips as it fills
(:func:`~audiospec.data.cutting.cut_speech_packed`: a clip never mixes two recordings),
spreads as many music clips over the tracks (:func:`~audiospec.data.cutting.cut_music`),
so the classes hold the same minutes (speech is the scarcer class), and writes them with
the ``mini`` layout, manifest (provenance, licence, gain and the ``group`` of every clip,
which :func:`~audiospec.data.split.split_corpus` keeps in one split) and ``.completed``
marker. Everything is deterministic given the installed package versions (recorded).
"""

from __future__ import annotations

import re
from pathlib import Path, PurePosixPath

from audiospec.data.cutting import (
    MUSIC_HEAD_SKIP_SECONDS,
    MUSIC_MIN_RMS_DB,
    MUSIC_TAIL_SKIP_SECONDS,
    SPEECH_GAP_SECONDS,
    SPEECH_TRIM_TOP_DB,
    check_cut_arguments,
    cut_music,
    cut_speech_packed,
    music_slots,
)
from audiospec.data.packages import DebianPackage, InFolder, SourceSet, find_sources, installed_version
from audiospec.data.selection import spread_selection
from audiospec.data.staging import PEAK_LIMIT, CorpusWriter, already_prepared
from audiospec.errors import AudiospecError

__all__ = ["DEBIAN_PACKAGES", "DEBIAN_SOURCES", "prepare_debian"]

_MANIFEST_VERSION = 1
_FILLETS = "http://fillets.sourceforge.net/"
_FILLETS_SOUND = Path("/usr/share/games/fillets-ng/sound")

WESNOTH = DebianPackage(name="wesnoth-1.16-music", license="GPL-2+", role="music", homepage="http://wesnoth.org/")
WARZONE = DebianPackage(
    name="warzone2100-music", license="GPL-2+", role="music", homepage="http://www.wz2100.net/",
    note="Debian copyright: GPL-2+; upstream license.txt: the Legacy and Aftermath albums (LupusMechanicus) "
         "are also CC-BY-SA-3.0 or later",
)
DRASCULA = DebianPackage(
    name="drascula-music", license="Drascula-License", role="music", homepage="https://www.scummvm.org",
    note="Alcachofa Soft's freeware licence: free redistribution with its notices, no fee for the game itself "
         "(Debian main)",
)
FILLETS_MUSIC = DebianPackage(name="fillets-ng-data", license="GPL-2", role="music", homepage=_FILLETS)
FILLETS_CS = DebianPackage(name="fillets-ng-data-cs", license="GPL-2", role="speech", homepage=_FILLETS)
FILLETS_NL = DebianPackage(name="fillets-ng-data-nl", license="GPL-2", role="speech", homepage=_FILLETS)
DEBIAN_PACKAGES: tuple[DebianPackage, ...] = (WESNOTH, WARZONE, DRASCULA, FILLETS_MUSIC, FILLETS_CS, FILLETS_NL)


def _track(rel: PurePosixPath) -> str:
    """A track's recording: its name without a remake's ``_enhanced`` or an old version's ``-old``."""
    return re.sub(r"(_enhanced|-old)$", "", rel.stem)


def _speaker_in_level(rel: PurePosixPath) -> str:
    """``<level>/<lang>/<code>-<speaker>-<line>.ogg`` -> ``<lang>/<level>/<speaker>`` (``other`` without a speaker)."""
    fields = re.split(r"[-_]", rel.stem)
    return f"{rel.parent.name}/{rel.parts[0]}/{fields[1] if len(fields) >= 3 else 'other'}"


_TRACK_RULE = "one recording per track; a remake or old version (_enhanced, -old) is the track's recording"
_SPEAKER_RULE = "one recording per speaker (second field of the file name) per level and language"
DEBIAN_SOURCES: tuple[SourceSet, ...] = (
    SourceSet(package=WESNOTH, label="music", folder=Path("/usr/share/games/wesnoth/1.16/data/core/music"),
              group=_track, grouping=_TRACK_RULE),
    SourceSet(package=WARZONE, label="music", folder=Path("/usr/share/games/warzone2100/music"),
              group=_track, grouping=_TRACK_RULE),
    SourceSet(package=DRASCULA, label="music", folder=Path("/usr/share/scummvm/drascula/audio"),
              group=_track, grouping=_TRACK_RULE),
    SourceSet(package=FILLETS_MUSIC, label="music", folder=Path("/usr/share/games/fillets-ng/music"),
              group=_track, grouping=_TRACK_RULE),
    SourceSet(package=FILLETS_CS, label="speech", folder=_FILLETS_SOUND, keep=InFolder("cs"),
              group=_speaker_in_level, grouping=_SPEAKER_RULE),
    SourceSet(package=FILLETS_NL, label="speech", folder=_FILLETS_SOUND, keep=InFolder("nl"),
              group=_speaker_in_level, grouping=_SPEAKER_RULE),
)


def _settings(*, package_root: Path, n_per_class: int | None, clip_seconds: float,
              sample_rate: int) -> dict[str, object]:
    return {
        "version": _MANIFEST_VERSION,
        "packages": [p.name for p in DEBIAN_PACKAGES],
        "package_root": str(package_root.resolve()),
        "n_per_class": n_per_class,
        "clip_seconds": float(clip_seconds),
        "sample_rate": sample_rate,
    }


def _fields(*, package_root: Path, silent: list[Path], recordings: dict[str, int], n: int,
            clip_seconds: float) -> dict[str, object]:
    """The manifest's packages (with the installed versions), sizes and method."""
    real = package_root.resolve() == Path("/")
    return {
        "packages": [{**p.record(), "version": installed_version(p.name) if real else None}
                     for p in DEBIAN_PACKAGES],
        "recordings": recordings,
        "minutes_per_class": round(n * clip_seconds / 60, 2),
        "method": {
            "music_head_skip_seconds": MUSIC_HEAD_SKIP_SECONDS, "music_tail_skip_seconds": MUSIC_TAIL_SKIP_SECONDS,
            "music_min_rms_db": MUSIC_MIN_RMS_DB,
            "music_tracks_left_out_as_silent": [str(p) for p in silent],
            "speech_gap_seconds": SPEECH_GAP_SECONDS, "speech_trim_top_db": SPEECH_TRIM_TOP_DB,
            "speech_plan": "each recording packed into consecutive clips, its rest (< 1 clip) left out",
            "balance": "as many music clips as speech clips, spread over the tracks round-robin",
            "grouping": {s.package.name: s.grouping for s in DEBIAN_SOURCES},
            "peak_limit": PEAK_LIMIT, "subtype": "PCM_16",
        },
    }


def _clip_count(speech: int, music: int, n_per_class: int | None) -> int:
    """Clips per class: all the speech clips, as many music clips (or ``n_per_class``); raises when short."""
    available = min(speech, music)
    if n_per_class is None:
        if available == 0:
            raise AudiospecError(
                f"the packages give {speech} speech clips and at most {music} music clips of this length; "
                "use shorter clip_seconds or check the installed packages"
            )
        return available
    if n_per_class > available:
        raise AudiospecError(
            f"n_per_class={n_per_class} but the packages give only {speech} speech clips and at most {music} "
            "music clips; "
            f"use n_per_class <= {available}, or None for all of them"
        )
    return n_per_class


def prepare_debian(
    out_dir: str | Path,
    *,
    n_per_class: int | None = None,
    clip_seconds: float = 6.0,
    sample_rate: int = 22050,
    install: bool = False,
    progress: bool = True,
    package_root: str | Path = "/",
) -> Path:
    """Cut the ``debian`` corpus into ``out_dir`` (idempotent).

    Args:
        out_dir: output folder, e.g. ``data/debian``; built in a temporary folder and
            renamed when complete.
        n_per_class: clips per class; ``None`` (default): every speech clip the packages
            fill and as many music clips.
        clip_seconds: clip length.
        sample_rate: output rate (Hz).
        install: when packages are missing, run ``[sudo] apt-get install -y
            --no-install-recommends`` with the six packages of :data:`DEBIAN_PACKAGES`
            (``apt-get update`` and a retry if that fails); ``audiospec prepare debian
            --install-packages`` turns it on.
        progress: show progress bars.
        package_root: the folder the packages' paths are under: ``/`` (installed packages),
            or a tree laid out like them (tests).

    Output:
        ``out_dir/music/0000.wav ...``, ``out_dir/speech/0000.wav ...`` (mono PCM_16),
        ``out_dir/manifest.json`` (clips with provenance, gain and ``group``; packages with
        licence and installed version; recordings and minutes per class) and
        ``out_dir/.completed`` (the settings).

    Returns:
        ``out_dir`` as a :class:`~pathlib.Path`.

    Raises:
        AudiospecError: missing packages and ``install=False`` (with the command), a failed
            install, fewer clips than ``n_per_class``, ``out_dir`` holding something else,
            or ``out_dir`` already prepared with different settings.
    """
    check_cut_arguments(n_per_class, clip_seconds, sample_rate)
    out_dir, package_root = Path(out_dir), Path(package_root)
    settings = _settings(package_root=package_root, n_per_class=n_per_class, clip_seconds=clip_seconds,
                         sample_rate=sample_rate)
    if already_prepared(out_dir, settings, corpus="debian"):
        return out_dir
    files = find_sources(DEBIAN_SOURCES, corpus="debian", package_root=package_root, install=install)
    with CorpusWriter(out_dir, sample_rate=sample_rate) as writer:
        counts = cut_speech_packed(files["speech"], clip_seconds=clip_seconds, sample_rate=sample_rate, sink=writer,
                                   progress=progress, desc="debian: speech")
        spans = music_slots(files["music"], clip_seconds=clip_seconds)
        n = _clip_count(sum(counts), sum(span.slots for span in spans), n_per_class)
        music, silent = cut_music(spans, n=n, clip_seconds=clip_seconds, sample_rate=sample_rate, sink=writer,
                                  progress=progress, desc="debian: music")
        speech = spread_selection(counts, k=n)  # all of them unless music or n_per_class is the limit
        recordings = {"music": len({spans[track].source.group for track, _ in music}),
                      "speech": len({group for group, _ in speech})}
        fields = _fields(package_root=package_root, silent=silent, recordings=recordings, n=n,
                         clip_seconds=clip_seconds)
        return writer.finish({"music": music, "speech": speech}, name="audiospec-debian", settings=settings,
                             fields=fields)
