"""``TrainConfig``: every setting of a diffusion training run, frozen and validated up front.

YAML form (unknown keys, also nested ones, are rejected with the list of valid keys)::

    steps: 20000
    batch_size: 32
    lr: 2.0e-4
    objective: flow_matching        # or vp_eps; cepstral_ar / heat: the coarse-to-fine baselines
    whiten_loss: false
    timesteps: {kind: uniform}      # the default; or {kind: logit_normal, mu: 0.0, sigma: 1.0, shift: 1.0, ...}
    coarse_to_fine: {n_bands: 8, sigma_min: 0.5, sigma_max: 48.0, noise: 0.02}   # baselines only
    model: {preset: tiny, attention: false}   # preset first, then overrides

The noise prior is not part of this config: it is an object passed to ``train`` (see
:class:`audiospec.diffusion.priors.PriorSpec` for its YAML form) and is saved beside the
run and in every checkpoint.
"""

from __future__ import annotations

import dataclasses
import math
from dataclasses import dataclass, field
from typing import Any, Literal, get_args

import torch

from audiospec.config import config_from_dict, config_to_dict
from audiospec.diffusion.processes import CoarseToFineConfig, check_objective
from audiospec.diffusion.runtime import PRECISIONS, Precision
from audiospec.diffusion.timestep_config import TimestepConfig
from audiospec.diffusion.unet import ModelConfig
from audiospec.errors import AudiospecError

__all__ = ["MEMORY_FORMATS", "MemoryFormat", "TrainConfig", "check_training_data"]

MemoryFormat = Literal["channels_last", "contiguous"]
MEMORY_FORMATS: tuple[str, ...] = get_args(MemoryFormat)


def _positive_int(name: str, value: Any) -> None:
    if not isinstance(value, int) or isinstance(value, bool) or value < 1:
        raise AudiospecError(f"{name} must be a positive integer, got {value!r}")


def _number(name: str, value: Any, *, low: float, high: float = math.inf, low_open: bool = False) -> None:
    ok = isinstance(value, (int, float)) and not isinstance(value, bool) and math.isfinite(value)
    ok = ok and (value > low if low_open else value >= low) and value <= high
    if not ok:
        bound = f"{'>' if low_open else '>='} {low}" + (f" and <= {high}" if high != math.inf else "")
        raise AudiospecError(f"{name} must be a number {bound}, got {value!r}")


