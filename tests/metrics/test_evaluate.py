"""evaluate_samples: every metric in one JSON-ready dict, clean skips, and input checks."""

from __future__ import annotations

import json
import math
import sys

import numpy as np
import pytest
import soundfile
from helpers_metrics import corrupted, two_class_patches

from audiospec.atomic import write_json
from audiospec.errors import AudiospecError
from audiospec.metrics import evaluate_samples, frechet_distance, log_spectral_distance, summarize_runs
from audiospec.metrics.kid import kernel_inception_distance
from audiospec.metrics.projection import fit_projection

SPECTRAL_KEYS = ["lsd", "rapsd_error", "cepstrum_error", "mcd_mean", "mcd_nn_mean", "mcd_nn_std", "mcd_nn_real_mean"]
CLASSIFIER_KEYS = ["kid_classifier", "fd_classifier", "confidence", "entropy", "marginal_entropy", "inception_score", "class_tv",
                   "real_confidence", "real_entropy", "real_accuracy"]


def test_all_metrics_with_a_classifier(trained, tmp_path):
    real, labels = two_class_patches(16, seed=5)
    gen = corrupted(real, 0.3).float()
    result = evaluate_samples(gen, real, classifier=trained, real_labels=labels)
    assert result["n_generated"] == 32 and result["n_real"] == 32
    for key in SPECTRAL_KEYS + CLASSIFIER_KEYS + ["class_fraction_rough", "class_fraction_smooth"]:
        assert isinstance(result[key], float) and math.isfinite(result[key]), key
    assert result["lsd"] == pytest.approx(log_spectral_distance(gen, real))
    # 32 samples: FD on a 3-dimensional projection (>= 10 samples per dimension), fitted on the real set
    assert result["fd_dims"] == 3
    projection = fit_projection(trained.embed(real), dims=3)
    assert result["fd_classifier"] == pytest.approx(
        frechet_distance(projection.apply(trained.embed(gen)), projection.apply(trained.embed(real))))
    assert result["kid_classifier"] == pytest.approx(kernel_inception_distance(trained.embed(gen), trained.embed(real)))
    assert isinstance(result["kid_rough"], float) and isinstance(result["kid_smooth"], float)
    assert result["real_accuracy"] > 0.9
    assert result["class_fraction_rough"] + result["class_fraction_smooth"] == pytest.approx(1.0)
    assert result["fad"] is None and "no audio folders" in result["fad_skipped"]
    assert result["classifier_skipped"] is None
    write_json(tmp_path / "metrics.json", result)  # JSON-ready (NaN would become null)
    assert json.loads((tmp_path / "metrics.json").read_text())["lsd"] == pytest.approx(result["lsd"])


def test_identical_sets_score_zero(trained):
    real, _ = two_class_patches(12, seed=6)
    result = evaluate_samples(real, real, classifier=trained)
    for key in ["lsd", "rapsd_error", "cepstrum_error", "mcd_mean", "mcd_nn_mean", "class_tv"]:
        assert result[key] == 0.0, key
    assert result["fd_classifier"] == pytest.approx(0.0, abs=1e-3)
    assert result["kid_classifier"] < 0.05  # unbiased: ~0 for one set against itself, up to the diagonal terms
    assert result["confidence"] == result["real_confidence"] and result["real_accuracy"] is None


def test_without_a_classifier_those_metrics_are_none():
    real, _ = two_class_patches(6, M=16, T=16)
    result = evaluate_samples(corrupted(real, 0.5), real, classifier=None)
    assert all(result[key] is None for key in CLASSIFIER_KEYS)
    assert "no classifier given" in result["classifier_skipped"]
    assert result["lsd"] > 0


def test_fad_is_skipped_cleanly_when_fadtk_is_unavailable(tmp_path, monkeypatch):
    for name in ("fadtk", "fadtk.fad", "fadtk.model_loader"):
        monkeypatch.setitem(sys.modules, name, None)
    for folder in ("gen", "real"):
        (tmp_path / folder).mkdir()
        for i in range(2):
            soundfile.write(tmp_path / folder / f"{i}.wav", np.zeros(800), 16000)
    real, _ = two_class_patches(4, M=16, T=16)
    result = evaluate_samples(real, real, classifier=None, generated_audio_dir=tmp_path / "gen",
                              real_audio_dir=tmp_path / "real")
    assert result["fad"] is None and result["fad_model"] == "vggish"
    assert "fadtk" in result["fad_skipped"] and "cannot be imported" in result["fad_skipped"]


def test_bad_arguments_raise(trained):
    real, labels = two_class_patches(4)
    with pytest.raises(AudiospecError, match=r"pass both or neither"):
        evaluate_samples(real, real, classifier=None, generated_audio_dir="somewhere")
    with pytest.raises(AudiospecError, match=r"real_labels were given without a classifier"):
        evaluate_samples(real, real, classifier=None, real_labels=labels)
    with pytest.raises(AudiospecError, match=r"got 3 labels, unknown names \[\]"):
        evaluate_samples(real, real, classifier=trained, real_labels=labels[:3])
    with pytest.raises(AudiospecError, match=r"unknown names \['speech'\]"):
        evaluate_samples(real, real, classifier=trained, real_labels=["speech"] * 8)
    with pytest.raises(AudiospecError, match=r"same number of mel bands"):
        evaluate_samples(real[:, :, :16], real, classifier=None)


def test_summarize_runs_gives_mean_and_t_interval_over_seeds():
    runs = [{"lsd": 1.0, "fad": None, "fad_skipped": "x", "n_real": 4},
            {"lsd": 2.0, "fad": None, "fad_skipped": "x", "n_real": 4},
            {"lsd": 3.0, "fad": None, "fad_skipped": "x", "n_real": 4}]
    summary = summarize_runs(runs)
    assert set(summary) == {"lsd", "n_real"}
    assert summary["lsd"]["mean"] == 2.0 and summary["lsd"]["n"] == 3
    half = 4.302652729911275 * 1.0 / math.sqrt(3)  # t_{0.975, 2} * sd / sqrt(n)
    assert summary["lsd"]["low"] == pytest.approx(2.0 - half) and summary["lsd"]["high"] == pytest.approx(2.0 + half)
    with pytest.raises(AudiospecError, match="at least one run"):
        summarize_runs([])


def test_memorisation_ratio_flags_copies_of_training_patches(trained):
    train, _ = two_class_patches(16, seed=7)
    test, _ = two_class_patches(16, seed=8)
    copies = evaluate_samples(train[:16] + 0.01, test, classifier=None, train=train)
    fresh = evaluate_samples(two_class_patches(8, seed=9)[0], test, classifier=None, train=train)
    assert copies["memorisation_ratio"] < 0.1 < fresh["memorisation_ratio"]  # measured: 0.007 vs ~1.0
