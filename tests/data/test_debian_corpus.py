"""prepare_debian on a small generated tree laid out like its six Debian packages (no package needed).

The tree: eight audible music tracks of 12 s (4 slots of 1 s each after the 5 s head and
3 s tail) plus Wesnoth's ``silence.ogg``, with a remake (``menu_enhanced``) and an old
version (``frantic-old``) beside their tracks; speech utterances of 0.2 s silence, 0.6 s
tone, 0.2 s silence, so a 1 s clip holds one utterance, the 0.15 s gap and 0.25 s of the
next: four utterances of one speaker give two clips, three give one (the rest is left).
"""

from __future__ import annotations

import dataclasses
import json
import subprocess
import time
from collections import Counter
from pathlib import Path

import numpy as np
import pytest
import soundfile as sf
from helpers_data import sine
from typer.testing import CliRunner

from audiospec.cli import app
from audiospec.data import DataConfig, load_corpus, prepare_debian, read_audio, source_groups, split_corpus
from audiospec.data import debian as debian_module
from audiospec.data.split import check_disjoint
from audiospec.errors import AudiospecError

RATE = 8000
CLIP = 1.0
PACKAGES = ["wesnoth-1.16-music", "warzone2100-music", "drascula-music", "fillets-ng-data", "fillets-ng-data-cs",
            "fillets-ng-data-nl"]
MUSIC = {  # package -> {path in its folder: (rate, channels, subtype)}
    "wesnoth-1.16-music": {"battle.ogg": (16000, 2, "VORBIS"), "frantic-old.ogg": (16000, 2, "VORBIS"),
                           "frantic.ogg": (16000, 2, "VORBIS"), "silence.ogg": (16000, 2, "VORBIS")},
    "warzone2100-music": {"albums/aftermath/menu_enhanced.opus": (48000, 2, "OPUS"),
                          "albums/legacy/track4.opus": (48000, 2, "OPUS"), "menu.opus": (48000, 2, "OPUS")},
    "drascula-music": {"track1.ogg": (44100, 2, "VORBIS")},
    "fillets-ng-data": {"rybky01.ogg": (22050, 1, "VORBIS")},
}
SPEECH = {  # language -> lines <level>/<file>
    "cs": [f"barrel/bar-{s}-{w}.ogg" for s in "mv" for w in "abcd"] + ["briefcase/help1.ogg", "briefcase/help2.ogg",
                                                                      "briefcase/kd-x.ogg"],
    "nl": [f"barrel/bar-m-{w}.ogg" for w in "abcd"],
}
runner = CliRunner()


def _folder(root: Path, package: str) -> Path:
    source = next(s for s in debian_module.DEBIAN_SOURCES if s.package.name == package)
    return root / source.folder.relative_to("/")


def _write(path: Path, samples: np.ndarray, rate: int, subtype: str) -> None:
    path.parent.mkdir(parents=True, exist_ok=True)
    sf.write(str(path), samples, rate, format="OGG", subtype=subtype)


@pytest.fixture(scope="module")
def fake_root(tmp_path_factory) -> Path:
    """The six packages' recordings under a temporary root (see the module docstring)."""
    root = tmp_path_factory.mktemp("debian_root")
    k = 0
    for package, tracks in MUSIC.items():
        for name, (rate, channels, subtype) in tracks.items():
            k += 1
            wave = sine(110.0 * (k + 1), sample_rate=rate, seconds=12.0, channels=channels)
            _write(_folder(root, package) / name, wave * (name != "silence.ogg"), rate, subtype)
    pad = np.zeros(int(0.2 * RATE), dtype=np.float32)
    sound = _folder(root, "fillets-ng-data-cs")
    for language, lines in SPEECH.items():
        for i, line in enumerate(lines):
            tone = sine(500.0 + 40 * i, sample_rate=RATE, seconds=0.6, amplitude=0.4)
            level, name = line.split("/")
            _write(sound / level / language / name, np.concatenate([pad, tone, pad]), RATE, "VORBIS")
    _write(sound / "barrel" / "en" / "bar-x-gr0.ogg", sine(300.0, sample_rate=RATE, seconds=2.0), RATE, "VORBIS")
    return root


