"""The one place that sets numba's flags for every kernel of the package, and where compiled kernels are cached.

``nogil=True`` so threads calling a kernel do not serialise; no ``fastmath``: re-rendering an image from its
stored parameters must give the same bytes, and fast-math lets LLVM reorder float operations.
Cached kernels freeze module globals at compile time, so every setting a kernel reads is passed as an argument.

Caching: numba compiles a kernel on its first call (so a command compiles only the kernels it runs) and, with
caching on, writes the machine code to disk so later processes load it (~0.1 s instead of 10-20 s for a
command's kernels). numba's default cache lives in ``__pycache__`` beside each module, keyed by that module's
path: a reinstall, a new virtual environment or a read-only site-packages starts cold again, and an edit of
another module whose kernel was inlined goes unnoticed. Our kernels are cached instead in one user-wide folder
(``$FRACTALGEN_CACHE_DIR``, else ``$NUMBA_CACHE_DIR/fractalgen``, else the user cache folder, e.g.
``~/.cache/fractalgen``) under a digest of the source of every kernel module: the same code installed anywhere
reuses it, and any change to a kernel module recompiles them all. If that folder cannot be written, numba's
own locations are used. The first compile in a process can be announced (:func:`announce_first_compile`).

Threads. A parallel (``prange``) kernel pays a start-up and a barrier per call, and its threads spin while they
wait: on a small image that costs more than the work, and when another process keeps a core busy a thread that
loses its core holds the whole call up (measured on 2 cores with a second busy process: julia-traps at 36 px ran
8x slower with 2 threads than with 1). So a kernel runs in parallel only for images of at least
:data:`PARALLEL_MIN_PIXELS` pixels and only when more than one thread is allowed; worker processes (the store
writer's pool, DataLoader workers, Dask workers) run one thread each (:func:`one_thread_per_worker`), and
:func:`set_threads` lets a user choose the count (``NUMBA_NUM_THREADS`` caps it, as numba documents).
"""

from __future__ import annotations

import hashlib
import os
from collections.abc import Callable
from functools import lru_cache
from pathlib import Path

import numba

from . import _machine

JIT_FLAGS = {"nogil": True, "fastmath": False, "error_model": "numpy"}

PACKAGE_DIR = Path(__file__).resolve().parent


def cache_root() -> Path:
    """The user-wide folder of fractalgen's caches (kernels go in ``numba/<digest>/`` under it)."""
    if os.environ.get("FRACTALGEN_CACHE_DIR"):
        return Path(os.environ["FRACTALGEN_CACHE_DIR"])
    if os.environ.get("NUMBA_CACHE_DIR"):
        return Path(os.environ["NUMBA_CACHE_DIR"]) / "fractalgen"
    from numba.misc.appdirs import AppDirs

    return Path(AppDirs("fractalgen", appauthor=False).user_cache_dir)


@lru_cache(maxsize=None)
def kernel_digest() -> str:
    """sha256 of the source of every module that defines kernels (those importing this one, and this one), with
    their paths inside the package: equal for the same code wherever it is installed."""
    h = hashlib.sha256(f"numba {numba.__version__}\n".encode())
    for path in sorted(PACKAGE_DIR.rglob("*.py")):
        data = path.read_bytes()
        if path.name == "_jit.py" or b"_jit import" in data:
            h.update(path.relative_to(PACKAGE_DIR).as_posix().encode() + b"\0" + data + b"\0")
    return h.hexdigest()


def kernel_cache_dir() -> Path:
    return cache_root() / "numba" / kernel_digest()[:16]


def kernel_cache_is_empty() -> bool:
    """True on a first run: no kernel of this code has been compiled into the cache yet."""
    folder = kernel_cache_dir()
    return not folder.is_dir() or next(folder.rglob("*.nbi"), None) is None


def _package_cache_class():
    """A numba FunctionCache whose first locator is the user-wide, content-keyed folder above (numba's cache
    classes are not public API: on a numba without them, kernels fall back to numba's default cache)."""
    from numba.core.caching import CompileResultCacheImpl, FunctionCache, _CacheLocator

    class PackageLocator(_CacheLocator):
        def __init__(self, py_func, py_file: str) -> None:
            self._lineno = py_func.__code__.co_firstlineno
            self._path = str(kernel_cache_dir() / Path(py_file).resolve().parent.relative_to(PACKAGE_DIR))

        def get_cache_path(self) -> str:
            return self._path

        def get_source_stamp(self) -> str:
            return kernel_digest()

        def get_disambiguator(self) -> str:
            return str(self._lineno)

        @classmethod
        def from_function(cls, py_func, py_file: str):
            if not Path(py_file).resolve().is_relative_to(PACKAGE_DIR):
                return None
            self = cls(py_func, py_file)
            try:
                self.ensure_cache_path()
            except OSError:  # not writable: numba's next locator (beside the module, or its user-wide folder)
                return None
            return self

    class PackageCacheImpl(CompileResultCacheImpl):
        _locator_classes = [PackageLocator, *CompileResultCacheImpl._locator_classes]

    class PackageCache(FunctionCache):
        _impl_class = PackageCacheImpl

    return PackageCache


try:
    _PackageCache = _package_cache_class()
except (ImportError, AttributeError):  # pragma: no cover - a numba whose caching internals moved
    _PackageCache = None


def _jit(**flags) -> Callable:
    def decorate(fn):
        if _PackageCache is None:  # pragma: no cover
            return numba.njit(cache=True, **JIT_FLAGS, **flags)(fn)
        dispatcher = numba.njit(**JIT_FLAGS, **flags)(fn)
        dispatcher._cache = _PackageCache(fn)  # what Dispatcher.enable_caching does, with our cache class
        return dispatcher

    return decorate


#: Decorator for serial kernels.
njit = _jit()

#: Decorator for tiny helpers called once per step of a hot loop (a random-number step, a table pick): numba
#: inlines them into the caller's IR, which LLVM does not always do across numba functions (measured: the IFS
#: chaos game ran at 0.82 of a hand-inlined loop without it, 1.0 with it).
njit_inline = _jit(inline="always")

#: Decorator for kernels whose outer loop is a ``prange`` over independent rows (results never depend on
#: the thread count, because no two iterations touch the same output element).
njit_parallel = _jit(parallel=True)

#: Pixels from which a kernel with a serial and a parallel version takes the parallel one (256 x 256).
PARALLEL_MIN_PIXELS = 256 * 256


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


def announce_first_compile(echo: Callable[[str], None]) -> None:
    """Call ``echo`` with a one-line note when this process first compiles one of our kernels (loading one from
    the cache does not count): the first run on a machine spends 10-30 s there, and should say so."""
    from numba.core import event

    class FirstCompile(event.Listener):
        done = False

        def on_start(self, ev) -> None:
            func = getattr(ev.data.get("dispatcher"), "py_func", None)
            if not self.done and getattr(func, "__module__", "").startswith("fractalgen."):
                self.done = True
                echo(f"compiling fractalgen's kernels, once per machine (10-30 s; cached in {kernel_cache_dir()})")

        def on_end(self, ev) -> None:
            pass

    event.register("numba:compile", FirstCompile())



if _machine.compile_notice is not None:  # the command line asked for the note before any kernel module loaded
    announce_first_compile(_machine.compile_notice)
