"""benchmarks/time_to_loss.py: time to a held-out loss, interpolated between checkpoints, on made-up curves."""

import json

import pytest

from benchmarks.time_to_loss import main, read_points, time_to


def _run(folder, rows):
    (folder / "points").mkdir(parents=True)
    for step, loss, seconds in rows:
        (folder / "points" / f"white-seed0-step{step}.json").write_text(
            json.dumps({"step": step, "heldout_loss": loss, "seconds": seconds}))
    return folder


def test_time_to_target_interpolates_between_the_bracketing_checkpoints(tmp_path):
    slow = read_points(_run(tmp_path / "slow", [(100, 0.8, 10.0), (200, 0.6, 10.0), (400, 0.5, 20.0)]))
    assert [p["cumulative_seconds"] for p in slow] == [10.0, 20.0, 40.0]
    assert time_to(slow, 0.5) == pytest.approx(40.0)
    assert time_to(slow, 0.7) == pytest.approx(15.0)  # halfway from 0.8 (10 s) to 0.6 (20 s)
    assert time_to(slow, 0.9) == pytest.approx(10.0)  # reached at the first checkpoint
    assert time_to(slow, 0.4) is None  # never reached


def test_the_comparison_file_names_each_runs_fraction_of_the_reference(tmp_path):
    _run(tmp_path / "a", [(100, 0.8, 10.0), (200, 0.5, 10.0)])
    _run(tmp_path / "b", [(100, 0.5, 4.0)])
    out = tmp_path / "cmp.json"
    assert main([str(tmp_path / "a"), str(tmp_path / "b"), "--out", str(out)]) == 0
    record = json.loads(out.read_text())
    assert record["target_heldout_loss"] == 0.5 and record["seconds_to_target"] == {"a": 20.0, "b": 4.0}
    assert record["fraction_of_reference"]["b"] == pytest.approx(0.2) and out.with_suffix(".png").is_file()
