"""The arms of the stage ``fair`` (issue 25), their models and their exact Gaussian networks.

Every arm is trained with the compare section's budget (U-Net, optimiser, steps, batch, split, seeds) and
sampled at one number of network evaluations (NFE), the fair cepstral autoregression's: 2 (Heun) × its steps per
band × K bands. The arms:

- ``diffusion``: rectified flow with each prior of ``fair.priors`` (the Fourier ``matched`` and the DCT
  ``matched_dct`` among them) and, with ``fair.flipped``, the power law beta = alpha_hat + 1 (Falck et al.'s
  FlippedSNR: fine bands less noisy than coarse ones), Euler at NFE steps;
- ``sweep``: the band windows (:mod:`audiospec.diffusion.processes.bands`) at each softness of ``fair.softness``,
  noise scaled per 2-D DCT coefficient or per band (``fair.noise_scale``), Heun on the window-aligned grid:
  softness 0 is the fair cepstral autoregression, 1 rectified flow in whitened coordinates. The default scales
  each coefficient: the variances inside one quefrency band of log-mel patches span about four decades (the
  time-DCT axis), and Heun at 4 steps per band follows a linear path well only where the data's variance is near
  the noise's (the exact Gaussian sampled so keeps 0.98 of every coefficient's variance with one scale per
  coefficient, 0.63 of the data's power on mini with one per band, where single coefficients come out 0.2-23x:
  the band-scaled reference is handicapped by its sampler, not by autoregression);
- ``reference``: blurring diffusion (Hoogeboom & Salimans 2023) with ``fair.blur_sigma_max``, deterministic, NFE
  steps;
- control networks (``fair.controls``): per prior of ``fair.priors``, one flow model (first seed) trained on
  Gaussian fields with independent 2-D DCT coefficients of the training split's variances, which hold no
  dependence between bands at all: the band swap's negative controls.

Each arm's exact network (:func:`exact_network`) is the same process's exact denoiser for the Gaussian of its
calibration (:func:`calibration_gaussian`): independent 2-D DCT coefficients where the prior is diagonal there
(white, ``matched_dct``, band windows, blurring), the stationary Fourier Gaussian with the training spectrum for
the Fourier priors (pink, matched, flipped).
"""

from __future__ import annotations

import dataclasses
from dataclasses import dataclass, field
from typing import Any, Literal

import torch

from audiospec.config import check_counts
from audiospec.diffusion.config import TrainConfig
from audiospec.diffusion.parallel import TrainJob
from audiospec.diffusion.priors import REFERENCE_PRIOR, DCTMatchedNoise, NoisePrior, PriorSpec, WhiteNoise, make_prior
from audiospec.diffusion.processes import BandWindows, Process, make_process
from audiospec.errors import AudiospecError
from audiospec.experiments.compare_order import alpha_hat
from audiospec.experiments.models import ModelStore
from audiospec.experiments.protocol import CompareConfig
from audiospec.functional.cepstrum import dct2
from audiospec.measures.gaussian import (
    DCTGaussianVelocity,
    GaussianModel,
    LinearGaussianVelocity,
    data_spectrum,
    dct_gaussian_fields,
    gaussian_fields,
)

__all__ = ["FAIR_AR", "Arm", "FairConfig", "arm_job", "calibration_gaussian", "control_job", "exact_network",
           "fair_arms", "sampling_steps"]

FAIR_AR = "fair cepstral AR"


def _fair_priors() -> tuple[PriorSpec, ...]:
    return tuple(PriorSpec.parse(name) for name in ("white", "pink", "matched", "matched_dct"))


