"""Stages that cannot corrupt each other (issue 22): each stage records what it consumed (fingerprint.json) and
refuses, before writing anything, when the stage folder it reads (or its own, when it reuses what is there) was
made from other inputs. The repros of the issue: a recipe run into a folder whose compare/ was made with the
original config, with one value changed."""

from __future__ import annotations

import copy
import dataclasses
import json
import shutil

import pytest
import yaml
from typer.testing import CliRunner

from audiospec.cli import app
from audiospec.data import DataConfig, load_corpus
from audiospec.errors import AudiospecError
from audiospec.experiments.context import RunContext, split_patches
from audiospec.experiments.protocol import MODEL_KEYS, CompareConfig, CompareRunConfig
from audiospec.experiments.results import CurveResult
from audiospec.report.sections.curve import curve_verdicts
from audiospec.experiments.stages.curve import CurveConfig
from audiospec.experiments.fingerprint import (
    FINGERPRINT_NAME,
    Fingerprint,
    clips_digest,
    read_fingerprint,
    split_digest,
)
from helpers_cli import split_folder

runner = CliRunner()

COMPARE = {"mel": {"n_mels": 16}, "patch_frames": 16, "priors": ["white", "pink"], "seeds": [0, 1], "steps": [2, 4],
           "n_samples": 4, "trajectory_steps": 4, "trajectory_samples": 2,
           "order": {"n_bands": 4, "views": ["cepstrum"], "n_bootstrap": 5}, "control": False,
           "colour_sweep": False, "sensitivity_bands": [3], "sensitivity_steps": 2, "listen_samples": 1,
           "griffin_lim_iters": 2,
           "classifier": {"channels": [8, 16], "epochs": 1, "batch_size": 8, "val_fraction": 0.0},
           "train": {"steps": 4, "batch_size": 4, "checkpoint_every": 2, "coarse_to_fine": {"n_bands": 4},
                     "model": {"preset": "tiny", "base_channels": 8, "channel_mults": [1, 2], "attention": False}}}
PROBE = {"n_pairs": 2, "swap_steps": 4, "swap_times": [0.5], "k_cut": 4, "n_bands": 4, "likelihood_patches": 2,
         "likelihood_steps": 2, "batch_size": 2}


def _config(tmp, change=None, **sections):
    config = {"data": {"dataset": f"folder:{tmp / 'audio'}", "clip_seconds": 3.0}, "compare": copy.deepcopy(COMPARE),
              "probe": PROBE, "baselines": {"kinds": ["heat"]}, **sections}
    if change:
        section, key, value = change
        target = config
        for part in section.split("."):
            target = target[part]
        target[key] = value
    path = tmp / f"config-{abs(hash(str(change)))}.yaml"
    path.write_text(yaml.safe_dump(config))
    return path


def check_upstream(here, folder, *, keys):
    return RunContext(DataConfig(dataset="mini"), run_dir=folder.parent).upstream(here, folder, keys=keys)


def _verdicts(plateau, loss_plateau, budget, curve):
    result = CurveResult(points=(), plateau=plateau, loss_plateau=loss_plateau, sample_steps=1, n_samples=3,
                         n_validation_patches=1, n_train_patches=1, steps_per_second=0.0, budget=budget,
                         checkpoints=curve.checkpoints, plateau_fraction=curve.plateau_fraction,
                         loss_tolerance=curve.loss_tolerance)
    return curve_verdicts(result)


def _files(folder):
    return {str(f.relative_to(folder)): f.read_bytes() for f in sorted(folder.rglob("*")) if f.is_file()}


@pytest.fixture(scope="module")
def run(tmp_path_factory):
    """A run folder whose compare/ was made with the original config."""
    tmp = tmp_path_factory.mktemp("fingerprints")
    split_folder(tmp / "audio")
    result = runner.invoke(app, ["compare", "--config", str(_config(tmp)), "--out", str(tmp / "run" / "compare"),
                                 "--no-progress"])
    assert result.exit_code == 0, result.output
    return tmp


def test_compare_records_what_it_consumed(run):
    fingerprint = read_fingerprint(run / "run" / "compare")
    assert fingerprint.stage == "compare" and len(fingerprint.clips) == len(fingerprint.split) == 64
    assert fingerprint.settings["compare"]["train"]["steps"] == 4
    splits = json.loads((run / "run" / "compare" / "splits.json").read_text())
    assert splits["grouping"]["n_groups"] == 12 and "one group per source file" in splits["grouping"]["basis"]


