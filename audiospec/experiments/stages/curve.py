"""Training curves on held-out data: is a training budget on the plateau? (the stage ``curve``, run by ``audiospec curve``)

For each prior and seed of the ``curve`` section, one model is trained with the recipe's
``compare`` settings (same patches, mel, split, budget per step) and evaluated at every
step count of ``curve.checkpoints``. Training resumes from the previous checkpoint (the
learning rate is warm-up then constant, so the model at step s is the model a run of s
steps ends with; :mod:`audiospec.diffusion.training`). At each checkpoint, with the EMA
weights and only the **validation** split (the test split stays untouched for the
comparison):

- held-out loss: the flow-matching loss on every validation patch, ``loss_draws`` times,
  with fixed draws of t (stratified over [0, 1)) and noise, identical at every checkpoint;
- KID (unbiased, cubic kernel, the project classifier's embedding) of ``n_samples``
  samples at ``sample_steps`` Euler steps, drawn from the same initial noise at every
  checkpoint, with a delete-one jackknife 95% interval over the generated samples (the
  validation set is fixed, so this is the interval that matters between checkpoints).

Plateau rules, s' the last checkpoint ≤ 0.8 S (``plateau_fraction`` = 0.2):

- KID (issue 12): the last 20% of the steps of a budget S improve held-out KID by less than
  the half-width of its interval, KID(s') − KID(S) < half-width(S) (a worse KID counts as no
  improvement). With a few dozen samples KID's interval is wide, so this rule is weak;
- held-out loss: the last 20% improve the held-out loss by less than ``loss_tolerance``
  (relative), loss(s') − loss(S) < tol · loss(S). The draws are fixed, so the loss is a
  low-noise, paired measure of progress.

Every evaluated point is saved in ``points/`` and reused when the curve is run again (a run
resumes after an interruption; a model already trained past a checkpoint whose point is
missing is an error rather than a silent mislabel); the folder's fingerprint must then match
(data, clips, split, model, classifier and evaluation settings:
:mod:`audiospec.experiments.fingerprint`), so other data never reuses old points.
``curve.json`` holds the result (the report draws ``curve.png``). ``audiospec run`` does not include this stage
(a recipe's ``curve`` section is for ``audiospec curve``: it trains every model again, to many checkpoints).
"""

from __future__ import annotations

import dataclasses
import math
from dataclasses import dataclass, field
from pathlib import Path
from typing import Any

import torch
from tqdm.auto import tqdm

from audiospec.atomic import write_json
from audiospec.data import DataConfig, check_sample_rate
from audiospec.diffusion.checkpoint import load_checkpoint
from audiospec.diffusion.config import check_training_data
from audiospec.diffusion.heldout import checkpoint_before, on_loss_plateau, validation_loss
from audiospec.diffusion.priors import NoisePrior, PriorSpec, make_prior
from audiospec.diffusion.processes import Process, make_process
from audiospec.diffusion.solver import solve
from audiospec.errors import AudiospecError
from audiospec.experiments.context import RunContext
from audiospec.experiments.models import train_to_checkpoint
from audiospec.experiments.protocol import RESUMABLE_KEYS, TRAINING_KEYS, CompareConfig
from audiospec.experiments.results import CurvePoint, CurveResult, Interval, read_result, to_json
from audiospec.experiments.stage import Stage, register
from audiospec.metrics.kid import kernel_inception_distance

__all__ = ["STAGE", "CurveConfig", "CurveRunConfig", "heldout_loss", "jackknife_kid", "on_loss_plateau",
           "on_plateau", "run_curve"]


# what a curve folder reuses (points, models, classifier) was made from these settings, the clips and the split
_REUSED_KEYS = TRAINING_KEYS + ("compare.classifier", "curve.n_samples", "curve.sample_steps", "curve.loss_draws")


