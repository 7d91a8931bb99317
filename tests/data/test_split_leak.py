"""A split that cannot leak (issue 22): a damaged or missing mini manifest is an error, never a silent fall-back
to one group per clip; clips joined from short files stay in one group; the grouping is on record."""

from __future__ import annotations

import json
import shutil
from pathlib import Path

import pytest
import torch
from test_split import make_corpus, write_mini

from audiospec.data import DataConfig, load_corpus
from audiospec.data.corpus import SOURCE_SEPARATOR, Corpus
from audiospec.data.split import check_disjoint, recording_groups, source_groups, split_corpus
from audiospec.errors import AudiospecError

MINI = Path(__file__).resolve().parents[2] / "data" / "mini"


def test_a_manifest_that_does_not_parse_is_an_error_not_a_fallback(tmp_path):
    corpus = write_mini(tmp_path / "mini")
    manifest = tmp_path / "mini" / "manifest.json"
    manifest.write_text(manifest.read_text()[:40])  # truncated
    with pytest.raises(AudiospecError, match=r"manifest.json' exists but cannot be read .*one recording in train and "
                                             r"test; re-create the corpus \(delete '.*mini', then `audiospec prepare"):
        source_groups(corpus)


def test_a_prepared_mini_corpus_without_its_manifest_is_an_error(tmp_path):
    corpus = write_mini(tmp_path / "mini")
    (tmp_path / "mini" / ".completed").write_text(json.dumps({"music_dir": "/m", "speech_dir": "/s"}))
    assert source_groups(corpus)[:2] == ["/usr/share/music/a.ogg"] * 2
    (tmp_path / "mini" / "manifest.json").unlink()
    with pytest.raises(AudiospecError, match=r"the prepared corpus in '.*mini' has no manifest.json: .*re-create"):
        split_corpus(corpus, seed=0)


def test_the_grouping_basis_is_recorded():
    corpus = make_corpus({"music": [2, 1, 1], "speech": [1, 1, 1]}, root="/x/")
    grouping = recording_groups(corpus)
    assert grouping.record() == {"basis": grouping.basis, "n_groups": 6}
    assert grouping.basis.startswith("one group per source file (no manifest")


def test_a_clip_joined_from_short_files_keeps_them_in_one_group():
    base = make_corpus({"speech": [1, 1, 1, 1]}, root="/x/")  # rec0 .. rec3
    joined = SOURCE_SEPARATOR.join(["/x/speech/rec0.wav@0.000s", "/x/speech/rec4.wav@0.000s"])
    corpus = Corpus(waveforms=torch.zeros(5, 4), labels=["speech"] * 5, sample_rate=8000,
                    sources=base.sources + [joined])
    keys = source_groups(corpus)
    assert keys[0] == keys[4] == "/x/speech/rec0.wav" and len(set(keys)) == 4  # rec0 and rec4 are one group
    splits = split_corpus(corpus, seed=0)
    check_disjoint(splits)
    home = [name for name, part in splits.items() if any("rec0.wav" in s for s in part.sources)]
    assert len(home) == 1


@pytest.mark.skipif(not (MINI / ".completed").is_file(), reason="the mini corpus is not prepared (make corpus)")
@pytest.mark.parametrize("damage", ["truncated", "deleted"])
def test_the_mini_corpus_with_a_damaged_manifest_cannot_be_split(tmp_path, damage):
    # the repro: the split fell back to one group per clip and elf-land.ogg landed in train and test
    copy = tmp_path / "data" / "mini"
    for label in ("music", "speech"):
        (copy / label).mkdir(parents=True)
        for wav in sorted((MINI / label).glob("*.wav"))[:12]:
            shutil.copyfile(wav, copy / label / wav.name)
    shutil.copyfile(MINI / ".completed", copy / ".completed")
    if damage == "truncated":
        (copy / "manifest.json").write_text((MINI / "manifest.json").read_text()[:500])
    corpus = load_corpus(DataConfig(dataset="mini", data_dir=str(tmp_path / "data")), progress=False)
    with pytest.raises(AudiospecError, match="could put one recording in train and test"):
        split_corpus(corpus, seed=0)