@pytest.mark.parametrize("stage, change, named", [
    ("probe", ("compare.train", "steps", 8), "compare.train.steps: 4 there, 8 here"),  # kept training in place
    ("probe", ("compare.train", "steps", 2), "compare.train.steps: 4 there, 2 here"),  # used 4-step models
    ("baselines", ("compare.train", "steps", 8), "compare.train.steps: 4 there, 8 here"),
    ("baselines", ("compare", "patch_frames", 8), "compare.patch_frames: 16 there, 8 here"),
    ("baselines", ("data", "max_clips_per_class", 4), "the clips"),  # its splits.json differed from compare's
    # recorded primary_steps 8 without a primary answer: compare's rows lack 8 steps (found before the fingerprint)
    ("baselines", ("compare", "steps", [2, 4, 8]), "lacks the runs [('pink', 0, 8)"),
])
def test_a_stage_refuses_a_compare_stage_made_from_other_inputs_before_writing(run, stage, change, named):
    before = _files(run / "run" / "compare")
    out = run / "run" / f"{stage}-{change[1]}-{change[2]}"
    result = runner.invoke(app, [stage, "--config", str(_config(run, change)), "--out", str(out), "--no-progress"])
    assert result.exit_code == 2 and result.output.startswith("error: "), result.output
    assert named in result.output, result.output
    if "lacks the runs" not in named:
        assert "the compare stage in" in result.output and "was made from other inputs" in result.output
    assert _files(run / "run" / "compare") == before  # compare's models, rows and results untouched
    assert not out.exists() or not any(out.iterdir())  # and nothing written here


def test_compare_refuses_its_own_folder_made_with_other_training_settings(run):
    before = _files(run / "run" / "compare")
    result = runner.invoke(app, ["compare", "--config", str(_config(run, ("compare.train", "lr", 1e-3))),
                                 "--out", str(run / "run" / "compare"), "--no-progress"])
    assert result.exit_code == 2 and "compare.train.lr: 0.0002 there, 0.001 here" in result.output, result.output
    assert "pass a new --out folder" in result.output
    assert _files(run / "run" / "compare") == before


def test_a_compare_folder_from_before_fingerprints_is_read_from_its_config_and_split(run, tmp_path):
    legacy = tmp_path / "compare"
    shutil.copytree(run / "run" / "compare", legacy)
    recorded = read_fingerprint(legacy)
    (legacy / FINGERPRINT_NAME).unlink()
    here = Fingerprint(stage="probe", settings=recorded.settings, clips=recorded.clips, split=recorded.split)
    check_upstream(here, legacy, keys=MODEL_KEYS)  # the same inputs: fine, without a clips digest
    other = copy.deepcopy(recorded.settings)
    other["compare"]["train"]["steps"] = 8
    with pytest.raises(AudiospecError, match=r"compare.train.steps: 4 there, 8 here"):
        check_upstream(Fingerprint(stage="probe", settings=other, split=recorded.split), legacy, keys=MODEL_KEYS)
    with pytest.raises(AudiospecError, match=r"the split \("):
        check_upstream(Fingerprint(stage="probe", settings=recorded.settings, split="0" * 64), legacy,
                       keys=MODEL_KEYS)
    with pytest.raises(AudiospecError, match=r"holds no compare stage"):
        check_upstream(here, tmp_path / "nowhere", keys=MODEL_KEYS)


def test_curve_into_a_folder_made_with_other_data_refuses_instead_of_reusing_points(run):
    curve = {"checkpoints": [2, 4], "n_samples": 4, "sample_steps": 2, "loss_draws": 1}
    args = lambda change: ["curve", "--config", str(_config(run, change, curve=curve)), "--out",  # noqa: E731
                           str(run / "run" / "curve"), "--no-progress"]
    result = runner.invoke(app, args(None))
    assert result.exit_code == 0, result.output
    before = _files(run / "run" / "curve")
    other = runner.invoke(app, args(("data", "max_clips_per_class", 4)))
    assert other.exit_code == 2 and "the clips (" in other.output and "data.max_clips_per_class" in other.output
    assert _files(run / "run" / "curve") == before  # config.yaml, splits.json and the points as they were
    longer = runner.invoke(app, args(("curve", "checkpoints", [2, 4, 6])))  # more checkpoints: points reused
    assert longer.exit_code == 0, longer.output


def test_the_curve_verdict_says_why_a_budget_is_not_tested_and_the_fix():
    plateau = {"white": {2: None, 6: None}}
    not_a_checkpoint = _verdicts(plateau, plateau, 5, CurveConfig(checkpoints=(2, 6)))[0]
    assert "not tested (the budget, 5 steps, is not one of curve.checkpoints [2, 6]: add it)" in not_a_checkpoint
    assert "no earlier checkpoint" not in not_a_checkpoint
    too_late = _verdicts(plateau, plateau, 6, CurveConfig(checkpoints=(5, 6)))[0]
    assert "no checkpoint at or before 80% of the budget, <= 4 steps, among curve.checkpoints [5, 6]: add one" in \
        too_late


def test_a_primary_step_count_missing_from_the_steps_is_a_config_error():
    with pytest.raises(AudiospecError, match=r"primary_steps=8 must be one of steps \[2, 4\]"):
        CompareRunConfig(data=DataConfig(dataset="mini"), compare=CompareConfig(steps=(2, 4), primary_steps=8))


