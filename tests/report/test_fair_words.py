"""Conclusion 1 of issue 25 is decided by a paired test of the stage concentrations, not by intervals that do not
overlap: the words follow the test's verdict, and a result without the test is described, not decided."""

from __future__ import annotations

import dataclasses
import json
from pathlib import Path

from audiospec.experiments.results import from_json
from audiospec.experiments.results_fair import FairResult
from audiospec.experiments.rows import paired_family
from audiospec.report.sections.fair import band_step_words

RESULTS = Path(__file__).resolve().parents[2] / "recipes" / "mini" / "results"


def _preview() -> FairResult:
    path = next(RESULTS.glob("fair-preview-*.json"))
    return from_json(FairResult, json.loads(path.read_text()), where=str(path))


def _conclusion(result: FairResult) -> str:
    return next(line for line in band_step_words(result) if line.startswith("Conclusion 1"))


def test_conclusion_one_follows_the_paired_concentration_test():
    preview = _preview()
    assert preview.concentration_test is None  # written before the test existed: described, not decided
    assert "NOT TESTED" in _conclusion(preview)
    tests, _ = paired_family({"fair cepstral AR": [0.2, 0.25, 0.18, 0.3, 0.22, 0.21, 0.27]})  # 7 seeds, all > 0
    decided = dataclasses.replace(preview, concentration_test=tests["fair cepstral AR"])
    assert decided.concentration_test.reliable and decided.concentration_test.p_holm == 2 / 128
    assert "RESTATED" in _conclusion(decided) or "KEPT" in _conclusion(decided)
    mixed, _ = paired_family({"fair cepstral AR": [0.2, -0.25, 0.18, -0.3, 0.22, -0.21, 0.27]})
    undecided = _conclusion(dataclasses.replace(preview, concentration_test=mixed["fair cepstral AR"]))
    assert "NOT SUPPORTED" in undecided and "no reliable difference" in undecided
    few, _ = paired_family({"fair cepstral AR": [0.2, 0.25]})  # 2 seeds: the smallest p is 0.5
    assert "NOT SUPPORTED" in _conclusion(dataclasses.replace(preview, concentration_test=few["fair cepstral AR"]))
