"""The timesteps arms: the section's checks (each error names its key), the arms' samplers, and the numbers of the
comparison on made-up points with known answers (paired sign-flip tests and Holm, the families' smallest p, the
time to the reference's loss)."""

from __future__ import annotations

import math

import pytest
import torch

from audiospec.config import config_from_dict
from audiospec.diffusion import LogitNormalTimesteps, TimestepConfig, make_timestep_sampler
from audiospec.errors import AudiospecError
from audiospec.experiments.timestep_arms import DEFAULT_ARMS, TimestepArm, TimestepsConfig, arm_timesteps
from audiospec.experiments.timestep_results import ArmEnd, ArmPoint, arm_tests, families, time_to_target
from audiospec.measures.statistics import Interval

GRID = (torch.arange(2000, dtype=torch.float64) + 0.5) / 2000


def test_the_default_arms_are_the_issues():
    config = TimestepsConfig()
    assert [arm.name for arm in config.arms] == ["uniform", "logit-normal", "shifted", "shifted-x4", "spectral",
                                                 "drowning"]
    assert config.reference == "logit-normal" and config.primary_arms == ("spectral", "drowning")
    assert [spec.name for spec in config.priors] == ["white", "pink"] and config.primary == config.checkpoints[-1]
    samplers = {arm.name: arm_timesteps(arm, (64, 64), (32, 32)) for arm in config.arms}
    assert samplers["uniform"].kind == "uniform"  # both bases explicit: the library's default is uniform
    assert samplers["logit-normal"] == TimestepConfig(kind="logit_normal", mu=0.0, sigma=1.0)
    assert samplers["spectral"].spectral_weighting and samplers["spectral"].frequency_map == "linear"
    assert samplers["drowning"].spectral_weighting and samplers["drowning"].frequency_map == "drowning"
    assert TimestepConfig().kind == "uniform"  # what a model trains with when its recipe names no sampler


def test_an_arms_resolution_shift_is_esser_et_als_for_its_patch():
    arms = {arm.name: arm for arm in DEFAULT_ARMS}
    # 64 x 64 patches against the 32 x 32 latent grid of Esser et al.: s = sqrt(4096 / 1024) = 2; four times as long:
    # s = sqrt(4 x 4096 / 1024) = 4; the shift of a logit-normal(0, 1) is mu -> log s
    for name, s in (("shifted", 2.0), ("shifted-x4", 4.0)):
        config = arm_timesteps(arms[name], (64, 64), (32, 32))
        assert config.shift == pytest.approx(s, rel=1e-12)
        torch.testing.assert_close(make_timestep_sampler(config).pdf(GRID), LogitNormalTimesteps(mu=math.log(s)).pdf(GRID),
                                   rtol=1e-9, atol=1e-12)
    assert arm_timesteps(arms["logit-normal"], (64, 64), (32, 32)) == TimestepConfig(kind="logit_normal")


@pytest.mark.parametrize("section, message", [
    ({"reference": "cosine"}, r"timesteps.reference 'cosine' is not an arm"),
    ({"primary_arms": ["logit-normal"]}, r"timesteps.primary_arms \['logit-normal'\] must be distinct arms other than"),
    ({"primary_arms": ["spectral", "spectral"]}, r"timesteps.primary_arms"),
    ({"arms": [{"name": "a"}, {"name": "a"}], "reference": "a", "primary_arms": []}, r"distinct names"),
    ({"arms": [{"name": "Logit Normal"}]}, r"an arm's name must be lower-case"),
    ({"arms": [{"name": "s", "shift_for_length": 0.0}]}, r"arms\[s\].shift_for_length must be a positive number"),
    ({"arms": [{"name": "s", "shift_for_length": 2.0, "timesteps": {"shift": 3.0}}]}, r"keep one"),
    ({"arms": [{"name": "s", "timesteps": {"kind": "cosine"}}]}, r"arms\[0\].timesteps.kind must be one of"),
    ({"arms": [{"name": "s", "timestep": {}}]}, r"unknown key\(s\) \['timestep'\] in recipe.timesteps.arms\[0\]"),
    ({"checkpoints": [200, 100]}, r"timesteps.checkpoints must be increasing"),
    ({"checkpoints": [100, 200], "primary_step": 300}, r"timesteps.primary_step=300 must be one of"),
    ({"priors": ["white", "white"]}, r"timesteps.priors must be distinct"),
    ({"seeds": [1, 1]}, r"timesteps.seeds must be distinct"),
    ({"shift_reference": [0, 32]}, r"timesteps.shift_reference must be a patch size"),
    ({"n_samples": 2}, r"n_samples >= 3"),
    ({"time_bins": 0}, r"time_bins >= 1"),
])
def test_the_section_rejects_bad_settings_naming_the_key(section, message):
    with pytest.raises(AudiospecError, match=message):
        config_from_dict(TimestepsConfig, section, where="recipe.timesteps")