def _prepare(out: Path, root: Path, **kwargs) -> Path:
    return prepare_debian(out, package_root=root, clip_seconds=CLIP, sample_rate=RATE, progress=False, **kwargs)


def test_prepare_debian_cuts_all_speech_and_as_much_music(tmp_path, fake_root):
    out = _prepare(tmp_path / "debian", fake_root)
    manifest = json.loads((out / "manifest.json").read_text())
    # speech: cs/barrel/m and cs/barrel/v 2 clips each, cs/briefcase/other 1 (3 lines), nl/barrel/m 2 -> 7
    assert manifest["classes"] == {"music": 7, "speech": 7} and manifest["minutes_per_class"] == round(7 / 60, 2)
    assert sorted(p.name for p in (out / "speech").iterdir()) == [f"{i:03d}.wav" for i in range(7)]
    assert [p["name"] for p in manifest["packages"]] == PACKAGES
    assert [p["license"] for p in manifest["packages"]] == ["GPL-2+", "GPL-2+", "Drascula-License"] + ["GPL-2"] * 3
    assert all(p["version"] is None for p in manifest["packages"])  # a fake root: no dpkg versions
    assert manifest["method"]["music_tracks_left_out_as_silent"] == [
        str(_folder(fake_root, "wesnoth-1.16-music") / "silence.ogg")]
    speech = [c for c in manifest["clips"] if c["label"] == "speech"]
    assert Counter(c["group"] for c in speech) == {
        "fillets-ng-data-cs:cs/barrel/m": 2, "fillets-ng-data-cs:cs/barrel/v": 2,
        "fillets-ng-data-cs:cs/briefcase/other": 1, "fillets-ng-data-nl:nl/barrel/m": 2}
    for clip in speech:  # a clip packs the lines of its own recording only, in order, none twice
        files = [Path(s["file"]) for s in clip["sources"]]
        assert len(files) == 2 and {f.parent.name for f in files} == {clip["group"].split(":")[1].split("/")[0]}
    assert all("/en/" not in s["file"] for c in speech for s in c["sources"])
    used = [s["file"] for c in speech for s in c["sources"]]
    assert len(used) == len(set(used)) == 14
    assert manifest["recordings"] == {"music": 5, "speech": 4}


def test_a_remake_or_old_version_is_its_track_recording(tmp_path, fake_root):
    manifest = json.loads((_prepare(tmp_path / "debian", fake_root) / "manifest.json").read_text())
    music = [c for c in manifest["clips"] if c["label"] == "music"]
    groups = {Path(c["sources"][0]["file"]).name: c["group"] for c in music}
    # 7 clips over the 8 audible tracks round-robin: all but the last track (rybky01)
    assert sorted(groups) == ["battle.ogg", "frantic-old.ogg", "frantic.ogg", "menu.opus", "menu_enhanced.opus",
                              "track1.ogg", "track4.opus"]
    assert groups["frantic-old.ogg"] == groups["frantic.ogg"] == "wesnoth-1.16-music:frantic"
    assert groups["menu_enhanced.opus"] == groups["menu.opus"] == "warzone2100-music:menu"
    for clip in music:
        wave, rate = read_audio(out_file := tmp_path / "debian" / clip["file"])
        assert rate == RATE and wave.shape == (RATE,), out_file
        assert 5.0 <= clip["sources"][0]["offset"] <= 12.0 - 3.0 - CLIP and float(wave.abs().max()) > 0.1


