"""Debian packages of recordings: what a prepared corpus is cut from, how to find and install them.

A corpus is described by data, not code: :class:`SourceSet` s name a package, the folder
its recordings are installed in, which files of it to use (``keep``), their class
(``label``) and how its files group into source recordings (``group``). :func:`find_sources`
lists the files of every set (under a ``package_root``, ``/`` in real use, a temporary
folder laid out like the packages in tests) and installs the packages when allowed.
"""

from __future__ import annotations

import os
import subprocess
import sys
from collections.abc import Callable, Sequence
from dataclasses import dataclass
from pathlib import Path, PurePosixPath
from typing import Literal

from audiospec.data.audio import AUDIO_EXTENSIONS
from audiospec.errors import AudiospecError

__all__ = [
    "ClipLabel", "DebianPackage", "InFolder", "SourceFile", "SourceSet", "audio_files", "find_sources",
    "install_command", "install_packages", "installed_version",
]

ClipLabel = Literal["music", "speech"]


@dataclass(frozen=True)
class DebianPackage:
    """A Debian package a corpus is cut from.

    Args:
        name: the package name, e.g. ``"wesnoth-1.16-music"``.
        license: its licence, as written to the manifest (e.g. ``"GPL-2+"``).
        role: the class its recordings give, ``"music"`` or ``"speech"``.
        homepage: the upstream project's address.
        note: licence details written to the manifest when set.
    """

    name: str
    license: str
    role: ClipLabel
    homepage: str
    note: str = ""

    def record(self) -> dict[str, str]:
        """The package as written to a manifest.

        Returns:
            ``{"name", "license", "role", "homepage"}`` and ``"note"`` when set.
        """
        return {"name": self.name, "license": self.license, "role": self.role, "homepage": self.homepage,
                **({"note": self.note} if self.note else {})}


def _every_file(rel: PurePosixPath) -> bool:
    return True


@dataclass(frozen=True)
class InFolder:
    """A ``keep`` rule: the files whose parent folder is named ``name`` (``<level>/cs/<line>.ogg``)."""

    name: str

    def __call__(self, rel: PurePosixPath) -> bool:
        return rel.parent.name == self.name


@dataclass(frozen=True)
class SourceSet:
    """The recordings of one package used for one class.

    Attributes:
        package: the Debian package that installs them.
        label: their class.
        folder: where the package installs them (absolute; found under ``package_root``).
        keep: which audio files under ``folder`` to use, given their path relative to it.
        group: the source recording of a file (path relative to ``folder``) as a key: files
            with equal keys are one recording and stay in one split (the key is prefixed with
            ``<package>:``, so two packages never share one). ``None``: each file is its own
            recording (read from the clip provenance, as for ``mini``).
        grouping: ``group`` in words, for the manifest.
    """

    package: DebianPackage
    label: ClipLabel
    folder: Path
    keep: Callable[[PurePosixPath], bool] = _every_file
    group: Callable[[PurePosixPath], str] | None = None
    grouping: str = "one recording per file"


@dataclass(frozen=True)
class SourceFile:
    """An audio file of a :class:`SourceSet`; ``group`` is its recording key (``None``: the file)."""

    path: Path
    group: str | None


def install_command(packages: Sequence[DebianPackage], *, root: bool | None = None) -> list[str]:
    """``apt-get install -y --no-install-recommends <packages>``, prefixed by ``sudo`` unless root.

    Args:
        packages: the packages to install (each named once, in order).
        root: whether the command runs as root (default: this process's effective user).

    Returns:
        The command as a list of arguments.
    """
    if root is None:
        root = os.geteuid() == 0 if hasattr(os, "geteuid") else False
    prefix = [] if root else ["sudo"]
    return [*prefix, "apt-get", "install", "-y", "--no-install-recommends", *dict.fromkeys(p.name for p in packages)]


