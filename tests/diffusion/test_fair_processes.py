"""Known answers of the fair references of issue 25: the band windows' end points are the cepstral autoregression
and rectified flow, the fair cepstral AR samples its exact network's Gaussian, blurring diffusion without blur is
rectified flow, and the exact cepstral AR writes each band in its own stage only."""

from __future__ import annotations

import dataclasses

import pytest
import torch

from audiospec.diffusion import WhiteNoise, load_checkpoint, train
from audiospec.diffusion.processes import (
    BandWindows,
    BlurringDiffusion,
    CepstralAR,
    CoarseToFineConfig,
    RectifiedFlow,
    band_scales,
    build_process,
)
from audiospec.diffusion.solver import integrate, solve, uniform_time_grid
from audiospec.errors import AudiospecError
from audiospec.functional.band_steps import band_step_shares
from audiospec.functional.cepstrum import dct2, idct2, quefrency_bands
from audiospec.measures.gaussian import GaussianModel
from audiospec.measures.ordering import OrderSettings, measure_trajectory, recorded
from helpers_diffusion import tiny_train_config

M, T = 16, 8


def _net(seed: int = 0):
    """A fixed nonlinear 'network' (x, t) -> [B, C, M, T], the same for every process compared."""
    g = torch.Generator().manual_seed(seed)
    w = torch.randn(M * T, M * T, generator=g, dtype=torch.float64) / (M * T) ** 0.5

    def model(x, t):
        flat = x.double().flatten(1)
        return (torch.tanh(flat @ w) * (1 + t.double()[:, None])).reshape(x.shape).to(x.dtype)

    return model


def _batch(seed: int, n: int = 6):
    g = torch.Generator().manual_seed(seed)
    return torch.randn(n, 1, M, T, generator=g), torch.randn(n, 1, M, T, generator=g)


def test_softness_zero_without_scaling_is_the_cepstral_autoregression():
    windows = BandWindows(n_mels=M, n_bands=4, softness=0.0, method="euler")
    cepstral = CepstralAR(n_mels=M, n_bands=4)
    x0, eps = _batch(0)
    s = torch.tensor([0.93, 0.71, 0.55, 0.37, 0.21, 0.05], dtype=torch.float64)  # no window edge
    assert torch.allclose(windows.tau(s), cepstral.tau(s), atol=1e-12)
    assert torch.allclose(windows.corrupt(x0, eps, s), cepstral.corrupt(x0, eps, s), atol=1e-5)
    model = _net()
    assert float(windows.loss_at(model, x0, s=s, eps=eps)) == pytest.approx(
        float(cepstral.loss_at(model, x0, s=s, eps=eps)), rel=1e-5)
    t = torch.rand(6, generator=torch.Generator().manual_seed(1))
    assert torch.allclose(windows.training_time(t, generator=torch.Generator().manual_seed(2)),
                          cepstral.training_time(t, generator=torch.Generator().manual_seed(2)))
    K = windows.n_stages
    assert torch.allclose(windows.time_grid(3 * K), uniform_time_grid(3 * K))  # 3 steps per band
    z = torch.randn(3, 1, M, T, generator=torch.Generator().manual_seed(3))
    grid = uniform_time_grid(3 * K)
    a = integrate(windows, model, windows.to_coefficients(z), times=grid)
    b = integrate(cepstral, model, cepstral.to_coefficients(z), times=grid)
    assert torch.allclose(a, b, atol=1e-4)  # same start, same updates in another basis along time


