"""Beyond correlation: a band-swap intervention and likelihoods per prior (the stage ``probe``; issue 14).

Runs on the models of a finished ``audiospec compare`` stage, read from
``<compare_dir>/models/<prior>/seed<seed>`` (never trained or written there), with the same
split: both are checked against the compare stage's fingerprint (its settings, clips and split;
:mod:`audiospec.experiments.fingerprint`) before anything is written. The test split supplies
every likelihood; the training split gives only what the comparison already took from it (the
matched prior, the data spectrum of the Gaussian baselines, and the models themselves).

1. **Band swap** (:mod:`audiospec.measures.band_swap`): per prior and seed, ``n_pairs``
   trajectory pairs on ``swap_steps`` Euler steps; at each of ``swap_times`` the low
   quefrencies (DCT coefficients < ``k_cut`` along mel) are swapped and sampling finishes.
   The headline is the donor share of the bands above ``k_cut`` (content that was *not*
   swapped): how far fine content follows the coarse content it is generated after. Its
   calibration is the exact linear-Gaussian model of the same prior and data spectrum from
   the same initial noise, whose shares are only the leakage of its flow map between DCT
   bands; the *excess* over it, paired per trajectory pair, is what a trained model adds.
2. **Likelihood** (:mod:`audiospec.measures.likelihood`): bits per dimension of
   ``likelihood_patches`` test patches (model space: centred, scaled log-mel) through the
   probability-flow ODE (RK4, ``likelihood_steps`` steps, Hutchinson with ``n_probes``
   Rademacher probes). Beside it: the stationary Gaussian with the training split's
   spectrum in closed form (the second-order baseline); the calibration, i.e. the same ODE
   pipeline on the exact Gaussian field against that closed form; and the integration check,
   the first seed's result at half the steps.

Statistics, as in ``audiospec compare``: the seed is the unit of replication. Each test has
an exact sign-flip p-value over per-seed means, Holm-adjusted within its family, and an
interval at the family's Bonferroni level 1 − 0.05 / m. Families: the band swap's primary
test (one per prior, at the pre-specified ``primary_time``), its secondary tests (the other
swap times) and the likelihood differences to white. Swap intervals: two-level bootstrap
(seeds, then the pairs of each seed: nested, every seed draws its own noise). Likelihood
intervals: crossed bootstrap (seeds and the one set of test patches every seed sees). A
difference is *reliable* when Holm rejects and the interval excludes 0, which needs at
least 2 seeds (7 for a family of 3 at 2 / 2^n); a likelihood difference whose calibration or
integration check is at least half of it gets no verdict.

Two share estimators: the headline (table, answers) pools the kept bands per pair and
averages the pairs' ratios, so each pair weighs the same; the per-band figure takes the ratio
of sums over pairs per band (:meth:`BandSwap.share`).
"""

from __future__ import annotations

import dataclasses
import math
from dataclasses import dataclass, field
from pathlib import Path
from typing import Any

import torch
from tqdm.auto import tqdm

from audiospec.data import DataConfig, check_sample_rate
from audiospec.diffusion.priors import REFERENCE_PRIOR, NoisePrior, make_prior
from audiospec.errors import AudiospecError
from audiospec.experiments.context import RunContext
from audiospec.experiments.protocol import MODEL_KEYS, CompareConfig
from audiospec.experiments.results import Interval, LikelihoodRow, ProbeResult, SwapRow
from audiospec.experiments.stage import Stage, register
from audiospec.functional.cepstrum import quefrency_bands
from audiospec.functional.stats import crossed_bootstrap, hierarchical_bootstrap, sign_flip_pvalue
from audiospec.measures.band_swap import BandSwap, band_swap
from audiospec.measures.gaussian import LinearGaussianVelocity, data_spectrum
from audiospec.measures.likelihood import gaussian_log_likelihood, ode_log_likelihood
from audiospec.measures.statistics import Family, decide, holm_family

N_BOOTSTRAP = 10_000  # replicates per interval: tails of a 99.4% interval need thousands

__all__ = ["STAGE", "ProbeConfig", "ProbeRunConfig", "run_probe"]


