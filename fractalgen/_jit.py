"""The one place that sets numba's flags for every kernel of the package.

``cache=True`` so a kernel compiles once per machine, not once per process (generation spawns workers);
``nogil=True`` so threads calling a kernel do not serialise; no ``fastmath``: re-rendering an image from its
stored parameters must give the same bytes, and fast-math lets LLVM reorder float operations.
Cached kernels freeze module globals at compile time, so every setting a kernel reads is passed as an argument.
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


def njit_parallel(fn):
    """Decorator for kernels whose outer loop is a ``prange`` over independent rows (results never depend on
    the thread count, because no two iterations touch the same output element)."""
    return numba.njit(parallel=True, **JIT_FLAGS)(fn)
