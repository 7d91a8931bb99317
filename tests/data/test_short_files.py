"""Short files (issue 22): ``data.short_files`` joins consecutive short files of one class and folder into clips
(the default for folders), pads each, or skips them; a folder of 0.4-5 s utterances analyses and trains without
dropping any."""

from __future__ import annotations

import json
import warnings

import numpy as np
import pytest
import soundfile as sf
import yaml
from typer.testing import CliRunner

from audiospec.cli import app
from audiospec.data import DataConfig, load_corpus, split_corpus
from audiospec.data.short_files import SOURCE_SEPARATOR
from audiospec.data.split import check_disjoint, clip_files, source_groups

runner = CliRunner()
SR = 8000


def utterance(seconds: float, *, seed: int, voiced: bool) -> np.ndarray:
    """A speech-like signal: a gliding harmonic tone (voiced) or band noise (unvoiced) under a 4 Hz syllable
    envelope, with short silences at both ends."""
    rng = np.random.default_rng(seed)
    t = np.arange(int(seconds * SR)) / SR
    if voiced:
        f0 = 110 + 60 * rng.random() + 20 * np.sin(2 * np.pi * 0.7 * t)
        phase = 2 * np.pi * np.cumsum(f0) / SR
        x = sum(np.sin(k * phase) / k for k in range(1, 8))
    else:
        x = np.convolve(rng.standard_normal(t.size), np.ones(4) / 4, mode="same")
    envelope = 0.5 * (1 - np.cos(2 * np.pi * 4 * t)) * np.minimum(1, np.minimum(t, t[-1] - t) / 0.05)
    return (0.3 * envelope * x / np.abs(x).max()).astype(np.float32)


def utterance_folder(root, *, n_per_class: int = 20):
    """Two classes of ``n_per_class`` utterances of 0.4-5 s (two speakers' folders in class ``a``)."""
    lengths = np.random.default_rng(1).uniform(0.4, 5.0, size=2 * n_per_class)
    paths = []
    for k, seconds in enumerate(lengths):
        label = "a" if k < n_per_class else "b"
        folder = root / label / (f"speaker{k % 2}" if label == "a" else "")
        folder.mkdir(parents=True, exist_ok=True)
        path = folder / f"utt{k:02d}.wav"
        sf.write(str(path), utterance(float(seconds), seed=k, voiced=label == "a"), SR)
        paths.append(path)
    return paths, lengths


def _config(root, **kwargs) -> DataConfig:
    return DataConfig(dataset=f"folder:{root}", sample_rate=SR, clip_seconds=6.0, **kwargs)


def test_the_policy_defaults_to_join_for_folders_only():
    assert DataConfig(dataset="folder:/x").short_files == "join"
    assert DataConfig(dataset="mini").short_files == "skip"
    assert DataConfig(dataset="mini", short_files="pad").short_files == "pad"
    with pytest.raises(Exception, match=r"short_files must be one of \['join', 'pad', 'skip'\], got 'glue'"):
        DataConfig(dataset="mini", short_files="glue")  # type: ignore[arg-type]


def test_join_keeps_every_utterance_once_within_its_class_and_folder(tmp_path):
    paths, lengths = utterance_folder(tmp_path)
    with pytest.warns(UserWarning, match=r"joined 40 file\(s\) shorter than clip_seconds=6\.0 into \d+ clip source\(s\): .*short_files: join"):
        corpus = load_corpus(_config(tmp_path), progress=False)
    assert corpus.skipped == []
    used = [f for source in corpus.sources for f in clip_files(source)]
    assert sorted(used) == sorted(str(p) for p in paths)  # every file, each in one clip only
    for source, label in zip(corpus.sources, corpus.labels):
        folders = {f.rsplit("/", 1)[0] for f in clip_files(source)}
        assert len(folders) == 1 and f"/{label}" in next(iter(folders))  # one class and one folder per clip
    assert len(corpus) >= int(lengths.sum() / 6.0) - 3  # about the audio's length in clips (last ones padded)
    joined = next(s for s in corpus.sources if SOURCE_SEPARATOR in s)
    assert joined.split(SOURCE_SEPARATOR)[1].endswith("@0.000s")  # a later file starts at its beginning
    keys = source_groups(corpus)
    assert len(set(keys)) == len(corpus)  # each joined clip is one recording group...
    check_disjoint(split_corpus(corpus, seed=0))  # ...so no file lands in two splits


def test_pad_makes_one_clip_per_file_and_skip_leaves_them_out(tmp_path):
    paths, lengths = utterance_folder(tmp_path, n_per_class=4)
    with pytest.warns(UserWarning, match=r"padded 8 file\(s\)"):
        padded = load_corpus(_config(tmp_path, short_files="pad"), progress=False)
    assert len(padded) == 8 and all(SOURCE_SEPARATOR not in s for s in padded.sources)
    first = padded.sources[[str(p) for p in paths].index(padded.sources[0].split("@")[0])]
    assert first.endswith("@0.000s+repeated")
    with warnings.catch_warnings():
        warnings.simplefilter("ignore")
        with pytest.raises(Exception, match=r"gave no readable clip of 6\.0 s: 8 file\(s\), 0 unreadable, 8 shorter"):
            load_corpus(_config(tmp_path, short_files="skip"), progress=False)


def test_a_folder_of_short_utterances_analyses_and_trains_without_dropping_them(tmp_path):
    # the repro: 40 prompts of 0.4-5 s, of which `analyze` kept 4 as "shorter than clip_seconds=6.0"
    utterance_folder(tmp_path / "audio")
    mel = {"sample_rate": SR, "n_fft": 256, "hop_length": 64, "n_mels": 16}
    data = {"dataset": f"folder:{tmp_path / 'audio'}", "sample_rate": SR}  # clip_seconds 6.0, the default
    (tmp_path / "analyze.yaml").write_text(yaml.safe_dump({"data": data, "analysis": {
        "mel": mel, "patch_frames": 64, "welch_n_fft": 256, "n_bootstrap": 20, "hinge_clips": 2}}))
    result = runner.invoke(app, ["analyze", "--config", str(tmp_path / "analyze.yaml"), "--out",
                                 str(tmp_path / "analysis"), "--no-progress"])
    assert result.exit_code == 0, result.output
    analysis = json.loads((tmp_path / "analysis" / "analysis.json").read_text())
    assert analysis["skipped"] == [] and analysis["n_clips"] >= 14
    (tmp_path / "train.yaml").write_text(yaml.safe_dump({"data": data, "mel": mel, "patch_frames": 32, "train": {
        "steps": 2, "batch_size": 4, "checkpoint_every": 2, "precision": "fp32",
        "model": {"preset": "tiny", "base_channels": 8, "channel_mults": [1, 2], "attention": False}}}))
    result = runner.invoke(app, ["train", "--config", str(tmp_path / "train.yaml"), "--out", str(tmp_path / "run"),
                                 "--no-progress"])
    assert result.exit_code == 0, result.output
    assert "trained to step 2" in result.output
