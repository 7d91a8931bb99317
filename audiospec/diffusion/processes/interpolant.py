"""Explicit coarse-to-fine processes: cepstral autoregression and heat dissipation (issue 14).

"Diffusion on spectrograms is cepstral autoregression" is tested against the models it is
compared with in words. Both baselines are one *frequency-scheduled interpolant* in an
orthonormal DCT basis B (``c = B x``), trained and sampled with the same U-Net, optimiser,
budget and number of network evaluations (NFE) as a diffusion model:

    c_s = alpha(s) * c0 + sigma(s) * c_eps,    c0 = B x0,  c_eps = B eps (eps white),  x_s = B^T c_s

with s from 0 (data) to 1 (the process's prior) and alpha, sigma one number per coefficient.

- ``"cepstral_ar"`` (:class:`CepstralAR`): B = DCT-II along mel, the cepstrum. The quefrency
  axis is cut into the commit measure's bands (the DC coefficient, then the log-spaced bands
  of :func:`audiospec.functional.cepstrum.quefrency_bands`), K bands in all. Band k is generated
  in stage k, s in [1 - (k + 1)/K, 1 - k/K], by linear flow matching from white noise:
  tau_k(s) = clip(K s - (K - 1 - k), 0, 1), alpha = 1 - tau, sigma = tau. In stage k the bands
  below k are clean (already generated) and those above are pure noise (no information), so
  stage k is a conditional flow-matching model of band k given every lower band: an
  autoregressive model over quefrency bands whose K conditionals share one network (the stage
  is read off s). The network predicts the velocity c_eps - c0 of the active band; the loss is
  its mean squared error over that band's coefficients only.
- ``"heat"`` (:class:`HeatDissipation`; Rissanen, Heinonen & Solin 2023, IHDM): B = 2-D DCT,
  the eigenbasis of the heat equation with reflecting boundaries; alpha_k(s) = exp(-lambda_k
  t_h(s)) with lambda_{k,l} = pi^2 (k^2 / M^2 + l^2 / T^2) and t_h(s) = sigma_min^2
  ((sigma_max / sigma_min)^{2 s} - 1) / 2 (the equivalent Gaussian blur's std grows
  geometrically to ``sigma_max`` bins, t_h(0) = 0); sigma(s) = ``noise`` for every coefficient:
  a deterministic blur plus a little Gaussian noise. The network predicts x0 (mean squared
  error over all coefficients, as IHDM's). The prior at s = 1 is the blurred patch
  alpha(1) * (m + d * z) + noise * eps, with m, d the training split's mean and standard
  deviation per 2-D DCT coefficient (:func:`coefficient_stats`, the process's ``stats``) (IHDM draws it from a
  density estimate of blurred training images; a Gaussian here, exact in distribution for nothing but what
  survives the blur).

Training time: ``t`` from the run's timestep sampler becomes s = (K - 1 - k + t) / K with the
stage k uniform (cepstral AR: every band gets the same share of the steps) or s = t (heat).

Sampling (:meth:`step`, one for both, in the DDIM form): on a grid 1 = s_0 > s_1 > ... > s_N = 0, per
coefficient

    c0_hat = the network's data prediction at (x_s, s)
    eps_hat = (c - alpha(s) c0_hat) / sigma(s)          (0 where sigma(s) = 0)
    c' = alpha(s') c0_hat + sigma(s') (sqrt(1 - eta^2) eps_hat + eta z),  z ~ N(0, I) fresh

and the last step returns c0_hat. With ``eta = 0`` this is Euler on the velocity for the
linear cepstral interpolant and the improved cold-diffusion sampler (Bansal et al. 2023,
Alg. 2) for heat; ``eta = 1`` is IHDM's sampler (fresh noise of the training level each step,
its delta = sigma). NFE = N; a step may span several cepstral stages (then those bands are
drawn jointly). The state of the solver is the coefficients c. Shapes: x ``[B, C, M, T]``, s ``[B]``.
"""

from __future__ import annotations

import math
from dataclasses import dataclass
from typing import ClassVar, Literal

import torch