@dataclass(frozen=True, kw_only=True)
class TrainConfig:
    """Settings of :func:`audiospec.diffusion.training.train`.

    ``steps`` optimisation steps of ``batch_size`` patches; AdamW(``lr``, ``betas``,
    ``weight_decay``) with a linear warm-up over ``warmup_steps`` then a constant rate;
    EMA of the weights with ``ema_decay`` (:mod:`audiospec.diffusion.ema`); gradients
    clipped to global norm ``grad_clip`` (None = off); a checkpoint every
    ``checkpoint_every`` steps and at the end; the progress bar and loss history are
    flushed every ``log_every`` steps; with held-out patches the EMA network's held-out loss is
    measured every ``eval_every`` steps and at the end (None: at the end and at 80% of the budget, the two losses the
    held-out plateau rule reads). ``seed`` seeds every generator of the run.
    ``precision`` applies on CUDA only (:mod:`audiospec.diffusion.runtime`).

    Args:
        steps: optimisation steps, a positive integer.
        batch_size: patches per step B, a positive integer <= N.
        lr: AdamW learning rate, > 0.
        betas: AdamW betas, two numbers in [0, 1).
        weight_decay: AdamW weight decay, >= 0.
        warmup_steps: steps of the linear warm-up, >= 0.
        ema_decay: asymptotic EMA decay, in [0, 1).
        grad_clip: global gradient-norm bound, > 0, or None.
        checkpoint_every: steps between checkpoints, a positive integer.
        log_every: steps between progress updates, a positive integer.
        eval_every: steps between held-out loss evaluations when ``train`` gets validation
            patches (None: at the end and at 80% of the budget).
        eval_patches: at most this many validation patches (evenly spaced through them) enter
            the held-out loss, a positive integer; the draws are fixed, so it stays a paired measure.
        memory_format: layout of the network's activations while training: ``"channels_last"``
            (cuDNN under autocast, and what sampling uses) or ``"contiguous"`` (on a CPU, oneDNN's
            GroupNorm backward is several times slower channels-last: 1.12-1.16x per training step
            of the tiny U-Net contiguous on a 2-core AMD EPYC, benchmarks/bench_mfu.py).
        seed: seed of every generator of the run, in [0, 2^63).
        objective: a registered process (:mod:`audiospec.diffusion.processes`): ``"flow_matching"``,
            ``"vp_eps"``, or a coarse-to-fine baseline (``"cepstral_ar"``, ``"heat"``).
        whiten_loss: measure the loss in the prior's metric (diffusion objectives only).
        precision: ``"bf16"``, ``"fp16"`` or ``"fp32"`` on CUDA.
        timesteps: the training-time sampler (:class:`TimestepConfig`).
        coarse_to_fine: settings of the coarse-to-fine baselines.
        model: the U-Net (:class:`ModelConfig`, default the ``"tiny"`` preset).

    Raises:
        AudiospecError: any value outside the range above, or an unknown choice (each message
            names the key).
    """

    steps: int = 10000
    batch_size: int = 16
    lr: float = 2e-4
    betas: tuple[float, float] = (0.9, 0.999)
    weight_decay: float = 0.0
    warmup_steps: int = 0
    ema_decay: float = 0.999
    grad_clip: float | None = 1.0
    checkpoint_every: int = 1000
    log_every: int = 10
    eval_every: int | None = None
    eval_patches: int = 512
    memory_format: MemoryFormat = "channels_last"
    seed: int = 0
    objective: str = "flow_matching"
    whiten_loss: bool = False
    precision: Precision = "bf16"
    timesteps: TimestepConfig = field(default_factory=TimestepConfig)
    coarse_to_fine: CoarseToFineConfig = field(default_factory=CoarseToFineConfig)
    model: ModelConfig = field(default_factory=lambda: ModelConfig.preset("tiny"))

    def __post_init__(self) -> None:
        for name in ("steps", "batch_size", "checkpoint_every", "log_every"):
            _positive_int(name, getattr(self, name))
        if self.eval_every is not None:
            _positive_int("eval_every", self.eval_every)
        _positive_int("eval_patches", self.eval_patches)
        if not isinstance(self.warmup_steps, int) or isinstance(self.warmup_steps, bool) or self.warmup_steps < 0:
            raise AudiospecError(f"warmup_steps must be a non-negative integer, got {self.warmup_steps!r}")
        if not isinstance(self.seed, int) or isinstance(self.seed, bool) or not 0 <= self.seed < 2**63:
            raise AudiospecError(f"seed must be an integer in [0, 2^63), got {self.seed!r}")
        _number("lr", self.lr, low=0.0, low_open=True)
        _number("weight_decay", self.weight_decay, low=0.0)
        _number("ema_decay", self.ema_decay, low=0.0, high=1.0)
        if self.ema_decay >= 1.0:
            raise AudiospecError(f"ema_decay must be < 1 (1 would freeze the EMA at the initial weights), got {self.ema_decay}")
        betas = tuple(self.betas)
        object.__setattr__(self, "betas", betas)
        if len(betas) != 2 or not all(isinstance(b, (int, float)) and 0.0 <= b < 1.0 for b in betas):
            raise AudiospecError(f"betas must be two numbers in [0, 1), got {list(betas)}")
        if self.grad_clip is not None:
            _number("grad_clip", self.grad_clip, low=0.0, low_open=True)
        if not isinstance(self.objective, str):
            raise AudiospecError(f"objective must be a name, got {self.objective!r}")
        check_objective(self.objective, whiten_loss=False)  # registered in audiospec.diffusion.processes
        if self.precision not in PRECISIONS:
            raise AudiospecError(f"unknown precision {self.precision!r}; choose one of {PRECISIONS}")
        if not isinstance(self.whiten_loss, bool):
            raise AudiospecError(f"whiten_loss must be true or false, got {self.whiten_loss!r}")
        check_objective(self.objective, whiten_loss=self.whiten_loss)  # does the objective take a whitened loss?
        if not isinstance(self.timesteps, TimestepConfig):
            raise AudiospecError(f"timesteps must be a TimestepConfig, got {type(self.timesteps).__name__}")
        if not isinstance(self.model, ModelConfig):
            raise AudiospecError(f"model must be a ModelConfig, got {type(self.model).__name__}")

    @classmethod
    def from_dict(cls, data: dict[str, Any] | None, *, where: str = "train config") -> "TrainConfig":
        """Build from a plain mapping (YAML); unknown keys at any level raise :class:`AudiospecError`.

        ``model`` may name a ``preset`` (``tiny`` / ``default``) whose fields the other
        ``model`` keys override.

        Args:
            data: the mapping (None: all defaults).
            where: where the mapping came from, for error messages.

        Returns:
            The validated :class:`TrainConfig`.

        Raises:
            AudiospecError: not a mapping, an unknown key (the message lists the valid ones), or an
                invalid value.
        """
        if data is not None and not isinstance(data, dict):
            raise AudiospecError(f"{where} must be a mapping of settings, got {type(data).__name__}: {data!r}")
        data = dict(data or {})
        model = data.pop("model", None)
        if model is not None:
            if not isinstance(model, dict):
                raise AudiospecError(f"{where}.model must be a mapping of settings, got {type(model).__name__}")
            model = dict(model)
            preset = model.pop("preset", None)
            valid = sorted([f.name for f in dataclasses.fields(ModelConfig)] + ["preset"])
            unknown = sorted(set(model) - set(valid))
            if unknown:
                raise AudiospecError(f"unknown key(s) {unknown} in {where}.model; valid keys are {valid}")
            base = config_to_dict(ModelConfig.preset(preset)) if preset is not None else {}
            model = config_from_dict(ModelConfig, {**base, **model}, where=f"{where}.model")
        config = config_from_dict(cls, data, where=where)
        return dataclasses.replace(config, model=model) if model is not None else config

    def to_dict(self) -> dict[str, Any]:
        """Resolved plain form (every default filled in), as saved in ``config.yaml`` and checkpoints.

        Returns:
            A YAML/JSON-ready dict that :meth:`from_dict` reads back to an equal config.
        """
        return config_to_dict(self)

    def lr_at(self, step: int) -> float:
        """Learning rate of optimisation step ``step`` (0-based): linear warm-up, then constant.

        Args:
            step: the optimisation step, >= 0.

        Returns:
            ``lr * (step + 1) / warmup_steps`` during the warm-up, ``lr`` after.
        """
        if self.warmup_steps > 0 and step < self.warmup_steps:
            return self.lr * (step + 1) / self.warmup_steps
        return self.lr


