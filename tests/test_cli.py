"""The CLI through typer's CliRunner: real runs on a tiny local folder, and clean errors."""

from __future__ import annotations

import json
import re
from pathlib import Path

import numpy as np
import pytest
import soundfile as sf
import yaml
from typer.testing import CliRunner

from audiospec.cli import app
from helpers_cli import TINY_MODEL, analysis_config, audio_folder, train_config

runner = CliRunner()


def test_analyze_writes_json_plots_and_report(tmp_path):
    folder = audio_folder(tmp_path / "audio")
    out = tmp_path / "run"
    result = runner.invoke(app, ["analyze", "--config", str(analysis_config(tmp_path / "c.yaml", folder)),
                                 "--out", str(out), "--no-progress"])
    assert result.exit_code == 0, result.output
    results = json.loads((out / "analysis.json").read_text())
    assert results["classes"] == {"hiss": 9, "rumble": 9}  # 3 files x 3 clips of 0.6 s each
    assert set(results["autoregression_order"]) == {"waveform", "mel", "cepstrum"}
    # the darker class has more low-frequency power: its spectrum peaks lower
    by_class = results["waveform"]["by_class"]
    assert by_class["rumble"]["peak_hz"] < by_class["hiss"]["peak_hz"]
    for name in ("waveform_spectrum.png", "mel_rapsd.png", "cepstrum.png", "hinge_mel.png", "fmax.png",
                 "snr_spectra.png"):  # drawn by the report from figures.json
        assert (out / name).stat().st_size > 1000
    assert yaml.safe_load((out / "config.yaml").read_text())["analysis"]["patch_frames"] == 64
    assert "report.html" in result.output and (out / "report.html").is_file()


def test_command_line_dataset_overrides_the_config_file(tmp_path):
    folder = audio_folder(tmp_path / "audio")
    config = analysis_config(tmp_path / "c.yaml", tmp_path / "does-not-exist")
    result = runner.invoke(app, ["analyze", "--config", str(config), "--dataset", f"folder:{folder}",
                                 "--out", str(tmp_path / "run"), "--no-progress"])
    assert result.exit_code == 0, result.output


@pytest.mark.parametrize(
    ("args", "message"),
    [
        (["analyze", "--dataset", "imagenet", "--out", "x"], "unknown dataset 'imagenet'"),
        (["analyze", "--out", "x"], "no dataset given: pass --dataset"),
        (["analyze", "--config", "missing.yaml", "--out", "x"], "config file 'missing.yaml' does not exist"),
        (["report", "nowhere"], "run folder 'nowhere' does not exist"),
    ],
)
def test_bad_input_exits_2_with_a_clean_message(args, message, tmp_path, monkeypatch):
    monkeypatch.chdir(tmp_path)
    result = runner.invoke(app, args)
    assert result.exit_code == 2
    assert message in result.output
    assert "Traceback" not in result.output


def test_unknown_config_keys_are_rejected_before_any_work(tmp_path):
    folder = audio_folder(tmp_path / "audio")
    config = analysis_config(tmp_path / "c.yaml", folder, patch_frame=64)
    result = runner.invoke(app, ["analyze", "--config", str(config), "--out", str(tmp_path / "run")])
    assert result.exit_code == 2
    assert "unknown key(s) ['patch_frame']" in result.output
    assert not (tmp_path / "run").exists()


def test_help_lists_every_command_with_examples():
    result = runner.invoke(app, ["--help"])
    assert result.exit_code == 0
    for command in ("prepare", "analyze", "report", "demo"):
        assert command in result.output
    assert "Examples" in runner.invoke(app, ["analyze", "--help"]).output


def test_every_recipe_config_the_help_and_the_readmes_name_exists():
    from audiospec.experiments.stage import stages

    root = Path(__file__).resolve().parents[1]
    texts = [s.examples for s in stages()] + [p.read_text() for p in [root / "README.md", *root.glob("recipes/*/README.md")]]
    named = {m for text in texts for m in re.findall(r"recipes/[a-z]+/conf/[A-Za-z0-9_-]+\.yaml", text)}
    assert named and not [p for p in sorted(named) if not (root / p).is_file()]


