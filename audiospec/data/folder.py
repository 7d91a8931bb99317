"""List a folder of audio files with labels from the first-level sub-folder names."""

from __future__ import annotations

from dataclasses import dataclass
from pathlib import Path

from audiospec.data.audio import AUDIO_EXTENSIONS
from audiospec.errors import AudiospecError

__all__ = ["UNLABELLED", "LabelledFile", "list_audio_files"]

UNLABELLED = "unlabelled"
"""Label of audio files lying directly in the dataset folder (not in a class sub-folder)."""


@dataclass(frozen=True)
class LabelledFile:
    """An audio file and its class label.

    Attributes:
        path: the file.
        label: its class (the first-level sub-folder, or :data:`UNLABELLED`).
    """

    path: Path
    label: str


def list_audio_files(root: str | Path, *, label_suffix: str = "") -> list[LabelledFile]:
    """Every audio file under ``root`` (recursively), labelled by its first-level sub-folder.

    ``root/jazz/a.wav`` and ``root/jazz/live/b.flac`` get label ``"jazz"``; files directly
    in ``root`` get :data:`UNLABELLED`. ``label_suffix`` is stripped from folder names
    (``"music_wav"`` -> ``"music"`` with ``"_wav"``). Extensions (any case):
    :data:`~audiospec.data.audio.AUDIO_EXTENSIONS`. Hidden files and folders (``.name``)
    are ignored. Sorted by ``(label, relative path)``, so the order is deterministic.

    Args:
        root: the folder (``~`` expanded).
        label_suffix: suffix stripped from sub-folder names to make labels.

    Returns:
        One :class:`LabelledFile` per audio file.

    Raises:
        AudiospecError: ``root`` is missing, not a folder, or holds no audio files.
    """
    root = Path(root).expanduser()
    if not root.exists():
        raise AudiospecError(f"audio folder {str(root)!r} does not exist; check the path")
    if not root.is_dir():
        raise AudiospecError(f"{str(root)!r} is not a folder; pass a folder of audio files (sub-folders = labels)")
    found: list[tuple[str, str, Path]] = []
    for path in root.rglob("*"):
        rel = path.relative_to(root)
        if any(part.startswith(".") for part in rel.parts):
            continue
        if path.suffix.lower() not in AUDIO_EXTENSIONS or not (path.is_file() or path.is_symlink()):
            continue  # a dangling link is listed: loading it is an error, on record, not a silent omission
        if len(rel.parts) == 1:
            label = UNLABELLED
        else:
            label = rel.parts[0]
            if label_suffix and label.endswith(label_suffix) and len(label) > len(label_suffix):
                label = label[: -len(label_suffix)]
        found.append((label, rel.as_posix(), path))
    if not found:
        raise AudiospecError(
            f"no audio files ({', '.join(AUDIO_EXTENSIONS)}) under {str(root)!r}; "
            "put the files in one sub-folder per class"
        )
    found.sort(key=lambda item: (item[0], item[1]))
    return [LabelledFile(path=path, label=label) for label, _, path in found]
