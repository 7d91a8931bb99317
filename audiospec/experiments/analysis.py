"""The spectral analysis of a corpus (DESIGN.md sections 1 and 5, "Analysis report").

For a corpus of fixed-length clips it measures, one section function each
(:mod:`audiospec.experiments.analysis_sections`):

1. the mean waveform spectrum (Welch, log-domain average over clips): peak frequency,
   monotonicity and power-law fit quality (Dieleman 2024: "not a power law");
2. the RAPSD of standardised log-mel patches and its power-law fit (alpha, bootstrap CI,
   R^2) per class and overall, in normalised mode with a Kaiser window and, for
   comparison with the blog post, in pysteps mode without a window;
3. the cepstral power (DCT-II along mel) and its power-law slope;
4. autoregression-order scores and f_max(t) for waveform / mel / cepstrum under each
   prior of ``config.priors`` (default white, pink and data-matched), from the spectra of
   patches centred per mel bin (the model space of :mod:`audiospec.data.patches`:
   the corpus's mean mel profile is not something a diffusion model has to generate);
5. hinge spectra: mean RAPSD of centred patches noised at several times.
"""

from __future__ import annotations

import dataclasses
from dataclasses import dataclass, field
from pathlib import Path
from typing import Any, Literal

import torch
from tqdm.auto import tqdm

from audiospec.atomic import write_json
from audiospec.config import check_counts, config_to_dict, save_config
from audiospec.data import DataConfig, check_sample_rate, load_corpus, mel_patches
from audiospec.diffusion.priors import PriorSpec, default_priors
from audiospec.errors import AudiospecError
from audiospec.experiments import analysis_sections as sections
from audiospec.experiments.fingerprint import Fingerprint
from audiospec.experiments.results import AnalysisResult, Normalisation, SkippedInput, to_json
from audiospec.functional.rapsd import MEL_RING_STEP, RapsdMode, RingStep
from audiospec.functional.schedules import Schedule
from audiospec.report.html import analysis_section, write_page
from audiospec.report.plots import plot_all
from audiospec.transforms import MelConfig

__all__ = ["AnalysisConfig", "AnalyzeRunConfig", "analyze_corpus", "run_analysis"]


@dataclass(frozen=True)
class AnalysisConfig:
    """Settings of :func:`analyze_corpus` (YAML section ``analysis``); choices are checked by the config loader."""

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


def _standardize(x: torch.Tensor) -> tuple[torch.Tensor, float, float]:
    mean, std = float(x.double().mean()), float(x.double().std())
    if std == 0.0:
        raise AudiospecError("the corpus is constant (all clips silent or identical); nothing to analyse")
    return (x - mean) / std, mean, std


def _check_clips(waveforms: torch.Tensor, labels: list[str], sample_rate: int, config: AnalysisConfig) -> None:
    if waveforms.ndim != 2 or waveforms.shape[0] != len(labels):
        raise AudiospecError(
            f"need clips [N, L] with one label each, got shape {tuple(waveforms.shape)} and {len(labels)} labels"
        )
    if waveforms.shape[0] < 2:
        raise AudiospecError(f"the analysis needs at least 2 clips, got {waveforms.shape[0]}")
    if config.mel.sample_rate != sample_rate:
        raise AudiospecError(
            f"mel.sample_rate={config.mel.sample_rate} differs from the corpus rate {sample_rate}; "
            "set them equal (the loaders resample to data.sample_rate)"
        )


def analyze_corpus(
    waveforms: torch.Tensor,
    labels: list[str],
    *,
    sample_rate: int,
    config: AnalysisConfig = AnalysisConfig(),
    progress: bool = True,
) -> tuple[AnalysisResult, dict[str, Any]]:
    """Run the full analysis on clips ``[N, L]`` with one label each.

    Returns ``(result, figures)``: the typed summary (numbers only, :func:`to_json` for its
    JSON form) and the curves behind every plot.
    """
    _check_clips(waveforms, labels, sample_rate, config)
    generator = torch.Generator().manual_seed(config.seed)
    bar = tqdm(total=5, desc="analysis", disable=not progress)
    bar.set_postfix_str("waveform spectra")
    standard_wave, _, _ = _standardize(waveforms.to(torch.float32))  # float32: 2x less memory, Welch is averaged
    waveform, wave_figure, wave_freqs, wave_power = sections.waveform_section(
        standard_wave, labels, sample_rate=sample_rate, config=config, generator=generator)
    bar.update()
    bar.set_postfix_str("mel RAPSD")
    raw, clip_index = mel_patches(waveforms, mel=config.mel, patch_frames=config.patch_frames)
    patches, mean_db, std_db = _standardize(raw.to(torch.float64))
    patch_labels = [labels[int(i)] for i in clip_index]
    mel, mel_figure = sections.mel_section(patches, patch_labels, normalisation=Normalisation(mean_db, std_db),
                                           config=config, generator=generator)
    bar.update()
    bar.set_postfix_str("cepstrum")
    cepstrum, cep_figure = sections.cepstrum_section(patches, patch_labels, config=config, generator=generator)
    bar.update()
    bar.set_postfix_str("autoregression order")
    centred = patches - patches.mean(dim=(0, 2), keepdim=True)  # per mel bin, as the model space (data.patches)
    views = sections.domains(wave_freqs=wave_freqs, wave_power=wave_power, patches=centred, config=config)
    order, fmax, snr_figures = sections.snr_section(views, sample_rate=sample_rate, config=config)
    bar.update()
    bar.set_postfix_str("hinge spectra")
    hinge = sections.hinge_section(centred, config=config, generator=generator)
    bar.update()
    bar.close()
    result = AnalysisResult(
        n_clips=int(waveforms.shape[0]), sample_rate=sample_rate, clip_seconds=waveforms.shape[-1] / sample_rate,
        classes={lab: labels.count(lab) for lab in sorted(set(labels))}, waveform=waveform, mel=mel,
        cepstrum=cepstrum, autoregression_order=order, f_max=fmax, findings=(), config=config_to_dict(config),
    )
    figures = {"waveform": wave_figure, "mel": mel_figure, "cepstrum": cep_figure, "hinge": hinge, **snr_figures}
    return dataclasses.replace(result, findings=tuple(findings(result))), figures


