"""Atomic writes: complete files or the old content, never a half-written file."""

import json
import math

import pytest
import torch

from audiospec.atomic import atomic_path, atomic_write_text, write_json
from audiospec.errors import AudiospecError


def test_write_json_serialises_tensors_and_nan_as_null(tmp_path):
    path = tmp_path / "deep" / "r.json"
    write_json(path, {"x": torch.tensor([1.0, 2.0]), "bad": math.nan, "nested": [math.inf, 1]})
    assert json.loads(path.read_text()) == {"x": [1.0, 2.0], "bad": None, "nested": [None, 1]}


def test_failure_midway_keeps_the_previous_file_and_leaves_no_temp(tmp_path):
    path = tmp_path / "result.txt"
    atomic_write_text(path, "old")
    with pytest.raises(RuntimeError):
        with atomic_path(path) as tmp:
            tmp.write_text("half")
            raise RuntimeError("crash while writing")
    assert path.read_text() == "old"
    assert [p.name for p in tmp_path.iterdir()] == ["result.txt"]


def test_disk_full_gives_audiospec_error_and_keeps_old_content(tmp_path, monkeypatch):
    path = tmp_path / "result.txt"
    atomic_write_text(path, "old")

    def full_disk(self, data):
        raise OSError(28, "No space left on device")

    monkeypatch.setattr("pathlib.Path.write_bytes", full_disk)
    with pytest.raises(AudiospecError, match="No space left on device.*unchanged"):
        atomic_write_text(path, "new")
    monkeypatch.undo()
    assert path.read_text() == "old"
    assert [p.name for p in tmp_path.iterdir()] == ["result.txt"]


def test_written_files_get_the_usual_permissions(tmp_path):
    import os
    import stat

    atomic_write_text(tmp_path / "r.txt", "x")
    mask = os.umask(0)
    os.umask(mask)
    assert stat.S_IMODE((tmp_path / "r.txt").stat().st_mode) == 0o666 & ~mask
