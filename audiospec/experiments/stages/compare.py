"""Noise priors compared for mel-spectrogram flow matching (DESIGN.md section 5; the stage ``compare``).

For each prior of ``compare.priors`` (names as in :mod:`audiospec.diffusion.priors`) and
each seed, one model is trained on the same standardised log-mel patches with the same
compute; each is sampled at several step counts and scored with offline metrics against
the real patches. While sampling, the model's data prediction x̂0(t) is recorded at every
step to measure when each quefrency / modulation / RAPSD band is decided; every such score
stands beside the exact linear-Gaussian model and a control network measured the same way
(:mod:`audiospec.experiments.compare_order`). Optional arms at equal compute (whitened loss,
Benita-optimised Euler grid; :mod:`audiospec.experiments.compare_arms`). The split is by
source recording: models, matched prior, standardisation and classifier see the training
split only, and every quality metric compares samples with the test split. Quality results
are means with bootstrap intervals over seeds clipped to each metric's range; every arm's
difference to its reference is paired by seed, tested exactly (sign flips) and Holm-corrected
within its family, the pre-specified primary test or the secondary rest
(:mod:`audiospec.experiments.rows`). Patches are centred per mel bin (:mod:`audiospec.data.patches`).

Writes ``results.json`` (:class:`~audiospec.experiments.results.CompareResult`), ``runs.json`` (every metric row),
``listening.json`` with the generated audio and ``convergence.json``; the report draws its figures.
"""

from __future__ import annotations

import dataclasses
from pathlib import Path
from typing import Any

import torch
from tqdm.auto import tqdm

from audiospec.atomic import write_json
from audiospec.data import PatchSet, check_sample_rate
from audiospec.diffusion.config import check_training_data
from audiospec.diffusion.parallel import TrainJob
from audiospec.diffusion.priors import REFERENCE_PRIOR, NoisePrior, PriorSpec, make_prior
from audiospec.diffusion.processes import Process, make_process
from audiospec.diffusion.solver import solve
from audiospec.experiments.compare_arms import OPTIMIZED, WHITENED, arm_pairs, optimized_grids, whitened_priors
from audiospec.experiments.compare_order import (
    alpha_hat,
    colour_sweep,
    control_job,
    prior_orders,
    sensitivity,
    sweep_specs,
)
from audiospec.experiments.context import RunContext
from audiospec.experiments.listen import Spectrograms, committed_bands, trajectory_points, write_patch_audio
from audiospec.experiments.models import ModelStore
from audiospec.experiments.protocol import RESUMABLE_KEYS, REUSED_KEYS, CompareConfig, CompareRunConfig
from audiospec.experiments.results import CompareResult, Normalisation, OrderScores, SensitivityRow
from audiospec.experiments.rows import MetricRow, few_step_quality, paired_differences, quality_table, scored_rows, \
    write_rows
from audiospec.experiments.stage import Stage, register
from audiospec.measures.gaussian import data_spectrum
from audiospec.measures.ordering import record_trajectory
from audiospec.metrics import TrainedClassifier, evaluate_samples

__all__ = ["STAGE", "model_job", "planned_jobs", "run_compare"]


def model_job(store: ModelStore, prior: NoisePrior, seed: int, patches: torch.Tensor, cfg: CompareConfig, *,
              whiten: bool = False, validation: torch.Tensor | None = None) -> TrainJob:
    """The training of one prior and seed in ``models/<arm>/seed<seed>`` (arm = the prior's name, ``+whitened``
    with the whitened loss); its held-out loss is recorded on ``validation``."""
    config = dataclasses.replace(cfg.train, seed=seed, whiten_loss=whiten or cfg.train.whiten_loss)
    return store.job(prior.name + (WHITENED if whiten else ""), f"seed{seed}", config=config, prior=prior,
                     patches=patches, validation=validation)


