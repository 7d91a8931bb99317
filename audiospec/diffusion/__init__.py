"""Diffusion / flow-matching models on log-mel patches ``[B, 1, M, T]`` (DESIGN.md section 4).

- :mod:`~audiospec.diffusion.processes`: the process interface (corrupt, predict, loss, one sampling step) and
  its implementations: rectified flow with any prior, VP eps-prediction, cepstral autoregression, heat
  dissipation; :mod:`~audiospec.diffusion.solver`: the one solver that samples any of them;
- :mod:`~audiospec.diffusion.priors`: white, coloured (1/f^beta) and data-matched noise priors;
- :mod:`~audiospec.diffusion.losses`: the (whitened) regression loss of the diffusion processes;
- :mod:`~audiospec.diffusion.timesteps`: uniform, logit-normal, shifted, spectrally weighted t;
- :mod:`~audiospec.diffusion.schedule_design`: per-frequency transfer function of the sampler
  and schedules optimised from the data spectrum (Benita, Elad & Keshet 2025);
- :mod:`~audiospec.diffusion.samplers`: the named samplers (Euler / Heun ODE, VP ancestral) over the solver;
- :mod:`~audiospec.diffusion.unet`: the U-Net and its :class:`ModelConfig`;
- :mod:`~audiospec.diffusion.config`, :mod:`~audiospec.diffusion.training`,
  :mod:`~audiospec.diffusion.checkpoint`, :mod:`~audiospec.diffusion.ema`,
  :mod:`~audiospec.diffusion.runtime`: the training loop and its checkpoints.
"""

from audiospec.diffusion.checkpoint import load_checkpoint
from audiospec.diffusion.config import TrainConfig, check_training_data
from audiospec.diffusion.ema import ema_decay_at, update_ema
from audiospec.diffusion.losses import prediction_loss
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
from audiospec.diffusion.processes import (
    CepstralAR,
    CoarseToFineConfig,
    HeatDissipation,
    Process,
    RectifiedFlow,
    TrainingLoss,
    VPEps,
    build_process,
    make_process,
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
from audiospec.diffusion.solver import integrate, solve
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
    TimestepSampler,
    UniformTimesteps,
    resolution_shift,
    shift_time,
    unshift_time,
)
from audiospec.diffusion.timestep_config import TimestepConfig, make_timestep_sampler
from audiospec.diffusion.training import TrainResult, train
from audiospec.diffusion.unet import ModelConfig, UNet, build_model, count_parameters

__all__ = [
    "CepstralAR",
    "CoarseToFineConfig",
    "ColoredNoise",
    "HeatDissipation",
    "LogitNormalTimesteps",
    "MatchedNoise",
    "ModelConfig",
    "NoisePrior",
    "PriorSpec",
    "Process",
    "RectifiedFlow",
    "PRIOR_NAMES",
    "Runtime",
    "ShiftedTimesteps",
    "SingleDevice",
    "SpectralWeightedTimesteps",
    "TimestepConfig",
    "TimestepSampler",
    "TrainConfig",
    "TrainResult",
    "TrainingLoss",
    "UNet",
    "UniformTimesteps",
    "VPEps",
    "WhiteNoise",
    "ancestral_sample",
    "build_model",
    "build_process",
    "check_time_grid",
    "check_training_data",
    "count_parameters",
    "ema_decay_at",
    "euler_sample",
    "gaussian_divergence",
    "grid_from_logits",
    "heun_sample",
    "integrate",
    "load_checkpoint",
    "make_prior",
    "make_process",
    "make_timestep_sampler",
    "optimize_schedule",
    "output_spectrum",
    "prediction_loss",
    "prior_from_state",
    "resolution_shift",
    "sample",
    "shift_time",
    "solve",
    "step_gains",
    "train",
    "transfer_function",
    "uniform_time_grid",
    "unshift_time",
    "update_ema",
    "velocity_gain",
]
