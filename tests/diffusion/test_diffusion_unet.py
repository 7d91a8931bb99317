"""The U-Net: parameter budgets of the presets, time conditioning, batch consistency, shape checks."""

from __future__ import annotations

import pytest
import torch

from audiospec.diffusion import ModelConfig, UNet, build_model, count_parameters
from audiospec.errors import AudiospecError


def _model(preset="tiny", seed=0, **overrides) -> UNet:
    config = ModelConfig.preset(preset)
    if overrides:
        config = ModelConfig(**{**config.__dict__, **overrides})
    return build_model(config, generator=torch.Generator().manual_seed(seed))


def test_preset_parameter_counts():
    tiny, default = count_parameters(_model("tiny")), count_parameters(_model("default"))
    assert 1_000_000 <= tiny <= 2_000_000, tiny
    assert 10_000_000 <= default <= 20_000_000, default


@pytest.mark.parametrize("attention", [True, False])
def test_output_shape_and_time_conditioning(attention):
    model = _model(attention=attention)
    x = torch.randn(2, 1, 16, 32, generator=torch.Generator().manual_seed(1))
    with torch.no_grad():
        out = model(x, torch.tensor([0.2, 0.7]))
        out_t = model(x, torch.tensor([0.25, 0.7]))
        out_x = model(x + 0.1, torch.tensor([0.2, 0.7]))
    assert out.shape == x.shape
    assert (out[0] - out_t[0]).abs().max() > 1e-4  # changing t changes the output ...
    torch.testing.assert_close(out[1], out_t[1])  # ... of that example only
    assert (out - out_x).abs().max() > 1e-4


def test_default_preset_runs_on_a_log_mel_patch():
    model = _model("default")
    with torch.no_grad():
        out = model(torch.randn(1, 1, 64, 128), torch.tensor([0.5]))
    assert out.shape == (1, 1, 64, 128) and bool(torch.isfinite(out).all())


def test_batch_consistency_and_scalar_time():
    model = _model()
    x = torch.randn(3, 1, 16, 32, generator=torch.Generator().manual_seed(2))
    with torch.no_grad():
        batched = model(x, torch.full((3,), 0.4))
        single = torch.cat([model(x[i : i + 1], torch.tensor([0.4])) for i in range(3)])
        scalar = model(x, torch.tensor(0.4))
    torch.testing.assert_close(batched, single, rtol=1e-4, atol=1e-5)
    torch.testing.assert_close(batched, scalar)


def test_initialisation_is_deterministic_given_a_generator():
    a, b, c = _model(seed=3), _model(seed=3), _model(seed=4)
    assert all(torch.equal(p, q) for p, q in zip(a.parameters(), b.parameters()))
    assert not all(torch.equal(p, q) for p, q in zip(a.parameters(), c.parameters()))


def test_gradients_reach_every_parameter():
    model = _model()
    model(torch.randn(2, 1, 16, 32), torch.tensor([0.3, 0.6])).square().mean().backward()
    assert all(p.grad is not None and bool(p.grad.abs().sum() > 0) for p in model.parameters())


def test_model_config_errors_name_the_fix():
    model = _model()
    with pytest.raises(AudiospecError, match=r"\(M, T\) = \(20, 32\) must be divisible by 2\^3 = 8"):
        model(torch.randn(1, 1, 20, 32), torch.tensor([0.5]))
    with pytest.raises(AudiospecError, match=r"takes \[B, 1, M, T\]"):
        model(torch.randn(1, 2, 16, 32), torch.tensor([0.5]))
    with pytest.raises(AudiospecError, match=r"t must be a scalar or have shape \[B\] = \[1\]"):
        model(torch.randn(1, 1, 16, 32), torch.tensor([0.5, 0.5]))
    with pytest.raises(AudiospecError, match="norm_groups=32 does not divide the width 48"):
        ModelConfig(base_channels=48, channel_mults=(1, 2))
    with pytest.raises(AudiospecError, match="unknown model preset 'huge'"):
        ModelConfig.preset("huge")
    with pytest.raises(AudiospecError, match="channel_mults must be a non-empty list"):
        ModelConfig(channel_mults=())


def test_patchified_stem_predicts_every_pixel_at_a_quarter_of_the_flops():
    from audiospec.diffusion.flops import count_flops

    small = dict(base_channels=16, channel_mults=(1, 2, 2), res_blocks=1, attention=False, norm_groups=8)
    full, patched = build_model(ModelConfig(**small)), build_model(ModelConfig(**small, patch_size=2))
    x, t = torch.randn(2, 1, 32, 48), torch.rand(2)
    out = patched(x, t)
    assert out.shape == x.shape
    # each output pixel has its own value: the pixel shuffle spreads p^2 channels over the p x p block
    assert out[:, :, 0::2, 0::2].sub(out[:, :, 1::2, 1::2]).abs().mean() > 1e-3
    # every level runs on a 2x coarser grid: a quarter of the convolution FLOPs (the stem and head change slightly)
    ratio = count_flops(lambda: patched(x, t)) / count_flops(lambda: full(x, t))
    assert 0.2 < ratio < 0.3, ratio
    loss = patched(x, t).square().mean()
    loss.backward()
    assert all(p.grad is not None and torch.isfinite(p.grad).all() for p in patched.parameters())
    with pytest.raises(AudiospecError, match="patch_size 2 x 2\\^2 = 8"):
        patched(torch.randn(1, 1, 36, 48), torch.rand(1))
    with pytest.raises(AudiospecError, match="patch_size must be a positive integer"):
        ModelConfig(**small, patch_size=0)
