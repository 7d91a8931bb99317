"""Packaging: the wheel works outside the source tree, and the ranges of pyproject.toml hold the lock.

The wheel is built from a copy of the files the build reads (pyproject.toml, README.md,
audiospec/), so the build never writes build/ or *.egg-info into the working tree, and
installed with ``--no-deps`` into a fresh venv. The fresh venv sees the dependencies of the
running test environment through a ``.pth`` file listing that environment's site-packages
(plain path lines: the ``.pth`` files there, such as an editable install of audiospec
itself, are not executed), so nothing is downloaded or copied, while audiospec can come
only from the wheel: the fresh venv's own site-packages comes first on ``sys.path``, and the
test asserts where ``audiospec`` is imported from.
"""

from __future__ import annotations

import json
import os
import re
import subprocess
import sys
import sysconfig
import tomllib
import zipfile
from pathlib import Path

import pytest
from packaging.requirements import Requirement
from packaging.utils import canonicalize_name

from helpers_cli import analysis_config, audio_folder

ROOT = Path(__file__).resolve().parents[1]
BUILD_INPUTS = ("pyproject.toml", "README.md", "LICENSE", "audiospec")
# PYTHONPATH would import the source tree; PYTHONDONTWRITEBYTECODE makes setuptools warn
# "byte-compiling is disabled", a warning of the environment, not of the package
_UNSET = ("PYTHONPATH", "PYTHONHOME", "PYTHONDONTWRITEBYTECODE")


def _run(command: list[str], *, cwd: Path, timeout: float = 300) -> subprocess.CompletedProcess[str]:
    """Run ``command`` in ``cwd`` without the variables of ``_UNSET``: only installed packages are importable."""
    env = {key: value for key, value in os.environ.items() if key not in _UNSET}
    result = subprocess.run(command, cwd=cwd, env=env, capture_output=True, text=True, timeout=timeout)
    assert result.returncode == 0, f"{command} failed ({result.returncode}):\n{result.stdout}\n{result.stderr}"
    return result


def _lock() -> dict[str, str]:
    lines = (ROOT / "constraints.txt").read_text().splitlines()
    pins = [line.split("==") for line in lines if line and not line.startswith("#")]
    return {canonicalize_name(name): version for name, version in pins}


@pytest.fixture(scope="module")
def wheel(tmp_path_factory) -> Path:
    """``python -m build --wheel`` of a copy of the sources (no isolation: setuptools comes from the test extras)."""
    import importlib.metadata
    import importlib.util
    import shutil

    setuptools_major = int(importlib.metadata.version("setuptools").split(".")[0])
    if importlib.util.find_spec("build") is None or setuptools_major < 77:
        pytest.fail("building the wheel needs the test extras (build, setuptools>=77): make test installs them, "
                    "or pip install -c constraints.txt -e '.[test]'")
    src = tmp_path_factory.mktemp("src")
    for name in BUILD_INPUTS:
        if (ROOT / name).is_dir():
            shutil.copytree(ROOT / name, src / name, ignore=shutil.ignore_patterns("__pycache__", "*.pyc"))
        else:
            shutil.copy2(ROOT / name, src / name)
    dist = tmp_path_factory.mktemp("dist")
    result = _run([sys.executable, "-m", "build", "--wheel", "--no-isolation", "--outdir", str(dist), str(src)],
                  cwd=src)
    warnings = [line for line in (result.stdout + result.stderr).splitlines() if re.search(r"warning\b", line, re.I)]
    assert not warnings, "the build warns:\n" + "\n".join(warnings)
    wheels = list(dist.glob("audiospec-*-py3-none-any.whl"))
    assert len(wheels) == 1, f"expected one pure-Python wheel in {dist}, got {sorted(p.name for p in dist.iterdir())}"
    return wheels[0]


def test_wheel_ships_every_module_and_the_metadata(wheel):
    with zipfile.ZipFile(wheel) as archive:
        names = set(archive.namelist())
        metadata = archive.read(next(n for n in names if n.endswith(".dist-info/METADATA"))).decode()
    sources = {p.relative_to(ROOT).as_posix() for p in (ROOT / "audiospec").rglob("*") if p.is_file()
               and "__pycache__" not in p.parts}
    assert sources - names == set(), "files of the package missing from the wheel"
    assert not any(name.startswith(("tests/", "recipes/", "benchmarks/")) for name in names)
    assert "License-Expression: MIT" in metadata
    assert "License-File: LICENSE" in metadata  # PEP 639: the licence text ships in the wheel
    assert any(name.endswith(".dist-info/licenses/LICENSE") for name in names)
    assert "Requires-Python: >=3.11" in metadata
    assert "Requires-Dist: torch<2.12,>=2.3" in metadata


