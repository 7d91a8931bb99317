"""The small interface every benchmark module shares, plus timing and environment helpers.

A benchmark is a module ``benchmarks/bench_<name>.py`` that defines

    NAME: str                       # short id, used by ``--only``
    DESCRIPTION: str                # one line for the table header
    def run(ctx: Context) -> list[Result]

and is discovered automatically by ``python -m benchmarks``. ``run`` builds its inputs
once, times our function and its peers on exactly those inputs with :func:`time_call`,
and returns one :class:`Result` per comparison (plus optional diagnostics in ``extra``).
"""

from __future__ import annotations

import gc
import resource
import statistics
import time
from dataclasses import asdict, dataclass, field
from typing import Any, Callable, Literal

Direction = Literal["speedup", "overhead", "info"]


@dataclass(frozen=True)
class Context:
    """Settings passed to every benchmark: ``quick`` shrinks inputs and repeats for a smoke run."""

    quick: bool = False
    seed: int = 0

    @property
    def repeats(self) -> int:
        return 3 if self.quick else 9

    @property
    def slow_repeats(self) -> int:
        """Timed calls of a slow peer (a per-item Python loop): never fewer than 5 outside ``--quick``."""
        return 3 if self.quick else 5

    @property
    def warmup(self) -> int:
        # torch's first calls on a new shape are slow (FFT plans, allocator growth, page faults);
        # three untimed calls make the median stable on the 2-vCPU VMs this was written on
        return 1 if self.quick else 3


@dataclass(frozen=True)
class Timing:
    """Wall-clock seconds of repeated calls: median (reported) and min (least disturbed run),
    plus minor page faults per call (fresh memory the kernel had to map: a sign of large
    temporaries being allocated and freed on every call)."""

    median_s: float
    min_s: float
    repeats: int
    all_s: tuple[float, ...]
    page_faults_per_call: float


def time_call(fn: Callable[[], object], *, warmup: int, repeats: int) -> Timing:
    """Run ``fn`` ``warmup`` times untimed, then ``repeats`` times under ``time.perf_counter``."""
    for _ in range(warmup):
        fn()
    gc.collect()
    times = []
    faults_before = resource.getrusage(resource.RUSAGE_SELF).ru_minflt
    for _ in range(repeats):
        start = time.perf_counter()
        fn()
        times.append(time.perf_counter() - start)
    faults = resource.getrusage(resource.RUSAGE_SELF).ru_minflt - faults_before
    return Timing(median_s=statistics.median(times), min_s=min(times), repeats=repeats, all_s=tuple(times),
                  page_faults_per_call=faults / repeats)


def optimizer_step(optimizer: Any, loss: Any) -> None:
    """One training update: zero the gradients, backpropagate ``loss``, step ``optimizer``."""
    optimizer.zero_grad(set_to_none=True)
    loss.backward()
    optimizer.step()


def _quartiles(values: tuple[float, ...]) -> tuple[float, float]:
    """First and third quartile (the min and max with fewer than 4 values)."""
    if len(values) < 4:
        return min(values), max(values)
    q = statistics.quantiles(values, n=4)
    return q[0], q[2]


@dataclass
class Result:
    """One comparison of ours against a peer on the same input.

    ``direction="speedup"``: ratio = peer / ours, PASS if ratio >= target (we want to be faster).
    ``direction="overhead"``: ratio = ours / peer, PASS if ratio <= target (cost relative to a floor).
    ``direction="info"``: ratio = peer / ours, no target.
    """

    benchmark: str
    case: str
    ours: str
    peer: str
    ours_timing: Timing
    peer_timing: Timing
    direction: Direction
    target: float | None = None
    extra: dict = field(default_factory=dict)

    @property
    def ratio(self) -> float:
        ours, peer = self.ours_timing.median_s, self.peer_timing.median_s
        return ours / peer if self.direction == "overhead" else peer / ours

    @property
    def ratio_range(self) -> tuple[float, float]:
        """The ratio from the interquartile ranges of both timings (slowest vs fastest quartile pairing): the
        spread a noisy run can move the ratio by."""
        oq1, oq3 = _quartiles(self.ours_timing.all_s or (self.ours_timing.median_s,))
        pq1, pq3 = _quartiles(self.peer_timing.all_s or (self.peer_timing.median_s,))  # a fixed budget has no samples
        if self.direction == "overhead":
            return oq1 / pq3, oq3 / pq1
        return pq1 / oq3, pq3 / oq1

    @property
    def status(self) -> str:
        if self.direction == "info" or self.target is None:
            return "INFO"
        ok = self.ratio >= self.target if self.direction == "speedup" else self.ratio <= self.target
        return "PASS" if ok else "MISS"

    def target_text(self) -> str:
        if self.direction == "info" or self.target is None:
            return "-"
        return f">= {self.target:g}x faster" if self.direction == "speedup" else f"<= {self.target:g}x the cost"

    def to_json(self) -> dict:
        out = asdict(self)
        out.update(ratio=self.ratio, ratio_iqr=list(self.ratio_range), status=self.status, target_text=self.target_text())
        return out