from audiospec.diffusion.priors import REFERENCE_PRIOR, NoisePrior
from audiospec.diffusion.processes.base import Model, Settings
from audiospec.diffusion.solver import check_time_grid, uniform_time_grid
from audiospec.errors import AudiospecError
from audiospec.functional.cepstrum import dct2

__all__ = ["CoarseToFineConfig", "FrequencyInterpolant", "coefficient_stats"]


@dataclass(frozen=True)
class CoarseToFineConfig:
    """Settings of the coarse-to-fine objectives (YAML ``train.coarse_to_fine``; unused by diffusion objectives).

    ``n_bands``: the cepstral model's log-spaced quefrency bands (plus the DC band), as the commit
    measure's ``order.n_bands``. ``sigma_min`` / ``sigma_max``: the heat model's blur std (bins)
    at the first / last time; ``noise``: its training noise std (model space: unit-variance data).
    ``softness`` / ``noise_scale``: the band windows' overlap (0 = one band after another, 1 = all at once) and
    how their noise is scaled (``"band"``: to each quefrency band's standard deviation; ``"coefficient"``: to
    each 2-D DCT coefficient's; ``"none"``) (:mod:`~.bands`); ``blur_sigma_max``: the
    blurring diffusion's largest blur std in bins (:mod:`~.blurring`; 0 = rectified flow).

    Args:
        n_bands: quefrency bands above DC, an integer >= 2.
        sigma_min: the heat model's blur std at s = 0 (bins), > 0.
        sigma_max: its blur std at s = 1, > sigma_min.
        noise: its noise std, in (0, 1).
        softness: the band windows' overlap, in [0, 1].
        noise_scale: ``"band"``, ``"coefficient"`` or ``"none"``.
        blur_sigma_max: the blurring diffusion's blur std at s = 1 (bins), >= 0.

    Raises:
        AudiospecError: a value outside those ranges.
    """

    n_bands: int = 8
    sigma_min: float = 0.5
    sigma_max: float = 48.0
    noise: float = 0.02
    softness: float = 0.0
    noise_scale: Literal["none", "band", "coefficient"] = "band"
    blur_sigma_max: float = 20.0

    def __post_init__(self) -> None:
        if not isinstance(self.n_bands, int) or self.n_bands < 2:
            raise AudiospecError(f"coarse_to_fine.n_bands must be an integer >= 2, got {self.n_bands!r}")
        if not 0 < self.sigma_min < self.sigma_max:
            raise AudiospecError(f"coarse_to_fine needs 0 < sigma_min < sigma_max, got {self.sigma_min}, "
                                 f"{self.sigma_max}")
        if not 0 < self.noise < 1:
            raise AudiospecError(f"coarse_to_fine.noise must lie in (0, 1) (a std in units of the data's), "
                                 f"got {self.noise}")
        if not 0.0 <= self.softness <= 1.0:
            raise AudiospecError(f"coarse_to_fine.softness must lie in [0, 1] (0: bands in turn, 1: all at once), "
                                 f"got {self.softness}")
        if not self.blur_sigma_max >= 0.0:
            raise AudiospecError(f"coarse_to_fine.blur_sigma_max must be >= 0 (bins), got {self.blur_sigma_max}")


def as_like(values: torch.Tensor, like: torch.Tensor) -> torch.Tensor:
    """``values`` on ``like``'s device and in its dtype (per-coefficient schedules against a batch of coefficients)."""
    return values.to(device=like.device, dtype=like.dtype)


def coefficient_stats(patches: torch.Tensor) -> tuple[torch.Tensor, torch.Tensor]:
    """Mean and std per 2-D DCT coefficient of training patches: the heat model's prior at s = 1 and the moments
    of the exact Gaussian network (:class:`audiospec.measures.gaussian.GaussianModel`).

    Args:
        patches: training patches ``[N, C, M, T]``.

    Returns:
        (mean, std), each ``[C, M, T]`` float64.
    """
    c = dct2(patches.double())
    return c.mean(0), c.std(0)


