"""Writes only after checks (issue 22): a refused resume leaves every file of the run folder as it was; run.yaml
and checkpoints carry a checksum verified when they are read; a damaged normalisation or checkpoint is blamed on
itself, not on "the offending clips"."""

from __future__ import annotations

import dataclasses
import json

import pytest
import torch
from typer.testing import CliRunner

from audiospec.cli import app
from audiospec.diffusion.checkpoint import read_training_state, save_training_state
from audiospec.errors import AudiospecError
from helpers_cli import TINY_MODEL, audio_folder, train_config

runner = CliRunner()
TRAIN = {"steps": 2, "batch_size": 4, "checkpoint_every": 2, "precision": "fp32", "model": TINY_MODEL}


def _train(tmp_path, folder, **train):
    config = train_config(tmp_path / "train.yaml", folder, train={**TRAIN, **train})
    return runner.invoke(app, ["train", "--config", str(config), "--out", str(tmp_path / "run"), "--no-progress"])


def _files(folder) -> dict[str, bytes]:
    return {p.name: p.read_bytes() for p in sorted(folder.iterdir()) if p.is_file()}


def _sample(tmp_path):
    return runner.invoke(app, ["sample", "--checkpoint", str(tmp_path / "run" / "checkpoint.safetensors"), "--n", "1",
                               "--steps", "2", "--out", str(tmp_path / "samples"), "--no-progress"])


@pytest.fixture
def trained(tmp_path):
    folder = audio_folder(tmp_path / "audio")
    result = _train(tmp_path, folder)
    assert result.exit_code == 0, result.output
    return folder


@pytest.mark.parametrize("change, message", [
    ({"lr": 1e-3}, "settings ['lr'] differ from the checkpoint's"),
    ({"steps": 1}, "already trained to 2 steps, past steps=1"),
])
def test_a_refused_resume_leaves_every_file_as_it_was(tmp_path, trained, change, message):
    before = _files(tmp_path / "run")
    result = _train(tmp_path, trained, **change)
    assert result.exit_code == 2 and message in result.output, result.output
    assert _files(tmp_path / "run") == before  # run.yaml, normalisation.json, config.yaml, checkpoint, ...


def test_other_data_under_the_same_settings_is_refused_before_normalisation_json_is_rewritten(tmp_path, trained):
    before = _files(tmp_path / "run")
    (trained / "hiss" / "0.wav").write_bytes((trained / "rumble" / "0.wav").read_bytes())  # the data changed
    result = _train(tmp_path, trained)
    assert result.exit_code == 2 and "training patches differ" in result.output, result.output
    assert _files(tmp_path / "run") == before


def test_an_edited_run_yaml_is_refused_by_sample(tmp_path, trained):
    run_yaml = tmp_path / "run" / "run.yaml"
    assert run_yaml.read_text().startswith("# sha256 ")
    run_yaml.write_text(run_yaml.read_text().replace("hop_length: 64", "hop_length: 32"))
    result = _sample(tmp_path)
    assert result.exit_code == 2 and "run.yaml' was changed after audiospec wrote it" in result.output, result.output


def test_a_checkpoint_with_flipped_bits_is_refused(tmp_path, trained):
    path = tmp_path / "run" / "checkpoint.safetensors"
    data = bytearray(path.read_bytes())
    data[-100] ^= 0x01  # a mantissa bit of the last tensor
    path.write_bytes(bytes(data))
    result = _sample(tmp_path)
    assert result.exit_code == 2 and "checkpoint.safetensors' is damaged: its content does not match the sha256" in \
        result.output, result.output


def test_non_finite_weights_and_normalisation_are_named_as_the_cause(tmp_path, trained):
    path = tmp_path / "run" / "checkpoint.safetensors"
    norm = tmp_path / "run" / "normalisation.json"
    saved = json.loads(norm.read_text())
    norm.write_text(json.dumps({**saved, "std_db": float("nan")}))
    result = _sample(tmp_path)
    assert result.exit_code == 2 and "normalisation.json' must hold mean_db (16 finite numbers" in result.output
    norm.write_text(json.dumps(saved))
    state = read_training_state(path)
    name = next(iter(state.ema))
    state = dataclasses.replace(state, ema={**state.ema, name: torch.full_like(state.ema[name], float("nan"))})
    save_training_state(path, state)  # a consistent checksum, NaN weights
    result = _sample(tmp_path)
    assert result.exit_code == 2 and "holds non-finite weights" in result.output and "offending" not in result.output


def test_an_older_run_yaml_without_a_checksum_still_resumes(tmp_path, trained):
    run_yaml = tmp_path / "run" / "run.yaml"
    lines = run_yaml.read_text().splitlines(keepends=True)
    run_yaml.write_text("".join(line for line in lines[1:] if "short_files" not in line))  # as written before
    result = _train(tmp_path, trained, steps=3)
    assert result.exit_code == 0, result.output


def test_read_training_state_names_a_damaged_file(tmp_path):
    with pytest.raises(AudiospecError, match="does not exist"):
        read_training_state(tmp_path / "nothing.safetensors")
