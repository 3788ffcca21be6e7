"""Where every random generator of fractalgen comes from: the one place that derives them.

Two kinds of randomness, and nothing else (no global numpy, numba or torch generator is read or written):

- **Derived** from numbers: :func:`derive` ``(seed, index, draw, stream)`` is a pure function of its four
  arguments. Image ``i`` of a recipe (``stream=STREAM_PARAMS`` / ``STREAM_FAMILY``, via
  ``fractalgen.recipe.image_rng``), training sample ``i`` of epoch ``e`` (:func:`sample_rng`, ``STREAM_MIXING``),
  a shuffle order (``STREAM_SHUFFLE``) and a worker process of a seeded object (``STREAM_WORKER``) all take their
  generator from it, so they repeat exactly in any process, worker or order.
- **Fresh per process**: a :class:`Stream` is the generator an object (a mixing method, a fractal source) draws
  from when a call passes no ``rng``. It is rebuilt in every new process: after ``fork`` (a DataLoader worker
  started by fork, any ``multiprocessing`` child), and after unpickling (spawn, forkserver), because its state is
  never pickled. Unseeded, it takes fresh entropy from the OS in each process, so two processes never share a
  stream. Seeded, it is ``default_rng(seed)`` in the process that made it; in a torch DataLoader worker it is
  derived from ``(seed, the worker's torch seed)`` (different in every worker and every epoch of a non-persistent
  loader, reproducible under ``torch.manual_seed``); in any other child process it takes fresh entropy.

numba kernels draw from a splitmix64 stream whose 64-bit key is drawn from one of these generators
(``fractalgen._random``), so kernels follow the same rules.

The ``rng`` argument rule (as scikit-image's and numpy's ``default_rng``): :func:`as_rng` takes None (the
caller's :class:`Stream`), an int or a ``SeedSequence`` (a new generator seeded by it) or a ``Generator`` (used
as it is).
"""

from __future__ import annotations

import numbers
import os
import sys
from typing import Any

import numpy as np

from .errors import SettingsError

_U32 = 0xFFFFFFFF
#: Independent streams of one (seed, index, draw): the parameters and the family draws of a rendered image
#: (recipe.py), the augmentation of a training sample (mixing), a worker process of a seeded object, a shuffle.
STREAM_PARAMS, STREAM_FAMILY, STREAM_MIXING, STREAM_WORKER, STREAM_SHUFFLE = 1, 2, 3, 4, 5

#: Incremented in a child process right after fork: a Stream made before the fork rebuilds itself.
_FORKS = [0]
if hasattr(os, "register_at_fork"):
    os.register_at_fork(after_in_child=lambda: _FORKS.__setitem__(0, _FORKS[0] + 1))


def process_token() -> int:
    """A number that changes in a child process right after fork: per-process state (a Stream's generator, an
    online source's pool) made under another token belongs to the parent and must be rebuilt."""
    return _FORKS[0]


def derive(seed: int, index: int, draw: int = 0, stream: int = STREAM_PARAMS) -> np.random.Generator:
    """The generator of ``(seed, index, draw, stream)``: a pure function of the four (each a non-negative integer
    below 2**64; ``draw`` and ``stream`` below 2**32).

    The entropy is always six 32-bit words, so no two tuples share a stream (numpy's SeedSequence pads short
    entropy with zeros, so [s, i] and [s, i, 0] would collide)."""
    words = [seed & _U32, seed >> 32, index & _U32, index >> 32, draw, stream]
    if 0 <= min(words) and max(words) <= _U32:
        # The same generator as default_rng(words), at half the cost: numpy's SeedSequence converts a list
        # element by element in Python, an array of 32-bit words at once (the words, so the stream, are equal).
        return np.random.Generator(np.random.PCG64(np.random.SeedSequence(np.array(words, dtype=np.uint32))))
    return np.random.default_rng(words)


def sample_rng(seed: int, epoch: int, index: int) -> np.random.Generator:
    """The generator of training sample ``index`` in ``epoch`` for a run seeded ``seed``: a pure function of the
    three, so an augmented sample does not depend on the worker, the worker count or the order of loading."""
    return derive(seed, index, epoch, STREAM_MIXING)


def check_seed(seed: Any, what: str = "seed") -> int | None:
    """``seed`` as an int in [0, 2**64), or None; a :class:`~fractalgen.errors.SettingsError` otherwise."""
    if seed is None:
        return None
    if isinstance(seed, bool) or not isinstance(seed, numbers.Integral) or not 0 <= seed < 2**64:
        raise SettingsError(f"{what} = {seed!r}; pass a non-negative integer (e.g. 0), or None for fresh "
                            "randomness in every process")
    return int(seed)


def as_rng(rng: Any, stream: "Stream | None" = None) -> np.random.Generator:
    """The generator a call draws from: ``rng`` if it is a Generator, a new one for an int or SeedSequence, or
    ``stream``'s for None (a fresh per-process one if there is no stream)."""
    if isinstance(rng, np.random.Generator):
        return rng
    if rng is None:
        return (stream or Stream()).generator()
    if isinstance(rng, np.random.SeedSequence):
        return np.random.default_rng(rng)
    return np.random.default_rng(check_seed(rng, "rng"))


def worker_seed() -> int | None:
    """torch's seed for this DataLoader worker process, or None outside one (torch is never imported here)."""
    data = sys.modules.get("torch.utils.data")
    info = data.get_worker_info() if data is not None else None
    return None if info is None else int(info.seed)


def in_worker() -> bool:
    """Whether this process is a torch DataLoader worker."""
    return worker_seed() is not None


class Stream:
    """The generator an object draws from when a call passes no ``rng`` (see the module docstring): seeded by
    ``seed`` in the process that made it, rebuilt in every other process, never pickled."""

    __slots__ = ("seed", "_home", "_gen", "_forks")

    def __init__(self, seed: int | None = None) -> None:
        self.seed = check_seed(seed)
        self._home = os.getpid()
        self._gen: np.random.Generator | None = None
        self._forks = _FORKS[0]

    def generator(self) -> np.random.Generator:
        """This process's generator (made on first use, and again in a new process)."""
        if self._gen is None or self._forks != _FORKS[0]:
            self._gen, self._forks = self._make(), _FORKS[0]
        return self._gen

    def _make(self) -> np.random.Generator:
        if self.seed is None:
            return np.random.default_rng()  # fresh OS entropy, in every process
        if os.getpid() == self._home:
            return np.random.default_rng(self.seed)
        key = worker_seed()
        if key is None:  # a child process that is not a torch worker: no reproducible key to derive from
            return np.random.default_rng()
        return derive(self.seed, key % 2**64, 0, STREAM_WORKER)

    def reset(self, seed: int | None = None) -> None:
        """Start again from ``seed`` (the state a new Stream(seed) has)."""
        self.__init__(seed)

    # pickling: the seed only; the receiving process builds its own generator
    def __getstate__(self) -> dict:
        return {"seed": self.seed, "home": self._home}

    def __setstate__(self, state: dict) -> None:
        self.seed, self._home = state["seed"], state["home"]
        self._gen, self._forks = None, _FORKS[0]

    def __repr__(self) -> str:
        return f"Stream(seed={self.seed})"
