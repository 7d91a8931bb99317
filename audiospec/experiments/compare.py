"""Noise priors compared for mel-spectrogram flow matching (DESIGN.md section 5).

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
(:mod:`audiospec.experiments.compare_summary`). Patches are centred per mel bin
(:mod:`audiospec.data.patches`).
"""

from __future__ import annotations

import dataclasses
from dataclasses import dataclass, field
from pathlib import Path
from typing import Any, Callable, Literal, Sequence

import torch
from tqdm.auto import tqdm

from audiospec.atomic import write_json
from audiospec.config import check_counts
from audiospec.data import DataConfig, PatchSet, check_sample_rate
from audiospec.measures.gaussian import gaussian_fields
from audiospec.diffusion.checkpoint import load_checkpoint, read_training_state
from audiospec.diffusion.config import TrainConfig, check_training_data
from audiospec.diffusion.priors import REFERENCE_PRIOR, NoisePrior, PriorSpec, default_priors, make_prior
from audiospec.diffusion.processes import check_sampler
from audiospec.diffusion.samplers import sample
from audiospec.diffusion.runtime import default_device
from audiospec.diffusion.parallel import TrainJob, convergence, train_jobs, trained_network
from audiospec.diffusion.training import CHECKPOINT_NAME
from audiospec.errors import AudiospecError
from audiospec.experiments.fingerprint import FINGERPRINT_NAME, Fingerprint, check_inputs, read_fingerprint
from audiospec.experiments.inputs import (  # re-exported: the stages beside compare import them from here
    MODEL_KEYS,
    RESUMABLE_KEYS,
    REUSED_KEYS,
    SCORE_KEYS,
    TRAINING_KEYS,
    SplitPatches,
    check_own,
    record_inputs,
    split_patches,
    stage_inputs,
)
from audiospec.experiments.compare_arms import OPTIMIZED, WHITENED, optimized_grids, whitened_priors
from audiospec.experiments.compare_order import (
    alpha_hat,
    colour_sweep,
    control_job,
    data_spectrum,
    prior_orders,
    sensitivity,
    sweep_specs,
)
from audiospec.experiments.compare_summary import HEADLINE_METRICS, quality_table, summarize
from audiospec.measures.ordering import OrderSettings, record_trajectory
from audiospec.experiments.listen import committed_bands, trajectory_points, write_patch_audio
from audiospec.experiments.results import CompareResult, Interval, Normalisation, OrderScores, SensitivityRow, to_json
from audiospec.metrics import ClassifierConfig, TrainedClassifier, evaluate_samples, train_classifier
from audiospec.report.plots import plot_compare
from audiospec.transforms import MelConfig

__all__ = ["MODEL_KEYS", "RESUMABLE_KEYS", "REUSED_KEYS", "SCORE_KEYS", "TRAINING_KEYS", "CompareConfig",
           "CompareRunConfig", "SplitPatches", "check_own", "check_upstream", "model_job", "planned_jobs",
           "project_classifier", "quality_floors", "record_inputs", "run_compare", "scored_rows", "split_patches",
           "stage_inputs", "stored_model", "trained_model"]


