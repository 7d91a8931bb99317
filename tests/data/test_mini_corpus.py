"""prepare_mini on small generated OGG folders (deterministic, idempotent, balanced) and the package logic."""

from __future__ import annotations

import dataclasses
import json
import subprocess
import time
from pathlib import Path

import numpy as np
import pytest
import soundfile as sf
import torch
from helpers_data import peak_frequency, sine

from audiospec.data import (
    MINI_PACKAGES, DataConfig, install_command, load_corpus, prepare_dataset, prepare_mini, read_audio,
)
from audiospec.data import mini as mini_module
from audiospec.errors import AudiospecError

RATE = 8000
CLIP = 1.0


def _write_ogg(path: Path, samples: np.ndarray, rate: int) -> None:
    path.parent.mkdir(parents=True, exist_ok=True)
    sf.write(str(path), samples, rate, format="OGG", subtype="VORBIS")


@pytest.fixture(scope="module")
def fake_dirs(tmp_path_factory) -> tuple[Path, Path]:
    """3 stereo 'tracks' of 10.5 s at 16 kHz + a silent one; 8 'utterances': 0.2 s silence, 0.6 s tone, 0.2 s silence."""
    base = tmp_path_factory.mktemp("mini_src")
    music, speech = base / "music", base / "speech"
    for i, freq in enumerate((220.0, 330.0, 550.0)):
        _write_ogg(music / f"track{i}.ogg", sine(freq, sample_rate=16000, seconds=10.5, channels=2), 16000)
    _write_ogg(music / "silence.ogg", np.zeros((16000 * 11, 2), dtype=np.float32), 16000)
    pad = np.zeros(int(0.2 * RATE), dtype=np.float32)
    for i in range(8):
        tone = sine(600.0 + 50 * i, sample_rate=RATE, seconds=0.6, amplitude=0.4)
        _write_ogg(speech / f"level{i // 4}" / "cs" / f"line{i}.ogg", np.concatenate([pad, tone, pad]), RATE)
    return music, speech


def _prepare(out: Path, dirs: tuple[Path, Path], **kwargs) -> Path:
    music, speech = dirs
    return prepare_mini(out, music_dir=music, speech_dir=speech, n_per_class=4, clip_seconds=CLIP,
                        sample_rate=RATE, progress=False, **kwargs)


def test_prepare_mini_is_balanced_and_documented(tmp_path, fake_dirs):
    out = _prepare(tmp_path / "mini", fake_dirs)
    assert sorted(p.name for p in (out / "music").iterdir()) == ["000.wav", "001.wav", "002.wav", "003.wav"]
    assert sorted(p.name for p in (out / "speech").iterdir()) == ["000.wav", "001.wav", "002.wav", "003.wav"]
    manifest = json.loads((out / "manifest.json").read_text())
    assert manifest["classes"] == {"music": 4, "speech": 4}
    assert manifest["packages"] == []  # custom folders: no Debian package involved
    assert manifest["method"]["music_tracks_left_out_as_silent"] == [str(fake_dirs[0] / "silence.ogg")]
    clips = manifest["clips"]
    assert all(c["duration"] == CLIP and c["sample_rate"] == RATE for c in clips)
    for clip in clips:
        wave, rate = read_audio(out / clip["file"], mono=False)
        assert rate == RATE and wave.shape == (1, RATE)  # mono, 22.05 kHz in real use, 8 kHz here
    # music: spread over the three audible tracks (10.5 s - 5 s head - 3 s tail = 2 slots each), none from silence
    music = [c for c in clips if c["label"] == "music"]
    tracks = [Path(c["sources"][0]["file"]).name for c in music]
    assert sorted(set(tracks)) == ["track0.ogg", "track1.ogg", "track2.ogg"]
    assert all(5.0 <= c["sources"][0]["offset"] <= 10.5 - 3.0 - CLIP for c in music)
    first_music, _ = read_audio(out / music[0]["file"])
    assert peak_frequency(first_music, sample_rate=RATE) == pytest.approx(220.0, abs=4)
    # speech: two trimmed utterances per clip (0.6 s + 0.15 s gap + 0.25 s), spread over the 8 lines
    speech = [c for c in clips if c["label"] == "speech"]
    assert [[Path(s["file"]).name for s in c["sources"]] for c in speech] == [
        ["line0.ogg", "line1.ogg"], ["line2.ogg", "line3.ogg"], ["line4.ogg", "line5.ogg"], ["line6.ogg", "line7.ogg"],
    ]
    first = speech[0]["sources"][0]
    # trimmed to the tone, within 40 ms (Vorbis smears onsets by a transform window at 8 kHz)
    assert first["offset"] == pytest.approx(0.2, abs=0.04) and first["duration"] == pytest.approx(0.6, abs=0.08)
    wave, _ = read_audio(out / speech[0]["file"])
    gap_start = int(round(first["duration"] * RATE))
    assert float(wave[gap_start + 100: gap_start + int(0.15 * RATE) - 100].abs().max()) < 1e-3  # the gap is silent
    assert float(wave[: gap_start - 100].abs().max()) > 0.3  # speech right from the start (silence trimmed)


def test_prepare_mini_is_deterministic_and_idempotent(tmp_path, fake_dirs):
    a = _prepare(tmp_path / "a", fake_dirs)
    b = _prepare(tmp_path / "b", fake_dirs)
    for label in ("music", "speech"):
        for path in sorted((a / label).iterdir()):
            assert path.read_bytes() == (b / label / path.name).read_bytes()
    assert (a / "manifest.json").read_text() == (b / "manifest.json").read_text()
    stamp = (a / "music" / "000.wav").stat().st_mtime_ns
    started = time.perf_counter()
    assert _prepare(tmp_path / "a", fake_dirs) == a
    assert time.perf_counter() - started < 0.1
    assert (a / "music" / "000.wav").stat().st_mtime_ns == stamp
    with pytest.raises(AudiospecError, match=r"already holds a mini corpus prepared with .*delete the folder"):
        prepare_mini(a, music_dir=fake_dirs[0], speech_dir=fake_dirs[1], n_per_class=2, clip_seconds=CLIP,
                     sample_rate=RATE, progress=False)


