"""Explicit coarse-to-fine baselines against the diffusion models (the stage ``baselines``; issue 14, part 1).

If diffusion on log-mel patches *is* cepstral autoregression, a model that generates the
cepstrum band by band should do as well; heat dissipation (IHDM) is the other explicit
coarse-to-fine process. Both (:mod:`audiospec.diffusion.processes.interpolant`) are trained here
per seed with the compare section's budget (same U-Net, optimiser, steps, batch and training
split), sampled at the compare section's step counts (one network evaluation per step, as the
Euler sampler) from the same initial-noise seeds, and scored with the same metrics against the
test split. The diffusion models' rows are read from the compare stage's ``runs.json``
(``<compare_dir>``, the folder ``compare`` beside ``--out`` by default), with its project
classifier, so every number of this table comes through one pipeline; nothing is written there.
The compare stage's fingerprint must match this stage's inputs (settings of its rows, clips,
split: :mod:`audiospec.experiments.fingerprint`), and "equal compute and NFE" is said only when
the budgets recorded in both stages' checkpoints (steps, batch size) and the samplers' network
evaluations per step agree; otherwise the answer states both.

Beside each baseline:

- its **calibration**, the exact model of the same process for Gaussian data with the
  training split's mean and variance per 2-D DCT coefficient
  (:class:`~audiospec.measures.gaussian.GaussianModel`), sampled at each step count
  and scored the same way (what the sampler gives with a perfect second-order network; the
  "gaussian, train spectrum" floor row is its continuous-time limit for a stationary field);
- the **floor** (real training patches vs the test split) and the Gaussian with the training
  spectrum, as in every quality table;
- the **commit measure's order** on its trajectories (cepstrum view, the compare stage's
  settings): the explicit cepstral model commits its bands in order by construction, so this
  is a positive control of the measure the diffusion models' orders come from.

Statistics as in ``audiospec compare``: differences to the white-prior diffusion model paired
by seed, exact sign-flip p-values over seeds, Holm within the pre-specified primary family
(KID at ``primary_steps``, one test per baseline) and within the secondary rest, intervals at
the families' Bonferroni levels. With K cepstral bands the explicit model needs at least two
steps per band to sample at all: at one step per band each band is its conditional mean given
the lower ones (for the first band, a constant), so the primary step count defaults to the
largest of the compare section's.
"""

from __future__ import annotations

import dataclasses
from dataclasses import dataclass, field
from pathlib import Path
from typing import Any

import torch
from tqdm.auto import tqdm

from audiospec.data import DataConfig, check_sample_rate
from audiospec.diffusion.parallel import TrainJob
from audiospec.diffusion.priors import REFERENCE_PRIOR, WhiteNoise
from audiospec.diffusion.processes import Process, baseline_objectives, coefficient_stats, make_process, \
    objective_label
from audiospec.diffusion.solver import solve
from audiospec.errors import AudiospecError
from audiospec.experiments.context import RunContext
from audiospec.experiments.models import ModelStore
from audiospec.experiments.protocol import RESUMABLE_KEYS, SCORE_KEYS, TRAINING_KEYS, CompareConfig
from audiospec.experiments.results import CALIBRATION, BaselinesResult, Interval
from audiospec.experiments.rows import MetricRow, paired_differences, quality_table, read_rows, scored_rows, \
    write_rows
from audiospec.experiments.stage import Stage, register
from audiospec.functional.cepstrum import quefrency_bands
from audiospec.measures.gaussian import GaussianModel
from audiospec.measures.ordering import bootstrap_mean, measure_trajectory, recorded

__all__ = ["BASELINE_NAMES", "STAGE", "BaselinesConfig", "BaselinesRunConfig", "baseline_job", "planned_jobs",
           "run_baselines"]

BASELINE_NAMES = {kind: objective_label(kind) for kind in baseline_objectives()}


