"""Hugging Face hub / parquet datasets, exported to a folder of audio files (one sub-folder per label).

Code path (identical for a hub repo and a local folder of parquet files):

1. hub repo ``owner/name``: ``huggingface_hub.snapshot_download`` fetches its parquet
   files (or, for an audiofolder-style repo, its audio files) into a local folder;
   a local parquet folder is used as it is;
2. ``datasets.load_dataset(folder, streaming=True)`` reads the parquet files (splits from
   the file names or the README's configuration; streamed, so no Arrow copy is cached),
   the audio column is cast to ``Audio(decode=False)``
   so rows hold ``{"bytes", "path"}`` and no decoder (torchcodec) is needed;
3. every row is checked with :func:`~audiospec.data.audio.decode_audio_bytes` (rows that
   do not decode are skipped with a warning) and its *original bytes* are written to
   ``dest/<label>/<split>-<row>-<name>``: nothing is re-encoded, and the sample rate
   used later is the one in the bytes' header, never the rate the dataset's ``Audio``
   feature declares (``sanchit-gandhi/gtzan`` declares 32 kHz for 22,050 Hz files).

Labels come from ``label_column`` or the first of ``label`` / ``genre`` present;
``ClassLabel`` integers are mapped to their names.
"""

from __future__ import annotations

import contextlib
import io
import re
import shutil
import tempfile
import warnings
from collections.abc import Iterator
from pathlib import Path

import soundfile as sf

from audiospec.atomic import write_json
from audiospec.data.audio import AUDIO_EXTENSIONS, decode_audio_bytes
from audiospec.errors import AudiospecError

__all__ = ["HUB_ETAG_TIMEOUT", "LABEL_COLUMNS", "download_hub_snapshot", "export_hub_dataset"]

LABEL_COLUMNS: tuple[str, ...] = ("label", "genre")
"""Label columns tried, in order, when none is given."""

HUB_ETAG_TIMEOUT = 10.0
"""Seconds to wait for the hub's first answer before giving up (no retries loop for minutes)."""

_SNAPSHOT_PATTERNS = ["*.parquet", "**/*.parquet", "README.md", *(f"**/*{ext}" for ext in AUDIO_EXTENSIONS)]
_EXT_BY_FORMAT = {"WAV": ".wav", "WAVEX": ".wav", "FLAC": ".flac", "OGG": ".ogg", "MP3": ".mp3", "AIFF": ".aiff"}
_UNSAFE = re.compile(r"[^\w.\-]+")


def _manual_hint(repo_id: str, local_dir: Path) -> str:
    return (
        f"download it by hand with\n    hf download {repo_id} --repo-type dataset --local-dir {local_dir}\n"
        f"then pass --source {local_dir} (a local parquet folder), or use the archive source instead"
    )


def download_hub_snapshot(repo_id: str, *, local_dir: Path, progress: bool = True) -> Path:
    """Fetch a dataset repo's parquet (or audio) files into ``local_dir``; fails fast offline.

    Raises:
        AudiospecError: the hub is unreachable (with the manual ``hf download`` command),
            or the repo does not exist / is gated.
    """
    from huggingface_hub import snapshot_download
    from huggingface_hub.errors import GatedRepoError, RepositoryNotFoundError
    from huggingface_hub.utils import are_progress_bars_disabled, disable_progress_bars, enable_progress_bars

    was_disabled = are_progress_bars_disabled()
    if not progress:
        disable_progress_bars()
    try:
        snapshot_download(
            repo_id,
            repo_type="dataset",
            local_dir=str(local_dir),
            allow_patterns=_SNAPSHOT_PATTERNS,
            etag_timeout=HUB_ETAG_TIMEOUT,
        )
    except GatedRepoError:
        raise AudiospecError(
            f"hub dataset {repo_id!r} is gated: accept its terms on https://huggingface.co/datasets/{repo_id} "
            "and log in with `hf auth login`, or pass a local copy with --source PATH"
        ) from None
    except RepositoryNotFoundError:
        raise AudiospecError(
            f"hub dataset {repo_id!r} does not exist (or is private); check the id written as hf:owner/name"
        ) from None
    except (OSError, ConnectionError, TimeoutError) as err:
        raise AudiospecError(
            f"cannot reach the Hugging Face hub for {repo_id!r} ({type(err).__name__}: {str(err).splitlines()[0]}); "
            f"{_manual_hint(repo_id, local_dir)}"
        ) from None
    finally:
        if not progress and not was_disabled:
            enable_progress_bars()
    return local_dir


