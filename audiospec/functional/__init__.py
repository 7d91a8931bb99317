"""Pure, batched torch functions (any leading dims, CPU or CUDA, keyword-only options).

Shape convention: waveforms ``[..., L]``; spectra and mel-spectrograms ``[..., F, T]``;
model batches ``[B, C, F, T]``; per-example times ``[B]``.
"""

from audiospec.functional.autoregression import (
    autoregression_order,
    crossing_time,
    max_detectable_frequency,
    snr_per_frequency,
)
from audiospec.functional.band_steps import band_step_shares, directional_share, ridge_r2
from audiospec.functional.blur import blur_transfer, gaussian_blur
from audiospec.functional.cepstrum import (
    band_edges,
    cepstral_power,
    cepstrum,
    dct,
    dct2_spectrum,
    dct_matrix,
    expected_cepstral_power,
    quefrency_bands,
)
from audiospec.functional.mel import log_mel_spectrogram, mel_filterbank, power_to_db, stft_power
from audiospec.functional.noise import (
    add_noise,
    add_noise_at_time,
    colored_noise,
    estimate_spectrum,
    hermitian_weights,
    matched_noise,
    normalize_spectrum,
    power_law_spectrum,
    radial_frequency,
)
from audiospec.functional.powerlaw import PowerLawFit, fit_loglog_polynomial, fit_power_law, log_resample
from audiospec.functional.ranks import rankdata, spearman
from audiospec.functional.rapsd import RadialSpectrum, RingMap, rapsd, ring_map, ring_weights
from audiospec.functional.schedules import log_snr, process_coefficients, time_from_log_snr
from audiospec.functional.spectra import Spectrum, log_domain_mean, power_spectrum
from audiospec.functional.stats import (
    bootstrap_interval,
    hierarchical_bootstrap,
    holm,
    holm_adjusted,
    mean_confidence_interval,
    paired_bootstrap_pvalue,
    sign_flip_pvalue,
    smallest_sign_flip_p,
)

__all__ = [
    "PowerLawFit",
    "RadialSpectrum",
    "RingMap",
    "Spectrum",
    "add_noise",
    "add_noise_at_time",
    "autoregression_order",
    "band_edges",
    "blur_transfer",
    "cepstral_power",
    "cepstrum",
    "colored_noise",
    "crossing_time",
    "dct",
    "dct2_spectrum",
    "dct_matrix",
    "estimate_spectrum",
    "expected_cepstral_power",
    "fit_loglog_polynomial",
    "fit_power_law",
    "gaussian_blur",
    "hermitian_weights",
    "log_domain_mean",
    "log_mel_spectrogram",
    "log_resample",
    "log_snr",
    "matched_noise",
    "max_detectable_frequency",
    "mean_confidence_interval",
    "mel_filterbank",
    "normalize_spectrum",
    "power_law_spectrum",
    "power_spectrum",
    "power_to_db",
    "process_coefficients",
    "quefrency_bands",
    "radial_frequency",
    "rankdata",
    "rapsd",
    "ring_map",
    "ring_weights",
    "snr_per_frequency",
    "spearman",
    "bootstrap_interval",
    "hierarchical_bootstrap",
    "holm",
    "smallest_sign_flip_p",
    "band_step_shares",
    "directional_share",
    "ridge_r2",
    "holm_adjusted",
    "paired_bootstrap_pvalue",
    "sign_flip_pvalue",
    "stft_power",
    "time_from_log_snr",
]
