"""Verified, resumable downloads: http(s) with Range resume, ``file://`` URLs and local paths.

A download goes to ``DEST.part``; once complete its size and SHA-256 are checked, it is
renamed to ``DEST`` and a ``DEST.completed`` marker is written, so a second call returns
at once. A failed checksum removes the bad file (nothing half-done is kept); a network
failure keeps ``DEST.part`` so the next call resumes where it stopped, and the error
names the URL and the exact ``curl`` command to fetch the file by hand.
"""

from __future__ import annotations

import hashlib
import http.client
import json
import os
import re
import socket
import urllib.error
import urllib.parse
import urllib.request
from pathlib import Path

from tqdm.auto import tqdm

from audiospec.atomic import atomic_write_text
from audiospec.errors import AudiospecError

__all__ = ["completed_marker", "download_file", "is_url", "local_path_of", "sha256_of"]

_CHUNK = 1 << 20
_USER_AGENT = "audiospec/0.1 (research dataset downloader; python urllib)"
_CONTENT_RANGE = re.compile(r"bytes\s+(\d+)-(\d+)/(\d+|\*)")


def completed_marker(path: str | Path) -> Path:
    """The ``.completed`` marker of a downloaded file: ``PATH.completed``."""
    path = Path(path)
    return path.with_name(path.name + ".completed")


def is_url(source: str) -> bool:
    """True for ``http://``, ``https://`` and ``file://`` URLs."""
    return urllib.parse.urlsplit(source).scheme.lower() in ("http", "https", "file")


def local_path_of(source: str) -> Path | None:
    """The local path of a ``file://`` URL or a plain path; None for http(s) URLs."""
    parts = urllib.parse.urlsplit(source)
    scheme = parts.scheme.lower()
    if scheme == "file":
        if not parts.path.strip():  # Path("") is ".", the current folder
            raise AudiospecError(f"file URL {source!r} names no file; write it as file:///absolute/path/archive.tar.gz")
        return Path(urllib.request.url2pathname(parts.path))
    if scheme in ("http", "https"):
        return None
    if scheme and len(scheme) > 1:  # a one-letter scheme is a Windows drive letter
        raise AudiospecError(
            f"unsupported URL scheme {scheme!r} in {source!r}; use http://, https://, file:// or a local path"
        )
    return Path(source).expanduser()


def sha256_of(path: str | Path) -> str:
    """Hex SHA-256 of a file, read in 1 MiB chunks.

    Args:
        path: the file.

    Returns:
        The 64-character lowercase hex digest.
    """
    digest = hashlib.sha256()
    with open(path, "rb") as handle:
        for chunk in iter(lambda: handle.read(_CHUNK), b""):
            digest.update(chunk)
    return digest.hexdigest()


def _manual_hint(url: str, dest: Path) -> str:
    return (
        f"download it by hand with\n    curl -L -o {dest} {url}\n"
        "then re-run the same command (the file is verified and used), "
        "or pass --source PATH pointing at a copy you already have"
    )


def _progress(total: int | None, initial: int, name: str, enabled: bool) -> tqdm:
    return tqdm(total=total, initial=initial, unit="B", unit_scale=True, unit_divisor=1024,
                desc=name, disable=not enabled, leave=False)


def _copy_local(src: Path, part: Path, *, progress: bool) -> None:
    """Copy ``src`` to ``part``, continuing after the bytes ``part`` already holds."""
    if not src.exists():
        raise AudiospecError(f"source file {str(src)!r} does not exist; check the path or URL")
    if src.is_dir():
        raise AudiospecError(f"source {str(src)!r} is a directory; pass the archive file itself")
    total = src.stat().st_size
    offset = part.stat().st_size if part.exists() else 0
    if offset > total:  # not a prefix of this source: start over
        offset = 0
    with open(src, "rb") as reader, open(part, "r+b" if offset else "wb") as writer:
        reader.seek(offset)
        writer.seek(offset)
        writer.truncate()
        with _progress(total, offset, src.name, progress) as bar:
            for chunk in iter(lambda: reader.read(_CHUNK), b""):
                writer.write(chunk)
                bar.update(len(chunk))


def _fetch_http(url: str, part: Path, *, dest: Path, timeout: float, progress: bool) -> None:
    """Download ``url`` into ``part``, resuming with a Range request when ``part`` exists."""
    offset = part.stat().st_size if part.exists() else 0
    headers = {"User-Agent": _USER_AGENT}
    if offset:
        headers["Range"] = f"bytes={offset}-"
    request = urllib.request.Request(url, headers=headers)
    try:
        with urllib.request.urlopen(request, timeout=timeout) as response:
            status = getattr(response, "status", 200)
            append = False
            if status == 206:
                match = _CONTENT_RANGE.match(response.headers.get("Content-Range", ""))
                append = match is not None and int(match.group(1)) == offset
                if not append:  # the server sent a range we did not ask for: start again
                    response.close()
                    part.unlink(missing_ok=True)
                    return _fetch_http(url, part, dest=dest, timeout=timeout, progress=progress)
            length = response.headers.get("Content-Length")
            total = int(length) + (offset if append else 0) if length and length.isdigit() else None
            with open(part, "ab" if append else "wb") as writer, \
                    _progress(total, offset if append else 0, dest.name, progress) as bar:
                for chunk in iter(lambda: response.read(_CHUNK), b""):
                    writer.write(chunk)
                    bar.update(len(chunk))
    except urllib.error.HTTPError as err:
        if err.code == 416 and offset:  # range not satisfiable: .part is (probably) complete
            return None
        raise AudiospecError(
            f"download of {url} failed with HTTP {err.code} {err.reason}; {_manual_hint(url, dest)}"
        ) from None
    except (urllib.error.URLError, ConnectionError, TimeoutError, socket.timeout, http.client.HTTPException) as err:
        kept = f" (the {part.stat().st_size} bytes received are kept in {part} and resumed next time)" \
            if part.exists() and part.stat().st_size else ""
        reason = getattr(err, "reason", err)
        raise AudiospecError(
            f"cannot download {url}: the network is unreachable or the server did not answer ({reason}){kept}; "
            f"{_manual_hint(url, dest)}"
        ) from None
    return None


