"""The machine and the process: the cores this process may use, the CPU's model name (benchmarks print both in
their header, since figures move 2-3x between CPUs of the same machine class), and a faster exit. Standard
library only: the command line imports it before anything heavy."""

from __future__ import annotations

import atexit
import gc
import os
import platform
from collections.abc import Callable


#: Set by the command line before any kernel module is imported: called with a one-line note when the process
#: first compiles a numba kernel (see fractalgen._jit.announce_first_compile).
compile_notice: Callable[[str], None] | None = None


def available_cores() -> int:
    """Cores this process may run on (the default number of workers)."""
    try:
        return len(os.sched_getaffinity(0))
    except AttributeError:  # pragma: no cover - macOS, Windows
        return os.cpu_count() or 1


def cpu_model() -> str:
    """The CPU's model name (from /proc/cpuinfo on Linux), or the best the platform module knows."""
    try:
        with open("/proc/cpuinfo", encoding="utf-8", errors="replace") as f:
            for line in f:
                if line.lower().startswith("model name"):
                    return line.split(":", 1)[1].strip()
    except OSError:
        pass
    return platform.processor() or platform.machine() or "unknown CPU"


def llvm_cpu_name() -> str:
    """The micro-architecture LLVM (so numba) compiles for, e.g. ``skylake-avx512``: tells apart CPUs that a
    virtual machine names alike."""
    try:
        import llvmlite.binding as llvm

        return llvm.get_host_cpu_name()
    except Exception:  # pragma: no cover - no llvmlite
        return "unknown"


def machine_line() -> str:
    """``CPU: <model> (<LLVM's name>), <n> cores available (of <m>)``, the header line of every benchmark."""
    n = available_cores()
    return f"CPU: {cpu_model()} ({llvm_cpu_name()}), {n} core{'s' * (n != 1)} available (of {os.cpu_count()})"


def freeze_at_exit() -> None:
    """Make this process exit ~0.3 s sooner: freeze every live object when it exits, so the interpreter's
    shutdown garbage collections skip them (the OS frees the memory anyway).

    With numpy, numba and h5py loaded, shutdown spends ~0.3 s walking ~100k tracked objects. That is on the
    critical path of every run: the parent waits for its workers to exit, and the user for the command.
    Registered once per process (atexit runs it after the last line of work)."""
    atexit.unregister(gc.freeze)
    atexit.register(gc.freeze)
