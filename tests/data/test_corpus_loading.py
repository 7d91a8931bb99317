"""load_corpus on folder datasets: labels, segment counts, resampling, capping, skipping; Corpus; DataConfig."""

from __future__ import annotations

import dataclasses
from collections import Counter

import pytest
import torch
from helpers_data import peak_frequency, write_tone

from audiospec.config import config_from_dict
from audiospec.data import UNLABELLED, Corpus, DataConfig, list_audio_files, load_corpus, prepare_dataset
from audiospec.errors import AudiospecError


def _folder_config(folder, **kwargs) -> DataConfig:
    return DataConfig(**{"dataset": f"folder:{folder}", "sample_rate": 8000, "clip_seconds": 0.5, **kwargs})


def test_folder_labels_come_from_first_level_subfolders(tmp_path):
    write_tone(tmp_path / "birds" / "a.wav")
    write_tone(tmp_path / "birds" / "deeper" / "b.flac")
    write_tone(tmp_path / "cars" / "c.OGG", fmt="OGG")
    write_tone(tmp_path / "loose.wav")
    write_tone(tmp_path / ".hidden" / "h.wav")
    (tmp_path / "cars" / "notes.txt").write_text("not audio")
    files = list_audio_files(tmp_path)
    assert [(f.label, f.path.relative_to(tmp_path).as_posix()) for f in files] == [
        ("birds", "birds/a.wav"), ("birds", "birds/deeper/b.flac"), ("cars", "cars/c.OGG"), (UNLABELLED, "loose.wav"),
    ]
    corpus = load_corpus(_folder_config(tmp_path), progress=False)
    assert Counter(corpus.labels) == {"birds": 4, "cars": 2, "unlabelled": 2}
    assert prepare_dataset(f"folder:{tmp_path}") == tmp_path


def test_segment_count_per_file_and_hop(tmp_path):
    write_tone(tmp_path / "x" / "a.wav", sample_rate=8000, seconds=1.3)  # 10400 samples
    corpus = load_corpus(_folder_config(tmp_path, clip_seconds=0.5, hop_seconds=0.2), progress=False)
    assert len(corpus) == (10400 - 4000) // 1600 + 1  # floor((L - length) / hop) + 1 = 5
    assert [s.rsplit("@", 1)[1] for s in corpus.sources] == ["0.000s", "0.200s", "0.400s", "0.600s", "0.800s"]
    raw = torch.from_numpy(__import__("soundfile").read(str(tmp_path / "x" / "a.wav"), dtype="float32")[0])
    torch.testing.assert_close(corpus.waveforms[2], raw[3200:7200])


def test_resampling_and_stereo_downmix(tmp_path):
    write_tone(tmp_path / "s" / "stereo48k.wav", freq=440.0, sample_rate=48000, seconds=1.0, channels=2,
               subtype="FLOAT")
    corpus = load_corpus(_folder_config(tmp_path, sample_rate=22050, clip_seconds=1.0), progress=False)
    assert corpus.sample_rate == 22050 and corpus.waveforms.shape == (1, 22050)
    assert peak_frequency(corpus.waveforms[0], sample_rate=22050) == pytest.approx(440.0, abs=1.0)
    # channels hold amplitudes 0.5 and 0.25: the mono mix peaks at their mean
    assert float(corpus.waveforms[0, 2000:-2000].abs().max()) == pytest.approx(0.375, rel=0.01)


def test_cap_per_class_is_spread_over_files_and_deterministic(tmp_path):
    for i in range(4):
        write_tone(tmp_path / "a" / f"f{i}.wav", freq=300.0 + 100 * i, seconds=2.0)  # 4 clips each
    write_tone(tmp_path / "b" / "only.wav", seconds=2.0)
    config = _folder_config(tmp_path, max_clips_per_class=6)
    corpus = load_corpus(config, progress=False)
    a_sources = [s for s, lab in zip(corpus.sources, corpus.labels) if lab == "a"]
    per_file = Counter(s.split("@")[0].rsplit("/", 1)[1] for s in a_sources)
    # every file gives one clip, then the 2 left are spread over the 4 files (f0, f2)
    assert per_file == {"f0.wav": 2, "f1.wav": 1, "f2.wav": 2, "f3.wav": 1}
    assert Counter(corpus.labels) == {"a": 6, "b": 4}
    # within a file the two picks are spread over its 4 clips (offsets 0 s and 1 s)
    assert [s.rsplit("/", 1)[1] for s in a_sources[:2]] == ["f0.wav@0.000s", "f0.wav@1.000s"]
    again = load_corpus(config, progress=False)
    assert again.sources == corpus.sources and torch.equal(again.waveforms, corpus.waveforms)


def test_unreadable_and_short_files_are_skipped_with_warnings(tmp_path):
    write_tone(tmp_path / "a" / "good.wav", seconds=1.0)
    write_tone(tmp_path / "a" / "short.wav", seconds=0.2)
    (tmp_path / "a" / "broken.wav").write_bytes(b"RIFF....WAVEfmt garbage")
    with pytest.warns(UserWarning) as caught:
        corpus = load_corpus(_folder_config(tmp_path, short_files="skip"), progress=False)
    messages = " | ".join(str(w.message) for w in caught)
    assert "skipping unreadable file" in messages and "broken.wav" in messages
    assert "skipped 1 file(s) shorter than clip_seconds=0.5: short.wav" in messages
    assert len(corpus) == 2