@dataclass(frozen=True)
class CompareConfig:
    """Settings of :func:`run_compare` (YAML section ``compare``); ``train`` is the per-model budget.

    ``priors`` are prior names (``white``, ``pink``, ``matched``, ``beta=2``, ...); white is the reference.
    """

    mel: MelConfig = field(default_factory=MelConfig)
    patch_frames: int = 128
    priors: tuple[PriorSpec, ...] = field(default_factory=default_priors)
    seeds: tuple[int, ...] = (0, 1, 2)
    steps: tuple[int, ...] = (4, 8, 16, 32, 64)
    sampler: Literal["euler", "heun"] = "euler"
    n_samples: int = 64
    trajectory_steps: int = 32
    trajectory_samples: int = 16
    order: OrderSettings = field(default_factory=OrderSettings)
    control: bool = True
    colour_sweep: bool = True
    colour_sweep_seeds: tuple[int, ...] = ()
    whitened_loss: bool = False  # an extra arm per non-white prior trained with the whitened loss
    whitened_seeds: tuple[int, ...] = ()  # seeds of the whitened arms (a subset of seeds; empty: all of them)
    optimized_grid_steps: tuple[int, ...] = ()  # also sample every model on the Benita-optimised grid at these
    primary_steps: int | None = None  # the pre-specified primary test: KID vs white at this step count (None: fewest)
    label: str = ""  # shown at the top of the report's comparison, e.g. "CPU preview, models not converged"
    split_fractions: tuple[float, float, float] = (0.7, 0.15, 0.15)
    split_seed: int = 0
    split_file: str | None = None
    sensitivity_thresholds: tuple[float, ...] = (0.05, 0.1, 0.2)
    sensitivity_bands: tuple[int, ...] = (6, 10)
    sensitivity_steps: int = 8
    listen_samples: int = 2
    griffin_lim_iters: int = 32
    classifier: ClassifierConfig = field(default_factory=ClassifierConfig)
    train: TrainConfig = field(default_factory=TrainConfig)

    def __post_init__(self) -> None:
        try:
            check_sampler(self.train.objective, self.sampler)
        except AudiospecError as err:
            raise AudiospecError(f"compare samples every model with compare.sampler={self.sampler!r}, which "
                                 f"train.objective={self.train.objective!r} cannot use: {err}") from None
        names = [spec.name for spec in self.priors]
        if len(set(names)) != len(names) or REFERENCE_PRIOR not in names:
            raise AudiospecError(f"priors must be distinct and include {REFERENCE_PRIOR!r} (the reference), got {names}")
        if not self.seeds or len(set(self.seeds)) != len(self.seeds):
            raise AudiospecError(f"seeds must be distinct and non-empty, got {list(self.seeds)}")
        if not self.steps or min(self.steps) < 1:
            raise AudiospecError(f"steps must be positive step counts, got {list(self.steps)}")
        if not set(self.whitened_seeds) <= set(self.seeds):
            raise AudiospecError(f"whitened_seeds {list(self.whitened_seeds)} must be among seeds {list(self.seeds)} "
                                 "(each whitened model is paired with the plain model of its seed)")
        if self.primary_steps is not None and self.primary_steps not in self.steps:
            raise AudiospecError(f"primary_steps={self.primary_steps} must be one of steps {list(self.steps)}")
        if not set(self.optimized_grid_steps) <= set(self.steps):
            raise AudiospecError(f"optimized_grid_steps {list(self.optimized_grid_steps)} must be among steps "
                                 f"{list(self.steps)} (each is compared with the uniform grid at the same count)")
        check_counts("compare", minimum=2, sensitivity_bands=self.sensitivity_bands)
        check_counts("compare", patch_frames=self.patch_frames, listen_samples=self.listen_samples,
                     griffin_lim_iters=self.griffin_lim_iters)
        if not self.sensitivity_thresholds or any(not 0 < t < 1 for t in self.sensitivity_thresholds):
            raise AudiospecError(f"compare.sensitivity_thresholds must be a non-empty list of fractions in (0, 1), "
                                 f"got {list(self.sensitivity_thresholds)}")
        if self.n_samples < 2 or self.trajectory_samples < 2 or min(self.trajectory_steps, self.sensitivity_steps) < 2:
            raise AudiospecError(
                f"need n_samples >= 2, trajectory_samples >= 2, trajectory_steps and sensitivity_steps >= 2; got "
                f"{self.n_samples}, {self.trajectory_samples}, {self.trajectory_steps}, {self.sensitivity_steps}"
            )


@dataclass(frozen=True)
class CompareRunConfig:
    """A whole ``audiospec compare`` run: YAML sections ``data`` and ``compare``."""

    data: DataConfig
    compare: CompareConfig = field(default_factory=CompareConfig)


