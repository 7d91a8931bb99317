"""The metric classifier: learns an easy problem, is deterministic, round-trips through disk, rejects bad input."""

from __future__ import annotations

import dataclasses
import json
import math

import pytest
import torch
from helpers_metrics import SMALL_CONFIG, two_class_patches

from audiospec.errors import AudiospecError
from audiospec.metrics import ClassifierConfig, MelClassifier, TrainedClassifier, stratified_split, train_classifier


def test_learns_pink_vs_brown_fields_above_90_percent(trained):
    """1/f^0.5 vs 1/f^2.5 fields are easy: held-out accuracy must exceed 0.9."""
    assert trained.classes == ("rough", "smooth")
    assert trained.report.n_val == 20 and trained.report.n_train == 60  # 25% of each class held out
    assert trained.report.val_accuracy > 0.9
    assert len(trained.report.epoch_loss) == SMALL_CONFIG.epochs
    fresh, labels = two_class_patches(30, seed=123)  # new draws, never seen in training
    predicted = [trained.classes[i] for i in trained.predict_proba(fresh).argmax(-1).tolist()]
    assert sum(p == t for p, t in zip(predicted, labels)) / len(labels) > 0.9


def test_embeddings_and_probabilities_shapes_and_batch_consistency(trained, two_class_data):
    patches, _ = two_class_data
    emb = trained.embed(patches)
    proba = trained.predict_proba(patches[:, 0])  # [N, M, T] accepted too
    assert emb.shape == (80, SMALL_CONFIG.embedding_dim) and proba.shape == (80, 2)
    torch.testing.assert_close(proba.sum(-1), torch.ones(80))
    torch.testing.assert_close(trained.embed(patches, batch_size=7), emb, rtol=1e-5, atol=1e-6)
    # GroupNorm: an example's embedding does not depend on the rest of its batch
    torch.testing.assert_close(trained.embed(patches[5:6]), emb[5:6], rtol=1e-5, atol=1e-6)


def test_same_seed_gives_identical_weights_and_another_seed_does_not(trained, two_class_data):
    patches, labels = two_class_data
    again = train_classifier(patches, labels, config=SMALL_CONFIG, progress=False)
    for (name, a), b in zip(trained.model.state_dict().items(), again.model.state_dict().values()):
        assert torch.equal(a, b), name
    other = MelClassifier(n_classes=2, config=SMALL_CONFIG, generator=torch.Generator().manual_seed(1))
    first = MelClassifier(n_classes=2, config=SMALL_CONFIG, generator=torch.Generator().manual_seed(0))
    assert not torch.equal(other.head.weight, first.head.weight)


def test_save_load_round_trip_gives_identical_embeddings(trained, two_class_data, tmp_path):
    patches, _ = two_class_data
    folder = trained.save(tmp_path / "clf")
    assert sorted(p.name for p in folder.iterdir()) == ["classifier.json", "classifier.safetensors"]
    meta = json.loads((folder / "classifier.json").read_text())
    assert meta["classes"] == ["rough", "smooth"] and meta["config"]["channels"] == [8, 16, 32]
    loaded = TrainedClassifier.load(folder)
    assert loaded.classes == trained.classes and loaded.config == trained.config
    assert loaded.report == trained.report
    assert torch.equal(loaded.embed(patches), trained.embed(patches))
    assert torch.equal(loaded.predict_proba(patches), trained.predict_proba(patches))


def test_load_rejects_missing_or_tampered_files(trained, tmp_path):
    with pytest.raises(AudiospecError, match="is not a saved classifier"):
        TrainedClassifier.load(tmp_path / "nothing")
    folder = trained.save(tmp_path / "clf")
    blob = (folder / "classifier.safetensors").read_bytes()
    (folder / "classifier.safetensors").write_bytes(blob[:-4] + b"\x00\x00\x00\x00")
    with pytest.raises(AudiospecError, match="does not match the SHA-256"):
        TrainedClassifier.load(folder)
    (folder / "classifier.json").write_text(json.dumps({"format": "something/else"}))
    with pytest.raises(AudiospecError, match="has format 'something/else'"):
        TrainedClassifier.load(folder)


