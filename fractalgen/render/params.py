"""Checking an image's parameter dict before rendering it: the renderers' kernels trust their input, so a params
file with a key removed, a size of 0, -5, "big" or 100000, or a string where a colour belongs would otherwise end
in a KeyError deep in a kernel, a numba type error, a wrapped uint8 or a 40 GB allocation.

Each renderer declares what it reads with the small checkers below (:func:`integer`, :func:`real`,
:func:`one_of`, :func:`vector`, ...); :class:`Reader` applies them key by key and raises
:class:`~fractalgen.errors.ParamsError` naming the key (dotted for nested ones: ``trap.radius``,
``background.colors``), the value and the fix. Keys a renderer does not read are ignored, so params carrying
extra metadata (``seed``, ``index``, ``draws``) still render.
"""

from __future__ import annotations

import math
import numbers
from collections.abc import Callable, Mapping, Sequence
from typing import Any

from ..errors import ParamsError
from ..schema import short_repr

Check = Callable[[Any, str], Any]

#: Largest side the renderers draw at, supersampling included (a 16384^2 float32 plane is 1 GiB).
MAX_GRID = 16384


def bad(key: str, value: Any, problem: str, fix: str) -> ParamsError:
    return ParamsError(f"params key '{key}' = {short_repr(value)} {problem}; {fix}")


def _is_real(v: Any) -> bool:
    return isinstance(v, numbers.Real) and not isinstance(v, bool)


def real(lo: float | None = None, hi: float | None = None, *, above: float | None = None) -> Check:
    """A finite number in [lo, hi] (and > ``above``)."""

    def check(v: Any, key: str) -> float:
        if not _is_real(v):
            raise bad(key, v, "is not a number", "write a number")
        try:
            x = float(v)
        except OverflowError:
            x = math.inf
        if not math.isfinite(x):
            raise bad(key, v, "is not finite", "write a finite number")
        if (lo is not None and x < lo) or (hi is not None and x > hi) or (above is not None and x <= above):
            parts = ([f">= {lo}"] if lo is not None else []) + ([f"> {above}"] if above is not None else []) + \
                ([f"<= {hi}"] if hi is not None else [])
            raise bad(key, v, "is out of range", "use a value " + " and ".join(parts))
        return x

    return check


def integer(lo: int, hi: int) -> Check:
    """An integer (numpy integers count; 3.0 does not, params hold ints as ints) in [lo, hi]."""

    def check(v: Any, key: str) -> int:
        if not isinstance(v, numbers.Integral) or isinstance(v, bool):
            raise bad(key, v, "is not an integer", "write a whole number")
        if not lo <= int(v) <= hi:
            raise bad(key, v, "is out of range", f"use an integer between {lo} and {hi}")
        return int(v)

    return check


def boolean(v: Any, key: str) -> bool:
    if not isinstance(v, bool):
        raise bad(key, v, "is not a boolean", "write true or false")
    return v


def one_of(options: Sequence[str]) -> Check:
    def check(v: Any, key: str) -> str:
        if not isinstance(v, str) or v not in options:
            raise bad(key, v, "is not a known option", f"use one of {', '.join(options)}")
        return v

    return check


def vector(item: Check, n: int | None = None, lo: int = 1, hi: int = 1 << 16) -> Check:
    """A list of ``n`` items (or between ``lo`` and ``hi``), each checked by ``item`` (named ``key[i]``)."""

    def check(v: Any, key: str) -> list:
        if not isinstance(v, Sequence) or isinstance(v, (str, bytes)):
            raise bad(key, v, "is not a list", f"write a list of {n if n is not None else 'some'} values")
        if (n is not None and len(v) != n) or (n is None and not lo <= len(v) <= hi):
            want = str(n) if n is not None else f"{lo} to {hi}"
            raise bad(key, v, f"has {len(v)} entries", f"give {want}")
        return [item(x, f"{key}[{i}]") for i, x in enumerate(v)]

    return check


def fields(*checks: Check) -> Check:
    """A list of ``len(checks)`` entries, entry i checked by ``checks[i]``."""

    def check(v: Any, key: str) -> list:
        if not isinstance(v, Sequence) or isinstance(v, (str, bytes)) or len(v) != len(checks):
            raise bad(key, v, f"is not a list of {len(checks)} numbers", f"write {len(checks)} numbers in brackets")
        return [c(x, f"{key}[{i}]") for i, (c, x) in enumerate(zip(checks, v))]

    return check


#: A colour: three numbers in [0, 1].
RGB = vector(real(0.0, 1.0), 3)


class Reader:
    """Reads the keys of one params table (``where`` names nested ones), checking each as it goes."""

    def __init__(self, table: Any, where: str = "") -> None:
        if not isinstance(table, Mapping):
            raise bad(where or "params", table, "is not a table", "pass the dict recipe.params(i) returns")
        self.table, self.where = table, where

    def name(self, key: str) -> str:
        return f"{self.where}.{key}" if self.where else key

    def __call__(self, key: str, check: Check) -> Any:
        if key not in self.table:
            raise ParamsError(f"params key '{self.name(key)}' is missing; re-create the params with "
                              "recipe.params(i), or restore the key from the file --params wrote")
        return check(self.table[key], self.name(key))

    def sub(self, key: str) -> "Reader":
        """The nested table ``key``."""
        if key not in self.table:
            self(key, lambda v, k: v)  # raises "missing"
        return Reader(self.table[key], self.name(key))


def read_grid(p: Reader) -> tuple[int, int]:
    """``size`` and ``supersample``, bounded so the render grid stays allocatable."""
    size = p("size", integer(8, 8192))
    ss = p("supersample", integer(1, 2))
    if size * ss > MAX_GRID:
        raise bad(p.name("size"), size, f"times supersample {ss} exceeds {MAX_GRID}", "render smaller")
    return size, ss


#: Kernel stream keys are 53-bit (the kernels carry them in float64 parameter vectors, exact to 2**53).
KEY_MAX = 2**53 - 1


def read_background(p: Reader, kinds: Sequence[str]) -> None:
    """The ``background`` table of :func:`.color.sample_background`."""
    bg = p.sub("background")
    kind = bg("kind", one_of(kinds))
    if kind == "black":
        return
    bg("colors", vector(RGB, 1 if kind == "flat" else 2))
    if kind == "gradient":
        bg("angle", real())
    elif kind == "noise":
        bg("cells", integer(1, 1024))
        bg("octaves", integer(0, 32))
        bg("persistence", real(0.0, 16.0))
        bg("key", integer(0, KEY_MAX))