def _listen(model: Any, prior: NoisePrior, scores: OrderScores, config: CompareConfig, shape: tuple[int, ...],
            data: PatchSet, out_dir: Path, seed: int) -> list[dict[str, Any]]:
    """Listening entries: generated patches (sample k of every prior starts from the same white draw, so priors
    are heard side by side), and one sampling trajectory as x̂0(t) at about six times with its committed bands."""
    steps, name = max(config.steps), prior.name
    patches = sample(model, prior=prior, n=config.listen_samples, steps=steps, sampler=config.sampler,
                     shape=shape, generator=torch.Generator().manual_seed(seed))
    files = write_patch_audio(data.to_db(patches[:, 0]), mel=config.mel, out_dir=out_dir / "samples" / name,
                              n_iter=config.griffin_lim_iters, title=f"{name} prior, {steps} steps")
    entries = [{"clip": i, "label": "generated (paired across priors)", "domain": "generated", "prior": name,
                "level": f"{steps} steps", "wav": f"samples/{name}/{wav}", "png": f"samples/{name}/{png}",
                "gain": gain} for i, (wav, png, gain) in enumerate(files)]
    trajectory, times = record_trajectory(model, prior, n=1, steps=config.trajectory_steps, shape=shape,
                                          sampler=config.sampler, generator=torch.Generator().manual_seed(seed))
    points = trajectory_points(times.tolist())
    commit = scores.trained[0].views["cepstrum"].commit_t
    titles = [f"{name}: x0 at t={float(times[i]):.2f}, {committed_bands(float(times[i]), commit)}/{len(commit)} "
              "quefrency bands committed" for i in points]
    files = write_patch_audio(data.to_db(trajectory[points, 0]), mel=config.mel, titles=titles, stem="step",
                              out_dir=out_dir / "trajectory" / name, n_iter=config.griffin_lim_iters)
    return entries + [{"clip": "trajectory", "label": "x0 prediction while sampling", "domain": "trajectory",
                       "prior": name, "level": title.split(": ", 1)[1], "wav": f"trajectory/{name}/{wav}",
                       "png": f"trajectory/{name}/{png}", "gain": gain}
                      for (wav, png, gain), title in zip(files, titles)]


def model_job(prior: NoisePrior, seed: int, patches: torch.Tensor, cfg: CompareConfig, out_dir: Path, *,
              whiten: bool = False, validation: torch.Tensor | None = None) -> TrainJob:
    """The training of one prior and seed in ``out_dir/models/<arm>/seed<seed>`` (arm = the prior's name,
    ``+whitened`` with the whitened loss); its held-out loss is recorded on ``validation``."""
    arm = prior.name + (WHITENED if whiten else "")
    return TrainJob(config=dataclasses.replace(cfg.train, seed=seed, whiten_loss=whiten or cfg.train.whiten_loss),
                    prior=prior, patches=patches, out_dir=out_dir / "models" / arm / f"seed{seed}",
                    validation=validation)


def trained_model(prior: NoisePrior, seed: int, patches: torch.Tensor, cfg: CompareConfig, out_dir: Path,
                  progress: bool, *, whiten: bool = False) -> Any:
    """The EMA network (what every sampler uses) of one prior and seed (:func:`model_job`), trained, resumed or
    just loaded."""
    return trained_network(model_job(prior, seed, patches, cfg, out_dir, whiten=whiten), progress=progress)


def planned_jobs(cfg: CompareConfig, parts: dict[str, PatchSet], out_dir: Path) -> list[TrainJob]:
    """Every model :func:`run_compare` trains on the training split of ``parts`` into ``out_dir`` (held-out loss on
    the validation split): per prior its seeds, its whitened arm, its control network; then the colour sweep's
    trained arms."""
    patches, validation = parts["train"].patches, parts["validation"].patches
    jobs: list[TrainJob] = []
    for spec in cfg.priors:
        prior = make_prior(spec, data=patches)
        jobs += [model_job(prior, seed, patches, cfg, out_dir, validation=validation) for seed in cfg.seeds]
        if prior.name in whitened_priors(cfg):
            jobs += [model_job(prior, seed, patches, cfg, out_dir, whiten=True, validation=validation)
                     for seed in cfg.whitened_seeds or cfg.seeds]
        if cfg.control:
            jobs.append(control_job(prior, patches, cfg, out_dir))
    names = {spec.name for spec in cfg.priors}
    for spec in sweep_specs(alpha_hat(patches)) if cfg.colour_sweep and cfg.colour_sweep_seeds else ():
        if spec.name not in names:
            prior = make_prior(spec, data=patches)
            jobs += [model_job(prior, seed, patches, cfg, out_dir, validation=validation)
                     for seed in cfg.colour_sweep_seeds]
    return jobs


