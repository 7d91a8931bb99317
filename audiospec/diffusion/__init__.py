"""Diffusion / flow-matching models on log-mel patches ``[B, 1, M, T]`` (DESIGN.md section 4).

- :mod:`~audiospec.diffusion.path`: x_t = alpha_t x0 + sigma_t eps, training targets, x0_hat;
- :mod:`~audiospec.diffusion.priors`: white, coloured (1/f^beta) and data-matched noise priors;
- :mod:`~audiospec.diffusion.losses`: flow-matching and eps losses, optionally whitened;
- :mod:`~audiospec.diffusion.timesteps`: uniform, logit-normal, shifted, spectrally weighted t;
- :mod:`~audiospec.diffusion.schedule_design`: per-frequency transfer function of the sampler
  and schedules optimised from the data spectrum (Benita, Elad & Keshet 2025);
- :mod:`~audiospec.diffusion.samplers`: Euler / Heun ODE and VP ancestral sampling;
- :mod:`~audiospec.diffusion.unet`: the U-Net and its :class:`ModelConfig`;
- :mod:`~audiospec.diffusion.config`, :mod:`~audiospec.diffusion.training`,
  :mod:`~audiospec.diffusion.checkpoint`, :mod:`~audiospec.diffusion.ema`,
  :mod:`~audiospec.diffusion.runtime`: the training loop and its checkpoints.
"""

from audiospec.diffusion.checkpoint import load_checkpoint
from audiospec.diffusion.config import TrainConfig, check_training_data
from audiospec.diffusion.ema import ema_decay_at, update_ema
from audiospec.diffusion.losses import diffusion_loss, prediction_loss
from audiospec.diffusion.path import Objective, noisy_sample, predict_eps, predict_x0, process_for, training_target
from audiospec.diffusion.priors import (
    ColoredNoise,
    MatchedNoise,
    NoisePrior,
    PriorSpec,
    PRIOR_NAMES,
    WhiteNoise,
    make_prior,
    prior_from_state,
)
from audiospec.diffusion.runtime import Runtime, SingleDevice
from audiospec.diffusion.samplers import (
    ancestral_sample,
    check_time_grid,
    euler_sample,
    heun_sample,
    sample,
    uniform_time_grid,
)
from audiospec.diffusion.schedule_design import (
    gaussian_divergence,
    grid_from_logits,
    optimize_schedule,
    output_spectrum,
    step_gains,
    transfer_function,
    velocity_gain,
)
from audiospec.diffusion.timesteps import (
    LogitNormalTimesteps,
    ShiftedTimesteps,
    SpectralWeightedTimesteps,
    TimestepConfig,
    TimestepSampler,
    UniformTimesteps,
    make_timestep_sampler,
    resolution_shift,
    shift_time,
    unshift_time,
)
from audiospec.diffusion.training import TrainResult, train
from audiospec.diffusion.unet import ModelConfig, UNet, build_model, count_parameters

__all__ = [
    "ColoredNoise",
    "LogitNormalTimesteps",
    "MatchedNoise",
    "ModelConfig",
    "NoisePrior",
    "Objective",
    "PriorSpec",
    "PRIOR_NAMES",
    "Runtime",
    "ShiftedTimesteps",
    "SingleDevice",
    "SpectralWeightedTimesteps",
    "TimestepConfig",
    "TimestepSampler",
    "TrainConfig",
    "TrainResult",
    "UNet",
    "UniformTimesteps",
    "WhiteNoise",
    "ancestral_sample",
    "build_model",
    "check_time_grid",
    "check_training_data",
    "count_parameters",
    "diffusion_loss",
    "ema_decay_at",
    "euler_sample",
    "gaussian_divergence",
    "grid_from_logits",
    "heun_sample",
    "load_checkpoint",
    "make_prior",
    "make_timestep_sampler",
    "noisy_sample",
    "optimize_schedule",
    "output_spectrum",
    "predict_eps",
    "predict_x0",
    "prediction_loss",
    "prior_from_state",
    "process_for",
    "resolution_shift",
    "sample",
    "shift_time",
    "step_gains",
    "train",
    "training_target",
    "transfer_function",
    "uniform_time_grid",
    "unshift_time",
    "update_ema",
    "velocity_gain",
]