@pytest.mark.slow
def test_wheel_runs_help_and_an_analysis_outside_the_source_tree(wheel, tmp_path):
    venv = tmp_path / "venv"
    _run([sys.executable, "-m", "venv", "--without-pip", str(venv)], cwd=tmp_path)
    python, audiospec = venv / "bin" / "python", venv / "bin" / "audiospec"
    _run([sys.executable, "-m", "pip", "--python", str(python), "install", "--quiet", "--no-deps", "--no-index",
          str(wheel)], cwd=tmp_path)
    fresh_site = Path(_run([str(python), "-c", "import sysconfig; print(sysconfig.get_paths()['purelib'])"],
                           cwd=tmp_path).stdout.strip())
    outer = dict.fromkeys(sysconfig.get_paths()[key] for key in ("purelib", "platlib"))  # the tested dependencies
    (fresh_site / "_audiospec_test_dependencies.pth").write_text("".join(f"{path}\n" for path in outer))

    work = tmp_path / "elsewhere"  # cwd outside the source tree: nothing is found relative to it
    work.mkdir()
    where = _run([str(python), "-c", "import audiospec; print(audiospec.__file__)"], cwd=work).stdout.strip()
    assert Path(where).is_relative_to(fresh_site), f"audiospec imported from {where}, not from the wheel"

    help_text = _run([str(audiospec), "--help"], cwd=work).stdout
    for command in ("prepare", "analyze", "corrupt", "train", "sample", "report", "demo"):
        assert command in help_text

    folder = audio_folder(work / "audio")  # 2 classes x 3 files of 2 s
    config = analysis_config(work / "analysis.yaml", folder)
    out = work / "run"
    result = _run([str(audiospec), "analyze", "--config", str(config), "--out", str(out), "--no-progress"], cwd=work)
    assert "report.html" in result.stdout
    analysis = json.loads((out / "analysis.json").read_text())
    assert analysis["classes"] == {"hiss": 9, "rumble": 9}  # 3 files x 3 clips of 0.6 s each
    by_class = analysis["waveform"]["by_class"]
    assert by_class["rumble"]["peak_hz"] < by_class["hiss"]["peak_hz"]  # the low-passed class peaks lower
    for name in ("mel_rapsd.png", "fmax.png"):  # figures the report draws: matplotlib found from the wheel
        assert (out / name).stat().st_size > 1000
    assert "<img" in (out / "report.html").read_text()


def test_installing_into_the_tested_environment_does_not_reinstall_torch(wheel, tmp_path):
    """pip's resolver, offline, against this environment (the lock's versions): only audiospec is installed."""
    report = tmp_path / "report.json"
    _run([sys.executable, "-m", "pip", "install", "--dry-run", "--quiet", "--no-index", "--report", str(report),
          str(wheel)], cwd=tmp_path)
    installs = {canonicalize_name(item["metadata"]["name"]) for item in json.loads(report.read_text())["install"]}
    assert "torch" not in installs and "torchaudio" not in installs
    assert installs <= {"audiospec"}, f"pip would also install {sorted(installs - {'audiospec'})}"


def test_dependency_ranges_hold_the_locked_versions():
    """Every dependency of pyproject.toml (extras included) admits the version constraints.txt pins."""
    project = tomllib.loads((ROOT / "pyproject.toml").read_text())["project"]
    requirements = [Requirement(r) for r in project["dependencies"]]
    requirements += [Requirement(r) for extra in project["optional-dependencies"].values() for r in extra]
    lock = _lock()
    unlocked = {r.name for r in requirements if canonicalize_name(r.name) not in lock} - {"diffusers"}  # bench only
    assert not unlocked, f"dependencies without a tested version in constraints.txt: {sorted(unlocked)}"
    outside = [f"{r} vs {lock[canonicalize_name(r.name)]}" for r in requirements
               if canonicalize_name(r.name) in lock and not r.specifier.contains(lock[canonicalize_name(r.name)])]
    assert not outside, f"locked versions outside the declared ranges: {outside}"
    assert {lock["torch"], lock["torchaudio"]} == {"2.11.0"}, "the tested torch / torchaudio pair"