def stored_model(arm: str, seed: int, cfg: CompareConfig, compare_dir: Path) -> Any:
    """The EMA network of ``arm`` and ``seed`` as the compare stage left it in ``compare_dir/models``, read only: it
    must have finished ``cfg.train`` (a stage never trains in another's folder)."""
    path = Path(compare_dir) / "models" / arm / f"seed{seed}" / CHECKPOINT_NAME
    if not path.is_file():
        raise AudiospecError(f"{str(path)!r} is missing: run `audiospec compare` with this config into "
                             f"{str(compare_dir)!r} first (it trains the models this stage reads)")
    step = read_training_state(path).step
    if step != cfg.train.steps:
        raise AudiospecError(f"{str(path)!r} is trained to {step} steps, not compare.train.steps={cfg.train.steps}: "
                             f"finish the compare stage first (`audiospec compare` into {str(compare_dir)!r} "
                             "resumes it)")
    return load_checkpoint(path)[1]


def _train_arm(spec: PriorSpec, seeds: tuple[int, ...], data: PatchSet, test: PatchSet, classifier: TrainedClassifier,
               cfg: CompareConfig, out_dir: Path, progress: bool, *, steps: tuple[int, ...] | None = None,
               whiten: bool = False) -> tuple[NoisePrior, list[tuple[int, Any]], list[dict[str, Any]]]:
    """Train (or resume) one model per seed on ``data`` with the prior ``spec`` (the whitened loss with
    ``whiten``: arm ``<prior>+whitened``), scored against ``test``.

    Returns (prior, [(seed, EMA network)], metric rows).
    """
    prior = make_prior(spec, data=data.patches)
    arm = prior.name + (WHITENED if whiten else "")
    models, rows = [], []
    for seed in seeds:
        models.append((seed, trained_model(prior, seed, data.patches, cfg, out_dir, progress, whiten=whiten)))
        rows += _evaluate(models[-1][1], prior, seed, test, classifier, cfg, steps or cfg.steps, data.patches, arm=arm)
    return prior, models, rows


def _extra_arms(spec: PriorSpec, prior: NoisePrior, models: list[tuple[int, Any]], data: PatchSet, test: PatchSet,
                classifier: TrainedClassifier, cfg: CompareConfig, out_dir: Path, progress: bool) -> list[dict[str, Any]]:
    """Rows of the optimised-grid arm (the same models) and the whitened-loss arm (new models) of one prior."""
    rows: list[dict[str, Any]] = []
    if cfg.optimized_grid_steps:
        grids = optimized_grids(prior, data_spectrum(data.patches), tuple(data.patches.shape[-2:]),
                                cfg.optimized_grid_steps)
        for seed, model in models:
            rows += _evaluate(model, prior, seed, test, classifier, cfg, cfg.optimized_grid_steps, data.patches,
                              arm=prior.name + OPTIMIZED, grids=grids)
    if prior.name in whitened_priors(cfg):
        rows += _train_arm(spec, cfg.whitened_seeds or cfg.seeds, data, test, classifier, cfg, out_dir, progress,
                           whiten=True)[2]
    return rows


def _few_step_quality(rows: list[dict[str, Any]], steps: int) -> dict[str, dict[str, Interval]]:
    """Per arm sampled at ``steps`` steps: the headline metrics there, mean and interval over seeds (an arm of the
    optimised grid may not be sampled at that count)."""
    names = sorted({row["prior"] for row in rows if row["steps"] == steps})
    table = quality_table(rows, names, (steps,))
    return {name: {m: v for m, v in table[name][str(steps)].items() if m in HEADLINE_METRICS} for name in names}


