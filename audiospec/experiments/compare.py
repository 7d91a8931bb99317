"""Pink vs white vs data-matched noise priors for mel-spectrogram flow matching (DESIGN.md section 5).

For each prior and each seed, one model is trained on the same standardised log-mel
patches with the same compute; each is sampled at several step counts and scored with
offline metrics against the real patches. While sampling, the model's data prediction
x̂0(t) is recorded at every step to measure when each cepstral / RAPSD band is decided
(the empirical autoregression order), side by side with the analytic order that the data
and prior spectra predict. Results are means with 95% Student-t intervals over seeds;
prior-vs-white differences are paired by seed.
"""

from __future__ import annotations

import dataclasses
from dataclasses import dataclass, field
from pathlib import Path
from typing import Any, Literal

import torch
from tqdm.auto import tqdm

from audiospec.atomic import write_json
from audiospec.config import save_config
from audiospec.data import DataConfig, load_corpus
from audiospec.experiments.listen import write_patch_audio
from audiospec.diffusion.checkpoint import load_checkpoint
from audiospec.diffusion.config import TrainConfig, check_training_data
from audiospec.diffusion.priors import NoisePrior, PriorConfig, make_prior
from audiospec.diffusion.samplers import sample
from audiospec.diffusion.training import train
from audiospec.errors import AudiospecError
from audiospec.experiments.patches import PatchSet, corpus_patches
from audiospec.functional.autoregression import autoregression_order
from audiospec.functional.cepstrum import cepstral_power, expected_cepstral_power
from audiospec.functional.noise import estimate_spectrum
from audiospec.functional.rapsd import ring_weights
from audiospec.functional.stats import mean_confidence_interval
from audiospec.functional.trajectory import band_log_power, commit_times, empirical_autoregression_order
from audiospec.metrics import ClassifierConfig, TrainedClassifier, evaluate_samples, summarize_runs, train_classifier
from audiospec.report.plots import plot_compare
from audiospec.transforms import MelConfig

__all__ = ["CompareConfig", "CompareRunConfig", "run_compare", "PRIOR_NAMES"]

PRIOR_NAMES: tuple[str, ...] = ("white", "pink", "matched")
VIEWS: tuple[str, ...] = ("cepstrum", "rapsd")
HEADLINE_METRICS: tuple[str, ...] = ("fd_classifier", "rapsd_error", "cepstrum_error", "lsd", "mcd_nn_mean")


@dataclass(frozen=True)
class CompareConfig:
    """Settings of :func:`run_compare` (YAML section ``compare``); ``train`` is the per-model budget."""

    mel: MelConfig = field(default_factory=MelConfig)
    patch_frames: int = 128
    priors: tuple[str, ...] = PRIOR_NAMES
    pink_beta: float = 1.0
    seeds: tuple[int, ...] = (0, 1, 2)
    steps: tuple[int, ...] = (4, 8, 16, 32, 64)
    sampler: Literal["euler", "heun"] = "euler"
    n_samples: int = 64
    trajectory_steps: int = 32
    trajectory_samples: int = 16
    n_bands: int = 8
    commit_delta: float = 0.1
    listen_samples: int = 2
    griffin_lim_iters: int = 32
    classifier: ClassifierConfig = field(default_factory=ClassifierConfig)
    train: TrainConfig = field(default_factory=TrainConfig)

    def __post_init__(self) -> None:
        if self.train.objective != "flow_matching":
            raise AudiospecError(
                f"compare samples with ODE samplers and needs train.objective='flow_matching', got {self.train.objective!r}"
            )
        unknown = sorted(set(self.priors) - set(PRIOR_NAMES))
        if unknown or not self.priors:
            raise AudiospecError(f"priors must be a non-empty subset of {PRIOR_NAMES}, got {list(self.priors)}")
        if "white" not in self.priors:
            raise AudiospecError("priors must include 'white': every other prior is compared against it")
        if not self.seeds or len(set(self.seeds)) != len(self.seeds):
            raise AudiospecError(f"seeds must be distinct and non-empty, got {list(self.seeds)}")
        if not self.steps or min(self.steps) < 1:
            raise AudiospecError(f"steps must be positive step counts, got {list(self.steps)}")
        if self.sampler not in ("euler", "heun"):
            raise AudiospecError(f"sampler must be 'euler' or 'heun', got {self.sampler!r}")
        if self.n_samples < 2 or self.trajectory_samples < 1 or self.trajectory_steps < 2:
            raise AudiospecError(
                f"need n_samples >= 2, trajectory_samples >= 1, trajectory_steps >= 2; got {self.n_samples}, "
                f"{self.trajectory_samples}, {self.trajectory_steps}"
            )


