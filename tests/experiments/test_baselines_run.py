"""`audiospec baselines` end to end on a few synthetic clips: the compare stage beside --out first, then the explicit
coarse-to-fine models with their calibrations, the paired tests, the report section, and clear errors."""

from __future__ import annotations

import json

import pytest
import yaml
from typer.testing import CliRunner

from audiospec.cli import app
from audiospec.data import DataConfig
from audiospec.errors import AudiospecError
from audiospec.experiments.stages.baselines import BaselinesConfig, BaselinesRunConfig
from audiospec.experiments.protocol import CompareConfig
from audiospec.measures.ordering import OrderSettings
from helpers_cli import split_folder

runner = CliRunner()

CONFIG = {
    "compare": {"mel": {"n_mels": 16}, "patch_frames": 16, "priors": ["white", "pink"], "seeds": [0, 1],
                "steps": [5, 10], "n_samples": 6, "trajectory_steps": 10, "trajectory_samples": 4,
                "order": {"n_bands": 4, "views": ["cepstrum"], "n_bootstrap": 20},
                "control": False, "colour_sweep": False, "sensitivity_bands": [3, 4], "sensitivity_steps": 2,
                "listen_samples": 1, "griffin_lim_iters": 2,
                "classifier": {"channels": [8, 16], "epochs": 1, "batch_size": 8, "val_fraction": 0.0},
                "train": {"steps": 4, "batch_size": 4, "checkpoint_every": 2, "coarse_to_fine": {"n_bands": 4},
                          "model": {"preset": "tiny", "base_channels": 8, "channel_mults": [1, 2],
                                    "attention": False}}},
    "baselines": {"kinds": ["cepstral_ar", "heat"]},
}


def test_baselines_run_beside_the_compare_models_and_report(tmp_path):
    split_folder(tmp_path / "audio")
    config = {"data": {"dataset": f"folder:{tmp_path / 'audio'}", "clip_seconds": 3.0}, **CONFIG}
    path = tmp_path / "baselines.yaml"
    path.write_text(yaml.safe_dump(config))
    run = tmp_path / "run"
    missing = runner.invoke(app, ["baselines", "--config", str(path), "--out", str(run / "baselines"),
                                  "--no-progress"])
    assert missing.exit_code != 0 and "runs.json" in missing.output and "audiospec compare" in missing.output
    assert not (run / "baselines" / "models").exists()  # refused before any work
    compared = runner.invoke(app, ["compare", "--config", str(path), "--out", str(run / "compare"), "--no-progress"])
    assert compared.exit_code == 0, compared.output
    before = {f: f.stat().st_mtime_ns for f in (run / "compare").rglob("*") if f.is_file()}
    result = runner.invoke(app, ["baselines", "--config", str(path), "--out", str(run / "baselines"),
                                 "--no-progress"])
    assert result.exit_code == 0, result.output
    assert {f: f.stat().st_mtime_ns for f in (run / "compare").rglob("*") if f.is_file()} == before  # read only
    assert ("cepstral AR vs the white-prior diffusion model at 10 steps (PRIMARY, equal compute and NFE: 4 training "
            "steps of 4 patches, 1 network evaluation(s) per sampling step)") in result.output
    for kind in ("cepstral_ar", "heat"):
        assert (run / "baselines" / "models" / kind / "seed1" / "checkpoint.safetensors").is_file()
    out = json.loads((run / "baselines" / "baselines.json").read_text())
    assert out["names"] == ["white", "pink", "cepstral AR", "heat dissipation"] and out["primary_steps"] == 10
    assert out["n_stages"] == 5  # DC + 4 log-spaced bands of 16 mel bins
    assert out["equal_compute"] is True and out["budgets"]["white"] == out["budgets"]["heat dissipation"] == {
        "train_steps": 4, "batch_size": 4, "nfe_per_step": 1}
    for name in ("white", "pink", "cepstral AR", "heat dissipation", "exact Gaussian, cepstral AR",
                 "exact Gaussian, heat dissipation"):
        assert set(out["metrics"][name]) == {"5", "10"}
    compare_runs = json.loads((run / "compare" / "runs.json").read_text())
    white = [r["kid_classifier"] for r in compare_runs if r["prior"] == "white" and r["steps"] == 10]
    assert out["metrics"]["white"]["10"]["kid_classifier"]["mean"] == pytest.approx(sum(white) / len(white))
    diff = out["difference_to_white"]["cepstral AR"]["10"]["kid_classifier"]
    assert diff["primary"] and diff["p_value"] >= 0.5 and not diff["reliable"]  # 2 seeds: p >= 2 / 4
    assert not out["difference_to_white"]["cepstral AR"]["5"]["kid_classifier"]["primary"]
    assert set(out["orders"]) == {"cepstral AR", "heat dissipation"}
    assert all(-1.0 <= o["low"] <= o["mean"] <= o["high"] <= 1.0 for o in out["orders"].values())
    assert set(out["train_steps_per_second"]) == {"white", "cepstral AR", "heat dissipation"}
    assert {r["prior"] for r in json.loads((run / "baselines" / "runs.json").read_text())} >= {"cepstral AR"}
    report = runner.invoke(app, ["report", str(run)])
    assert report.exit_code == 0, report.output
    page = (run / "report.html").read_text()
    assert "Explicit coarse-to-fine models" in page and "baselines_kid.png" not in page  # inlined


def test_baselines_settings_are_checked():
    data = DataConfig(dataset="mini")
    with pytest.raises(AudiospecError, match="baselines.kinds"):
        BaselinesConfig(kinds=("cepstral_ar", "blur"))
    with pytest.raises(AudiospecError, match="heat_eta"):
        BaselinesConfig(heat_eta=1.5)
    with pytest.raises(AudiospecError, match="among compare.seeds"):
        BaselinesRunConfig(data=data, baselines=BaselinesConfig(seeds=(9,)))
    with pytest.raises(AudiospecError, match="primary_steps"):
        BaselinesRunConfig(data=data, baselines=BaselinesConfig(primary_steps=3))
    with pytest.raises(AudiospecError, match="order.n_bands"):
        BaselinesRunConfig(data=data, compare=CompareConfig(order=OrderSettings(n_bands=6)))
    BaselinesRunConfig(data=data, compare=CompareConfig(order=OrderSettings(n_bands=6)),
                       baselines=BaselinesConfig(kinds=("heat",)))  # heat has no bands to match
