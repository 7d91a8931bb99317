"""Beyond correlation: a causal band-swap test and likelihoods per prior (``audiospec probe``; issue 14).

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

from audiospec.atomic import write_json
from audiospec.data import DataConfig, check_sample_rate
from audiospec.measures.band_swap import BandSwap, band_swap
from audiospec.functional.cepstrum import quefrency_bands
from audiospec.measures.gaussian import LinearGaussianVelocity
from audiospec.measures.likelihood import gaussian_log_likelihood, ode_log_likelihood
from audiospec.diffusion.priors import REFERENCE_PRIOR, NoisePrior, make_prior
from audiospec.errors import AudiospecError
from audiospec.experiments.compare import (
    MODEL_KEYS,
    CompareConfig,
    check_upstream,
    record_inputs,
    stage_inputs,
    stored_model,
)
from audiospec.experiments.compare_order import data_spectrum
from audiospec.experiments.results import Interval, LikelihoodRow, ProbeResult, SwapRow, to_json
from audiospec.functional.stats import crossed_bootstrap, hierarchical_bootstrap, holm_adjusted, sign_flip_pvalue

N_BOOTSTRAP = 10_000  # replicates per interval: tails of a 99.4% interval need thousands

__all__ = ["ProbeConfig", "ProbeRunConfig", "run_probe"]


@dataclass(frozen=True)
class ProbeConfig:
    """Settings of :func:`run_probe` (YAML section ``probe``); ``seeds`` empty = the compare section's."""

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


def _excludes_zero(stat: Interval) -> bool:
    return stat.low is not None and stat.high is not None and (stat.low > 0 or stat.high < 0)


def _holm_family(rows: list[Any], level_of: float) -> list[Any]:
    """Holm-adjust the family's p-values in place of ``p_holm``; reliable = Holm rejects at 0.05 and the interval
    (at ``level_of``) excludes 0 (and, for likelihoods, the checks allow a verdict)."""
    tested = [i for i, r in enumerate(rows) if r.p_value is not None]
    adjusted = dict(zip(tested, holm_adjusted([rows[i].p_value for i in tested]))) if tested else {}
    out = []
    for i, row in enumerate(rows):
        diff = row.excess if isinstance(row, SwapRow) else row.versus_white
        p_holm = adjusted.get(i)
        ok = p_holm is not None and p_holm < 0.05 and _excludes_zero(diff) and getattr(row, "trusted", True)
        out.append(dataclasses.replace(row, p_holm=p_holm, reliable=ok))
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


def _p_text(p_holm: float | None) -> str:
    return "one seed: no test" if p_holm is None else f"Holm p = {p_holm:.3f}"


def _answers(swap: list[SwapRow], likelihood: list[LikelihoodRow], levels: dict[bool, float],
             lik_level: float) -> list[str]:
    lines = []
    for row in sorted(swap, key=lambda r: not r.primary):
        verdict = ("fine content follows the swapped coarse content more than in the Gaussian model: a causal "
                   "coarse-to-fine dependence" if row.reliable and row.excess.mean > 0 else
                   "fine content follows the swapped coarse content less than in the Gaussian model"
                   if row.reliable else "no reliable difference from the Gaussian model")
        family = "PRIMARY" if row.primary else "secondary"
        lines.append(f"band swap ({family}), {row.prior} prior, swap at t={row.time:g}: donor share of the un-swapped "
                     f"bands {row.trained.text()} vs {row.exact.mean:.3f} for the exact Gaussian model; excess "
                     f"{row.excess.text(signed=True, label=f'{100 * levels[row.primary]:.1f}%: ')}, "
                     f"{_p_text(row.p_holm)}: {verdict}.")
    gaussian = next(r for r in likelihood if r.kind == "gaussian")
    for row in likelihood:
        if row.versus_white is None:
            continue
        better = "higher" if row.versus_white.mean < 0 else "lower"
        verdict = (f"the {row.name} prior gives the test patches a {better} likelihood than white"
                   if row.reliable else "no reliable difference" if row.trusted else
                   f"no verdict: the calibration ({row.calibration:+.4f}) or integration check "
                   f"({row.integration:+.4f}) is at least half the difference")
        lines.append(f"likelihood, {row.name} − white: "
                     f"{row.versus_white.text(signed=True, label=f'{100 * lik_level:.1f}%: ')} bits/dim, "
                     f"{_p_text(row.p_holm)}: {verdict} (the Gaussian with the training spectrum: "
                     f"{gaussian.bits_per_dim.mean:.3f} bits/dim).")
    return lines


