"""Time to quality: wall-clock to a held-out loss, from `audiospec curve` runs made on the same machine.

    python -m benchmarks.time_to_loss runs/curve-before runs/curve-after --labels before after \
        --out recipes/mini/results/compute-optimal-cpu-amd-epyc.json

Each run folder holds ``points/*.json`` (one per checkpoint: held-out loss on the validation
split with fixed draws, and the training seconds of the steps that call ran). For every run the
training time to each checkpoint is the cumulative sum of those seconds; the time to reach a
target loss is interpolated between the two checkpoints that bracket it, linearly in the loss
(a run that never reaches it has none). The target defaults to the first run's final held-out
loss (the reference configuration at its full budget). The runs are meant to be made side by
side (same load, same machine), which keeps the ratio fair when other work shares the CPU; the
JSON records the machine and the per-checkpoint numbers, the PNG shows loss against seconds.
"""

from __future__ import annotations

import argparse
import json
from pathlib import Path

import matplotlib

matplotlib.use("Agg")
import matplotlib.pyplot as plt  # noqa: E402

from benchmarks.__main__ import cpu_model  # noqa: E402


def read_points(run: Path) -> list[dict]:
    """The run's checkpoints sorted by step, each with the cumulative training seconds up to it."""
    points = sorted((json.loads(p.read_text()) for p in (run / "points").glob("*.json")), key=lambda p: p["step"])
    if not points:
        raise SystemExit(f"no points in {run / 'points'}: run `audiospec curve` there first")
    total = 0.0
    for point in points:
        total += point["seconds"]
        point["cumulative_seconds"] = total
    return points


def time_to(points: list[dict], target: float) -> float | None:
    """Training seconds at which the held-out loss first reaches ``target`` (linear between checkpoints)."""
    previous = {"heldout_loss": float("inf"), "cumulative_seconds": 0.0}
    for point in points:
        if point["heldout_loss"] <= target:
            if previous["heldout_loss"] == float("inf"):
                return point["cumulative_seconds"]
            span = previous["heldout_loss"] - point["heldout_loss"]
            frac = (previous["heldout_loss"] - target) / span if span > 0 else 1.0
            return previous["cumulative_seconds"] + frac * (point["cumulative_seconds"] - previous["cumulative_seconds"])
        previous = point
    return None


def main(argv: list[str] | None = None) -> int:
    parser = argparse.ArgumentParser(prog="python -m benchmarks.time_to_loss", description=__doc__.splitlines()[0])
    parser.add_argument("runs", nargs="+", type=Path, help="audiospec curve output folders (the first is the reference)")
    parser.add_argument("--labels", nargs="+", help="one label per run (default: folder names)")
    parser.add_argument("--target", type=float, help="held-out loss to reach (default: the first run's final one)")
    parser.add_argument("--out", type=Path, required=True, help="JSON path; the plot is written beside it (.png)")
    args = parser.parse_args(argv)
    labels = args.labels or [run.name for run in args.runs]
    if len(labels) != len(args.runs):
        parser.error("give one label per run")
    curves = {label: read_points(run) for label, run in zip(labels, args.runs)}
    reference = labels[0]
    target = args.target if args.target is not None else curves[reference][-1]["heldout_loss"]
    times = {label: time_to(points, target) for label, points in curves.items()}
    base = times[reference]
    record = {"cpu_model": cpu_model(), "target_heldout_loss": target, "reference": reference,
              "seconds_to_target": times,
              "fraction_of_reference": {k: (v / base if v is not None and base else None) for k, v in times.items()},
              "curves": {k: [{key: p[key] for key in ("step", "heldout_loss", "seconds", "cumulative_seconds")}
                             for p in v] for k, v in curves.items()}}
    args.out.parent.mkdir(parents=True, exist_ok=True)
    args.out.write_text(json.dumps(record, indent=2) + "\n")
    fig, ax = plt.subplots(figsize=(6, 4))
    for label, points in curves.items():
        ax.plot([p["cumulative_seconds"] for p in points], [p["heldout_loss"] for p in points], "o-", label=label)
    ax.axhline(target, color="grey", linestyle=":", label=f"target {target:.4f} ({reference}'s final)")
    ax.set_xlabel("training wall-clock (s)")
    ax.set_ylabel("held-out flow-matching loss (validation)")
    ax.set_title(f"time to quality on {record['cpu_model']}")
    ax.legend(fontsize=8)
    fig.tight_layout()
    fig.savefig(args.out.with_suffix(".png"), dpi=110)
    for label in labels:
        frac = record["fraction_of_reference"][label]
        print(f"{label}: {times[label] if times[label] is not None else 'never'} s to {target:.4f}"
              + (f" ({frac:.2f} of {reference})" if frac is not None else ""))
    return 0


if __name__ == "__main__":
    raise SystemExit(main())
