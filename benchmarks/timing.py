"""What every benchmark shares: its header, which names the CPU model and the cores (figures move 2-3x between
CPUs of the same machine class, so a figure without its CPU means little), and the one timing rule, the best of
several runs (the machine is shared; the least disturbed run is the closest to what the code costs)."""

from __future__ import annotations

import platform
import time
from collections.abc import Callable

from fractalgen._machine import machine_line


def header(title: str) -> str:
    """The first lines a benchmark prints: what it measures, then the CPU, cores and versions it ran with."""
    import numba
    import numpy as np

    import fractalgen

    return (f"{title}\n{machine_line()}\nfractalgen {fractalgen.__version__}, numba {numba.__version__}, "
            f"numpy {np.__version__}, Python {platform.python_version()}\n")


def best_of(repeats: int, fn: Callable[[], object]) -> float:
    """Seconds of the fastest of ``repeats`` calls of ``fn``."""
    times = []
    for _ in range(repeats):
        t = time.perf_counter()
        fn()
        times.append(time.perf_counter() - t)
    return min(times)
