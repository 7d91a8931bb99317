"""Issue 23's regression oracle: a redesign changes no number.

A small pipeline (the mini recipe's debug settings on a WAV folder: analysis, corrupt, compare with its
question-4 arms, probe, baselines, then the curve; :mod:`regression_numbers`) is run by this checkout and every
number, flag and name of the JSON files it writes is compared with the fixture written by the commit before the
redesign (6e386da). Tolerance: relative 1e-3 and absolute 1e-6, for other CPUs and thread counts (on the machine
that wrote the fixture, with one thread, the numbers are bit-identical: set AUDIOSPEC_EXACT_NUMBERS=1 to require
that). Wall times, throughput and the run's own paths are not compared; the sentences the stages wrote then are
now the report's, and must come out of the same numbers word for word.
"""

from __future__ import annotations

import os
import re
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
    changed = [line for line in changed if not (line.endswith(": only after") and line[1:].startswith(ADDED))
               and not MEASURED_LESS_OFTEN.fullmatch(line)]
    assert not changed, f"{len(changed)} differences, e.g.\n" + "\n".join(changed[:40])


# without eval_every the held-out loss was measured after every step (a bug, fixed 2026-12-05); now at 80% of the
# budget and at its end only: the fixture's other held-out points go, every value that stays is unchanged
MEASURED_LESS_OFTEN = re.compile(r"\.(compare|baselines)/convergence\.json\[\d+\]\.heldout\.\d+: only before")

# keys the redesign added (the curve's verdict used to read them from the config; its result now holds them)
ADDED = ("curve/curve.json.budget", "curve/curve.json.checkpoints", "curve/curve.json.loss_tolerance",
         "curve/curve.json.plateau_fraction")


def test_the_report_words_the_numbers_as_the_stages_did():
    """Every sentence the stages wrote into their JSON before the redesign, rendered again by the report from the
    same numbers (the fixture's), character for character, but for issue 26: with 2 seeds no family of tests can
    reach α, so no test carries a verdict (the baselines' summary of their secondary tests says so instead)."""
    import dataclasses

    from audiospec.experiments.results import (AnalysisResult, BaselinesResult, CompareResult, CurveResult,
                                               ProbeResult, from_json)
    from audiospec.report.sections.analysis import analysis_findings
    from audiospec.report.sections.baselines import baselines_words
    from audiospec.report.sections.compare import compare_words
    from audiospec.report.sections.curve import curve_verdicts
    from audiospec.report.sections.probe import probe_words
    from audiospec.report.sections.baselines import baselines_families
    from helpers_words import as_now
    from regression_numbers import CURVE

    before = read_numbers(FIXTURE)

    def typed(cls, name):
        return from_json(cls, before[name], where=name)

    every = lambda line: True  # noqa: E731 - 2 seeds: no family can decide
    compare = compare_words(typed(CompareResult, "compare/results.json"))
    stored = before["compare/results.json"]["answers"]
    assert list(compare.samples_vs_prior) == stored["samples_vs_prior"]
    assert list(compare.autoregression) == stored["question_2_cepstral_autoregression"]
    assert list(compare.priors_vs_white) == as_now(stored["question_3_pink_vs_white"], every)
    assert list(compare.loss_and_schedule) == as_now(stored["question_4_loss_and_schedule"], every)
    assert probe_words(typed(ProbeResult, "probe/probe.json")) == as_now(before["probe/probe.json"]["answers"], every)
    baselines = typed(BaselinesResult, "baselines/baselines.json")
    size = baselines_families(baselines, metric=None)[False].family.size
    written = [line.replace("(secondary): no reliable difference.",
                            f"(secondary): cannot decide with 2 seeds (a family of {size} tests).")
               for line in before["baselines/baselines.json"]["answers"]]
    assert baselines_words(baselines) == as_now(written, every)
    assert analysis_findings(typed(AnalysisResult, "analysis/analysis.json")) == \
        before["analysis/analysis.json"]["findings"]
    curve = dataclasses.replace(typed(CurveResult, "curve/curve.json"), budget=4,
                                checkpoints=tuple(CURVE["checkpoints"]))  # the debug recipe's train.steps
    assert curve_verdicts(curve) == before["curve/curve.json"]["verdicts"]
