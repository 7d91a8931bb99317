"""Hub / parquet sources through the real ``datasets`` code path, with local parquet files."""

from __future__ import annotations

import shutil
import time
from collections import Counter
from pathlib import Path

import huggingface_hub
import pyarrow as pa
import pyarrow.parquet as pq
import pytest
from helpers_data import peak_frequency, wav_bytes, write_parquet_dataset

from audiospec.data import DataConfig, load_corpus, prepare_dataset
from audiospec.errors import AudiospecError


@pytest.fixture
def parquet_dir(tmp_path) -> Path:
    """Like sanchit-gandhi/gtzan: Audio declared at 32 kHz, ClassLabel genre ints; bytes at other rates."""
    rows = [
        (wav_bytes(freq=300.0, sample_rate=22050, seconds=1.0), "blues.00000.wav", 0),
        (wav_bytes(freq=310.0, sample_rate=22050, seconds=1.0), "blues.00001.wav", 0),
        (wav_bytes(freq=1000.0, sample_rate=16000, seconds=1.0), "jazz.00000.wav", 1),  # not the declared rate
        (wav_bytes(freq=1010.0, sample_rate=22050, seconds=1.0), None, 1),  # no path: name from the row
        (b"not audio at all" * 10, "jazz.00009.wav", 1),  # a broken row
    ]
    return write_parquet_dataset(tmp_path / "pq", rows, names=["blues", "jazz"], declared_rate=32000)


def _config(tmp_path, source: str, **kwargs) -> DataConfig:
    return DataConfig(dataset="gtzan-genres", data_dir=str(tmp_path / "data"), source=source, sample_rate=8000,
                      clip_seconds=0.5, **kwargs)


def test_local_parquet_dataset_loads_with_class_names_and_true_rates(tmp_path, parquet_dir):
    with pytest.warns(UserWarning, match=r"skipping hub row 'jazz\.00009\.wav'.*could not decode"):
        corpus = load_corpus(_config(tmp_path, str(parquet_dir)), progress=False)
    assert Counter(corpus.labels) == {"blues": 4, "jazz": 4}  # 2 rows x 2 clips of 0.5 s each
    jazz = corpus.subset("jazz")
    # the 16 kHz row must be read at 16 kHz (not the declared 32 kHz): its tone stays at 1000 Hz
    assert peak_frequency(jazz.waveforms[0], sample_rate=8000) == pytest.approx(1000.0, abs=16)
    assert peak_frequency(jazz.waveforms[2], sample_rate=8000) == pytest.approx(1010.0, abs=16)
    exported = tmp_path / "data" / "gtzan-genres"
    roots = [p for p in exported.iterdir() if p.name.startswith("hf-local-pq")]
    assert len(roots) == 1 and (roots[0] / ".completed").is_file()
    names = sorted(p.name for p in (roots[0] / "jazz").iterdir())
    assert names == ["train-00002-jazz.00000.wav", "train-00003-train_3.wav"]
    # the original bytes are stored unchanged
    assert (roots[0] / "blues" / "train-00000-blues.00000.wav").read_bytes()[:4] == b"RIFF"


def test_hf_prefix_with_a_local_path_and_split_selection(tmp_path, parquet_dir):
    rows = [(wav_bytes(freq=500.0, sample_rate=8000, seconds=1.0), "jazz.00042.wav", 1)]
    write_parquet_dataset(parquet_dir, rows, names=["blues", "jazz"], split="test")
    corpus = load_corpus(_config(tmp_path, f"hf:{parquet_dir}", hub_split="test"), progress=False)
    assert corpus.labels == ["jazz", "jazz"]  # only the test split's one row (2 clips)
    assert peak_frequency(corpus.waveforms[0], sample_rate=8000) == pytest.approx(500.0, abs=16)
    assert (tmp_path / "data" / "gtzan-genres").is_dir()
    assert any(p.name.endswith("-test") for p in (tmp_path / "data" / "gtzan-genres").iterdir())
    with pytest.raises(AudiospecError, match=r"split 'validation' is not in the dataset .*\['train', 'test'\]"):
        prepare_dataset("gtzan-genres", data_dir=tmp_path / "data", source=str(parquet_dir), hub_split="validation",
                        progress=False)