def check_upstream(here: Fingerprint, compare_dir: Path, *, keys: Sequence[str]) -> None:
    """Refuse unless ``compare_dir`` holds a compare stage made from the same inputs as ``here`` within ``keys``."""
    there = read_fingerprint(compare_dir, legacy=CompareRunConfig)
    if there is None:
        raise AudiospecError(f"{str(compare_dir)!r} holds no compare stage (no {FINGERPRINT_NAME} or config.yaml): "
                             f"run `audiospec compare` with this config into it first (or set compare_dir)")
    check_inputs(here, there, keys=keys, what=f"the compare stage in {str(compare_dir)!r}",
                 fix=f"use the config it was made with ({str(compare_dir / 'config.yaml')!r}), or run "
                     "`audiospec compare` with this config into a new run folder first")


def quality_floors(data: PatchSet, test: PatchSet, classifier: TrainedClassifier, cfg: CompareConfig) -> dict[str, Any]:
    """Reference rows of every quality table, all against the test split: real training patches (the floor a
    perfect model reaches) and Gaussian fields with the training split's centred spectrum (second order only)."""
    g = torch.Generator().manual_seed(cfg.split_seed)
    n = min(cfg.n_samples, data.patches.shape[0])
    real = data.patches[torch.randperm(data.patches.shape[0], generator=g)[:n]]
    gaussian = gaussian_fields(data_spectrum(data.patches), (n, *data.patches.shape[1:]), generator=g)
    return {name: evaluate_samples(x, test.patches, classifier=classifier, real_labels=test.labels,
                                   train=data.patches)
            for name, x in (("real train vs test", real), ("gaussian, train spectrum", gaussian))}


def _evaluate(model: Any, prior: NoisePrior, seed: int, data: PatchSet, classifier: TrainedClassifier,
              cfg: CompareConfig, steps_list: tuple[int, ...], train: torch.Tensor, *, arm: str | None = None,
              grids: dict[int, torch.Tensor] | None = None) -> list[dict[str, Any]]:
    """Quality metrics of ``n_samples`` samples at each step count of ``steps_list`` against ``data``: one row each,
    labelled ``arm`` (default the prior's name). ``grids`` replaces the uniform grid per step count; the initial
    noise depends only on seed and step count, so arms sampled from the same model are paired sample by sample."""
    return scored_rows(lambda steps, g: sample(model, prior=prior, n=cfg.n_samples, steps=steps, sampler=cfg.sampler,
                                               times=grids[steps] if grids else None,
                                               shape=tuple(data.patches.shape[-2:]), generator=g),
                       arm or prior.name, seed, data, classifier, steps_list, train)


def scored_rows(generate: Callable[[int, torch.Generator], torch.Tensor], name: str, seed: int, data: PatchSet,
                classifier: TrainedClassifier, steps_list: Sequence[int], train: torch.Tensor) -> list[dict[str, Any]]:
    """One metric row per step count, labelled ``name``: ``generate(steps, generator)`` -> samples ``[n, 1, M, T]``
    scored against ``data`` (``train``: the training patches, for the memorisation metrics). The generator is seeded
    with 10 000 seed + steps, so every arm of a seed and step count starts from the same seed."""
    rows = []
    for steps in steps_list:
        generated = generate(steps, torch.Generator().manual_seed(10_000 * seed + steps))
        rows.append({"prior": name, "seed": seed, "steps": steps,
                     **evaluate_samples(generated, data.patches, classifier=classifier, real_labels=data.labels,
                                        train=train)})
    return rows


def project_classifier(data: PatchSet, cfg: CompareConfig, out_dir: Path, progress: bool, *,
                       read_only: bool = False) -> TrainedClassifier:
    """The project classifier of the metrics, trained once per run folder and reused on resume; ``read_only``:
    another stage's, which must be there (a stage never writes into another's folder)."""
    classifier_dir = out_dir / "classifier"
    if (classifier_dir / "classifier.json").is_file():
        return TrainedClassifier.load(classifier_dir)
    if read_only:
        raise AudiospecError(f"{str(classifier_dir)!r} holds no classifier: run `audiospec compare` with this config "
                             f"into {str(out_dir)!r} first (it trains the classifier of the metrics)")
    classifier = train_classifier(data.patches, data.labels, config=cfg.classifier, device=default_device(),
                                  groups=[str(int(i)) for i in data.clip_index], progress=progress)
    classifier.model.to("cpu")  # trained on the GPU when there is one; embeddings are taken beside the samples
    classifier.save(classifier_dir)
    return classifier