@contextlib.contextmanager
def _datasets_progress(enabled: bool) -> Iterator[None]:
    """Silence the ``datasets`` progress bars inside the block when ``enabled`` is False."""
    from datasets.utils import disable_progress_bars, enable_progress_bars, is_progress_bar_enabled

    was_enabled = is_progress_bar_enabled()
    if not enabled and was_enabled:
        disable_progress_bars()
    try:
        yield
    finally:
        if not enabled and was_enabled:
            enable_progress_bars()


def _audio_column(features: dict, columns: list[str]) -> str:
    from datasets import Audio

    for name in columns:
        if isinstance(features.get(name), Audio):
            return name
    if "audio" in columns:
        return "audio"
    for name in columns:
        feature = features.get(name)
        if isinstance(feature, dict) and "bytes" in feature:
            return name
    raise AudiospecError(f"found no audio column (an Audio feature or a {{bytes, path}} struct) among {columns}")


def _label_column(columns: list[str], label_column: str | None) -> str:
    if label_column is not None:
        if label_column not in columns:
            raise AudiospecError(f"label column {label_column!r} is not in the dataset; its columns are {columns}")
        return label_column
    for name in LABEL_COLUMNS:
        if name in columns:
            return name
    raise AudiospecError(
        f"found no label column ({' or '.join(LABEL_COLUMNS)}) among {columns}; name it with hub_label_column=..."
    )


def _safe(name: str) -> str:
    cleaned = _UNSAFE.sub("_", name).strip("._")
    return cleaned or "x"


def _extension(data: bytes, name: str) -> str:
    suffix = Path(name).suffix.lower()
    if suffix in AUDIO_EXTENSIONS:
        return suffix
    try:
        with sf.SoundFile(io.BytesIO(data)) as handle:
            return _EXT_BY_FORMAT.get(handle.format, ".wav")
    except (sf.SoundFileError, RuntimeError):
        return ".wav"


def _write_clip(dest: Path, *, label: str, stem: str, data: bytes, name: str) -> bool:
    """Check that ``data`` decodes, then store it unchanged as ``dest/<label>/<stem><ext>``."""
    try:
        decode_audio_bytes(data, name=name, sample_rate=None, mono=False)
    except AudiospecError as err:
        warnings.warn(f"skipping hub row {name!r}: {err}", stacklevel=3)
        return False
    folder = dest / _safe(label)
    folder.mkdir(parents=True, exist_ok=True)
    base = Path(name).stem if Path(name).suffix.lower() in AUDIO_EXTENSIONS else Path(name).name
    (folder / f"{stem}-{_safe(base)}{_extension(data, name)}").write_bytes(data)
    return True