@dataclass(frozen=True)
class CompareRunConfig:
    """A whole ``audiospec compare`` run: YAML sections ``data`` and ``compare``."""

    data: DataConfig
    compare: CompareConfig = field(default_factory=CompareConfig)


def _prior(name: str, config: CompareConfig, patches: torch.Tensor) -> NoisePrior:
    kind = {"white": "white", "pink": "colored", "matched": "matched"}[name]
    return make_prior(PriorConfig(kind=kind, beta=config.pink_beta), patches=patches)


def _analytic_scores(patches: torch.Tensor, prior: NoisePrior) -> dict[str, float]:
    """The autoregression order the data and prior spectra predict, in the RAPSD and cepstral views."""
    M, T = patches.shape[-2:]
    data2d = estimate_spectrum(patches[:, 0].double(), ndim=2)
    noise2d = prior.spectrum((M, T))
    rings, freqs = ring_weights(M, T, mode="normalized", ring_step="coarse")
    quefrency = torch.arange(M, dtype=torch.float64) / (2.0 * M)
    return {
        "rapsd": autoregression_order(freqs, data2d.reshape(-1) @ rings, noise_power=noise2d.reshape(-1) @ rings),
        "cepstrum": autoregression_order(quefrency, cepstral_power(patches[:, 0].double()).mean(0),
                                         noise_power=expected_cepstral_power(noise2d, (M, T))),
    }


def _trajectory(model: Any, prior: NoisePrior, config: CompareConfig, shape: tuple[int, ...],
                generator: torch.Generator) -> dict[str, Any]:
    """Sample with a callback recording x̂0(t); commit times and empirical order per spectral view."""
    snapshots: list[torch.Tensor] = []
    times: list[float] = []

    def record(step: int, t: float, x_t: torch.Tensor, x0_hat: torch.Tensor) -> None:
        snapshots.append(x0_hat[:, 0].detach().double().cpu())
        times.append(float(t))

    final = sample(model, prior=prior, n=config.trajectory_samples, steps=config.trajectory_steps,
                         sampler=config.sampler, shape=shape, generator=generator, callback=record)
    snapshots.append(final[:, 0].double().cpu())
    times.append(0.0)
    trajectory = torch.stack(snapshots)  # [S + 1, n, M, T]
    time_grid = torch.tensor(times, dtype=torch.float64)
    out: dict[str, Any] = {"t": times}
    for view in VIEWS:
        freqs, log_power = band_log_power(trajectory, view=view, n_bands=config.n_bands)  # [S + 1, n, B]
        commit = commit_times(log_power, time_grid, delta=config.commit_delta)  # [n, B]
        out[view] = {
            "freqs": freqs.tolist(),
            "score": empirical_autoregression_order(freqs, commit),
            "commit_t": commit.mean(0).tolist(),
            "band_log_power": log_power.mean(1).tolist(),  # [S + 1, B] for the heat map
        }
    return out


def _paired_difference(rows: list[dict[str, Any]], prior: str, steps: int, metric: str) -> dict[str, float] | None:
    """Mean and CI over seeds of (metric under ``prior``) - (metric under white), paired by seed."""
    by_seed = {(r["prior"], r["seed"]): r for r in rows if r["steps"] == steps}
    diffs = [by_seed[(prior, s)][metric] - by_seed[("white", s)][metric]
             for (p, s) in by_seed if p == prior and ("white", s) in by_seed
             and isinstance(by_seed[(prior, s)].get(metric), float) and isinstance(by_seed[("white", s)].get(metric), float)]
    if not diffs:
        return None
    mean, low, high = mean_confidence_interval(diffs)
    return {"mean": mean, "low": low, "high": high, "n": len(diffs)}