@dataclass(frozen=True)
class CurveConfig:
    """Settings of the stage ``curve`` (YAML section ``curve``); ``priors`` empty = the compare section's."""

    checkpoints: tuple[int, ...] = (100, 200, 400, 800, 1600)
    priors: tuple[PriorSpec, ...] = ()
    seeds: tuple[int, ...] = (0,)
    n_samples: int = 64
    sample_steps: int = 16
    loss_draws: int = 4
    plateau_fraction: float = 0.2
    loss_tolerance: float = 0.01

    def __post_init__(self) -> None:
        marks = list(self.checkpoints)
        if not marks or min(marks) < 1 or marks != sorted(set(marks)):
            raise AudiospecError(f"curve.checkpoints must be increasing positive step counts, got {marks}")
        if not self.seeds or len(set(self.seeds)) != len(self.seeds):
            raise AudiospecError(f"curve.seeds must be distinct and non-empty, got {list(self.seeds)}")
        if self.n_samples < 3 or self.sample_steps < 1 or self.loss_draws < 1:
            raise AudiospecError(f"curve needs n_samples >= 3, sample_steps >= 1 and loss_draws >= 1; got "
                                 f"{self.n_samples}, {self.sample_steps}, {self.loss_draws}")
        if not 0.0 < self.plateau_fraction < 1.0:
            raise AudiospecError(f"curve.plateau_fraction must be in (0, 1), got {self.plateau_fraction}")
        if not 0.0 < self.loss_tolerance < 1.0:
            raise AudiospecError(f"curve.loss_tolerance must be in (0, 1), got {self.loss_tolerance}")


@dataclass(frozen=True)
class CurveRunConfig:
    """``audiospec curve``: YAML sections ``data``, ``compare`` (model, patches, split, budget) and ``curve``."""

    data: DataConfig
    compare: CompareConfig = field(default_factory=CompareConfig)
    curve: CurveConfig = field(default_factory=CurveConfig)


def heldout_loss(model: Any, process: Process, patches: torch.Tensor, *, draws: int, seed: int,
                 batch_size: int = 64) -> float:
    """Mean training loss of ``model`` (trained with ``process``) on ``patches`` ``[N, C, M, T]`` over ``draws``
    fixed draws of (t, eps): :func:`~audiospec.diffusion.heldout.validation_loss` (t stratified over [0, 1), eps
    from the process's prior, both from a generator seeded with ``seed``: the same draws at every call, so
    checkpoints differ only by the model)."""
    return validation_loss(model, patches, process=process, draws=draws, seed=seed, batch_size=batch_size)


def jackknife_kid(generated: torch.Tensor, reference: torch.Tensor, *, level: float = 0.95) -> Interval:
    """KID of embeddings ``generated`` ``[N, D]`` vs ``reference`` ``[M, D]`` with a delete-one jackknife interval
    over the generated set (normal quantile; the reference set is held fixed)."""
    n = generated.shape[0]
    if n < 3:
        raise AudiospecError(f"a jackknife interval needs at least 3 generated embeddings, got {n}")
    kid = kernel_inception_distance(generated, reference)
    keep = ~torch.eye(n, dtype=torch.bool)
    leave_one = torch.tensor([kernel_inception_distance(generated[keep[i]], reference) for i in range(n)],
                             dtype=torch.float64)
    se = math.sqrt((n - 1) / n * float((leave_one - leave_one.mean()).square().sum()))
    z = float(torch.distributions.Normal(0.0, 1.0).icdf(torch.tensor(0.5 + level / 2)))
    return Interval(mean=kid, low=kid - z * se, high=kid + z * se, n=n)


def on_plateau(kids: dict[int, Interval], budget: int, *, fraction: float = 0.2) -> bool | None:
    """True when the last ``fraction`` of ``budget`` steps improved KID by less than its interval half-width
    (module doc); None when no checkpoint lies at or before (1 - fraction) * budget."""
    earlier = checkpoint_before(kids, budget, fraction)
    if earlier is None:
        return None
    final, before = kids[budget], kids[earlier]
    half_width = 0.5 * ((final.high or final.mean) - (final.low or final.mean))
    return before.mean - final.mean < half_width


def _mean_interval(values: list[Interval]) -> Interval:
    """Average of per-seed intervals (mean and bounds averaged: seeds share the validation set)."""
    mean = sum(v.mean for v in values) / len(values)
    low = sum(v.low if v.low is not None else v.mean for v in values) / len(values)
    high = sum(v.high if v.high is not None else v.mean for v in values) / len(values)
    return Interval(mean=mean, low=low, high=high, n=sum(v.n for v in values))