def findings(result: AnalysisResult) -> list[str]:
    """Plain-language statements derived from the numbers (never hard-coded verdicts)."""
    wave, mel, cep, post = result.waveform, result.mel, result.cepstrum, result.mel.pysteps_mode_no_window
    shape = "is monotonically decreasing" if wave.monotonic_decreasing else "is NOT monotonic"

    def verdict(r2: float) -> str:
        return "close to a power law" if r2 >= 0.95 else "only approximately a power law"

    ci_text = f" (95% CI {mel.ci[0]:.2f}-{mel.ci[1]:.2f})" if mel.ci else ""
    orders = "; ".join(f"under {prior} noise: " + ", ".join(f"{domain} {scores[prior]:+.2f}"
                                                           for domain, scores in result.autoregression_order.items())
                       for prior in next(iter(result.autoregression_order.values())))
    return [
        f"Mean waveform spectrum {shape}: it peaks at {wave.peak_hz:.0f} Hz, climbs up to {wave.rise_db:.1f} dB "
        f"above its minimum at lower frequencies, rises over {100 * wave.rising_fraction:.0f}% of the "
        f"log-frequency axis, and a power law explains R^2 = {wave.power_law.r2:.3f} of it.",
        f"Log-mel RAPSD in the blog post's convention (pysteps, integer radius, no window) is {verdict(post.r2)}: "
        f"alpha = {post.alpha:.2f}, R^2 = {post.r2:.3f} (the post read alpha ~ 2.35 on GTZAN). With the "
        f"radius in cycles/sample per axis ({mel.rapsd_mode}, window {mel.rapsd_window}) it is "
        f"{verdict(mel.r2)}: alpha = {mel.alpha:.2f}{ci_text}, R^2 = {mel.r2:.3f}.",
        f"Cepstral power falls with quefrency as q^-{cep.alpha:.2f} (R^2 = {cep.r2:.3f}).",
        f"Autoregression order (+1 = strictly coarse-to-fine, 0 = all at once) {orders}.",
    ]


@dataclass(frozen=True)
class AnalyzeRunConfig:
    """A whole ``audiospec analyze`` run: YAML sections ``data`` and ``analysis``."""

    data: DataConfig
    analysis: AnalysisConfig = field(default_factory=AnalysisConfig)


def run_analysis(config: AnalyzeRunConfig, *, out_dir: Path, progress: bool = True) -> Path:
    """Load the corpus, analyse it, and write ``analysis.json``, ``figures.json``, PNGs and ``report.html``.

    Returns the path of the HTML report. Every file is written atomically.
    """
    check_sample_rate(config.analysis.mel, config.data, section="analysis")
    out_dir = Path(out_dir)
    corpus = load_corpus(config.data, progress=progress)
    corpus.require_audio('the analysis (waveform spectra, hinge plots)')
    result, figures = analyze_corpus(
        corpus.waveforms, corpus.labels, sample_rate=corpus.sample_rate, config=config.analysis, progress=progress
    )
    result = dataclasses.replace(
        result, dataset=config.data.dataset, plots=tuple(plot_all(figures, result, out_dir)),
        skipped=tuple(SkippedInput(path=str(s.path), reason=s.reason) for s in getattr(corpus, "skipped", ())),
        source_rates={str(k): v for k, v in getattr(corpus, "source_rates", {}).items()} or None,
    )
    save_config(config, out_dir / "config.yaml")
    Fingerprint.of("analysis", config, corpus=corpus).write(out_dir)  # what this analysis was made from
    write_json(out_dir / "figures.json", figures)
    write_json(out_dir / "analysis.json", to_json(result))
    return write_page(out_dir / "report.html", title=f"audiospec analysis: {config.data.dataset}",
                      sections=[analysis_section(result, out_dir)])
