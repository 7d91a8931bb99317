"""The READMEs' result sections are generated from the committed result files (issue 23): a block that differs from
what ``audiospec report --markdown`` makes of its JSON fails here, so a typed-in number cannot drift."""

from __future__ import annotations

from pathlib import Path

import pytest
from typer.testing import CliRunner

from audiospec.cli import app
from audiospec.report.markdown import BLOCK, update_readme

ROOT = Path(__file__).resolve().parents[2]
READMES = [ROOT / "README.md", ROOT / "recipes" / "README.md", ROOT / "recipes" / "mini" / "README.md"]
runner = CliRunner()


@pytest.mark.parametrize("readme", READMES, ids=lambda p: str(p.relative_to(ROOT)))
def test_every_generated_block_is_up_to_date(readme):
    assert len(BLOCK.findall(readme.read_text())) >= 2
    assert update_readme(readme, check=True) == [], "run: audiospec report --markdown " + str(readme.relative_to(ROOT))


def test_a_typed_in_number_is_caught_and_the_command_fixes_it(tmp_path):
    source = ROOT / "recipes" / "mini" / "README.md"
    (tmp_path / "results").symlink_to(source.parent / "results")
    copy = tmp_path / "README.md"
    text = source.read_text()
    table = text.index("| pink + whitened loss")
    copy.write_text(text[:table] + text[table:].replace("0.75", "0.73", 1))  # a number typed over
    stale = runner.invoke(app, ["report", "--markdown", str(copy), "--check"])
    assert stale.exit_code == 2 and "compare.kid" in stale.output, stale.output
    fixed = runner.invoke(app, ["report", "--markdown", str(copy)])
    assert fixed.exit_code == 0 and copy.read_text() == text, fixed.output


def test_a_block_naming_a_missing_file_or_kind_is_a_clean_error(tmp_path):
    readme = tmp_path / "README.md"
    readme.write_text("<!-- generated: compare.kid results/none.json --><!-- end generated -->\n")
    result = runner.invoke(app, ["report", "--markdown", str(readme)])
    assert result.exit_code == 2 and "not a file beside it" in result.output
    (tmp_path / "r.json").write_text("{}")
    readme.write_text("<!-- generated: compare.nothing r.json --><!-- end generated -->\n")
    result = runner.invoke(app, ["report", "--markdown", str(readme)])
    assert result.exit_code == 2 and "unknown README block 'compare.nothing'" in result.output
