"""`prepare_dataset`: make a dataset available locally (download, extract, export or cut), idempotently."""

from __future__ import annotations

from pathlib import Path

from audiospec.data.config import DATASET_NAMES, FOLDER_PREFIX, check_dataset_name
from audiospec.data.debian import prepare_debian
from audiospec.data.folder import list_audio_files
from audiospec.data.gtzan import GTZAN_DATASETS, prepare_gtzan
from audiospec.data.mini import prepare_mini
from audiospec.errors import AudiospecError

__all__ = ["MINI_SUBDIR", "PREPARED_CORPORA", "prepare_dataset"]

MINI_SUBDIR = "mini"
"""The embedded corpus lives in ``data_dir/mini``."""

PREPARED_CORPORA = {"mini": prepare_mini, "debian": prepare_debian}
"""The corpora cut from Debian packages, each into ``data_dir/<name>`` by its function."""


def prepare_dataset(
    name: str,
    *,
    data_dir: str | Path = "data",
    source: str | None = None,
    hub_split: str | None = None,
    hub_label_column: str | None = None,
    install: bool = False,
    progress: bool = True,
) -> Path:
    """Prepare dataset ``name`` under ``data_dir``; returns the folder whose sub-folders are the classes.

    Idempotent: a ``.completed`` marker in the returned folder means the work is done
    and the call returns at once.

    - ``"mini"``: :func:`~audiospec.data.mini.prepare_mini` into ``data_dir/mini``
      (``install`` allows ``apt-get install`` of the two Debian packages);
    - ``"debian"``: :func:`~audiospec.data.debian.prepare_debian` into ``data_dir/debian``
      (the larger corpus; ``install`` allows ``apt-get install`` of its six packages);
    - ``"gtzan-music-speech"`` / ``"gtzan-genres"``:
      :func:`~audiospec.data.gtzan.prepare_gtzan` from ``source`` (default: the official
      archive URL; also a URL, local archive or folder, ``hf:owner/name`` or a local parquet
      folder, with ``hub_split`` / ``hub_label_column`` for the hub);
    - ``"folder:PATH"``: nothing to prepare; checks that PATH holds audio and returns it.

    Args:
        name: ``"mini"``, ``"gtzan-music-speech"``, ``"gtzan-genres"`` or ``"folder:PATH"``.
        data_dir: the dataset cache folder.
        source: GTZAN only: a URL, archive, folder, ``hf:owner/name`` or parquet folder.
        hub_split: GTZAN from the hub only: the split to read.
        hub_label_column: GTZAN from the hub only: the label column.
        install: mini only: allow ``apt-get install`` of the Debian packages.
        progress: show progress bars.

    Returns:
        The dataset folder (one sub-folder per class).

    Raises:
        AudiospecError: an unknown name (the valid ones are listed), a ``source`` for a
            dataset that takes none, and every error of the steps above.
    """
    check_dataset_name(name)
    if not name.startswith(FOLDER_PREFIX) and Path(data_dir).exists() and not Path(data_dir).is_dir():
        raise AudiospecError(f"data_dir {str(data_dir)!r} is a file, not a folder; pass the dataset cache folder "
                             "(--data-dir, default data/), or move the file away")
    if name in GTZAN_DATASETS:
        return prepare_gtzan(name, data_dir=data_dir, source=source, hub_split=hub_split,
                             hub_label_column=hub_label_column, progress=progress)
    if source is not None or hub_split is not None or hub_label_column is not None:
        raise AudiospecError(
            f"source / hub_split / hub_label_column only apply to {sorted(GTZAN_DATASETS)}, not {name!r}; remove them"
        )
    if name.startswith(FOLDER_PREFIX):
        folder = Path(name[len(FOLDER_PREFIX):]).expanduser()
        list_audio_files(folder)  # raises when missing or empty
        return folder
    if name in PREPARED_CORPORA:
        out_dir = Path(data_dir) / name
        if (out_dir / ".completed").is_file():  # whatever settings it was cut with (see its manifest.json)
            return out_dir
        return PREPARED_CORPORA[name](out_dir, install=install, progress=progress)
    raise AudiospecError(f"unknown dataset {name!r}; valid datasets are {list(DATASET_NAMES)} or 'folder:PATH'")
