"""Fair references and tests with demonstrated power (the stage ``fair``; issue 25).

Is "ordering is not autoregression: diffusion refines every band at every step" true, and does the band swap's
coupling depend on the prior? The baselines stage's cepstral autoregression could not say: its uniform grid ran
across its stage edges, every band started from unit-variance noise, Euler collapsed each band's variance, and
nobody measured how much each band changes at each step. This stage trains, on the compare section's split,
seeds and budget (:mod:`audiospec.experiments.fair_arms`):

- flow models with each prior (white, pink, the Fourier ``matched`` and the DCT ``matched_dct``, the flipped
  power law beta = alpha_hat + 1) and a control network per prior on band-independent Gaussian fields;
- the band windows at each softness (0: the fair cepstral AR, noise scaled to each 2-D DCT coefficient, edges on
  the grid and in the loss, Heun; 1: rectified flow in those whitened coordinates, the arm "band-whitened flow")
  and blurring diffusion;

and samples every arm at one NFE, the fair AR's. It reports (:class:`~audiospec.experiments.results_fair.
FairResult`): KID per arm beside the Gaussian baseline and the arm's exact-Gaussian calibration over several
draws (:mod:`audiospec.experiments.fair_quality`); the band × step shares of every arm and of its exact network
(the direct measure of "refines every band at every step"; the exact fair AR's are 1 in its own stage and 0
elsewhere) with their stage concentration and, for the softness sweep, KID and content order as a dose–response;
the band swap with its ceiling, positive and negative controls, directional statistic and equal-commit swaps, the
priors compared only through one pre-specified family (:mod:`audiospec.experiments.fair_swap`); likelihoods with
a bootstrap clustered by recording, the floor pixels, a dequantised rerun from t_min and the integration check
on every seed (:mod:`audiospec.experiments.fair_likelihood`); and every family's smallest attainable p. The
primary test (pre-specified): KID of the fair cepstral AR minus the white flow model's, paired by seed.
"""

from __future__ import annotations

from dataclasses import dataclass, field
from typing import Any

import torch
from tqdm.auto import tqdm

from audiospec.data import DataConfig, check_sample_rate
from audiospec.data.split import recording_groups
from audiospec.diffusion.parallel import TrainJob
from audiospec.diffusion.priors import REFERENCE_PRIOR
from audiospec.diffusion.solver import solve
from audiospec.errors import AudiospecError
from audiospec.experiments.context import RunContext
from audiospec.experiments.fair_arms import (
    FAIR_AR,
    Arm,
    FairConfig,
    arm_job,
    arm_process,
    control_job,
    exact_network,
    fair_arms,
    sampling_steps,
)
from audiospec.experiments.fair_likelihood import floor_mask, likelihood_arms
from audiospec.experiments.fair_quality import BandSteps, arm_rows, band_steps, calibrate
from audiospec.experiments.fair_swap import (
    diffusion_grid,
    edge_step,
    equal_commit_step,
    equal_t_step,
    positive_detected,
    prior_tests,
    swap_family,
    swap_row,
)
from audiospec.experiments.protocol import RESUMABLE_KEYS, TRAINING_KEYS, CompareConfig
from audiospec.experiments.results_fair import ArmQuality, FairResult, FamilyNote, SwapArm
from audiospec.experiments.rows import (
    PRIMARY_METRIC,
    MetricRow,
    interval_over_seeds,
    paired_differences,
    paired_family,
    write_rows,
)
from audiospec.experiments.stage import Stage, register
from audiospec.functional.cepstrum import quefrency_axis, quefrency_bands
from audiospec.functional.stats import smallest_sign_flip_p
from audiospec.measures.statistics import ALPHA, Difference, Family
from audiospec.measures.swap_power import swap_ceiling

__all__ = ["STAGE", "FairConfig", "FairRunConfig", "planned_jobs", "run_fair"]


