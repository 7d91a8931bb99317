"""Run the audiospec speed benchmarks: ``python -m benchmarks [--quick] [--only NAME ...] [--out PATH]``.

Every module ``benchmarks/bench_*.py`` is discovered and run in this one process (same
machine, same inputs for ours and the peers); the table prints ratio vs target with
PASS / MISS, and a JSON record (results + machine, threads, versions, date) is written to
``benchmarks/results/cpu-<cpu model>-<date>.json`` unless ``--out`` says otherwise; each ratio
comes with the range its interquartile timings allow, and a run during which other processes
used the CPUs is flagged.
"""

from __future__ import annotations

import argparse
import datetime as dt
import importlib
import importlib.metadata
import json
import os
import pkgutil
import platform
import resource
import socket
import time
import sys
from pathlib import Path
from types import ModuleType

import torch

from benchmarks.common import Context, Result

RESULTS_DIR = Path(__file__).resolve().parent / "results"
PACKAGES = ["torch", "torchaudio", "numpy", "scipy", "librosa", "pysteps", "audiospec"]


def discover() -> dict[str, ModuleType]:
    """All ``bench_*`` modules of this package, keyed by their ``NAME``."""
    found = {}
    for info in sorted(pkgutil.iter_modules([str(Path(__file__).resolve().parent)]), key=lambda m: m.name):
        if info.name.startswith("bench_"):
            module = importlib.import_module(f"benchmarks.{info.name}")
            found[module.NAME] = module
    return found


def cpu_model() -> str:
    try:
        for line in Path("/proc/cpuinfo").read_text().splitlines():
            if line.startswith("model name"):
                return line.split(":", 1)[1].strip()
    except OSError:
        pass
    return platform.processor() or "unknown"


def versions() -> dict[str, str]:
    out = {"python": platform.python_version()}
    for name in PACKAGES:
        try:
            out[name] = importlib.metadata.version(name)
        except importlib.metadata.PackageNotFoundError:
            out[name] = "not installed"
    return out


def environment(quick: bool) -> dict:
    return {
        "date_utc": dt.datetime.now(dt.timezone.utc).isoformat(timespec="seconds"),
        "hostname": socket.gethostname(),
        "kind": "cpu",
        "cpu_model": cpu_model(),
        "logical_cpus": os.cpu_count(),
        "cpus_available": len(os.sched_getaffinity(0)) if hasattr(os, "sched_getaffinity") else None,
        "torch_threads": torch.get_num_threads(),
        "torch_interop_threads": torch.get_num_interop_threads(),
        "thread_env": {k: os.environ.get(k) for k in ("OMP_NUM_THREADS", "MKL_NUM_THREADS", "OMP_WAIT_POLICY")},
        "platform": platform.platform(),
        "versions": versions(),
        "quick": quick,
        "argv": sys.argv[1:],
    }


LOAD_WARNING = 0.5  # 1-minute load average above which another job is probably running


def load_average() -> list[float] | None:
    try:
        return list(os.getloadavg())
    except OSError:
        return None


def cpu_seconds() -> tuple[float, float] | None:
    """(busy CPU seconds of the whole machine from /proc/stat, CPU seconds of this process)."""
    try:
        fields = [int(v) for v in Path("/proc/stat").read_text().splitlines()[0].split()[1:]]
    except (OSError, ValueError):
        return None
    idle = fields[3] + (fields[4] if len(fields) > 4 else 0)  # idle + iowait
    machine = (sum(fields) - idle) / os.sysconf("SC_CLK_TCK")
    own = resource.getrusage(resource.RUSAGE_SELF)
    return machine, own.ru_utime + own.ru_stime


def format_table(results: list[Result]) -> str:
    header = ("benchmark", "case", "ours", "peer", "ours ms", "peer ms", "ratio [IQR]", "target", "status",
              "faults/call")
    rows = [header]
    for r in results:
        rows.append((
            r.benchmark, r.case, r.ours, r.peer,
            f"{r.ours_timing.median_s * 1e3:.2f}", f"{r.peer_timing.median_s * 1e3:.2f}",
            f"{r.ratio:.2f}x [{r.ratio_range[0]:.2f}, {r.ratio_range[1]:.2f}]", r.target_text(), r.status,
            f"{r.ours_timing.page_faults_per_call:.0f}",
        ))
    widths = [max(len(row[i]) for row in rows) for i in range(len(header))]
    lines = ["  ".join(cell.ljust(w) for cell, w in zip(row, widths)) for row in rows]
    lines.insert(1, "  ".join("-" * w for w in widths))
    return "\n".join(lines)


