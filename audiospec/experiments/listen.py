"""Turn log-mel patches into audio a person can listen to (Griffin-Lim), with the spectrograms to show beside it.

What a listener hears is what the analysis used: a set of files meant to be compared
(a clean clip and its noised versions, or one generated clip) is scaled by one gain
(:func:`listening_gain`) that keeps its loudest sample below full scale, so 16-bit PCM
never clips and the SNR between the files is unchanged; the gain is recorded beside them.
The spectrogram of every file (log-mel dB) is kept in the folder's ``spectrograms.safetensors``
(:class:`Spectrograms`); the report draws each one as the image its manifest names.
"""

from __future__ import annotations

import json
from pathlib import Path
from typing import Any, Sequence

import torch
from safetensors.torch import load_file, save_file

from audiospec.atomic import atomic_path, read_json
from audiospec.data import write_wav
from audiospec.errors import AudiospecError
from audiospec.functional.inversion import mel_to_waveform
from audiospec.transforms import MelConfig

__all__ = ["PEAK", "SPECTROGRAMS_NAME", "Spectrograms", "committed_bands", "listening_gain", "log_mel_to_audio",
           "read_manifest", "read_spectrograms", "trajectory_points", "write_patch_audio"]

PEAK = 0.98  # the loudest sample of a listening set after scaling (-0.18 dBFS): never exactly full scale
SPECTROGRAMS_NAME = "spectrograms.safetensors"


class Spectrograms:
    """The log-mel spectrograms (dB ``[M, T]``) of a folder's audio files, keyed by the image name each file's
    manifest entry gives (relative to the folder), with a title each; :meth:`write` saves them."""

    def __init__(self, mel: MelConfig) -> None:
        self.mel = mel
        self.images: dict[str, torch.Tensor] = {}
        self.titles: dict[str, str] = {}

    def add(self, name: str, log_mel_db: torch.Tensor, *, title: str) -> None:
        self.images[name] = log_mel_db.detach().to("cpu", torch.float32).contiguous()
        self.titles[name] = title

    def write(self, folder: Path) -> None:
        """``folder/spectrograms.safetensors``, atomically (nothing when there is no spectrogram)."""
        if not self.images:
            return
        metadata = {"titles": json.dumps(self.titles), "hop_length": str(self.mel.hop_length),
                    "sample_rate": str(self.mel.sample_rate)}
        with atomic_path(Path(folder) / SPECTROGRAMS_NAME) as tmp:
            save_file(self.images, str(tmp), metadata=metadata)


def read_spectrograms(folder: Path) -> tuple[dict[str, torch.Tensor], dict[str, str], float]:
    """The spectrograms of ``folder`` (none when it has no file): images, titles and seconds per frame."""
    path = Path(folder) / SPECTROGRAMS_NAME
    if not path.is_file():
        return {}, {}, 0.0
    try:
        from safetensors import safe_open

        with safe_open(str(path), framework="pt") as handle:
            metadata = handle.metadata() or {}
        images = load_file(str(path))
        titles = json.loads(metadata["titles"])
        frame = float(metadata["hop_length"]) / float(metadata["sample_rate"])
    except Exception as err:  # noqa: BLE001 - a damaged file, whatever the decoder says
        raise AudiospecError(f"{str(path)!r} is damaged ({type(err).__name__}: {err}); re-run the step that "
                             "writes it") from None
    return images, titles, frame


_ENTRY_KEYS = ("clip", "label", "domain", "prior", "level", "wav", "png")


def read_manifest(path: Path) -> dict[str, Any]:
    """A listening manifest (``corrupt.json``, compare's ``listening.json``): ``files``, each entry with
    :data:`_ENTRY_KEYS`; AudiospecError naming the file and the first damaged entry otherwise."""
    manifest = read_json(path)
    files = manifest.get("files") if isinstance(manifest, dict) else None
    if not isinstance(files, list):
        raise AudiospecError(f"{str(path)!r} lacks its list of 'files'; re-run the step that writes it")
    for i, entry in enumerate(files):
        missing = [k for k in _ENTRY_KEYS if k not in entry] if isinstance(entry, dict) else list(_ENTRY_KEYS)
        if missing or not isinstance(entry["clip"], (int, str)):
            raise AudiospecError(f"{str(path)!r}: files[{i}] = {entry!r} lacks {missing or ['a clip number']}; the "
                                 "file is damaged: re-run the step that writes it")
    return manifest


def listening_gain(waves: Sequence[torch.Tensor], *, peak: float = PEAK) -> float:
    """One gain for a set of waveforms: ``peak / max |x|`` over the set when that exceeds ``peak``, else 1."""
    loudest = max(float(w.abs().max()) for w in waves)
    return peak / loudest if loudest > peak else 1.0


def log_mel_to_audio(log_mel_db: torch.Tensor, *, mel: MelConfig, n_iter: int = 32,
                     length: int | None = None) -> torch.Tensor:
    """Griffin-Lim audio ``[L]`` of one log-mel patch ``[M, T]`` (dB), unscaled (see :func:`listening_gain`)."""
    return mel_to_waveform(log_mel_db.float(), sample_rate=mel.sample_rate, n_fft=mel.n_fft,
                           hop_length=mel.hop_length, f_min=mel.f_min, f_max=mel.f_max, n_iter=n_iter, length=length)


def write_patch_audio(log_mel_db: torch.Tensor, *, mel: MelConfig, out_dir: Path, spectrograms: Spectrograms,
                      prefix: str = "", n_iter: int = 32, title: str = "", titles: Sequence[str] | None = None,
                      stem: str = "sample") -> list[tuple[str, str, float]]:
    """Write ``{stem}{i}.wav`` for each log-mel patch ``[n, M, T]`` (dB), one gain each, and keep its spectrogram
    in ``spectrograms`` as ``{prefix}{stem}{i}.png`` (the image the report draws).

    ``titles``: one spectrogram title per patch (default ``"{title} #{i}"``). Returns (wav name,
    png name, gain applied) per patch, relative to ``out_dir``.
    """
    names = []
    for i, log_mel in enumerate(log_mel_db.float()):
        wave = log_mel_to_audio(log_mel, mel=mel, n_iter=n_iter)
        gain = listening_gain([wave])
        write_wav(out_dir / f"{stem}{i}.wav", gain * wave, sample_rate=mel.sample_rate)
        label = titles[i] if titles is not None else f"{title} #{i}".strip()
        spectrograms.add(f"{prefix}{stem}{i}.png", log_mel, title=label)
        names.append((f"{stem}{i}.wav", f"{stem}{i}.png", gain))
    return names


def trajectory_points(times: Sequence[float], n_points: int = 6) -> list[int]:
    """Indices of about ``n_points`` recorded steps spread evenly from the first (noise) to the last (data)."""
    last = len(times) - 1
    return sorted({round(k * last / (n_points - 1)) for k in range(n_points)})


def committed_bands(t: float, commit_t: Sequence[float]) -> int:
    """How many bands have committed by time ``t`` (their commit time is at or above t; sampling runs 1 -> 0)."""
    return sum(1 for c in commit_t if c >= t)