def _run(command: list[str]) -> bool:
    """Run an apt command non-interactively; True on success."""
    if command[0] == "sudo" and not sys.stdin.isatty():
        command = ["sudo", "-n", *command[1:]]  # never hang on a password prompt without a terminal
    try:
        result = subprocess.run(command, check=False, env={**os.environ, "DEBIAN_FRONTEND": "noninteractive"})
    except OSError:
        return False
    return result.returncode == 0


def install_packages(packages: Sequence[DebianPackage], *, corpus: str) -> None:
    """``apt-get install`` the packages (then ``apt-get update`` and a retry); raises with the command on failure."""
    command = install_command(packages)
    if _run(command):
        return
    update = [*command[: command.index("apt-get")], "apt-get", "update"]
    if _run(update) and _run(command):
        return
    raise AudiospecError(
        f"could not install the Debian packages of the {corpus} corpus; install them by hand with\n    "
        + " ".join(command)
        + "\n(run `apt-get update` first if apt cannot find them), then re-run"
    )


def installed_version(package: str) -> str | None:
    """The installed version of a Debian package (``dpkg-query``), ``None`` when unknown."""
    try:
        result = subprocess.run(["dpkg-query", "-W", "-f=${Version}", package], capture_output=True, text=True,
                                check=False)
    except OSError:
        return None
    return (result.stdout.strip() or None) if result.returncode == 0 else None


def audio_files(folder: Path) -> list[Path]:
    """Every audio file under ``folder``, sorted by relative path."""
    return sorted(
        (p for p in folder.rglob("*") if p.suffix.lower() in AUDIO_EXTENSIONS and p.is_file()),
        key=lambda p: p.relative_to(folder).as_posix(),
    )


def _under(package_root: Path, folder: Path) -> Path:
    return package_root / folder.relative_to(folder.anchor)


def _set_files(source: SourceSet, package_root: Path) -> list[SourceFile]:
    folder = _under(package_root, source.folder)
    if not folder.is_dir():
        return []
    files = []
    for path in audio_files(folder):
        rel = PurePosixPath(path.relative_to(folder).as_posix())
        if source.keep(rel):
            group = None if source.group is None else f"{source.package.name}:{source.group(rel)}"
            files.append(SourceFile(path=path, group=group))
    return files


def find_sources(sources: Sequence[SourceSet], *, corpus: str, package_root: Path = Path("/"),
                 install: bool = False, hint: str = "") -> dict[ClipLabel, list[SourceFile]]:
    """The files of every set, per class in set order (each set sorted by relative path).

    When a set has no files, its package is missing: with ``install`` every package is
    installed (:func:`install_packages`) and the sets are listed again; without, an
    :class:`AudiospecError` names the missing packages and the command that installs them
    (and ``hint``, another way out, when given).
    """

    def found() -> tuple[dict[ClipLabel, list[SourceFile]], list[SourceSet]]:
        per_label: dict[ClipLabel, list[SourceFile]] = {}
        missing = []
        for source in sources:
            files = _set_files(source, package_root)
            missing += [] if files else [source]
            per_label.setdefault(source.label, []).extend(files)
        return per_label, missing

    files, missing = found()
    if not missing:
        return files
    names = sorted({s.package.name for s in missing})
    where = ", ".join(dict.fromkeys(str(_under(package_root, s.folder)) for s in missing))
    if not install:
        raise AudiospecError(
            f"the {corpus} corpus needs the Debian packages {names} (no recordings found in {where}); "
            "install them with\n    " + " ".join(install_command([s.package for s in sources]))
            + f"\nor run `audiospec prepare {corpus} --install-packages`" + (f",\n{hint}" if hint else "")
        )
    install_packages([s.package for s in sources], corpus=corpus)
    files, missing = found()
    if missing:
        raise AudiospecError(
            f"the Debian packages were installed but no recordings were found in "
            f"{', '.join(dict.fromkeys(str(_under(package_root, s.folder)) for s in missing))}; "
            f"check `dpkg -L {' '.join(sorted({s.package.name for s in missing}))}`"
        )
    return files