def _export_parquet(
    folder: Path, dest: Path, *, cache_dir: Path, split: str | None, label_column: str | None, progress: bool
) -> dict[str, int]:
    import datasets
    from datasets import Audio, ClassLabel
    from tqdm.auto import tqdm

    with _datasets_progress(progress):
        try:  # streaming: rows are read straight from the parquet files, no Arrow copy in the cache
            loaded = datasets.load_dataset(str(folder), cache_dir=str(cache_dir), streaming=True)
        except (ValueError, OSError, datasets.exceptions.DatasetGenerationError) as err:
            raise AudiospecError(
                f"could not read the parquet files in {str(folder)!r} with datasets.load_dataset "
                f"({type(err).__name__}: {str(err).splitlines()[0] if str(err) else ''}); check that they are an "
                "audio dataset with one schema"
            ) from None
    splits = list(loaded.keys())
    if split is not None:
        if split not in loaded:
            raise AudiospecError(f"split {split!r} is not in the dataset at {str(folder)!r}; its splits are {splits}")
        splits = [split]
    counts: dict[str, int] = {}
    for split_name in splits:
        ds = loaded[split_name]
        features = dict(ds.features or {})
        columns = list(ds.column_names or features)
        audio_col = _audio_column(features, columns)
        label_col = _label_column(columns, label_column)
        label_feature = features.get(label_col)
        ds = ds.select_columns([audio_col, label_col]).cast_column(audio_col, Audio(decode=False))
        written = 0
        for row_index, row in enumerate(tqdm(ds, desc=f"export {split_name}", disable=not progress, leave=False)):
            audio = row[audio_col] or {}
            data, path = audio.get("bytes"), audio.get("path") or ""
            name = path or f"{split_name}[{row_index}]"
            if not data:
                warnings.warn(f"skipping hub row {name!r}: it holds no audio bytes (only a path)", stacklevel=2)
                continue
            value = row[label_col]
            if isinstance(label_feature, ClassLabel) and isinstance(value, int):
                label = label_feature.int2str(value)
            else:
                label = str(value)
            written += _write_clip(dest, label=label, stem=f"{_safe(split_name)}-{row_index:05d}", data=data, name=name)
        counts[split_name] = written
    return counts


def _export_audiofolder(folder: Path, dest: Path, *, progress: bool) -> dict[str, int]:
    """An audiofolder-style snapshot: the label of ``.../<label>/<file>`` is its parent folder."""
    from tqdm.auto import tqdm

    files = sorted(p for p in folder.rglob("*") if p.suffix.lower() in AUDIO_EXTENSIONS and p.is_file()
                   and not any(part.startswith(".") for part in p.relative_to(folder).parts))
    written = 0
    for index, path in enumerate(tqdm(files, desc="export audio files", disable=not progress, leave=False)):
        written += _write_clip(dest, label=path.parent.name, stem=f"file-{index:05d}", data=path.read_bytes(),
                               name=str(path.relative_to(folder)))
    return {"files": written}


def export_hub_dataset(
    folder: Path,
    dest: Path,
    *,
    cache_dir: Path,
    split: str | None = None,
    label_column: str | None = None,
    progress: bool = True,
) -> Path:
    """Export a local hub snapshot / parquet folder to ``dest/<label>/*`` audio files, atomically.

    ``dest`` is built in a temporary folder and renamed when complete, with a
    ``.completed`` marker (JSON: source folder, split, rows written per split) inside.

    Raises:
        AudiospecError: no parquet or audio files, no audio / label column, an unknown
            split, or no row that decodes.
    """
    folder, dest = Path(folder), Path(dest)
    has_parquet = any(folder.rglob("*.parquet"))
    has_audio = any(p.suffix.lower() in AUDIO_EXTENSIONS for p in folder.rglob("*"))
    if not has_parquet and not has_audio:
        raise AudiospecError(f"{str(folder)!r} holds neither parquet nor audio files; check the hub id or folder")
    if not has_parquet and (split is not None or label_column is not None):
        raise AudiospecError(
            f"{str(folder)!r} is an audio folder (no parquet), where labels come from sub-folders; "
            "remove hub_split / hub_label_column"
        )
    dest.parent.mkdir(parents=True, exist_ok=True)
    tmp = Path(tempfile.mkdtemp(prefix=f".{dest.name}.tmp-", dir=dest.parent))
    try:
        if has_parquet:
            counts = _export_parquet(folder, tmp, cache_dir=cache_dir, split=split, label_column=label_column,
                                     progress=progress)
        else:
            counts = _export_audiofolder(folder, tmp, progress=progress)
        if sum(counts.values()) == 0:
            raise AudiospecError(f"no row of the dataset in {str(folder)!r} holds decodable audio; nothing to load")
        write_json(tmp / ".completed", {"source": str(folder), "split": split, "label_column": label_column,
                                        "written": counts})
        if dest.exists():  # left by an interrupted run (it has no marker): replace it
            shutil.rmtree(dest)
        tmp.rename(dest)
    finally:
        if tmp.exists():
            shutil.rmtree(tmp, ignore_errors=True)
    return dest
