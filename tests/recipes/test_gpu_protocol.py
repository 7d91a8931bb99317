"""The GPU protocol (recipes/debian/conf/gpu-protocol.yaml) end to end on the CPU at tiny size.

What runs on the GPU is exactly this: the recipe's config (only sizes shrunk), a corpus carried
as a log-mel cache, models trained side by side by worker processes with a budget in seconds
fitted on the machine, held-out losses per model, then compare, probe, baselines and the report.
"""

from __future__ import annotations

import json
import os
import subprocess
import sys
import tarfile
from pathlib import Path

import pytest
import yaml
from typer.testing import CliRunner

from audiospec.cli import app
from audiospec.data import prepare_mini
from test_recipes_debug import _speech, _music, _write_tree

RECIPE = Path(__file__).resolve().parents[2] / "recipes" / "debian" / "conf" / "gpu-protocol.yaml"
SCRIPT = RECIPE.parents[1] / "gpu-protocol.sh"
runner = CliRunner()


def _tiny(config: dict) -> dict:
    """The recipe with the sizes of the mini debug recipe: same sections, keys and settings otherwise."""
    compare = config["compare"]
    compare.update(patch_frames=32, seeds=[0, 1], steps=[2, 4], primary_steps=4, n_samples=8, trajectory_steps=4,
                   trajectory_samples=4, order={"n_bands": 4, "n_bootstrap": 20}, sensitivity_bands=[3, 4],
                   sensitivity_steps=2, listen_samples=1, griffin_lim_iters=4,
                   classifier={"channels": [8, 16], "epochs": 2, "batch_size": 8, "val_fraction": 0.0})
    compare["train"].update(batch_size=4, warmup_steps=2, coarse_to_fine={"n_bands": 4},
                            model={"base_channels": 8, "channel_mults": [1, 2], "attention": False,
                                   "norm_groups": 8, "patch_size": 2})
    config["probe"].update(n_pairs=2, swap_steps=4, swap_times=[0.5], likelihood_patches=4, likelihood_steps=2,
                           batch_size=4)
    config["baselines"].update(primary_steps=4)
    config.update(workers=2, train_seconds=20.0)
    return config


@pytest.mark.slow
def test_gpu_protocol_on_a_log_mel_cache_with_a_fitted_budget(tmp_path):
    music, speech = tmp_path / "pkg" / "music", tmp_path / "pkg" / "speech"
    _write_tree(music, {"tracks": (_music, "ogg")}, seconds=20.0, n=3)
    _write_tree(speech, {"cs": (_speech, "ogg")}, seconds=2.0, n=20)
    prepare_mini(tmp_path / "data" / "mini", music_dir=music, speech_dir=speech, n_per_class=4, progress=False)
    config = _tiny(yaml.safe_load(RECIPE.read_text()))
    config["data"]["dataset"] = "mini"
    conf = tmp_path / "gpu-protocol.yaml"
    conf.write_text(yaml.safe_dump(config))
    cache = tmp_path / "carried"
    result = runner.invoke(app, ["export-log-mel", "--config", str(conf), "--out", str(cache),
                                 "--data-dir", str(tmp_path / "data"), "--no-progress"])
    assert result.exit_code == 0, result.output
    out, results = tmp_path / "run", tmp_path / "results"
    # the script the GPU machine runs, with this smaller config
    env = {**os.environ, "GPU_PROTOCOL_CONFIG": str(conf), "PYTHON": sys.executable}
    done = subprocess.run(["bash", str(SCRIPT), str(cache), str(out), str(results)], env=env, capture_output=True,
                          text=True, timeout=900)
    assert done.returncode == 0, done.stdout + done.stderr
    assert "audiospec run exited with 0" in done.stdout
    with tarfile.open(results / "results.tar.gz") as tar:
        kept = set(tar.getnames())
    assert {"./budget.json", "./throughput.json", "./compare/results.json", "./compare/convergence.json",
            "./probe/probe.json", "./baselines/baselines.json"} <= kept
    assert not any("checkpoint" in name for name in kept)  # models stay on the machine
    with tarfile.open(results / "models.tar.gz") as tar:
        assert sum(name.endswith("heldout.csv") for name in tar.getnames()) == 2 * 3 + 2 * 2
    assert (results / "report.html").is_file() and (results / "throughput.json").is_file()
    budget = json.loads((out / "budget.json").read_text())
    assert budget["steps"] >= 10 and budget["steps"] % 10 == 0 and budget["eval_every"] == budget["steps"] // 10
    assert budget["models"] == 2 * 3 + 3 + 2 * 2  # seeds x priors + controls + seeds x baselines
    saved = yaml.safe_load((out / "config.yaml").read_text())
    assert saved["compare"]["train"]["steps"] == budget["steps"]  # the stages ran with the fitted budget
    speed = json.loads((out / "throughput.json").read_text())
    assert speed["models"] == budget["models"] and speed["flops_per_step"] > 0 and 0 < speed["mfu"] < 1
    for stage, n_models in (("compare", 9), ("baselines", 4)):
        models = json.loads((out / stage / "convergence.json").read_text())
        assert len(models) == n_models
        for model in models:  # every model's held-out loss at every tenth of its steps (controls have none)
            if "control" not in model["out_dir"]:
                assert len(model["heldout"]) == 10 and model["on_plateau"] in (True, False)
    assert not (out / "analysis").exists() and not (out / "corrupt").exists()  # no audio: left out
    for stage, name in (("compare", "results.json"), ("probe", "probe.json"), ("baselines", "baselines.json")):
        assert (out / stage / name).is_file()
    assert (out / "report.html").is_file()
