"""A corpus carried as a log-mel cache gives the same patches (to 0.16 dB) and the same split as its audio."""

from __future__ import annotations

from pathlib import Path

import numpy as np
import pytest
import soundfile as sf
import torch

from audiospec.data import (DataConfig, load_corpus, prepare_mini, read_log_mel_cache, source_groups, split_corpus,
                            write_log_mel_cache)
from audiospec.data.melcache import quantise_db
from audiospec.errors import AudiospecError
from audiospec.data import corpus_patches
from audiospec.transforms import MelConfig

RATE = 8000


def test_quantised_db_is_within_half_a_step_and_keeps_the_floor():
    g = torch.Generator().manual_seed(0)
    log_mel = torch.rand(3, 8, 20, generator=g, dtype=torch.float64) * 80.0 - 60.0
    log_mel[1] = log_mel[1].clamp_min(-30.0)  # a floor atom, as top_db makes
    codes, floor, step = quantise_db(log_mel)
    back = floor[:, None, None] + codes.double() * step[:, None, None]
    assert codes.dtype == torch.uint8
    assert float((back - log_mel).abs().amax()) <= float(step.max()) / 2 + 1e-9  # <= 80 / 510 = 0.157 dB
    assert float(step.max()) <= 80.0 / 255 + 1e-9
    assert torch.equal(back[1][log_mel[1] == -30.0], torch.full_like(back[1][log_mel[1] == -30.0], -30.0))


@pytest.fixture(scope="module")
def mini(tmp_path_factory) -> Path:
    """A prepared mini corpus (manifest with source recordings) from generated stand-in files."""
    base = tmp_path_factory.mktemp("melcache")
    rng = np.random.default_rng(0)
    for i in range(4):  # 4 'tracks', each long enough for several clips
        wave = (0.3 * np.sin(2 * np.pi * (200 + 90 * i) * np.arange(9 * RATE) / RATE)
                * (1 + 0.5 * rng.standard_normal(9 * RATE))).astype(np.float32)
        (base / "music").mkdir(exist_ok=True)
        sf.write(base / "music" / f"track{i}.ogg", wave, RATE, format="OGG", subtype="VORBIS")
    for i in range(12):
        folder = base / "speech" / f"level{i // 4}" / "cs"
        folder.mkdir(parents=True, exist_ok=True)
        sf.write(folder / f"line{i}.ogg", (0.2 * rng.standard_normal(RATE)).astype(np.float32), RATE,
                 format="OGG", subtype="VORBIS")
    return prepare_mini(base / "mini", music_dir=base / "music", speech_dir=base / "speech", n_per_class=6,
                        clip_seconds=1.5, sample_rate=RATE, progress=False)


def test_cache_gives_the_audio_corpus_patches_and_split(tmp_path, mini):
    mel = MelConfig(sample_rate=RATE, n_fft=256, hop_length=64, n_mels=16)
    config = DataConfig(dataset="mini", data_dir=str(mini.parent), sample_rate=RATE, clip_seconds=1.5)
    audio = load_corpus(config, progress=False)
    cache = write_log_mel_cache(audio, mel=mel, out_dir=tmp_path / "carried")
    assert (cache / "manifest.json").is_file()
    carried = load_corpus(DataConfig(dataset=f"log-mel:{cache}", sample_rate=RATE, clip_seconds=1.5),
                          progress=False)
    assert carried.labels == audio.labels and carried.waveforms.shape == (len(audio), 0)
    a = corpus_patches(audio, mel=mel, patch_frames=16)
    b = corpus_patches(carried, mel=mel, patch_frames=16)
    assert torch.equal(a.clip_index, b.clip_index) and a.labels == b.labels
    # standardised patches agree to the quantisation step: <= 0.16 dB / std_db
    assert float((a.patches - b.patches).abs().amax()) <= 0.16 / a.std_db
    assert a.std_db == pytest.approx(b.std_db, rel=1e-3)
    # the same recordings in the same splits: groups come from the carried manifest
    assert len(set(source_groups(carried))) == len(set(source_groups(audio))) < len(audio)
    split_a = split_corpus(audio, fractions=(0.5, 0.25, 0.25), seed=0)
    split_b = split_corpus(carried, fractions=(0.5, 0.25, 0.25), seed=0)
    for name in split_a:
        assert [Path(s).name for s in split_a[name].sources] == [Path(s).name for s in split_b[name].sources]
    with pytest.raises(AudiospecError, match="made with .* asks for"):
        corpus_patches(carried, mel=MelConfig(sample_rate=RATE, n_fft=256, hop_length=64, n_mels=8), patch_frames=16)
    with pytest.raises(AudiospecError, match="needs the audio"):
        carried.require_audio("the analysis")


def test_missing_or_damaged_cache_is_a_clear_error(tmp_path):
    with pytest.raises(AudiospecError, match="no log-mel cache"):
        read_log_mel_cache(tmp_path)
    (tmp_path / "log_mel.safetensors").write_bytes(b"not a cache")
    with pytest.raises(AudiospecError, match="damaged"):
        read_log_mel_cache(tmp_path)
    with pytest.raises(AudiospecError, match="names no folder"):
        DataConfig(dataset="log-mel:")
