"""The settings and sections of the corpus analysis, one function each (called in order by
:func:`audiospec.experiments.stages.analysis.analyze_corpus`).

Each section takes the clips or patches and the :class:`AnalysisConfig`, and returns its
typed summary (``audiospec.experiments.results``) plus the curves behind its figures.
SNR calculations use arithmetic means of power (the variance per frequency that the
noise competes with); power-law fits use log-domain means as the design prescribes.
"""

from __future__ import annotations

from dataclasses import dataclass, field
from typing import Any, Callable, Literal, NamedTuple

import torch

from audiospec.config import check_counts
from audiospec.diffusion.priors import MatchedNoise, PriorSpec, default_priors, make_prior
from audiospec.errors import AudiospecError
from audiospec.functional.autoregression import autoregression_order, max_detectable_frequency
from audiospec.functional.cepstrum import cepstral_power, expected_cepstral_power, quefrency_axis
from audiospec.functional.noise import add_noise_at_time, estimate_spectrum
from audiospec.functional.powerlaw import fit_power_law, log_resample
from audiospec.functional.rapsd import MEL_RING_STEP, RapsdMode, RingStep, rapsd, ring_weights
from audiospec.functional.schedules import Schedule
from audiospec.functional.spectra import log_domain_mean, power_spectrum
from audiospec.functional.ranks import spearman
from audiospec.transforms import MelConfig
from audiospec.experiments.results import (
    CepstrumSummary,
    FmaxTable,
    MelSummary,
    Normalisation,
    PowerLawSummary,
    WaveformShape,
    WaveformSummary,
)

__all__ = ["AnalysisConfig", "Domain", "waveform_section", "mel_section", "cepstrum_section", "domains", "snr_section",
           "hinge_section"]


@dataclass(frozen=True)
class AnalysisConfig:
    """Settings of the analysis (YAML section ``analysis``); choices are checked by the config loader."""

    mel: MelConfig = field(default_factory=MelConfig)
    patch_frames: int = 256
    welch_n_fft: int = 2048
    rapsd_mode: RapsdMode = "normalized"
    rapsd_window: Literal["kaiser", "none"] = "kaiser"
    ring_step: RingStep = MEL_RING_STEP
    fit_points: int = 50
    n_bootstrap: int = 1000
    ci_level: float = 0.95
    min_hz: float = 20.0
    monotonic_tolerance_db: float = 3.0
    priors: tuple[PriorSpec, ...] = field(default_factory=default_priors)
    tau: float = 1.0
    process: Schedule = "rectified_flow"
    fmax_times: tuple[float, ...] = tuple(round(0.025 * i, 3) for i in range(1, 40))
    hinge_times: tuple[float, ...] = (0.2, 0.4, 0.6, 0.8)
    hinge_clips: int = 32
    seed: int = 0

    def __post_init__(self) -> None:
        check_counts("analysis", n_bootstrap=self.n_bootstrap)
        if self.patch_frames < 8 or self.welch_n_fft < 16:
            raise AudiospecError(
                f"patch_frames must be >= 8 and welch_n_fft >= 16, got {self.patch_frames} and {self.welch_n_fft}"
            )
        if not self.priors or len({p.name for p in self.priors}) != len(self.priors):
            raise AudiospecError(f"priors must be distinct and non-empty, got {[p.name for p in self.priors]}")
        for name in ("fmax_times", "hinge_times"):
            times = getattr(self, name)
            if not times or any(not 0.0 < t < 1.0 for t in times):
                raise AudiospecError(f"{name} must be a non-empty list of times in (0, 1), got {times!r}")
        if self.tau <= 0 or not 0 < self.ci_level < 1 or self.hinge_clips < 1 or self.fit_points < 3:
            raise AudiospecError(
                f"need tau > 0, 0 < ci_level < 1, hinge_clips >= 1, fit_points >= 3; got tau={self.tau}, "
                f"ci_level={self.ci_level}, hinge_clips={self.hinge_clips}, fit_points={self.fit_points}"
            )


def _fit(freqs: torch.Tensor, power: torch.Tensor, config: AnalysisConfig, generator: torch.Generator,
         f_min: float | None = None) -> PowerLawSummary:
    fit = fit_power_law(freqs, power, f_min=f_min, n_points=config.fit_points, n_bootstrap=config.n_bootstrap,
                        ci_level=config.ci_level, generator=generator)
    return PowerLawSummary(alpha=fit.alpha, ci=tuple(fit.ci) if fit.ci else None, r2=fit.r2,
                           intercept=fit.intercept, n=int(power.shape[0]))


def _masks(labels: list[str]) -> dict[str, torch.Tensor]:
    """One boolean mask ``[N]`` per class, in sorted class order."""
    return {label: torch.tensor([x == label for x in labels]) for label in sorted(set(labels))}