def planned_jobs(cfg: CompareConfig, parts: dict[str, PatchSet], store: ModelStore) -> list[TrainJob]:
    """Every model the stage trains on the training split of ``parts`` (held-out loss on the validation split):
    per prior its seeds, its whitened arm, its control network; then the colour sweep's trained arms."""
    patches, validation = parts["train"].patches, parts["validation"].patches
    jobs: list[TrainJob] = []
    for spec in cfg.priors:
        prior = make_prior(spec, data=patches)
        jobs += [model_job(store, prior, seed, patches, cfg, validation=validation) for seed in cfg.seeds]
        if prior.name in whitened_priors(cfg):
            jobs += [model_job(store, prior, seed, patches, cfg, whiten=True, validation=validation)
                     for seed in cfg.whitened_seeds or cfg.seeds]
        if cfg.control:
            jobs.append(control_job(store, prior, patches, cfg))
    names = {spec.name for spec in cfg.priors}
    for spec in sweep_specs(alpha_hat(patches)) if cfg.colour_sweep and cfg.colour_sweep_seeds else ():
        if spec.name not in names:
            prior = make_prior(spec, data=patches)
            jobs += [model_job(store, prior, seed, patches, cfg, validation=validation)
                     for seed in cfg.colour_sweep_seeds]
    return jobs


def _jobs(config: CompareRunConfig, context: RunContext) -> list[TrainJob]:
    """The stage's models, once its folder's fingerprint allows training in it (writes nothing)."""
    split, _ = context.inputs("compare", config, keys=REUSED_KEYS, ignore=RESUMABLE_KEYS)
    return planned_jobs(config.compare, split.parts, context.models())


