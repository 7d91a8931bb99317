"""Shared fixtures of the CLI tests: a tiny labelled folder of recordings and configs on it."""

from __future__ import annotations

from pathlib import Path

import numpy as np
import soundfile as sf
import yaml


def audio_folder(root: Path) -> Path:
    """Two labelled sub-folders of short noise recordings (synthetic: CLI plumbing test only)."""
    rng = np.random.default_rng(0)
    for label, tilt in (("hiss", 0.0), ("rumble", 0.95)):
        (root / label).mkdir(parents=True)
        for i in range(3):
            white = rng.standard_normal(8000 * 2)
            coloured = np.zeros_like(white)
            for n in range(1, white.size):  # one-pole low-pass: 'rumble' is darker than 'hiss'
                coloured[n] = tilt * coloured[n - 1] + white[n]
            sf.write(root / label / f"{i}.wav", 0.2 * coloured / np.abs(coloured).max(), 8000)
    return root


def split_folder(root: Path, *, sr: int = 22050, seconds: float = 3.0) -> Path:
    """Six recordings per class (tones for music, noise for speech), so that every split of a
    train / validation / test split by recording gets one."""
    rng = np.random.default_rng(0)
    t = np.arange(int(seconds * sr)) / sr
    for label in ("music", "speech"):
        (root / label).mkdir(parents=True)
        for i in range(6):
            tone = np.sin(2 * np.pi * (220 + 40 * i) * t) if label == "music" else rng.standard_normal(t.size)
            sf.write(root / label / f"{label}{i}.wav", (0.2 * tone).astype(np.float32), sr)
    return root


def analysis_config(path: Path, folder: Path, **analysis_overrides) -> Path:
    config = {
        "data": {"dataset": f"folder:{folder}", "sample_rate": 8000, "clip_seconds": 0.6},
        "analysis": {"mel": {"sample_rate": 8000, "n_fft": 256, "hop_length": 64, "n_mels": 32},
                     "patch_frames": 64, "welch_n_fft": 256, "n_bootstrap": 50, "hinge_clips": 2,
                     **analysis_overrides},
    }
    path.write_text(yaml.safe_dump(config))
    return path


TINY_MODEL = {"preset": "tiny", "base_channels": 8, "channel_mults": [1, 2], "attention": False}


def train_config(path: Path, folder: Path, **sections) -> Path:
    """A `audiospec train` YAML on the tiny folder corpus; ``sections`` replace or add top-level keys."""
    config = {
        "data": {"dataset": f"folder:{folder}", "sample_rate": 8000, "clip_seconds": 0.6},
        "mel": {"sample_rate": 8000, "n_fft": 256, "hop_length": 64, "n_mels": 16},
        "patch_frames": 8,
        **sections,
    }
    path.write_text(yaml.safe_dump(config))
    return path