def test_truncated_file_found_only_when_decoding_is_skipped(tmp_path):
    write_tone(tmp_path / "a" / "good.wav", seconds=1.0)
    full = write_tone(tmp_path / "a" / "cut.wav", seconds=2.0).read_bytes()
    (tmp_path / "a" / "cut.wav").write_bytes(full[: len(full) // 2])
    with pytest.warns(UserWarning, match=r"cut\.wav.*is truncated"):
        corpus = load_corpus(_folder_config(tmp_path), progress=False)
    assert all("good.wav" in s for s in corpus.sources)


def test_dataset_without_readable_clips_is_an_error(tmp_path):
    write_tone(tmp_path / "a" / "tiny.wav", seconds=0.1)
    with pytest.warns(UserWarning, match="shorter than"):
        expected = r"gave no readable clip of 0\.5 s: 1 file\(s\), 0 unreadable, 1 shorter"
        with pytest.raises(AudiospecError, match=expected):
            load_corpus(_folder_config(tmp_path, short_files="skip"), progress=False)


def test_missing_or_empty_folder(tmp_path):
    with pytest.raises(AudiospecError, match=r"audio folder '.*nowhere' does not exist"):
        load_corpus(_folder_config(tmp_path / "nowhere"), progress=False)
    (tmp_path / "empty").mkdir()
    with pytest.raises(AudiospecError, match=r"no audio files \(\.wav, .*\) under '.*empty'"):
        load_corpus(_folder_config(tmp_path / "empty"), progress=False)


# ---- Corpus --------------------------------------------------------------------------------------


def test_corpus_subset_classes_and_validation():
    corpus = Corpus(waveforms=torch.arange(12, dtype=torch.float32).reshape(3, 4), labels=["b", "a", "b"],
                    sources=["x@0s", "y@0s", "x@1s"], sample_rate=4)
    assert corpus.classes == ["a", "b"] and len(corpus) == 3 and corpus.clip_seconds == 1.0
    sub = corpus.subset("b")
    assert sub.labels == ["b", "b"] and sub.sources == ["x@0s", "x@1s"]
    torch.testing.assert_close(sub.waveforms, corpus.waveforms[[0, 2]])
    with pytest.raises(AudiospecError, match=r"label 'c' is not in the corpus; its classes are \['a', 'b'\]"):
        corpus.subset("c")
    with pytest.raises(AudiospecError, match=r"3 waveforms but 2 labels"):
        Corpus(waveforms=torch.zeros(3, 4), labels=["a", "b"], sources=["", "", ""], sample_rate=4)
    with pytest.raises(AudiospecError, match=r"\[N, L\] tensor, got \(4,\)"):
        Corpus(waveforms=torch.zeros(4), labels=[], sources=[], sample_rate=4)
    with pytest.raises(AudiospecError, match=r"float32, got torch.float64"):
        Corpus(waveforms=torch.zeros(1, 4, dtype=torch.float64), labels=["a"], sources=["s"], sample_rate=4)


# ---- DataConfig ----------------------------------------------------------------------------------


def test_data_config_defaults_and_lengths():
    config = DataConfig(dataset="mini")
    assert (config.data_dir, config.sample_rate, config.clip_seconds) == ("data", 22050, 6.0)
    assert config.clip_length == 132300 and config.hop_length == 132300
    assert dataclasses.replace(config, hop_seconds=1.5).hop_length == 33075
    with pytest.raises(dataclasses.FrozenInstanceError):
        config.sample_rate = 8000  # type: ignore[misc]


@pytest.mark.parametrize(("kwargs", "message"), [
    ({"dataset": "gtzan"},
     r"unknown dataset 'gtzan'; valid datasets are \['mini', 'debian', 'gtzan-music-speech', 'gtzan-genres'\], 'folder:PATH' \(any audio folder\) or 'log-mel:PATH'"),
    ({"dataset": "folder:"}, r"names no folder"),
    ({"dataset": "mini", "sample_rate": 0}, r"sample_rate must be a positive integer, got 0"),
    ({"dataset": "mini", "sample_rate": 22050.0}, r"sample_rate must be a positive integer, got 22050\.0"),
    ({"dataset": "mini", "clip_seconds": -1}, r"clip_seconds must be a positive, finite number of seconds, got -1"),
    ({"dataset": "mini", "clip_seconds": float("nan")}, r"clip_seconds must be a positive, finite"),
    ({"dataset": "mini", "clip_seconds": 1e-6}, r"less than one sample"),
    ({"dataset": "mini", "hop_seconds": 0}, r"hop_seconds must be a positive"),
    ({"dataset": "mini", "max_clips_per_class": 0}, r"max_clips_per_class must be a positive integer, got 0"),
    ({"dataset": "mini", "source": "x.tgz"}, r"source='x\.tgz' only applies to the GTZAN datasets"),
    ({"dataset": "gtzan-genres", "hub_split": "train"}, r"hub_split='train' only applies to a hub or parquet source"),
    ({"dataset": "mini", "data_dir": ""}, r"data_dir must be a non-empty path string"),
])
def test_data_config_rejects_bad_values(kwargs, message):
    with pytest.raises(AudiospecError, match=message):
        DataConfig(**kwargs)


def test_data_config_from_yaml_dict():
    raw = {"dataset": "gtzan-genres", "clip_seconds": 3, "source": "hf:confit/gtzan-parquet", "hub_split": "test"}
    config = config_from_dict(DataConfig, raw)
    assert config.clip_length == 3 * 22050 and config.hub_split == "test"
    with pytest.raises(AudiospecError, match=r"unknown key\(s\) \['clip'\]"):
        config_from_dict(DataConfig, {"dataset": "mini", "clip": 3})


def test_unknown_dataset_name_in_prepare():
    with pytest.raises(AudiospecError, match=r"unknown dataset 'esc50'; valid datasets are"):
        prepare_dataset("esc50", data_dir="unused")
    with pytest.raises(AudiospecError, match=r"only apply to .*not 'mini'"):
        prepare_dataset("mini", data_dir="unused", source="x.tgz")
