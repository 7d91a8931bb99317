"""Typed results of the stages, and their JSON form.

The stages return these frozen dataclasses of numbers; the report and the CLI read their attributes and turn
them into words and figures (:mod:`audiospec.report`). They serialise with :func:`to_json` to the JSON files of
each stage folder (``analysis.json``, ``compare/results.json``, ...) and are read back, checked field by field,
with :func:`from_json` (a file that lacks a field is an :class:`AudiospecError` naming it). Tables are keyed
arm -> step count (an integer; a string in JSON) -> metric. Non-finite floats are stored as ``null``, hence the
``float | None`` fields. Files written before the stages returned numbers only also hold their sentences and
figure names (:data:`LEGACY_WORDS`); reading skips them.
"""

from __future__ import annotations

import dataclasses
from dataclasses import dataclass, field
from pathlib import Path
from typing import Any, TypeVar

from audiospec.atomic import read_json
from audiospec.config import config_from_dict, config_to_dict
from audiospec.errors import AudiospecError
from audiospec.experiments.listen import read_manifest
from audiospec.measures.ordering import Measurement, ViewOrder
from audiospec.measures.statistics import Difference, Interval

__all__ = [
    "PowerLawSummary", "WaveformShape", "WaveformSummary", "MelSummary", "CepstrumSummary", "Normalisation",
    "FmaxTable", "SkippedInput", "AnalysisResult", "ListeningFile", "CorruptResult", "Interval", "Difference",
    "ViewOrder", "Measurement", "OrderScores", "SweepEntry", "SensitivityRow", "CompareResult", "SwapRow",
    "LikelihoodRow", "ProbeResult", "BaselinesResult", "CurvePoint", "CurveResult", "CALIBRATION", "LEGACY_WORDS",
    "QualityTable", "DifferenceTable", "from_json", "to_json", "read_result", "read_json",
]

QualityTable = dict[str, dict[int, dict[str, Interval]]]
"""arm -> step count -> metric -> mean and interval over seeds."""
DifferenceTable = dict[str, dict[int, dict[str, Difference | None]]]
"""arm -> step count -> metric -> paired difference to the arm's reference (None: no pair)."""
LEGACY_WORDS = ("answers", "findings", "verdicts", "plots")
"""Keys of result files written when stages also wrote sentences and figures (skipped when read)."""

R = TypeVar("R")


@dataclass(frozen=True)
class PowerLawSummary:
    """A power-law fit: ``alpha`` (= −slope), bootstrap ``ci``, ``r2``, ``intercept``, ``n`` spectra."""

    alpha: float
    ci: tuple[float, float] | None
    r2: float
    intercept: float
    n: int


@dataclass(frozen=True)
class WaveformShape:
    """The mean waveform spectrum of one class (or all): peak, rise, monotonicity, power-law fit."""

    peak_hz: float
    rise_db: float
    rising_fraction: float
    monotonic_decreasing: bool
    order_spearman: float
    power_law: PowerLawSummary


@dataclass(frozen=True)
class WaveformSummary(WaveformShape):
    by_class: dict[str, WaveformShape]


@dataclass(frozen=True)
class Normalisation:
    """Model space = (log-mel dB − ``mean_db``) / ``std_db``; ``mean_db`` is one number or one per mel bin."""

    mean_db: float | tuple[float, ...]
    std_db: float


@dataclass(frozen=True)
class MelSummary(PowerLawSummary):
    """Power-law fit of the log-mel RAPSD, per class and in the blog post's (pysteps) convention."""

    by_class: dict[str, PowerLawSummary]
    pysteps_mode_no_window: PowerLawSummary
    n_patches: int
    patch_shape: tuple[int, int]
    normalisation: Normalisation
    rapsd_mode: str
    rapsd_window: str
    ring_step: str


@dataclass(frozen=True)
class CepstrumSummary(PowerLawSummary):
    by_class: dict[str, PowerLawSummary]


@dataclass(frozen=True)
class FmaxTable:
    """f_max(t) per domain and prior name (cycles/sample; ``waveform_hz`` in Hz)."""

    t: tuple[float, ...]
    units: str
    waveform: dict[str, tuple[float, ...]]
    mel: dict[str, tuple[float, ...]]
    cepstrum: dict[str, tuple[float, ...]]
    waveform_hz: dict[str, tuple[float, ...]]


@dataclass(frozen=True)
class SkippedInput:
    """An input file left out of the corpus, and why."""

    path: str
    reason: str


