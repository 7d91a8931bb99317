"""Where a dataset comes from: parse a ``source`` string into a URL, archive, folder or hub repo."""

from __future__ import annotations

import lzma
import re
import tarfile
import zlib
from dataclasses import dataclass
from pathlib import Path
from typing import Literal

from audiospec.data.config import HUB_PREFIX
from audiospec.data.download import is_url, local_path_of
from audiospec.errors import AudiospecError

__all__ = ["Source", "SourceKind", "parse_source"]

SourceKind = Literal["url", "archive", "folder", "hub"]
_REPO_ID = re.compile(r"[A-Za-z0-9][\w.-]*/[\w.-]+")


@dataclass(frozen=True)
class Source:
    """A parsed data source.

    Attributes:
        kind: ``"url"`` (http/https/file archive URL), ``"archive"`` (local tar file),
            ``"folder"`` (an extracted dataset folder), ``"hub"`` (a Hugging Face
            dataset repo, or a local folder of parquet files when ``local``).
        location: the URL, the local path, or the ``owner/name`` repo id.
        local: for ``"hub"``: True when ``location`` is a local parquet folder.
    """

    kind: SourceKind
    location: str
    local: bool = False


def _has_parquet(folder: Path) -> bool:
    return any(p.is_file() for p in folder.rglob("*.parquet"))


def parse_source(source: str) -> Source:
    """Classify ``source``.

    - ``hf:owner/name`` -> a hub repo; ``hf:PATH`` with an existing folder -> local parquet;
    - ``http://``, ``https://``, ``file://`` -> an archive URL;
    - an existing folder holding ``*.parquet`` files -> local parquet (hub code path);
    - any other existing folder -> an extracted dataset folder;
    - an existing tar file (``.tar``, ``.tar.gz``, ...) -> a local archive.

    Raises:
        AudiospecError: anything else (a missing path, a non-tar file, a bad repo id).
    """
    if not isinstance(source, str) or not source.strip():
        raise AudiospecError(f"source must be a non-empty string, got {source!r}")
    source = source.strip()
    if source.startswith(HUB_PREFIX):
        rest = source[len(HUB_PREFIX):].strip()
        if not rest:  # Path("") is ".", the current folder: never analyse that by accident
            raise AudiospecError(
                f"hub source {source!r} has an empty hub id; write it as hf:owner/name (a Hugging Face dataset "
                "repo, e.g. hf:sanchit-gandhi/gtzan) or hf:PATH of a local folder of parquet files"
            )
        path = Path(rest).expanduser()
        if path.is_dir():
            return Source(kind="hub", location=str(path), local=True)
        if _REPO_ID.fullmatch(rest):
            return Source(kind="hub", location=rest)
        raise AudiospecError(
            f"hub source {source!r} is neither hf:owner/name (a Hugging Face dataset repo) nor hf:PATH of an "
            "existing local folder of parquet files; fix the id or the path"
        )
    if is_url(source):
        local_path_of(source)  # raises on a file:// URL with no path
        return Source(kind="url", location=source)
    path = Path(source).expanduser()
    if path.is_dir():
        if _has_parquet(path):
            return Source(kind="hub", location=str(path), local=True)
        return Source(kind="folder", location=str(path))
    if path.is_file():
        try:
            is_tar = tarfile.is_tarfile(path)
        except (OSError, EOFError, tarfile.TarError, zlib.error, lzma.LZMAError) as err:
            raise AudiospecError(
                f"source {source!r} looks like a compressed archive but is corrupt or truncated "
                f"({type(err).__name__}: {err}); delete it and download it again"
            ) from None
        if not is_tar:
            raise AudiospecError(
                f"source {source!r} is a file but not a tar archive; pass the .tar.gz archive, its extracted "
                "folder, an http(s):// URL or hf:owner/name"
            )
        return Source(kind="archive", location=str(path))
    raise AudiospecError(
        f"source {source!r} does not exist; pass an http(s):// or file:// URL, a local archive or extracted "
        "folder, a local parquet folder, or hf:owner/name"
    )
