"""Safe extraction of tar archives into a fresh folder (``tarfile`` with ``filter="data"``)."""

from __future__ import annotations

import gzip
import lzma
import shutil
import tarfile
import tempfile
import zlib
from pathlib import Path

from tqdm.auto import tqdm

from audiospec.errors import AudiospecError

__all__ = ["extract_tar"]


def extract_tar(archive: str | Path, dest: str | Path, *, progress: bool = True) -> Path:
    """Extract ``archive`` (tar, tar.gz, tar.bz2, tar.xz) so that its members end up in ``dest``.

    Members are extracted with the ``"data"`` filter (no absolute paths, no ``..``, no
    links leaving the folder, no device files, no setuid bits) into a temporary folder
    next to ``dest``, which is renamed to ``dest`` only once every member is out: a
    crash or a corrupt archive never leaves a half-extracted ``dest``.

    Args:
        archive: the tar file.
        dest: the folder to create; must not exist.
        progress: show a progress bar over the members.

    Returns:
        ``dest``.

    Raises:
        AudiospecError: missing or corrupt archive, an unsafe member, or ``dest`` exists.
    """
    archive, dest = Path(archive), Path(dest)
    if not archive.is_file():
        raise AudiospecError(f"archive {str(archive)!r} does not exist or is not a file; check the path")
    if dest.exists():
        raise AudiospecError(f"cannot extract into {str(dest)!r}: it already exists; delete it first")
    try:
        dest.parent.mkdir(parents=True, exist_ok=True)
        tmp = Path(tempfile.mkdtemp(prefix=f".{dest.name}.extract-", dir=dest.parent))
    except OSError as err:
        raise AudiospecError(f"cannot create a folder next to {str(dest)!r}: {err}") from None
    try:
        with tarfile.open(archive, mode="r:*") as tar:
            for member in tqdm(tar, desc=f"extract {archive.name}", unit="file", disable=not progress, leave=False):
                tar.extract(member, path=tmp, filter="data")
        tmp.rename(dest)
    except tarfile.FilterError as err:
        raise AudiospecError(
            f"archive {str(archive)!r} holds an unsafe member ({err}); refusing to extract it — "
            "get the archive from a trusted source"
        ) from None
    except (tarfile.TarError, EOFError, zlib.error, gzip.BadGzipFile, lzma.LZMAError) as err:
        raise AudiospecError(
            f"archive {str(archive)!r} is corrupt or truncated ({type(err).__name__}: {err}); "
            "delete it and download it again"
        ) from None
    except OSError as err:
        raise AudiospecError(
            f"could not extract {str(archive)!r} into {str(dest)!r} ({err}); check free disk space and permissions"
        ) from None
    finally:
        if tmp.exists():
            shutil.rmtree(tmp, ignore_errors=True)
    return dest
