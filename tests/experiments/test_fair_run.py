"""`audiospec fair` end to end on a few synthetic clips (issue 25): every arm trained with the compare section's
budget, sampled at the fair cepstral AR's NFE, beside its calibration; band-step shares with the exact fair AR's
known answer; the swap with its ceiling and controls; likelihoods clustered by recording; the report section."""

from __future__ import annotations

import json

import pytest
import yaml
from typer.testing import CliRunner

from audiospec.cli import app
from audiospec.data import DataConfig
from audiospec.errors import AudiospecError
from audiospec.experiments.fair_arms import FairConfig
from audiospec.experiments.stages.fair import FairRunConfig
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
    "fair": {"steps_per_band": 2, "calibration_draws": 2, "trajectory_samples": 4, "swap_pairs": 3,
             "swap_steps": 4, "likelihood_patches": 4, "likelihood_steps": 2, "k_cut": 2},
}


def test_fair_runs_end_to_end_and_reports(tmp_path):
    split_folder(tmp_path / "audio")
    config = {"data": {"dataset": f"folder:{tmp_path / 'audio'}", "clip_seconds": 3.0}, **CONFIG}
    path = tmp_path / "fair.yaml"
    path.write_text(yaml.safe_dump(config))
    run = tmp_path / "run"
    result = runner.invoke(app, ["fair", "--config", str(path), "--out", str(run / "fair"), "--no-progress"])
    assert result.exit_code == 0, result.output
    out = json.loads((run / "fair" / "fair.json").read_text())
    assert out["n_stages"] == 5 and out["nfe"] == 2 * 2 * 5  # Heun x steps per band x (DC + 4 bands)
    arms = {arm["name"]: arm for arm in out["arms"]}
    assert {"white", "pink", "matched", "matched_dct", "fair cepstral AR", "band-whitened flow",
            "blurring diffusion"} <= set(arms)
    for arm in arms.values():
        assert arm["nfe"] == out["nfe"]
        assert arm["calibration"]["kid"]["n"] == 2  # calibration_draws
        shares = arm["shares"]
        assert len(shares) == 5 and all(len(row) == arm["steps"] for row in shares)
        for row in shares:  # each band's content is shared out over the steps
            assert sum(row) == pytest.approx(1.0, abs=1e-6)
    exact = arms["fair cepstral AR"]["exact_shares"]  # the known answer: band k written in stage k only
    for k, row in enumerate(exact):
        assert sum(row[2 * k:2 * k + 2]) == pytest.approx(1.0, abs=1e-3)
    assert arms["fair cepstral AR"]["exact_concentration"] == pytest.approx(1.0, abs=1e-3)
    for arm in arms.values():  # the paired test of conclusion 1 reads each seed's concentration
        assert len(arm["concentration_seeds"]) == 2
        assert sum(arm["concentration_seeds"]) / 2 == pytest.approx(arm["concentration"]["mean"])
    test = out["concentration_test"]
    ar, white = arms["fair cepstral AR"]["concentration_seeds"], arms["white"]["concentration_seeds"]
    assert test["n"] == 2 and test["mean"] == pytest.approx(sum(a - w for a, w in zip(ar, white)) / 2)
    roles = {row["role"] for row in out["swap"]}
    assert roles == {"positive control", "negative control", "prior"}
    assert -1.0 <= out["ceiling"] <= 1.0
    assert {row["name"] for row in out["likelihood"]} >= {"white", "pink"}
    assert out["n_recordings"] >= 1 and 0 <= out["floor_pixels"] <= out["test_pixels"]
    for family in out["families"]:
        assert family["n"] == 2 and family["smallest_p"] >= 0.5 and not family["can_decide"]  # 2 seeds: p >= 2/4
    report = runner.invoke(app, ["report", str(run)])
    assert report.exit_code == 0, report.output
    page = (run / "report.html").read_text()
    assert "Fair references" in page and "cannot decide" in page


def test_fair_settings_are_checked():
    data = DataConfig(dataset="mini")
    with pytest.raises(AudiospecError, match="fair.softness"):
        FairConfig(softness=(0.5, 1.0))
    with pytest.raises(AudiospecError, match="fair.swap_time"):
        FairConfig(swap_time=0.3)
    with pytest.raises(AudiospecError, match="among compare.seeds"):
        FairRunConfig(data=data, fair=FairConfig(seeds=(9,)))
    with pytest.raises(AudiospecError, match="fair.k_cut"):
        FairRunConfig(data=data, fair=FairConfig(k_cut=4))
