"""Explicit coarse-to-fine baselines against the diffusion models (``audiospec baselines``; issue 14, part 1).

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

from audiospec.atomic import write_json
from audiospec.data import DataConfig, PatchSet, check_sample_rate
from audiospec.diffusion.checkpoint import read_training_state
from audiospec.diffusion.processes import Process, baseline_objectives, make_process, objective_label
from audiospec.diffusion.solver import solve
from audiospec.diffusion.priors import REFERENCE_PRIOR, WhiteNoise
from audiospec.diffusion.processes import coefficient_stats
from audiospec.functional.cepstrum import quefrency_bands
from audiospec.diffusion.parallel import TrainJob, convergence, train_jobs, trained_network
from audiospec.diffusion.training import CHECKPOINT_NAME
from audiospec.errors import AudiospecError
from audiospec.experiments.compare import (
    RESUMABLE_KEYS,
    SCORE_KEYS,
    TRAINING_KEYS,
    CompareConfig,
    check_upstream,
    project_classifier,
    quality_floors,
    record_inputs,
    scored_rows,
    stage_inputs,
)
from audiospec.experiments.compare_summary import PRIMARY_METRIC, paired_differences, quality_table
from audiospec.measures.gaussian import GaussianModel
from audiospec.measures.ordering import bootstrap_mean, measure_trajectory, recorded
from audiospec.experiments.results import (
    CALIBRATION,
    BaselinesResult,
    Difference,
    read_json,
    read_json_rows,
    to_json,
)

__all__ = ["BaselinesConfig", "BaselinesRunConfig", "baseline_job", "planned_jobs", "run_baselines", "BASELINE_NAMES"]

BASELINE_NAMES = {kind: objective_label(kind) for kind in baseline_objectives()}


@dataclass(frozen=True)
class BaselinesConfig:
    """Settings of :func:`run_baselines` (YAML section ``baselines``).

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


def _diffusion_rows(compare_dir: Path, cfg: CompareConfig, seeds: tuple[int, ...]) -> list[dict[str, Any]]:
    path = compare_dir / "runs.json"
    if not path.is_file():
        raise AudiospecError(f"{str(path)!r} is missing: the baselines are compared with the compare stage's "
                             f"models; run `audiospec compare` with the same config into {str(compare_dir)!r} first "
                             "(or set baselines.compare_dir)")
    names = {spec.name for spec in cfg.priors}
    rows = [r for r in read_json_rows(path) if r.get("prior") in names and r.get("seed") in seeds]
    missing = sorted({(p, s, k) for p in names for s in seeds for k in cfg.steps}
                     - {(r["prior"], r["seed"], r["steps"]) for r in rows})
    if missing:
        raise AudiospecError(f"{str(path)!r} lacks the runs {missing[:6]} (prior, seed, steps): it was written with "
                             "another compare section; re-run `audiospec compare` with this config")
    return rows


def _budget(models_dir: Path, arm: str, seeds: tuple[int, ...], nfe_per_step: int) -> dict[str, int] | None:
    """The training budget recorded in the checkpoints of ``models_dir/<arm>/seed*`` (steps and batch size, None
    when the seeds differ) and the network evaluations per sampling step."""
    budgets = set()
    for seed in seeds:
        state = read_training_state(models_dir / arm / f"seed{seed}" / CHECKPOINT_NAME)
        budgets.add((state.step, int(state.config["batch_size"])))
    if len(budgets) != 1:
        return None
    steps, batch = budgets.pop()
    return {"train_steps": steps, "batch_size": batch, "nfe_per_step": nfe_per_step}


def _compute_claim(budgets: dict[str, dict[str, int] | None], name: str) -> str:
    """"equal compute and NFE" when the recorded budgets say so, else both budgets."""
    mine, white = budgets.get(name), budgets.get(REFERENCE_PRIOR)
    if mine is not None and mine == white:
        return (f"equal compute and NFE: {mine['train_steps']} training steps of {mine['batch_size']} patches, "
                f"{mine['nfe_per_step']} network evaluation(s) per sampling step")
    shown = {arm: "unknown (the seeds differ)" if b is None else
             f"{b['train_steps']} steps x {b['batch_size']} patches, {b['nfe_per_step']} evaluation(s) per step"
             for arm, b in ((REFERENCE_PRIOR, white), (name, mine))}
    return f"NOT equal compute or NFE: diffusion {shown[REFERENCE_PRIOR]}; {name} {shown[name]}"


def _throughput(models_dir: Path, arm: str, seeds: tuple[int, ...]) -> float | None:
    """Mean training steps per second of ``models_dir/<arm>/seed*`` from their ``train_result.json`` (the record of
    the call that trained each; None when no model has one, e.g. runs from before records were kept)."""
    speeds = []
    for seed in seeds:
        path = models_dir / arm / f"seed{seed}" / "train_result.json"
        record = read_json(path) if path.is_file() else {}
        if isinstance(record, dict) and isinstance(record.get("steps_per_second"), (int, float)) and \
                record["steps_per_second"] > 0:
            speeds.append(float(record["steps_per_second"]))
    return sum(speeds) / len(speeds) if speeds else None


