"""The explicit coarse-to-fine baselines against answers known without them.

- Bases: the cepstral basis is scipy's orthonormal DCT-II along mel, the heat basis scipy's 2-D one (1e-10).
- The heat schedule at t_h = sigma^2 / 2 is scipy's Gaussian blur with reflecting edges (1e-9, sigma >= 2,
  where the sampled kernel's aliasing is below double precision).
- The cepstral schedule generates band k in stage k: lower bands clean, higher ones pure noise (exact).
- The sampler with the exact Gaussian network (Gaussian data diagonal in the 2-D DCT, where both schedules are
  diagonal: the cepstral one depends on the quefrency alone) is a linear map per coefficient, so the first two moments of its
  output are known in closed form for any grid and eta; samples match them (sampling tolerance, 4 standard
  errors), and on finer grids the output tends to the data's variance (the probability flow of the interpolant).
- The loss is exactly 0 for an oracle network and ignores the bands that are not being generated.
"""

from __future__ import annotations

import dataclasses
import math

import pytest
import scipy.fft
import scipy.ndimage
import torch

from audiospec.functional.cepstrum import quefrency_bands
from audiospec.diffusion.checkpoint import read_training_state
from audiospec.diffusion.config import TrainConfig
from audiospec.diffusion.priors import ColoredNoise, WhiteNoise
from audiospec.diffusion.processes import (
    CepstralAR,
    CoarseToFineConfig,
    HeatDissipation,
    build_process,
    coefficient_stats,
)
from audiospec.diffusion.samplers import sample, uniform_time_grid
from audiospec.diffusion.solver import solve
from audiospec.measures.gaussian import GaussianModel
from audiospec.diffusion.patch_fingerprint import patches_fingerprint
from audiospec.diffusion.training import _check_resume, train
from audiospec.errors import AudiospecError

M, T = 16, 12


def test_bases_are_scipys_orthonormal_dcts():
    x = torch.randn(2, 1, M, T, dtype=torch.float64, generator=torch.Generator().manual_seed(0))
    cepstral, heat = CepstralAR(n_mels=M, n_bands=4), HeatDissipation()
    ref_1d = torch.from_numpy(scipy.fft.dct(x.numpy(), type=2, norm="ortho", axis=-2))
    ref_2d = torch.from_numpy(scipy.fft.dctn(x.numpy(), type=2, norm="ortho", axes=(-2, -1)))
    assert torch.allclose(cepstral.to_coefficients(x), ref_1d, atol=1e-10)
    assert torch.allclose(heat.to_coefficients(x), ref_2d, atol=1e-10)
    for process in (cepstral, heat):
        assert torch.allclose(process.from_coefficients(process.to_coefficients(x)), x, atol=1e-10)


@pytest.mark.parametrize("sigma", [2.0, 3.0])
def test_heat_schedule_is_a_gaussian_blur_with_reflecting_edges(sigma):
    heat = HeatDissipation()
    x = torch.randn(1, 1, 32, 48, dtype=torch.float64, generator=torch.Generator().manual_seed(1))
    decay = torch.exp(-heat.eigenvalues((32, 48)) * sigma**2 / 2)  # t_h = sigma^2 / 2
    blurred = heat.from_coefficients(decay * heat.to_coefficients(x))[0, 0]
    reference = scipy.ndimage.gaussian_filter(x[0, 0].numpy(), sigma, mode="reflect", truncate=10.0)
    assert float((blurred - torch.from_numpy(reference)).abs().max()) < 1e-9


def test_heat_schedule_starts_clean_keeps_the_mean_and_blurs_monotonically():
    heat = HeatDissipation(sigma_min=0.5, sigma_max=20.0, noise=0.05)
    s = torch.tensor([0.0, 0.3, 0.7, 1.0], dtype=torch.float64)
    alpha, sigma = heat.schedule(s, (M, T))
    assert torch.equal(alpha[0], torch.ones(1, M, T, dtype=torch.float64))  # t_h(0) = 0: the data itself
    assert bool((alpha[:, 0, 0, 0] == 1).all())  # the DC coefficient (the patch mean) is never blurred
    assert bool((alpha[1:] <= alpha[:-1]).all()) and bool((alpha[:, 0, 0, 1:] <= alpha[:, 0, 0, :-1]).all())
    assert math.isclose(float(heat.heat_time(torch.tensor([1.0]))), (20.0**2 - 0.5**2) / 2, rel_tol=1e-12)
    assert torch.equal(sigma.flatten(), torch.full((4,), 0.05, dtype=torch.float64))