def test_string_genre_column_is_detected_and_label_column_can_be_named(tmp_path):
    folder = tmp_path / "plain"
    (folder / "data").mkdir(parents=True)
    table = pa.table({
        "audio": [{"bytes": wav_bytes(sample_rate=8000), "path": "a.wav"}],
        "genre": ["metal"],
        "mood": ["angry"],
    })
    pq.write_table(table, folder / "data" / "train-00000-of-00001.parquet")
    assert load_corpus(_config(tmp_path, str(folder)), progress=False).classes == ["metal"]
    by_mood = load_corpus(_config(tmp_path, str(folder), hub_label_column="mood"), progress=False)
    assert by_mood.classes == ["angry"]
    with pytest.raises(AudiospecError, match=r"label column 'tempo' is not in the dataset; its columns are"):
        prepare_dataset("gtzan-genres", data_dir=tmp_path / "d2", source=str(folder), hub_label_column="tempo",
                        progress=False)


def test_dataset_without_label_column_is_explained(tmp_path):
    folder = tmp_path / "nolabel"
    folder.mkdir()
    pq.write_table(pa.table({"audio": [{"bytes": wav_bytes(), "path": "a.wav"}], "x": [1]}), folder / "train.parquet")
    with pytest.raises(AudiospecError, match=r"found no label column \(label or genre\) among \['audio', 'x'\]"):
        prepare_dataset("gtzan-genres", data_dir=tmp_path / "d", source=str(folder), progress=False)


def test_hub_repo_goes_through_snapshot_then_the_same_parquet_path(tmp_path, parquet_dir, monkeypatch):
    calls = []

    def fake_snapshot(repo_id, *, local_dir, **kwargs):
        calls.append((repo_id, kwargs.get("repo_type"), kwargs.get("etag_timeout")))
        shutil.copytree(parquet_dir, local_dir, dirs_exist_ok=True)
        return str(local_dir)

    monkeypatch.setattr(huggingface_hub, "snapshot_download", fake_snapshot)
    with pytest.warns(UserWarning, match=r"skipping hub row"):
        corpus = load_corpus(_config(tmp_path, "hf:sanchit-gandhi/gtzan"), progress=False)
    assert calls == [("sanchit-gandhi/gtzan", "dataset", 10.0)]
    assert Counter(corpus.labels) == {"blues": 4, "jazz": 4}
    assert (tmp_path / "data" / "gtzan-genres" / "hf-sanchit-gandhi--gtzan" / ".completed").is_file()
    # prepared: a second load does not contact the hub
    monkeypatch.setattr(huggingface_hub, "snapshot_download", lambda *a, **k: pytest.fail("hub contacted"))
    assert len(load_corpus(_config(tmp_path, "hf:sanchit-gandhi/gtzan"), progress=False)) == 8


def test_hub_unreachable_fails_fast_with_manual_command(tmp_path, monkeypatch):
    from huggingface_hub.errors import LocalEntryNotFoundError

    def offline(*args, **kwargs):
        raise LocalEntryNotFoundError("Got: ConnectError: [Errno -2] Name or service not known")

    monkeypatch.setattr(huggingface_hub, "snapshot_download", offline)
    started = time.monotonic()
    with pytest.raises(AudiospecError, match=r"cannot reach the Hugging Face hub for 'confit/gtzan-parquet'") as info:
        prepare_dataset("gtzan-genres", data_dir=tmp_path / "data", source="hf:confit/gtzan-parquet", progress=False)
    assert time.monotonic() - started < 5
    assert "hf download confit/gtzan-parquet --repo-type dataset --local-dir" in str(info.value)


def test_hub_connection_error_is_caught_too(tmp_path, monkeypatch):
    def refused(*args, **kwargs):
        raise ConnectionError("connection refused")

    monkeypatch.setattr(huggingface_hub, "snapshot_download", refused)
    with pytest.raises(AudiospecError, match=r"cannot reach the Hugging Face hub.*ConnectionError"):
        prepare_dataset("gtzan-genres", data_dir=tmp_path / "data", source="hf:owner/name", progress=False)


def test_bad_hub_ids(tmp_path):
    with pytest.raises(AudiospecError, match=r"hub source 'hf:not a repo' is neither hf:owner/name"):
        prepare_dataset("gtzan-genres", data_dir=tmp_path, source="hf:not a repo")