@dataclass(frozen=True)
class FairRunConfig:
    """``audiospec fair``: YAML sections ``data``, ``compare`` (split, seeds, budget, bands) and ``fair``."""

    data: DataConfig
    compare: CompareConfig = field(default_factory=CompareConfig)
    fair: FairConfig = field(default_factory=FairConfig)

    def __post_init__(self) -> None:
        cfg, fair = self.compare, self.fair
        if not set(fair.seeds) <= set(cfg.seeds):
            raise AudiospecError(f"fair.seeds {list(fair.seeds)} must be among compare.seeds {list(cfg.seeds)}")
        edges = [start for start, _ in quefrency_bands(cfg.mel.n_mels, n_bands=cfg.order.n_bands)[1:]]
        if fair.k_cut not in edges:
            raise AudiospecError(f"fair.k_cut={fair.k_cut} splits a quefrency band; use a band edge: one of {edges} "
                                 f"for {cfg.mel.n_mels} mel bins and compare.order.n_bands={cfg.order.n_bands}")


def _nfe(cfg: CompareConfig, fair: FairConfig) -> int:
    """Network evaluations per sample: 2 (Heun) × steps per band × the K bands of the fair cepstral AR."""
    return 2 * fair.steps_per_band * len(quefrency_bands(cfg.mel.n_mels, n_bands=cfg.order.n_bands))


def _seeds(config: FairRunConfig) -> tuple[int, ...]:
    return config.fair.seeds or config.compare.seeds


def _controls(arms: list[Arm], fair: FairConfig) -> list[Arm]:
    names = {spec.name for spec in fair.priors}
    return [arm for arm in arms if fair.controls and arm.kind == "diffusion" and arm.name in names]


def planned_jobs(config: FairRunConfig, parts: dict[str, Any], store: Any) -> list[TrainJob]:
    """Every model the stage trains: each arm and seed, then the control networks."""
    data, validation = parts["train"].patches, parts["validation"].patches
    arms, seeds = fair_arms(config.compare, config.fair, data), _seeds(config)
    return ([arm_job(store, arm, seed, data, validation) for arm in arms for seed in seeds]
            + [control_job(store, arm, seeds[0], data) for arm in _controls(arms, config.fair)])


def _jobs(config: FairRunConfig, context: RunContext) -> list[TrainJob]:
    split, _ = context.inputs("fair", config, keys=TRAINING_KEYS, ignore=RESUMABLE_KEYS)
    return planned_jobs(config, split.parts, context.models())


def _arm_quality(arm: Arm, models: list[tuple[int, Any]], config: FairRunConfig, context: RunContext,
                 classifier: Any, gaussian_kid: float) -> tuple[ArmQuality, list[MetricRow]]:
    """Rows, calibration and band-step shares of one arm (:mod:`audiospec.experiments.fair_quality`)."""
    cfg, fair = config.compare, config.fair
    data, test = context.split.parts["train"], context.split.parts["test"]
    shape, nfe = tuple(data.patches.shape[-2:]), _nfe(cfg, fair)
    process = arm_process(arm, cfg, data.patches)
    steps = sampling_steps(process, nfe)
    rows, measured = [], BandSteps()
    for seed, model in models:
        rows.append(arm_rows(arm.name, seed, lambda n, g: solve(process, model, n=n, shape=shape, steps=steps,
                                                                generator=g), nfe, test, classifier, data.patches,
                             cfg.n_samples))
        measured.add(*band_steps(process, model, steps=steps, shape=shape, cfg=cfg, n=fair.trajectory_samples,
                                 seed=seed, with_order=arm.kind != "diffusion" or arm.name == REFERENCE_PRIOR))
    exact = exact_network(arm, process, data.patches)
    exact_shares, exact_concentration, _ = band_steps(process, exact, steps=steps, shape=shape, cfg=cfg,
                                                      n=fair.trajectory_samples, seed=models[0][0], with_order=False)
    kids = [row.value(PRIMARY_METRIC) for row in rows]
    return ArmQuality(
        key=arm.key, name=arm.name, kind=arm.kind, softness=arm.softness, steps=steps, nfe=nfe,
        kid=interval_over_seeds(kids, bounds=(None, None)),
        kid_minus_gaussian=interval_over_seeds([k - gaussian_kid for k in kids], bounds=(None, None)),
        calibration=calibrate(arm, process, steps, data.patches, test, classifier, fair, cfg.n_samples),
        concentration=measured.concentration(), order=measured.order(), shares=measured.mean_shares(),
        exact_shares=tuple(tuple(r) for r in exact_shares.tolist()), exact_concentration=exact_concentration,
        concentration_seeds=tuple(measured.concentrations)), rows


