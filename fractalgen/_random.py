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


# ---------------------------------------------------------------------------------------------------------------
# Derived streams inside kernels (render version 2): the parameters of image i are drawn in numba from the stream
# of (seed, index, draw, stream), with no numpy generator per image (numpy's per-call cost was most of the time of
# a small image). A stream is SplitMix's (state, gamma) pair, held in a uint64[2] array that the draw functions
# advance in place: output k is ``mix(state + k * gamma)``. Each tuple gets its own odd gamma as well as its own
# start, so two streams are not shifted copies of one sequence (Steele, Lea & Flood 2014, section 3: split).

_GOLDEN = 0x9E3779B97F4A7C15


@njit_inline
def mix64(z):
    """splitmix64's output function: a bijection of uint64 that spreads every input bit over the output."""
    z = (z ^ (z >> np.uint64(30))) * np.uint64(0xBF58476D1CE4E5B9)
    z = (z ^ (z >> np.uint64(27))) * np.uint64(0x94D049BB133111EB)
    return z ^ (z >> np.uint64(31))


@njit_inline
def stream_of(seed, index, draw, stream, out):
    """Set ``out`` (uint64[2]) to the stream of ``(seed, index, draw, stream)``, each a non-negative integer
    below 2**64. Each word goes through the bijection after the previous ones (a sponge), so two tuples that
    differ share a stream only by a 64-bit hash collision."""
    h = np.uint64(_GOLDEN)
    h = mix64(h ^ np.uint64(seed))
    h = mix64(h ^ np.uint64(index))
    h = mix64(h ^ np.uint64(draw))
    h = mix64(h ^ np.uint64(stream))
    out[0] = mix64(h + np.uint64(1))
    out[1] = mix64(h + np.uint64(2)) | np.uint64(1)


@njit_inline
def next64(st):
    """The next 64-bit output of the stream ``st`` (advanced in place)."""
    st[0] += st[1]
    return mix64(st[0])


@njit_inline
def rand(st):
    """A float in [0, 1) from the top 53 bits of the next output."""
    return np.float64(next64(st) >> np.uint64(11)) * INV_2_53


@njit_inline
def rand_between(st, low, high):
    """A float in [low, high): ``low + (high - low) * rand(st)``."""
    return low + (high - low) * rand(st)


@njit_inline
def rand_below(st, n):
    """An integer in [0, n) for 0 < n <= 2**32: the high word of the product of a 32-bit output and ``n``
    (Lemire's multiply-shift; its bias is below n / 2**32, under 1e-8 for the small counts drawn here)."""
    return np.int64(((next64(st) >> np.uint64(32)) * np.uint64(n)) >> np.uint64(32))


@njit_inline
def rand_key(st):
    """A 53-bit integer: the key of a kernel's own splitmix64 stream (what a params file stores)."""
    return np.int64(next64(st) >> np.uint64(11))
