"""Band windows (objective ``"band_windows"``): a softness sweep from diffusion to a fair cepstral autoregression.

The quefrency axis (DCT-II along mel) is cut into the K bands of
:func:`audiospec.functional.cepstrum.quefrency_bands` (DC, then log-spaced). In *whitened* 2-D DCT coefficients
u = dct2(x) / sigma (sigma: the training split's standard deviation of each quefrency band's coefficients, or of
each 2-D DCT coefficient, as wavelet score-based models normalise each scale, Guth et al. 2022; 1 without
``scale``) every band follows its own linear path from data to white noise z inside its own time window (as
GUD's per-component schedules, Gerdes et al. 2024):

    u_s = (1 − tau_b(s)) u0 + tau_b(s) z,   tau_b(s) = clip((s − start_b) / L, 0, 1),
    L = 1/K + w (1 − 1/K),   start_b = (K − 1 − b) / (K − 1) · (1 − L),

with the softness w in [0, 1]. w = 0: windows of length 1/K that do not overlap, band b generated in
[(K − 1 − b)/K, (K − b)/K] given every lower band (a cepstral autoregression; with ``scale`` None exactly
:class:`~audiospec.diffusion.processes.cepstral.CepstralAR`). w = 1: every window is [0, 1], tau_b = s for all
bands: rectified flow (with ``scale`` None exactly :class:`~audiospec.diffusion.processes.flow.RectifiedFlow`
with white noise; with ``scale``, rectified flow whose noise has each band's variance, the network seeing and
predicting whitened coordinates). In between, the windows overlap: the dose between "all bands at once" and
"one band after another".

Network and loss: the network sees the whitened patch x~ = idct2(u_s) and the time s, and predicts the
whitened velocity z − u0 (d u / d tau). The loss is each datum's mean squared error over the coefficients whose
band's window holds s, start_b <= s <= start_b + L: both edges of a window are inside the loss, since the
sampler reads a band's velocity there (the issue-25 fix; :class:`CepstralAR` masks tau = 0 and tau = 1 out).
Training time: s = start_k + t L with the band k uniform (each window gets the same share; w = 1: s = t).

Sampling (:meth:`BandWindows.step`), per coefficient in tau (dtau = tau(s') − tau(s), one number per band):
Euler u' = u + dtau v(u, s), or Heun (Karras et al. 2022, Alg. 1, also on the last step) u~ = u + dtau v(u, s),
u' = u + dtau (v(u, s) + v(u~, s')) / 2; u0_hat = u − tau v(u, s) where the band's window holds s or has closed,
the prior's mean 0 where it has not opened (the loss never reads the network there: no prediction; the exact
network's is 0 there too; band-step shares count a band's first prediction, made at its window's upper edge, in
the step that reaches the edge). Euler's variance loss on a Gaussian band is first order in the step (about half
the variance at 4 steps per band), Heun's second order (within a few per cent at 4 steps), so the fair reference
defaults to Heun, 2 network evaluations per step. The default grid (:meth:`BandWindows.time_grid`) puts a grid
point on every window edge and spreads the steps over the segments between edges in proportion to their length;
:meth:`BandWindows.check_grid` refuses a grid with a step across an edge (a band would start inside a step, from
an output read where it was not trained). With w = 0 and N = K m steps the grid is the uniform one, m steps per
band. The state is u ``[B, C, M, T]`` (2-D DCT, quefrency on axis −2); patches are idct2(sigma u) (:meth:`view`).
"""

from __future__ import annotations

from dataclasses import dataclass
from typing import ClassVar, Literal

import torch

from audiospec.diffusion.priors import NoisePrior, WhiteNoise
from audiospec.diffusion.processes.base import Model, ProcessEntry, Settings, register
from audiospec.diffusion.processes.interpolant import as_like, settings_of, white_prior
from audiospec.diffusion.solver import check_time_grid
from audiospec.errors import AudiospecError
from audiospec.functional.cepstrum import dct2, idct2, quefrency_bands

__all__ = ["BandWindows", "NoiseScale", "band_scales"]

NoiseScale = Literal["none", "band", "coefficient"]
"""How the band windows' noise is scaled: not at all, to each quefrency band's standard deviation, or to each 2-D
DCT coefficient's."""


