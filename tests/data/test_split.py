"""split_corpus / source_groups / check_disjoint on synthetic corpora built in memory.

A clip's waveform is the constant ``i`` (its index in the corpus), so every clip can be
traced through the split; sources are ``"<root><label>/rec{k}.wav@{offset}s"``.
"""

from __future__ import annotations

import json
from collections import Counter
from pathlib import Path

import pytest
import torch

from audiospec.data.corpus import Corpus, SkippedFile
from audiospec.data.split import SPLIT_NAMES, check_disjoint, source_groups, split_corpus
from audiospec.errors import AudiospecError


def make_corpus(clips_per_recording: dict[str, list[int]], *, root: str = "", length: int = 4) -> Corpus:
    """Recording ``k`` of class ``label`` gives ``clips_per_recording[label][k]`` clips, 1 s apart."""
    labels, sources = [], []
    for label, counts in clips_per_recording.items():
        for k, count in enumerate(counts):
            for c in range(count):
                labels.append(label)
                sources.append(f"{root}{label}/rec{k}.wav@{c:.3f}s")
    N = len(labels)
    waveforms = torch.arange(N, dtype=torch.float32)[:, None].expand(N, length).contiguous()  # [N, L], clip i == i
    return Corpus(waveforms=waveforms, labels=labels, sources=sources, sample_rate=8000,
                  skipped=[SkippedFile(path="bad.wav", reason="silent: test")], source_rates={8000: 12})


def uniform(n_recordings: int = 6, clips: int = 3) -> Corpus:
    return make_corpus({"music": [clips] * n_recordings, "speech": [clips] * n_recordings})


def clip_ids(corpus: Corpus) -> list[int]:
    return [int(v) for v in corpus.waveforms[:, 0]]


def files(corpus: Corpus) -> set[str]:
    return {s.split("@")[0] for s in corpus.sources}


def test_splits_are_disjoint_by_recording_and_cover_every_clip_once():
    corpus = uniform()
    splits = split_corpus(corpus, seed=0)
    assert list(splits) == list(SPLIT_NAMES)
    ids = [i for split in splits.values() for i in clip_ids(split)]
    assert sorted(ids) == list(range(len(corpus)))  # every clip exactly once
    for name, split in splits.items():
        assert split.sources == [corpus.sources[i] for i in clip_ids(split)]  # clips travel with their labels
        assert split.labels == [corpus.labels[i] for i in clip_ids(split)]
        assert clip_ids(split) == sorted(clip_ids(split))  # corpus order kept
        assert set(split.labels) == {"music", "speech"}, name  # stratified: every class in every split
        assert split.skipped == corpus.skipped and split.source_rates == corpus.source_rates  # extra fields kept
    train, validation, test = (files(splits[s]) for s in SPLIT_NAMES)
    assert not (train & validation) and not (train & test) and not (validation & test)
    check_disjoint(splits)


def test_uniform_groups_meet_the_fractions_exactly():
    # 20 recordings x 3 clips = 60 clips per class: targets 0.7 * 60 = 42, 0.15 * 60 = 9, 9 (multiples of 3).
    splits = split_corpus(uniform(n_recordings=20), fractions=(0.7, 0.15, 0.15), seed=3)
    for label in ("music", "speech"):
        assert [Counter(splits[s].labels)[label] for s in SPLIT_NAMES] == [42, 9, 9]


@pytest.mark.parametrize("fractions", [(0.7, 0.15, 0.15), (0.8, 0.1, 0.1), (0.5, 0.3, 0.2)])
@pytest.mark.parametrize("seed", [0, 1, 2])
def test_fractions_are_met_within_one_recording(fractions, seed):
    # Unequal recordings (1 to 6 clips, 12 per class): each split's clip count per class is
    # within the largest recording (6 clips) of fraction * clips of that class.
    gen = torch.Generator().manual_seed(100 + seed)
    sizes = {label: torch.randint(1, 7, (12,), generator=gen).tolist() for label in ("music", "speech")}
    splits = split_corpus(make_corpus(sizes), fractions=fractions, seed=seed)
    for label, counts in sizes.items():
        for name, fraction in zip(SPLIT_NAMES, fractions):
            got = Counter(splits[name].labels)[label]
            assert abs(got - fraction * sum(counts)) <= max(counts), (label, name, got, fraction * sum(counts))
            assert got >= 1


