"""Does spectrum-aware timestep sampling train faster? The arms of issue 28 at equal compute (the stage
``timesteps``, run by ``audiospec timesteps``, and by ``audiospec run`` when the recipe has a ``timesteps`` section).

For each seed, prior and arm of the section (:mod:`audiospec.experiments.timestep_arms`), one model is trained with
the protocol's training (``compare.train``: the same U-Net, batch, learning rate and patches, the training split of
the protocol's split) and the arm's sampler of t, through ``timesteps.checkpoints``; training resumes from the
previous checkpoint (warm-up then a constant learning rate, so the model at step s is the model a run of s steps
ends with). At every checkpoint, with the EMA weights, the held-out flow-matching loss on the **validation** split
(the test split stays untouched), with t stratified over [0, 1) and the noise drawn once per seed, the same draws
for every arm and checkpoint (:func:`~audiospec.diffusion.heldout.validation_loss`): the arms are measured on one
evaluation distribution whatever p(t) they trained with. The training seconds of each checkpoint's call give the
curves over wall-clock. At the last checkpoint: KID of ``n_samples`` samples (``sample_steps`` Euler steps, the same
initial noise for every arm of a seed) against the validation split, with a jackknife interval, and the content
(commit) order of ``compare.trajectory_samples`` trajectories per spectral view
(:func:`~audiospec.measures.ordering.measure_field`).

Each arm's models live in ``models/<prior>/<arm>/seed<n>``; every measured point is saved in ``points/`` and reused
when the stage runs again (it resumes after an interruption, and seeds or arms can be added later); a saved arm
whose model was trained with other sampler settings is an error naming the fix. ``timesteps.json`` holds the result
(:class:`~audiospec.experiments.timestep_results.TimestepsResult`); the report draws ``timesteps.png``.
"""

from __future__ import annotations

import dataclasses
from dataclasses import dataclass, field
from pathlib import Path

import torch
from tqdm.auto import tqdm

from audiospec.atomic import write_json
from audiospec.config import read_yaml
from audiospec.data import DataConfig, PatchSet, check_sample_rate
from audiospec.diffusion.checkpoint import load_checkpoint
from audiospec.diffusion.config import TrainConfig, check_training_data
from audiospec.diffusion.heldout import validation_loss_by_time
from audiospec.diffusion.priors import NoisePrior, make_prior
from audiospec.diffusion.processes import make_process
from audiospec.diffusion.solver import solve
from audiospec.diffusion.training import CHECKPOINT_NAME
from audiospec.errors import AudiospecError
from audiospec.experiments.context import RunContext
from audiospec.experiments.models import train_to_checkpoint
from audiospec.experiments.protocol import RESUMABLE_KEYS, TRAINING_KEYS, CompareConfig
from audiospec.experiments.results import read_result, to_json
from audiospec.experiments.stage import Stage, register
from audiospec.experiments.stages.curve import jackknife_kid
from audiospec.experiments.timestep_arms import TimestepArm, TimestepsConfig, arm_densities, arm_timesteps
from audiospec.experiments.timestep_results import (
    ArmEnd,
    ArmPoint,
    TimestepsResult,
    arm_tests,
    families,
    time_to_target,
)
from audiospec.measures.ordering import measure_field
from audiospec.metrics import TrainedClassifier

__all__ = ["STAGE", "TimestepsRunConfig", "run_timesteps"]

# what a timesteps folder reuses (points, models, classifier) was made from these settings, the clips and the split;
# the arms themselves are checked one by one against their models' saved settings (seeds and arms may be added)
_REUSED_KEYS = TRAINING_KEYS + ("compare.classifier", "compare.sampler", "compare.trajectory_steps",
                                "compare.trajectory_samples", "compare.order", "timesteps.loss_draws",
                                "timesteps.time_bins", "timesteps.n_samples", "timesteps.sample_steps")


@dataclass(frozen=True)
class TimestepsRunConfig:
    """``audiospec timesteps``: YAML sections ``data``, ``compare`` (model, training, patches, split, the order
    measure's settings) and ``timesteps`` (the arms)."""

    data: DataConfig
    compare: CompareConfig = field(default_factory=CompareConfig)
    timesteps: TimestepsConfig = field(default_factory=TimestepsConfig)


