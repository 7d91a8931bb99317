"""The nn.Module transforms hold buffers and return exactly what the functional calls return."""

from __future__ import annotations

import pytest
import torch
from helpers_functional import chirp_plus_noise

from audiospec.functional import log_mel_spectrogram, rapsd
from audiospec.transforms import RAPSD, LogMelSpectrogram, MelConfig


@pytest.mark.parametrize(
    "dtype",
    [
        torch.float32,
        torch.float64,
    ],
)
@pytest.mark.parametrize(
    "config",
    [MelConfig(), MelConfig(n_fft=1024, hop_length=256, n_mels=80, f_min=30.0, f_max=8000.0, top_db=None)],
    ids=["default", "custom"],
)
def test_log_mel_module_equals_functional(config, dtype):
    x = torch.from_numpy(chirp_plus_noise(seconds=0.5)).to(dtype).reshape(1, -1).repeat(2, 1) * torch.tensor(
        [[1.0], [0.1]], dtype=dtype
    )  # [2, L]
    module = LogMelSpectrogram(config)
    expected = log_mel_spectrogram(
        x, sample_rate=config.sample_rate, n_fft=config.n_fft, hop_length=config.hop_length, n_mels=config.n_mels,
        f_min=config.f_min, f_max=config.f_max, top_db=config.top_db,
    )
    out = module(x)
    assert out.dtype == dtype
    assert out.shape[-1] == config.frames(x.shape[-1])
    # float32: a few ulps of dB values up to ~100 dB; float64: float64 rounding only
    atol = 1e-4 if dtype == torch.float32 else 1e-9
    torch.testing.assert_close(out, expected, rtol=0, atol=atol)


def test_mel_config_defaults_are_librosa_except_n_mels():
    c = MelConfig()
    assert (c.sample_rate, c.n_fft, c.hop_length, c.f_min, c.f_max, c.top_db) == (22050, 2048, 512, 0.0, None, 80.0)
    assert c.n_mels == 64


@pytest.mark.parametrize("window", [None, "kaiser"])
@pytest.mark.parametrize("mode", ["pysteps", "normalized"])
def test_rapsd_module_equals_functional(mode, window):
    fields = torch.randn(3, 24, 40, generator=torch.Generator().manual_seed(0))
    module = RAPSD(24, 40, mode=mode, window=window)
    out = module(fields)
    expected = rapsd(fields, mode=mode, window=window)
    torch.testing.assert_close(out.power, expected.power, rtol=0, atol=0)
    torch.testing.assert_close(out.freqs, expected.freqs, rtol=0, atol=0)


def test_rapsd_module_default_is_normalized_mode():
    fields = torch.randn(2, 16, 48, generator=torch.Generator().manual_seed(1))
    torch.testing.assert_close(RAPSD(16, 48)(fields).power, rapsd(fields, mode="normalized").power, rtol=0, atol=0)


def test_modules_hold_their_constants_as_non_persistent_buffers():
    """Buffers follow .to(device) but are not saved in state_dict (rebuilt from the config)."""
    mel = LogMelSpectrogram(MelConfig(n_fft=512, n_mels=32))
    assert {name for name, _ in mel.named_buffers()} == {"fb", "window"}
    assert tuple(mel.fb.shape) == (257, 32)
    assert mel.state_dict() == {}
    radial = RAPSD(8, 12)
    assert {name for name, _ in radial.named_buffers()} == {"lower", "upper", "w_lower", "w_upper", "totals", "freqs"}
    assert radial.state_dict() == {}
