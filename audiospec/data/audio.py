"""Audio file I/O with soundfile: read (and resample) to float32 tensors, write WAV atomically.

Shape convention: a mono waveform is ``[L]``, a multichannel one ``[C, L]`` (channels
first, as in torchaudio). Everything is decoded by libsndfile through ``soundfile``
(WAV, FLAC, OGG/Vorbis, Opus, MP3, AIFF, ...); ``torchaudio.load`` is never used.

How inputs are handled (the same for files and for in-memory bytes):

- **Sample formats.** Integer PCM (8-bit unsigned, 16/24/32-bit signed) is scaled to
  ``[-1, 1)`` by libsndfile (8-bit: steps of 1/128). 32/64-bit float files are returned
  as stored, *not* clipped: a float file may hold values beyond ``[-1, 1]``.
- **Channels.** With ``mono=True`` the result is the mean over channels, ``[L]``; with
  ``mono=False`` it is ``[C, L]`` (``C = 1`` for a mono file).
- **Rates.** Any rate libsndfile reads (8 kHz, 44.1 kHz, 48 kHz, ...). The rate is the
  one stored in the file's own header, never a rate declared elsewhere (e.g. a Hugging
  Face ``Audio`` feature). When ``sample_rate`` differs, the waveform is resampled with
  :func:`torchaudio.functional.resample` (windowed-sinc, Hann, ``lowpass_filter_width=6``,
  ``rolloff=0.99``); the output length is ``ceil(L * sample_rate / file_rate)``.
- **All-silent files** are valid here: they come back as zeros (no error, no warning).
  Analyses need signal energy, so :func:`~audiospec.data.corpus.load_corpus` leaves out
  silent files and silent clips, naming each file (or stops on it with ``strict``).
- **Bad input** raises :class:`AudiospecError` naming the file and the fix: missing
  file, a directory, an unreadable file, a zero-byte file, a file libsndfile cannot
  decode (corrupt, truncated, or not audio despite its extension), a WAV whose data
  chunk is shorter than its header declares (truncated download), a file with no
  samples, and samples that are NaN or Inf.
"""

from __future__ import annotations

import io
import math
import os
import re
from dataclasses import dataclass
from pathlib import Path
from typing import BinaryIO, Literal

import numpy as np
import soundfile as sf
import torch
import torchaudio.functional as AF

from audiospec.atomic import atomic_path
from audiospec.errors import AudiospecError

__all__ = [
    "AUDIO_EXTENSIONS",
    "AudioInfo",
    "WavSubtype",
    "audio_info",
    "decode_audio_bytes",
    "duration_frames",
    "read_audio",
    "resample",
    "write_wav",
]

AUDIO_EXTENSIONS: tuple[str, ...] = (".wav", ".flac", ".ogg", ".mp3", ".opus", ".aiff", ".aif")
"""File extensions (lower case) treated as audio when listing folders."""

WavSubtype = Literal["PCM_U8", "PCM_16", "PCM_24", "PCM_32", "FLOAT", "DOUBLE"]
_WAV_SUBTYPES: tuple[str, ...] = ("PCM_U8", "PCM_16", "PCM_24", "PCM_32", "FLOAT", "DOUBLE")
_MAX_CHANNELS = 64  # more than this is almost certainly a [L, C] tensor passed as [C, L]

# libsndfile's WAV parser logs e.g. "data : 44100 (should be 956)" when the data chunk
# declares more bytes than the file holds, then silently returns the shorter signal.
_TRUNCATED_DATA = re.compile(r"^\s*data\s*:\s*(\d+)\s*\(should be (\d+)\)", re.MULTILINE)
_STREAMING_PLACEHOLDER = 0x7FFFFFFF  # sizes >= this are "unknown length" placeholders, not truncation

_FIX_BAD_FILE = "re-download or re-export it, or delete it from the dataset"


@dataclass(frozen=True)
class AudioInfo:
    """Header facts about an audio file (no samples decoded).

    Attributes:
        sample_rate: the file's own rate in Hz.
        frames: samples per channel.
        channels: number of channels.
        format: libsndfile's container name, e.g. ``"WAV"``, ``"OGG"``.
        subtype: libsndfile's sample format, e.g. ``"PCM_16"``, ``"VORBIS"``.
    """

    sample_rate: int
    frames: int
    channels: int
    format: str
    subtype: str

    @property
    def duration(self) -> float:
        """Length in seconds, ``frames / sample_rate``."""
        return self.frames / self.sample_rate


