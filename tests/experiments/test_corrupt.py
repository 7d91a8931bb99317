"""audiospec.experiments.stages.corrupt: what a listener hears is what the analysis used (no clipping, exact SNRs)."""

from __future__ import annotations

import json
import math

import pytest
import soundfile as sf
import torch

from audiospec.data import Corpus
from audiospec.experiments.results import to_json
from audiospec.experiments.stages.corrupt import CorruptConfig, corrupt_corpus
from audiospec.transforms import MelConfig

SR = 8000
MEL = MelConfig(sample_rate=SR, n_fft=256, hop_length=64, n_mels=32)


def _loud_corpus() -> Corpus:
    """Two classes of loud clips (peak 0.95): at 0 dB SNR the noisy sum exceeds full scale."""
    g = torch.Generator().manual_seed(0)
    t = torch.arange(SR) / SR
    tone = 0.95 * torch.sin(2 * math.pi * 330.0 * t)
    waves = torch.stack([tone, 0.95 * torch.sign(tone) * tone.abs() ** 0.5,
                         0.3 * torch.randn(SR, generator=g).clamp(-3, 3), tone * 0.9])
    return Corpus(waveforms=waves.float(), labels=["a", "a", "b", "b"], sources=["x@0"] * 4, sample_rate=SR)


def _snr_db(clean, noisy) -> float:
    return 10 * math.log10((clean**2).sum() / ((noisy - clean) ** 2).sum())


@pytest.fixture(scope="module")
def written(tmp_path_factory):
    out = tmp_path_factory.mktemp("corrupt")
    config = CorruptConfig(mel=MEL, clips_per_class=1, listen_seconds=1.0, snr_db=(10.0, 0.0), times=(0.5,),
                           blur_sigmas=(), griffin_lim_iters=2)
    manifest = to_json(corrupt_corpus(_loud_corpus(), config=config, out_dir=out, progress=False))
    (out / "corrupt.json").write_text(json.dumps(manifest))  # the stage's output file, as `audiospec corrupt` writes it
    return out, manifest


def test_noisy_files_keep_the_requested_snr_although_they_would_clip(written):
    out, manifest = written
    for clip in (0, 1):
        clean, _ = sf.read(out / f"clean/clip{clip}.wav")
        for prior in ("white", "pink", "matched"):
            for snr in (10.0, 0.0):
                noisy, _ = sf.read(out / f"waveform/{prior}/snr{snr:g}dB/clip{clip}.wav")
                # 16-bit PCM adds noise ~ -90 dB: the measured SNR is the requested one within 0.05 dB
                assert abs(_snr_db(clean, noisy) - snr) < 0.05, (clip, prior, snr, _snr_db(clean, noisy))
    gains = {e["clip"]: e["gain"] for e in manifest["files"]}
    assert gains[0] < 1.0  # the loud tone's set needed scaling; measured ~0.5 at 0 dB SNR
    assert json.loads((out / "corrupt.json").read_text())["files"][0]["gain"] == manifest["files"][0]["gain"]


def test_no_written_file_touches_full_scale(written):
    out, manifest = written
    for entry in manifest["files"]:
        data, _ = sf.read(out / entry["wav"])
        assert abs(data).max() < 1.0, entry["wav"]