def test_the_same_data_spelled_from_another_folder_is_the_same_input(run, monkeypatch):
    recorded = read_fingerprint(run / "run" / "compare")
    monkeypatch.chdir(run)
    corpus = load_corpus(DataConfig(dataset="folder:audio", clip_seconds=3.0), progress=False)  # a relative path
    assert clips_digest(corpus) == recorded.clips
    assert split_digest(split_patches(corpus, CompareConfig(patch_frames=16)).sources) == recorded.split


def test_training_up_front_checks_the_stage_folders_first(run, tmp_path):
    # `audiospec run` with workers > 1 trains every model before the stages run: into compare/ only when its
    # fingerprint allows, so a refused compare stage has not been trained on in place
    from audiospec.cli import _run_config
    from audiospec.experiments.pipeline import PipelineConfig, pipeline_jobs, planned_stages

    def _jobs(pipeline, run_dir, progress):
        context = RunContext(pipeline.data, pipeline.compare, run_dir=run_dir, progress=progress)
        return pipeline_jobs(planned_stages(pipeline), context)

    shutil.copytree(run / "run" / "compare", tmp_path / "compare")
    before = _files(tmp_path / "compare")
    config = _run_config(PipelineConfig, _config(run, ("compare.train", "lr", 1e-3)))
    with pytest.raises(AudiospecError, match=r"compare.train.lr: 0.0002 there, 0.001 here"):
        _jobs(dataclasses.replace(config, workers=2), tmp_path, progress=False)  # the jobs trained up front
    assert _files(tmp_path / "compare") == before
    assert len(_jobs(_run_config(PipelineConfig, _config(run)), tmp_path, progress=False)) == 2 + 2 + 2  # + heat


def _corpus(root, waveforms):
    from audiospec.data import Corpus
    from audiospec.data.short_files import SOURCE_SEPARATOR

    sources = [f"{root}/mini/music/000.wav@0.000s", f"{root}/mini/speech/001.wav@1.500s",
               f"{root}/mini/speech/002.wav@0.000s{SOURCE_SEPARATOR}{root}/mini/speech/003.wav@0.000s"]  # a joined clip
    return Corpus(waveforms=waveforms, labels=["music", "speech", "speech"], sources=sources, sample_rate=8000)


def test_a_copied_or_moved_dataset_keeps_its_digests_and_other_clips_do_not(tmp_path):
    """The digests leave out where the dataset lies (LOCATION_KEYS' promise): the same clips under another folder
    are the same input, other samples or another layout are not; the split's provenance likewise."""
    import torch

    waveforms = torch.linspace(-1, 1, 3 * 50).reshape(3, 50)
    here, there = _corpus(tmp_path / "a" / "data", waveforms), _corpus(tmp_path / "b" / "elsewhere", waveforms)
    assert clips_digest(here) == clips_digest(there)
    assert clips_digest(here, legacy=True) != clips_digest(there, legacy=True)  # the old digest held the location
    changed = waveforms.clone()
    changed[1, 7] += 1e-3
    assert clips_digest(_corpus(tmp_path / "a" / "data", changed)) != clips_digest(here)
    swapped = dataclasses.replace(here, sources=[here.sources[1], here.sources[0], here.sources[2]])
    assert clips_digest(swapped) != clips_digest(here)
    split = {"train": here.sources[:1], "validation": here.sources[1:2], "test": here.sources[2:]}
    moved = {"train": there.sources[:1], "validation": there.sources[1:2], "test": there.sources[2:]}
    assert split_digest(split) == split_digest(moved)
    assert split_digest(split) != split_digest({**split, "train": split["test"], "test": split["train"]})


def test_a_fingerprint_recorded_with_absolute_paths_still_matches_the_same_clips(tmp_path):
    """A folder fingerprinted before the digests left the location out (absolute paths) resumes with the same clips
    from the same place, and still refuses other clips."""
    import torch

    waveforms = torch.linspace(-1, 1, 3 * 50).reshape(3, 50)
    corpus = _corpus(tmp_path / "data", waveforms)
    split = {"train": corpus.sources[:1], "validation": corpus.sources[1:2], "test": corpus.sources[2:]}
    here = Fingerprint.of("compare", CompareRunConfig(data=DataConfig(dataset="mini")), corpus=corpus, split=split)
    recorded = dataclasses.replace(here, clips=clips_digest(corpus, legacy=True),
                                   split=split_digest(split, legacy=True), legacy=("", ""))
    assert here.differences(recorded, keys=("data",)) == []
    other = _corpus(tmp_path / "data", waveforms + 1.0)
    refused = dataclasses.replace(recorded, clips=clips_digest(other, legacy=True))
    assert any(line.startswith("the clips") for line in here.differences(refused, keys=("data",)))