@dataclass(frozen=True)
class ProbeConfig:
    """Settings of the stage ``probe`` (YAML section ``probe``); ``seeds`` empty = the compare section's."""

    seeds: tuple[int, ...] = ()
    n_pairs: int = 16
    swap_steps: int = 16
    swap_times: tuple[float, ...] = (0.75, 0.5, 0.25)
    primary_time: float = 0.5  # the pre-specified swap time of the primary test (one per prior)
    k_cut: int = 5  # a band edge: DCT coefficients 0-4 of 64 mel bins (8 bands), the coarse envelope
    n_bands: int = 8
    likelihood_patches: int = 64
    likelihood_steps: int = 12
    n_probes: int = 1
    batch_size: int = 32
    compare_dir: str = ""  # the compare stage's folder (its models/); "" = the folder `compare` beside --out

    def __post_init__(self) -> None:
        if len(set(self.seeds)) != len(self.seeds):
            raise AudiospecError(f"probe.seeds must be distinct, got {list(self.seeds)}")
        for name in ("n_pairs", "swap_steps", "likelihood_patches", "likelihood_steps", "n_probes", "batch_size"):
            if getattr(self, name) < 1:
                raise AudiospecError(f"probe.{name} must be a positive integer, got {getattr(self, name)}")
        if self.likelihood_steps < 2:
            raise AudiospecError(f"probe.likelihood_steps must be >= 2 (the check runs half of them), "
                                 f"got {self.likelihood_steps}")
        on_grid = [t for t in self.swap_times if 0 < round(t * self.swap_steps) < self.swap_steps
                   and abs(round(t * self.swap_steps) - t * self.swap_steps) < 1e-9]
        if len(set(self.swap_times)) != len(self.swap_times) or self.primary_time not in self.swap_times:
            raise AudiospecError(f"probe.swap_times {list(self.swap_times)} must be distinct and include "
                                 f"probe.primary_time={self.primary_time}")
        if not self.swap_times or on_grid != list(self.swap_times):
            raise AudiospecError(f"probe.swap_times {list(self.swap_times)} must be non-empty multiples of "
                                 f"1/{self.swap_steps} (probe.swap_steps) strictly between 0 and 1")


@dataclass(frozen=True)
class ProbeRunConfig:
    """``audiospec probe``: YAML sections ``data``, ``compare`` (the models and split) and ``probe``."""

    data: DataConfig
    compare: CompareConfig = field(default_factory=CompareConfig)
    probe: ProbeConfig = field(default_factory=ProbeConfig)

    def __post_init__(self) -> None:
        n_mels, probe = self.compare.mel.n_mels, self.probe
        edges = [start for start, _ in quefrency_bands(n_mels, n_bands=probe.n_bands)[1:]]
        if probe.k_cut not in edges:  # checked here, before any training, as well as by band_swap
            raise AudiospecError(f"probe.k_cut={probe.k_cut} splits a quefrency band; use a band edge: one of "
                                 f"{edges} for {n_mels} mel bins and probe.n_bands={probe.n_bands}")
        if not set(probe.seeds) <= set(self.compare.seeds):
            raise AudiospecError(f"probe.seeds {list(probe.seeds)} must be among compare.seeds "
                                 f"{list(self.compare.seeds)}")


def _interval(per_seed: list[torch.Tensor], level: float, seed: int) -> Interval:
    mean, low, high = hierarchical_bootstrap(per_seed, level=level, n_bootstrap=N_BOOTSTRAP,
                                             generator=torch.Generator().manual_seed(seed))
    return Interval(mean=mean, low=low, high=high, n=sum(int(x.numel()) for x in per_seed))


def _crossed(per_seed: list[torch.Tensor], level: float, seed: int) -> Interval:
    mean, low, high = crossed_bootstrap(torch.stack(per_seed), level=level, n_bootstrap=N_BOOTSTRAP,
                                        generator=torch.Generator().manual_seed(seed))
    return Interval(mean=mean, low=low, high=high, n=sum(int(x.numel()) for x in per_seed))


def _bits_per_dim(field: Any, x: torch.Tensor, prior: NoisePrior, probe: ProbeConfig, seed: int, steps: int) -> torch.Tensor:
    """Per-patch bits/dim through the ODE, in batches; probes drawn from ``seed`` (the same for every prior)."""
    g = torch.Generator().manual_seed(seed)
    return torch.cat([ode_log_likelihood(field, x[i:i + probe.batch_size], prior=prior, steps=steps,
                                         n_probes=probe.n_probes, generator=g).bits_per_dim
                      for i in range(0, x.shape[0], probe.batch_size)])


def _sign_flip(per_seed: list[torch.Tensor]) -> float | None:
    """Exact sign-flip p-value over the per-seed means (None with one seed: no verdict without replication)."""
    return sign_flip_pvalue([float(x.mean()) for x in per_seed]) if len(per_seed) >= 2 else None


