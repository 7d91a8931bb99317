"""GTZAN preparation from local archives, folders and (patched) URLs, then load_corpus."""

from __future__ import annotations

import dataclasses
import urllib.error
import urllib.request
from collections import Counter

import pytest
import torch
from helpers_data import make_music_speech_tree, make_tar, peak_frequency, write_tone

from audiospec.data import DataConfig, load_corpus, prepare_dataset, sha256_of
from audiospec.data.gtzan import GTZAN_DATASETS, GTZAN_MUSIC_SPEECH_URL
from audiospec.errors import AudiospecError

OFFICIAL = r"not the official gtzan-music-speech checksum"


@pytest.fixture
def music_speech_tar(tmp_path):
    root = make_music_speech_tree(tmp_path / "build", n_per_class=3, sample_rate=8000, seconds=2.0)
    return make_tar(tmp_path / "src" / "music_speech.tar.gz", root, arcname="music_speech")


def _config(tmp_path, **kwargs) -> DataConfig:
    defaults = {"dataset": "gtzan-music-speech", "data_dir": str(tmp_path / "data"), "sample_rate": 8000,
                "clip_seconds": 0.5}
    return DataConfig(**{**defaults, **kwargs})


@pytest.mark.parametrize("as_url", [True, False])
def test_music_speech_archive_extracts_and_loads_balanced(tmp_path, music_speech_tar, as_url):
    source = music_speech_tar.as_uri() if as_url else str(music_speech_tar)
    with pytest.warns(UserWarning, match=OFFICIAL):
        corpus = load_corpus(_config(tmp_path, source=source), progress=False)
    # 3 files x 2 s per class, 0.5 s clips -> 4 clips per file
    assert Counter(corpus.labels) == {"music": 12, "speech": 12}
    assert corpus.classes == ["music", "speech"]
    assert corpus.waveforms.shape == (24, 4000) and corpus.waveforms.dtype == torch.float32
    root = tmp_path / "data" / "gtzan-music-speech" / "music_speech"
    assert (root / ".completed").is_file() and (root / "music_wav" / "music0.wav").is_file()
    # speech files are 1000 + 10 i Hz tones, music 440 + 10 i Hz
    first_speech = corpus.subset("speech").waveforms[0]
    assert peak_frequency(first_speech, sample_rate=8000) == pytest.approx(1000.0, abs=16)
    assert corpus.sources[0].endswith("music0.wav@0.000s") and corpus.sources[1].endswith("music0.wav@0.500s")
    # no staging folders left
    assert sorted(p.name for p in (tmp_path / "data" / "gtzan-music-speech").iterdir() if p.name.startswith(".")) == []


def test_prepare_is_idempotent(tmp_path, music_speech_tar):
    with pytest.warns(UserWarning, match=OFFICIAL):
        root = prepare_dataset("gtzan-music-speech", data_dir=tmp_path / "data", source=str(music_speech_tar),
                               progress=False)
    music_speech_tar.unlink()  # a second call must not need the archive
    assert prepare_dataset("gtzan-music-speech", data_dir=tmp_path / "data", source=str(music_speech_tar),
                           progress=False) == root


def test_extracted_folder_is_used_in_place(tmp_path):
    root = make_music_speech_tree(tmp_path / "mine" / "nested", n_per_class=2, seconds=1.0)
    got = prepare_dataset("gtzan-music-speech", data_dir=tmp_path / "data", source=str(tmp_path / "mine"),
                          progress=False)
    assert got == root
    assert not (tmp_path / "data").exists()


def test_folder_with_wrong_layout_is_rejected(tmp_path):
    write_tone(tmp_path / "other" / "x" / "a.wav")
    with pytest.raises(AudiospecError, match=r"not laid out like gtzan-music-speech.*found \['x'\]"):
        prepare_dataset("gtzan-music-speech", data_dir=tmp_path / "data", source=str(tmp_path / "other"))


