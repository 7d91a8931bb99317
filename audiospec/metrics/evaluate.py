"""All offline sample-quality metrics of a generated set against a real set, in one JSON-ready dict."""

from __future__ import annotations

from collections.abc import Sequence
from pathlib import Path

import torch

from audiospec.errors import AudiospecError
from audiospec.metrics._patches import as_patch_pair
from audiospec.metrics.classifier import TrainedClassifier
from audiospec.metrics.classifier_stats import classifier_statistics
from audiospec.metrics.fad import FadModel, MetricUnavailable, frechet_audio_distance
from audiospec.metrics.frechet import frechet_distance
from audiospec.metrics.mcd import mel_cepstral_distortion_stats
from audiospec.metrics.spectral import cepstrum_error, log_spectral_distance, rapsd_error

__all__ = ["evaluate_samples"]

Value = float | int | str | None


def _classifier_metrics(
    gen: torch.Tensor, ref: torch.Tensor, *, classifier: TrainedClassifier, real_labels: Sequence[str] | None
) -> dict[str, Value]:
    """fd_classifier, the generated set's classifier statistics, and the real set's for reference."""
    if isinstance(real_labels, str):
        raise AudiospecError(f"real_labels must be a list of class names, got the string {real_labels!r}")
    unknown = sorted(set(real_labels or ()) - set(classifier.classes))
    if real_labels is not None and (len(real_labels) != ref.shape[0] or unknown):
        raise AudiospecError(
            f"real_labels must name one of the classifier's classes {list(classifier.classes)} for each of the "
            f"{ref.shape[0]} real patches; got {len(real_labels)} labels, unknown names {unknown}"
        )
    gen_proba = classifier.predict_proba(gen)
    ref_proba = classifier.predict_proba(ref)
    gen_stats = classifier_statistics(gen_proba, classes=classifier.classes)
    ref_stats = classifier_statistics(ref_proba, classes=classifier.classes)
    gen_frac, ref_frac = gen_stats["class_fractions"], ref_stats["class_fractions"]
    out: dict[str, Value] = {
        "fd_classifier": frechet_distance(classifier.embed(gen), classifier.embed(ref)),
        "confidence": gen_stats["confidence"],
        "entropy": gen_stats["entropy"],
        "marginal_entropy": gen_stats["marginal_entropy"],
        "inception_score": gen_stats["inception_score"],
        "class_tv": 0.5 * sum(abs(gen_frac[c] - ref_frac[c]) for c in classifier.classes),
        "real_confidence": ref_stats["confidence"],
        "real_entropy": ref_stats["entropy"],
        "real_accuracy": None,
    }
    if real_labels is not None:
        index = {name: i for i, name in enumerate(classifier.classes)}
        target = torch.tensor([index[label] for label in real_labels], device=ref_proba.device)
        out["real_accuracy"] = float((ref_proba.argmax(dim=-1) == target).double().mean())
    for name in classifier.classes:
        out[f"class_fraction_{name}"] = gen_frac[name]
    return out


def _fad_metrics(
    generated_audio_dir: str | Path | None, real_audio_dir: str | Path | None, *, fad_model: FadModel
) -> dict[str, Value]:
    """``fad``, ``fad_model`` and ``fad_skipped`` (why FAD did not run, or None when it ran)."""
    out: dict[str, Value] = {"fad": None, "fad_model": fad_model, "fad_skipped": None}
    if generated_audio_dir is None:
        out["fad_skipped"] = "no audio folders given (pass generated_audio_dir and real_audio_dir)"
    else:
        try:
            out["fad"] = frechet_audio_distance(generated_audio_dir, real_audio_dir, model=fad_model)
        except MetricUnavailable as err:
            out["fad_skipped"] = str(err)
    return out


def evaluate_samples(
    generated: torch.Tensor,
    real: torch.Tensor,
    *,
    classifier: TrainedClassifier | None,
    real_labels: Sequence[str] | None = None,
    n_mcd_coeffs: int = 13,
    generated_audio_dir: str | Path | None = None,
    real_audio_dir: str | Path | None = None,
    fad_model: FadModel = "vggish",
) -> dict[str, Value]:
    """Compare ``generated`` ``[N, 1, M, T]`` with ``real`` ``[K, 1, M, T]`` standardised log-mel patches.

    Keys (floats unless noted; None where a metric was skipped):

    - ``n_generated``, ``n_real`` (ints);
    - ``lsd``, ``rapsd_error``, ``cepstrum_error`` (:mod:`audiospec.metrics.spectral`);
    - ``mcd_mean``, ``mcd_nn_mean``, ``mcd_nn_std``, ``mcd_nn_real_mean`` (:mod:`audiospec.metrics.mcd`,
      coefficients c_1..c_``n_mcd_coeffs``);
    - with a ``classifier``: ``fd_classifier`` (Fréchet distance of its embeddings),
      ``confidence``, ``entropy``, ``marginal_entropy``, ``inception_score`` and
      ``class_fraction_<class>`` of the generated set
      (:func:`audiospec.metrics.classifier_statistics`), ``class_tv`` (total variation
      between the generated and real predicted-class histograms), ``real_confidence``,
      ``real_entropy`` (the real set's values, the scale to read the generated ones on) and
      ``real_accuracy`` (accuracy on the real set; needs ``real_labels``, one class name per
      real patch). Without one these are None and ``classifier_skipped`` (str) says why;
    - ``fad`` (FAD between ``generated_audio_dir`` and ``real_audio_dir`` via fadtk's
      ``fad_model``), ``fad_model`` (str) and ``fad_skipped`` (str reason, or None when FAD ran).
    """
    gen, ref = as_patch_pair(generated, real)
    if (generated_audio_dir is None) != (real_audio_dir is None):
        raise AudiospecError(
            f"FAD needs both audio folders, got generated_audio_dir={generated_audio_dir!r}, "
            f"real_audio_dir={real_audio_dir!r}; pass both or neither"
        )
    if real_labels is not None and classifier is None:
        raise AudiospecError("real_labels were given without a classifier; pass classifier=... or drop real_labels")
    result: dict[str, Value] = {"n_generated": int(gen.shape[0]), "n_real": int(ref.shape[0])}
    result["lsd"] = log_spectral_distance(gen, ref)
    result["rapsd_error"] = rapsd_error(gen, ref)
    result["cepstrum_error"] = cepstrum_error(gen, ref)
    result.update(mel_cepstral_distortion_stats(gen, ref, n_coeffs=n_mcd_coeffs))

    if classifier is not None:
        result.update(_classifier_metrics(gen, ref, classifier=classifier, real_labels=real_labels))
        result["classifier_skipped"] = None
    else:
        for key in ("fd_classifier", "confidence", "entropy", "marginal_entropy", "inception_score", "class_tv",
                    "real_confidence", "real_entropy", "real_accuracy"):
            result[key] = None
        result["classifier_skipped"] = "no classifier given (train one with train_classifier on real patches)"

    result.update(_fad_metrics(generated_audio_dir, real_audio_dir, fad_model=fad_model))
    return result
