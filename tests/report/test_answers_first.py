"""A report read in two minutes (issue 26), on two real runs' result files: the 7-seed CPU protocol committed in
recipes/mini/results (families that can and cannot decide) and the 2-seed debug pipeline of the regression fixture
(no family can decide). The page opens with a line and a figure per question; figures lead, long tables are folded;
every family shows its size, seeds and smallest attainable p, and no test that could not reject has a verdict. The
run folders are conftest.py's."""

from __future__ import annotations

import html
import re
from html.parser import HTMLParser
from pathlib import Path

import pytest

from audiospec.report.build import run_answers
from audiospec.report.page import FOLD_ROWS


class _Page(HTMLParser):
    """The section anchors in order, every table's row count and whether a closed <details> holds it."""

    def __init__(self) -> None:
        super().__init__()
        self.anchors: list[str] = []
        self.tables: list[list[int]] = []  # [rows, folded]
        self.open: list[bool] = []  # a <details> per level: open?
        self.open_tables: list[list[int]] = []

    def handle_starttag(self, tag, attrs):
        attrs = dict(attrs)
        if tag == "h2" and "id" in attrs:
            self.anchors.append(attrs["id"])
        elif tag == "details":
            self.open.append("open" in attrs)
        elif tag == "table":
            self.open_tables.append([0, int(not all(self.open))])
        elif tag == "tr" and self.open_tables:
            self.open_tables[-1][0] += 1

    def handle_endtag(self, tag):
        if tag == "details":
            self.open.pop()
        elif tag == "table":
            self.tables.append(self.open_tables.pop())


def _parsed(page: Path) -> _Page:
    parser = _Page()
    parser.feed(page.read_text())
    return parser


def test_the_page_opens_with_a_line_and_a_figure_per_question(protocol_run, debug_run):
    page = _parsed(protocol_run / "report.html")
    assert page.anchors[0] == "answers" and page.anchors[1:] == ["compare", "probe", "baselines"]
    text = (debug_run / "report.html").read_text()
    assert _parsed(debug_run / "report.html").anchors[:2] == ["answers", "analysis"]
    keys = re.findall(r"<div class='answer[^']*' data-key='([\w.]+)'>", text)
    assert keys == ["analysis.spectrum", "compare.order", "compare.priors", "compare.arms", "curve.plateau",
                    "probe.swap", "probe.likelihood", "baselines.kid"]
    cards = re.findall(r"<div class='answer' data-key='[\w.]+'>(.*?)</div>", text)
    assert len(cards) == len(keys) and all('<img src="data:image/png;base64,' in card for card in cards)
    assert text.index("id='answers'") < text.index('id="analysis"')  # answers before any section


def test_each_answer_is_rendered_from_the_typed_result(protocol_run):
    found = {f.answer.key: f.answer for f in run_answers(protocol_run)}
    priors = found["compare.priors"]
    assert priors.line.startswith("KID against held-out test patches at 8 steps (pre-specified; lower is better): "
                                  "white 0.47, pink 0.19, matched 0.47. Minus white: pink −0.28 [97.5%: −0.60, +0.12]")
    assert "Holm p 0.344 / 0.984 (2 tests on 7 seeds allow p ≥ 0.031)" in priors.line
    assert "Floor (real vs real patches) −0.025; Gaussian with the training spectrum 0.162." in priors.line
    assert priors.verdict == "no reliable difference (at α = 0.05)" and priors.figure == "kid_vs_steps.png"
    assert found["compare.arms"].verdict == "cannot decide with 7 seeds"
    assert found["compare.order"].figure is None  # this file was committed without the order's numbers
    assert found["probe.swap"].verdict == "reliable coarse-to-fine dependence: white, pink, matched"
    assert found["probe.likelihood"].verdict == "reliably less likely than under white: pink, matched"
    assert found["baselines.kid"].verdict == "reliably: cepstral AR worse, heat dissipation worse"


@pytest.mark.parametrize("run", ["protocol_run", "debug_run"])
def test_no_table_longer_than_20_rows_is_unfolded(run, request):
    page = _parsed(request.getfixturevalue(run) / "report.html")
    long = [rows for rows, folded in page.tables if rows - 1 > FOLD_ROWS]
    assert long and all(folded for rows, folded in page.tables if rows - 1 > FOLD_ROWS)


def test_every_family_shows_its_size_seeds_and_smallest_attainable_p(protocol_run):
    text = (protocol_run / "report.html").read_text()
    families = re.findall(r"<p class='family'>(.*?)(?: <span|</p>)", text)
    assert [re.sub(r" \(.*?\):|:", ":", f.split(";")[0], count=1) for f in families] == [
        "Primary family: 2 tests on 7 seeds", "Secondary family: 148 tests on 3–7 seeds",
        "Band swap, primary family: 3 tests on 7 seeds", "Band swap, secondary family: 6 tests on 7 seeds",
        "Likelihoods against white: 2 tests on 7 seeds", "Primary family: 2 tests on 7 seeds",
        "Secondary family: 46 tests on 7 seeds"]
    reach = [re.search(r"can reach is ([\d.]+) \((\d+) · 2 / 2\^(\d+)", f).groups() for f in families]
    assert [float(p) for p, _, _ in reach] == pytest.approx([0.031, 1.0, 0.047, 0.094, 0.031, 0.031, 0.719], abs=5e-4)
    assert [(p > 0.05) == ("cannot decide with 7 seeds" in f) for (p, f) in
            zip([float(p) for p, _, _ in reach], families)] == [True] * len(families)


def _family_tables(text: str) -> list[tuple[str, str]]:
    """(family line, the table after it) of every family on the page."""
    return re.findall(r"<p class='family'>(.*?)</p>(?:<details><summary>[^<]*</summary>)?(<table>.*?</table>)", text)


def test_no_verdict_is_printed_for_a_test_that_could_not_reject(protocol_run, debug_run):
    for run in (protocol_run, debug_run):
        for line, table in _family_tables((run / "report.html").read_text()):
            decides = "cannot decide" not in line
            assert ("<th>verdict</th>" in table) == decides and ("reliable" in table) <= decides
    text = (debug_run / "report.html").read_text()  # 2 seeds: no family can reach 0.05
    assert "no reliable difference" not in text and "reliably" not in text
    assert text.count("cannot decide with 2 seeds") >= 8


def test_an_interval_that_disagrees_with_its_test_is_explained(protocol_run):
    text = html.unescape((protocol_run / "report.html").read_text())
    assert re.search(r"\d+ of its 148 intervals exclude 0 while the test does not reject: the interval resamples the "
                     r"seeds' paired differences \(bootstrap\), which excludes 0 whenever they agree in sign, whereas "
                     r"the test is exact over the 7 seeds' means; with 7 seeds it cannot go below 2 / 2\^7 before "
                     r"Holm's factor of 148", text)
    assert re.search(r"6 of its 6 intervals exclude 0 while the test does not reject: the interval resamples the seeds "
                     r"and the trajectory pairs within them \(two-level bootstrap\)", text)


def test_figures_lead_their_sections(debug_run):
    text = (debug_run / "report.html").read_text()
    for anchor in ("analysis", "compare", "curve", "probe", "baselines"):
        start = text.index(f'<h2 id="{anchor}">')
        section = text[start:text.find("<h2 ", start + 1)]
        assert section.index("<img") < section.index("<table"), anchor