@pytest.mark.parametrize("method", ["euler", "heun"])
def test_softness_one_without_scaling_is_rectified_flow_with_white_noise(method):
    windows = BandWindows(n_mels=M, n_bands=4, softness=1.0, method=method)
    flow = RectifiedFlow(prior=WhiteNoise(), method=method)
    x0, eps = _batch(4)
    t = torch.rand(6, generator=torch.Generator().manual_seed(5), dtype=torch.float64)
    assert torch.allclose(windows.training_time(t.float(), generator=torch.Generator().manual_seed(0)), t.float())
    assert torch.allclose(windows.corrupt(x0, eps, t), flow.corrupt(x0, eps, t), atol=1e-5)
    model = _net(1)
    assert float(windows.loss(model, x0, t=t.float(), eps=eps)) == pytest.approx(
        float(flow.loss(model, x0, t=t.float(), eps=eps)), rel=1e-5)
    assert windows.edges() == [1.0, 0.0] and torch.allclose(windows.time_grid(7), uniform_time_grid(7))
    a = solve(windows, model, n=3, shape=(M, T), steps=7, generator=torch.Generator().manual_seed(6))
    b = solve(flow, model, n=3, shape=(M, T), steps=7, generator=torch.Generator().manual_seed(6))
    assert torch.allclose(a, b, atol=1e-4)  # the step in tau is rectified flow's step on the linear path


def test_the_window_edges_are_inside_the_loss_and_on_the_grid():
    windows, cepstral = BandWindows(n_mels=M, n_bands=4), CepstralAR(n_mels=M, n_bands=4)
    K = windows.n_stages
    edge = torch.tensor([(K - 2) / K], dtype=torch.float64)  # band 1 ends here, band 2 starts
    both = (windows.band_index() == 1) | (windows.band_index() == 2)
    assert bool(windows.active(edge)[0, 0, :, 0].eq(both).all())  # the sampler reads both there: both trained
    assert not bool(cepstral.active(edge).any())  # the old mask leaves the edge out of every loss
    grid = windows.time_grid(2 * K)
    for i in range(2 * K):  # every band that moves in a step is in the loss at both ends of the step
        moving = (windows.tau(grid[i + 1:i + 2]) != windows.tau(grid[i:i + 1]))[0, 0, :, 0]
        assert bool((windows.active(grid[i:i + 1]) & windows.active(grid[i + 1:i + 2]))[0, 0, :, 0][moving].all())
    with pytest.raises(AudiospecError, match="crosses the window edge"):
        windows.check_grid(uniform_time_grid(2 * K + 1))
    soft = dataclasses.replace(windows, softness=0.5)
    grid = soft.time_grid(24)
    assert grid.numel() == 25 and all(any(abs(float(g) - e) < 1e-9 for g in grid) for e in soft.edges())
    soft.check_grid(grid)


def _gaussian(n: int = 400):
    """Data with independent 2-D DCT coefficients whose variance falls as the log-mel's (q^-1.45 along mel)."""
    k, l = torch.arange(M, dtype=torch.float64)[:, None], torch.arange(T, dtype=torch.float64)[None, :]
    var = ((1 + k) ** -1.45 * (1 + l) ** -1.0)[None]  # [1, M, T]
    var = var / var.mean()
    return var, torch.zeros_like(var)


def _band_variance_ratio(process, var, steps):
    """Sampled over exact variance per quefrency band, through ``process`` with its exact Gaussian network."""
    mean = torch.zeros_like(var)
    w_mean, w_var = process.whitened_moments(mean, var.sqrt()) if isinstance(process, BandWindows) else (mean, var)
    y = solve(process, GaussianModel(process, w_mean, w_var), n=600, shape=(M, T), steps=steps,
              generator=torch.Generator().manual_seed(0))
    c = dct2(y.double())[:, 0]  # [n, M, T]
    return [float(c[:, a:b].var(0).sum() / var[0, a:b].sum()) for a, b in quefrency_bands(M, n_bands=4)]


def test_the_fair_cepstral_ar_samples_its_exact_gaussian_at_four_steps_per_band():
    var, _ = _gaussian()
    patches = torch.randn(2000, 1, M, T, generator=torch.Generator().manual_seed(1), dtype=torch.float64)
    patches = _from_dct(patches, var)  # data with that covariance
    scale = band_scales(patches, quefrency_bands(M, n_bands=4))
    fair = BandWindows(n_mels=M, n_bands=4, scale=scale)  # Heun, 2 evaluations per step
    K = fair.n_stages
    fair_ratio = _band_variance_ratio(fair, var, 4 * K)  # 8 K evaluations
    old_ratio = _band_variance_ratio(CepstralAR(n_mels=M, n_bands=4), var, 8 * K)  # Euler, the same evaluations
    assert all(abs(r - 1) < 0.15 for r in fair_ratio), fair_ratio  # 600 samples: sd of a ratio ~0.06
    assert max(old_ratio) < 0.8, old_ratio  # the old one loses a third of every band's variance


