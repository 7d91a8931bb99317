"""Issue 23's regression oracle: a redesign changes no number.

A small pipeline (the mini recipe's debug settings on a WAV folder: analysis, corrupt, compare with its
question-4 arms, probe, baselines, then the curve; :mod:`regression_numbers`) is run by this checkout and every
number, flag and name of the JSON files it writes is compared with the fixture written by the commit before the
redesign (6e386da). Tolerance: relative 1e-3 and absolute 1e-6, for other CPUs and thread counts (on the machine
that wrote the fixture, with one thread, the numbers are bit-identical: set AUDIOSPEC_EXACT_NUMBERS=1 to require
that). Wall times, throughput and the run's own paths are not compared.
"""

from __future__ import annotations

import os
from pathlib import Path

import pytest

from regression_numbers import ROOT, collect, numeric_differences, read_numbers, run_stages

FIXTURE = Path(__file__).parent / "fixtures" / "numbers-6e386da.json.gz"


@pytest.mark.slow
def test_every_number_of_a_small_pipeline_is_unchanged(tmp_path):
    before = read_numbers(FIXTURE)
    after = collect(run_stages(ROOT, tmp_path))
    exact = os.environ.get("AUDIOSPEC_EXACT_NUMBERS") == "1"
    changed = numeric_differences(before, after, rel=0.0 if exact else 1e-3, abs_tol=0.0 if exact else 1e-6)
    assert not changed, f"{len(changed)} differences, e.g.\n" + "\n".join(changed[:40])