class _Arms:
    """What every arm of the comparison is scored with: the split, the classifier and the models' folder."""

    def __init__(self, cfg: CompareConfig, context: RunContext, classifier: TrainedClassifier) -> None:
        self.cfg, self.store, self.classifier = cfg, context.models(), classifier
        self.data, self.test = context.split.parts["train"], context.split.parts["test"]
        self.shape = tuple(self.data.patches.shape[-2:])  # (M, T)

    def process(self, prior: NoisePrior) -> Process:
        return make_process(self.cfg.train, prior, n_mels=self.shape[0], sampler=self.cfg.sampler)

    def evaluate(self, model: Any, prior: NoisePrior, seed: int, steps_list: tuple[int, ...], *, arm: str,
                 grids: dict[int, torch.Tensor] | None = None) -> list[MetricRow]:
        """Quality rows of ``n_samples`` samples at each step count against the test split; ``grids`` replaces the
        uniform grid per step count; the initial noise depends only on seed and step count, so arms sampled from
        the same model are paired sample by sample."""
        process = self.process(prior)
        return scored_rows(lambda steps, g: solve(process, model, n=self.cfg.n_samples, steps=steps,
                                                  times=grids[steps] if grids else None, shape=self.shape,
                                                  generator=g),
                           arm, seed, self.test, self.classifier, steps_list, self.data.patches)

    def train(self, spec: PriorSpec, seeds: tuple[int, ...], *, steps: tuple[int, ...] | None = None,
              whiten: bool = False) -> tuple[NoisePrior, list[tuple[int, Any]], list[MetricRow]]:
        """One model per seed with the prior ``spec`` (the whitened loss with ``whiten``: arm ``<prior>+whitened``),
        scored: (prior, [(seed, EMA network)], rows)."""
        prior = make_prior(spec, data=self.data.patches)
        arm = prior.name + (WHITENED if whiten else "")
        models, rows = [], []
        for seed in seeds:
            models.append((seed, self.store.network(model_job(self.store, prior, seed, self.data.patches, self.cfg,
                                                              whiten=whiten))))
            rows += self.evaluate(models[-1][1], prior, seed, steps or self.cfg.steps, arm=arm)
        return prior, models, rows

    def extra(self, spec: PriorSpec, prior: NoisePrior, models: list[tuple[int, Any]]) -> list[MetricRow]:
        """Rows of the optimised-grid arm (the same models) and the whitened-loss arm (new models) of one prior."""
        rows: list[MetricRow] = []
        if self.cfg.optimized_grid_steps:
            grids = optimized_grids(prior, data_spectrum(self.data.patches), self.shape, self.cfg.optimized_grid_steps)
            for seed, model in models:
                rows += self.evaluate(model, prior, seed, self.cfg.optimized_grid_steps, arm=prior.name + OPTIMIZED,
                                      grids=grids)
        if prior.name in whitened_priors(self.cfg):
            rows += self.train(spec, self.cfg.whitened_seeds or self.cfg.seeds, whiten=True)[2]
        return rows

    def listen(self, model: Any, prior: NoisePrior, scores: OrderScores, folder: Path,
               spectrograms: Spectrograms) -> list[dict[str, Any]]:
        """Listening entries: generated patches (sample k of every prior starts from the same white draw, so priors
        are heard side by side), and one sampling trajectory as x̂0(t) at about six times with its committed
        bands."""
        cfg, seed, name = self.cfg, self.cfg.seeds[0], prior.name
        steps = max(cfg.steps)
        patches = solve(self.process(prior), model, n=cfg.listen_samples, steps=steps, shape=self.shape,
                        generator=torch.Generator().manual_seed(seed))
        files = write_patch_audio(self.data.to_db(patches[:, 0]), mel=cfg.mel, out_dir=folder / "samples" / name,
                                  n_iter=cfg.griffin_lim_iters, title=f"{name} prior, {steps} steps",
                                  spectrograms=spectrograms, prefix=f"samples/{name}/")
        entries = [{"clip": i, "label": "generated (paired across priors)", "domain": "generated", "prior": name,
                    "level": f"{steps} steps", "wav": f"samples/{name}/{wav}", "png": f"samples/{name}/{png}",
                    "gain": gain} for i, (wav, png, gain) in enumerate(files)]
        trajectory, times = record_trajectory(model, prior, n=1, steps=cfg.trajectory_steps, shape=self.shape,
                                              sampler=cfg.sampler, generator=torch.Generator().manual_seed(seed))
        points = trajectory_points(times.tolist())
        commit = scores.trained[0].views["cepstrum"].commit_t
        titles = [f"{name}: x0 at t={float(times[i]):.2f}, {committed_bands(float(times[i]), commit)}/{len(commit)} "
                  "quefrency bands committed" for i in points]
        files = write_patch_audio(self.data.to_db(trajectory[points, 0]), mel=cfg.mel, titles=titles, stem="step",
                                  out_dir=folder / "trajectory" / name, n_iter=cfg.griffin_lim_iters,
                                  spectrograms=spectrograms, prefix=f"trajectory/{name}/")
        return entries + [{"clip": "trajectory", "label": "x0 prediction while sampling", "domain": "trajectory",
                           "prior": name, "level": title.split(": ", 1)[1], "wav": f"trajectory/{name}/{wav}",
                           "png": f"trajectory/{name}/{png}", "gain": gain}
                          for (wav, png, gain), title in zip(files, titles)]


def _summary(rows: list[MetricRow], orders: dict[str, OrderScores], baseline: dict[str, dict[str, Any]],
             cfg: CompareConfig, sensitivity_rows: list[SensitivityRow], floors: dict[str, Any]) -> CompareResult:
    """Bootstrap intervals over seeds and Holm-corrected paired differences (primary and secondary families)."""
    names = [spec.name for spec in cfg.priors]
    pairs = arm_pairs(cfg)
    arms = {arm: reference for arm, reference in pairs if arm not in names}
    table = quality_table(rows, names + list(arms), cfg.steps)
    primary = [(name, cfg.primary_steps or min(cfg.steps)) for name in names if name != REFERENCE_PRIOR]
    everything = paired_differences(rows, pairs, cfg.steps, primary)
    return CompareResult(
        priors=tuple(names), seeds=tuple(cfg.seeds), steps=tuple(cfg.steps), sampler=cfg.sampler, metrics=table,
        prior_baseline=baseline, difference_to_white={name: everything[name] for name in names if name in everything},
        autoregression_order=orders, sensitivity=tuple(sensitivity_rows), floors=floors, arms=arms,
        arm_differences={arm: everything[arm] for arm in arms if arm in everything})


