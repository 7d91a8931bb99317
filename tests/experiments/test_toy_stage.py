"""A new stage is one file (issue 23): this test defines a stage, registers it and its report section, and runs it
through the pipeline (``audiospec run``), its own command (``audiospec toy``) and the report, without touching
the library. The registries are restored afterwards."""

from __future__ import annotations

import json
from dataclasses import dataclass, field
from pathlib import Path

import pytest
import yaml
from typer.testing import CliRunner

import audiospec.cli as cli
import audiospec.experiments.stage as stage_registry
import audiospec.report.sections as section_registry
from audiospec.data import DataConfig
from audiospec.experiments.context import RunContext
from audiospec.experiments.stage import Stage, register, stages
from audiospec.report.build import build_report
from audiospec.report.sections import Section, register_section
from helpers_cli import split_folder

runner = CliRunner()


@dataclass(frozen=True)
class ToyConfig:
    """The YAML section ``toy``."""

    scale: float = 2.0


@dataclass(frozen=True)
class ToyRunConfig:
    data: DataConfig
    toy: ToyConfig = field(default_factory=ToyConfig)


@dataclass(frozen=True)
class ToyResult:
    n_clips: int
    loudest: float


def run_toy(config: ToyRunConfig, context: RunContext) -> ToyResult:
    corpus = context.corpus  # shared with the other stages of the run: loaded once
    return ToyResult(n_clips=len(corpus.labels), loudest=config.toy.scale * float(corpus.waveforms.abs().max()))


TOY = Stage(name="toy", config=ToyRunConfig, result=ToyResult, output="toy.json", run=run_toy, order=15,
            summary="A toy stage: the loudest sample, scaled.", needs_audio=True)
TOY_SECTION = Section(stage="toy", html=lambda result, folder: f"<h2 id='toy'>Toy</h2><p>{result.n_clips} clips, "
                                                                 f"loudest x scale = {result.loudest:.3f}</p>",
                      summary=lambda result, folder: f"toy: {result.n_clips} clips")

COMPARE = {"mel": {"n_mels": 16}, "patch_frames": 16, "priors": ["white", "pink"], "seeds": [0, 1], "steps": [2],
           "n_samples": 4, "trajectory_steps": 2, "trajectory_samples": 2,
           "order": {"n_bands": 4, "views": ["cepstrum"], "n_bootstrap": 5}, "control": False, "colour_sweep": False,
           "sensitivity_bands": [3], "sensitivity_steps": 2, "listen_samples": 1, "griffin_lim_iters": 2,
           "classifier": {"channels": [8, 16], "epochs": 1, "batch_size": 8, "val_fraction": 0.0},
           "train": {"steps": 2, "batch_size": 4, "checkpoint_every": 2,
                     "model": {"preset": "tiny", "base_channels": 8, "channel_mults": [1, 2], "attention": False}}}


@pytest.fixture
def toy(monkeypatch):
    """The toy stage and its section registered for this test only (the CLI hears of it and adds its command)."""
    stages()  # the library's stages first, then copies of the registries and the CLI's commands to restore
    monkeypatch.setattr(stage_registry, "_STAGES", dict(stage_registry._STAGES))
    monkeypatch.setattr(cli.app, "registered_commands", list(cli.app.registered_commands))
    monkeypatch.setattr(section_registry, "_SECTIONS", dict(section_registry._SECTIONS))
    register(TOY)
    register_section(TOY_SECTION)
    return TOY


def _recipe(tmp: Path) -> Path:
    split_folder(tmp / "audio")
    config = {"data": {"dataset": f"folder:{tmp / 'audio'}", "clip_seconds": 3.0},
              "analysis": {"mel": {"n_mels": 16}, "patch_frames": 16, "n_bootstrap": 10, "hinge_clips": 2},
              "corrupt": {"mel": {"n_mels": 16}, "clips_per_class": 1, "snr_db": [10.0], "times": [0.5],
                          "blur_sigmas": [], "listen_seconds": 0.5, "griffin_lim_iters": 2},
              "compare": COMPARE, "toy": {"scale": 3.0}}
    path = tmp / "recipe.yaml"
    path.write_text(yaml.safe_dump(config))
    return path


@pytest.mark.slow
def test_a_stage_defined_in_one_file_runs_through_pipeline_cli_and_report(toy, tmp_path):
    recipe = _recipe(tmp_path)
    run = runner.invoke(cli.app, ["run", "--config", str(recipe), "--out", str(tmp_path / "run"), "--no-progress"])
    assert run.exit_code == 0, run.output
    result = json.loads((tmp_path / "run" / "toy" / "toy.json").read_text())
    assert result["n_clips"] == 12 and result["loudest"] > 0  # 6 recordings x 2 classes, one clip each
    assert yaml.safe_load((tmp_path / "run" / "config.yaml").read_text())["toy"] == {"scale": 3.0}
    page = (tmp_path / "run" / "report.html").read_text()
    assert "<h2 id='toy'>Toy</h2><p>12 clips" in page and page.index("id='toy'") < page.index('id="compare"')

    alone = runner.invoke(cli.app, ["toy", "--config", str(recipe), "--out", str(tmp_path / "alone"),
                                    "--no-progress"])
    assert alone.exit_code == 0 and "toy: 12 clips" in alone.output, alone.output
    assert (tmp_path / "alone" / "report.html").is_file()

    section_registry._SECTIONS.pop("toy")  # a stage without words of its own: the report's generic table
    assert "loudest" in build_report(tmp_path / "run").read_text()