@dataclass(frozen=True)
class BaselinesConfig:
    """Settings of the stage ``baselines`` (YAML section ``baselines``).

    ``kinds``: which baselines (``cepstral_ar``, ``heat``); ``seeds``: empty = the compare
    section's; ``primary_steps``: the step count of the primary test (None = the largest of
    ``compare.steps``); ``heat_eta``: the heat sampler's fresh-noise share (1 = IHDM's sampler,
    0 = deterministic); ``compare_dir``: the compare stage's folder ("" = ``compare`` beside
    ``--out``), whose ``runs.json`` and classifier are read.
    """

    kinds: tuple[str, ...] = baseline_objectives()
    seeds: tuple[int, ...] = ()
    primary_steps: int | None = None
    heat_eta: float = 1.0
    compare_dir: str = ""

    def __post_init__(self) -> None:
        unknown = sorted(set(self.kinds) - set(baseline_objectives()))
        if unknown or not self.kinds or len(set(self.kinds)) != len(self.kinds):
            raise AudiospecError(f"baselines.kinds must be distinct names among {list(baseline_objectives())}, got "
                                 f"{list(self.kinds)}")
        if len(set(self.seeds)) != len(self.seeds):
            raise AudiospecError(f"baselines.seeds must be distinct, got {list(self.seeds)}")
        if not 0.0 <= self.heat_eta <= 1.0:
            raise AudiospecError(f"baselines.heat_eta must lie in [0, 1], got {self.heat_eta}")


@dataclass(frozen=True)
class BaselinesRunConfig:
    """``audiospec baselines``: YAML sections ``data``, ``compare`` (budget, split, metrics) and ``baselines``."""

    data: DataConfig
    compare: CompareConfig = field(default_factory=CompareConfig)
    baselines: BaselinesConfig = field(default_factory=BaselinesConfig)

    def __post_init__(self) -> None:
        base, cmp = self.baselines, self.compare
        if not set(base.seeds) <= set(cmp.seeds):
            raise AudiospecError(f"baselines.seeds {list(base.seeds)} must be among compare.seeds {list(cmp.seeds)} "
                                 "(each baseline model is paired with the diffusion models of its seed)")
        for kind in base.kinds:
            bands = _process(kind, cmp, base.heat_eta).commit_bands
            if bands is not None and bands != cmp.order.n_bands:
                raise AudiospecError(f"compare.train.coarse_to_fine.n_bands={bands} differs from compare.order.n_bands="
                                     f"{cmp.order.n_bands}: the {BASELINE_NAMES[kind]} model generates the commit "
                                     "measure's bands, so set them equal")
        if base.primary_steps is not None and base.primary_steps not in cmp.steps:
            raise AudiospecError(f"baselines.primary_steps={base.primary_steps} must be one of compare.steps "
                                 f"{list(cmp.steps)}")


def _process(kind: str, cfg: CompareConfig, heat_eta: float, data: torch.Tensor | None = None) -> Process:
    """The process of baseline ``kind`` with the compare section's settings (``baselines.heat_eta``: the heat
    sampler's stochastic share; ``data``: the training patches, heat's prior at s = 1)."""
    return make_process(dataclasses.replace(cfg.train, objective=kind), WhiteNoise(), n_mels=cfg.mel.n_mels,
                        eta={"heat": heat_eta}, data=data)


def _order(model: Any, process: Process, cfg: CompareConfig, shape: tuple[int, int], seed: int
           ) -> tuple[float, torch.Tensor]:
    """The commit measure's content order (cepstrum view) on ``trajectory_samples`` trajectories: (point, replicates)."""
    trajectory, times = recorded(lambda callback: solve(
        process, model, n=cfg.trajectory_samples, shape=shape, steps=cfg.trajectory_steps,
        generator=torch.Generator().manual_seed(seed), callback=callback))
    view, replicates = measure_trajectory(trajectory, times, "cepstrum", cfg.order)
    return view.order.mean, replicates


