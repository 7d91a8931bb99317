"""Hypothesis properties: segment and write/read round trips over random lengths, rates and channels."""

from __future__ import annotations

import math
import tempfile
from pathlib import Path

import torch
from hypothesis import given, settings
from hypothesis import strategies as st

from audiospec.data import read_audio, segment, write_wav


@settings(max_examples=25, deadline=None)
@given(L=st.integers(1, 400), length=st.integers(1, 400), hop=st.none() | st.integers(1, 50),
       lead=st.lists(st.integers(1, 3), max_size=2))
def test_segment_matches_slicing(L, length, hop, lead):
    x = torch.arange(L * math.prod(lead), dtype=torch.float32).reshape(*lead, L)
    if L < length:
        return
    out = segment(x, length=length, hop=hop)
    step = hop or length
    N = (L - length) // step + 1
    assert out.shape == (*lead, N, length)
    for n in (0, N - 1):
        torch.testing.assert_close(out[..., n, :], x[..., n * step: n * step + length])


@settings(max_examples=12, deadline=None)
@given(L=st.integers(1, 3000), rate=st.sampled_from([8000, 11025, 16000, 22050, 44100, 48000, 96000]),
       channels=st.integers(1, 4), seed=st.integers(0, 2**16))
def test_float_wav_round_trip_is_exact(L, rate, channels, seed):
    generator = torch.Generator().manual_seed(seed)
    wave = torch.rand(channels, L, generator=generator) * 2 - 1  # [C, L] in [-1, 1)
    with tempfile.TemporaryDirectory() as tmp:
        path = write_wav(Path(tmp) / "x.wav", wave, sample_rate=rate, subtype="FLOAT")
        back, back_rate = read_audio(path, mono=False)
        mono, _ = read_audio(path)
    assert back_rate == rate
    torch.testing.assert_close(back, wave)
    torch.testing.assert_close(mono, wave.mean(dim=0))
