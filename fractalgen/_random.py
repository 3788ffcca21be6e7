"""The random stream of numba kernels: splitmix64 (Steele, Lea & Flood, "Fast splittable pseudorandom number
generators", OOPSLA 2014).

Kernels never touch numba's or numpy's global generators: a caller draws one 64-bit key from its seeded
``np.random.Generator``, stores it with the parameters, and the kernel expands it with :func:`splitmix64`, so
re-running the kernel on the same parameters repeats the same stream. One step is an add, two multiplies and
three xor-shifts: cheaper than numpy's bit generators and than pre-drawing an array of numbers.
"""

from __future__ import annotations

import numpy as np

from ._jit import njit_inline

#: 2**-53: turns the top 53 bits of a 64-bit output into a float in [0, 1).
INV_2_53 = 1.1102230246251565e-16


@njit_inline
def splitmix64(state):
    """One step: returns the new state and a 64-bit output (both uint64)."""
    state = state + np.uint64(0x9E3779B97F4A7C15)
    z = state
    z = (z ^ (z >> np.uint64(30))) * np.uint64(0xBF58476D1CE4E5B9)
    z = (z ^ (z >> np.uint64(27))) * np.uint64(0x94D049BB133111EB)
    return state, z ^ (z >> np.uint64(31))


@njit_inline
def uniform(z):
    """A 64-bit output -> a float in [0, 1) from its top 53 bits."""
    return np.float64(z >> np.uint64(11)) * INV_2_53