def _swaps(arms: list[Arm], networks: dict[str, list[tuple[int, Any]]], controls: dict[str, Any],
           config: FairRunConfig, data: torch.Tensor) -> list[SwapArm]:
    """The positive control, every prior at equal t and equal commit, and the negative controls."""
    cfg, fair = config.compare, config.fair
    shape, bands = tuple(data.shape[-2:]), quefrency_bands(data.shape[-2], n_bands=cfg.order.n_bands)
    common = dict(fair=fair, shape=shape, bands=bands)
    ar = next(arm for arm in arms if arm.name == FAIR_AR)
    process = arm_process(ar, cfg, data)
    trained, exacts = swap_family(process, networks[ar.key], exact_network(ar, process, data),
                                  times=process.time_grid(fair.steps_per_band * len(bands)),
                                  indices=[edge_step(process, fair.k_cut, fair.steps_per_band)], **common)
    rows = [swap_row(FAIR_AR, "positive control", "stage edge", trained, exacts)]
    for arm in (a for a in arms if a.kind == "diffusion"):
        process = arm_process(arm, cfg, data)
        exact = exact_network(arm, process, data)
        indices = [equal_t_step(fair), equal_commit_step(process, exact, fair, shape)]
        families = [("prior", networks[arm.key])]
        if arm.key in controls:
            families.append(("negative control", [(_seeds(config)[0], controls[arm.key])]))
        for role, models in families:
            trained, exacts = swap_family(process, models, exact, times=diffusion_grid(fair), indices=indices, **common)
            name = arm.name if role == "prior" else f"control ({arm.name})"
            rows += [swap_row(name, role, when, trained, exacts, j) for j, when in enumerate(("equal t", "equal commit"))]
    return rows


def _concentration_test(quality: list[ArmQuality]) -> tuple[Difference | None, Family]:
    """Conclusion 1's test: the fair cepstral AR's stage concentration minus the white flow model's, by seed."""
    by_name = {arm.name: arm for arm in quality}
    ar, white = by_name.get(FAIR_AR), by_name.get(REFERENCE_PRIOR)
    if ar is None or white is None:
        return None, Family(size=0)
    tests, family = paired_family({FAIR_AR: [a - w for a, w in zip(ar.concentration_seeds, white.concentration_seeds)]})
    return tests.get(FAIR_AR), family


def _recordings(context: RunContext) -> list[str]:
    """The recording of every test patch (the likelihood bootstrap's clusters)."""
    corpus = context.corpus
    key_of = dict(zip(corpus.sources, recording_groups(corpus).keys))
    sources = context.split.sources["test"]
    return [key_of[sources[i]] for i in context.split.parts["test"].clip_index.tolist()]


def _families(n: int, sizes: dict[str, int]) -> tuple[FamilyNote, ...]:
    notes = []
    for name, size in sizes.items():
        smallest = smallest_sign_flip_p(n, family_size=max(size, 1))
        notes.append(FamilyNote(name=name, size=size, n=n, smallest_p=smallest, can_decide=smallest < ALPHA))
    return tuple(notes)


def _networks(arms: list[Arm], config: FairRunConfig, context: RunContext) -> tuple[dict, dict]:
    """Every arm's EMA network per seed, and the control networks by arm key."""
    data, store, seeds = context.split.parts["train"].patches, context.models(), _seeds(config)
    networks = {arm.key: [(seed, store.network(arm_job(store, arm, seed, data, None))) for seed in seeds]
                for arm in arms}
    controls = {arm.key: store.network(control_job(store, arm, seeds[0], data))
                for arm in _controls(arms, config.fair)}
    return networks, controls