def _check_path(path: Path) -> None:
    if path.is_symlink() and not path.exists():
        raise AudiospecError(f"audio file {str(path)!r} is a dangling symbolic link to {os.readlink(path)!r}, which "
                             "does not exist; restore its target or delete the link")
    if not path.exists():
        raise AudiospecError(f"audio file {str(path)!r} does not exist; check the path (and the dataset folder)")
    if path.is_dir():
        raise AudiospecError(
            f"{str(path)!r} is a directory, not an audio file; pass a file, "
            "or load a whole folder with DataConfig(dataset='folder:PATH')"
        )
    if not os.access(path, os.R_OK):
        raise AudiospecError(f"audio file {str(path)!r} is not readable (permission denied); fix its permissions")
    if path.stat().st_size == 0:
        raise AudiospecError(f"audio file {str(path)!r} is empty (0 bytes); {_FIX_BAD_FILE}")


def _truncation(extra_info: str) -> tuple[int, int] | None:
    """(declared, present) data-chunk bytes when libsndfile reports a truncated WAV, else None."""
    match = _TRUNCATED_DATA.search(extra_info)
    if match is None:
        return None
    declared, present = int(match.group(1)), int(match.group(2))
    if declared >= _STREAMING_PLACEHOLDER or present >= declared:
        return None
    return declared, present


def _decode(source: str | BinaryIO, *, name: str, start: int, frames: int | None) -> tuple[np.ndarray, int]:
    """Decode with libsndfile: ``[L, C]`` float32 array and the file's own rate."""
    if start < 0:
        raise AudiospecError(f"start must be >= 0 frames, got {start} (reading {name!r})")
    if frames is not None and frames < 1:
        raise AudiospecError(f"frames must be >= 1 or None, got {frames} (reading {name!r})")
    try:
        with sf.SoundFile(source) as handle:
            rate = int(handle.samplerate)
            truncated = _truncation(handle.extra_info)
            if start >= max(handle.frames, 1):
                raise AudiospecError(
                    f"start={start} is past the end of {name!r} ({handle.frames} frames at {rate} Hz); "
                    "pass a smaller start"
                )
            if start:
                handle.seek(start)
            data = handle.read(frames=-1 if frames is None else frames, dtype="float32", always_2d=True)
    except (sf.SoundFileError, RuntimeError, EOFError) as err:
        raise AudiospecError(
            f"could not decode {name!r} ({err}); the file is corrupt, truncated or not audio "
            f"despite its extension; {_FIX_BAD_FILE}"
        ) from None
    if truncated is not None:
        declared, present = truncated
        raise AudiospecError(
            f"{name!r} is truncated: its WAV header declares {declared} data bytes but only {present} "
            f"are present (an interrupted download or copy); {_FIX_BAD_FILE}"
        )
    if data.shape[0] == 0:
        raise AudiospecError(f"{name!r} holds no audio samples (0 frames); {_FIX_BAD_FILE}")
    return data, rate


def resample(waveform: torch.Tensor, *, orig_rate: int, sample_rate: int) -> torch.Tensor:
    """Resample ``[..., L] -> [..., ceil(L * sample_rate / orig_rate)]`` (windowed sinc).

    Thin wrapper over :func:`torchaudio.functional.resample` with its defaults; the
    identity when the rates are equal.

    Args:
        waveform: signals ``[..., L]`` at ``orig_rate``.
        orig_rate: the input's rate in Hz, a positive integer.
        sample_rate: the output's rate in Hz, a positive integer.

    Returns:
        ``[..., ceil(L * sample_rate / orig_rate)]`` (``waveform`` itself when the rates are equal).

    Raises:
        AudiospecError: a rate that is not a positive integer.
    """
    for label, rate in (("orig_rate", orig_rate), ("sample_rate", sample_rate)):
        if isinstance(rate, bool) or not isinstance(rate, int) or rate <= 0:
            raise AudiospecError(f"{label} must be a positive integer number of Hz, got {rate!r}")
    if orig_rate == sample_rate:
        return waveform
    return AF.resample(waveform, orig_freq=orig_rate, new_freq=sample_rate)


