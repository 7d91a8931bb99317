"""`audiospec curve` end to end on a few synthetic clips: files, resumption from saved points, no silent mislabel."""

from __future__ import annotations

import json

import yaml
from typer.testing import CliRunner

from audiospec.cli import app
from helpers_cli import split_folder

runner = CliRunner()


def test_curve_writes_points_and_resumes_without_retraining(tmp_path):
    split_folder(tmp_path / "audio")
    config = {
        "data": {"dataset": f"folder:{tmp_path / 'audio'}", "clip_seconds": 3.0},
        "compare": {"patch_frames": 32, "priors": ["white", "pink"], "seeds": [0],
                    "classifier": {"channels": [8, 16], "epochs": 1, "batch_size": 8, "val_fraction": 0.0},
                    "train": {"steps": 4, "batch_size": 4, "checkpoint_every": 2,
                              "model": {"preset": "tiny", "base_channels": 8, "channel_mults": [1, 2],
                                        "attention": False}}},
        "curve": {"checkpoints": [2, 4, 6], "n_samples": 6, "sample_steps": 2, "loss_draws": 1},
    }
    path = tmp_path / "curve.yaml"
    path.write_text(yaml.safe_dump(config))
    out = tmp_path / "run"
    args = ["curve", "--config", str(path), "--out", str(out), "--no-progress"]
    result = runner.invoke(app, args)
    assert result.exit_code == 0, result.output
    assert "budget 4 steps" in result.output and (out / "curve.png").is_file()
    curve = json.loads((out / "curve.json").read_text())
    assert [(p["prior"], p["step"]) for p in curve["points"]] == [(n, s) for n in ("white", "pink") for s in (2, 4, 6)]
    assert set(curve["loss_plateau"]["white"]) == {"2", "4", "6"} and curve["loss_plateau"]["white"]["2"] is None
    assert all(p["heldout_loss"] > 0 and p["kid"]["low"] <= p["kid"]["mean"] <= p["kid"]["high"]
               for p in curve["points"])
    checkpoint = out / "models" / "white" / "seed0" / "checkpoint.safetensors"
    stamp = checkpoint.stat().st_mtime_ns
    again = runner.invoke(app, args)  # every point saved: nothing retrained
    assert again.exit_code == 0, again.output
    assert checkpoint.stat().st_mtime_ns == stamp
    assert json.loads((out / "curve.json").read_text())["points"] == curve["points"]
    (out / "points" / "white-seed0-step4.json").unlink()  # the model is at step 6 now: step 4 cannot be re-measured
    broken = runner.invoke(app, args)
    assert broken.exit_code == 2 and "already trained to 6 steps" in broken.output