@dataclass(frozen=True)
class AnalysisResult:
    """Everything ``analysis.json`` holds (see the README's table of keys)."""

    n_clips: int
    sample_rate: int
    clip_seconds: float
    classes: dict[str, int]
    waveform: WaveformSummary
    mel: MelSummary
    cepstrum: CepstrumSummary
    autoregression_order: dict[str, dict[str, float]]
    f_max: FmaxTable
    config: dict[str, Any]
    dataset: str = ""
    skipped: tuple[SkippedInput, ...] = ()
    source_rates: dict[str, int] | None = None


@dataclass(frozen=True)
class OrderScores:
    """One prior's order: (a) the exact linear-Gaussian model, (b) the control network, the trained models.

    ``trained_order``: per view, the mean over seeds with a two-level bootstrap interval
    (seeds, then samples). (b) ≈ (a) says the measure and the network are unbiased.
    """

    exact: Measurement
    control: Measurement | None
    trained: tuple[Measurement, ...]
    trained_order: dict[str, Interval]


@dataclass(frozen=True)
class SweepEntry:
    """One prior of the colour sweep: β (None for matched), the exact model's order and spread, and, when
    trained, the trained models' content order per view and their quality at the fewest sampling steps."""

    beta: float | None
    exact: Measurement
    trained_order: dict[str, Interval] | None = None
    quality: dict[str, Interval] | None = None


@dataclass(frozen=True)
class SensitivityRow:
    """The content order of one prior and view under other measurement settings."""

    prior: str
    model: str  # "exact" or "trained (seed s)"
    view: str
    threshold: float
    n_bands: int
    steps: int
    order: float


@dataclass(frozen=True)
class CompareResult:
    """Everything ``compare/results.json`` holds; metric tables are keyed prior -> steps -> metric.

    Every quality metric compares samples with the *test* split (``n_test_patches``); ``floors``
    holds the reference rows (real training patches, Gaussian fields with the training spectrum)
    and ``prior_baseline`` each prior's own noise (no learning).
    """

    priors: tuple[str, ...]
    seeds: tuple[int, ...]
    steps: tuple[int, ...]
    sampler: str
    metrics: QualityTable
    prior_baseline: dict[str, dict[str, Any]]
    difference_to_white: DifferenceTable
    autoregression_order: dict[str, OrderScores] = field(default_factory=dict)
    colour_sweep: dict[str, SweepEntry] | None = None
    alpha_hat: float | None = None
    sensitivity: tuple[SensitivityRow, ...] = ()
    floors: dict[str, dict[str, Any]] | None = None
    n_test_patches: int = 0
    label: str = ""
    normalisation: Normalisation | None = None
    n_patches: int = 0
    classifier: dict[str, Any] | None = None
    arms: dict[str, str] = field(default_factory=dict)  # extra arm -> its reference arm (whitened loss, grids)
    arm_differences: DifferenceTable = field(default_factory=dict)


@dataclass(frozen=True)
class SwapRow:
    """One prior at one swap time: donor share of the un-swapped (high) bands pooled (mean over pairs of each pair's
    ratio) for the trained models and the exact Gaussian model, their paired difference (``excess``, interval at
    the family's Bonferroni level), the exact sign-flip ``p_value`` over per-seed mean excesses, Holm-adjusted
    within its family (``primary``: one pre-specified swap time per prior; secondary: the others), and the per-band
    shares (ratio of sums over pairs, averaged over seeds) behind the figure."""

    prior: str
    time: float
    trained: Interval
    exact: Interval
    excess: Interval
    reliable: bool
    band_shares: tuple[float, ...]
    exact_band_shares: tuple[float, ...]
    p_value: float | None = None
    p_holm: float | None = None
    primary: bool = False


@dataclass(frozen=True)
class LikelihoodRow:
    """Bits per dimension of the test patches under one model family (or the closed-form Gaussian, ``kind``
    "gaussian"); for priors the paired difference to white (crossed bootstrap over seeds and the shared test
    patches, exact sign-flip ``p_value`` over seeds, Holm-adjusted), the calibration (ODE on the exact field −
    closed form) and the integration check (first seed: half the steps − full). ``trusted`` is False when either
    check is at least half the difference: then no verdict is drawn."""

    name: str
    bits_per_dim: Interval
    versus_white: Interval | None = None
    reliable: bool = False
    calibration: float | None = None
    integration: float | None = None
    kind: str = "prior"
    p_value: float | None = None
    p_holm: float | None = None
    trusted: bool = True


@dataclass(frozen=True)
class ProbeResult:
    """``probe.json``."""

    swap: tuple[SwapRow, ...]
    likelihood: tuple[LikelihoodRow, ...]
    band_centres: tuple[float, ...]
    kept_bands: tuple[int, ...]
    k_cut: int
    swap_level: float  # the primary family's interval level
    likelihood_level: float
    seeds: tuple[int, ...]
    n_pairs: int
    n_test_patches: int
    swap_secondary_level: float | None = None


