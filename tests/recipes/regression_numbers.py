"""Every number a small pipeline writes, run by any checkout of audiospec: the regression oracle of issue 23.

:func:`run_stages` writes a tiny labelled WAV folder (the synthetic music and speech of the recipe tests, 16-bit
PCM so that the data are the same everywhere), runs ``audiospec run`` with the mini recipe's debug settings on it
(analysis, corrupt, compare with its question-4 arms, probe, baselines) and ``audiospec curve``, each in a child
process importing audiospec from ``code`` (the checkout under test), and :func:`collect` gathers the JSON files
the stages write. :func:`numeric_differences` lists every number (or flag) that differs between two such
collections beyond a tolerance, and every key one holds and the other lacks.

The fixture ``fixtures/numbers-6e386da.json.gz`` was made once from the commit before the redesign:

    git worktree add --detach /tmp/before 6e386da
    OMP_NUM_THREADS=1 python tests/recipes/regression_numbers.py --code /tmp/before --out tests/recipes/fixtures/numbers-6e386da.json.gz
"""

from __future__ import annotations

import argparse
import gzip
import json
import math
import os
import subprocess
import sys
import tempfile
from pathlib import Path
from typing import Any

import numpy as np
import soundfile as sf
import yaml

SR = 22050
ROOT = Path(__file__).resolve().parents[2]
FILES = ("analysis/analysis.json", "analysis/figures.json", "corrupt/corrupt.json", "compare/results.json",
         "compare/runs.json", "compare/convergence.json", "compare/listening.json", "probe/probe.json",
         "baselines/baselines.json", "baselines/runs.json", "baselines/convergence.json", "curve/curve.json")
WORDS = ("answers", "findings", "verdicts", "plots")  # sentences and file names: not numbers
TIMINGS = ("seconds", "steps_per_second")  # wall times and throughput: the machine's, not the code's
CURVE = {"checkpoints": [2, 4], "priors": ["white", "pink"], "seeds": [0], "n_samples": 4, "sample_steps": 2,
         "loss_draws": 1}


def _music(seconds: float, seed: int) -> np.ndarray:
    rng = np.random.default_rng(seed)
    t = np.arange(int(seconds * SR)) / SR
    freqs = 110.0 * 2 ** (rng.integers(0, 24, size=3) / 12)
    wave = sum(np.sin(2 * math.pi * f * t) for f in freqs) * (0.6 + 0.4 * np.sin(2 * math.pi * 0.5 * t))
    return 0.2 * wave / np.abs(wave).max()


def _speech(seconds: float, seed: int) -> np.ndarray:
    rng = np.random.default_rng(seed)
    n = int(seconds * SR)
    envelope = np.clip(np.sin(2 * math.pi * 4.0 * np.arange(n) / SR + rng.uniform(0, 6)), 0, None)
    wave = np.convolve(rng.standard_normal(n), np.ones(8) / 8, mode="same") * envelope
    return 0.3 * wave / np.abs(wave).max()


def write_data(root: Path) -> Path:
    """Three recordings of 9 s per class (one per split), 16-bit WAV."""
    for label, make in (("music", _music), ("speech", _speech)):
        (root / label).mkdir(parents=True, exist_ok=True)
        for i in range(3):
            sf.write(root / label / f"{label}.{i:05d}.wav", make(9.0, i).astype(np.float32), SR, subtype="PCM_16")
    return root


def write_config(path: Path, data: Path) -> Path:
    """The mini recipe's debug config on the folder ``data``, with a tiny ``curve`` section."""
    config = yaml.safe_load((ROOT / "recipes" / "mini" / "conf" / "debug.yaml").read_text())
    config["data"] = {"dataset": f"folder:{data}", "max_clips_per_class": 4}
    config["curve"] = dict(CURVE)
    path.write_text(yaml.safe_dump(config, sort_keys=False))
    return path


def _audiospec(code: Path, *args: str) -> None:
    env = {**os.environ, "PYTHONPATH": str(code), "OMP_NUM_THREADS": os.environ.get("OMP_NUM_THREADS", "1"),
           "MKL_NUM_THREADS": os.environ.get("MKL_NUM_THREADS", "1")}
    done = subprocess.run([sys.executable, "-m", "audiospec", *args, "--no-progress"], env=env, cwd=code,
                          capture_output=True, text=True, timeout=3600)
    if done.returncode != 0:
        raise RuntimeError(f"audiospec {' '.join(args)} failed:\n{done.stdout}\n{done.stderr}")


