"""`audiospec sample --sampler ancestral` on a vp_eps model (issue 22): x0_hat is clipped to the training data's range
recorded in the checkpoint, and samples that still diverge are reported as such, not as "offending clips"."""

from __future__ import annotations

import json

import pytest
import torch
from typer.testing import CliRunner

from audiospec.cli import app
from audiospec.diffusion.checkpoint import read_training_state
from audiospec.errors import AudiospecError
from audiospec.experiments.train_run import _check_samples
from helpers_cli import TINY_MODEL, audio_folder, train_config

runner = CliRunner()


def test_a_vp_eps_model_samples_within_its_data_range(tmp_path):
    config = train_config(tmp_path / "train.yaml", audio_folder(tmp_path / "audio"), train={
        "steps": 20, "batch_size": 4, "checkpoint_every": 20, "precision": "fp32", "objective": "vp_eps",
        "model": TINY_MODEL})
    run = tmp_path / "run"
    assert runner.invoke(app, ["train", "--config", str(config), "--out", str(run), "--no-progress"]).exit_code == 0
    low, high = read_training_state(run / "checkpoint.safetensors").data_range
    assert low < 0 < high  # centred patches
    result = runner.invoke(app, ["sample", "--checkpoint", str(run / "checkpoint.safetensors"), "--sampler",
                                 "ancestral", "--steps", "16", "--n", "2", "--out", str(tmp_path / "s"),
                                 "--no-progress"])
    assert result.exit_code == 0, result.output
    assert len(json.loads((tmp_path / "s" / "samples.json").read_text())["files"]) == 2


def test_diverged_samples_are_named_as_such():
    with pytest.raises(AudiospecError, match=r"with 32 ancestral steps diverged: the generated patches reach "
                                             r"\|x\| = 212 in model space.*undertrained"):
        _check_samples(torch.full((1, 1, 4, 4), 212.0), checkpoint="c.safetensors", sampler="ancestral", steps=32)
    with pytest.raises(AudiospecError, match=r"reach \|x\| = inf"):
        _check_samples(torch.full((1, 1, 4, 4), float("nan")), checkpoint="c.safetensors", sampler="euler", steps=4)
    _check_samples(torch.randn(2, 1, 4, 4), checkpoint="c.safetensors", sampler="euler", steps=4)
