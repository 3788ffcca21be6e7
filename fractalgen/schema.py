"""Typed, validated settings for recipe sections.

A recipe section is a frozen dataclass whose fields are declared with :func:`setting`, which attaches a small
parser (:class:`Int`, :class:`Float`, :class:`Range`, ...) and a one-line description. :func:`parse_section`
turns a TOML table into such a dataclass, naming the key, the value and the fix in every error; defaults fill
what the table leaves out. The same declarations drive :func:`describe` (the documented list of keys) and
:func:`section_to_dict` (the canonical form stored in manifests).
"""

from __future__ import annotations

import dataclasses
import math
import numbers
from collections.abc import Mapping, Sequence
from typing import Any

from .errors import RecipeError


class Spec:
    """How one setting is read from TOML and checked."""

    default: Any

    def parse(self, value: Any, key: str) -> Any:
        raise NotImplementedError

    def describe(self) -> str:
        raise NotImplementedError


def short_repr(value: Any, limit: int = 60) -> str:
    """``repr(value)`` cut to ``limit`` characters, so an error message stays one readable line (a 400-digit
    integer, a long string or a huge list)."""
    try:
        text = repr(value)
    except ValueError:  # holds an int too long for str() (Python's int_max_str_digits)
        if isinstance(value, int):
            return f"<integer of about {int(value.bit_length() * 0.30103)} digits>"
        return f"<{type(value).__name__} holding an integer too long to print>"
    text = " ".join(text.split())
    return text if len(text) <= limit else text[:limit - 3] + "..."


def _fail(key: str, value: Any, problem: str, fix: str) -> RecipeError:
    return RecipeError(f"recipe key '{key}' = {short_repr(value)} {problem}; {fix}")


def _number(value: Any, key: str, integer: bool) -> float | int:
    """A finite real number (an int when ``integer``); numpy scalars count, booleans and huge ints do not."""
    kind = "an integer" if integer else "a number"
    if isinstance(value, bool) or not isinstance(value, numbers.Real):
        raise _fail(key, value, f"is not {kind}", f"write {kind}")
    try:
        x = int(value) if isinstance(value, numbers.Integral) else float(value)
        if not integer:
            x = float(x)
    except OverflowError:  # an integer beyond any float
        raise _fail(key, value, "is out of range", "write a smaller number") from None
    if isinstance(x, float):
        if not math.isfinite(x):
            raise _fail(key, value, "is not finite", "write a finite number")
        if integer:
            if not x.is_integer():
                raise _fail(key, value, "is not an integer", "write a whole number")
            x = int(x)
    return x


def _bounds_text(lo: float | None, hi: float | None) -> str:
    if lo is not None and hi is not None:
        return f"between {lo} and {hi}"
    return f">= {lo}" if lo is not None else f"<= {hi}"


def _check_bounds(x: float, key: str, value: Any, lo: float | None, hi: float | None) -> None:
    if (lo is not None and x < lo) or (hi is not None and x > hi):
        raise _fail(key, value, "is out of range", f"use a value {_bounds_text(lo, hi)}")


@dataclasses.dataclass(frozen=True)
class Int(Spec):
    default: int
    lo: int | None = None
    hi: int | None = None

    def parse(self, value: Any, key: str) -> int:
        x = _number(value, key, integer=True)
        _check_bounds(x, key, value, self.lo, self.hi)
        if abs(x) > 2**63 - 1:
            raise _fail(key, value, "is out of range", "write an integer that fits in 64 bits")
        return x

    def describe(self) -> str:
        return f"integer {_bounds_text(self.lo, self.hi)}" if (self.lo, self.hi) != (None, None) else "integer"


@dataclasses.dataclass(frozen=True)
class Float(Spec):
    default: float
    lo: float | None = None
    hi: float | None = None

    def parse(self, value: Any, key: str) -> float:
        x = _number(value, key, integer=False)
        _check_bounds(x, key, value, self.lo, self.hi)
        return x

    def describe(self) -> str:
        return f"number {_bounds_text(self.lo, self.hi)}" if (self.lo, self.hi) != (None, None) else "number"


@dataclasses.dataclass(frozen=True)
class Bool(Spec):
    default: bool

    def parse(self, value: Any, key: str) -> bool:
        if not isinstance(value, bool):
            raise _fail(key, value, "is not a boolean", "write true or false")
        return value

    def describe(self) -> str:
        return "true or false"


@dataclasses.dataclass(frozen=True)
class Choice(Spec):
    default: str
    options: tuple[str, ...]

    def parse(self, value: Any, key: str) -> str:
        if value not in self.options:
            raise _fail(key, value, "is not a known option", f"use one of {', '.join(self.options)}")
        return value

    def describe(self) -> str:
        return "one of " + ", ".join(self.options)


@dataclasses.dataclass(frozen=True)
class Choices(Spec):
    """A non-empty list of options; each image draws one of them uniformly. A single string is a list of one."""

    default: tuple[str, ...]
    options: tuple[str, ...]

    def parse(self, value: Any, key: str) -> tuple[str, ...]:
        items = [value] if isinstance(value, str) else value
        if not isinstance(items, Sequence) or not items:
            raise _fail(key, value, "is not a non-empty list", f"list some of {', '.join(self.options)}")
        for item in items:
            if item not in self.options:
                raise _fail(key, value, f"names an unknown option {item!r}", f"use some of {', '.join(self.options)}")
        return tuple(items)

    def describe(self) -> str:
        return "list drawn from uniformly, of " + ", ".join(self.options)