def _verify(path: Path, *, url: str, dest: Path, sha256: str | None, expected_size: int | None) -> str:
    """Check size and checksum of ``path``; on a mismatch remove it and raise. Returns the sha256."""
    size = path.stat().st_size
    if expected_size is not None and size != expected_size:
        path.unlink(missing_ok=True)
        raise AudiospecError(
            f"download of {url} has {size} bytes, expected {expected_size}; the incomplete or wrong file was "
            f"removed; re-run to download it again, or {_manual_hint(url, dest)}"
        )
    digest = sha256_of(path)
    if sha256 is not None and digest != sha256.lower():
        path.unlink(missing_ok=True)
        raise AudiospecError(
            f"checksum mismatch for {url}: sha256 {digest}, expected {sha256.lower()}; the bad file was removed; "
            f"re-run to download it again, or {_manual_hint(url, dest)}"
        )
    return digest


def _check_download_arguments(url: str, *, sha256: str | None, expected_size: int | None, timeout: float) -> None:
    """Raise on an empty ``url``, a malformed ``sha256``, a negative ``expected_size`` or ``timeout`` <= 0."""
    if not isinstance(url, str) or not url.strip():
        raise AudiospecError(f"url must be a non-empty string, got {url!r}")
    if sha256 is not None and not re.fullmatch(r"[0-9a-fA-F]{64}", sha256):
        raise AudiospecError(f"sha256 must be 64 hex digits or None, got {sha256!r}")
    if expected_size is not None and (isinstance(expected_size, bool) or expected_size < 0):
        raise AudiospecError(f"expected_size must be a byte count >= 0 or None, got {expected_size!r}")
    if timeout <= 0:
        raise AudiospecError(f"timeout must be > 0 seconds, got {timeout!r}")


def download_file(
    url: str,
    dest: str | Path,
    *,
    sha256: str | None,
    expected_size: int | None = None,
    progress: bool = True,
    timeout: float = 30.0,
) -> Path:
    """Download ``url`` (http, https, ``file://`` or a plain local path) to ``dest``, verified.

    Idempotent: when ``dest`` and its ``dest.completed`` marker exist, nothing is read.
    A ``dest`` already present without a marker (e.g. fetched by hand with ``curl``) is
    verified and adopted. http(s) downloads resume an existing ``dest.part`` with a
    ``Range`` request (a server that ignores it restarts the file); local copies resume
    the same way. ``timeout`` (seconds) bounds each network wait.

    Args:
        url: the source.
        dest: final path; parent folders are created.
        sha256: expected hex digest, or None to skip the check (the digest is still
            recorded in the marker).
        expected_size: expected size in bytes, or None.
        progress: show a tqdm byte counter.
        timeout: seconds each network wait may take, > 0.

    Returns:
        ``dest`` as a :class:`~pathlib.Path`.

    Raises:
        AudiospecError: unreachable network (with the manual ``curl`` command), HTTP
            errors, a missing local source, a size or checksum mismatch (the bad file is
            removed).
    """
    _check_download_arguments(url, sha256=sha256, expected_size=expected_size, timeout=timeout)
    dest = Path(dest)
    marker = completed_marker(dest)
    if dest.is_file() and marker.is_file():
        return dest
    try:
        dest.parent.mkdir(parents=True, exist_ok=True)
    except OSError as err:
        raise AudiospecError(f"cannot create folder {str(dest.parent)!r}: {err}") from None
    if dest.is_file():  # fetched by hand: verify and adopt
        digest = _verify(dest, url=url, dest=dest, sha256=sha256, expected_size=expected_size)
    else:
        part = dest.with_name(dest.name + ".part")
        local = local_path_of(url)
        if local is not None:
            _copy_local(local, part, progress=progress)
        else:
            _fetch_http(url, part, dest=dest, timeout=timeout, progress=progress)
        if not part.exists():
            raise AudiospecError(f"download of {url} produced no file; {_manual_hint(url, dest)}")
        digest = _verify(part, url=url, dest=dest, sha256=sha256, expected_size=expected_size)
        os.replace(part, dest)
    atomic_write_text(marker, json.dumps({"url": url, "sha256": digest, "bytes": dest.stat().st_size}) + "\n")
    return dest