def _coefficient_variance_ratio(noise_scale: str, var: torch.Tensor, n: int = 2000) -> torch.Tensor:
    """Sampled over exact variance per 2-D DCT coefficient ``[M, T]``: the fair cepstral AR (4 Heun steps per band)
    with its exact Gaussian network, its noise scaled per band or per coefficient."""
    patches = _from_dct(torch.randn(n, 1, M, T, generator=torch.Generator().manual_seed(3), dtype=torch.float64), var)
    fair = BandWindows(n_mels=M, n_bands=4, scale=band_scales(patches, quefrency_bands(M, n_bands=4), per=noise_scale))
    w_mean, w_var = fair.whitened_moments(torch.zeros_like(var), var.sqrt())
    y = solve(fair, GaussianModel(fair, w_mean, w_var), n=n, shape=(M, T), steps=4 * fair.n_stages,
              generator=torch.Generator().manual_seed(4))
    return dct2(y.double())[:, 0].var(0) / var[0]


def test_noise_per_coefficient_keeps_the_fair_ar_calibrated_where_band_variances_span_decades():
    # log-mel patches: inside one quefrency band the time-DCT variances span ~4 decades; here 3.6 (8^-4)
    k, l = torch.arange(M, dtype=torch.float64)[:, None], torch.arange(T, dtype=torch.float64)[None, :]
    var = ((1 + k) ** -1.45 * (1 + l) ** -4.0)[None]
    var = var / var.mean()
    per_coefficient = _coefficient_variance_ratio("coefficient", var)
    per_band = _coefficient_variance_ratio("band", var)
    # whitened variance 1 everywhere: Heun's deterministic gain at 4 steps gives 0.980; 2000 samples: sd 0.032
    assert float((per_coefficient - 0.98).abs().max()) < 0.15, per_coefficient
    assert abs(float(per_coefficient.mean()) - 0.98) < 0.01
    # one scale per band: the coefficients far below their band's variance come out inflated, those far above shrunk
    assert float(per_band.max()) > 4.0 and float(per_band.min()) < 0.85, per_band  # measured 14.0 and 0.77


def _from_dct(white: torch.Tensor, var: torch.Tensor) -> torch.Tensor:
    return idct2(white * var.sqrt())


def test_the_exact_cepstral_ar_writes_each_band_in_its_own_stage_only():
    var, mean = _gaussian()
    fair = BandWindows(n_mels=M, n_bands=4, scale=band_scales(_from_dct(torch.randn(500, 1, M, T, dtype=torch.float64,
                                                                                     generator=torch.Generator().manual_seed(2)),
                                                                         var), quefrency_bands(M, n_bands=4)))
    fair = dataclasses.replace(fair, method="euler")
    K, m = fair.n_stages, 3
    exact = GaussianModel(fair, *fair.whitened_moments(mean, var.sqrt()))
    trajectory, times = recorded(lambda callback: solve(fair, exact, n=8, shape=(M, T), steps=m * K,
                                                    generator=torch.Generator().manual_seed(3), callback=callback))
    shares = band_step_shares(trajectory, fair.bands)  # [K, m K]; the trajectory ends with the sample
    # band k is written in stage k's m steps (shares are >= 0, so 1 there means 0 in every other step); how the
    # stage's m steps split it is the sampler's
    assert torch.allclose(shares.reshape(K, K, m).sum(-1), torch.eye(K, dtype=torch.float64), atol=1e-6)
    # a trained network's output for a band whose window has not opened is never read by the loss: whatever it is,
    # it is no prediction, and the shares do not count it
    noise = torch.Generator().manual_seed(4)

    def untrained_outside(x, s):
        # s reaches a network in float32 (an edge at 0.8 arrives as 0.80000001): the loss trained the window's edge
        garbage = 5.0 * torch.randn(x.shape, generator=noise, dtype=torch.float64) * fair.pending(s.double() - 1e-6)
        return exact(x, s) + idct2(garbage).to(x.dtype)

    noisy, _ = recorded(lambda callback: solve(fair, untrained_outside, n=8, shape=(M, T), steps=m * K,
                                               generator=torch.Generator().manual_seed(3), callback=callback))
    assert torch.allclose(band_step_shares(noisy, fair.bands), shares, atol=1e-6)
    # the commit measure reads the same trajectory as perfectly ordered, coarse first (its positive control)
    view, _ = measure_trajectory(trajectory, times, "cepstrum", OrderSettings(n_bands=4, n_bootstrap=20))
    assert view.order.mean == pytest.approx(1.0, abs=1e-9) and list(view.commit_t) == sorted(view.commit_t, reverse=True)