def test_prepare_mini_refuses_a_foreign_folder_and_too_little_audio(tmp_path, fake_dirs):
    (tmp_path / "busy").mkdir()
    (tmp_path / "busy" / "mine.txt").write_text("keep me")
    with pytest.raises(AudiospecError, match=r"exists, is not empty and is not a prepared mini corpus"):
        _prepare(tmp_path / "busy", fake_dirs)
    assert (tmp_path / "busy" / "mine.txt").read_text() == "keep me"
    with pytest.raises(AudiospecError, match=r"offer only 6 non-overlapping, non-silent 1\.0 s clips.*n_per_class=7"):
        prepare_mini(tmp_path / "m", music_dir=fake_dirs[0], speech_dir=fake_dirs[1], n_per_class=7,
                     clip_seconds=CLIP, sample_rate=RATE, progress=False)
    with pytest.raises(AudiospecError, match=r"music_dir='.*nowhere' is not an existing folder"):
        prepare_mini(tmp_path / "m", music_dir=tmp_path / "nowhere", speech_dir=fake_dirs[1], progress=False)
    assert not (tmp_path / "m").exists()
    assert sorted(p.name for p in tmp_path.iterdir()) == ["busy"]  # no temporary folders left


def test_load_corpus_mini_reads_data_dir_mini(tmp_path, fake_dirs):
    _prepare(tmp_path / "data" / "mini", fake_dirs)
    corpus = load_corpus(DataConfig(dataset="mini", data_dir=str(tmp_path / "data"), sample_rate=RATE,
                                    clip_seconds=0.5), progress=False)
    assert corpus.classes == ["music", "speech"] and len(corpus) == 16  # 8 clips of 1 s -> 16 of 0.5 s
    assert corpus.waveforms.dtype == torch.float32


def _no_packages(monkeypatch, tmp_path) -> None:
    """The mini corpus's package folders point at empty places (the packages look uninstalled)."""
    music, speech = mini_module.MINI_SOURCES
    monkeypatch.setattr(mini_module, "MINI_SOURCES", (dataclasses.replace(music, folder=tmp_path / "no-music"),
                                                      dataclasses.replace(speech, folder=tmp_path / "no-speech")))


def test_missing_packages_without_install_gives_the_command(tmp_path, monkeypatch):
    _no_packages(monkeypatch, tmp_path)
    with pytest.raises(AudiospecError, match=r"apt-get install -y --no-install-recommends wesnoth-1\.16-music "
                                             r"fillets-ng-data-cs"):
        prepare_dataset("mini", data_dir=tmp_path / "data", install=False, progress=False)
    assert not (tmp_path / "data" / "mini").exists()


def test_install_runs_apt_get_then_update_and_retry(tmp_path, monkeypatch):
    _no_packages(monkeypatch, tmp_path)
    calls: list[list[str]] = []

    def fake_run(command, **kwargs):
        calls.append(command)
        failed = len(calls) == 1  # the first install fails (stale package lists)
        return subprocess.CompletedProcess(command, 1 if failed else 0)

    monkeypatch.setattr(subprocess, "run", fake_run)
    with pytest.raises(AudiospecError,
                       match=r"installed but no recordings were found.*dpkg -L fillets-ng-data-cs wesnoth-1\.16-music"):
        prepare_mini(tmp_path / "mini", install=True, progress=False)
    tails = [c[c.index("apt-get"):] for c in calls]
    assert tails == [
        ["apt-get", "install", "-y", "--no-install-recommends", "wesnoth-1.16-music", "fillets-ng-data-cs"],
        ["apt-get", "update"],
        ["apt-get", "install", "-y", "--no-install-recommends", "wesnoth-1.16-music", "fillets-ng-data-cs"],
    ]


def test_install_command_uses_sudo_only_when_not_root():
    assert install_command(MINI_PACKAGES, root=True)[0] == "apt-get"
    assert install_command(MINI_PACKAGES, root=False)[:2] == ["sudo", "apt-get"]


@pytest.mark.skipif(not (mini_module.WESNOTH_MUSIC_DIR.is_dir() and mini_module.FILLETS_SOUND_DIR.is_dir()),
                    reason="the Debian packages wesnoth-1.16-music / fillets-ng-data-cs are not installed")
def test_real_packages_small_cut(tmp_path):
    out = prepare_mini(tmp_path / "mini", n_per_class=3, clip_seconds=2.0, install=False, progress=False)
    manifest = json.loads((out / "manifest.json").read_text())
    assert [p["name"] for p in manifest["packages"]] == ["wesnoth-1.16-music", "fillets-ng-data-cs"]
    assert [p["license"] for p in manifest["packages"]] == ["GPL-2+", "GPL-2"]
    music = [c for c in manifest["clips"] if c["label"] == "music"]
    assert len({c["sources"][0]["file"] for c in music}) == 3  # three different tracks
    speech = [c for c in manifest["clips"] if c["label"] == "speech"]
    assert all("/cs/" in s["file"] for c in speech for s in c["sources"])
    for clip in manifest["clips"]:
        wave, rate = read_audio(out / clip["file"])
        assert rate == 22050 and wave.shape == (44100,)
        assert 0.001 < float(wave.pow(2).mean().sqrt()) and float(wave.abs().max()) <= 0.99 + 1e-4
