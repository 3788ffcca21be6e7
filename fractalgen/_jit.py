"""The one place that sets numba's flags for every kernel of the package.

``cache=True`` so a kernel compiles once per machine, not once per process (generation spawns workers);
``nogil=True`` so threads calling a kernel do not serialise; no ``fastmath``: re-rendering an image from its
stored parameters must give the same bytes, and fast-math lets LLVM reorder float operations.
Cached kernels freeze module globals at compile time, so every setting a kernel reads is passed as an argument.

Threads. A parallel (``prange``) kernel pays a start-up and a barrier per call, and its threads spin while they
wait: on a small image that costs more than the work, and when another process keeps a core busy a thread that
loses its core holds the whole call up (measured on 2 cores with a second busy process: julia-traps at 36 px ran
8x slower with 2 threads than with 1). So a kernel runs in parallel only for images of at least
:data:`PARALLEL_MIN_PIXELS` pixels and only when more than one thread is allowed; worker processes (the store
writer's pool, DataLoader workers, Dask workers) run one thread each (:func:`one_thread_per_worker`), and
:func:`set_threads` lets a user choose the count (``NUMBA_NUM_THREADS`` caps it, as numba documents).
"""

from __future__ import annotations

import numba

JIT_FLAGS = {"cache": True, "nogil": True, "fastmath": False, "error_model": "numpy"}

#: Decorator for serial kernels.
njit = numba.njit(**JIT_FLAGS)

#: Decorator for tiny helpers called once per step of a hot loop (a random-number step, a table pick): numba
#: inlines them into the caller's IR, which LLVM does not always do across numba functions (measured: the IFS
#: chaos game ran at 0.82 of a hand-inlined loop without it, 1.0 with it).
njit_inline = numba.njit(inline="always", **JIT_FLAGS)


#: Pixels from which a kernel with a serial and a parallel version takes the parallel one (256 x 256).
PARALLEL_MIN_PIXELS = 256 * 256


def njit_parallel(fn):
    """Decorator for kernels whose outer loop is a ``prange`` over independent rows (results never depend on
    the thread count, because no two iterations touch the same output element)."""
    return numba.njit(parallel=True, **JIT_FLAGS)(fn)


def set_threads(n: int) -> None:
    """Threads of fractalgen's parallel kernels in the calling thread (1 to ``NUMBA_NUM_THREADS``): 1 makes every
    render serial, as inside worker processes. Images below :data:`PARALLEL_MIN_PIXELS` are always serial."""
    from .errors import RecipeError

    top = numba.config.NUMBA_NUM_THREADS
    if isinstance(n, bool) or not isinstance(n, int) or not 1 <= n <= top:
        raise RecipeError(f"threads = {n!r}; pass an integer from 1 to {top} (raise the cap with the environment "
                          f"variable NUMBA_NUM_THREADS before starting Python)")
    numba.set_num_threads(n)


def threads() -> int:
    """The thread count :func:`set_threads` gave (numba's, for the calling thread)."""
    return numba.get_num_threads()


def use_parallel(pixels: int) -> bool:
    """Whether a kernel over ``pixels`` pixels should take its parallel version (see the module docstring)."""
    return pixels >= PARALLEL_MIN_PIXELS and numba.get_num_threads() > 1


def one_thread_per_worker() -> None:
    """Make the calling worker process render serially: the pool, not numba, spreads the work over the cores."""
    numba.set_num_threads(1)