def _to_tensor(
    data: np.ndarray, *, rate: int, name: str, sample_rate: int | None, mono: bool
) -> tuple[torch.Tensor, int]:
    """``[L, C]`` array -> checked float32 ``[L]`` (mono) or ``[C, L]``, resampled if asked."""
    if not np.isfinite(data).all():
        n_bad = int((~np.isfinite(data)).sum())
        raise AudiospecError(
            f"{name!r} contains {n_bad} NaN/Inf sample(s) out of {data.size}; "
            f"the float data is corrupt; {_FIX_BAD_FILE}"
        )
    # numpy for the per-sample work: single-threaded, no thread-pool stalls on a busy machine
    if mono:
        data = data[:, 0] if data.shape[1] == 1 else data.mean(axis=1, dtype=np.float32)  # [L, C] -> [L]
    wave = torch.from_numpy(np.ascontiguousarray(data if mono else data.T))  # [L, C] -> [C, L]
    if sample_rate is not None:
        wave = resample(wave, orig_rate=rate, sample_rate=sample_rate)
        rate = sample_rate
    return wave.to(torch.float32).contiguous(), rate


def _check_rate(sample_rate: int | None) -> None:
    if sample_rate is None:
        return
    if isinstance(sample_rate, bool) or not isinstance(sample_rate, int) or sample_rate <= 0:
        raise AudiospecError(f"sample_rate must be a positive integer (Hz) or None, got {sample_rate!r}")


def read_audio(
    path: str | Path,
    *,
    sample_rate: int | None = None,
    mono: bool = True,
    start: int = 0,
    frames: int | None = None,
) -> tuple[torch.Tensor, int]:
    """Read an audio file as float32: ``([L], rate)`` when ``mono`` else ``([C, L], rate)``.

    Args:
        path: the file (any format libsndfile reads).
        sample_rate: resample to this rate (Hz); ``None`` keeps the file's rate.
        mono: average the channels into ``[L]``; otherwise return ``[C, L]``.
        start: first frame to read, at the *file's* rate (a seek: earlier frames are not
            decoded, useful for long compressed tracks).
        frames: number of frames to read at the file's rate; ``None`` reads to the end.

    Returns:
        ``(waveform, rate)`` where ``rate`` is ``sample_rate`` if given, else the file's.

    Raises:
        AudiospecError: see the module docstring for every rejected input.
    """
    _check_rate(sample_rate)
    path = Path(path)
    _check_path(path)
    try:
        handle = open(path, "rb")
    except OSError as err:
        raise AudiospecError(
            f"cannot open audio file {str(path)!r}: {err}; check the path and its permissions"
        ) from None
    with handle:
        data, rate = _decode(handle, name=str(path), start=start, frames=frames)
    return _to_tensor(data, rate=rate, name=str(path), sample_rate=sample_rate, mono=mono)


def decode_audio_bytes(
    data: bytes, *, name: str, sample_rate: int | None, mono: bool = True
) -> tuple[torch.Tensor, int]:
    """Decode an encoded audio file held in memory (e.g. a Hugging Face ``{"bytes", "path"}`` row).

    Same output and checks as :func:`read_audio`; ``name`` is used in error messages.
    The rate is the one in the bytes' own header (a rate declared by the dataset is
    ignored); ``sample_rate`` resamples to that rate, ``None`` keeps it.

    Args:
        data: the encoded file's bytes.
        name: the file's name, for error messages.
        sample_rate: resample to this rate (Hz); ``None`` keeps the file's rate.
        mono: average the channels into ``[L]``; otherwise return ``[C, L]``.

    Returns:
        ``(waveform, rate)``: float32 ``[L]`` or ``[C, L]`` and its rate.

    Raises:
        AudiospecError: not bytes, empty, undecodable, truncated, no samples, NaN / Inf
            samples, or a bad ``sample_rate``.
    """
    _check_rate(sample_rate)
    if not isinstance(data, (bytes, bytearray, memoryview)):
        raise AudiospecError(f"audio bytes for {name!r} must be bytes, got {type(data).__name__}")
    if len(data) == 0:
        raise AudiospecError(f"audio bytes for {name!r} are empty (0 bytes); {_FIX_BAD_FILE}")
    array, rate = _decode(io.BytesIO(bytes(data)), name=name, start=0, frames=None)
    return _to_tensor(array, rate=rate, name=name, sample_rate=sample_rate, mono=mono)


