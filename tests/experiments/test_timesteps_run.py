"""`audiospec timesteps` end to end on a few synthetic clips: every arm's models in their own folders, the curves and
end points, the pre-specified tests, resumption from saved points (adding a seed trains only the new seed), and the
refusal to reuse an arm whose sampler changed under the same name."""

from __future__ import annotations

import json

import yaml
from typer.testing import CliRunner

from audiospec.cli import app
from helpers_cli import split_folder

runner = CliRunner()

ARMS = [{"name": "uniform", "timesteps": {"kind": "uniform"}},
        {"name": "logit-normal", "timesteps": {"kind": "logit_normal"}},
        {"name": "shifted", "shift_for_length": 1.0},
        {"name": "spectral", "timesteps": {"kind": "logit_normal", "spectral_weighting": True}},
        {"name": "drowning", "timesteps": {"kind": "logit_normal", "spectral_weighting": True,
                                           "frequency_map": "drowning"}}]


def _config(tmp_path, seeds):
    return {
        "data": {"dataset": f"folder:{tmp_path / 'audio'}", "clip_seconds": 3.0},
        "compare": {"patch_frames": 32, "seeds": seeds, "trajectory_steps": 3, "trajectory_samples": 2,
                    "order": {"n_bands": 3, "n_bootstrap": 5},
                    "classifier": {"channels": [8, 16], "epochs": 1, "batch_size": 8, "val_fraction": 0.0},
                    "train": {"steps": 4, "batch_size": 4, "checkpoint_every": 2,
                              "model": {"preset": "tiny", "base_channels": 8, "channel_mults": [1, 2],
                                        "attention": False}}},
        "timesteps": {"arms": ARMS, "primary_arms": ["spectral", "drowning"], "checkpoints": [2, 3],
                      "priors": ["white", "pink"], "n_samples": 4, "sample_steps": 2, "loss_draws": 1,
                      "label": "test"},
    }


def _run(tmp_path, config):
    path = tmp_path / "timesteps.yaml"
    path.write_text(yaml.safe_dump(config))
    out = tmp_path / "run"
    return runner.invoke(app, ["timesteps", "--config", str(path), "--out", str(out), "--no-progress"]), out


def test_timesteps_stage_trains_every_arm_tests_and_resumes(tmp_path):
    split_folder(tmp_path / "audio")
    result, out = _run(tmp_path, _config(tmp_path, [0, 1]))
    assert result.exit_code == 0, result.output
    assert (out / "timesteps.png").is_file() and "cannot decide with 2 seeds" in result.output
    data = json.loads((out / "timesteps.json").read_text())
    names = [arm["name"] for arm in ARMS]
    assert data["arms"] == names and data["reference"] == "logit-normal" and data["primary_step"] == 3
    assert len(data["points"]) == 2 * 2 * len(ARMS) * 2 and len(data["ends"]) == 2 * 2 * len(ARMS)
    for prior in ("white", "pink"):
        for arm in names:
            for seed in (0, 1):
                assert (out / "models" / prior / arm / f"seed{seed}" / "checkpoint.safetensors").is_file()
    # the shift of the patch used: 64 mel bins x 32 frames against the 32 x 32 reference, s = sqrt(2)
    assert abs(data["samplers"]["shifted"]["shift"] - 2 ** 0.5) < 1e-12 and data["samplers"]["spectral"]["shift"] == 1.0
    assert data["samplers"]["drowning"]["frequency_map"] == "drowning"
    primary = [t for t in data["tests"] if t["difference"]["primary"]]
    assert {(t["prior"], t["arm"], t["measure"], t["step"]) for t in primary} == {
        (p, a, "heldout_loss", 3) for p in ("white", "pink") for a in ("spectral", "drowning")}
    assert all(t["difference"]["p_value"] == 1.0 or t["difference"]["p_value"] == 0.5 for t in primary)
    bounds = {(f["prior"], f["primary"]): f for f in data["families"]}
    assert bounds["white", True]["size"] == 2 and bounds["white", True]["smallest_p"] == 1.0  # 2 x 2 / 2^2
    assert not bounds["white", True]["can_decide"]
    for density in data["densities"]["white"].values():  # each arm's p(t) integrates to one on the grid
        assert abs(sum(density) / len(density) - 1.0) < 1e-2
    reference = [t for t in data["time_to_target"] if t["arm"] == "logit-normal"]
    assert all(steps == 3.0 for t in reference for steps in t["steps"])  # the reference reaches its own loss then
    checkpoint = out / "models" / "white" / "spectral" / "seed0" / "checkpoint.safetensors"
    stamp = checkpoint.stat().st_mtime_ns
    again, _ = _run(tmp_path, _config(tmp_path, [0, 1, 2]))  # a seed more: seeds 0 and 1 read from their points
    assert again.exit_code == 0, again.output
    assert checkpoint.stat().st_mtime_ns == stamp
    assert len(json.loads((out / "timesteps.json").read_text())["points"]) == 2 * 2 * len(ARMS) * 3


def test_an_arm_changed_under_its_name_is_refused(tmp_path):
    split_folder(tmp_path / "audio")
    config = _config(tmp_path, [0])
    config["timesteps"].update(arms=ARMS[:2], primary_arms=["uniform"], checkpoints=[2], priors=["white"])
    first, out = _run(tmp_path, config)
    assert first.exit_code == 0, first.output
    config["timesteps"]["arms"] = [ARMS[0], {"name": "logit-normal", "timesteps": {"kind": "logit_normal",
                                                                                    "mu": 0.5}}]
    changed, _ = _run(tmp_path, config)
    assert changed.exit_code == 2 and "was trained with timesteps" in changed.output and "new name" in changed.output
