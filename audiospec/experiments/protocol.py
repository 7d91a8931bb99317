"""The protocol every model stage shares, and the settings of the comparison (YAML section ``compare``).

:class:`ProtocolConfig` is what the compare, curve, probe and baselines stages have in common: the patches (mel,
patch length), the split by source recording, the priors and seeds, the training budget (``train``), the
sampler and the metrics' classifier. :class:`CompareConfig` adds what only the comparison uses (its extra arms,
the colour sweep, the sensitivity table, the listening samples); the YAML section ``compare`` holds both, so a
recipe names every shared setting once. The key sets name which of these settings a stage's fingerprint check
compares (:mod:`audiospec.experiments.fingerprint`).
"""

from __future__ import annotations

from dataclasses import dataclass, field
from typing import Literal

from audiospec.config import check_counts
from audiospec.data import DataConfig
from audiospec.diffusion.config import TrainConfig
from audiospec.diffusion.priors import REFERENCE_PRIOR, PriorSpec, default_priors
from audiospec.diffusion.processes import check_sampler
from audiospec.errors import AudiospecError
from audiospec.measures.ordering import OrderSettings
from audiospec.metrics import ClassifierConfig
from audiospec.transforms import MelConfig

__all__ = ["MODEL_KEYS", "RESUMABLE_KEYS", "REUSED_KEYS", "SCORE_KEYS", "TRAINING_KEYS", "CompareConfig",
           "CompareRunConfig", "ProtocolConfig"]


@dataclass(frozen=True)
class ProtocolConfig:
    """The settings every model stage shares (module doc); ``train`` is the per-model budget.

    ``priors`` are prior names (``white``, ``pink``, ``matched``, ``beta=2``, ...); white is the reference.
    """

    mel: MelConfig = field(default_factory=MelConfig)
    patch_frames: int = 128
    priors: tuple[PriorSpec, ...] = field(default_factory=default_priors)
    seeds: tuple[int, ...] = (0, 1, 2)
    steps: tuple[int, ...] = (4, 8, 16, 32, 64)
    sampler: Literal["euler", "heun"] = "euler"
    n_samples: int = 64
    trajectory_steps: int = 32
    trajectory_samples: int = 16
    order: OrderSettings = field(default_factory=OrderSettings)
    split_fractions: tuple[float, float, float] = (0.7, 0.15, 0.15)
    split_seed: int = 0
    split_file: str | None = None
    classifier: ClassifierConfig = field(default_factory=ClassifierConfig)
    train: TrainConfig = field(default_factory=TrainConfig)

    def __post_init__(self) -> None:
        try:
            check_sampler(self.train.objective, self.sampler)
        except AudiospecError as err:
            raise AudiospecError(f"compare samples every model with compare.sampler={self.sampler!r}, which "
                                 f"train.objective={self.train.objective!r} cannot use: {err}") from None
        names = [spec.name for spec in self.priors]
        if len(set(names)) != len(names) or REFERENCE_PRIOR not in names:
            raise AudiospecError(f"priors must be distinct and include {REFERENCE_PRIOR!r} (the reference), got {names}")
        if not self.seeds or len(set(self.seeds)) != len(self.seeds):
            raise AudiospecError(f"seeds must be distinct and non-empty, got {list(self.seeds)}")
        if not self.steps or min(self.steps) < 1:
            raise AudiospecError(f"steps must be positive step counts, got {list(self.steps)}")
        check_counts("compare", patch_frames=self.patch_frames)


@dataclass(frozen=True)
class CompareConfig(ProtocolConfig):
    """The YAML section ``compare``: the shared protocol (:class:`ProtocolConfig`) and the comparison's own
    settings (its question-4 arms, colour sweep, sensitivity table and listening samples)."""

    control: bool = True
    colour_sweep: bool = True
    colour_sweep_seeds: tuple[int, ...] = ()
    whitened_loss: bool = False  # an extra arm per non-white prior trained with the whitened loss
    whitened_seeds: tuple[int, ...] = ()  # seeds of the whitened arms (a subset of seeds; empty: all of them)
    optimized_grid_steps: tuple[int, ...] = ()  # also sample every model on the Benita-optimised grid at these
    primary_steps: int | None = None  # the pre-specified primary test: KID vs white at this step count (None: fewest)
    label: str = ""  # shown at the top of the report's comparison, e.g. "CPU preview, models not converged"
    sensitivity_thresholds: tuple[float, ...] = (0.05, 0.1, 0.2)
    sensitivity_bands: tuple[int, ...] = (6, 10)
    sensitivity_steps: int = 8
    listen_samples: int = 2
    griffin_lim_iters: int = 32

    def __post_init__(self) -> None:
        super().__post_init__()
        if not set(self.whitened_seeds) <= set(self.seeds):
            raise AudiospecError(f"whitened_seeds {list(self.whitened_seeds)} must be among seeds {list(self.seeds)} "
                                 "(each whitened model is paired with the plain model of its seed)")
        if self.primary_steps is not None and self.primary_steps not in self.steps:
            raise AudiospecError(f"primary_steps={self.primary_steps} must be one of steps {list(self.steps)}")
        if not set(self.optimized_grid_steps) <= set(self.steps):
            raise AudiospecError(f"optimized_grid_steps {list(self.optimized_grid_steps)} must be among steps "
                                 f"{list(self.steps)} (each is compared with the uniform grid at the same count)")
        check_counts("compare", minimum=2, sensitivity_bands=self.sensitivity_bands)
        check_counts("compare", listen_samples=self.listen_samples, griffin_lim_iters=self.griffin_lim_iters)
        if not self.sensitivity_thresholds or any(not 0 < t < 1 for t in self.sensitivity_thresholds):
            raise AudiospecError(f"compare.sensitivity_thresholds must be a non-empty list of fractions in (0, 1), "
                                 f"got {list(self.sensitivity_thresholds)}")
        if self.n_samples < 2 or self.trajectory_samples < 2 or min(self.trajectory_steps, self.sensitivity_steps) < 2:
            raise AudiospecError(
                f"need n_samples >= 2, trajectory_samples >= 2, trajectory_steps and sensitivity_steps >= 2; got "
                f"{self.n_samples}, {self.trajectory_samples}, {self.trajectory_steps}, {self.sensitivity_steps}"
            )


@dataclass(frozen=True)
class CompareRunConfig:
    """A whole ``audiospec compare`` run: YAML sections ``data`` and ``compare``."""

    data: DataConfig
    compare: CompareConfig = field(default_factory=CompareConfig)


# Settings checked by the stages' fingerprints (with the clips and the split): what one trained model depends on;
# the settings a resumed run may change (its models train on to more steps); the compare stage's models (every
# prior and seed); and, beyond them, what its metric rows and classifier depend on
TRAINING_KEYS = ("data", "compare.mel", "compare.patch_frames", "compare.train", "compare.split_fractions",
                 "compare.split_seed", "compare.split_file")
RESUMABLE_KEYS = ("compare.train.steps", "compare.train.checkpoint_every", "compare.train.log_every",
                  "compare.train.eval_every")
MODEL_KEYS = TRAINING_KEYS + ("compare.priors", "compare.seeds")
SCORE_KEYS = MODEL_KEYS + ("compare.steps", "compare.sampler", "compare.n_samples", "compare.classifier")
REUSED_KEYS = TRAINING_KEYS + ("compare.classifier",)  # what a resumed compare stage reuses of its folder