class _Bench:
    """What every arm is trained and measured with: the settings, the split, the classifier and the folder."""

    def __init__(self, config: TimestepsRunConfig, parts: dict[str, PatchSet], classifier: TrainedClassifier,
                 out_dir: Path, progress: bool) -> None:
        self.compare, self.section = config.compare, config.timesteps
        self.data, self.validation = parts["train"].patches, parts["validation"].patches
        self.shape = tuple(self.data.shape[-2:])  # (M, T)
        self.classifier, self.out_dir, self.progress = classifier, out_dir, progress
        self.reference = classifier.embed(self.validation)

    def train_config(self, arm: TimestepArm, seed: int, steps: int) -> TrainConfig:
        """The protocol's training with the arm's sampler of t."""
        timesteps = arm_timesteps(arm, self.shape, self.section.shift_reference)
        return dataclasses.replace(self.compare.train, seed=seed, steps=steps, timesteps=timesteps)

    def model_dir(self, arm: TimestepArm, prior: NoisePrior, seed: int) -> Path:
        return self.out_dir / "models" / prior.name / arm.name / f"seed{seed}"

    def saved(self, arm: TimestepArm, prior: NoisePrior, seed: int, what: str) -> Path:
        return self.out_dir / "points" / f"{prior.name}-{arm.name}-seed{seed}-{what}.json"

    def check_arm(self, arm: TimestepArm, prior: NoisePrior, seed: int) -> None:
        """Refuse when the arm's model folder was trained with other sampler settings (a renamed or edited arm)."""
        saved = self.model_dir(arm, prior, seed) / "config.yaml"
        if not saved.is_file():
            return
        there = TrainConfig.from_dict(read_yaml(saved), where=str(saved)).timesteps
        here = self.train_config(arm, seed, 1).timesteps
        if there != here:
            raise AudiospecError(f"the arm {arm.name!r} ({prior.name}, seed {seed}) was trained with timesteps "
                                 f"{dataclasses.asdict(there)}, not {dataclasses.asdict(here)}: give the changed arm a "
                                 f"new name, or delete {str(self.model_dir(arm, prior, seed))!r} and its points")

    def point(self, arm: TimestepArm, prior: NoisePrior, seed: int, step: int) -> ArmPoint:
        """The arm's model at ``step``: read when saved, else trained to it and measured."""
        saved = self.saved(arm, prior, seed, f"step{step}")
        if saved.is_file():
            return read_result(ArmPoint, saved)
        trained = train_to_checkpoint(self.train_config(arm, seed, step), self.data, prior=prior,
                                      model_dir=self.model_dir(arm, prior, seed), point=saved, progress=self.progress)
        model = load_checkpoint(trained.checkpoint)[1]
        process = make_process(self.compare.train, prior, n_mels=self.shape[0], sampler="euler")
        window = trained.losses[trained.start_step:] or trained.losses[-1:]  # the steps this call ran
        by_time, counts = validation_loss_by_time(model, self.validation, process=process, bins=self.section.time_bins,
                                                  draws=self.section.loss_draws, seed=seed)
        total = sum(loss * count for loss, count in zip(by_time, counts) if count) / sum(counts)
        point = ArmPoint(arm=arm.name, prior=prior.name, seed=seed, step=step, heldout_loss=total,
                         heldout_by_time=by_time, train_loss=float(sum(window) / len(window)), seconds=trained.seconds,
                         steps_run=trained.steps - trained.start_step)
        write_json(saved, to_json(point))
        return point

    def end(self, arm: TimestepArm, prior: NoisePrior, seed: int) -> ArmEnd:
        """The arm's model at the budget: KID against the validation split and the content order per view."""
        saved = self.saved(arm, prior, seed, "end")
        if saved.is_file():
            return read_result(ArmEnd, saved)
        model = load_checkpoint(self.model_dir(arm, prior, seed) / CHECKPOINT_NAME)[1]
        process = make_process(self.compare.train, prior, n_mels=self.shape[0], sampler="euler")
        generated = solve(process, model, n=self.section.n_samples, steps=self.section.sample_steps,
                          shape=self.shape, generator=torch.Generator().manual_seed(10_000 + seed))
        measured, _ = measure_field(model, prior, n=self.compare.trajectory_samples,
                                    steps=self.compare.trajectory_steps, shape=self.shape,
                                    settings=self.compare.order, sampler=self.compare.sampler, seed=seed)
        end = ArmEnd(arm=arm.name, prior=prior.name, seed=seed, step=self.section.budget,
                     kid=jackknife_kid(self.classifier.embed(generated), self.reference),
                     order={view: m.order.mean for view, m in measured.views.items()})
        write_json(saved, to_json(end))
        return end