def test_train_then_sample_writes_a_checkpoint_and_audio(tmp_path):
    config = train_config(tmp_path / "train.yaml", audio_folder(tmp_path / "audio"),
                           prior="pink",
                           train={"steps": 3, "batch_size": 4, "checkpoint_every": 2, "model": TINY_MODEL})
    run = tmp_path / "run"
    result = runner.invoke(app, ["train", "--config", str(config), "--out", str(run), "--no-progress"])
    assert result.exit_code == 0, result.output
    assert "trained to step 3" in result.output
    assert (run / "checkpoint.safetensors").is_file() and (run / "normalisation.json").is_file()
    result = runner.invoke(app, ["sample", "--checkpoint", str(run / "checkpoint.safetensors"), "--steps", "3",
                                 "--n", "2", "--out", str(tmp_path / "samples")])
    assert result.exit_code == 0, result.output
    for i in range(2):
        data, rate = sf.read(tmp_path / "samples" / f"sample{i}.wav")
        assert rate == 8000 and data.size > 0 and np.isfinite(data).all() and np.abs(data).max() <= 1.0


def test_train_rejects_a_patch_longer_than_the_clips_before_any_work(tmp_path):
    config = train_config(tmp_path / "train.yaml", audio_folder(tmp_path / "audio"), patch_frames=512)
    result = runner.invoke(app, ["train", "--config", str(config), "--out", str(tmp_path / "run")])
    assert result.exit_code == 2
    assert "patch_frames=512 is longer than a clip" in result.output
    assert not (tmp_path / "run").exists()


@pytest.mark.parametrize(
    ("bad_name", "bad_bytes"),
    [("broken.wav", b"RIFF\x24\x00\x00\x00WAVEfmt "), ("notes.ogg", b"this is a text file, not audio"),
     ("empty.flac", b"")],
)
def test_a_bad_file_in_a_dataset_is_skipped_with_a_warning_naming_it(tmp_path, bad_name, bad_bytes):
    folder = audio_folder(tmp_path / "audio")
    (folder / "hiss" / bad_name).write_bytes(bad_bytes)
    with pytest.warns(UserWarning, match=bad_name):
        result = runner.invoke(app, ["analyze", "--config", str(analysis_config(tmp_path / "c.yaml", folder)),
                                     "--out", str(tmp_path / "run"), "--no-progress"])
    assert result.exit_code == 0, result.output
    assert json.loads((tmp_path / "run" / "analysis.json").read_text())["classes"] == {"hiss": 9, "rumble": 9}


def test_a_dataset_with_no_readable_audio_is_a_clean_error(tmp_path):
    folder = tmp_path / "audio" / "x"
    folder.mkdir(parents=True)
    (folder / "a.wav").write_bytes(b"not audio at all")
    result = runner.invoke(app, ["analyze", "--dataset", f"folder:{tmp_path / 'audio'}", "--out", str(tmp_path / "r")])
    assert result.exit_code == 2
    assert "error:" in result.output and "Traceback" not in result.output


def test_train_through_the_accelerate_runtime_on_the_cpu(tmp_path, monkeypatch):
    """`--runtime accelerate` goes through HF Accelerate (one CPU process here, as under `accelerate launch`)."""
    pytest.importorskip("accelerate")
    monkeypatch.setenv("ACCELERATE_USE_CPU", "true")
    config = train_config(tmp_path / "train.yaml", audio_folder(tmp_path / "audio"),
                           train={"steps": 2, "batch_size": 4, "checkpoint_every": 2, "precision": "fp32",
                                  "model": TINY_MODEL})
    result = runner.invoke(app, ["train", "--config", str(config), "--out", str(tmp_path / "run"),
                                 "--runtime", "accelerate", "--no-progress"])
    assert result.exit_code == 0, result.output
    assert "trained to step 2" in result.output