def test_cepstral_schedule_generates_band_k_in_stage_k():
    ar = CepstralAR(n_mels=M, n_bands=4)
    assert ar.bands == quefrency_bands(M, n_bands=4) and ar.n_stages == 5
    K = ar.n_stages
    assert torch.equal(ar.tau(torch.tensor([1.0]))[0, 0, :, 0], torch.ones(M, dtype=torch.float64))
    assert torch.equal(ar.tau(torch.tensor([0.0]))[0, 0, :, 0], torch.zeros(M, dtype=torch.float64))
    for k, (start, stop) in enumerate(ar.bands):
        s = torch.tensor([1.0 - (k + 0.25) / K], dtype=torch.float64)  # a quarter into stage k
        tau = ar.tau(s)[0, 0, :, 0]
        assert torch.equal(tau[:start], torch.zeros(start, dtype=torch.float64))  # generated before: clean
        assert torch.allclose(tau[start:stop], torch.full((stop - start,), 0.75, dtype=torch.float64))
        assert torch.equal(tau[stop:], torch.ones(M - stop, dtype=torch.float64))  # not yet: pure noise
        assert int(ar.active(s).sum()) == stop - start


def test_cepstral_training_time_gives_every_band_the_same_share():
    ar = CepstralAR(n_mels=M, n_bands=4)
    t = torch.rand(20_000, generator=torch.Generator().manual_seed(0))
    s = ar.training_time(t, generator=torch.Generator().manual_seed(1))
    stage = (ar.n_stages - 1 - torch.floor(s * ar.n_stages)).long()
    counts = torch.bincount(stage, minlength=ar.n_stages).double()
    assert bool((s >= 0).all() and (s <= 1).all())
    assert float((counts / counts.mean() - 1).abs().max()) < 0.05  # 4000 per stage: sd 1.4%
    within = ar.n_stages * s - torch.floor(ar.n_stages * s) - t  # tau = t (up to a wrap at a stage edge)
    assert float(torch.minimum(within.abs(), 1 - within.abs()).max()) < 1e-5


def _process(kind, config=CoarseToFineConfig(n_bands=4), **settings):
    return build_process(kind, prior=WhiteNoise(), coarse_to_fine=config, n_mels=M, **settings)


@pytest.mark.parametrize("kind", ["cepstral_ar", "heat"])
def test_loss_is_zero_for_an_oracle_and_ignores_bands_not_being_generated(kind):
    process = _process(kind)
    g = torch.Generator().manual_seed(2)
    x0, eps = torch.randn(6, 1, M, T, generator=g), torch.randn(6, 1, M, T, generator=g)
    s = torch.linspace(0.05, 0.95, 6)
    c0, c_eps = process.to_coefficients(x0), process.to_coefficients(eps)
    target = c_eps - c0 if kind == "cepstral_ar" else c0  # velocity (cepstral) or data (heat) in coefficients
    assert torch.allclose(process.target(x0, eps, s), target)
    oracle = process.loss_at(lambda x, t: process.from_coefficients(target), x0, s=s, eps=eps)
    assert float(oracle) < 1e-10
    if kind == "cepstral_ar":  # junk outside the active band costs nothing; inside it does
        inactive = ~process.active(s).expand_as(target)
        junk = torch.where(inactive, torch.randn(target.shape, generator=g), torch.zeros_like(target))
        assert float(process.loss_at(lambda x, t: process.from_coefficients(target + junk), x0, s=s,
                                     eps=eps)) < 1e-10
        assert float(process.loss_at(lambda x, t: process.from_coefficients(target + 1.0), x0, s=s,
                                     eps=eps)) == pytest.approx(1.0, rel=1e-5)


def _gaussian_data(process, g):
    """Independent Gaussian 2-D DCT coefficients: a falling variance along both axes, a non-zero mean."""
    k = torch.arange(M, dtype=torch.float64)[:, None]
    l = torch.arange(T, dtype=torch.float64)[None, :]
    var = (4.0 / (1 + k.square() + l.square()))[None]  # [1, M, T]
    mean = 0.3 * torch.randn(1, M, T, dtype=torch.float64, generator=g)
    return mean, var