def run_stages(code: Path, work: Path) -> Path:
    """Run the pipeline and the curve with the checkout ``code`` in ``work``; returns the run folder."""
    data = write_data(work / "audio")
    config = write_config(work / "regression.yaml", data)
    out = work / "run"
    _audiospec(code, "run", "--config", str(config), "--out", str(out))
    _audiospec(code, "curve", "--config", str(config), "--out", str(out / "curve"))
    return out


def read_numbers(path: Path) -> dict[str, Any]:
    """A collection written by :func:`main` (``.json`` or ``.json.gz``)."""
    data = path.read_bytes()
    return json.loads(gzip.decompress(data) if path.suffix == ".gz" else data)


def collect(out: Path) -> dict[str, Any]:
    """The content of every JSON file of :data:`FILES` under the run folder ``out`` (missing ones left out), the
    path of the work folder (``out``'s parent) written as ``WORK``."""
    work = str(out.resolve().parent)
    return {name: json.loads((out / name).read_text().replace(work, "WORK")) for name in FILES
            if (out / name).is_file()}


def _leaves(value: Any, prefix: str) -> dict[str, Any]:
    if isinstance(value, dict):
        out: dict[str, Any] = {}
        for key, item in value.items():
            out.update(_leaves(item, f"{prefix}.{key}"))
        return out
    if isinstance(value, list) and not all(isinstance(v, str) for v in value):
        out = {}
        for i, item in enumerate(value):
            out.update(_leaves(item, f"{prefix}[{i}]"))
        return out
    return {prefix: value}


def _words(key: str) -> bool:
    return any(f".{word}" in key for word in WORDS)


def _numeric(value: Any) -> bool:
    return isinstance(value, (int, float)) and not isinstance(value, bool)


def numeric_differences(before: dict[str, Any], after: dict[str, Any], *, rel: float = 0.0, abs_tol: float = 0.0,
                        ignore: tuple[str, ...] = ()) -> list[str]:
    """Every leaf (number, flag, name, list of names) of ``before`` and ``after`` that differs (numbers beyond
    ``abs_tol + rel * |before|``), and every leaf that only one of them holds; sentences and plot names
    (:data:`WORDS`) and keys containing one of ``ignore`` are not compared. Paths such as
    ``compare/results.json.metrics.white.2.kid_classifier.mean``."""
    mine, theirs = (_leaves(collection, "") for collection in (before, after))
    out = []
    for key in sorted(set(mine) | set(theirs)):
        if _words(key) or any(part in key for part in ignore + TIMINGS):
            continue
        if key not in theirs or key not in mine:
            out.append(f"{key}: only {'before' if key in mine else 'after'}")
            continue
        a, b = mine[key], theirs[key]
        if _numeric(a) and _numeric(b):
            if not (math.isfinite(a) and math.isfinite(b)):
                same = a == b or (a != a and b != b)
            else:
                same = abs(a - b) <= abs_tol + rel * abs(a)
            if not same:
                out.append(f"{key}: {a!r} before, {b!r} after")
        elif a != b:
            out.append(f"{key}: {a!r} before, {b!r} after")
    return out


def main() -> None:
    parser = argparse.ArgumentParser(description="Write the numbers of a small pipeline run by a checkout.")
    parser.add_argument("--code", type=Path, default=ROOT, help="the checkout to run (default: this one)")
    parser.add_argument("--out", type=Path, required=True, help="the JSON file to write")
    parser.add_argument("--keep", type=Path, default=None, help="run in this folder and keep it")
    args = parser.parse_args()
    with tempfile.TemporaryDirectory() as scratch:
        work = args.keep or Path(scratch)
        work.mkdir(parents=True, exist_ok=True)
        numbers = collect(run_stages(args.code.resolve(), work))
    args.out.parent.mkdir(parents=True, exist_ok=True)
    text = json.dumps(numbers, indent=None) + "\n"  # the files' key order kept: sentences follow it
    if args.out.suffix == ".gz":
        args.out.write_bytes(gzip.compress(text.encode("utf-8"), mtime=0))
    else:
        args.out.write_text(text)
    print(f"{len(numbers)} files, {len(_leaves(numbers, ''))} leaves -> {args.out}")


if __name__ == "__main__":
    main()
