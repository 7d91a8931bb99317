"""A corpus as log-mel spectrograms only: a compact, exact-to-0.16-dB form that travels where its audio cannot.

The model stages (compare, curve, probe, baselines) read a corpus only through its log-mel
patches, so a corpus can be carried to a machine without its audio (a GPU box with no
network: 126 min per class of ``debian`` is 671 MB as WAV, 380 MB as FLAC, 34 MB as this
cache) and loaded there as ``dataset: "log-mel:PATH"``. :func:`write_log_mel_cache` stores,
per clip, the log-mel spectrogram ``[M, F]`` (dB, :class:`~audiospec.transforms.MelConfig`)
quantised to 8 bits between the clip's minimum and maximum (step ≤ top_db / 255 = 0.31 dB at
the default 80 dB range; the error is uniform, at most half a step, RMS ≈ 0.09 dB, and the
clip's floor value is kept exactly), with the labels, the sources and the corpus manifest, so
that the split by source recording is the same as for the audio. The loaded :class:`Corpus`
has no waveforms (``[N, 0]``) and carries ``log_mel`` and ``mel``; a stage that needs audio
(analysis, corrupt) or another mel setting stops with an error saying so.
"""

from __future__ import annotations

import dataclasses
import json
import shutil
from pathlib import Path

import torch
from safetensors import SafetensorError, safe_open
from safetensors.torch import load_file, save_file

from audiospec.data.corpus import Corpus, SkippedFile
from audiospec.errors import AudiospecError
from audiospec.transforms import LogMelSpectrogram, MelConfig

__all__ = ["LOG_MEL_PREFIX", "CACHE_NAME", "quantise_db", "read_log_mel_cache", "write_log_mel_cache"]

LOG_MEL_PREFIX = "log-mel:"
CACHE_NAME = "log_mel.safetensors"
_MANIFEST = "manifest.json"
_LEVELS = 255


def quantise_db(log_mel: torch.Tensor) -> tuple[torch.Tensor, torch.Tensor, torch.Tensor]:
    """``[N, M, F]`` dB -> (uint8 codes ``[N, M, F]``, floor ``[N]``, step ``[N]``) per clip (module doc);
    ``floor + codes * step`` gives the values back to within ``step / 2``."""
    flat = log_mel.double().flatten(1)  # [N, M F]
    low, high = flat.amin(1), flat.amax(1)  # [N]
    step = ((high - low) / _LEVELS).clamp_min(1e-12)
    codes = ((flat - low[:, None]) / step[:, None]).round().clamp(0, _LEVELS).to(torch.uint8)
    return codes.reshape(log_mel.shape), low, step


def write_log_mel_cache(corpus: Corpus, *, mel: MelConfig, out_dir: str | Path, batch: int = 64) -> Path:
    """Write ``corpus`` as ``out_dir/log_mel.safetensors`` (+ its manifest, if the corpus has one).

    Sources are stored relative to the corpus folder (the manifest's folder) so that the split
    finds the same recordings where the cache is loaded.

    Args:
        corpus: an audio corpus (waveforms ``[N, L]``) as :func:`~audiospec.data.load_corpus` gives it.
        mel: the log-mel settings; the model stages must use the same ones.
        out_dir: the cache folder, loaded later as ``dataset: "log-mel:<out_dir>"``.
        batch: clips per log-mel call (memory).

    Returns:
        ``out_dir`` as a :class:`~pathlib.Path`.

    Raises:
        AudiospecError: a corpus without audio, a mel rate other than the corpus's, or a clip
            whose source lies outside the corpus folder.
    """
    if corpus.waveforms.shape[-1] == 0:
        raise AudiospecError("this corpus holds no audio (it was loaded from a log-mel cache); cache the audio corpus")
    if mel.sample_rate != corpus.sample_rate:
        raise AudiospecError(f"mel.sample_rate={mel.sample_rate} differs from the corpus rate {corpus.sample_rate} Hz; "
                             "set them equal")
    out_dir = Path(out_dir)
    transform = LogMelSpectrogram(mel)
    parts = [transform(corpus.waveforms[i : i + batch]) for i in range(0, len(corpus), batch)]
    codes, floor, step = quantise_db(torch.cat(parts))
    files = [source.rsplit("@", 1)[0] for source in corpus.sources]
    root = Path(files[0]).resolve().parent.parent if files else out_dir
    manifest = root / _MANIFEST
    meta = {"labels": corpus.labels, "sample_rate": corpus.sample_rate, "mel": dataclasses.asdict(mel),
            "sources": [_relative(source, root) for source in corpus.sources],
            "skipped": [dataclasses.asdict(s) for s in corpus.skipped],
            "source_rates": {str(k): v for k, v in corpus.source_rates.items()}}
    out_dir.mkdir(parents=True, exist_ok=True)
    if manifest.is_file():
        shutil.copyfile(manifest, out_dir / _MANIFEST)
    save_file({"codes": codes.contiguous(), "floor": floor, "step": step}, str(out_dir / CACHE_NAME),
              metadata={"audiospec": json.dumps(meta)})
    return out_dir


def _relative(source: str, root: Path) -> str:
    file, _, offset = source.rpartition("@")
    try:
        return str(Path(file).resolve().relative_to(root)) + "@" + offset
    except ValueError:
        raise AudiospecError(f"clip source {file!r} is not inside the corpus folder {str(root)!r}") from None


def read_log_mel_cache(path: str | Path) -> Corpus:
    """The corpus of a cache folder written by :func:`write_log_mel_cache`.

    Args:
        path: the cache folder (or its ``log_mel.safetensors``).

    Returns:
        A :class:`Corpus` with ``log_mel`` ``[N, M, F]`` (dB) and ``mel`` set and no audio
        (``waveforms`` ``[N, 0]``).

    Raises:
        AudiospecError: no cache at ``path``, or a damaged one.
    """
    folder = Path(path)
    file = folder / CACHE_NAME if folder.is_dir() else folder
    if not file.is_file():
        raise AudiospecError(f"no log-mel cache at {str(path)!r}: expected {str(folder / CACHE_NAME)!r}; write one "
                             "with audiospec.data.write_log_mel_cache (recipes/debian/run.sh --gpu-protocol does)")
    try:
        with safe_open(str(file), framework="pt") as handle:
            meta = json.loads(handle.metadata()["audiospec"])
        tensors = load_file(str(file))
        log_mel = (tensors["floor"][:, None, None] + tensors["codes"].double() * tensors["step"][:, None, None]).float()
    except (OSError, KeyError, ValueError, RuntimeError, SafetensorError) as err:
        raise AudiospecError(f"log-mel cache {str(file)!r} is damaged ({err}); write it again") from None
    root = file.parent
    return Corpus(
        waveforms=torch.zeros(log_mel.shape[0], 0), labels=list(meta["labels"]),
        sources=[str(root / s.rpartition("@")[0]) + "@" + s.rpartition("@")[2] for s in meta["sources"]],
        sample_rate=int(meta["sample_rate"]), skipped=[SkippedFile(**s) for s in meta["skipped"]],
        source_rates={int(k): int(v) for k, v in meta["source_rates"].items()},
        log_mel=log_mel, mel=MelConfig(**meta["mel"]))