def run_compare(config: CompareRunConfig, *, out_dir: Path, progress: bool = True) -> CompareResult:
    """Train / load one model per prior and seed, sample, evaluate, and write ``results.json`` + plots."""
    cfg = config.compare
    check_sample_rate(cfg.mel, config.data, section="compare")
    out_dir = Path(out_dir)
    split, fingerprint = stage_inputs(config, stage="compare", out_dir=out_dir, progress=progress,
                                      keys=REUSED_KEYS, ignore=RESUMABLE_KEYS)
    data, test = split.parts["train"], split.parts["test"]
    patches = data.patches  # [N, 1, M, T]: the training split; every quality metric compares with `test`
    shape = tuple(patches.shape[-2:])  # (M, T)
    check_training_data(cfg.train, patches)  # fails before any work on impossible settings
    record_inputs(config, split, fingerprint, out_dir)
    jobs = planned_jobs(cfg, split.parts, out_dir)
    train_jobs(jobs, progress=progress)  # every model first (already trained by `run` with workers > 1: loaded)
    write_json(out_dir / "convergence.json", [dataclasses.asdict(c) for c in convergence(jobs)])
    classifier = project_classifier(data, cfg, out_dir, progress)
    floors = quality_floors(data, test, classifier, cfg)
    rows: list[dict[str, Any]] = []
    orders: dict[str, OrderScores] = {}
    sensitivity_rows: list[SensitivityRow] = []
    listening: list[dict[str, Any]] = []
    baseline: dict[str, dict[str, Any]] = {}
    for spec in tqdm(cfg.priors, desc="compare", disable=not progress):
        prior, models, arm_rows = _train_arm(spec, cfg.seeds, data, test, classifier, cfg, out_dir, progress)
        rows += arm_rows + _extra_arms(spec, prior, models, data, test, classifier, cfg, out_dir, progress)
        noise = prior.sample((cfg.n_samples, 1, *shape), generator=torch.Generator().manual_seed(cfg.seeds[0]))
        baseline[prior.name] = evaluate_samples(noise, test.patches, classifier=classifier, real_labels=test.labels,
                                                train=patches)
        orders[prior.name] = prior_orders(prior, models, patches, cfg, out_dir, progress)
        sensitivity_rows += sensitivity(prior, models[0][1], models[0][0], patches, cfg)
        listening += _listen(models[0][1], prior, orders[prior.name], cfg, shape, data, out_dir, cfg.seeds[0])
    alpha, sweep = None, None
    if cfg.colour_sweep:
        sweep_orders, sweep_rows = dict(orders), list(rows)
        for spec in sweep_specs(alpha_hat(patches)) if cfg.colour_sweep_seeds else ():
            if spec.name not in sweep_orders:  # an extra trained arm of the dose-response, fewer seeds
                prior, models, arm_rows = _train_arm(spec, cfg.colour_sweep_seeds, data, test, classifier, cfg, out_dir,
                                                     progress, steps=(min(cfg.steps),))
                sweep_rows += arm_rows
                sweep_orders[prior.name] = prior_orders(prior, models, patches, dataclasses.replace(cfg, control=False),
                                                        out_dir, progress)
        alpha, sweep = colour_sweep(patches, cfg, sweep_orders, _few_step_quality(sweep_rows, min(cfg.steps)))
    result = dataclasses.replace(
        summarize(rows, orders, baseline, cfg, sensitivity_rows, floors), n_patches=int(patches.shape[0]),
        normalisation=Normalisation(data.mean_db, data.std_db), classifier=dataclasses.asdict(classifier.report),
        colour_sweep=sweep, alpha_hat=alpha, n_test_patches=int(test.patches.shape[0]), label=cfg.label)
    result = dataclasses.replace(result, plots=tuple(plot_compare(result, out_dir)))
    write_json(out_dir / "results.json", to_json(result))
    write_json(out_dir / "runs.json", rows)
    write_json(out_dir / "listening.json", {"sample_rate": cfg.mel.sample_rate, "files": listening})
    return result