def test_the_split_keeps_each_recording_in_one_split(tmp_path, fake_root):
    _prepare(tmp_path / "data" / "debian", fake_root)
    corpus = load_corpus(DataConfig(dataset="debian", data_dir=str(tmp_path / "data"), sample_rate=RATE,
                                    clip_seconds=CLIP), progress=False)
    manifest = json.loads((tmp_path / "data" / "debian" / "manifest.json").read_text())
    group_of = {(tmp_path / "data" / "debian" / c["file"]).resolve(): c["group"] for c in manifest["clips"]}
    groups = source_groups(corpus)
    assert groups == [group_of[Path(s.rsplit("@", 1)[0]).resolve()] for s in corpus.sources]
    splits = split_corpus(corpus, seed=0)
    check_disjoint(splits)
    homes = {}
    for name, split in splits.items():
        for group in source_groups(split):
            assert homes.setdefault(group, name) == name


def test_prepare_debian_is_deterministic_and_idempotent(tmp_path, fake_root):
    a, b = _prepare(tmp_path / "a", fake_root), _prepare(tmp_path / "b", fake_root)
    for path in sorted(a.rglob("*.wav")):
        assert path.read_bytes() == (b / path.relative_to(a)).read_bytes()
    assert (a / "manifest.json").read_text() == (b / "manifest.json").read_text()
    stamp = (a / "music" / "000.wav").stat().st_mtime_ns
    started = time.perf_counter()
    assert _prepare(a, fake_root) == a
    assert time.perf_counter() - started < 0.1 and (a / "music" / "000.wav").stat().st_mtime_ns == stamp
    with pytest.raises(AudiospecError, match=r"already holds a debian corpus prepared with .*delete the folder"):
        _prepare(a, fake_root, n_per_class=3)


def test_n_per_class_spreads_over_recordings_or_names_what_there_is(tmp_path, fake_root):
    manifest = json.loads((_prepare(tmp_path / "three", fake_root, n_per_class=3) / "manifest.json").read_text())
    assert manifest["classes"] == {"music": 3, "speech": 3} and manifest["recordings"]["speech"] == 3
    with pytest.raises(AudiospecError, match=r"n_per_class=8 but the packages give only 7 speech clips and at most 36 "
                                             r"music clips; use n_per_class <= 7"):  # 9 tracks x 4 slots
        _prepare(tmp_path / "eight", fake_root, n_per_class=8)
    with pytest.raises(AudiospecError, match=r"n_per_class must be a positive integer, got 0"):
        _prepare(tmp_path / "zero", fake_root, n_per_class=0)
    assert sorted(p.name for p in tmp_path.iterdir()) == ["three"]  # no temporary folders left


def test_missing_packages_name_the_install_command(tmp_path, fake_root, monkeypatch):
    command = r"apt-get install -y --no-install-recommends " + r" ".join(PACKAGES).replace(".", r"\.")
    with pytest.raises(AudiospecError, match=r"(?s)needs the Debian packages \['drascula-music', .*" + command):
        _prepare(tmp_path / "debian", tmp_path / "empty-root")
    assert not (tmp_path / "debian").exists()
    missing = [dataclasses.replace(s, folder=tmp_path / "nowhere" / s.package.name)
               for s in debian_module.DEBIAN_SOURCES]
    monkeypatch.setattr(debian_module, "DEBIAN_SOURCES", tuple(missing))
    result = runner.invoke(app, ["prepare", "debian", "--data-dir", str(tmp_path / "data"), "--no-progress"])
    assert result.exit_code == 2 and "apt-get install -y --no-install-recommends wesnoth-1.16-music" in result.output
    assert "audiospec prepare debian --install-packages" in result.output and "Traceback" not in result.output


def test_install_packages_runs_apt_get_then_update_and_retry(tmp_path, monkeypatch):
    calls: list[list[str]] = []

    def fake_run(command, **kwargs):
        calls.append(command)
        return subprocess.CompletedProcess(command, 1 if len(calls) == 1 else 0)  # the first install fails

    monkeypatch.setattr(subprocess, "run", fake_run)
    with pytest.raises(AudiospecError, match=r"installed but no recordings were found .*dpkg -L drascula-music"):
        _prepare(tmp_path / "debian", tmp_path / "empty-root", install=True)
    install = ["apt-get", "install", "-y", "--no-install-recommends", *PACKAGES]
    assert [c[c.index("apt-get"):] for c in calls] == [install, ["apt-get", "update"], install]