CALIBRATION = "exact Gaussian, "
"""Prefix of a baseline's calibration row in :class:`BaselinesResult` tables: + the baseline's name."""


@dataclass(frozen=True)
class BaselinesResult:
    """``baselines/baselines.json``: the coarse-to-fine baselines beside the diffusion models (tables keyed
    arm -> steps -> metric, as :class:`CompareResult`'s; ``names`` = the priors, then the baselines); calibration rows
    ``exact Gaussian, <baseline>`` in ``metrics``; ``orders``: the commit measure's cepstrum content order per
    baseline; ``n_stages``: the cepstral model's bands; ``train_steps_per_second``: measured throughput per arm;
    ``budgets``: training steps, batch size and network evaluations per sampling step per arm, from its records."""

    kinds: tuple[str, ...]
    names: tuple[str, ...]
    seeds: tuple[int, ...]
    steps: tuple[int, ...]
    primary_steps: int
    metrics: QualityTable
    difference_to_white: DifferenceTable
    floors: dict[str, dict[str, Any]]
    orders: dict[str, Interval]
    n_stages: int
    heat_eta: float
    n_test_patches: int
    train_steps_per_second: dict[str, float] = field(default_factory=dict)
    budgets: dict[str, Any] = field(default_factory=dict)  # per arm, as its checkpoints record (None: seeds differ)
    equal_compute: bool | None = None  # the baselines' budgets and NFE equal the white diffusion model's


@dataclass(frozen=True)
class CurvePoint:
    """One checkpoint of one model: training loss (mean of the last ``log`` steps), held-out loss, held-out KID."""

    prior: str
    seed: int
    step: int
    train_loss: float
    heldout_loss: float
    kid: Interval
    seconds: float  # training time of the steps this call ran (0 when they were already done)
    steps_run: int


@dataclass(frozen=True)
class CurveResult:
    """``curve.json``: every point, and per prior the plateau verdict at each checkpoint (seed-averaged KID and
    held-out loss) for the rule's ``plateau_fraction`` and ``loss_tolerance``; ``budget``: the comparison's training
    steps, whose verdict is the headline."""

    points: tuple[CurvePoint, ...]
    plateau: dict[str, dict[int, bool | None]]
    loss_plateau: dict[str, dict[int, bool | None]]
    sample_steps: int
    n_samples: int
    n_validation_patches: int
    n_train_patches: int
    steps_per_second: float
    budget: int | None = None
    checkpoints: tuple[int, ...] = ()
    plateau_fraction: float = 0.2
    loss_tolerance: float = 0.01


@dataclass(frozen=True)
class ListeningFile:
    """One audio file of a listening set, with its spectrogram image (drawn by the report), relative to the folder
    of the manifest: its clip (a number, or a name such as ``"trajectory"``), label, domain, prior, level and gain."""

    clip: int | str
    label: str
    domain: str
    prior: str
    level: str
    wav: str
    png: str
    gain: float = 1.0


@dataclass(frozen=True)
class CorruptResult:
    """``corrupt.json``: the listening set of clean, noised and blurred clips, and the mel normalisation used."""

    sample_rate: int
    files: tuple[ListeningFile, ...]
    mel_normalisation: dict[str, Any] = field(default_factory=dict)

    @classmethod
    def read(cls, path: Path) -> "CorruptResult":
        """``corrupt.json``, each listening entry checked first (:func:`~audiospec.experiments.listen.read_manifest`:
        the message names a damaged entry)."""
        return from_json(cls, read_manifest(path), where=str(path))


def to_json(result: Any) -> dict[str, Any]:
    """The plain JSON-ready form of a result dataclass."""
    return config_to_dict(result)


def from_json(cls: type[R], data: Any, *, where: str) -> R:
    """Rebuild ``cls`` from its JSON form, checking every field (AudiospecError naming a missing or wrong one); the
    sentences and figure names of older files (:data:`LEGACY_WORDS`) are skipped."""
    if isinstance(data, dict) and dataclasses.is_dataclass(cls):
        fields = {f.name for f in dataclasses.fields(cls)}
        data = {key: value for key, value in data.items() if key in fields or key not in LEGACY_WORDS}
    try:
        return config_from_dict(cls, data, where=where)
    except AudiospecError as err:
        raise AudiospecError(f"{err}; the file is damaged or from another version: re-run the step that writes it") from None


def read_result(cls: type[R], path: Path) -> R:
    """Read a result JSON file written by :func:`audiospec.atomic.write_json` (with the class's own ``read`` when it
    has one)."""
    reader = getattr(cls, "read", None)
    return reader(path) if reader is not None else from_json(cls, read_json(path), where=str(path))