def _answers(kinds: list[str], differences: dict[str, Any], table: dict[str, Any], floors: dict[str, Any],
             orders: dict[str, Any], primary_steps: int, n_stages: int, cfg: CompareConfig,
             budgets: dict[str, dict[str, int] | None]) -> list[str]:
    lines = []
    floor = floors["real train vs test"][PRIMARY_METRIC]
    for kind in kinds:
        name = BASELINE_NAMES[kind]
        per_steps = differences.get(name, {})
        diff: Difference | None = per_steps.get(str(primary_steps), {}).get(PRIMARY_METRIC)
        if diff is not None:
            mine = table[name][str(primary_steps)][PRIMARY_METRIC]
            white = table[REFERENCE_PRIOR][str(primary_steps)][PRIMARY_METRIC]
            calib = table[CALIBRATION + name][str(primary_steps)][PRIMARY_METRIC]
            verdict = ("no reliable difference" if not diff.reliable else
                       f"the {name} baseline is reliably {'better' if diff.mean < 0 else 'worse'} than diffusion")
            p = "one seed: no test" if diff.p_holm is None else f"Holm p = {diff.p_holm:.3f}"
            lines.append(f"{name} vs the white-prior diffusion model at {primary_steps} steps (PRIMARY, "
                         f"{_compute_claim(budgets, name)}): KID {mine.text()} vs {white.text()}, difference "
                         f"{diff.text(signed=True, label=f'{100 * diff.level:.1f}%: ')}, {p}: {verdict}. Its "
                         f"sampler with the exact Gaussian network: {calib.mean:.3f}; floor {floor:.3f}.")
        others = [(steps, d) for steps, metrics in per_steps.items() for metric, d in metrics.items()
                  if d is not None and not d.primary and metric == PRIMARY_METRIC]
        reliable = [f"{steps} steps ({d.mean:+.3f}, Holm p {d.p_holm:.3f})" for steps, d in others if d.reliable]
        lines.append(f"{name}, KID vs white at the other step counts (secondary): "
                     + (f"reliable at {', '.join(reliable)}" if reliable else "no reliable difference") + ".")
    if "cepstral_ar" in kinds:
        few = [s for s in cfg.steps if s < 2 * n_stages]
        if few:
            lines.append(f"cepstral AR at {', '.join(map(str, few))} steps: fewer than two steps per band "
                         f"({n_stages} bands), so bands are drawn jointly or as their conditional mean; "
                         "its rows there show the cost of a fixed band order at few steps, not its quality.")
    for kind in kinds:
        if kind in orders:
            name = BASELINE_NAMES[kind]
            lines.append(f"commit measure (cepstrum content order) on the {name} baseline: "
                         f"{orders[kind].text(signed=True)} (+1 = bands committed strictly coarse to fine"
                         + ("; +1 by construction, the measure's positive control)" if kind == "cepstral_ar" else ")"))
    return lines


def baseline_job(kind: str, seed: int, cfg: CompareConfig, patches: torch.Tensor, out_dir: Path, *,
                 validation: torch.Tensor | None = None) -> TrainJob:
    """The training of one baseline and seed: the compare stage's budget with the baseline's objective, from white
    noise, into ``out_dir/models/<kind>/seed<seed>`` (held-out loss on ``validation``)."""
    return TrainJob(config=dataclasses.replace(cfg.train, seed=seed, objective=kind), prior=WhiteNoise(),
                    patches=patches, out_dir=out_dir / "models" / kind / f"seed{seed}", validation=validation)


def planned_jobs(config: BaselinesConfig, cfg: CompareConfig, parts: dict[str, PatchSet],
                 out_dir: Path) -> list[TrainJob]:
    """Every model :func:`run_baselines` trains on the training split of ``parts`` into ``out_dir``."""
    return [baseline_job(kind, seed, cfg, parts["train"].patches, out_dir, validation=parts["validation"].patches)
            for kind in config.kinds for seed in config.seeds or cfg.seeds]


def _baseline_rows(config: BaselinesRunConfig, seeds: tuple[int, ...], data: Any, test: Any, classifier: Any,
                   out_dir: Path, progress: bool) -> tuple[list[dict[str, Any]], dict[str, Any]]:
    """Metric rows of each baseline (its exact-Gaussian calibration, then one model per seed from
    ``out_dir/models/<kind>/seed<seed>``) and the commit measure's order on its trajectories."""
    cfg, base = config.compare, config.baselines
    shape = tuple(data.patches.shape[-2:])
    rows: list[dict[str, Any]] = []
    orders: dict[str, Any] = {}
    for kind in tqdm(base.kinds, desc="baselines", disable=not progress):
        process, name = _process(kind, cfg, base.heat_eta, data.patches), BASELINE_NAMES[kind]
        mean, std = coefficient_stats(data.patches)
        exact = GaussianModel(process, mean, std.square())
        rows += scored_rows(lambda steps, g: solve(process, exact, n=cfg.n_samples, shape=shape, steps=steps,
                                                   generator=g),
                            CALIBRATION + name, seeds[0], test, classifier, cfg.steps, data.patches)
        points, replicates = [], []
        for seed in seeds:
            model = trained_network(baseline_job(kind, seed, cfg, data.patches, out_dir), progress=progress)
            rows += scored_rows(lambda steps, g: solve(process, model, n=cfg.n_samples, shape=shape, steps=steps,
                                                       generator=g),
                                name, seed, test, classifier, cfg.steps, data.patches)
            point, replicate = _order(model, process, cfg, shape, seed)
            points.append(point)
            replicates.append(replicate)
        orders[kind] = bootstrap_mean(points, replicates)
    return rows, orders