def pick(rng: Any, options: Sequence) -> Any:
    """One of ``options`` drawn uniformly with ``rng``: how an image uses a :class:`Choices` setting. A single
    option takes no call: ``rng.integers(1)`` draws nothing from the stream (numpy returns 0 for an empty range)."""
    if len(options) == 1:
        return options[0]
    return options[int(rng.integers(len(options)))]


@dataclasses.dataclass(frozen=True)
class Range(Spec):
    """A band ``[low, high]`` with ``low <= high``; draws are uniform inside it."""

    default: tuple[float, float]
    lo: float | None = None
    hi: float | None = None
    integer: bool = False

    def parse(self, value: Any, key: str) -> tuple:
        if isinstance(value, numbers.Real) and not isinstance(value, bool):
            value = [value, value]
        if not isinstance(value, Sequence) or isinstance(value, str) or len(value) != 2:
            raise _fail(key, value, "is not a band", "write [low, high]")
        low, high = (_number(v, key, self.integer) for v in value)
        if low > high:
            raise _fail(key, value, "is inverted", f"write [low, high] with low <= high, e.g. [{high}, {low}]")
        for x in (low, high):
            _check_bounds(x, key, value, self.lo, self.hi)
        return (low, high)

    def describe(self) -> str:
        kind = "integers" if self.integer else "numbers"
        bounds = f" {_bounds_text(self.lo, self.hi)}" if (self.lo, self.hi) != (None, None) else ""
        return f"[low, high] of {kind}{bounds}"


@dataclasses.dataclass(frozen=True)
class Weights(Spec):
    """Relative weights by name (``{ifs = 2, julia = 1}``) or a single name; normalised when used."""

    default: tuple[tuple[str, float], ...]
    options: tuple[str, ...]

    def parse(self, value: Any, key: str) -> tuple[tuple[str, float], ...]:
        if isinstance(value, str):
            value = {value: 1.0}
        if not isinstance(value, Mapping) or not value:
            raise _fail(key, value, "is neither a name nor a table of weights", 'write "ifs" or {ifs = 1, julia = 1}')
        out = []
        for name, w in value.items():
            if name not in self.options:
                raise _fail(key, name, "is not a known name", f"use one of {', '.join(self.options)}")
            w = _number(w, f"{key}.{name}", integer=False)
            if w <= 0:
                raise _fail(f"{key}.{name}", w, "is not positive", "give a weight > 0 or leave the name out")
            out.append((name, w))
        try:
            total = math.fsum(w for _, w in out)
        except OverflowError:
            total = math.inf
        if not math.isfinite(total):
            raise _fail(key, value, "has weights whose sum overflows", "scale them down, e.g. {ifs = 1, julia = 1}")
        return tuple(out)

    def describe(self) -> str:
        return "a name or a table of positive weights over " + ", ".join(self.options)


def setting(spec: Spec, doc: str) -> Any:
    """Declare a dataclass field read by ``spec`` and documented by ``doc``."""
    return dataclasses.field(default=spec.default, metadata={"spec": spec, "doc": doc})


def section(cls: type, doc: str) -> Any:
    """Declare a nested section (a sub-table) holding the settings dataclass ``cls``."""
    return dataclasses.field(default_factory=cls, metadata={"section": cls, "doc": doc})


def parse_section(cls: type, table: Any, where: str, base: Any = None, sections: tuple[str, ...] = ()) -> Any:
    """Build the settings dataclass ``cls`` from a TOML table, starting from ``base`` (or the defaults).

    ``where`` is the dotted name of the table, used in error messages ("ifs.gate"); ``sections`` names tables
    handled by the caller, listed among the known keys of an error message.
    """
    if not isinstance(table, Mapping):
        raise RecipeError(f"recipe key '{where}' must be a table of settings, got {table!r}; write [{where}] ...")
    base = base if base is not None else cls()
    fields = {f.name: f for f in dataclasses.fields(cls)}
    values = {}
    for key, value in table.items():
        full = f"{where}.{key}" if where else key
        field = fields.get(key)
        if field is None:
            known = ", ".join(sorted(fields) + [f"[{name}]" for name in sections])
            raise RecipeError(f"unknown recipe key '{full}'; known keys here: {known}")
        if "section" in field.metadata:
            values[key] = parse_section(field.metadata["section"], value, full, getattr(base, key))
        else:
            values[key] = field.metadata["spec"].parse(value, full)
    return dataclasses.replace(base, **values)


def section_to_dict(obj: Any) -> dict:
    """The canonical plain-data form of a settings dataclass (tuples become lists, for TOML and JSON)."""

    def plain(v: Any) -> Any:
        if dataclasses.is_dataclass(v):
            return {f.name: plain(getattr(v, f.name)) for f in dataclasses.fields(v)}
        if isinstance(v, tuple):
            if v and all(isinstance(x, tuple) and len(x) == 2 and isinstance(x[0], str) for x in v):
                return {k: plain(x) for k, x in v}
            return [plain(x) for x in v]
        return v

    return plain(obj)


def describe(cls: type, where: str = "") -> list[tuple[str, str, str, Any]]:
    """(dotted key, accepted values, doc, default) for every setting of ``cls``, sub-sections included."""
    rows = []
    for f in dataclasses.fields(cls):
        key = f"{where}.{f.name}" if where else f.name
        if "section" in f.metadata:
            rows += describe(f.metadata["section"], key)
        elif "spec" in f.metadata:
            spec = f.metadata["spec"]
            rows.append((key, spec.describe(), f.metadata["doc"], section_to_dict(spec.default)))
    return rows