@dataclass(frozen=True, eq=False)
class FrequencyInterpolant:
    """What both processes share: the interpolant in their basis, its loss, the DDIM-form step (module doc)."""

    nfe_per_step: ClassVar[int] = 1

    def __post_init__(self) -> None:
        if not 0.0 <= self.eta <= 1.0:
            raise AudiospecError(f"eta must lie in [0, 1], got {self.eta}")

    def _noisy(self, c0: torch.Tensor, c_eps: torch.Tensor, s: torch.Tensor) -> torch.Tensor:
        alpha, sigma = self.schedule(s, tuple(c0.shape[-2:]))
        return as_like(alpha, c0) * c0 + as_like(sigma, c0) * c_eps

    def corrupt(self, x0: torch.Tensor, eps: torch.Tensor, t: torch.Tensor) -> torch.Tensor:
        """x_s = B^T (alpha(s) B x0 + sigma(s) B eps) at the process's own time s = ``t``.

        Args:
            x0: clean patches ``[B, C, M, T]``.
            eps: white noise ``[B, C, M, T]``.
            t: the process's times s ``[B]``.

        Returns:
            x_s ``[B, C, M, T]``.
        """
        return self.from_coefficients(self._noisy(self.to_coefficients(x0), self.to_coefficients(eps), t))

    def loss_at(self, model: Model, x0: torch.Tensor, *, s: torch.Tensor, eps: torch.Tensor) -> torch.Tensor:
        """The training loss at the process's own times ``s`` (module doc): the network sees x_s in pixel space and
        its output is read in the process's basis.

        Args:
            model: the network.
            x0: clean patches ``[B, C, M, T]``.
            s: times ``[B]`` in [0, 1].
            eps: white noise ``[B, C, M, T]``.

        Returns:
            The scalar loss ``[]``.

        Raises:
            AudiospecError: ``x0`` and ``eps`` of different shapes, or ``s`` not of shape ``[B]``.
        """
        if x0.shape != eps.shape:
            raise AudiospecError(f"x0 shape {tuple(x0.shape)} and eps shape {tuple(eps.shape)} differ")
        if s.shape != (x0.shape[0],):
            raise AudiospecError(f"s must have shape [B] = [{x0.shape[0]}], got {tuple(s.shape)}")
        c0, c_eps = self.to_coefficients(x0.float()), self.to_coefficients(eps.float())
        x_s = self.from_coefficients(self._noisy(c0, c_eps, s))
        output = self.to_coefficients(model(x_s.to(x0.dtype), s.to(x0.dtype)).float())
        return self.coefficient_loss(output, c0, c_eps, s)

    def loss(self, model: Model, x0: torch.Tensor, *, t: torch.Tensor, eps: torch.Tensor,
             generator: torch.Generator | None = None) -> torch.Tensor:
        """The training loss at run-sampled ``t``: :meth:`loss_at` at s = :meth:`training_time` (t).

        Args:
            model: the network.
            x0: clean patches ``[B, C, M, T]``.
            t: run-sampled times ``[B]`` in [0, 1].
            eps: white noise ``[B, C, M, T]``.
            generator: draws the cepstral stage (CPU).

        Returns:
            The scalar loss ``[]``.
        """
        s = self.training_time(t, generator=generator).to(x0.device)
        return self.loss_at(model, x0, s=s, eps=eps)

    def target(self, x0: torch.Tensor, eps: torch.Tensor, t: torch.Tensor) -> torch.Tensor:
        """The velocity c_eps − c0, the same at every time (cepstral AR and blurring predict it; the cepstral AR's
        loss reads it on the active band only; heat, which predicts c0, overrides this).

        Args:
            x0: clean patches ``[B, C, M, T]``.
            eps: white noise ``[B, C, M, T]``.
            t: the process's times ``[B]`` (unused).

        Returns:
            Coefficients ``[B, C, M, T]``.
        """
        return self.to_coefficients(eps) - self.to_coefficients(x0)

    def training_time(self, t: torch.Tensor, *, generator: torch.Generator | None = None) -> torch.Tensor:
        """s = t: the run's timestep sampler directly (a process that draws its own times overrides this).

        Args:
            t: run-sampled times ``[B]``.
            generator: unused.

        Returns:
            ``t``.
        """
        return t

    def time_grid(self, steps: int) -> torch.Tensor:
        """``steps`` uniform steps from 1 to 0.

        Args:
            steps: a positive integer.

        Returns:
            The grid ``[steps + 1]``.
        """
        return uniform_time_grid(steps)

    def check_grid(self, times: torch.Tensor) -> torch.Tensor:
        """A grid from s = 1 to s = 0.

        Args:
            times: the grid ``[N + 1]``.

        Returns:
            The checked grid ``[N + 1]``.

        Raises:
            AudiospecError: a grid that does not start at 1 and end at 0.
        """
        times = check_time_grid(times)
        if float(times[0]) != 1.0 or float(times[-1]) != 0.0:
            raise AudiospecError(f"a coarse-to-fine grid must run from s = 1 to s = 0, got {times.tolist()}")
        return times

    def initial(self, size: tuple[int, ...], *, generator: torch.Generator | None,
                device: torch.device) -> torch.Tensor:
        """The coefficients at s = 1: sigma(1) z, plus alpha(1) (m + d z') where alpha(1) is not 0 (module doc).

        Args:
            size: ``(n, C, M, T)``.
            generator: randomness of the draws (CPU).
            device: unused (drawn on the CPU).

        Returns:
            Coefficients ``[n, C, M, T]`` float32 on the CPU.

        Raises:
            AudiospecError: a process whose prior keeps part of the data but has no ``stats``.
        """
        alpha1, sigma1 = self.schedule(torch.ones(1, dtype=torch.float64), tuple(size[-2:]))
        c1 = sigma1.float() * torch.randn(size, generator=generator)
        if bool((alpha1 > 1e-6).any()):
            if self.stats is None:
                raise AudiospecError(f"the {self.name} process keeps part of the data at s = 1; build it with "
                                     "stats=coefficient_stats(training_patches) for its prior")
            mean, std = (v.float().cpu() for v in self.stats)
            c1 = c1 + alpha1.float() * (mean + std * torch.randn(size, generator=generator))
        return c1

    def step(self, model: Model, state: torch.Tensor, times: torch.Tensor, i: int, *,
             generator: torch.Generator | None = None) -> tuple[torch.Tensor, torch.Tensor]:
        """One DDIM-form step (module doc); the last returns c0_hat.

        Args:
            model: the network ``model(x [B, C, M, T], s [B])``.
            state: coefficients c ``[B, C, M, T]``.
            times: the grid ``[N + 1]``.
            i: the step, 0 .. N − 1.
            generator: randomness of the fresh noise (eta > 0), CPU.

        Returns:
            (c at the next time, c0_hat), each ``[B, C, M, T]``.
        """
        grid = times.tolist()
        c, shape = state, tuple(state.shape[-2:])
        s = torch.full((c.shape[0],), grid[i], dtype=torch.float64)
        x = self.from_coefficients(c)
        output = self.to_coefficients(model(x, s.to(device=x.device, dtype=x.dtype)).float())
        c0_hat = self.data_prediction(output, c, s)
        if i == len(grid) - 2:
            return c0_hat, c0_hat
        alpha, sigma = (as_like(v, c) for v in self.schedule(s, shape))
        alpha_next, sigma_next = (as_like(v, c) for v in self.schedule(torch.full_like(s, grid[i + 1]), shape))
        eps_hat = torch.where(sigma > 0, (c - alpha * c0_hat) / sigma.clamp_min(1e-12), torch.zeros_like(c))
        if self.eta > 0:
            z = torch.randn(c.shape, generator=generator).to(c.device)
            eps_hat = math.sqrt(1.0 - self.eta**2) * eps_hat + self.eta * z
        return alpha_next * c0_hat + sigma_next * eps_hat, c0_hat

    def view(self, state: torch.Tensor) -> torch.Tensor:
        """The coefficients as patches, B^T c.

        Args:
            state: coefficients ``[B, C, M, T]``.

        Returns:
            Patches ``[B, C, M, T]``.
        """
        return self.from_coefficients(state)


def white_prior(settings: Settings, name: str) -> NoisePrior:
    if settings.prior.name != REFERENCE_PRIOR:
        raise AudiospecError(f"the {name!r} baseline starts from white noise; train it with the {REFERENCE_PRIOR!r} "
                             f"prior, not {settings.prior.name!r}")
    return settings.prior


def settings_of(settings: Settings) -> CoarseToFineConfig:
    return settings.coarse_to_fine if settings.coarse_to_fine is not None else CoarseToFineConfig()
