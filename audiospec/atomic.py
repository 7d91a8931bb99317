"""Atomic file writes: write to a temporary file in the target folder, fsync, then rename.

A reader (or a crash) never sees a half-written result: the old file stays until the
new one is complete. Used for JSON results, configs, reports and checkpoints.
"""

from __future__ import annotations

import contextlib
import json
import os
import tempfile
from pathlib import Path
from typing import Any, Iterator

from audiospec.errors import AudiospecError

__all__ = ["LOCK_NAME", "atomic_path", "atomic_write_bytes", "atomic_write_text", "output_lock", "read_json",
           "write_json"]

LOCK_NAME = ".audiospec.lock"


@contextlib.contextmanager
def atomic_path(path: str | Path) -> Iterator[Path]:
    """Yield a temporary path next to ``path``; on success it replaces ``path`` atomically.

    On any exception (including a full disk) the temporary file is removed and ``path``
    keeps its previous content.
    """
    path = Path(path)
    try:
        path.parent.mkdir(parents=True, exist_ok=True)
    except OSError as err:
        raise AudiospecError(f"cannot create folder {str(path.parent)!r}: {err}") from None
    fd, tmp_name = tempfile.mkstemp(prefix=f".{path.name}.", suffix=".tmp", dir=path.parent)
    os.close(fd)
    tmp = Path(tmp_name)
    os.chmod(tmp, 0o666 & ~_umask())  # mkstemp makes 0600; give the result the usual permissions
    try:
        yield tmp
        with open(tmp, "rb+") as handle:
            os.fsync(handle.fileno())
        os.replace(tmp, path)
    except BaseException:
        tmp.unlink(missing_ok=True)
        raise


def _umask() -> int:
    mask = os.umask(0)
    os.umask(mask)
    return mask


def atomic_write_bytes(path: str | Path, data: bytes) -> None:
    """Write ``data`` to ``path`` atomically."""
    try:
        with atomic_path(path) as tmp:
            tmp.write_bytes(data)
    except OSError as err:
        raise AudiospecError(f"could not write {str(path)!r}: {err}; the previous file (if any) is unchanged") from None


def atomic_write_text(path: str | Path, text: str) -> None:
    """Write ``text`` (UTF-8) to ``path`` atomically."""
    atomic_write_bytes(path, text.encode("utf-8"))


def _json_default(value: Any) -> Any:
    if hasattr(value, "tolist"):
        return value.tolist()
    if isinstance(value, Path):
        return str(value)
    raise TypeError(f"cannot serialise {type(value).__name__} to JSON")


def read_json(path: str | Path) -> Any:
    """The parsed content of a JSON file a stage wrote (:func:`audiospec.atomic.write_json`)."""
    try:
        return json.loads(Path(path).read_text())
    except (OSError, UnicodeDecodeError, json.JSONDecodeError) as err:
        raise AudiospecError(f"cannot read {str(path)!r}: {err}; re-run the step that writes it") from None


def write_json(path: str | Path, data: Any) -> None:
    """Write ``data`` as indented JSON atomically; tensors/arrays become lists, NaN becomes null."""
    text = json.dumps(_sanitize(data), indent=2, default=_json_default, allow_nan=False)
    atomic_write_text(path, text + "\n")


def _sanitize(value: Any) -> Any:
    """Replace non-finite floats by None so the JSON is standard."""
    if isinstance(value, float):
        return value if value == value and value not in (float("inf"), float("-inf")) else None
    if isinstance(value, dict):
        return {k: _sanitize(v) for k, v in value.items()}
    if isinstance(value, (list, tuple)):
        return [_sanitize(v) for v in value]
    if hasattr(value, "tolist"):
        return _sanitize(value.tolist())
    return value


def _pid_alive(pid: int) -> bool:
    try:
        os.kill(pid, 0)
    except ProcessLookupError:
        return False
    except PermissionError:  # alive, owned by another user
        return True
    return True


def _take_lock(lock: Path) -> int | None:
    """Create ``lock`` exclusively; returns its fd, or None when it already exists."""
    try:
        return os.open(lock, os.O_CREAT | os.O_EXCL | os.O_WRONLY, 0o644)
    except FileExistsError:
        return None


@contextlib.contextmanager
def output_lock(out_dir: str | Path) -> Iterator[Path]:
    """Hold ``out_dir/.audiospec.lock`` while a command writes into ``out_dir``.

    Creates ``out_dir`` and checks that it is writable before any work (AudiospecError
    naming the folder otherwise); a second audiospec process writing into the same folder
    gets "busy" instead of mixing its files with the first one's. A lock left by a process
    that no longer runs is taken over.
    """
    out_dir = Path(out_dir)
    try:
        out_dir.mkdir(parents=True, exist_ok=True)
        lock = out_dir / LOCK_NAME
        fd = _take_lock(lock)
        if fd is None:
            try:
                pid = int(lock.read_text().strip() or "0")
            except (OSError, ValueError):
                pid = 0
            if pid and pid != os.getpid() and _pid_alive(pid):
                raise AudiospecError(
                    f"output folder {str(out_dir)!r} is busy: audiospec process {pid} is writing into it; wait for "
                    f"it to finish or choose another --out (delete {str(lock)!r} if that process is gone)"
                )
            lock.unlink(missing_ok=True)  # stale: its process has ended
            fd = _take_lock(lock)
            if fd is None:
                raise AudiospecError(f"output folder {str(out_dir)!r} is busy (another process took it just now)")
        with os.fdopen(fd, "w") as handle:
            handle.write(str(os.getpid()))
    except OSError as err:
        raise AudiospecError(
            f"cannot write into output folder {str(out_dir)!r} ({err.strerror or err}); choose a writable --out"
        ) from None
    try:
        yield out_dir
    finally:
        lock.unlink(missing_ok=True)
