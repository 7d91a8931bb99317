"""Run folders made from real runs' result files, for the report's tests: the 7-seed CPU protocol committed in
recipes/mini/results and the 2-seed debug pipeline of the regression fixture (tests/recipes/fixtures)."""

from __future__ import annotations

import gzip
import json
import shutil
from pathlib import Path

import pytest

from audiospec.report.build import build_report

ROOT = Path(__file__).resolve().parents[2]
RESULTS = ROOT / "recipes" / "mini" / "results"
FIXTURE = ROOT / "tests" / "recipes" / "fixtures" / "numbers-6e386da.json.gz"


@pytest.fixture(scope="module")
def protocol_run(tmp_path_factory):
    """The committed protocol's result files in a run folder (its figures are drawn from them)."""
    run = tmp_path_factory.mktemp("protocol") / "protocol"
    for name, target in [("protocol-results-cpu-intel-xeon-2026-11-28.json", "compare/results.json"),
                         ("protocol-probe-cpu-intel-xeon-2026-11-28.json", "probe/probe.json"),
                         ("protocol-baselines-cpu-intel-xeon-2026-11-28.json", "baselines/baselines.json")]:
        (run / target).parent.mkdir(parents=True, exist_ok=True)
        shutil.copy(RESULTS / name, run / target)
    build_report(run)
    return run


@pytest.fixture(scope="module")
def debug_run(tmp_path_factory):
    """The 2-seed debug pipeline's result files (tests/recipes/fixtures), without its audio."""
    run = tmp_path_factory.mktemp("debug") / "debug"
    numbers = json.loads(gzip.decompress(FIXTURE.read_bytes()))
    for name in ("analysis/analysis.json", "analysis/figures.json", "compare/results.json", "probe/probe.json",
                 "baselines/baselines.json", "curve/curve.json"):
        (run / name).parent.mkdir(parents=True, exist_ok=True)
        (run / name).write_text(json.dumps(numbers[name]))
    build_report(run)
    return run