def band_scales(patches: torch.Tensor, bands: list[tuple[int, int]], *,
                per: Literal["band", "coefficient"] = "band") -> torch.Tensor:
    """The standard deviation of the training patches' 2-D DCT coefficients, per quefrency band or per coefficient.

    Args:
        patches: training patches ``[N, C, M, T]`` (centred).
        bands: ``[(start, stop)]`` DCT coefficients along mel covering ``[0, M)``.
        per: ``"band"`` (one value per band, the root mean square over its coefficients) or ``"coefficient"``.

    Returns:
        sigma ``[M, T]`` float64 (constant over each band's rows with ``per="band"``).

    Raises:
        AudiospecError: bands that do not tile ``[0, M)`` or a coefficient without variance.
    """
    M = patches.shape[-2]
    if [a for a, _ in bands[1:]] != [b for _, b in bands[:-1]] or bands[0][0] != 0 or bands[-1][1] != M:
        raise AudiospecError(f"bands {bands} must tile the {M} DCT coefficients along mel")
    power = dct2(patches.double()).square().mean(dim=(0, 1))  # [M, T]
    if per == "band":
        for a, b in bands:
            power[a:b] = power[a:b].mean()
    if not bool((power > 0).all()):
        raise AudiospecError("a 2-D DCT coefficient of the training patches has no variance; check the data")
    return power.sqrt()