def test_blurring_without_blur_is_rectified_flow_and_its_exact_network_samples_the_data():
    flat, flow = BlurringDiffusion(sigma_blur_max=0.0), RectifiedFlow(prior=WhiteNoise())
    x0, eps = _batch(7)
    t = torch.rand(6, generator=torch.Generator().manual_seed(8))
    model = _net(2)
    assert torch.allclose(flat.corrupt(x0, eps, t.double()), flow.corrupt(x0, eps, t), atol=1e-5)
    assert float(flat.loss(model, x0, t=t, eps=eps)) == pytest.approx(float(flow.loss(model, x0, t=t, eps=eps)),
                                                                       rel=1e-5)
    a = solve(flat, model, n=3, shape=(M, T), steps=6, generator=torch.Generator().manual_seed(9))
    b = solve(flow, model, n=3, shape=(M, T), steps=6, generator=torch.Generator().manual_seed(9))
    assert torch.allclose(a, b, atol=1e-4)
    var, mean = _gaussian()
    blurring = BlurringDiffusion(sigma_blur_max=8.0)
    alpha, _ = blurring.schedule(torch.tensor([0.5]), (M, T))
    assert float(alpha[0, 0, -1, -1]) < 0.01 < 0.4 < float(alpha[0, 0, 0, 0])  # fine coefficients blurred first
    deficits = []
    for steps in (200, 800):  # the DDIM-form step follows the interpolant's probability flow, first order
        y = solve(blurring, GaussianModel(blurring, mean, var), n=400, shape=(M, T), steps=steps,
                  generator=torch.Generator().manual_seed(10))
        deficits.append(1.0 - float((dct2(y.double())[:, 0].var(0) / var[0]).mean()))
    assert 0 < deficits[1] < 0.08 and 2.5 < deficits[0] / deficits[1] < 5.5  # measured 0.162 and 0.048


@pytest.mark.parametrize("objective,extra", [("band_windows", {"n_bands": 3, "softness": 0.5,
                                                              "noise_scale": "coefficient"}),
                                             ("blurring", {"n_bands": 3, "blur_sigma_max": 4.0})])
def test_the_new_processes_train_and_resample_from_their_checkpoint(objective, extra, tmp_path):
    patches = _from_dct(torch.randn(16, 1, M, T, generator=torch.Generator().manual_seed(11)), _gaussian()[0].float())
    config = tiny_train_config(objective=objective, coarse_to_fine=extra, steps=2, checkpoint_every=2)
    result = train(config, patches, prior=WhiteNoise(), out_dir=tmp_path, progress=False)
    _, ema, loaded, prior = load_checkpoint(result.checkpoint)
    process = build_process(loaded.objective, prior=prior, n_mels=M, coarse_to_fine=loaded.coarse_to_fine,
                            data=patches)
    y = solve(process, ema, n=2, shape=(M, T), steps=process.time_grid(12).numel() - 1,
              generator=torch.Generator().manual_seed(0))
    assert y.shape == (2, 1, M, T) and bool(torch.isfinite(y).all())
    if objective == "band_windows":
        with pytest.raises(AudiospecError, match="training patches"):
            build_process(objective, prior=prior, n_mels=M, coarse_to_fine=CoarseToFineConfig(n_bands=3))
        assert process.nfe_per_step == 2 and build_process(objective, prior=prior, n_mels=M, sampler="euler",
                                                            coarse_to_fine=loaded.coarse_to_fine,
                                                            data=patches).nfe_per_step == 1