@dataclass(frozen=True)
class FairConfig:
    """Settings of the stage ``fair`` (YAML section ``fair``; module doc). ``seeds`` empty = the compare section's.

    ``swap_steps``: Euler steps of the diffusion models' swaps; ``swap_time``: the equal-t swap (a multiple of
    1 / ``swap_steps``); ``commit_level``: the coarse bands' committed fraction of the equal-commit swaps;
    ``dequantise_db``: the width of the uniform dequantisation of floor pixels (dB); ``t_min``: the first time of
    the dequantised likelihood; ``noise_scale``: the band windows' noise per 2-D DCT coefficient (default, module
    doc) or per quefrency band.
    """

    seeds: tuple[int, ...] = ()
    priors: tuple[PriorSpec, ...] = field(default_factory=_fair_priors)
    flipped: bool = True
    softness: tuple[float, ...] = (0.0, 0.5, 1.0)
    noise_scale: Literal["band", "coefficient"] = "coefficient"
    steps_per_band: int = 4
    blurring: bool = True
    blur_sigma_max: float = 20.0
    controls: bool = True
    calibration_draws: int = 3
    trajectory_samples: int = 16
    swap_pairs: int = 16
    swap_steps: int = 16
    swap_time: float = 0.5
    commit_level: float = 0.5
    k_cut: int = 5
    likelihood_patches: int = 64
    likelihood_steps: int = 12
    dequantise_db: float = 1.0
    t_min: float = 1e-3
    label: str = ""

    def __post_init__(self) -> None:
        names = [spec.name for spec in self.priors]
        if REFERENCE_PRIOR not in names or len(set(names)) != len(names):
            raise AudiospecError(f"fair.priors must be distinct and include {REFERENCE_PRIOR!r}, got {names}")
        if 0.0 not in self.softness or any(not 0.0 <= w <= 1.0 for w in self.softness) or \
                len(set(self.softness)) != len(self.softness):
            raise AudiospecError(f"fair.softness must be distinct values in [0, 1] including 0 (the fair cepstral "
                                 f"AR), got {list(self.softness)}")
        check_counts("fair", steps_per_band=self.steps_per_band, calibration_draws=self.calibration_draws,
                     swap_pairs=self.swap_pairs, likelihood_patches=self.likelihood_patches)
        check_counts("fair", minimum=2, trajectory_samples=self.trajectory_samples, swap_steps=self.swap_steps,
                     likelihood_steps=self.likelihood_steps)
        index = self.swap_time * self.swap_steps
        if not 0 < round(index) < self.swap_steps or abs(index - round(index)) > 1e-9:
            raise AudiospecError(f"fair.swap_time={self.swap_time} must be a multiple of 1/{self.swap_steps} "
                                 "(fair.swap_steps) strictly between 0 and 1")
        if not 0 < self.commit_level < 1 or not 0 <= self.t_min < 1 or not self.dequantise_db > 0:
            raise AudiospecError(f"need 0 < fair.commit_level < 1, 0 <= fair.t_min < 1 and fair.dequantise_db > 0, "
                                 f"got {self.commit_level}, {self.t_min}, {self.dequantise_db}")


@dataclass(frozen=True)
class Arm:
    """One trained arm (module doc): its folder ``key``, label, kind, training config and prior."""

    key: str
    name: str
    kind: str
    config: TrainConfig
    prior: NoisePrior
    softness: float | None = None


def _sweep_name(w: float) -> str:
    return FAIR_AR if w == 0.0 else "band-whitened flow" if w == 1.0 else f"softness {w:g}"


def fair_arms(cfg: CompareConfig, fair: FairConfig, patches: torch.Tensor) -> list[Arm]:
    """Every arm of the stage, diffusion first (white first), then the sweep, then blurring.

    Args:
        cfg: the compare section (budget, bands).
        fair: the stage's settings.
        patches: training patches ``[N, 1, M, T]`` (the data-dependent priors and alpha_hat).

    Returns:
        The arms.
    """
    specs = sorted(fair.priors, key=lambda spec: spec.name != REFERENCE_PRIOR)
    if fair.flipped:
        specs.append(PriorSpec(kind="power_law", beta=round(alpha_hat(patches) + 1.0, 2)))
    flow = dataclasses.replace(cfg.train, objective="flow_matching")
    arms = [Arm(key=spec.name, name=spec.name, kind="diffusion", config=flow, prior=make_prior(spec, data=patches))
            for spec in specs]
    for w in fair.softness:
        c2f = dataclasses.replace(cfg.train.coarse_to_fine, n_bands=cfg.order.n_bands, softness=w,
                                  noise_scale=fair.noise_scale)
        arms.append(Arm(key=f"bands-w{w:g}", name=_sweep_name(w), kind="sweep", softness=w, prior=WhiteNoise(),
                        config=dataclasses.replace(cfg.train, objective="band_windows", coarse_to_fine=c2f)))
    if fair.blurring:
        c2f = dataclasses.replace(cfg.train.coarse_to_fine, blur_sigma_max=fair.blur_sigma_max)
        arms.append(Arm(key="blurring", name="blurring diffusion", kind="reference", prior=WhiteNoise(),
                        config=dataclasses.replace(cfg.train, objective="blurring", coarse_to_fine=c2f)))
    return arms


