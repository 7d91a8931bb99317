"""Reliability of data loading: empty hub ids, skipped files on record, strict mode, silence, upsampling."""

from __future__ import annotations

import warnings

import numpy as np
import pytest
import soundfile as sf
import torch
from helpers_data import sine, write_tone

from audiospec.config import config_from_dict
from audiospec.data import Corpus, DataConfig, SkippedFile, load_corpus, prepare_dataset
from audiospec.data.source import parse_source
from audiospec.diffusion.config import TrainConfig, check_training_data
from audiospec.errors import AudiospecError


def _folder_config(folder, **kwargs) -> DataConfig:
    return DataConfig(**{"dataset": f"folder:{folder}", "sample_rate": 8000, "clip_seconds": 0.5, **kwargs})


def _write(path, samples: np.ndarray, *, sample_rate: int = 8000, subtype: str = "FLOAT"):
    path.parent.mkdir(parents=True, exist_ok=True)
    sf.write(str(path), samples, sample_rate, subtype=subtype)
    return path


def _bad_files(folder) -> None:
    """Next to a/good.wav (2 clips of 0.5 s): an empty, a corrupt, a NaN and an all-silent file."""
    write_tone(folder / "a" / "good.wav", seconds=1.0)
    (folder / "a" / "empty.wav").write_bytes(b"")
    (folder / "a" / "broken.wav").write_bytes(b"RIFF....WAVEfmt garbage")
    _write(folder / "a" / "nan.wav", np.full(8000, np.nan, dtype=np.float32))
    _write(folder / "a" / "silent.wav", np.zeros(8000, dtype=np.float32), subtype="PCM_16")


# ---- empty remainders never resolve to the current folder ----------------------------------------


@pytest.mark.parametrize("source", ["hf:", "hf:   ", "  hf: "])
def test_empty_hub_id_is_an_error_not_the_current_folder(source, tmp_path, monkeypatch):
    # before the fix: Path("") is ".", a folder, so "hf:" analysed the current directory as a parquet dataset
    monkeypatch.chdir(tmp_path)
    with pytest.raises(AudiospecError, match=r"hub source 'hf:' has an empty hub id; write it as hf:owner/name"):
        parse_source(source)
    with pytest.raises(AudiospecError, match=r"empty hub id"):
        prepare_dataset("gtzan-genres", data_dir=tmp_path / "data", source=source)
    with pytest.raises(AudiospecError, match=r"source=.* has an empty hub id; write it as hf:owner/name"):
        DataConfig(dataset="gtzan-genres", source=source)


def test_file_url_without_a_path_is_an_error():
    with pytest.raises(AudiospecError, match=r"file URL 'file://' names no file; write it as file:///absolute/path"):
        parse_source("file://")


# ---- skipped files are on record, with their reason ----------------------------------------------


def test_bad_files_are_skipped_with_a_warning_and_recorded(tmp_path):
    _bad_files(tmp_path)
    write_tone(tmp_path / "a" / "short.wav", seconds=0.2)
    with pytest.warns(UserWarning) as caught:
        corpus = load_corpus(_folder_config(tmp_path, short_files="skip"), progress=False)
    messages = " | ".join(str(w.message) for w in caught)
    for name in ("empty.wav", "broken.wav", "nan.wav", "silent.wav", "short.wav"):
        assert name in messages, name
    assert len(corpus) == 2 and all("good.wav" in s for s in corpus.sources)
    reasons = {item.path.rsplit("/", 1)[1]: item.reason for item in corpus.skipped}
    assert sorted(reasons) == ["broken.wav", "empty.wav", "nan.wav", "short.wav", "silent.wav"]
    assert reasons["empty.wav"].startswith("unreadable:") and "is empty (0 bytes)" in reasons["empty.wav"]
    assert reasons["broken.wav"].startswith("unreadable:") and "could not read the header" in reasons["broken.wav"]
    assert reasons["nan.wav"].startswith("unreadable:") and "8000 NaN/Inf sample(s)" in reasons["nan.wav"]
    assert reasons["silent.wav"] == "silent: every sample is 0 (digital silence)"
    assert reasons["short.wav"] == "short: 0.200 s, shorter than clip_seconds=0.5"
    assert all(isinstance(item, SkippedFile) for item in corpus.skipped)