def run_baselines(config: BaselinesRunConfig, *, out_dir: Path, progress: bool = True) -> BaselinesResult:
    """Train, sample and score the coarse-to-fine baselines beside the compare stage's models (module doc)."""
    from audiospec.report.plots import plot_baselines

    cfg, base = config.compare, config.baselines
    check_sample_rate(cfg.mel, config.data, section="compare")
    seeds = base.seeds or cfg.seeds
    primary_steps = base.primary_steps or max(cfg.steps)
    out_dir = Path(out_dir)
    compare_dir = Path(base.compare_dir) if base.compare_dir else out_dir.parent / "compare"
    diffusion = _diffusion_rows(compare_dir, cfg, seeds)  # fails before any work when the compare stage is missing
    split, fingerprint = stage_inputs(config, stage="baselines", out_dir=out_dir, progress=progress,
                                      keys=TRAINING_KEYS, ignore=RESUMABLE_KEYS)  # what its models depend on
    check_upstream(fingerprint, compare_dir, keys=SCORE_KEYS)  # its rows, classifier and split: the same inputs
    data, test = split.parts["train"], split.parts["test"]
    classifier = project_classifier(data, cfg, compare_dir, progress, read_only=True)
    record_inputs(config, split, fingerprint, out_dir)
    jobs = planned_jobs(base, cfg, split.parts, out_dir)
    train_jobs(jobs, progress=progress)  # every model first (already trained by `run` with workers > 1: loaded)
    write_json(out_dir / "convergence.json", [dataclasses.asdict(c) for c in convergence(jobs)])
    floors = quality_floors(data, test, classifier, cfg)
    n_stages = len(quefrency_bands(cfg.mel.n_mels, n_bands=cfg.train.coarse_to_fine.n_bands))  # the cepstral model's
    rows, orders = _baseline_rows(config, seeds, data, test, classifier, out_dir, progress)
    diffusion_nfe = make_process(cfg.train, WhiteNoise(), n_mels=cfg.mel.n_mels, sampler=cfg.sampler).nfe_per_step
    budgets = {REFERENCE_PRIOR: _budget(compare_dir / "models", REFERENCE_PRIOR, seeds, diffusion_nfe),
               **{BASELINE_NAMES[k]: _budget(out_dir / "models", k, seeds, _process(k, cfg, base.heat_eta).nfe_per_step)
                  for k in base.kinds}}
    speeds = {REFERENCE_PRIOR: _throughput(compare_dir / "models", REFERENCE_PRIOR, seeds),
              **{BASELINE_NAMES[k]: _throughput(out_dir / "models", k, seeds) for k in base.kinds}}
    names = [spec.name for spec in cfg.priors] + [BASELINE_NAMES[k] for k in base.kinds]
    calibrations = [CALIBRATION + BASELINE_NAMES[k] for k in base.kinds]
    all_rows = diffusion + rows
    table = quality_table(all_rows, names + calibrations, cfg.steps)
    pairs = [(BASELINE_NAMES[k], REFERENCE_PRIOR) for k in base.kinds]
    differences = paired_differences(all_rows, pairs, cfg.steps, [(name, primary_steps) for name, _ in pairs])
    result = BaselinesResult(
        kinds=tuple(base.kinds), names=tuple(names), seeds=tuple(seeds), steps=tuple(cfg.steps),
        primary_steps=primary_steps, metrics=table, difference_to_white=differences, floors=floors,
        orders={BASELINE_NAMES[k]: v for k, v in orders.items()}, n_stages=n_stages,
        train_steps_per_second={name: v for name, v in speeds.items() if v is not None}, heat_eta=base.heat_eta,
        n_test_patches=int(test.patches.shape[0]), budgets=budgets,
        equal_compute=all(budgets[BASELINE_NAMES[k]] is not None and budgets[BASELINE_NAMES[k]] == budgets[
            REFERENCE_PRIOR] for k in base.kinds),
        answers=tuple(_answers(list(base.kinds), differences, table, floors, orders, primary_steps, n_stages, cfg,
                               budgets)))
    result = dataclasses.replace(result, plots=tuple(plot_baselines(result, out_dir)))
    write_json(out_dir / "baselines.json", to_json(result))
    write_json(out_dir / "runs.json", rows)
    return result