def _predicted_moments(process, mean, var, times, eta):
    """Mean and variance per coefficient of the sampler's output with the exact Gaussian network (a linear map)."""
    shape = tuple(mean.shape[-2:])
    one = torch.ones(1, dtype=torch.float64)
    alpha, sigma = (v[0] for v in process.schedule(one, shape))
    m, v = alpha * mean, alpha.square() * var + sigma.square()  # the prior at s = 1
    grid = times.tolist()
    for i in range(len(grid) - 1):
        alpha, sigma = (v_[0] for v_ in process.schedule(torch.full((1,), grid[i], dtype=torch.float64), shape))
        denominator = alpha.square() * var + sigma.square()
        gain = torch.where(denominator > 0, alpha * var / denominator, torch.zeros_like(var))
        offset = mean - gain * alpha * mean  # c0_hat = gain c + offset
        if i == len(grid) - 2:
            return gain * m + offset, gain.square() * v
        a_next, s_next = (v_[0] for v_ in process.schedule(torch.full((1,), grid[i + 1], dtype=torch.float64), shape))
        keep = math.sqrt(1 - eta**2)
        ratio = torch.where(sigma > 0, keep * s_next / sigma.clamp_min(1e-300), torch.zeros_like(sigma))
        p = a_next * gain + ratio * (1 - alpha * gain)  # c' = p c + q (+ eta s' z)
        q = a_next * offset - ratio * alpha * offset
        m, v = p * m + q, p.square() * v + (eta * s_next).square()
    raise AssertionError("unreachable")


@pytest.mark.parametrize("kind,steps,eta", [("cepstral_ar", 10, 0.0), ("cepstral_ar", 7, 0.0),
                                            ("heat", 12, 0.0), ("heat", 12, 1.0)])
def test_exact_gaussian_sampler_matches_its_closed_form_moments(kind, steps, eta):
    process = _process(kind, CoarseToFineConfig(n_bands=4, sigma_max=20.0, noise=0.05), eta=eta)
    g = torch.Generator().manual_seed(3)
    mean, var = _gaussian_data(process, g)
    n = 4000
    process = dataclasses.replace(process, stats=(mean, var.sqrt()))
    y = solve(process, GaussianModel(process, mean, var), n=n, shape=(M, T), steps=steps, generator=g)
    c = HeatDissipation().to_coefficients(y.double())[:, 0]  # [n, M, T]: the 2-D DCT, where both are diagonal
    want_mean, want_var = _predicted_moments(process, mean[0], var[0], uniform_time_grid(steps), eta)
    se_mean = (want_var / n).sqrt()
    assert bool(((c.mean(0) - want_mean).abs() <= 4 * se_mean + 1e-6).all())
    ratio = c.var(0) / want_var.clamp_min(1e-12)
    kept = want_var > 1e-8  # coefficients the sampler leaves (near) constant have no ratio
    assert float((ratio[kept] - 1).abs().max()) < 5 * math.sqrt(2 / n)  # 5 sd of a sample variance, max of M T


def test_exact_gaussian_cepstral_sampler_tends_to_the_data_distribution():
    process = CepstralAR(n_mels=M, n_bands=4)
    mean, var = _gaussian_data(process, torch.Generator().manual_seed(4))
    errors = []
    for per_band in (2, 16, 512):  # Euler is first order: slowest for the smallest variances
        _, got = _predicted_moments(process, mean[0], var[0], uniform_time_grid(per_band * process.n_stages), 0.0)
        errors.append(float((got / var[0] - 1).abs().max()))
    assert errors[0] > errors[1] > errors[2] and errors[2] < 0.05
    _, one_step = _predicted_moments(process, mean[0], var[0], uniform_time_grid(process.n_stages), 0.0)
    assert float(one_step.abs().max()) < 1e-12  # one step per band: every band its conditional mean


def test_sampler_rejects_bad_settings():
    heat = HeatDissipation()
    model = GaussianModel(heat, torch.zeros(1, M, T), torch.ones(1, M, T))
    with pytest.raises(AudiospecError, match="stats="):
        solve(heat, model, n=2, shape=(M, T), steps=4)
    with pytest.raises(AudiospecError, match="from s = 1 to s = 0"):
        solve(heat, model, n=2, shape=(M, T), times=torch.tensor([1.0, 0.5]))
    with pytest.raises(AudiospecError, match="eta"):
        dataclasses.replace(heat, eta=2.0, stats=(torch.zeros(1, M, T),) * 2)
    with pytest.raises(AudiospecError, match="coarse-to-fine baseline"):
        build_process("cepstral_ar", prior=WhiteNoise(), n_mels=M, sampler="euler")
    with pytest.raises(AudiospecError, match="coarse-to-fine baseline"):
        sample(model, prior=WhiteNoise(), n=2, shape=(M, T), steps=2, objective="heat")
    with pytest.raises(AudiospecError, match="n_bands"):
        CoarseToFineConfig(n_bands=1)
    with pytest.raises(AudiospecError, match="sigma_min < sigma_max"):
        CoarseToFineConfig(sigma_min=2.0, sigma_max=1.0)