def run_fair(config: FairRunConfig, context: RunContext) -> FairResult:
    """Train every arm, then measure quality, band steps, swaps and likelihoods (module doc)."""
    cfg, fair = config.compare, config.fair
    check_sample_rate(cfg.mel, config.data, section="compare")
    seeds = _seeds(config)
    split, fingerprint = context.inputs("fair", config, keys=TRAINING_KEYS, ignore=RESUMABLE_KEYS)
    context.record(config, split, fingerprint)
    data, test = split.parts["train"], split.parts["test"]
    arms = fair_arms(cfg, fair, data.patches)
    context.models().train(planned_jobs(config, split.parts, context.models()))
    classifier = context.classifier(context.out_dir)
    floors = context.floors(classifier)
    gaussian_kid = float(floors["gaussian, train spectrum"][PRIMARY_METRIC])
    networks, controls = _networks(arms, config, context)
    quality, rows = [], []
    for arm in tqdm(arms, desc="fair", disable=not context.progress):
        measured, arm_rows_ = _arm_quality(arm, networks[arm.key], config, context, classifier, gaussian_kid)
        quality.append(measured)
        rows += arm_rows_
    write_rows(context.out_dir / "runs.json", rows)
    nfe = _nfe(cfg, fair)
    primary = paired_differences(rows, [(FAIR_AR, REFERENCE_PRIOR)], [nfe], [(FAIR_AR, nfe)])
    concentration, concentration_family = _concentration_test(quality)
    swaps = _swaps(arms, networks, controls, config, data.patches)
    tests, swap_family_ = prior_tests(swaps)
    diffusion = [(arm, networks[arm.key]) for arm in arms if arm.kind == "diffusion"]
    recordings = _recordings(context)
    likelihood, likelihood_family = likelihood_arms(diffusion, test, recordings, fair, data.patches,
                                                    top_db=cfg.mel.top_db)
    mask = floor_mask(test, top_db=cfg.mel.top_db)
    ceiling, alpha = swap_ceiling(data.patches, split.parts["validation"].patches, test.patches, k_cut=fair.k_cut)
    bands = quefrency_bands(cfg.mel.n_mels, n_bands=cfg.order.n_bands)
    q = quefrency_axis(cfg.mel.n_mels)
    return FairResult(
        label=fair.label, seeds=tuple(seeds), nfe=nfe, steps_per_band=fair.steps_per_band, n_stages=len(bands),
        band_centres=tuple(float(q[a:b].mean()) for a, b in bands), arms=tuple(quality),
        primary=primary.get(FAIR_AR, {}).get(nfe, {}).get(PRIMARY_METRIC), floors=floors, gaussian_kid=gaussian_kid,
        k_cut=fair.k_cut, ceiling=ceiling, ceiling_alpha=alpha, commit_level=fair.commit_level, swap=tuple(swaps),
        prior_tests=tests, positive_detected=positive_detected(swaps), likelihood=tuple(likelihood),
        floor_pixels=int(mask.sum()), test_pixels=int(mask.numel()), n_recordings=len(set(recordings)),
        families=_families(len(seeds), {"primary: fair cepstral AR vs white, KID": 1,
                                        "band steps: fair cepstral AR vs white, stage concentration":
                                            concentration_family.size,
                                        "swap: priors vs white, excess at equal commit": swap_family_.size,
                                        "likelihood: priors vs white": likelihood_family.size}),
        train_steps=cfg.train.steps, concentration_test=concentration)


STAGE = register(Stage(
    name="fair", config=FairRunConfig, result=FairResult, output="fair.json", run=run_fair, order=60,
    summary="Fair references and tests with demonstrated power (issue 25): a fair cepstral AR, a softness sweep to "
            "diffusion and blurring diffusion at equal NFE, each with its exact-Gaussian calibration; band-step "
            "shares; the band swap with its ceiling and controls; likelihoods clustered by recording.",
    examples="  audiospec fair --config recipes/mini/conf/fair.yaml --out runs/mini-fair\n"
             "  audiospec fair --config recipes/mini/conf/fair-preview.yaml --out runs/mini-fair-preview",
    jobs=_jobs))