def test_default_url_offline_names_the_url_and_curl_command(tmp_path, monkeypatch):
    def offline(*args, **kwargs):
        raise urllib.error.URLError(OSError(-2, "Name or service not known"))

    monkeypatch.setattr(urllib.request, "urlopen", offline)
    monkeypatch.chdir(tmp_path)  # the default data_dir is relative: keep it inside tmp_path
    with pytest.raises(AudiospecError) as info:
        prepare_dataset("gtzan-music-speech", data_dir="data", progress=False)
    message = str(info.value)
    assert GTZAN_MUSIC_SPEECH_URL in message and "unreachable" in message
    assert f"curl -L -o data/gtzan-music-speech/music_speech.tar.gz {GTZAN_MUSIC_SPEECH_URL}" in message
    assert "--source PATH" in message


def test_archive_fetched_by_hand_is_verified_against_the_official_checksum(tmp_path, monkeypatch, music_speech_tar):
    spec = GTZAN_DATASETS["gtzan-music-speech"]
    data_dir = tmp_path / "data"
    placed = data_dir / "gtzan-music-speech" / "music_speech.tar.gz"
    placed.parent.mkdir(parents=True)
    placed.write_bytes(music_speech_tar.read_bytes())
    # with the real checksum the hand-fetched file is rejected and removed ...
    with pytest.raises(AudiospecError, match=r"has \d+ bytes, expected 297055930.*removed"):
        prepare_dataset("gtzan-music-speech", data_dir=data_dir, progress=False)
    assert not placed.exists()
    # ... with a checksum that matches it is adopted without any network access
    placed.write_bytes(music_speech_tar.read_bytes())
    patched = dataclasses.replace(spec, sha256=sha256_of(placed), size=placed.stat().st_size)
    monkeypatch.setitem(GTZAN_DATASETS, "gtzan-music-speech", patched)
    monkeypatch.setattr(urllib.request, "urlopen", lambda *a, **k: pytest.fail("network used"))
    root = prepare_dataset("gtzan-music-speech", data_dir=data_dir, progress=False)
    assert sorted(p.name for p in root.iterdir()) == [".completed", "music_wav", "speech_wav"]


def test_corrupt_archive_is_an_error(tmp_path):
    bad = tmp_path / "music_speech.tar.gz"
    good = make_tar(tmp_path / "g.tar.gz", make_music_speech_tree(tmp_path / "b"), arcname="music_speech")
    bad.write_bytes(good.read_bytes()[:200])
    with pytest.raises(AudiospecError, match=r"(corrupt or truncated|not a tar archive)"):
        prepare_dataset("gtzan-music-speech", data_dir=tmp_path / "data", source=str(bad), progress=False)


def test_genres_archive_skips_known_corrupt_jazz_00054(tmp_path):
    root = tmp_path / "build" / "genres"
    for genre, freq in (("blues", 300.0), ("jazz", 700.0)):
        for i in range(52, 56):
            write_tone(root / genre / f"{genre}.{i:05d}.wav", freq=freq, sample_rate=8000, seconds=1.0)
    (root / "jazz" / "jazz.00054.wav").write_bytes(b"RIFF\x00\x00\x00\x00WAVEjunk")  # like the real broken file
    archive = make_tar(tmp_path / "genres.tar.gz", root, arcname="genres")
    config = DataConfig(dataset="gtzan-genres", data_dir=str(tmp_path / "data"), source=str(archive),
                        sample_rate=8000, clip_seconds=0.5)
    with pytest.warns(UserWarning) as caught:
        corpus = load_corpus(config, progress=False)
    messages = [str(w.message) for w in caught]
    assert any("jazz.00054.wav is a known-corrupt file of gtzan-genres" in m for m in messages)
    assert Counter(corpus.labels) == {"blues": 8, "jazz": 6}
    assert not any("jazz.00054" in s for s in corpus.sources)
    assert peak_frequency(corpus.subset("jazz").waveforms[0], sample_rate=8000) == pytest.approx(700.0, abs=16)


def test_hub_options_rejected_for_archive_sources(tmp_path, music_speech_tar):
    with pytest.raises(AudiospecError, match=r"hub_split / hub_label_column apply to hub or parquet sources.*archive"):
        prepare_dataset("gtzan-music-speech", data_dir=tmp_path, source=str(music_speech_tar), hub_split="train")


def test_missing_source_path_is_explained(tmp_path):
    with pytest.raises(AudiospecError, match=r"source '.*nothing\.tgz' does not exist; pass an http"):
        prepare_dataset("gtzan-genres", data_dir=tmp_path, source=str(tmp_path / "nothing.tgz"))