def test_clean_folder_skips_nothing_and_subset_keeps_the_record(tmp_path):
    write_tone(tmp_path / "a" / "x.wav", seconds=1.0)
    write_tone(tmp_path / "b" / "y.wav", seconds=1.0)
    with warnings.catch_warnings():
        warnings.simplefilter("error")  # no warning at all for a clean dataset at its own rate
        corpus = load_corpus(_folder_config(tmp_path), progress=False)
    assert corpus.skipped == [] and corpus.source_rates == {8000: 2}
    (tmp_path / "b" / "z.wav").write_bytes(b"")
    with pytest.warns(UserWarning, match=r"z\.wav"):
        corpus = load_corpus(_folder_config(tmp_path), progress=False)
    sub = corpus.subset("a")
    assert sub.skipped == corpus.skipped and len(sub.skipped) == 1 and sub.source_rates == {8000: 2}


def test_corpus_rejects_malformed_provenance():
    wave = torch.zeros(1, 4)
    with pytest.raises(AudiospecError, match=r"Corpus.skipped must hold SkippedFile\(path, reason\) items, got 'x'"):
        Corpus(waveforms=wave, labels=["a"], sources=["s"], sample_rate=4, skipped=["x"])  # type: ignore[list-item]
    with pytest.raises(AudiospecError, match=r"Corpus.source_rates must map positive integer rates .*got 0: 1"):
        Corpus(waveforms=wave, labels=["a"], sources=["s"], sample_rate=4, source_rates={0: 1})


# ---- strict mode ---------------------------------------------------------------------------------


@pytest.mark.parametrize(("name", "reason"), [
    ("empty.wav", r"unreadable: audio file .* is empty \(0 bytes\)"),
    ("broken.wav", r"unreadable: could not read the header"),
    ("nan.wav", r"unreadable: .* contains 8000 NaN/Inf sample\(s\)"),
    ("silent.wav", r"silent: every sample is 0 \(digital silence\)"),
])
def test_strict_stops_at_the_first_bad_file_naming_it(tmp_path, name, reason):
    _bad_files(tmp_path)
    for other in ("empty.wav", "broken.wav", "nan.wav", "silent.wav"):
        if other != name:
            (tmp_path / "a" / other).unlink()
    expected = rf"bad file '.*{name}': {reason}.*data.strict is true.*set data.strict: false to skip bad files"
    with pytest.raises(AudiospecError, match=expected):
        load_corpus(_folder_config(tmp_path, strict=True), progress=False)


def test_strict_still_skips_files_shorter_than_a_clip(tmp_path):
    write_tone(tmp_path / "a" / "good.wav", seconds=1.0)
    write_tone(tmp_path / "a" / "short.wav", seconds=0.2)  # not a bad file: the clip length chose to leave it out
    with pytest.warns(UserWarning, match=r"shorter than clip_seconds=0\.5: short\.wav"):
        corpus = load_corpus(_folder_config(tmp_path, strict=True, short_files="skip"), progress=False)
    assert len(corpus) == 2 and [s.reason for s in corpus.skipped] == ["short: 0.200 s, shorter than clip_seconds=0.5"]


def test_strict_setting_is_a_bool_from_yaml():
    assert DataConfig(dataset="mini").strict is False
    assert config_from_dict(DataConfig, {"dataset": "mini", "strict": True}).strict is True
    with pytest.raises(AudiospecError, match=r"strict must be true or false, got 'yes'"):
        DataConfig(dataset="mini", strict="yes")  # type: ignore[arg-type]


# ---- silence -------------------------------------------------------------------------------------


def test_silent_clips_of_an_audible_file_are_left_out_naming_the_file(tmp_path):
    # before the fix they reached the analysis, which stopped with "power must be strictly positive ...;
    # drop silent clips" naming no file. 1 s of digital silence, then 1 s of tone: clips at 0.0 and 0.5 s are silent
    samples = np.concatenate([np.zeros(8000, np.float32), sine(440.0, sample_rate=8000, seconds=1.0)])
    _write(tmp_path / "a" / "gap.wav", samples)
    with pytest.warns(UserWarning, match=r"leaving out 2 silent clip\(s\) of '.*gap\.wav' at 0\.000s, 0\.500s"):
        corpus = load_corpus(_folder_config(tmp_path), progress=False)
    assert [s.rsplit("@", 1)[1] for s in corpus.sources] == ["1.000s", "1.500s"]
    assert float(corpus.waveforms.abs().amax(-1).min()) > 0.4  # every clip kept holds the 0.5-amplitude tone
    [skipped] = corpus.skipped
    assert skipped.path.endswith("gap.wav") and "2 clip(s) at 0.000s, 0.500s are digital silence" in skipped.reason
    with pytest.raises(AudiospecError, match=r"bad file '.*gap\.wav': silent clips: 2 clip\(s\) at 0\.000s"):
        load_corpus(_folder_config(tmp_path, strict=True), progress=False)


