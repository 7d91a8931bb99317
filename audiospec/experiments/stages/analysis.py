"""The spectral analysis of a corpus (the stage ``analysis``; DESIGN.md sections 1 and 5, "Analysis report").

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
from typing import Any

import torch
from tqdm.auto import tqdm

from audiospec.atomic import write_json
from audiospec.config import config_to_dict
from audiospec.data import DataConfig, check_sample_rate, mel_patches
from audiospec.errors import AudiospecError
from audiospec.experiments import analysis_sections as sections
from audiospec.experiments.analysis_sections import AnalysisConfig
from audiospec.experiments.context import RunContext
from audiospec.experiments.fingerprint import Fingerprint
from audiospec.experiments.results import AnalysisResult, Normalisation, SkippedInput
from audiospec.experiments.stage import Stage, register

__all__ = ["STAGE", "AnalysisConfig", "AnalyzeRunConfig", "analyze_corpus", "run_analysis"]


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
    JSON form; the report says what they mean) and the curves behind every plot.
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
        cepstrum=cepstrum, autoregression_order=order, f_max=fmax, config=config_to_dict(config),
    )
    figures = {"waveform": wave_figure, "mel": mel_figure, "cepstrum": cep_figure, "hinge": hinge, **snr_figures}
    return result, figures


@dataclass(frozen=True)
class AnalyzeRunConfig:
    """A whole ``audiospec analyze`` run: YAML sections ``data`` and ``analysis``."""

    data: DataConfig
    analysis: AnalysisConfig = field(default_factory=AnalysisConfig)


def run_analysis(config: AnalyzeRunConfig, context: RunContext) -> AnalysisResult:
    """Load the corpus and analyse it; writes ``figures.json`` (the curves the report draws) beside the result."""
    check_sample_rate(config.analysis.mel, config.data, section="analysis")
    corpus = context.corpus
    corpus.require_audio('the analysis (waveform spectra, hinge plots)')
    result, figures = analyze_corpus(
        corpus.waveforms, corpus.labels, sample_rate=corpus.sample_rate, config=config.analysis,
        progress=context.progress)
    context.record(config, None, Fingerprint.of("analysis", config, corpus=corpus))  # what it was made from
    write_json(context.out_dir / "figures.json", figures)
    return dataclasses.replace(
        result, dataset=config.data.dataset,
        skipped=tuple(SkippedInput(path=str(s.path), reason=s.reason) for s in getattr(corpus, "skipped", ())),
        source_rates={str(k): v for k, v in getattr(corpus, "source_rates", {}).items()} or None)


STAGE = register(Stage(
    name="analysis", command="analyze", config=AnalyzeRunConfig, result=AnalysisResult, output="analysis.json",
    run=run_analysis, order=10, needs_audio=True, optional=False,
    summary="Spectral analysis of a dataset: spectra, mel RAPSD power law, cepstrum, AR order, f_max(t).",
    examples="  audiospec analyze --dataset mini --out runs/analysis-mini\n\n"
             "  audiospec analyze --dataset folder:/path/to/audio --out runs/my-audio"))