def test_stratified_split_holds_out_each_class_and_keeps_groups_together():
    labels = ["a"] * 8 + ["b"] * 4
    train, val = stratified_split(labels, val_fraction=0.25, generator=torch.Generator().manual_seed(0))
    assert sorted(train.tolist() + val.tolist()) == list(range(12))
    assert [labels[i] for i in val.tolist()].count("a") == 2 and [labels[i] for i in val.tolist()].count("b") == 1
    groups = ["clip0", "clip0", "clip1", "clip1", "clip2", "clip2", "clip3", "clip3", "s0", "s1", "s2", "s3"]
    train, val = stratified_split(labels, val_fraction=0.25, groups=groups, generator=torch.Generator().manual_seed(0))
    held = {groups[i] for i in val.tolist()}
    assert not held & {groups[i] for i in train.tolist()}
    assert sum(g.startswith("clip") for g in held) == 1  # round(0.25 * 4 clips) = 1 whole clip


def test_validation_can_be_switched_off(two_class_data, tmp_path):
    patches, labels = two_class_data
    config = dataclasses.replace(SMALL_CONFIG, val_fraction=0.0, epochs=1)
    clf = train_classifier(patches[::4], labels[::4], config=config, progress=False)
    assert clf.report.n_val == 0 and math.isnan(clf.report.val_accuracy)
    loaded = TrainedClassifier.load(clf.save(tmp_path / "clf"))  # NaN is stored as null and read back as NaN
    assert math.isnan(loaded.report.val_accuracy) and loaded.report.n_val == 0


GOOD = torch.zeros(4, 1, 16, 16)


@pytest.mark.parametrize(
    ("patches", "labels", "match"),
    [
        (torch.zeros(4, 2, 16, 16), ["a", "a", "b", "b"], r"patches must be .*got shape \(4, 2, 16, 16\)"),
        (torch.zeros(4, 16), ["a", "a", "b", "b"], r"got shape \(4, 16\)"),
        (GOOD, ["a", "a", "b"], r"got 3 labels for 4 patches"),
        (GOOD, ["a", "a", "a", "a"], r"at least 2 classes, got \['a'\]"),
        (GOOD, "aabb", r"labels must be a list of class names, got str"),
        (GOOD, ["a", "b", "b", "b"], r"class 'a' has only 1 example"),
        (torch.zeros(4, 1, 4, 16), ["a", "a", "b", "b"], r"patches are 4 x 16; need at least 8 mel bands"),
        (torch.full((4, 1, 16, 16), math.nan), ["a", "a", "b", "b"], r"patches contains 1024 non-finite"),
    ],
)
def test_train_rejects_bad_input(patches, labels, match):
    with pytest.raises(AudiospecError, match=match):
        train_classifier(patches, labels, config=SMALL_CONFIG, progress=False)


@pytest.mark.parametrize(
    ("changes", "match"),
    [
        ({"channels": ()}, r"channels must be a non-empty tuple"),
        ({"channels": [8, 16]}, r"channels must be a non-empty tuple"),
        ({"epochs": 0}, r"epochs must be a positive int, got 0"),
        ({"lr": -1.0}, r"need lr > 0"),
        ({"val_fraction": 1.0}, r"val_fraction must lie in \[0, 1\), got 1.0"),
    ],
)
def test_config_rejects_bad_values(changes, match):
    with pytest.raises(AudiospecError, match=match):
        ClassifierConfig(**changes)


def test_embed_rejects_bad_input(trained):
    with pytest.raises(AudiospecError, match=r"patches contains 1 non-finite"):
        x = torch.zeros(2, 1, 32, 32)
        x[0, 0, 0, 0] = math.inf
        trained.embed(x)
    with pytest.raises(AudiospecError, match=r"patches are 4 x 32"):
        trained.predict_proba(torch.zeros(2, 1, 4, 32))