def test_every_split_gets_a_recording_with_three_recordings_of_unequal_size():
    # 10 + 1 + 1 clips: the big recording goes to train and each small one to its own split.
    splits = split_corpus(make_corpus({"music": [10, 1, 1], "speech": [3, 3, 3]}), seed=0)
    assert [Counter(splits[s].labels)["music"] for s in SPLIT_NAMES] == [10, 1, 1]
    assert [Counter(splits[s].labels)["speech"] for s in SPLIT_NAMES] == [3, 3, 3]


def test_split_is_deterministic_for_a_seed_and_changes_with_the_seed():
    corpus = uniform(n_recordings=20)
    first = split_corpus(corpus, seed=7)
    again = split_corpus(corpus, seed=7)
    assert all(first[s].sources == again[s].sources for s in SPLIT_NAMES)
    other = split_corpus(corpus, seed=8)
    assert any(first[s].sources != other[s].sources for s in SPLIT_NAMES)


def test_split_does_not_depend_on_clip_order():
    corpus = uniform(n_recordings=10)
    order = torch.randperm(len(corpus), generator=torch.Generator().manual_seed(0)).tolist()
    shuffled = Corpus(waveforms=corpus.waveforms[order], labels=[corpus.labels[i] for i in order],
                      sources=[corpus.sources[i] for i in order], sample_rate=corpus.sample_rate)
    a, b = split_corpus(corpus, seed=1), split_corpus(shuffled, seed=1)
    assert all(files(a[s]) == files(b[s]) for s in SPLIT_NAMES)


def test_source_groups_default_is_the_file_part_of_the_source():
    corpus = make_corpus({"music": [2, 1]}, root="/data/x@y/")  # '@' inside a path: the last one separates
    assert source_groups(corpus) == ["/data/x@y/music/rec0.wav"] * 2 + ["/data/x@y/music/rec1.wav"]


