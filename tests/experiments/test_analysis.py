"""The corpus analysis on synthetic corpora with known answers (unit tests only use synthetic signals)."""

import dataclasses
import json
import math

import pytest
import torch

from audiospec.atomic import write_json
from audiospec.errors import AudiospecError
from audiospec.experiments.results import AnalysisResult, read_result, to_json
from audiospec.data import mel_patches
from audiospec.experiments.stages.analysis import AnalysisConfig, analyze_corpus
from audiospec.report.sections.analysis import analysis_findings as findings
from audiospec.functional import colored_noise
from audiospec.transforms import MelConfig

SR = 8000
MEL = MelConfig(sample_rate=SR, n_fft=256, hop_length=64, n_mels=32)
FAST = AnalysisConfig(mel=MEL, patch_frames=64, welch_n_fft=256, n_bootstrap=100, hinge_clips=4, min_hz=20.0)
LENGTH = 64 * 64  # 65 frames -> one 64-frame patch per clip


def _corpus(beta: float, n: int = 12, seed: int = 0) -> tuple[torch.Tensor, list[str]]:
    g = torch.Generator().manual_seed(seed)
    waves = 0.1 * colored_noise((n, LENGTH), beta=beta, generator=g)
    return waves, ["a"] * (n // 2) + ["b"] * (n - n // 2)


@pytest.fixture(scope="module")
def brown():
    waves, labels = _corpus(beta=2.0)
    return analyze_corpus(waves, labels, sample_rate=SR, config=FAST, progress=False)


def test_brown_noise_waveform_spectrum_is_a_decreasing_power_law(brown):
    results, _ = brown
    wave = results.waveform
    # Welch + Hann on f^-2 noise: slope within 0.25 of 2 between 20 Hz and Nyquist
    assert abs(wave.power_law.alpha - 2.0) < 0.25, wave.power_law
    assert wave.power_law.r2 > 0.95
    assert wave.order_spearman > 0.95
    assert wave.peak_hz < 60.0


def test_matched_noise_is_never_autoregressive_and_white_is_for_brown_noise(brown):
    results, _ = brown
    ar = results.autoregression_order
    assert ar["waveform"]["white"] > 0.95
    assert ar["waveform"]["matched"] == 0.0
    assert ar["mel"]["matched"] == 0.0
    for domain in ("waveform", "mel", "cepstrum"):
        for kind in ("white", "pink", "matched"):
            assert -1.0 <= ar[domain][kind] <= 1.0


def test_fmax_shrinks_as_noise_grows(brown):
    results, _ = brown
    for domain in ("waveform", "mel", "cepstrum"):
        curve = getattr(results.f_max, domain)["white"]
        assert all(a >= b for a, b in zip(curve, curve[1:])), (domain, curve)
        assert curve[0] > curve[-1]


def test_per_class_counts_and_cis_are_reported(brown):
    results, figures = brown
    assert results.classes == {"a": 6, "b": 6}
    assert set(results.mel.by_class) == {"a", "b"}
    low, high = results.mel.ci
    assert low <= results.mel.alpha <= high
    assert len(figures["hinge"]["white"]) == len(FAST.hinge_times)


def test_hinge_spectra_are_the_sum_of_scaled_data_and_noise_spectra(brown):
    # rectified flow: E RAPSD(x_t) = (1 - t)^2 RAPSD(x0) + t^2 RAPSD(eps); cross terms average out
    _, figures = brown
    hinge = figures["hinge"]
    for kind in ("white", "pink"):  # (4 matched fields share the data's few strong rings: too few to average)
        for t, curve in zip(hinge["times"], hinge[kind]):
            expected = (1 - t) ** 2 * hinge["clean"] + t**2 * hinge[f"noise_{kind}"]
            relative = (curve / expected - 1.0).abs().mean()
            assert relative < 0.1, (kind, t, float(relative))


def test_a_tone_corpus_peaks_at_the_tone_and_is_reported_non_monotonic():
    g = torch.Generator().manual_seed(3)
    t = torch.arange(LENGTH) / SR
    tones = torch.sin(2 * math.pi * 440.0 * t) + 0.01 * torch.randn(8, LENGTH, generator=g)
    results, _ = analyze_corpus(tones, ["tone"] * 8, sample_rate=SR, config=FAST, progress=False)
    assert abs(results.waveform.peak_hz - 440.0) <= SR / FAST.welch_n_fft
    assert results.waveform.rise_db > 20.0
    assert "is NOT monotonic" in findings(results)[0]


def test_findings_follow_the_numbers(brown):
    results, _ = brown
    fake = dataclasses.replace(results, mel=dataclasses.replace(results.mel, r2=0.5))
    assert "only approximately a power law: alpha" in findings(fake)[1]


def test_mel_patches_cut_non_overlapping_patches():
    waves = torch.randn(3, 64 * 64 * 2)  # 129 frames -> 2 patches of 64
    patches, clip_index = mel_patches(waves, mel=MEL, patch_frames=64)
    assert patches.shape == (6, 32, 64)
    assert clip_index.tolist() == [0, 0, 1, 1, 2, 2]


def test_bad_inputs_are_rejected_with_the_fix():
    waves, labels = _corpus(beta=1.0, n=4)
    with pytest.raises(AudiospecError, match="fewer than patch_frames=64; use clips of at least"):
        analyze_corpus(waves[:, :1000], labels, sample_rate=SR, config=FAST, progress=False)
    with pytest.raises(AudiospecError, match="differs from the corpus rate 16000"):
        analyze_corpus(waves, labels, sample_rate=16000, config=FAST, progress=False)
    with pytest.raises(AudiospecError, match="one label each"):
        analyze_corpus(waves, labels[:2], sample_rate=SR, config=FAST, progress=False)
    with pytest.raises(AudiospecError, match="non-finite"):
        bad = waves.clone()
        bad[0, 5] = float("nan")
        analyze_corpus(bad, labels, sample_rate=SR, config=FAST, progress=False)
    with pytest.raises(AudiospecError, match="constant"):
        analyze_corpus(torch.zeros_like(waves), labels, sample_rate=SR, config=FAST, progress=False)
    with pytest.raises(AudiospecError, match="hinge_times"):
        AnalysisConfig(hinge_times=(0.5, 1.5))


def test_results_round_trip_through_json(brown, tmp_path):
    results, _ = brown
    write_json(tmp_path / "analysis.json", to_json(results))
    assert read_result(AnalysisResult, tmp_path / "analysis.json") == results


def test_a_damaged_results_file_names_the_missing_field(brown, tmp_path):
    results, _ = brown
    data = to_json(results)
    del data["mel"]["pysteps_mode_no_window"]
    (tmp_path / "analysis.json").write_text(json.dumps(data))
    with pytest.raises(AudiospecError, match=r"analysis.json.mel.*pysteps_mode_no_window.*re-run the step"):
        read_result(AnalysisResult, tmp_path / "analysis.json")