def run_probe(config: ProbeRunConfig, *, out_dir: Path, progress: bool = True) -> ProbeResult:
    """Band swap and likelihoods on the compare stage's models (module doc); writes ``probe.json`` and plots."""
    from audiospec.report.plots import plot_probe

    cfg, probe = config.compare, config.probe
    check_sample_rate(cfg.mel, config.data, section="compare")
    seeds = probe.seeds or cfg.seeds
    out_dir = Path(out_dir)
    compare_dir = Path(probe.compare_dir) if probe.compare_dir else out_dir.parent / "compare"
    split, fingerprint = stage_inputs(config, stage="probe", out_dir=out_dir, progress=progress, keys=())
    check_upstream(fingerprint, compare_dir, keys=MODEL_KEYS)  # its models, its split: the same inputs
    record_inputs(config, split, fingerprint, out_dir)
    data, test = split.parts["train"], split.parts["test"]
    shape = tuple(data.patches.shape[-2:])
    spectrum = data_spectrum(data.patches)
    spectrum = spectrum.clamp_min(1e-8 * float(spectrum.mean()))
    order = torch.randperm(test.patches.shape[0], generator=torch.Generator().manual_seed(cfg.split_seed))
    x_test = test.patches[order[:probe.likelihood_patches]]
    dims = math.prod(x_test.shape[1:])
    gaussian_bpd = -gaussian_log_likelihood(x_test, spectrum=spectrum) / (dims * math.log(2.0))  # [n]
    others = [spec for spec in cfg.priors if spec.name != REFERENCE_PRIOR]
    swap_levels = {True: 1.0 - 0.05 / len(cfg.priors),  # primary family: one test per prior
                   False: 1.0 - 0.05 / max(1, len(cfg.priors) * (len(probe.swap_times) - 1))}
    lik_level = 1.0 - 0.05 / max(1, len(others))
    swap_kwargs = dict(shape=shape, n_pairs=probe.n_pairs, steps=probe.swap_steps, swap_times=probe.swap_times,
                       k_cut=probe.k_cut, n_bands=probe.n_bands)
    swap_rows: list[SwapRow] = []
    bpd: dict[str, list[torch.Tensor]] = {}
    checks: dict[str, tuple[float, float]] = {}
    result_bands: BandSwap | None = None
    for spec in tqdm(cfg.priors, desc="probe", disable=not progress):
        prior = make_prior(spec, data=data.patches)
        exact_field = LinearGaussianVelocity(spectrum, prior=prior, signal_shape=shape)
        trained_swaps, exact_swaps = [], []
        bpd[prior.name] = []
        for seed in seeds:
            model = stored_model(prior.name, seed, cfg, compare_dir)
            trained_swaps.append(band_swap(model, prior=prior, generator=torch.Generator().manual_seed(seed),
                                           **swap_kwargs))
            exact_swaps.append(band_swap(exact_field, prior=prior, generator=torch.Generator().manual_seed(seed),
                                         **swap_kwargs))
            bpd[prior.name].append(_bits_per_dim(model, x_test, prior, probe, seed, probe.likelihood_steps))
            if seed == seeds[0]:
                half = _bits_per_dim(model, x_test, prior, probe, seed, probe.likelihood_steps // 2)
                calibration = _bits_per_dim(exact_field, x_test, prior, probe, seed, probe.likelihood_steps)
                checks[prior.name] = (float((calibration - gaussian_bpd).mean()),
                                      float((half - bpd[prior.name][0]).mean()))
        swap_rows += _swap_rows(prior.name, trained_swaps, exact_swaps, swap_levels, probe.primary_time)
        result_bands = trained_swaps[0]
    assert result_bands is not None  # cfg.priors is never empty
    likelihood = [LikelihoodRow(name="gaussian, train spectrum (closed form)", kind="gaussian",
                                bits_per_dim=_crossed([gaussian_bpd], lik_level, 0))]
    for name, per_seed in bpd.items():
        versus, p_value, trusted = None, None, True
        calibration, integration = checks[name]
        if name != REFERENCE_PRIOR:
            diffs = [a - b for a, b in zip(per_seed, bpd[REFERENCE_PRIOR])]
            versus, p_value = _crossed(diffs, lik_level, 1), _sign_flip(diffs)
            trusted = max(abs(calibration), abs(integration)) < 0.5 * abs(versus.mean)
        likelihood.append(LikelihoodRow(name=name, bits_per_dim=_crossed(per_seed, lik_level, 0), versus_white=versus,
                                        reliable=False, calibration=calibration, integration=integration,
                                        p_value=p_value, trusted=trusted))
    likelihood = likelihood[:1] + _holm_family(likelihood[1:], lik_level)
    swap_rows = (_holm_family([r for r in swap_rows if r.primary], swap_levels[True])
                 + _holm_family([r for r in swap_rows if not r.primary], swap_levels[False]))
    swap_rows.sort(key=lambda r: ([spec.name for spec in cfg.priors].index(r.prior), -r.time))
    result = ProbeResult(
        swap=tuple(swap_rows), likelihood=tuple(likelihood), band_centres=result_bands.centres,
        kept_bands=tuple(result_bands.kept_bands()), k_cut=probe.k_cut, swap_level=swap_levels[True],
        swap_secondary_level=swap_levels[False], likelihood_level=lik_level, seeds=tuple(seeds), n_pairs=probe.n_pairs,
        n_test_patches=int(x_test.shape[0]), answers=tuple(_answers(swap_rows, likelihood, swap_levels, lik_level)))
    result = dataclasses.replace(result, plots=tuple(plot_probe(result, out_dir)))
    write_json(out_dir / "probe.json", to_json(result))
    return result