def _listen(model: Any, prior: NoisePrior, name: str, config: CompareConfig, shape: tuple[int, ...],
            data: PatchSet, out_dir: Path, generator: torch.Generator) -> list[dict[str, Any]]:
    """A few generated patches as WAV + spectrogram PNG (Griffin-Lim) for the listening section."""
    steps = max(config.steps)
    patches = sample(model, prior=prior, n=config.listen_samples, steps=steps, sampler=config.sampler,
                     shape=shape, generator=generator)
    files = write_patch_audio(data.to_db(patches[:, 0]), mel=config.mel, out_dir=out_dir / "samples" / name,
                              n_iter=config.griffin_lim_iters, title=f"{name} prior, {steps} steps")
    return [{"clip": i, "label": "generated", "domain": "generated", "prior": name, "level": f"{steps} steps",
             "wav": f"samples/{name}/{wav}", "png": f"samples/{name}/{png}"} for i, (wav, png) in enumerate(files)]


def run_compare(config: CompareRunConfig, *, out_dir: Path, progress: bool = True) -> dict[str, Any]:
    """Train / load one model per prior and seed, sample, evaluate, and write ``results.json`` + plots."""
    cfg = config.compare
    if cfg.mel.sample_rate != config.data.sample_rate:
        raise AudiospecError(
            f"compare.mel.sample_rate={cfg.mel.sample_rate} differs from data.sample_rate={config.data.sample_rate}"
        )
    out_dir = Path(out_dir)
    save_config(config, out_dir / "config.yaml")
    data = corpus_patches(load_corpus(config.data, progress=progress), mel=cfg.mel, patch_frames=cfg.patch_frames)
    patches, labels, clip_index = data.patches, data.labels, data.clip_index  # [N, 1, M, T]
    shape = tuple(patches.shape[-2:])  # (M, T)
    check_training_data(cfg.train, patches)  # fails before any work on impossible settings

    classifier_dir = out_dir / "classifier"
    if (classifier_dir / "classifier.json").is_file():
        classifier = TrainedClassifier.load(classifier_dir)
    else:
        classifier = train_classifier(patches, labels, config=cfg.classifier,
                                      groups=[str(int(i)) for i in clip_index], progress=progress)
        classifier.save(classifier_dir)

    rows: list[dict[str, Any]] = []
    trajectories: dict[str, list[dict[str, Any]]] = {}
    analytic: dict[str, dict[str, float]] = {}
    listening: list[dict[str, Any]] = []
    baseline: dict[str, dict[str, Any]] = {}
    jobs = [(name, seed) for name in cfg.priors for seed in cfg.seeds]
    for name, seed in tqdm(jobs, desc="compare", disable=not progress):
        prior = _prior(name, cfg, patches)
        if name not in baseline:  # the prior's own samples: the score of a model that learned nothing
            analytic[name] = _analytic_scores(patches, prior)
            noise = prior.sample((cfg.n_samples, 1, *shape), generator=torch.Generator().manual_seed(seed))
            baseline[name] = evaluate_samples(noise, patches, classifier=classifier, real_labels=labels)
        train_cfg = dataclasses.replace(cfg.train, seed=seed)
        trained = train(train_cfg, patches, prior=prior, out_dir=out_dir / "models" / name / f"seed{seed}",
                        progress=progress)
        _, model, _, _ = load_checkpoint(trained.checkpoint)  # sample with the EMA weights
        for steps in cfg.steps:
            generator = torch.Generator().manual_seed(10_000 * seed + steps)
            generated = sample(model, prior=prior, n=cfg.n_samples, steps=steps, sampler=cfg.sampler,
                                     shape=shape, generator=generator)
            metrics = evaluate_samples(generated, patches, classifier=classifier, real_labels=labels)
            rows.append({"prior": name, "seed": seed, "steps": steps, **metrics})
        trajectories.setdefault(name, []).append(
            _trajectory(model, prior, cfg, shape, torch.Generator().manual_seed(seed))
        )
        if seed == cfg.seeds[0]:
            listening += _listen(model, prior, name, cfg, shape, data, out_dir, torch.Generator().manual_seed(seed))
    results = summarize(rows, trajectories, analytic, baseline, cfg)
    results["normalisation"] = {"mean_db": data.mean_db, "std_db": data.std_db}
    results["n_patches"] = int(patches.shape[0])
    results["classifier"] = dataclasses.asdict(classifier.report)
    results["plots"] = plot_compare(results, out_dir)
    write_json(out_dir / "results.json", results)
    write_json(out_dir / "runs.json", rows)
    write_json(out_dir / "listening.json", {"sample_rate": cfg.mel.sample_rate, "files": listening})
    return results