def default_out_path(env: dict) -> Path:
    """``cpu-<cpu model>-<date>.json``: results of different CPU kinds never overwrite each other."""
    model = "".join(c if c.isalnum() else "-" for c in env["cpu_model"].lower())
    model = "-".join(part for part in model.split("-") if part and part not in ("r", "tm", "processor", "cpu"))
    return RESULTS_DIR / f"cpu-{model}-{env['date_utc'][:10]}.json"


def main(argv: list[str] | None = None) -> int:
    parser = argparse.ArgumentParser(prog="python -m benchmarks", description=__doc__.splitlines()[0])
    parser.add_argument("--quick", action="store_true", help="small inputs and 3 repeats (a smoke run, ~10 s)")
    parser.add_argument("--only", nargs="+", metavar="NAME", help="run only these benchmarks (see --list)")
    parser.add_argument("--out", type=Path, help="JSON output path (default benchmarks/results/cpu-<cpu model>-<date>.json)")
    parser.add_argument("--threads", type=int, help="torch.set_num_threads before running (default: torch's choice)")
    parser.add_argument("--seed", type=int, default=0, help="seed of the synthetic inputs")
    parser.add_argument("--list", action="store_true", help="list the benchmarks and exit")
    parser.add_argument("--fail-on-miss", action="store_true", help="exit with status 1 if any target is missed")
    args = parser.parse_args(argv)

    benches = discover()
    if args.list:
        for name, module in benches.items():
            print(f"{name:12s} {module.DESCRIPTION}")
        return 0
    if args.only:
        unknown = sorted(set(args.only) - set(benches))
        if unknown:
            parser.error(f"unknown benchmark(s) {unknown}; choose from {sorted(benches)}")
        benches = {k: v for k, v in benches.items() if k in args.only}
    if args.threads is not None:
        if args.threads < 1:
            parser.error(f"--threads must be >= 1, got {args.threads}")
        torch.set_num_threads(args.threads)

    ctx = Context(quick=args.quick, seed=args.seed)
    env = environment(args.quick)
    env["loadavg_before"] = load_average()
    if env["loadavg_before"] and env["loadavg_before"][0] > LOAD_WARNING:
        print(f"WARNING: the 1-minute load average is {env['loadavg_before'][0]:.2f} before the run: another job is "
              "probably using the CPU and will distort every ratio; wait for it or run on an idle machine.")
    cpu_before, wall_before = cpu_seconds(), time.perf_counter()
    print(f"{env['cpu_model']} | {env['logical_cpus']} logical CPUs | torch {env['versions']['torch']} "
          f"with {env['torch_threads']} threads | {env['date_utc']}")
    results: list[Result] = []
    for name, module in benches.items():
        print(f"running {name}: {module.DESCRIPTION}", flush=True)
        results.extend(module.run(ctx))
    env["loadavg_after"] = load_average()
    cpu_after, wall = cpu_seconds(), time.perf_counter() - wall_before
    # CPU time other processes used while we ran, in CPUs (1.0 = one core fully taken)
    env["other_processes_cpus"] = (
        ((cpu_after[0] - cpu_before[0]) - (cpu_after[1] - cpu_before[1])) / wall if cpu_before and cpu_after else None
    )

    other = env["other_processes_cpus"]
    env["machine_busy"] = other is not None and other > 0.1
    print()
    print(format_table(results))
    if env["machine_busy"]:
        print(f"\nWARNING: other processes used {other:.2f} CPUs on average during this run; the ratios are "
              "unreliable (torch's OpenMP threads suffer most). Re-run on an idle machine.")
    out = args.out or default_out_path(env)
    out.parent.mkdir(parents=True, exist_ok=True)
    out.write_text(json.dumps({"environment": env, "results": [r.to_json() for r in results]}, indent=2) + "\n")
    print(f"\nwrote {out}")
    missed = [r for r in results if r.status == "MISS"]
    return 1 if (args.fail_on_miss and missed) else 0


if __name__ == "__main__":
    sys.exit(main())
