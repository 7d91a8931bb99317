"""A section another module registers slots into the page without a change to the report's code (issue 26): its
answers join the answers at the top in run order, its section follows in run order, and a section without answers
is only below. Two run folders side by side (``audiospec report RUN_A RUN_B``) match their answers by question.
The run folders are conftest.py's (the 2-seed debug pipeline and the committed 7-seed protocol); the registries are
restored afterwards."""

from __future__ import annotations

import re
import shutil
from dataclasses import dataclass
from html.parser import HTMLParser
from pathlib import Path

import matplotlib

matplotlib.use("Agg")
import matplotlib.pyplot as plt
import pytest
from typer.testing import CliRunner

import audiospec.cli as cli
import audiospec.experiments.stage as stage_registry
import audiospec.report.sections as section_registry
from audiospec.atomic import write_json
from audiospec.experiments.stage import Stage, register, stages
from audiospec.report.build import build_report, run_answers
from audiospec.report.sections import Answer, Section, register_section

runner = CliRunner()


@dataclass(frozen=True)
class LoudnessResult:
    louder: str
    margin_db: float


@dataclass(frozen=True)
class LoudnessConfig:
    data: object = None


def _never_run(config, context):
    raise AssertionError("the report only reads the result file")


def _draw(result: LoudnessResult, folder: Path) -> list[str]:
    fig, ax = plt.subplots(figsize=(3, 2))
    ax.bar(["white", "pink"], [0.0, result.margin_db])
    fig.savefig(folder / "loudness.png")
    plt.close(fig)
    return ["loudness.png"]


def _answers(result: LoudnessResult, folder: Path) -> list[Answer]:
    return [Answer(key="loudness.prior", question="Which prior is louder?", figure="loudness.png",
                   line=f"{result.louder} by {result.margin_db:.1f} dB.", verdict=f"{result.louder} is louder")]


LOUDNESS = Stage(name="loudness", config=LoudnessConfig, result=LoudnessResult, output="loudness.json",
                 run=_never_run, order=33, summary="A registered stage with answers.")
QUIET = Stage(name="quiet", config=LoudnessConfig, result=LoudnessResult, output="quiet.json", run=_never_run,
              order=45, summary="A registered stage without answers.")
LOUDNESS_SECTION = Section(stage="loudness", figures=_draw, figure_names=("loudness.png",), answer=_answers,
                           html=lambda result, folder: f"<h2 id='loudness'>Loudness</h2><p>{result.margin_db} dB</p>")
QUIET_SECTION = Section(stage="quiet", html=lambda result, folder: "<h2 id='quiet'>Quiet</h2><p>no answer</p>")


@pytest.fixture
def extra_sections(monkeypatch):
    """The two stages and their sections registered for this test only."""
    stages()
    section_registry.section_for("compare")  # the library's sections first
    monkeypatch.setattr(stage_registry, "_STAGES", dict(stage_registry._STAGES))
    monkeypatch.setattr(cli.app, "registered_commands", list(cli.app.registered_commands))
    monkeypatch.setattr(section_registry, "_SECTIONS", dict(section_registry._SECTIONS))
    for stage, section in ((LOUDNESS, LOUDNESS_SECTION), (QUIET, QUIET_SECTION)):
        register(stage)
        register_section(section)


@pytest.fixture
def loud_run(debug_run, tmp_path, extra_sections):
    """The debug run with the two stages' results added."""
    run = tmp_path / "loud"
    shutil.copytree(debug_run, run)
    for stage, margin in ((LOUDNESS, 3.25), (QUIET, 1.0)):
        (run / stage.name).mkdir()
        write_json(run / stage.name / stage.output, {"louder": "pink", "margin_db": margin})
    return run


class _Cards(HTMLParser):
    """The section anchors in order and the answer cards' keys in order."""

    def __init__(self) -> None:
        super().__init__()
        self.anchors: list[str] = []
        self.keys: list[str] = []

    def handle_starttag(self, tag, attrs):
        attrs = dict(attrs)
        if tag == "h2" and "id" in attrs:
            self.anchors.append(attrs["id"])
        elif tag == "div" and "data-key" in attrs:
            self.keys.append(attrs["data-key"])


def _read(page: Path) -> _Cards:
    cards = _Cards()
    cards.feed(page.read_text())
    return cards


def test_a_registered_section_slots_into_the_answers_and_the_page_in_run_order(loud_run):
    page = _read(build_report(loud_run))
    # compare (order 30) < loudness (33) < curve (35) < probe (40) < quiet (45) < baselines (50)
    assert page.anchors == ["answers", "analysis", "compare", "loudness", "curve", "probe", "quiet", "baselines"]
    assert page.keys == ["analysis.spectrum", "compare.order", "compare.priors", "compare.arms", "loudness.prior",
                         "curve.plateau", "probe.swap", "probe.likelihood", "baselines.kid"]
    text = (loud_run / "report.html").read_text()
    card = re.search(r"<div class='answer' data-key='loudness.prior'>(.*?)</div>", text).group(1)
    assert '<img src="data:image/png;base64,' in card and "pink by 3.2 dB." in card and "pink is louder" in card
    assert (loud_run / "loudness" / "loudness.png").is_file()
    assert "no answer" in text and "quiet" not in "".join(page.keys)


def test_two_runs_side_by_side_from_the_command_line(loud_run, protocol_run, tmp_path):
    out = tmp_path / "side.html"
    result = runner.invoke(cli.app, ["report", str(loud_run), str(protocol_run), "--out", str(out)])
    assert result.exit_code == 0 and f"report: {out}" in result.output, result.output
    text = out.read_text()
    head = re.search(r"<table class='side'><tr>(.*?)</tr>", text).group(1)
    assert head == "<th>loud</th><th>protocol</th>"
    rows = re.findall(r"<tr><th colspan='2'>(.*?)</th></tr><tr>(<td.*?</td>)(<td.*?</td>)</tr>", text)
    questions = {q: (a, b) for q, a, b in rows}
    assert len(rows) == 9  # the first run's questions; the protocol answers no question the debug run does not
    both = [q for q, (a, b) in questions.items() if "not in this run" not in a + b]
    assert both == [f.answer.question for f in run_answers(protocol_run)]
    assert "not in this run" in questions["Which prior is louder?"][1]
    priors = questions[next(f.answer.question for f in run_answers(protocol_run) if f.answer.key == "compare.priors")]
    assert "white 0.47, pink 0.19, matched 0.47" in priors[1] and "white 0.47" not in priors[0]
    assert all('<img src="data:image/png;base64,' in a for a, _ in questions.values())


def test_the_side_by_side_page_goes_beside_the_first_run_by_default(debug_run, protocol_run):
    result = runner.invoke(cli.app, ["report", str(debug_run), str(protocol_run)])
    default = debug_run.resolve().parent / "debug-vs-protocol.html"
    assert result.exit_code == 0 and default.is_file(), result.output
    assert "<title>audiospec: debug vs protocol</title>" in default.read_text()


@pytest.mark.parametrize("args, message", [
    (["{debug}", "{debug}/nowhere"], "run folder '{debug}/nowhere' does not exist"),
    (["{debug}", "--out", "x.html"], "--out 'x.html' is for two or more run folders"),
])
def test_the_command_names_what_is_wrong(debug_run, args, message):
    result = runner.invoke(cli.app, ["report", *[a.format(debug=debug_run) for a in args]])
    assert result.exit_code != 0 and message.format(debug=debug_run) in result.output, result.output
