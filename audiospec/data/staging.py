"""Writing a prepared corpus atomically: clips staged as they are cut, then ``manifest.json``, ``.completed``, rename.

A prepared corpus is ``out_dir/{music,speech}/NNN.wav`` (mono 16-bit PCM, scaled down only
if its peak exceeds :data:`PEAK_LIMIT`, the gain recorded), ``out_dir/manifest.json``
(``{"name", <settings>, "classes", <corpus fields: packages, method>, "clips"}``; each clip
with its source excerpts, gain and, where the corpus groups files into recordings, its
``group``) and ``out_dir/.completed`` holding the settings. It is built in a temporary
folder beside ``out_dir`` and renamed when complete, so ``out_dir`` is never half written.
"""

from __future__ import annotations

import json
import os
import shutil
import tempfile
from collections.abc import Hashable, Mapping, Sequence
from dataclasses import dataclass
from pathlib import Path
from types import TracebackType

import torch

from audiospec.atomic import write_json
from audiospec.data.audio import write_wav
from audiospec.data.cutting import CutClip, Excerpt
from audiospec.data.packages import ClipLabel
from audiospec.errors import AudiospecError

__all__ = ["PEAK_LIMIT", "CorpusWriter", "already_prepared", "peak_safe"]

PEAK_LIMIT = 0.99
_STAGING = ".staging"


def peak_safe(clip: torch.Tensor) -> tuple[torch.Tensor, float]:
    """Scale ``[L]`` down so its peak is at most :data:`PEAK_LIMIT`; returns (clip, gain)."""
    peak = float(clip.abs().max())
    gain = 1.0 if peak <= PEAK_LIMIT else PEAK_LIMIT / peak
    return clip * gain, gain


def already_prepared(out_dir: Path, settings: Mapping[str, object], *, corpus: str) -> bool:
    """True when ``out_dir`` holds a corpus cut with ``settings``; raises when it holds anything else."""
    marker = out_dir / ".completed"
    if marker.is_file():
        previous = json.loads(marker.read_text())
        if previous == settings:
            return True
        raise AudiospecError(
            f"{str(out_dir)!r} already holds a {corpus} corpus prepared with {previous}, not {dict(settings)}; "
            "delete the folder to re-cut it, or choose another out_dir"
        )
    if out_dir.exists() and any(out_dir.iterdir()):
        raise AudiospecError(
            f"{str(out_dir)!r} exists, is not empty and is not a prepared {corpus} corpus (no .completed marker); "
            "delete it or choose another out_dir"
        )
    return False


@dataclass(frozen=True)
class _Staged:
    path: Path
    frames: int
    gain: float
    excerpts: tuple[Excerpt, ...]
    group: str | None


class CorpusWriter:
    """Builds a prepared corpus in a temporary folder beside ``out_dir``; :meth:`finish` renames it ``out_dir``.

    :meth:`stage` writes each clip (peak-limited, 16-bit) as soon as it is cut, so a corpus
    of hours never sits in memory; :meth:`finish` keeps the clips chosen, numbers them in
    the order given, and writes the manifest and the marker. Use it as a context manager:
    on any error the temporary folder is removed and ``out_dir`` is left as it was.
    """

    def __init__(self, out_dir: Path, *, sample_rate: int) -> None:
        self.out_dir = Path(out_dir)
        self.sample_rate = sample_rate
        self._staged: dict[tuple[ClipLabel, Hashable], _Staged] = {}
        self._tmp: Path | None = None

    def __enter__(self) -> CorpusWriter:
        self.out_dir.parent.mkdir(parents=True, exist_ok=True)
        self._tmp = Path(tempfile.mkdtemp(prefix=f".{self.out_dir.name}.tmp-", dir=self.out_dir.parent))
        return self

    def __exit__(self, kind: type[BaseException] | None, error: BaseException | None,
                 traceback: TracebackType | None) -> None:
        if self._tmp is not None and self._tmp.exists():
            shutil.rmtree(self._tmp, ignore_errors=True)

    def stage(self, label: ClipLabel, key: Hashable, clip: CutClip) -> None:
        """Write ``clip`` (``wave`` ``[L]``) under ``key``; a later :meth:`finish` may keep it."""
        if self._tmp is None:
            raise AudiospecError("CorpusWriter.stage needs the writer open: use it in a `with` block")
        wave, gain = peak_safe(clip.wave)
        path = self._tmp / _STAGING / label / f"{len(self._staged)}.wav"
        write_wav(path, wave, sample_rate=self.sample_rate, subtype="PCM_16")
        self._staged[(label, key)] = _Staged(path=path, frames=wave.shape[-1], gain=gain, excerpts=clip.excerpts,
                                             group=clip.group)

    def _entry(self, rel: str, label: ClipLabel, staged: _Staged) -> dict[str, object]:
        sources = [{"file": str(e.file), "offset": round(e.offset, 4), "duration": round(e.duration, 4)}
                   for e in staged.excerpts]
        return {"file": rel, "label": label, "duration": staged.frames / self.sample_rate,
                "sample_rate": self.sample_rate, "gain": staged.gain, "sources": sources,
                **({"group": staged.group} if staged.group is not None else {})}

    def finish(self, keep: Mapping[ClipLabel, Sequence[Hashable]], *, name: str, settings: Mapping[str, object],
               fields: Mapping[str, object]) -> Path:
        """Keep the staged clips ``keep[label]`` as ``label/NNN.wav`` in that order, write the manifest, rename.

        ``fields`` (packages, method, ...) go into the manifest between ``classes`` and ``clips``.
        """
        if self._tmp is None:
            raise AudiospecError("CorpusWriter.finish needs the writer open: use it in a `with` block")
        width = max(3, max(len(str(len(keys) - 1)) for keys in keep.values()))
        entries = []
        for label, keys in keep.items():
            (self._tmp / label).mkdir()
            for index, key in enumerate(keys):
                rel = f"{label}/{index:0{width}d}.wav"
                staged = self._staged[(label, key)]
                os.replace(staged.path, self._tmp / rel)
                entries.append(self._entry(rel, label, staged))
        shutil.rmtree(self._tmp / _STAGING, ignore_errors=True)
        write_json(self._tmp / "manifest.json", {
            "name": name, **settings, "classes": {label: len(keys) for label, keys in keep.items()}, **fields,
            "clips": entries,
        })
        write_json(self._tmp / ".completed", dict(settings))
        if self.out_dir.exists():
            self.out_dir.rmdir()  # empty (checked by already_prepared before cutting)
        self._tmp.rename(self.out_dir)
        return self.out_dir