@dataclass(frozen=True, eq=False)
class BandWindows:
    """Per-band linear paths in overlapping windows (module doc).

    Attributes:
        n_mels: mel bins M, >= 3.
        n_bands: log-spaced quefrency bands above DC (K = the bands + DC).
        softness: the windows' overlap w in [0, 1] (0: bands in turn, 1: all at once).
        scale: sigma per 2-D DCT coefficient ``[M, T]`` (:func:`band_scales`), or None (unit).
        method: ``"heun"`` (2 network evaluations per step) or ``"euler"`` (1).
        prior: the noise (white, in whitened coordinates).

    Raises:
        AudiospecError: fewer than 3 mel bins, a softness outside [0, 1], a scale of another size or an unknown
            method.
    """

    n_mels: int
    n_bands: int = 8
    softness: float = 0.0
    scale: torch.Tensor | None = None
    method: Literal["euler", "heun"] = "heun"
    prior: NoisePrior = WhiteNoise()
    name: ClassVar[str] = "band_windows"

    def __post_init__(self) -> None:
        if self.n_mels < 3:
            raise AudiospecError(f"band windows need at least 3 mel bins, got {self.n_mels}")
        if not 0.0 <= self.softness <= 1.0:
            raise AudiospecError(f"softness must lie in [0, 1], got {self.softness}")
        if self.scale is not None and (self.scale.ndim != 2 or self.scale.shape[0] != self.n_mels):
            raise AudiospecError(f"scale must be [M, T] with M = {self.n_mels}, got {tuple(self.scale.shape)}")
        if self.method not in ("euler", "heun"):
            raise AudiospecError(f"method must be 'euler' or 'heun', got {self.method!r}")

    @property
    def nfe_per_step(self) -> int:
        """Network evaluations per step: 2 (Heun) or 1 (Euler)."""
        return 2 if self.method == "heun" else 1

    @property
    def bands(self) -> list[tuple[int, int]]:
        """(start, stop) DCT coefficients of each band, DC first."""
        return quefrency_bands(self.n_mels, n_bands=self.n_bands)

    @property
    def n_stages(self) -> int:
        """The number of bands K."""
        return len(self.bands)

    @property
    def commit_bands(self) -> int | None:
        """The commit measure's band count when bands are generated in turn (softness 0), else None."""
        return self.n_bands if self.softness == 0.0 else None

    def windows(self) -> tuple[torch.Tensor, float]:
        """(start_b ``[K]`` float64, the window length L) (module doc)."""
        K = self.n_stages
        length = 1.0 / K + self.softness * (1.0 - 1.0 / K)
        b = torch.arange(K, dtype=torch.float64)
        return (K - 1 - b) / (K - 1) * (1.0 - length), length

    def band_index(self) -> torch.Tensor:
        """The band of every DCT coefficient along mel ``[M]`` long."""
        index = torch.empty(self.n_mels, dtype=torch.long)
        for k, (a, b) in enumerate(self.bands):
            index[a:b] = k
        return index

    def _sigma(self, shape: tuple[int, int]) -> torch.Tensor:
        if self.scale is None:
            return torch.ones(shape, dtype=torch.float64)
        if tuple(self.scale.shape) != tuple(shape):
            raise AudiospecError(f"this process's noise scale is for {tuple(self.scale.shape)} patches, got {shape}")
        return self.scale.double().cpu()

    def tau(self, s: torch.Tensor) -> torch.Tensor:
        """Noise fraction per datum and coefficient ``[B, 1, M, 1]`` float64 for times s ``[B]``."""
        start, length = self.windows()
        first = start[self.band_index()]  # [M]
        tau = ((s.double().cpu()[:, None] - first[None]) / length).clamp(0.0, 1.0)
        tau = torch.where(tau > 1.0 - 1e-9, torch.ones_like(tau), tau)  # a grid point on an edge is on it exactly
        return torch.where(tau < 1e-9, torch.zeros_like(tau), tau)[:, None, :, None]

    def active(self, s: torch.Tensor) -> torch.Tensor:
        """Coefficients whose band's window holds s, start_b <= s <= start_b + L: ``[B, 1, M, 1]`` bool."""
        start, length = self.windows()
        first = start[self.band_index()][None]  # [1, M]
        s = s.double().cpu()[:, None]
        return ((s >= first - 1e-12) & (s <= first + length + 1e-12))[:, None, :, None]

    def pending(self, s: torch.Tensor) -> torch.Tensor:
        """Coefficients whose band's window has not opened at s (s > start_b + L): ``[B, 1, M, 1]`` float64, 1 or 0."""
        start, length = self.windows()
        last = (start + length)[self.band_index()][None]  # [1, M]
        return (s.double().cpu()[:, None] > last + 1e-12).double()[:, None, :, None]

    def schedule(self, s: torch.Tensor, shape: tuple[int, int]) -> tuple[torch.Tensor, torch.Tensor]:
        """(alpha, sigma) = (1 − tau, tau) in whitened coefficients, each ``[B, 1, M, 1]`` float64."""
        tau = self.tau(s)
        return 1.0 - tau, tau

    def to_coefficients(self, x: torch.Tensor) -> torch.Tensor:
        """Whitened coefficients u = dct2(x) / sigma of patches ``[..., M, T]`` (same shape)."""
        return dct2(x) / as_like(self._sigma(tuple(x.shape[-2:])), x)

    def from_coefficients(self, u: torch.Tensor) -> torch.Tensor:
        """Patches idct2(sigma u) of whitened coefficients ``[..., M, T]`` (same shape)."""
        return idct2(u * as_like(self._sigma(tuple(u.shape[-2:])), u))

    def _velocity(self, model: Model, u: torch.Tensor, s: torch.Tensor) -> torch.Tensor:
        x = idct2(u)  # the whitened patch the network sees
        return dct2(model(x, s.to(device=x.device, dtype=x.dtype)).float())

    def corrupt(self, x0: torch.Tensor, eps: torch.Tensor, t: torch.Tensor) -> torch.Tensor:
        """x_s = idct2(sigma ((1 − tau) u0 + tau z)), z = dct2(eps): patches ``[B, C, M, T]`` at s = ``t`` ``[B]``."""
        tau = as_like(self.tau(t), x0)
        return self.from_coefficients((1.0 - tau) * self.to_coefficients(x0) + tau * dct2(eps))

    def target(self, x0: torch.Tensor, eps: torch.Tensor, t: torch.Tensor) -> torch.Tensor:
        """The whitened velocity z − u0 ``[B, C, M, T]`` (read on the active coefficients only)."""
        return dct2(eps) - self.to_coefficients(x0)

    def loss_at(self, model: Model, x0: torch.Tensor, *, s: torch.Tensor, eps: torch.Tensor) -> torch.Tensor:
        """Mean over the batch of each datum's mean squared velocity error over its active coefficients.

        Args:
            model: the network.
            x0: clean patches ``[B, C, M, T]``.
            s: the process's times ``[B]``.
            eps: white noise ``[B, C, M, T]``.

        Returns:
            The scalar loss ``[]``.

        Raises:
            AudiospecError: ``x0`` and ``eps`` of different shapes.
        """
        if x0.shape != eps.shape:
            raise AudiospecError(f"x0 shape {tuple(x0.shape)} and eps shape {tuple(eps.shape)} differ")
        x0, eps = x0.float(), eps.float()
        tau = as_like(self.tau(s), x0)
        u0, z = self.to_coefficients(x0), dct2(eps)  # z: white in whitened coordinates
        output = self._velocity(model, (1.0 - tau) * u0 + tau * z, s)
        mask = self.active(s).to(device=output.device, dtype=output.dtype).expand_as(output)
        error = (output - (z - u0)).square() * mask
        return (error.flatten(1).sum(1) / mask.flatten(1).sum(1).clamp_min(1.0)).mean()

    def training_time(self, t: torch.Tensor, *, generator: torch.Generator | None = None) -> torch.Tensor:
        """s = start_k + t L with the band k uniform over the K bands (module doc), in t's dtype and device."""
        start, length = self.windows()
        k = torch.randint(self.n_stages, (t.shape[0],), generator=generator)
        return start[k].to(t.device, t.dtype) + t * length

    def loss(self, model: Model, x0: torch.Tensor, *, t: torch.Tensor, eps: torch.Tensor,
             generator: torch.Generator | None = None) -> torch.Tensor:
        """The training loss at run-sampled ``t`` ``[B]``: :meth:`loss_at` at s = :meth:`training_time` (t).

        Args:
            model: the network.
            x0: clean patches ``[B, C, M, T]``.
            t: run-sampled times ``[B]``.
            eps: white noise ``[B, C, M, T]``.
            generator: draws the bands (CPU).

        Returns:
            The scalar loss ``[]``.
        """
        return self.loss_at(model, x0, s=self.training_time(t, generator=generator).to(x0.device), eps=eps)

    def edges(self) -> list[float]:
        """Every window edge in [0, 1], decreasing (0 and 1 included)."""
        start, length = self.windows()
        points = {0.0, 1.0, *[round(float(v), 12) for v in start], *[round(float(v) + length, 12) for v in start]}
        return sorted((p for p in points if 0.0 <= p <= 1.0), reverse=True)

    def time_grid(self, steps: int) -> torch.Tensor:
        """A grid point on every window edge, ``steps`` steps spread over the segments by length (module doc).

        Args:
            steps: at least one per segment between edges.

        Returns:
            The grid ``[steps + 1]`` float64, decreasing from 1 to 0.

        Raises:
            AudiospecError: fewer steps than segments.
        """
        edges = self.edges()
        lengths = torch.tensor([a - b for a, b in zip(edges[:-1], edges[1:])], dtype=torch.float64)
        if not isinstance(steps, int) or steps < len(lengths):
            raise AudiospecError(f"band windows with softness {self.softness:g} need at least {len(lengths)} steps "
                                 f"(one per segment between window edges), got {steps!r}")
        share = lengths / lengths.sum() * steps
        counts = share.floor().long().clamp_min(1)
        for i in torch.argsort(share - share.floor(), descending=True).tolist():
            if int(counts.sum()) >= steps:
                break
            counts[i] += 1
        while int(counts.sum()) > steps:
            counts[int(torch.argmax(counts))] -= 1
        pieces = [torch.linspace(a, b, int(n) + 1, dtype=torch.float64)[:-1]
                  for a, b, n in zip(edges[:-1], edges[1:], counts)]
        return torch.cat([*pieces, torch.zeros(1, dtype=torch.float64)])

    def check_grid(self, times: torch.Tensor) -> torch.Tensor:
        """A grid from 1 to 0 with no step across a window edge.

        Args:
            times: the grid ``[N + 1]``.

        Returns:
            The checked grid ``[N + 1]``.

        Raises:
            AudiospecError: a grid that does not run from 1 to 0, or a step across an edge.
        """
        times = check_time_grid(times)
        if float(times[0]) != 1.0 or float(times[-1]) != 0.0:
            raise AudiospecError(f"a band-window grid must run from s = 1 to s = 0, got {times.tolist()}")
        grid = times.tolist()
        for edge in self.edges():
            crossed = [i for i in range(len(grid) - 1) if grid[i + 1] + 1e-9 < edge < grid[i] - 1e-9]
            if crossed:
                i = crossed[0]
                raise AudiospecError(f"step {i} from s = {grid[i]:.4f} to {grid[i + 1]:.4f} crosses the window edge "
                                     f"s = {edge:.4f}, where a band starts or ends; sample on the process's "
                                     f"time_grid (with softness 0: a multiple of {self.n_stages} steps)")
        return times

    def initial(self, size: tuple[int, ...], *, generator: torch.Generator | None,
                device: torch.device) -> torch.Tensor:
        """u at s = 1: dct2 of a white draw from the prior, ``[n, C, M, T]`` float32 on the CPU."""
        return dct2(self.prior.sample(size, generator=generator))

    def step(self, model: Model, state: torch.Tensor, times: torch.Tensor, i: int, *,
             generator: torch.Generator | None = None) -> tuple[torch.Tensor, torch.Tensor]:
        """One Euler or Heun step in tau per band (module doc).

        Args:
            model: the network ``model(x~ [B, C, M, T], s [B])``.
            state: whitened coefficients u ``[B, C, M, T]``.
            times: the grid ``[N + 1]``.
            i: the step, 0 .. N − 1.
            generator: unused (deterministic).

        Returns:
            (u at the next time, u0_hat), each ``[B, C, M, T]``.
        """
        grid = times.tolist()
        u = state
        s, s_next = (torch.full((u.shape[0],), grid[j], dtype=torch.float64) for j in (i, i + 1))
        tau = as_like(self.tau(s), u)
        dtau = as_like(self.tau(s_next), u) - tau
        v = self._velocity(model, u, s)
        pending = as_like(self.pending(s), u)
        u0_hat = (u - tau * v) * (1.0 - pending)  # no prediction for a band whose window has not opened
        euler = u + dtau * v
        if self.method == "euler":
            return euler, u0_hat
        return u + 0.5 * dtau * (v + self._velocity(model, euler, s_next)), u0_hat  # trapezoidal corrector

    def output_for(self, c0_hat: torch.Tensor, c: torch.Tensor, s: torch.Tensor) -> torch.Tensor:
        """The network output (in coefficients) whose data prediction is ``c0_hat``: (c − c0_hat) / tau where
        tau > 0, and −c0_hat where tau = 0 (the velocity z − u0 with z unknown, its mean 0).

        Args:
            c0_hat: a data prediction ``[B, C, M, T]`` (whitened 2-D DCT coefficients).
            c: the state ``[B, C, M, T]``.
            s: times ``[B]``.

        Returns:
            v ``[B, C, M, T]``.
        """
        tau = as_like(self.tau(s), c)
        return torch.where(tau > 0, (c - c0_hat) / tau.clamp_min(1e-12), -c0_hat)

    def whitened_moments(self, mean: torch.Tensor, std: torch.Tensor) -> tuple[torch.Tensor, torch.Tensor]:
        """Moments per 2-D DCT coefficient in whitened coordinates (for the exact Gaussian network).

        Args:
            mean: the data's mean per 2-D DCT coefficient ``[C, M, T]``.
            std: its standard deviation ``[C, M, T]``.

        Returns:
            (mean / sigma, (std / sigma)²), each ``[C, M, T]`` float64.
        """
        sigma = self._sigma(tuple(mean.shape[-2:]))
        return mean.double() / sigma, (std.double() / sigma).square()

    def view(self, state: torch.Tensor) -> torch.Tensor:
        """Patches idct2(sigma u) ``[B, C, M, T]`` of the state."""
        return self.from_coefficients(state)


def _band_windows(settings: Settings) -> BandWindows:
    if settings.n_mels is None:
        raise AudiospecError("the band_windows process needs the number of mel bins (n_mels) of its patches")
    config = settings_of(settings)
    bands = quefrency_bands(settings.n_mels, n_bands=config.n_bands)
    scale = None
    if config.noise_scale != "none":
        if settings.data is None:
            raise AudiospecError("band windows with scaled noise need the training patches (data=[N, C, M, T]) for "
                                 "each band's standard deviation; pass them, or set coarse_to_fine.noise_scale: none")
        scale = band_scales(settings.data, bands, per=config.noise_scale)
    return BandWindows(n_mels=settings.n_mels, n_bands=config.n_bands, softness=config.softness, scale=scale,
                       method=settings.sampler or "heun", prior=white_prior(settings, BandWindows.name))


register(ProcessEntry(name=BandWindows.name, build=_band_windows, label="band windows", samplers=("heun", "euler"),
                      whitening=False))