def _class_means(power: torch.Tensor, labels: list[str]) -> dict[str, torch.Tensor]:
    """Log-domain mean spectrum of each class: ``[N, K] -> {label: [K]}``."""
    return {label: log_domain_mean(power[mask], dim=0) for label, mask in _masks(labels).items()}


def waveform_section(waveforms: torch.Tensor, labels: list[str], *, sample_rate: int, config: AnalysisConfig,
                     generator: torch.Generator) -> tuple[WaveformSummary, dict[str, Any], torch.Tensor, torch.Tensor]:
    """Welch spectra of standardised clips ``[N, L]``: summary, figure data, and (freqs, mean power per bin) for SNR."""
    spec = power_spectrum(waveforms, sample_rate=sample_rate, method="welch", n_fft=config.welch_n_fft)
    freqs, power = spec.freqs, spec.power.to(torch.float64).clamp_min(1e-30)  # [K], [N, K]
    band = freqs >= config.min_hz

    def describe(mask: torch.Tensor) -> WaveformShape:
        mean = log_domain_mean(power[mask], dim=0)  # [K]
        grid, curve = log_resample(freqs[band], torch.log10(mean[band]), n_points=config.fit_points)
        # largest rise anywhere: how far the curve climbs above its lowest level at lower frequencies
        rise_db = float(10.0 * (curve - torch.cummin(curve, dim=0).values).max())
        return WaveformShape(
            peak_hz=float(freqs[band][torch.argmax(mean[band])]), rise_db=rise_db,
            rising_fraction=float((curve[1:] > curve[:-1]).double().mean()),
            monotonic_decreasing=rise_db < config.monotonic_tolerance_db, order_spearman=spearman(grid, -curve),
            power_law=_fit(freqs, power[mask], config, generator, f_min=config.min_hz),
        )

    everything = describe(torch.ones(len(labels), dtype=torch.bool))
    summary = WaveformSummary(**vars(everything), by_class={k: describe(m) for k, m in _masks(labels).items()})
    figure = {"freqs_hz": freqs[band], "all": log_domain_mean(power, dim=0)[band],
              "mean_power": {k: v[band] for k, v in _class_means(power, labels).items()}}
    # per-bin power of unit-variance clips: density * fs / 2 is ~1 for white noise
    per_bin = spec.power.to(torch.float64).mean(0) * sample_rate / 2.0
    return summary, figure, freqs / sample_rate, per_bin


def mel_section(patches: torch.Tensor, labels: list[str], *, normalisation: Normalisation,
                config: AnalysisConfig, generator: torch.Generator) -> tuple[MelSummary, dict[str, Any]]:
    """RAPSD of standardised log-mel patches ``[N, M, T]`` and its power-law fit, overall and per class."""
    window = None if config.rapsd_window == "none" else config.rapsd_window
    radial = rapsd(patches, mode=config.rapsd_mode, window=window, ring_step=config.ring_step)
    post = rapsd(patches, mode="pysteps")  # the blog post's convention, for comparison
    overall = _fit(radial.freqs, radial.power, config, generator)
    summary = MelSummary(
        **vars(overall),
        by_class={k: _fit(radial.freqs, radial.power[m], config, generator) for k, m in _masks(labels).items()},
        pysteps_mode_no_window=_fit(post.freqs, post.power, config, generator),
        n_patches=int(patches.shape[0]), patch_shape=tuple(patches.shape[-2:]), normalisation=normalisation,
        rapsd_mode=config.rapsd_mode, rapsd_window=config.rapsd_window, ring_step=config.ring_step,
    )
    figure = {"freqs": radial.freqs[1:], "all": log_domain_mean(radial.power, dim=0)[1:],
              "mean_power": {k: v[1:] for k, v in _class_means(radial.power, labels).items()},
              "fit": {"alpha": overall.alpha, "intercept": overall.intercept}}
    return summary, figure


def cepstrum_section(patches: torch.Tensor, labels: list[str], *, config: AnalysisConfig,
                     generator: torch.Generator) -> tuple[CepstrumSummary, dict[str, Any]]:
    """Cepstral power (DCT-II along mel) of patches ``[N, M, T]`` and its power-law slope."""
    cep = cepstral_power(patches).clamp_min(1e-30)  # [N, M]
    quefrency = quefrency_axis(patches.shape[-2])
    overall = _fit(quefrency, cep, config, generator)
    by_class = {k: _fit(quefrency, cep[m], config, generator) for k, m in _masks(labels).items()}
    figure = {"quefrency": quefrency[1:], "mean_power": {k: v[1:] for k, v in _class_means(cep, labels).items()}}
    return CepstrumSummary(**vars(overall), by_class=by_class), figure


