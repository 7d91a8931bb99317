"""`audiospec probe` end to end on a few synthetic clips: models read from the compare folder beside --out (never
trained there), the JSON, the calibrations, the report section, and clear errors for bad settings."""

from __future__ import annotations

import json

import pytest
import yaml
from typer.testing import CliRunner

from audiospec.cli import app
from audiospec.errors import AudiospecError
from audiospec.data import DataConfig
from audiospec.experiments.stages.probe import ProbeConfig, ProbeRunConfig
from helpers_cli import split_folder

runner = CliRunner()


def test_probe_runs_on_the_compare_models_and_reports(tmp_path):
    split_folder(tmp_path / "audio")
    config = {
        "data": {"dataset": f"folder:{tmp_path / 'audio'}", "clip_seconds": 3.0},
        "compare": {"mel": {"n_mels": 16}, "patch_frames": 16, "priors": ["white", "pink"], "seeds": [0, 1],
                    "steps": [4], "n_samples": 4, "trajectory_steps": 4, "trajectory_samples": 2,
                    "order": {"n_bands": 4, "views": ["cepstrum"], "n_bootstrap": 5}, "control": False,
                    "colour_sweep": False, "sensitivity_bands": [3], "sensitivity_steps": 2, "listen_samples": 1,
                    "griffin_lim_iters": 2,
                    "classifier": {"channels": [8, 16], "epochs": 1, "batch_size": 8, "val_fraction": 0.0},
                    "train": {"steps": 4, "batch_size": 4, "checkpoint_every": 2,
                              "model": {"preset": "tiny", "base_channels": 8, "channel_mults": [1, 2],
                                        "attention": False}}},
        "probe": {"n_pairs": 3, "swap_steps": 4, "swap_times": [0.75, 0.5], "k_cut": 4, "n_bands": 4,
                  "likelihood_patches": 4, "likelihood_steps": 8, "n_probes": 4, "batch_size": 2},
    }
    path = tmp_path / "probe.yaml"
    path.write_text(yaml.safe_dump(config))
    run = tmp_path / "run"
    missing = runner.invoke(app, ["probe", "--config", str(path), "--out", str(run / "probe"), "--no-progress"])
    assert missing.exit_code == 2 and "holds no compare stage" in missing.output, missing.output
    assert not (run / "compare").exists() and not (run / "probe" / "probe.json").exists()  # nothing trained there
    compared = runner.invoke(app, ["compare", "--config", str(path), "--out", str(run / "compare"), "--no-progress"])
    assert compared.exit_code == 0, compared.output
    before = {f: f.stat().st_mtime_ns for f in (run / "compare").rglob("*") if f.is_file()}
    result = runner.invoke(app, ["probe", "--config", str(path), "--out", str(run / "probe"), "--no-progress"])
    assert result.exit_code == 0, result.output
    assert {f: f.stat().st_mtime_ns for f in (run / "compare").rglob("*") if f.is_file()} == before  # read only
    assert "band swap (secondary), pink prior, swap at t=0.75" in result.output and "likelihood, pink − white" in result.output
    assert (run / "compare" / "models" / "pink" / "seed1" / "checkpoint.safetensors").is_file()
    probe = json.loads((run / "probe" / "probe.json").read_text())
    assert [(r["prior"], r["time"]) for r in probe["swap"]] == [(p, t) for p in ("white", "pink") for t in (0.75, 0.5)]
    for row in probe["swap"]:
        assert 0.0 <= row["trained"]["mean"] <= 1.0 and 0.0 <= row["exact"]["mean"] <= 1.0
        low_bands = [s for j, s in enumerate(row["exact_band_shares"]) if j not in probe["kept_bands"]]
        assert min(low_bands) > 0.5  # the swapped bands follow the donor in the Gaussian model
    rows = {r["name"]: r for r in probe["likelihood"]}
    assert rows["pink"]["versus_white"] is not None and rows["white"]["versus_white"] is None
    for name in ("white", "pink"):  # the ODE pipeline on the exact Gaussian field reproduces its closed form
        assert abs(rows[name]["calibration"]) < 0.05
    assert probe["swap_level"] == pytest.approx(1 - 0.05 / 2) and probe["likelihood_level"] == pytest.approx(0.95)
    assert probe["swap_secondary_level"] == pytest.approx(1 - 0.05 / 2)
    assert [r["primary"] for r in probe["swap"]] == [False, True, False, True]  # primary_time 0.5 by default
    assert all(r["p_value"] >= 0.5 and not r["reliable"] for r in probe["swap"])  # 2 seeds: p >= 2 / 4
    assert rows["pink"]["p_value"] is not None and not rows["pink"]["reliable"]
    report = runner.invoke(app, ["report", str(run)])
    assert report.exit_code == 0, report.output
    page = (run / "report.html").read_text()
    assert "Beyond correlation" in page and "probe_swap.png" not in page  # inlined, not linked


def test_probe_settings_are_checked():
    data = DataConfig(dataset="mini")
    with pytest.raises(AudiospecError, match="splits a quefrency band"):
        ProbeRunConfig(data=data, probe=ProbeConfig(k_cut=4))  # 64 mel bins, 8 bands: edges 2, 3, 5, 8, ...
    with pytest.raises(AudiospecError, match="among compare.seeds"):
        ProbeRunConfig(data=data, probe=ProbeConfig(seeds=(7,)))
    with pytest.raises(AudiospecError, match="swap_times"):
        ProbeConfig(swap_steps=8, swap_times=(0.3, 0.5))
    with pytest.raises(AudiospecError, match="distinct"):
        ProbeConfig(swap_times=(0.5, 0.5))
    with pytest.raises(AudiospecError, match="primary_time"):
        ProbeConfig(swap_times=(0.75,))
    with pytest.raises(AudiospecError, match="likelihood_steps"):
        ProbeConfig(likelihood_steps=1)
    with pytest.raises(AudiospecError, match="n_pairs"):
        ProbeConfig(n_pairs=0)