def _decided(rows: list[Any], family: Family) -> list[Any]:
    """The family's rows with their Holm-adjusted p-values and :func:`decide`'s verdicts (a likelihood row's checks
    are ``trusted``)."""
    adjusted = holm_family([row.p_value for row in rows])
    out = []
    for row, p_holm in zip(rows, adjusted):
        difference = row.excess if isinstance(row, SwapRow) else row.versus_white
        reliable = decide(difference, family, p_holm=p_holm, trusted=getattr(row, "trusted", True))
        out.append(dataclasses.replace(row, p_holm=p_holm, reliable=reliable))
    return out


def _swap_rows(prior: str, trained: list[BandSwap], exact: list[BandSwap], levels: dict[bool, float],
               primary_time: float) -> list[SwapRow]:
    rows = []
    kept = trained[0].kept_bands()
    mine_all, theirs_all = ([s.pair_shares(kept) for s in swaps] for swaps in (trained, exact))  # [J, pairs] each
    bands_mine, bands_theirs = (torch.stack([s.share() for s in swaps]).mean(0) for swaps in (trained, exact))
    for j, t in enumerate(trained[0].times):
        level = levels[t == primary_time]
        mine = [shares[j] for shares in mine_all]  # per seed [pairs]
        theirs = [shares[j] for shares in theirs_all]
        excess = [a - b for a, b in zip(mine, theirs)]
        rows.append(SwapRow(
            prior=prior, time=t, trained=_interval(mine, level, j), exact=_interval(theirs, level, j),
            excess=_interval(excess, level, j), reliable=False,
            band_shares=tuple(bands_mine[j].tolist()), exact_band_shares=tuple(bands_theirs[j].tolist()),
            p_value=_sign_flip(excess), primary=t == primary_time))
    return rows


@dataclass(frozen=True)
class _Inputs:
    """What every prior of the probe is measured on: the test patches, the Gaussian baseline, the grid."""

    shape: tuple[int, int]
    spectrum: torch.Tensor
    x_test: torch.Tensor
    gaussian_bpd: torch.Tensor


def _inputs(cfg: CompareConfig, probe: ProbeConfig, data: Any, test: Any) -> _Inputs:
    spectrum = data_spectrum(data.patches)
    spectrum = spectrum.clamp_min(1e-8 * float(spectrum.mean()))
    order = torch.randperm(test.patches.shape[0], generator=torch.Generator().manual_seed(cfg.split_seed))
    x_test = test.patches[order[:probe.likelihood_patches]]
    dims = math.prod(x_test.shape[1:])
    gaussian_bpd = -gaussian_log_likelihood(x_test, spectrum=spectrum) / (dims * math.log(2.0))  # [n]
    return _Inputs(shape=tuple(data.patches.shape[-2:]), spectrum=spectrum, x_test=x_test, gaussian_bpd=gaussian_bpd)


