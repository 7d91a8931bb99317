"""Offline sample-quality metrics: a generated set of standardised log-mel patches
``[N, 1, M, T]`` against a real set ``[K, 1, M, T]``.

- :func:`frechet_distance` — Fréchet distance between Gaussians fitted to embeddings.
- :func:`train_classifier` / :class:`TrainedClassifier` — the project's small music/speech
  classifier whose embeddings feed the Fréchet distance (``fd_classifier``).
- :func:`classifier_statistics` — confidence, entropy and class histogram of its predictions.
- :func:`log_spectral_distance`, :func:`rapsd_error`, :func:`cepstrum_error`,
  :func:`mel_cepstral_distortion_stats` — spectral distances between the sets.
- :func:`kernel_inception_distance` / :func:`kid_subsets` — unbiased MMD^2 (KID) between embeddings.
- :func:`fit_projection` / :func:`projected_frechet_distance` — FD in a PCA projection of train embeddings.
- :func:`nearest_distances` / :func:`memorisation_ratio` — nearest-training-patch distances (copying check).
- :func:`frechet_audio_distance` — optional FAD through fadtk (:class:`MetricUnavailable` offline).
- :func:`evaluate_samples` — all of the above in one JSON-ready dict;
  :func:`summarize_runs` — mean and 95% CI over seeds.
"""

from audiospec.metrics.aggregate import summarize_runs
from audiospec.metrics.classifier import ClassifierConfig, MelClassifier, TrainedClassifier, TrainingReport
from audiospec.metrics.classifier_stats import classifier_statistics
from audiospec.metrics.evaluate import evaluate_samples
from audiospec.metrics.fad import FadModel, MetricUnavailable, fad_requirements, frechet_audio_distance
from audiospec.metrics.frechet import frechet_distance, frechet_distance_from_statistics, gaussian_statistics
from audiospec.metrics.kid import kernel_inception_distance, kid_subsets
from audiospec.metrics.mcd import MCD_CONSTANT, mean_cepstra, mel_cepstral_distortion, mel_cepstral_distortion_stats
from audiospec.metrics.memorisation import MemorisationRatio, memorisation_ratio, nearest_distances
from audiospec.metrics.projection import Projection, fit_projection, projected_frechet_distance
from audiospec.metrics.spectral import (
    cepstrum_error,
    log_spectral_distance,
    mean_cepstral_power,
    mean_rapsd,
    mel_profile,
    rapsd_error,
)
from audiospec.metrics.training import stratified_split, train_classifier

__all__ = [
    "MCD_CONSTANT",
    "ClassifierConfig",
    "FadModel",
    "MelClassifier",
    "MemorisationRatio",
    "MetricUnavailable",
    "Projection",
    "TrainedClassifier",
    "TrainingReport",
    "cepstrum_error",
    "classifier_statistics",
    "evaluate_samples",
    "fad_requirements",
    "fit_projection",
    "frechet_audio_distance",
    "frechet_distance",
    "frechet_distance_from_statistics",
    "gaussian_statistics",
    "kernel_inception_distance",
    "kid_subsets",
    "log_spectral_distance",
    "mean_cepstra",
    "mean_cepstral_power",
    "mean_rapsd",
    "mel_cepstral_distortion",
    "mel_cepstral_distortion_stats",
    "mel_profile",
    "memorisation_ratio",
    "nearest_distances",
    "projected_frechet_distance",
    "rapsd_error",
    "stratified_split",
    "summarize_runs",
    "train_classifier",
]