def test_coefficient_stats_are_the_training_moments_in_the_basis():
    patches = torch.randn(50, 1, M, T, generator=torch.Generator().manual_seed(5)) * 2 + 1
    mean, std = coefficient_stats(patches)
    c = torch.from_numpy(scipy.fft.dctn(patches.double().numpy(), norm="ortho", axes=(-2, -1)))
    assert torch.allclose(mean, c.mean(0)) and torch.allclose(std, c.std(0))


def _config(kind, **changes):
    return TrainConfig.from_dict({"steps": 4, "batch_size": 4, "checkpoint_every": 2, "objective": kind,
                                  "coarse_to_fine": {"n_bands": 4},
                                  "model": {"preset": "tiny", "base_channels": 8, "channel_mults": [1, 2],
                                            "attention": False}, **changes})


@pytest.mark.parametrize("kind", ["cepstral_ar", "heat"])
def test_baselines_train_resume_and_reject_coloured_priors(kind, tmp_path):
    patches = torch.randn(8, 1, M, 16, generator=torch.Generator().manual_seed(6))
    whole = train(_config(kind), patches, prior=WhiteNoise(), out_dir=tmp_path / "whole", progress=False)
    assert len(whole.losses) == 4 and all(math.isfinite(v) for v in whole.losses)
    half = train(dataclasses.replace(_config(kind), steps=2), patches, prior=WhiteNoise(), out_dir=tmp_path / "r",
                 progress=False)
    resumed = train(_config(kind), patches, prior=WhiteNoise(), out_dir=tmp_path / "r", progress=False)
    assert half.steps == 2 and resumed.start_step == 2
    assert resumed.losses == pytest.approx(whole.losses, rel=1e-4)  # same machine, same threads
    with pytest.raises(AudiospecError, match="white"):
        train(_config(kind), patches, prior=ColoredNoise(beta=1.0), out_dir=tmp_path / "pink", progress=False)
    with pytest.raises(AudiospecError, match="whiten_loss"):
        _config(kind, whiten_loss=True)


def test_a_checkpoint_from_before_a_new_setting_still_resumes(tmp_path):
    patches = torch.randn(8, 1, M, 16, generator=torch.Generator().manual_seed(7))
    config = _config("flow_matching", coarse_to_fine={})
    result = train(config, patches, prior=WhiteNoise(), out_dir=tmp_path, progress=False)
    state = read_training_state(result.checkpoint)
    older = dataclasses.replace(state, config={k: v for k, v in state.config.items() if k != "coarse_to_fine"})
    _check_resume(older, config, WhiteNoise(), patches_fingerprint(patches), result.checkpoint)  # defaults fill it in
    changed = dataclasses.replace(config, coarse_to_fine=CoarseToFineConfig(n_bands=5))
    with pytest.raises(AudiospecError, match="coarse_to_fine"):
        _check_resume(older, changed, WhiteNoise(), patches_fingerprint(patches), result.checkpoint)


def test_commit_measure_reads_the_cepstral_sampler_as_strictly_coarse_to_fine():
    """The positive control of the baselines stage: band k is final once stage k ends, whatever the network."""
    from audiospec.measures.ordering import OrderSettings, measure_trajectory, recorded

    process = CepstralAR(n_mels=M, n_bands=4)
    _, var = _gaussian_data(process, torch.Generator().manual_seed(8))  # centred, as the commit measure needs
    trajectory, times = recorded(lambda callback: solve(
        process, GaussianModel(process, torch.zeros_like(var), var), n=8, shape=(M, T), steps=2 * process.n_stages,
        generator=torch.Generator().manual_seed(9), callback=callback))
    view, _ = measure_trajectory(trajectory, times, "cepstrum", OrderSettings(n_bands=4, n_bootstrap=20))
    assert view.order.mean == 1.0
    K = process.n_stages  # band k is final after the step that ends stage k: its x0_hat at that step's start
    assert view.commit_t == pytest.approx([1.0 - (k + 1) / K + 1 / (2 * K) for k in range(1, K)])