def write_mini(folder: Path) -> Corpus:
    """A mini-style corpus: 6 music cut files from 3 tracks (2 each), 3 speech files of 2 utterances each."""
    tracks = ["/usr/share/music/a.ogg", "/usr/share/music/b.ogg", "/usr/share/music/c.ogg"]
    entries = [{"file": f"music/{i:03d}.wav", "label": "music",
                "sources": [{"file": tracks[i // 2], "offset": 5.0 + 6 * (i % 2), "duration": 6.0}]}
               for i in range(6)]
    entries += [{"file": f"speech/{i:03d}.wav", "label": "speech",
                 "sources": [{"file": f"/usr/share/speech/lvl{i}/cs/{u}.ogg", "offset": 0.0, "duration": 2.0}
                             for u in ("x", "y")]}
                for i in range(3)]
    folder.mkdir(parents=True, exist_ok=True)
    (folder / "manifest.json").write_text(json.dumps({"name": "audiospec-mini", "clips": entries}))
    labels = [e["label"] for e in entries]
    sources = [f"{folder / e['file']}@0.000s" for e in entries]
    return Corpus(waveforms=torch.arange(len(entries), dtype=torch.float32)[:, None].repeat(1, 4),
                  labels=labels, sources=sources, sample_rate=8000)


def test_mini_manifest_groups_cut_files_of_one_original_track(tmp_path):
    corpus = write_mini(tmp_path / "mini")
    groups = source_groups(corpus)  # manifest.json found in the common parent folder
    assert groups[:6] == [f"/usr/share/music/{t}.ogg" for t in "aabbcc"]  # 2 cut files per track, one group
    assert groups[6:] == [f"/usr/share/speech/lvl{i}/cs/x.ogg" for i in range(3)]  # each speech file its own group
    assert source_groups(corpus, manifest=tmp_path / "mini" / "manifest.json") == groups
    music_only = Corpus(waveforms=corpus.waveforms[:6], labels=corpus.labels[:6], sources=corpus.sources[:6],
                        sample_rate=8000)
    assert source_groups(music_only) == groups[:6]  # common parent mini/music: manifest found one folder up
    splits = split_corpus(corpus, seed=0)
    for split in splits.values():  # the two cut files of each track land together
        assert Counter(g for g in source_groups(split) if g.startswith("/usr/share/music")).most_common()[0][1] == 2
    check_disjoint(splits)


def test_mini_manifest_catches_a_leak_that_file_groups_miss(tmp_path):
    corpus = write_mini(tmp_path / "mini")
    splits = {"train": _pick(corpus, [0, 2, 4, 6]), "validation": _pick(corpus, [7]), "test": _pick(corpus, [1, 8])}
    file_groups = {name: [s.split("@")[0] for s in split.sources] for name, split in splits.items()}
    check_disjoint(splits, groups=file_groups)  # music/000.wav and music/001.wav are different files...
    with pytest.raises(AudiospecError, match=r"1 recording\(s\) have clips in two splits.*'/usr/share/music/a\.ogg' "
                                             r"in 'train' and 'test'"):
        check_disjoint(splits)  # ...but both are cut from a.ogg


def _pick(corpus: Corpus, keep: list[int]) -> Corpus:
    return Corpus(waveforms=corpus.waveforms[keep], labels=[corpus.labels[i] for i in keep],
                  sources=[corpus.sources[i] for i in keep], sample_rate=corpus.sample_rate)


def test_unrelated_manifest_is_ignored_and_bad_mini_manifest_is_an_error(tmp_path):
    corpus = make_corpus({"music": [1, 1, 1]}, root=f"{tmp_path}/data/")
    (tmp_path / "data").mkdir()
    (tmp_path / "data" / "manifest.json").write_text(json.dumps({"files": []}))  # not a mini manifest
    assert source_groups(corpus) == [s.split("@")[0] for s in corpus.sources]
    with pytest.raises(AudiospecError, match=r"is not a prepared corpus manifest \(no 'clips' list\)"):
        source_groups(corpus, manifest=tmp_path / "data" / "manifest.json")
    mini = write_mini(tmp_path / "mini")
    with pytest.raises(AudiospecError, match=r"3 clip file\(s\) are not listed in the corpus manifest"):
        source_groups(corpus, manifest=tmp_path / "mini" / "manifest.json")
    (tmp_path / "mini" / "manifest.json").write_text(json.dumps({"name": "audiospec-mini", "clips": [{"file": "a"}]}))
    with pytest.raises(AudiospecError, match=r"clips\[0\] = .* lacks 'file' or 'sources\[\]\.file'"):
        source_groups(mini)


def test_split_file_overrides_the_named_recordings(tmp_path):
    corpus = uniform(n_recordings=8)
    free = split_corpus(corpus, seed=0)
    moved = sorted(files(free["train"]))[:2]  # two recordings the seed put in train
    split_file = tmp_path / "official.csv"
    split_file.write_text(f"file,split\n# official split\n\n{moved[0]},test\n{Path(moved[1]).parent.name}/"
                          f"{Path(moved[1]).name}, validation\nspeech/rec0.wav,train\n")
    splits = split_corpus(corpus, seed=0, split_file=split_file)
    assert moved[0] in files(splits["test"]) and moved[1] in files(splits["validation"])
    assert "speech/rec0.wav" in files(splits["train"])
    assert sorted(i for s in splits.values() for i in clip_ids(s)) == list(range(len(corpus)))
    check_disjoint(splits)


def test_split_file_may_name_group_keys(tmp_path):
    corpus = uniform()
    groups = [f"speaker-{s.split('@')[0]}" for s in corpus.sources]  # custom keys, not paths
    split_file = tmp_path / "split.txt"
    split_file.write_text("speaker-music/rec5.wav,validation\n")
    splits = split_corpus(corpus, seed=0, groups=groups, split_file=split_file)
    assert "music/rec5.wav" in files(splits["validation"])
    check_disjoint(splits, groups={n: [f"speaker-{s.split('@')[0]}" for s in c.sources] for n, c in splits.items()})


@pytest.mark.parametrize(("lines", "match"), [
    ("music/rec0.wav,test\nmusic/rec1.wav,val\n",
     r"split\.csv:2: unknown split 'val'.*\['train', 'validation', 'test'\]"),
    ("music/rec0.wav,test\n\nnope.wav,test\n", r"split\.csv:3: 'nope\.wav' is neither a file nor a recording"),
    ("music/rec0.wav test\n", r"split\.csv:1: expected '<file or group>,<split>'"),
    (",test\n", r"split\.csv:1: expected '<file or group>,<split>'"),
    ("rec0.wav,test\n", r"split\.csv:1: 'rec0\.wav' matches 2 recordings.*write more of its path"),
    ("music/rec0.wav,test\nmusic/rec0.wav,train\n",
     r"split\.csv:2: .* in 'train', but line 1 put it in 'test'; a recording goes to one split"),
    ("".join(f"music/rec{k}.wav,train\n" for k in range(5)) + "music/rec5.wav,test\n",
     r"leaves no recording of class 'music' for \['validation'\]"),
])
def test_bad_split_file_lines_are_errors_naming_the_line(tmp_path, lines, match):
    split_file = tmp_path / "split.csv"
    split_file.write_text(lines)
    with pytest.raises(AudiospecError, match=match):
        split_corpus(uniform(), split_file=split_file)


def test_missing_split_file_is_an_error(tmp_path):
    with pytest.raises(AudiospecError, match=r"could not read split_file .*missing\.csv"):
        split_corpus(uniform(), split_file=tmp_path / "missing.csv")


def test_too_few_recordings_is_an_error():
    corpus = make_corpus({"music": [3, 3, 3], "speech": [9, 9]})  # 18 speech clips, but from 2 recordings
    with pytest.raises(AudiospecError, match=r"class 'speech' has clips from 2 recording\(s\).*needs at least 3 "
                                             r"recordings per class"):
        split_corpus(corpus)


@pytest.mark.parametrize(("fractions", "match"), [
    ((0.5, 0.5, 0.5), r"positive and sum to 1, got \(0\.5, 0\.5, 0\.5\) \(sum 1\.5\)"),
    ((1.0, 0.0, 0.0), r"positive and sum to 1, got \(1\.0, 0\.0, 0\.0\)"),
    ((1.2, -0.1, -0.1), r"positive and sum to 1"),
    ((0.5, 0.5), r"three numbers \(train, validation, test\), got \(0\.5, 0\.5\)"),
    ((0.8, 0.1, True), r"three numbers"),
    (0.7, r"three numbers"),
])
def test_bad_fractions_are_errors(fractions, match):
    with pytest.raises(AudiospecError, match=match):
        split_corpus(uniform(), fractions=fractions)


def test_other_bad_arguments_are_errors():
    corpus = uniform()
    with pytest.raises(AudiospecError, match=r"seed must be an integer, got 0\.5"):
        split_corpus(corpus, seed=0.5)
    with pytest.raises(AudiospecError, match=r"groups has 3 keys for a corpus of 36 clips"):
        split_corpus(corpus, groups=["a", "b", "c"])
    with pytest.raises(AudiospecError, match=r"recording 'same' has clips labelled 'music' and 'speech'"):
        split_corpus(corpus, groups=["same"] * len(corpus))
    with pytest.raises(AudiospecError, match=r"corpus must be a Corpus, got dict"):
        split_corpus({})
    with pytest.raises(AudiospecError, match=r"groups\['train'\] has 1 keys for 36 clips"):
        check_disjoint({"train": corpus}, groups={"train": ["a"]})