def audio_info(path: str | Path) -> AudioInfo:
    """Header facts (rate, frames, channels, format) of an audio file, decoding no samples.

    Args:
        path: the file.

    Returns:
        :class:`AudioInfo`.

    Raises:
        AudiospecError: a missing, unreadable, empty or undecodable file.
    """
    path = Path(path)
    _check_path(path)
    try:
        info = sf.info(str(path))
    except (sf.SoundFileError, RuntimeError) as err:
        raise AudiospecError(
            f"could not read the header of {str(path)!r} ({err}); the file is corrupt or not audio; {_FIX_BAD_FILE}"
        ) from None
    return AudioInfo(
        sample_rate=int(info.samplerate),
        frames=int(info.frames),
        channels=int(info.channels),
        format=str(info.format),
        subtype=str(info.subtype),
    )


def write_wav(
    path: str | Path,
    waveform: torch.Tensor,
    *,
    sample_rate: int,
    subtype: WavSubtype = "PCM_16",
) -> Path:
    """Write ``[L]`` or ``[C, L]`` float samples to a WAV file, atomically.

    The file is written to a temporary file in the same folder and renamed over
    ``path`` (a crash never leaves a half-written WAV); parent folders are created.
    Integer subtypes (``PCM_*``) need samples within ``[-1, 1]`` (scale by the peak
    first: libsndfile would clip silently); ``FLOAT``/``DOUBLE`` store any finite value.

    Args:
        path: the WAV file to write.
        waveform: float samples ``[L]`` or ``[C, L]`` (channels first).
        sample_rate: rate in Hz, a positive integer.
        subtype: ``"PCM_U8"``, ``"PCM_16"``, ``"PCM_24"``, ``"PCM_32"``, ``"FLOAT"`` or ``"DOUBLE"``.

    Returns:
        ``path`` as a :class:`~pathlib.Path`.

    Raises:
        AudiospecError: an unknown subtype, a missing or bad rate, a waveform that is not a
            floating-point ``[L]`` / ``[C, L]`` tensor (or looks like ``[L, C]``), NaN / Inf
            samples, a peak above 1 for a PCM subtype, or a failed write.
    """
    path = Path(path)
    if subtype not in _WAV_SUBTYPES:
        raise AudiospecError(f"subtype must be one of {list(_WAV_SUBTYPES)}, got {subtype!r}")
    _check_rate(sample_rate)
    if sample_rate is None:
        raise AudiospecError("sample_rate is required to write a WAV file, got None")
    if not isinstance(waveform, torch.Tensor):
        raise AudiospecError(f"waveform must be a torch.Tensor of shape [L] or [C, L], got {type(waveform).__name__}")
    if waveform.ndim not in (1, 2) or waveform.shape[-1] == 0 or (waveform.ndim == 2 and waveform.shape[0] == 0):
        raise AudiospecError(
            f"waveform must have shape [L] or [C, L] with L >= 1 and C >= 1, got {tuple(waveform.shape)} "
            f"(writing {str(path)!r})"
        )
    if waveform.ndim == 2 and waveform.shape[0] > _MAX_CHANNELS:
        raise AudiospecError(
            f"waveform of shape {tuple(waveform.shape)} has {waveform.shape[0]} channels (> {_MAX_CHANNELS}); "
            "pass [C, L] (channels first), not [L, C]: use waveform.T"
        )
    if not (torch.is_floating_point(waveform)):
        raise AudiospecError(f"waveform must be a floating-point tensor, got dtype {waveform.dtype}")
    samples = waveform.detach().to("cpu", torch.float64 if subtype == "DOUBLE" else torch.float32).numpy()
    finite = np.isfinite(samples)
    if not finite.all():
        n_bad = int((~finite).sum())
        raise AudiospecError(f"waveform for {str(path)!r} contains {n_bad} NaN/Inf value(s); clean it before writing")
    peak = float(np.abs(samples).max())
    if subtype.startswith("PCM") and peak > 1.0:
        raise AudiospecError(
            f"waveform for {str(path)!r} peaks at {peak:.4g} > 1.0 and would clip as {subtype}; "
            "divide by the peak (waveform / waveform.abs().max()) or use subtype='FLOAT'"
        )
    array = samples.T if samples.ndim == 2 else samples  # [C, L] -> [L, C]
    try:
        with atomic_path(path) as tmp:
            sf.write(str(tmp), array, sample_rate, subtype=subtype, format="WAV")
    except (sf.SoundFileError, RuntimeError, OSError) as err:
        raise AudiospecError(f"could not write {str(path)!r}: {err}; the previous file (if any) is unchanged") from None
    return path


def duration_frames(seconds: float, *, sample_rate: int) -> int:
    """``round(seconds * sample_rate)``, the frame count used for clip and hop lengths."""
    return int(math.floor(seconds * sample_rate + 0.5))