def check_training_data(config: TrainConfig, patches: torch.Tensor) -> None:
    """Raise :class:`AudiospecError` before any work if ``patches`` cannot train ``config``.

    ``patches``: ``[N, C, M, T]`` floating point, finite, C = model.in_channels, M and T
    divisible by 2^(levels - 1), N >= batch_size.

    Args:
        config: the run's settings.
        patches: training patches ``[N, C, M, T]``.

    Raises:
        AudiospecError: patches not a 4-D floating-point tensor, of the wrong channel count or
            patch size, fewer than ``batch_size``, or NaN, Inf or constant (all-silent) values.
    """
    if not isinstance(patches, torch.Tensor) or patches.ndim != 4:
        shape = tuple(patches.shape) if isinstance(patches, torch.Tensor) else type(patches).__name__
        raise AudiospecError(f"training patches must be a tensor [N, C, M, T], got {shape}")
    if not torch.is_floating_point(patches):
        raise AudiospecError(f"training patches must be floating point (normalised log-mel), got {patches.dtype}")
    N, C, M, T = patches.shape
    if C != config.model.in_channels:
        raise AudiospecError(f"patches have {C} channel(s) but model.in_channels is {config.model.in_channels}")
    config.model.check_patch_shape((M, T))
    if config.batch_size > N:
        raise AudiospecError(
            f"batch_size={config.batch_size} is larger than the number of training patches N={N}; "
            "lower batch_size or cut more patches"
        )
    _check_patch_values(patches)


_SILENT_FIX = (
    "train on audible clips: load_corpus leaves out silent files and clips (listed in Corpus.skipped), "
    "so check data.dataset and its files"
)


def _check_patch_values(patches: torch.Tensor) -> None:
    """Finite and not constant: constant (e.g. all-silent) log-mel patches standardise to 0 / 0 = NaN."""
    count = patches.numel()
    n_nan = int(torch.isnan(patches).sum())
    if n_nan == count:
        raise AudiospecError(
            f"training patches are all NaN ({n_nan} of {count} values): standardising constant log-mel patches, "
            f"(x - mean) / std with std 0, gives this, i.e. every training clip is silent or all are identical; "
            f"{_SILENT_FIX}"
        )
    n_inf = int(torch.isinf(patches).sum())
    if n_nan or n_inf:
        raise AudiospecError(
            f"training patches contain NaN or Inf values ({n_nan} NaN and {n_inf} Inf of {count}); "
            "clean the data before training"
        )
    low, high = float(patches.amin()), float(patches.amax())
    if low == high:
        raise AudiospecError(
            f"training patches are constant (std 0: all {count} values equal {low:g}): every training clip is "
            f"silent or all are identical, so there is nothing to learn; {_SILENT_FIX}"
        )