class Domain(NamedTuple):
    """One view of the SNR analysis: frequency axis ``[K]``, data power ``[K]``, noise power per prior name."""

    freqs: torch.Tensor
    data: torch.Tensor
    noise: dict[str, torch.Tensor]


def domains(*, wave_freqs: torch.Tensor, wave_power: torch.Tensor, patches: torch.Tensor,
            config: AnalysisConfig) -> dict[str, Domain]:
    """Data and prior spectra in the waveform, mel (RAPSD rings) and cepstral views, per prior of the config."""
    M, T = patches.shape[-2:]
    spectrum2d = estimate_spectrum(patches, ndim=2)  # [M, T // 2 + 1], arithmetic mean power
    rings, ring_freqs = ring_weights(M, T, mode="normalized", ring_step=config.ring_step)
    wave, mel, cep = {}, {}, {}
    for spec in config.priors:
        if spec.kind == "matched":  # the Welch spectrum itself: a full-length estimate has another grid
            wave[spec.name] = MatchedNoise(wave_power, signal_shape=(config.welch_n_fft,)).spectrum((config.welch_n_fft,))
        else:
            wave[spec.name] = make_prior(spec, ndim=1).spectrum((config.welch_n_fft,))
        noise2d = make_prior(spec, data=patches[:, None], ndim=2).spectrum((M, T))
        mel[spec.name] = noise2d.reshape(-1) @ rings  # [M * Tr] @ [M * Tr, R] -> [R]
        cep[spec.name] = expected_cepstral_power(noise2d, (M, T))
    return {
        "waveform": Domain(wave_freqs, wave_power, wave),
        "mel": Domain(ring_freqs, spectrum2d.reshape(-1) @ rings, mel),
        "cepstrum": Domain(quefrency_axis(M), cepstral_power(patches).mean(0), cep),
    }


def snr_section(views: dict[str, Domain], *, sample_rate: int,
                config: AnalysisConfig) -> tuple[dict[str, dict[str, float]], FmaxTable, dict[str, Any]]:
    """Autoregression order and f_max(t) per view and prior; figure data of the spectra and f_max curves."""
    times = torch.tensor(config.fmax_times, dtype=torch.float64)

    def per_prior(view: Domain, measure: Callable[[torch.Tensor], Any]) -> dict[str, Any]:
        return {name: measure(noise) for name, noise in view.noise.items()}

    order = {name: per_prior(v, lambda S, v=v: autoregression_order(
        v.freqs, v.data, noise_power=S, tau=config.tau, process=config.process)) for name, v in views.items()}
    fmax = {name: per_prior(v, lambda S, v=v: tuple(max_detectable_frequency(
        times, freqs=v.freqs, data_power=v.data, noise_power=S, tau=config.tau, process=config.process).tolist()))
        for name, v in views.items()}
    table = FmaxTable(t=tuple(config.fmax_times), units="cycles/sample (waveform: x sample_rate for Hz)",
                      waveform=fmax["waveform"], mel=fmax["mel"], cepstrum=fmax["cepstrum"],
                      waveform_hz={k: tuple(f * sample_rate for f in v) for k, v in fmax["waveform"].items()})
    figure = {"snr": {name: {"freqs": v.freqs, "data": v.data, **{f"noise_{k}": s for k, s in v.noise.items()}}
                      for name, v in views.items()},
              "f_max": {"t": list(config.fmax_times), **fmax}}
    return order, table, figure


def hinge_section(patches: torch.Tensor, *, config: AnalysisConfig, generator: torch.Generator) -> dict[str, Any]:
    """Mean RAPSD of the first ``hinge_clips`` patches noised at each hinge time, per prior (figure data)."""
    clean = patches[: config.hinge_clips]

    def ring_mean(fields: torch.Tensor) -> torch.Tensor:
        return rapsd(fields, mode="normalized", ring_step=config.ring_step).power.mean(0)[1:]

    first = rapsd(clean[:1], mode="normalized", ring_step=config.ring_step).freqs[1:]
    hinge: dict[str, Any] = {"freqs": first, "clean": ring_mean(clean), "times": list(config.hinge_times),
                             "priors": [spec.name for spec in config.priors]}
    for spec in config.priors:
        prior = make_prior(spec, data=patches[:, None], ndim=2)
        eps = prior.sample(tuple(clean.shape), generator=generator, dtype=torch.float64)
        hinge[f"noise_{spec.name}"] = ring_mean(eps)
        hinge[spec.name] = [ring_mean(add_noise_at_time(clean, eps, t=t, process=config.process))
                            for t in config.hinge_times]
    return hinge