def _points(losses: dict[tuple[str, int, int], float], prior: str = "white") -> list[ArmPoint]:
    return [ArmPoint(arm=arm, prior=prior, seed=seed, step=step, heldout_loss=loss, heldout_by_time=(loss,),
                     train_loss=loss, seconds=10.0, steps_run=100) for (arm, seed, step), loss in
            losses.items()]


def _ends(arms: list[str], seeds: range, kid: float = 0.1) -> list[ArmEnd]:
    return [ArmEnd(arm=arm, prior="white", seed=seed, step=200, kid=Interval(kid, kid - 0.05, kid + 0.05, 8),
                   order={"cepstrum": 0.5}) for arm in arms for seed in seeds]


def _config(**overrides) -> TimestepsConfig:
    arms = (TimestepArm(name="logit-normal"), TimestepArm(name="spectral"), TimestepArm(name="drowning"))
    return TimestepsConfig(**{"arms": arms, "priors": (config_from_dict(TimestepsConfig, {}).priors[0],),
                              "checkpoints": (100, 200), **overrides})


def test_primary_tests_pair_by_seed_and_holm_within_the_prior():
    """7 seeds, spectral 0.01 below logit-normal in every seed: p = 2 / 2^7 = 1/64, Holm x 2 = 1/32 < 0.05,
    reliable; drowning alternates around the reference: no reliable difference."""
    seeds = range(7)
    losses = {}
    for seed in seeds:
        base = 0.5 + 0.003 * seed
        for step in (100, 200):
            losses["logit-normal", seed, step] = base + (0.1 if step == 100 else 0.0)
            losses["spectral", seed, step] = base - 0.01 + (0.1 if step == 100 else 0.0)
            losses["drowning", seed, step] = base + (0.004 if seed % 2 else -0.004) + (0.1 if step == 100 else 0.0)
    tests = arm_tests(_points(losses), _ends(["logit-normal", "spectral", "drowning"], seeds), _config())
    primary = {t.arm: t.difference for t in tests if t.difference.primary}
    assert set(primary) == {"spectral", "drowning"}
    assert primary["spectral"].p_value == pytest.approx(2 / 2**7) and primary["spectral"].p_holm == pytest.approx(1 / 32)
    assert primary["spectral"].mean == pytest.approx(-0.01) and primary["spectral"].reliable
    assert primary["spectral"].level == pytest.approx(1 - 0.05 / 2)  # Bonferroni level of a family of 2
    assert not primary["drowning"].reliable and primary["drowning"].p_value > 0.5
    secondary = {(t.arm, t.measure, t.step) for t in tests if not t.difference.primary}
    assert ("spectral", "heldout_loss", 100) in secondary and ("drowning", "kid", 200) in secondary
    assert ("spectral", "order_cepstrum", 200) in secondary and not any(a == "logit-normal" for a, _, _ in secondary)
    bounds = {f.primary: f for f in families(tests, _config(), 7)}
    assert bounds[True].size == 2 and bounds[True].smallest_p == pytest.approx(2 * 2 / 2**7) and bounds[True].can_decide
    assert bounds[False].size == 6 and not bounds[False].can_decide  # 2 arms x (1 other step, KID, 1 view)


def test_three_seeds_cannot_decide_whatever_the_data():
    seeds = range(3)
    losses = {(arm, seed, step): (0.5 if arm == "logit-normal" else 0.4) + 0.01 * seed
              for arm in ("logit-normal", "spectral", "drowning") for seed in seeds for step in (100, 200)}
    tests = arm_tests(_points(losses), _ends(["logit-normal", "spectral", "drowning"], seeds), _config())
    primary = [t.difference for t in tests if t.difference.primary]
    assert all(d.p_value == pytest.approx(0.25) and d.p_holm == pytest.approx(0.5) and not d.reliable for d in primary)
    assert not any(f.can_decide for f in families(tests, _config(), 3))


def test_time_to_the_references_loss_is_interpolated_between_checkpoints():
    # reference: 1.0 at 100 steps, 0.6 at 200 (the target); spectral: 0.8 at 100, 0.4 at 200 -> reaches 0.6 half-way,
    # at 150 steps and 15 s; drowning never gets below 0.7
    losses = {("logit-normal", 0, 100): 1.0, ("logit-normal", 0, 200): 0.6, ("spectral", 0, 100): 0.8,
              ("spectral", 0, 200): 0.4, ("drowning", 0, 100): 0.9, ("drowning", 0, 200): 0.7}
    timing = {t.arm: t for t in time_to_target(_points(losses), _config())}
    assert timing["logit-normal"].steps == (200.0,) and timing["logit-normal"].target == (0.6,)
    assert timing["spectral"].steps[0] == pytest.approx(150.0) and timing["spectral"].seconds[0] == pytest.approx(15.0)
    assert timing["drowning"].steps == (None,) and timing["drowning"].seconds == (None,)
