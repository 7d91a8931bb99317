"""Tiny synthetic audio files and archives for the audiospec.data tests (plain functions, no fixtures).

Imported as a top-level module: pytest's default ``prepend`` import mode puts this folder
(which has no ``__init__.py``) on ``sys.path``. Synthetic signals are for unit tests only.
"""

from __future__ import annotations

import io
import json
import tarfile
from pathlib import Path

import numpy as np
import pyarrow as pa
import pyarrow.parquet as pq
import soundfile as sf
import torch


def sine(freq: float, *, sample_rate: int, seconds: float, amplitude: float = 0.5, channels: int = 1,
         phase: float = 0.0) -> np.ndarray:
    """``[L]`` (one channel) or ``[L, C]`` float32 sine; channel ``c`` has amplitude ``amplitude / (c + 1)``."""
    t = np.arange(int(round(sample_rate * seconds))) / sample_rate
    base = np.sin(2 * np.pi * freq * t + phase)
    if channels == 1:
        return (amplitude * base).astype(np.float32)
    return np.stack([amplitude / (c + 1) * base for c in range(channels)], axis=1).astype(np.float32)


def write_tone(path: Path, *, freq: float = 440.0, sample_rate: int = 8000, seconds: float = 1.0,
               channels: int = 1, subtype: str | None = None, amplitude: float = 0.5, fmt: str | None = None) -> Path:
    """Write a sine to ``path`` (format from the extension unless ``fmt``); returns ``path``."""
    path.parent.mkdir(parents=True, exist_ok=True)
    sf.write(str(path), sine(freq, sample_rate=sample_rate, seconds=seconds, channels=channels, amplitude=amplitude),
             sample_rate, subtype=subtype, format=fmt)
    return path


def wav_bytes(*, freq: float = 440.0, sample_rate: int = 8000, seconds: float = 1.0) -> bytes:
    """An in-memory 16-bit WAV file of a sine."""
    buffer = io.BytesIO()
    sf.write(buffer, sine(freq, sample_rate=sample_rate, seconds=seconds), sample_rate, format="WAV",
             subtype="PCM_16")
    return buffer.getvalue()


def peak_frequency(wave: torch.Tensor, *, sample_rate: int) -> float:
    """Frequency (Hz) of the largest |rFFT| bin of ``[L]`` (Hann window)."""
    window = torch.hann_window(wave.shape[-1], dtype=torch.float64)
    spectrum = torch.fft.rfft(wave.to(torch.float64) * window).abs()
    return float(torch.argmax(spectrum)) * sample_rate / wave.shape[-1]


def make_tar(archive: Path, root: Path, *, arcname: str) -> Path:
    """``tar.gz`` of folder ``root`` stored under ``arcname``."""
    archive.parent.mkdir(parents=True, exist_ok=True)
    with tarfile.open(archive, "w:gz") as tar:
        tar.add(root, arcname=arcname)
    return archive


def make_music_speech_tree(base: Path, *, n_per_class: int = 3, sample_rate: int = 8000,
                           seconds: float = 2.0) -> Path:
    """``base/music_speech/{music_wav,speech_wav}/*.wav`` like GTZAN music/speech; returns the root."""
    root = base / "music_speech"
    for label, freq in (("music", 440.0), ("speech", 1000.0)):
        for i in range(n_per_class):
            write_tone(root / f"{label}_wav" / f"{label}{i}.wav", freq=freq + 10 * i, sample_rate=sample_rate,
                       seconds=seconds)
    return root


def write_parquet_dataset(folder: Path, rows: list[tuple[bytes, str | None, int]], *, names: list[str],
                          declared_rate: int = 32000, split: str = "train") -> Path:
    """A hub-style parquet file ``folder/data/<split>-00000-of-00001.parquet``.

    ``rows`` are ``(audio bytes, audio path, ClassLabel index)``; the Hugging Face schema
    metadata declares an ``Audio`` feature at ``declared_rate`` (whatever the bytes hold)
    and a ``ClassLabel`` with ``names`` — like ``sanchit-gandhi/gtzan``.
    """
    features = {"audio": {"_type": "Audio", "sampling_rate": declared_rate},
                "label": {"_type": "ClassLabel", "names": names}}
    schema = pa.schema(
        [("audio", pa.struct([("bytes", pa.binary()), ("path", pa.string())])), ("label", pa.int64())],
        metadata={"huggingface": json.dumps({"info": {"features": features}})},
    )
    table = pa.table({"audio": [{"bytes": b, "path": p} for b, p, _ in rows], "label": [lab for _, _, lab in rows]},
                     schema=schema)
    path = folder / "data" / f"{split}-00000-of-00001.parquet"
    path.parent.mkdir(parents=True, exist_ok=True)
    pq.write_table(table, path)
    return folder