def arm_job(store: ModelStore, arm: Arm, seed: int, patches: torch.Tensor, validation: torch.Tensor | None
            ) -> TrainJob:
    """The training of one arm and seed into ``models/<key>/seed<seed>``."""
    return store.job(arm.key, f"seed{seed}", config=dataclasses.replace(arm.config, seed=seed), prior=arm.prior,
                     patches=patches, validation=validation)


def control_job(store: ModelStore, arm: Arm, seed: int, patches: torch.Tensor) -> TrainJob:
    """A diffusion arm's control network: the same training on Gaussian fields with independent 2-D DCT
    coefficients of the training split's variances (no dependence between bands), into ``models/<key>/control``."""
    fields = dct_gaussian_fields(dct2(patches.double()).square().mean((0, 1)), patches.shape,
                                 generator=torch.Generator().manual_seed(20_000 + seed))
    return store.job(arm.key, "control", config=dataclasses.replace(arm.config, seed=seed), prior=arm.prior,
                     patches=fields)


def arm_process(arm: Arm, cfg: CompareConfig, patches: torch.Tensor) -> Process:
    """The process an arm samples with (its training config, the compare section's sampler for flows)."""
    sampler = cfg.sampler if arm.kind == "diffusion" else None
    return make_process(arm.config, arm.prior, n_mels=patches.shape[-2], sampler=sampler, data=patches)


def sampling_steps(process: Process, nfe: int) -> int:
    """Steps at ``nfe`` network evaluations per sample.

    Raises:
        AudiospecError: an NFE that the process's evaluations per step do not divide.
    """
    if nfe % process.nfe_per_step:
        raise AudiospecError(f"{nfe} network evaluations are not a whole number of {process.name} steps "
                             f"({process.nfe_per_step} per step)")
    return nfe // process.nfe_per_step


def _dct_power(patches: torch.Tensor) -> torch.Tensor:
    return dct2(patches.double()).square().mean(dim=(0, 1))  # [M, T]


def calibration_gaussian(arm: Arm, patches: torch.Tensor) -> Literal["dct", "fourier"]:
    """Which Gaussian an arm is calibrated on: ``"dct"`` (independent 2-D DCT coefficients) or ``"fourier"``."""
    if arm.kind != "diffusion" or isinstance(arm.prior, (WhiteNoise, DCTMatchedNoise)):
        return "dct"
    return "fourier"


def exact_network(arm: Arm, process: Process, patches: torch.Tensor) -> Any:
    """The arm's process's exact denoiser (as a network) for the Gaussian of :func:`calibration_gaussian`."""
    shape = tuple(patches.shape[-2:])
    power = _dct_power(patches)[None]  # [1, M, T]
    if arm.kind != "diffusion":
        mean = torch.zeros_like(power)
        if isinstance(process, BandWindows):
            return GaussianModel(process, *process.whitened_moments(mean, power.sqrt()))
        return GaussianModel(process, mean, power)
    if calibration_gaussian(arm, patches) == "dct":
        return DCTGaussianVelocity(power[0], prior=arm.prior)
    return LinearGaussianVelocity(data_spectrum(patches), prior=arm.prior, signal_shape=shape)


def exact_samples(kind: Literal["dct", "fourier"], patches: torch.Tensor, n: int,
                  generator: torch.Generator) -> torch.Tensor:
    """``n`` exact samples ``[n, 1, M, T]`` of the calibration Gaussian ``kind``."""
    shape = (n, *patches.shape[1:])
    if kind == "dct":
        return dct_gaussian_fields(_dct_power(patches), shape, generator=generator)
    return gaussian_fields(data_spectrum(patches), shape, generator=generator)
