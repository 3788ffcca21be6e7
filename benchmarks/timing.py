"""The one timing rule of the benchmarks: the best of several runs (the machine is shared; the least disturbed
run is the closest to what the code costs)."""

from __future__ import annotations

import os
import platform
import time
from collections.abc import Callable


def best_of(repeats: int, fn: Callable[[], object]) -> float:
    """Seconds of the fastest of ``repeats`` calls of ``fn``."""
    times = []
    for _ in range(repeats):
        t = time.perf_counter()
        fn()
        times.append(time.perf_counter() - t)
    return min(times)


def machine() -> str:
    """The CPU model and the cores this process may use: every benchmark prints it in its header."""
    model = platform.processor() or platform.machine()
    try:
        with open("/proc/cpuinfo") as fh:
            model = next(line.split(":", 1)[1].strip() for line in fh if line.startswith("model name"))
    except (OSError, StopIteration):
        pass
    try:
        cores = len(os.sched_getaffinity(0))
    except AttributeError:  # pragma: no cover - macOS, Windows
        cores = os.cpu_count() or 1
    return f"{model}, {cores} cores"