def summarize(rows: list[dict[str, Any]], trajectories: dict[str, list[dict[str, Any]]],
              analytic: dict[str, dict[str, float]], baseline: dict[str, dict[str, Any]],
              cfg: CompareConfig) -> dict[str, Any]:
    """Means and 95% CIs over seeds, paired differences to white, AR scores, and the answers in words."""
    table: dict[str, dict[str, Any]] = {}
    for name in cfg.priors:
        table[name] = {str(steps): summarize_runs([r for r in rows if r["prior"] == name and r["steps"] == steps])
                       for steps in cfg.steps}
    differences = {
        name: {str(steps): {m: _paired_difference(rows, name, steps, m) for m in HEADLINE_METRICS}
               for steps in cfg.steps}
        for name in cfg.priors if name != "white"
    }
    order: dict[str, Any] = {}
    for name, runs in trajectories.items():
        order[name] = {"analytic": analytic[name]}
        for view in VIEWS:
            mean, low, high = mean_confidence_interval([run[view]["score"] for run in runs])
            order[name][view] = {"mean": mean, "low": low, "high": high, "n": len(runs)}
    return {
        "priors": list(cfg.priors), "seeds": list(cfg.seeds), "steps": list(cfg.steps), "sampler": cfg.sampler,
        "metrics": table, "prior_baseline": baseline, "difference_to_white": differences,
        "autoregression_order": order, "trajectories": trajectories,
        "answers": answers(table, differences, order, baseline, cfg),
    }


def _ci_text(stat: dict[str, float] | None) -> str:
    if stat is None:
        return "n/a"
    if stat["low"] != stat["low"]:  # NaN: a single seed
        return f"{stat['mean']:+.3f} (one seed, no interval)"
    return f"{stat['mean']:+.3f} [95% CI {stat['low']:+.3f}, {stat['high']:+.3f}]"


def answers(table: dict[str, Any], differences: dict[str, Any], order: dict[str, Any],
            baseline: dict[str, dict[str, Any]], cfg: CompareConfig) -> dict[str, list[str]]:
    """DESIGN.md questions 2 and 3 answered from the measured numbers (no verdict is hard-coded)."""
    learned = []
    most = str(max(cfg.steps))
    for name in cfg.priors:
        generated = table[name][most].get("rapsd_error")
        prior_error = baseline[name].get("rapsd_error")
        if generated is None or prior_error is None:
            continue
        closer = "closer to" if generated["mean"] < prior_error else "NOT closer to"
        learned.append(f"{name} prior: samples at {most} steps have mean mel-RAPSD error {_ci_text(generated)} "
                       f"against the data, the prior's own noise {prior_error:.3f}: the model's output is "
                       f"{closer} the data's spectrum than its prior is.")
    q2 = []
    for name, scores in order.items():
        q2.append(
            f"{name} prior: empirical autoregression order {_ci_text(scores['cepstrum'])} (cepstral bands), "
            f"{_ci_text(scores['rapsd'])} (RAPSD bands); the data and prior spectra predict "
            f"{scores['analytic']['cepstrum']:+.2f} and {scores['analytic']['rapsd']:+.2f}."
        )
    q3 = []
    for name, per_steps in differences.items():
        for steps in cfg.steps:
            diff = per_steps[str(steps)]["fd_classifier"]
            if diff is None:
                continue
            if diff["low"] == diff["low"] and diff["high"] < 0:
                verdict = "better (lower) than white"
            elif diff["low"] == diff["low"] and diff["low"] > 0:
                verdict = "worse (higher) than white"
            else:
                verdict = "not distinguishable from white at this number of seeds"
            q3.append(f"{name} vs white at {steps} steps: classifier Fréchet distance difference "
                      f"{_ci_text(diff)}: {verdict}.")
    return {"samples_vs_prior": learned, "question_2_cepstral_autoregression": q2, "question_3_pink_vs_white": q3}