def _seconds_per_step(points: list[ArmPoint]) -> dict[str, float]:
    """Mean training seconds per step of each arm over the calls that trained (0 when none did in this folder)."""
    out = {}
    for arm in dict.fromkeys(p.arm for p in points):
        ran = [p for p in points if p.arm == arm and p.steps_run > 0]
        steps = sum(p.steps_run for p in ran)
        out[arm] = sum(p.seconds for p in ran) / steps if steps else 0.0
    return out


def _result(config: TimestepsRunConfig, bench: _Bench, priors: list[NoisePrior], seeds: tuple[int, ...],
            points: list[ArmPoint], ends: list[ArmEnd]) -> TimestepsResult:
    """The numbers of the stage (:class:`TimestepsResult`)."""
    section = config.timesteps
    tests = arm_tests(points, ends, section)
    grid, densities = arm_densities(section.arms, priors, bench.data, section.shift_reference)
    samplers = {arm.name: bench.train_config(arm, 0, 1).timesteps for arm in section.arms}
    return TimestepsResult(
        arms=tuple(arm.name for arm in section.arms), reference=section.reference, primary_arms=section.primary_arms,
        priors=tuple(prior.name for prior in priors), seeds=seeds, checkpoints=section.checkpoints,
        primary_step=section.primary, points=tuple(points), ends=tuple(ends), tests=tests,
        families=families(tests, section, len(seeds)), time_to_target=time_to_target(points, section),
        samplers=samplers, grid=grid, densities=densities, seconds_per_step=_seconds_per_step(points),
        n_train_patches=int(bench.data.shape[0]), n_validation_patches=int(bench.validation.shape[0]),
        loss_draws=section.loss_draws, n_samples=section.n_samples, sample_steps=section.sample_steps,
        label=section.label)


def run_timesteps(config: TimestepsRunConfig, context: RunContext) -> TimestepsResult:
    """Train every seed, prior and arm through the checkpoints, measure, and test the arms (module doc)."""
    compare, section = config.compare, config.timesteps
    check_sample_rate(compare.mel, config.data, section="compare")
    split, fingerprint = context.inputs("timesteps", config, keys=_REUSED_KEYS, ignore=RESUMABLE_KEYS)
    check_training_data(compare.train, split.parts["train"].patches)
    context.record(config, split, fingerprint)
    bench = _Bench(config, split.parts, context.classifier(context.out_dir), context.out_dir, context.progress)
    priors = [make_prior(spec, data=bench.data) for spec in section.priors]
    seeds = section.seeds or compare.seeds
    for seed in seeds:  # every arm of a seed is checked before any is trained
        for prior in priors:
            for arm in section.arms:
                bench.check_arm(arm, prior, seed)
    points: list[ArmPoint] = []
    ends: list[ArmEnd] = []
    runs = [(seed, prior, arm) for seed in seeds for prior in priors for arm in section.arms]  # seed by seed
    for seed, prior, arm in tqdm(runs, desc="timesteps", disable=not context.progress):
        points += [bench.point(arm, prior, seed, step) for step in section.checkpoints]
        ends.append(bench.end(arm, prior, seed))
    return _result(config, bench, priors, tuple(seeds), points, ends)


STAGE = register(Stage(
    name="timesteps", config=TimestepsRunConfig, result=TimestepsResult, output="timesteps.json",
    run=run_timesteps, order=37,
    summary="Timestep samplers at equal compute (uniform, logit-normal, resolution shift, spectral weightings): "
            "held-out loss against training time, KID and commit order at the end, paired tests.",
    examples="  audiospec timesteps --config recipes/mini/conf/timesteps-preview.yaml --out runs/timesteps-mini"))