def _diffusion_rows(compare_dir: Path, cfg: CompareConfig, seeds: tuple[int, ...]) -> list[MetricRow]:
    path = compare_dir / "runs.json"
    if not path.is_file():
        raise AudiospecError(f"{str(path)!r} is missing: the baselines are compared with the compare stage's "
                             f"models; run `audiospec compare` with the same config into {str(compare_dir)!r} first "
                             "(or set baselines.compare_dir)")
    names = {spec.name for spec in cfg.priors}
    rows = [r for r in read_rows(path) if r.arm in names and r.seed in seeds]
    missing = sorted({(p, s, k) for p in names for s in seeds for k in cfg.steps} - {(r.arm, r.seed, r.steps)
                                                                                      for r in rows})
    if missing:
        raise AudiospecError(f"{str(path)!r} lacks the runs {missing[:6]} (prior, seed, steps): it was written with "
                             "another compare section; re-run `audiospec compare` with this config")
    return rows


def baseline_job(store: ModelStore, kind: str, seed: int, cfg: CompareConfig, patches: torch.Tensor, *,
                 validation: torch.Tensor | None = None) -> TrainJob:
    """The training of one baseline and seed: the compare stage's budget with the baseline's objective, from white
    noise, into ``models/<kind>/seed<seed>`` (held-out loss on ``validation``)."""
    return store.job(kind, f"seed{seed}", config=dataclasses.replace(cfg.train, seed=seed, objective=kind),
                     prior=WhiteNoise(), patches=patches, validation=validation)


def planned_jobs(config: BaselinesConfig, cfg: CompareConfig, parts: dict[str, Any], store: ModelStore
                 ) -> list[TrainJob]:
    """Every model the stage trains on the training split of ``parts``."""
    return [baseline_job(store, kind, seed, cfg, parts["train"].patches, validation=parts["validation"].patches)
            for kind in config.kinds for seed in config.seeds or cfg.seeds]


def _jobs(config: BaselinesRunConfig, context: RunContext) -> list[TrainJob]:
    """The stage's models, once its folder's fingerprint allows training in it (writes nothing)."""
    split, _ = context.inputs("baselines", config, keys=TRAINING_KEYS, ignore=RESUMABLE_KEYS)
    return planned_jobs(config.baselines, config.compare, split.parts, context.models())


def _baseline_rows(config: BaselinesRunConfig, seeds: tuple[int, ...], context: RunContext, classifier: Any
                   ) -> tuple[list[MetricRow], dict[str, Interval]]:
    """Metric rows of each baseline (its exact-Gaussian calibration, then one model per seed) and the commit
    measure's order on its trajectories."""
    cfg, base = config.compare, config.baselines
    data, test = context.split.parts["train"], context.split.parts["test"]
    shape, store = tuple(data.patches.shape[-2:]), context.models()
    rows: list[MetricRow] = []
    orders: dict[str, Interval] = {}
    for kind in tqdm(base.kinds, desc="baselines", disable=not context.progress):
        process, name = _process(kind, cfg, base.heat_eta, data.patches), BASELINE_NAMES[kind]
        mean, std = coefficient_stats(data.patches)
        exact = GaussianModel(process, mean, std.square())
        rows += scored_rows(lambda steps, g: solve(process, exact, n=cfg.n_samples, shape=shape, steps=steps,
                                                   generator=g),
                            CALIBRATION + name, seeds[0], test, classifier, cfg.steps, data.patches)
        points, replicates = [], []
        for seed in seeds:
            model = store.network(baseline_job(store, kind, seed, cfg, data.patches))
            rows += scored_rows(lambda steps, g: solve(process, model, n=cfg.n_samples, shape=shape, steps=steps,
                                                       generator=g),
                                name, seed, test, classifier, cfg.steps, data.patches)
            point, replicate = _order(model, process, cfg, shape, seed)
            points.append(point)
            replicates.append(replicate)
        orders[name] = bootstrap_mean(points, replicates)
    return rows, orders