def _points_for(prior: NoisePrior, seed: int, cfg: CurveRunConfig, parts: dict[str, Any], classifier: Any,
                out_dir: Path, progress: bool) -> list[CurvePoint]:
    """Every checkpoint of one prior and seed: read when its point is saved, else trained to it and evaluated."""
    data, validation = parts["train"], parts["validation"]
    curve, compare = cfg.curve, cfg.compare
    shape = tuple(data.patches.shape[-2:])
    reference = classifier.embed(validation.patches)
    points = []
    for step in curve.checkpoints:
        saved = out_dir / "points" / f"{prior.name}-seed{seed}-step{step}.json"
        if saved.is_file():
            points.append(read_result(CurvePoint, saved))
            continue
        trained = train_to_checkpoint(dataclasses.replace(compare.train, seed=seed, steps=step), data.patches,
                                      prior=prior, model_dir=out_dir / "models" / prior.name / f"seed{seed}",
                                      point=saved, progress=progress)
        model = load_checkpoint(trained.checkpoint)[1]
        process = make_process(compare.train, prior, n_mels=shape[0], sampler="euler")
        generated = solve(process, model, n=curve.n_samples, steps=curve.sample_steps, shape=shape,
                          generator=torch.Generator().manual_seed(10_000 + seed))
        window = trained.losses[-max(1, min(len(trained.losses), compare.train.checkpoint_every)):]
        points.append(CurvePoint(
            prior=prior.name, seed=seed, step=step, train_loss=float(sum(window) / len(window)),
            heldout_loss=heldout_loss(model, process, validation.patches, draws=curve.loss_draws, seed=seed),
            kid=jackknife_kid(classifier.embed(generated), reference), seconds=trained.seconds,
            steps_run=trained.steps - trained.start_step))
        write_json(saved, to_json(points[-1]))
    return points


def _plateaus(points: list[CurvePoint], curve: CurveConfig) -> tuple[dict[str, Any], dict[str, Any]]:
    """Per prior and checkpoint, the KID and held-out-loss plateau verdicts (seeds averaged)."""
    plateau: dict[str, dict[int, bool | None]] = {}
    loss_plateau: dict[str, dict[int, bool | None]] = {}
    for name in dict.fromkeys(p.prior for p in points):
        mine = [p for p in points if p.prior == name]
        kids = {s: _mean_interval([p.kid for p in mine if p.step == s]) for s in curve.checkpoints}
        losses = {s: sum(p.heldout_loss for p in mine if p.step == s) / len(curve.seeds) for s in curve.checkpoints}
        plateau[name] = {s: on_plateau(kids, s, fraction=curve.plateau_fraction) for s in curve.checkpoints}
        loss_plateau[name] = {s: on_loss_plateau(losses, s, fraction=curve.plateau_fraction,
                                                 tolerance=curve.loss_tolerance) for s in curve.checkpoints}
    return plateau, loss_plateau


def run_curve(config: CurveRunConfig, context: RunContext) -> CurveResult:
    """Train each prior and seed through ``curve.checkpoints``, evaluating on the validation split (module doc)."""
    curve, compare = config.curve, config.compare
    check_sample_rate(compare.mel, config.data, section="compare")
    split, fingerprint = context.inputs("curve", config, keys=_REUSED_KEYS,
                                        ignore=RESUMABLE_KEYS)  # its points, models and classifier: the same inputs
    parts = split.parts
    check_training_data(compare.train, parts["train"].patches)
    context.record(config, split, fingerprint)
    classifier = context.classifier(context.out_dir)
    points: list[CurvePoint] = []
    for spec in tqdm(curve.priors or compare.priors, desc="curve", disable=not context.progress):
        prior = make_prior(spec, data=parts["train"].patches)
        for seed in curve.seeds:
            points += _points_for(prior, seed, config, parts, classifier, context.out_dir, context.progress)
    plateau, loss_plateau = _plateaus(points, curve)
    ran, seconds = sum(p.steps_run for p in points), sum(p.seconds for p in points)
    return CurveResult(
        points=tuple(points), plateau=plateau, loss_plateau=loss_plateau, sample_steps=curve.sample_steps,
        n_samples=curve.n_samples, n_validation_patches=int(parts["validation"].patches.shape[0]),
        n_train_patches=int(parts["train"].patches.shape[0]),
        steps_per_second=ran / seconds if ran and seconds > 0 else 0.0, budget=compare.train.steps,
        checkpoints=tuple(curve.checkpoints), plateau_fraction=curve.plateau_fraction,
        loss_tolerance=curve.loss_tolerance)


STAGE = register(Stage(
    name="curve", config=CurveRunConfig, result=CurveResult, output="curve.json", run=run_curve, order=35,
    summary="Training curves on the validation split (held-out loss and KID against steps) and whether the "
            "comparison's training budget is on the plateau.",
    examples="  audiospec curve --config recipes/mini/conf/curve-after.yaml --out runs/curve-after", in_pipeline=False))
