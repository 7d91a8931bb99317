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
from audiospec.metrics.kid import kernel_inception_distance
from audiospec.metrics.memorisation import memorisation_ratio
from audiospec.metrics.projection import fit_projection, projected_frechet_distance
from audiospec.metrics.mcd import mel_cepstral_distortion_stats
from audiospec.metrics.spectral import cepstrum_error, log_spectral_distance, rapsd_error

__all__ = ["evaluate_samples"]

Value = float | int | str | None


_CLASSIFIER_KEYS = ("kid_classifier", "fd_classifier", "fd_dims", "confidence", "entropy", "marginal_entropy",
                    "inception_score", "class_tv", "real_confidence", "real_entropy", "real_accuracy")


def _classifier_metrics(
    gen: torch.Tensor, ref: torch.Tensor, *, classifier: TrainedClassifier | None, real_labels: Sequence[str] | None
) -> dict[str, Value]:
    """KID / FD of the embeddings, the generated set's classifier statistics, and the real set's for reference
    (all None, with ``classifier_skipped`` saying why, without a classifier)."""
    if classifier is None:
        return {**dict.fromkeys(_CLASSIFIER_KEYS),
                "classifier_skipped": "no classifier given (train one with train_classifier on real patches)"}
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
    gen_emb, ref_emb = classifier.embed(gen), classifier.embed(ref)
    out: dict[str, Value] = {
        **_embedding_distances(gen_emb, ref_emb),
        "confidence": gen_stats["confidence"],
        "entropy": gen_stats["entropy"],
        "marginal_entropy": gen_stats["marginal_entropy"],
        "inception_score": gen_stats["inception_score"],
        "class_tv": 0.5 * sum(abs(gen_frac[c] - ref_frac[c]) for c in classifier.classes),
        "real_confidence": ref_stats["confidence"],
        "real_entropy": ref_stats["entropy"],
        "real_accuracy": None,
        "classifier_skipped": None,
    }
    target = None
    if real_labels is not None:
        index = {name: i for i, name in enumerate(classifier.classes)}
        target = torch.tensor([index[label] for label in real_labels], device=ref_proba.device)
        out["real_accuracy"] = float((ref_proba.argmax(dim=-1) == target).double().mean())
    for name in classifier.classes:
        out[f"class_fraction_{name}"] = gen_frac[name]
    ref_class = target if real_labels is not None else ref_proba.argmax(dim=-1)
    out.update(_per_class_kid(gen_emb, gen_proba.argmax(dim=-1), ref_emb, ref_class, classifier.classes))
    return out


def _embedding_distances(gen_emb: torch.Tensor, ref_emb: torch.Tensor) -> dict[str, Value]:
    """KID (unbiased, cubic kernel) of two embedding sets ``[N, D]``, ``[K, D]``, and the Fréchet distance on a
    PCA projection (fitted on the real set) of ``fd_dims`` <= 16 dimensions with at least 10 samples per dimension:
    in the full embedding FD is dominated by the bias of singular covariances at these sample sizes."""
    dims = min(16, min(gen_emb.shape[0], ref_emb.shape[0]) // 10, gen_emb.shape[1])
    fd = None
    if dims >= 1:
        projection = fit_projection(ref_emb, dims=dims)
        fd = projected_frechet_distance(gen_emb, ref_emb, projection)
    return {"kid_classifier": kernel_inception_distance(gen_emb, ref_emb), "fd_classifier": fd, "fd_dims": dims}


def _per_class_kid(gen_emb: torch.Tensor, gen_class: torch.Tensor, ref_emb: torch.Tensor, ref_class: torch.Tensor,
                   classes: Sequence[str]) -> dict[str, Value]:
    """``kid_<class>``: KID between the generated patches the classifier assigns to a class and that class's real
    patches (None when either side has fewer than 2)."""
    out: dict[str, Value] = {}
    for i, name in enumerate(classes):
        gen_c, ref_c = gen_emb[gen_class == i], ref_emb[ref_class.to(ref_emb.device) == i]
        out[f"kid_{name}"] = (kernel_inception_distance(gen_c, ref_c)
                              if gen_c.shape[0] >= 2 and ref_c.shape[0] >= 2 else None)
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
    train: torch.Tensor | None = None,
) -> dict[str, Value]:
    """Compare ``generated`` ``[N, 1, M, T]`` with ``real`` ``[K, 1, M, T]`` standardised log-mel patches.

    Keys (floats unless noted; None where a metric was skipped):

    - ``n_generated``, ``n_real`` (ints);
    - ``lsd``, ``rapsd_error``, ``cepstrum_error`` (:mod:`audiospec.metrics.spectral`);
    - ``mcd_mean``, ``mcd_nn_mean``, ``mcd_nn_std``, ``mcd_nn_real_mean`` (:mod:`audiospec.metrics.mcd`,
      coefficients c_1..c_``n_mcd_coeffs``);
    - with ``train`` (the training patches; ``real`` then is held-out data): ``memorisation_ratio``, the median
      distance of generated patches to their nearest training patch over that of the real (held-out) patches
      (well below 1 flags copies), with ``nn_train_distance`` and ``nn_train_distance_real``;
    - with a ``classifier``: ``kid_classifier`` (unbiased KID of its embeddings, cubic kernel) and ``kid_<class>``
      (generated patches the classifier assigns to the class vs that class's real patches), ``fd_classifier``
      (Fréchet distance on a PCA projection of ``fd_dims`` <= 16 dimensions, >= 10 samples per dimension),
      ``confidence``, ``entropy``, ``marginal_entropy``, ``inception_score`` and
      ``class_fraction_<class>`` of the generated set
      (:func:`audiospec.metrics.classifier_statistics`), ``class_tv`` (total variation
      between the generated and real predicted-class histograms), ``real_confidence``,
      ``real_entropy`` (the real set's values, the scale to read the generated ones on) and
      ``real_accuracy`` (accuracy on the real set; needs ``real_labels``, one class name per
      real patch). Without one these are None and ``classifier_skipped`` (str) says why;
    - ``fad`` (FAD between ``generated_audio_dir`` and ``real_audio_dir`` via fadtk's
      ``fad_model``), ``fad_model`` (str) and ``fad_skipped`` (str reason, or None when FAD ran).

    Args:
        generated: generated patches ``[N, 1, M, T]`` or ``[N, M, T]``.
        real: real (held-out) patches ``[K, 1, M, T]`` or ``[K, M, T]``, same M and T.
        classifier: the metric classifier (None: its metrics are skipped).
        real_labels: one class name per real patch (for ``real_accuracy``).
        n_mcd_coeffs: cepstral coefficients of the MCD, in [1, M - 1].
        generated_audio_dir: folder of generated clips for FAD (with ``real_audio_dir``).
        real_audio_dir: folder of real clips for FAD.
        fad_model: fadtk's embedding model.
        train: training patches ``[M_train, 1, M, T]`` for the memorisation ratio.

    Returns:
        A JSON-ready dict with the keys above.

    Raises:
        AudiospecError: invalid patch sets, only one of the two audio folders, ``real_labels``
            without a classifier or not naming its classes, or an invalid ``n_mcd_coeffs``.
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
    if train is not None:
        ratio = memorisation_ratio(gen, ref, as_patch_pair(train, real)[0])
        result.update(memorisation_ratio=ratio.ratio, nn_train_distance=ratio.sample_to_train,
                      nn_train_distance_real=ratio.test_to_train)

    result.update(_classifier_metrics(gen, ref, classifier=classifier, real_labels=real_labels))

    result.update(_fad_metrics(generated_audio_dir, real_audio_dir, fad_model=fad_model))
    return result