def _compute(config: BaselinesRunConfig, seeds: tuple[int, ...], compare_dir: Path, context: RunContext
             ) -> tuple[dict[str, Any], dict[str, float]]:
    """Per arm (white diffusion, each baseline): its recorded budget and NFE, and its training throughput."""
    cfg, base = config.compare, config.baselines
    there, here = context.models(compare_dir), context.models()
    diffusion_nfe = make_process(cfg.train, WhiteNoise(), n_mels=cfg.mel.n_mels, sampler=cfg.sampler).nfe_per_step
    budgets = {REFERENCE_PRIOR: there.budget(REFERENCE_PRIOR, seeds, diffusion_nfe),
               **{BASELINE_NAMES[k]: here.budget(k, seeds, _process(k, cfg, base.heat_eta).nfe_per_step)
                  for k in base.kinds}}
    speeds = {REFERENCE_PRIOR: there.throughput(REFERENCE_PRIOR, seeds),
              **{BASELINE_NAMES[k]: here.throughput(k, seeds) for k in base.kinds}}
    return budgets, {name: v for name, v in speeds.items() if v is not None}


def run_baselines(config: BaselinesRunConfig, context: RunContext) -> BaselinesResult:
    """Train, sample and score the coarse-to-fine baselines beside the compare stage's models (module doc)."""
    cfg, base = config.compare, config.baselines
    check_sample_rate(cfg.mel, config.data, section="compare")
    seeds = base.seeds or cfg.seeds
    primary_steps = base.primary_steps or max(cfg.steps)
    compare_dir = Path(base.compare_dir) if base.compare_dir else context.folder("compare")
    diffusion = _diffusion_rows(compare_dir, cfg, seeds)  # fails before any work when the compare stage is missing
    split, fingerprint = context.inputs("baselines", config, keys=TRAINING_KEYS, ignore=RESUMABLE_KEYS)
    context.upstream(fingerprint, compare_dir, keys=SCORE_KEYS)  # its rows, classifier and split: the same inputs
    classifier = context.classifier(compare_dir, read_only=True)
    context.record(config, split, fingerprint)
    context.models().train(planned_jobs(base, cfg, split.parts, context.models()))  # every model first
    floors = context.floors(classifier)
    rows, orders = _baseline_rows(config, seeds, context, classifier)
    budgets, speeds = _compute(config, seeds, compare_dir, context)
    names = [spec.name for spec in cfg.priors] + [BASELINE_NAMES[k] for k in base.kinds]
    calibrations = [CALIBRATION + BASELINE_NAMES[k] for k in base.kinds]
    pairs = [(BASELINE_NAMES[k], REFERENCE_PRIOR) for k in base.kinds]
    all_rows = diffusion + rows
    write_rows(context.out_dir / "runs.json", rows)
    return BaselinesResult(
        kinds=tuple(base.kinds), names=tuple(names), seeds=tuple(seeds), steps=tuple(cfg.steps),
        primary_steps=primary_steps, metrics=quality_table(all_rows, names + calibrations, cfg.steps),
        difference_to_white=paired_differences(all_rows, pairs, cfg.steps, [(name, primary_steps) for name, _ in pairs]),
        floors=floors, orders=orders,
        n_stages=len(quefrency_bands(cfg.mel.n_mels, n_bands=cfg.train.coarse_to_fine.n_bands)),
        train_steps_per_second=speeds, heat_eta=base.heat_eta, n_test_patches=int(split.parts["test"].patches.shape[0]),
        budgets=budgets, equal_compute=all(budgets[BASELINE_NAMES[k]] is not None and budgets[BASELINE_NAMES[k]] ==
                                           budgets[REFERENCE_PRIOR] for k in base.kinds))


STAGE = register(Stage(
    name="baselines", config=BaselinesRunConfig, result=BaselinesResult, output="baselines.json", run=run_baselines,
    order=50,
    summary="Explicit coarse-to-fine models beside the compare stage's diffusion models (RUN/compare, beside --out): "
            "a cepstral autoregressive model (quefrency bands in turn) and heat dissipation (IHDM), trained with the "
            "same budget and sampled at the same number of network evaluations, each with its exact-Gaussian "
            "calibration and the floor.",
    examples="  audiospec baselines --config recipes/mini/conf/protocol.yaml --out runs/mini-protocol/baselines",
    jobs=_jobs))