def _sweep(arms: _Arms, rows: list[MetricRow], orders: dict[str, OrderScores]) -> tuple[float | None, Any]:
    """The colour sweep: the exact model over the prior's colour, beside the trained arms (extra ones trained)."""
    cfg, patches = arms.cfg, arms.data.patches
    if not cfg.colour_sweep:
        return None, None
    sweep_orders, sweep_rows = dict(orders), list(rows)
    for spec in sweep_specs(alpha_hat(patches)) if cfg.colour_sweep_seeds else ():
        if spec.name not in sweep_orders:  # an extra trained arm of the dose-response, fewer seeds
            prior, models, arm_rows = arms.train(spec, cfg.colour_sweep_seeds, steps=(min(cfg.steps),))
            sweep_rows += arm_rows
            sweep_orders[prior.name] = prior_orders(prior, models, patches, dataclasses.replace(cfg, control=False),
                                                    arms.store)
    return colour_sweep(patches, cfg, sweep_orders, few_step_quality(sweep_rows, min(cfg.steps)))


def run_compare(config: CompareRunConfig, context: RunContext) -> CompareResult:
    """Train / load one model per prior and seed, sample, evaluate (module doc)."""
    cfg = config.compare
    check_sample_rate(cfg.mel, config.data, section="compare")
    split, fingerprint = context.inputs("compare", config, keys=REUSED_KEYS, ignore=RESUMABLE_KEYS)
    data, test = split.parts["train"], split.parts["test"]
    check_training_data(cfg.train, data.patches)  # fails before any work on impossible settings
    context.record(config, split, fingerprint)
    context.models().train(planned_jobs(cfg, split.parts, context.models()))  # every model first
    classifier = context.classifier(context.out_dir)
    floors = context.floors(classifier)
    arms, spectrograms = _Arms(cfg, context, classifier), Spectrograms(cfg.mel)
    rows: list[MetricRow] = []
    orders: dict[str, OrderScores] = {}
    sensitivity_rows: list[SensitivityRow] = []
    listening: list[dict[str, Any]] = []
    baseline: dict[str, dict[str, Any]] = {}
    for spec in tqdm(cfg.priors, desc="compare", disable=not context.progress):
        prior, models, arm_rows = arms.train(spec, cfg.seeds)
        rows += arm_rows + arms.extra(spec, prior, models)
        noise = prior.sample((cfg.n_samples, 1, *arms.shape), generator=torch.Generator().manual_seed(cfg.seeds[0]))
        baseline[prior.name] = evaluate_samples(noise, test.patches, classifier=classifier, real_labels=test.labels,
                                                train=data.patches)
        orders[prior.name] = prior_orders(prior, models, data.patches, cfg, arms.store)
        sensitivity_rows += sensitivity(prior, models[0][1], models[0][0], data.patches, cfg)
        listening += arms.listen(models[0][1], prior, orders[prior.name], context.out_dir, spectrograms)
    alpha, sweep = _sweep(arms, rows, orders)
    result = dataclasses.replace(
        _summary(rows, orders, baseline, cfg, sensitivity_rows, floors),
        n_patches=int(data.patches.shape[0]), normalisation=Normalisation(data.mean_db, data.std_db),
        classifier=dataclasses.asdict(classifier.report), colour_sweep=sweep, alpha_hat=alpha,
        n_test_patches=int(test.patches.shape[0]), label=cfg.label)
    write_rows(context.out_dir / "runs.json", rows)
    spectrograms.write(context.out_dir)
    write_json(context.out_dir / "listening.json", {"sample_rate": cfg.mel.sample_rate, "files": listening})
    return result


STAGE = register(Stage(
    name="compare", config=CompareRunConfig, result=CompareResult, output="results.json", run=run_compare, order=30,
    summary="Noise priors compared: train per prior and seed, sample at several step counts, score.",
    examples="  audiospec compare --config recipes/mini/conf/cpu.yaml --out runs/compare-mini",
    optional=False, jobs=_jobs))
