"""Every committed recipe configuration parses into the configs its commands build (a typo fails here, not after
an hour of training)."""

from __future__ import annotations

from pathlib import Path

import pytest

from audiospec.cli import _run_config
from audiospec.config import read_yaml
from audiospec.diffusion.priors import REFERENCE_PRIOR
from audiospec.experiments.stages.curve import CurveRunConfig
from audiospec.experiments.pipeline import PipelineConfig
from audiospec.experiments.stages.probe import ProbeRunConfig

CONFS = sorted((Path(__file__).resolve().parents[2] / "recipes").glob("*/conf/*.yaml"))


def test_there_are_recipe_configs():
    assert len(CONFS) >= 10 and any(p.name == "protocol.yaml" for p in CONFS)


@pytest.mark.parametrize("path", CONFS, ids=lambda p: f"{p.parts[-3]}/{p.name}")
def test_recipe_config_parses(path):
    pipeline = _run_config(PipelineConfig, path)
    assert pipeline.compare.train.steps >= 1 and REFERENCE_PRIOR in [s.name for s in pipeline.compare.priors]
    if "curve" in read_yaml(path):
        curve = _run_config(CurveRunConfig, path)
        assert curve.compare == pipeline.compare  # the curve trains exactly the comparison's models
    if "probe" in read_yaml(path):
        assert _run_config(ProbeRunConfig, path).probe == pipeline.section("probe") is not None


def test_protocol_can_reach_a_verdict_and_matches_the_demo_models():
    """The converged protocol trains the demo's models (only the budget differs); both protocols can decide."""
    demo = _run_config(PipelineConfig, next(p for p in CONFS if p.parts[-3] == "mini" and p.name == "cpu.yaml")).compare
    for name in ("protocol.yaml", "converged.yaml"):  # the 300-step preview of record, and the converged protocol
        protocol = _run_config(PipelineConfig, next(p for p in CONFS if p.name == name)).compare
        # two primary tests under Holm need 2 * 2 / 2^n < 0.05, i.e. n >= 7 seeds
        assert len(protocol.seeds) >= 7 and protocol.primary_steps in protocol.steps
        for key in ("mel", "patch_frames", "split_fractions", "split_seed"):
            assert getattr(protocol, key) == getattr(demo, key)
    budget = ("steps", "checkpoint_every", "eval_every")
    same = {k: v for k, v in vars(protocol.train).items() if k not in budget}
    assert same == {k: v for k, v in vars(demo.train).items() if k not in budget}


def test_timesteps_arms_train_the_protocols_models_and_can_decide():
    """The timesteps recipes (issue 28) train the converged protocol's models, differing only by p(t); the full
    recipe's and the one run's primary family can reach a verdict, the preview's says it cannot."""
    from audiospec.experiments.stages.timesteps import TimestepsRunConfig
    from audiospec.functional.stats import smallest_sign_flip_p

    paths = {p.name: p for p in CONFS if p.parts[-3] == "mini"}
    converged = _run_config(PipelineConfig, paths["converged.yaml"]).compare
    full = _run_config(TimestepsRunConfig, paths["timesteps.yaml"])
    preview = _run_config(TimestepsRunConfig, paths["timesteps-preview.yaml"])
    epyc = _run_config(TimestepsRunConfig, paths["timesteps-epyc.yaml"])  # the one run: 7 seeds, 400 steps
    assert full.compare == preview.compare == epyc.compare == converged  # the same split, patches and training
    assert epyc.timesteps.arms == full.timesteps.arms and epyc.timesteps.primary == epyc.timesteps.budget
    for config, decides in ((full, True), (epyc, True), (preview, False)):
        section = config.timesteps
        seeds = section.seeds or config.compare.seeds
        assert {"uniform", "logit-normal"} <= {arm.name for arm in section.arms} and section.reference == "logit-normal"
        assert (smallest_sign_flip_p(len(seeds), family_size=len(section.primary_arms)) < 0.05) == decides


def test_fair_at_protocol_scale_trains_the_protocols_models_and_can_decide():
    """conf/fair.yaml (issue 25 at the protocol's scale) has the 300-step protocol's split, seeds, U-Net and budget,
    and its pre-specified primary test (one test, paired by seed) can reach p < 0.05."""
    from audiospec.experiments.stages.fair import FairRunConfig
    from audiospec.functional.stats import smallest_sign_flip_p

    paths = {p.name: p for p in CONFS if p.parts[-3] == "mini"}
    fair = _run_config(FairRunConfig, paths["fair.yaml"])
    assert fair.compare == _run_config(PipelineConfig, paths["protocol.yaml"]).compare
    assert 0.0 in fair.fair.softness and fair.fair.controls and fair.fair.calibration_draws >= 3
    assert smallest_sign_flip_p(len(fair.fair.seeds or fair.compare.seeds), family_size=1) < 0.05