def test_an_all_silent_dataset_is_an_error_that_names_the_files(tmp_path):
    for name in ("quiet1.wav", "quiet2.wav"):
        _write(tmp_path / "a" / name, np.zeros(8000, np.float32), subtype="PCM_16")
    expected = (r"gave no readable clip of 0\.5 s: 2 file\(s\), 0 unreadable, 0 shorter than one clip, 2 silent; "
                r".*quiet1\.wav: silent: every sample is 0 \(digital silence\); quiet2\.wav: silent")
    with pytest.warns(UserWarning, match="is silent"), pytest.raises(AudiospecError, match=expected):
        load_corpus(_folder_config(tmp_path), progress=False)


def _tiny_train_config() -> TrainConfig:
    return TrainConfig.from_dict({"batch_size": 2, "precision": "fp32", "model": {"preset": "tiny"}})


def test_silent_training_set_is_named_as_such_not_as_nan():
    config = _tiny_train_config()
    silent_db = torch.full((4, 1, 16, 32), -100.0)  # log-mel of digital silence: the amin floor everywhere
    with pytest.raises(AudiospecError, match=r"training patches are constant \(std 0: all 2048 values equal -100\): "
                                             r"every training clip is silent .* train on audible clips"):
        check_training_data(config, silent_db)
    # standardised, (x - mean) / std with std 0, they are 0 / 0 = NaN: was reported as "NaN or Inf"
    standardised = (silent_db - silent_db.mean()) / silent_db.std()
    with pytest.raises(AudiospecError, match=r"all NaN \(2048 of 2048 values\).*std 0.*every training clip is silent"):
        check_training_data(config, standardised)
    one_nan = torch.randn(4, 1, 16, 32, generator=torch.Generator().manual_seed(0)).index_fill_(0, torch.tensor([1]),
                                                                                              float("nan"))
    with pytest.raises(AudiospecError, match=r"contain NaN or Inf values \(512 NaN and 0 Inf of 2048\)"):
        check_training_data(config, one_nan)


# ---- source sample rates -------------------------------------------------------------------------


def test_upsampled_files_are_counted_and_warned_about(tmp_path):
    write_tone(tmp_path / "a" / "low.wav", freq=1000.0, sample_rate=8000, seconds=1.0)
    write_tone(tmp_path / "a" / "native.wav", freq=1000.0, sample_rate=16000, seconds=1.0)
    write_tone(tmp_path / "b" / "high.wav", freq=1000.0, sample_rate=44100, seconds=1.0)
    expected = (r"1 file\(s\) have source sample rate\(s\) \[8000\] Hz, below data.sample_rate=16000 Hz "
                r"\(low\.wav\): they are upsampled, so their clips are empty above the source Nyquist frequency "
                r"\(4000 Hz for 8000 Hz files\).*set data.sample_rate to 8000")
    with pytest.warns(UserWarning, match=expected):
        corpus = load_corpus(_folder_config(tmp_path, sample_rate=16000, clip_seconds=1.0), progress=False)
    assert corpus.source_rates == {8000: 1, 16000: 1, 44100: 1}
    # the warning's claim, measured: the upsampled clip holds < -60 dB of its energy above 4.2 kHz
    low = corpus.waveforms[[i for i, s in enumerate(corpus.sources) if "low.wav" in s][0]].double()
    power = torch.fft.rfft(low * torch.hann_window(low.shape[-1], dtype=torch.float64)).abs().square()
    freqs = torch.fft.rfftfreq(low.shape[-1], 1 / 16000)
    above = float(power[freqs > 4200].sum() / power.sum())
    assert 10 * np.log10(above) < -60.0, above
    with warnings.catch_warnings():
        warnings.simplefilter("error")  # downsampling only: no warning
        corpus = load_corpus(_folder_config(tmp_path, sample_rate=8000, clip_seconds=1.0), progress=False)
    assert corpus.source_rates == {8000: 1, 16000: 1, 44100: 1}