def _measure_prior(prior: NoisePrior, models: list[tuple[int, Any]], probe: ProbeConfig, inputs: _Inputs,
                   levels: dict[bool, float]) -> tuple[list[SwapRow], list[torch.Tensor], tuple[float, float], BandSwap]:
    """Band swaps of the trained and exact models, and the likelihoods of the test patches, for one prior:
    (swap rows, bits/dim per seed, (calibration, integration check), the first seed's swap)."""
    exact_field = LinearGaussianVelocity(inputs.spectrum, prior=prior, signal_shape=inputs.shape)
    swap_kwargs = dict(shape=inputs.shape, n_pairs=probe.n_pairs, steps=probe.swap_steps, swap_times=probe.swap_times,
                       k_cut=probe.k_cut, n_bands=probe.n_bands)
    trained_swaps, exact_swaps, bpd = [], [], []
    checks = (0.0, 0.0)
    for seed, model in models:
        trained_swaps.append(band_swap(model, prior=prior, generator=torch.Generator().manual_seed(seed), **swap_kwargs))
        exact_swaps.append(band_swap(exact_field, prior=prior, generator=torch.Generator().manual_seed(seed),
                                     **swap_kwargs))
        bpd.append(_bits_per_dim(model, inputs.x_test, prior, probe, seed, probe.likelihood_steps))
        if seed == models[0][0]:
            half = _bits_per_dim(model, inputs.x_test, prior, probe, seed, probe.likelihood_steps // 2)
            calibration = _bits_per_dim(exact_field, inputs.x_test, prior, probe, seed, probe.likelihood_steps)
            checks = (float((calibration - inputs.gaussian_bpd).mean()), float((half - bpd[0]).mean()))
    rows = _swap_rows(prior.name, trained_swaps, exact_swaps, levels, probe.primary_time)
    return rows, bpd, checks, trained_swaps[0]


def _likelihood_rows(bpd: dict[str, list[torch.Tensor]], checks: dict[str, tuple[float, float]],
                     gaussian_bpd: torch.Tensor, family: Family) -> list[LikelihoodRow]:
    """The closed-form Gaussian, then each prior with its difference to white, checks and verdict."""
    level = family.level
    rows = [LikelihoodRow(name="gaussian, train spectrum (closed form)", kind="gaussian",
                          bits_per_dim=_crossed([gaussian_bpd], level, 0))]
    for name, per_seed in bpd.items():
        versus, p_value, trusted = None, None, True
        calibration, integration = checks[name]
        if name != REFERENCE_PRIOR:
            diffs = [a - b for a, b in zip(per_seed, bpd[REFERENCE_PRIOR])]
            versus, p_value = _crossed(diffs, level, 1), _sign_flip(diffs)
            trusted = max(abs(calibration), abs(integration)) < 0.5 * abs(versus.mean)
        rows.append(LikelihoodRow(name=name, bits_per_dim=_crossed(per_seed, level, 0), versus_white=versus,
                                  reliable=False, calibration=calibration, integration=integration,
                                  p_value=p_value, trusted=trusted))
    return rows[:1] + _decided(rows[1:], family)


def run_probe(config: ProbeRunConfig, context: RunContext) -> ProbeResult:
    """Band swap and likelihoods on the compare stage's models (module doc)."""
    cfg, probe = config.compare, config.probe
    check_sample_rate(cfg.mel, config.data, section="compare")
    seeds = probe.seeds or cfg.seeds
    compare_dir = Path(probe.compare_dir) if probe.compare_dir else context.folder("compare")
    split, fingerprint = context.inputs("probe", config, keys=())
    context.upstream(fingerprint, compare_dir, keys=MODEL_KEYS)  # its models, its split: the same inputs
    context.record(config, split, fingerprint)
    data, test = split.parts["train"], split.parts["test"]
    inputs = _inputs(cfg, probe, data, test)
    families = {True: Family(size=len(cfg.priors)), False: Family(size=len(cfg.priors) * (len(probe.swap_times) - 1))}
    likelihood_family = Family(size=len([s for s in cfg.priors if s.name != REFERENCE_PRIOR]))
    levels = {primary: family.level for primary, family in families.items()}
    store = context.models(compare_dir)
    swap_rows: list[SwapRow] = []
    bpd: dict[str, list[torch.Tensor]] = {}
    checks: dict[str, tuple[float, float]] = {}
    for spec in tqdm(cfg.priors, desc="probe", disable=not context.progress):
        prior = make_prior(spec, data=data.patches)
        models = [(seed, store.finished(prior.name, seed, steps=cfg.train.steps)) for seed in seeds]
        rows, bpd[prior.name], checks[prior.name], bands = _measure_prior(prior, models, probe, inputs, levels)
        swap_rows += rows
    swap_rows = (_decided([r for r in swap_rows if r.primary], families[True])
                 + _decided([r for r in swap_rows if not r.primary], families[False]))
    swap_rows.sort(key=lambda r: ([spec.name for spec in cfg.priors].index(r.prior), -r.time))
    return ProbeResult(
        swap=tuple(swap_rows), likelihood=tuple(_likelihood_rows(bpd, checks, inputs.gaussian_bpd, likelihood_family)),
        band_centres=bands.centres, kept_bands=tuple(bands.kept_bands()), k_cut=probe.k_cut, swap_level=levels[True],
        swap_secondary_level=levels[False], likelihood_level=likelihood_family.level, seeds=tuple(seeds),
        n_pairs=probe.n_pairs, n_test_patches=int(inputs.x_test.shape[0]))


STAGE = register(Stage(
    name="probe", config=ProbeRunConfig, result=ProbeResult, output="probe.json", run=run_probe, order=40,
    summary="Beyond correlation, on the compare stage's models (RUN/compare/models, beside --out): an intervention "
            "(swap the low quefrencies of two sampling trajectories: does the fine content follow?) and "
            "probability-flow likelihoods of the test split per prior, each beside the exact Gaussian model.",
    examples="  audiospec probe --config recipes/mini/conf/protocol.yaml --out runs/mini-protocol/probe"))
