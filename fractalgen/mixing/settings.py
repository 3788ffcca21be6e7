"""The checks of every mixing setting, in one place: each method, source, mask generator and dataset validates
its hyper-parameters with these, so a bad setting always raises :class:`~fractalgen.errors.SettingsError` with a
one-line message that names the setting, the value and the fix."""

from __future__ import annotations

import math
import numbers
from collections.abc import Iterable
from typing import Any

from ..errors import SettingsError
from ..schema import short_repr


def _real(value: Any) -> bool:
    return isinstance(value, numbers.Real) and not isinstance(value, bool)


def positive(name: str, value: Any, example: float = 1.0) -> float:
    """A finite number > 0 (beta, alpha, ...)."""
    if not (_real(value) and math.isfinite(value) and value > 0):
        raise SettingsError(f"{name} = {short_repr(value)} must be a finite number > 0, e.g. {example:g}")
    return float(value)


def number_in(name: str, value: Any, low: float, high: float, example: float, hint: str = "") -> float:
    """A finite number in [low, high] (``hint``: what the setting means, added to the message)."""
    if not (_real(value) and math.isfinite(value) and low <= value <= high):
        raise SettingsError(f"{name} = {short_repr(value)} must be a number in [{low:g}, {high:g}], e.g. "
                            f"{example:g}{hint and f' ({hint})'}")
    return float(value)


def probability(name: str, value: Any) -> float:
    """A probability in [0, 1]."""
    return number_in(name, value, 0.0, 1.0, 0.5)


def integer(name: str, value: Any, low: int = 1, high: int | None = None, hint: str = "") -> int:
    """An integer >= low (and <= high)."""
    if (isinstance(value, bool) or not isinstance(value, numbers.Integral) or value < low
            or (high is not None and value > high)):
        bound = f">= {low}" if high is None else f"in {low}..{high}"
        raise SettingsError(f"{name} = {short_repr(value)} must be an integer {bound}{hint and f' ({hint})'}")
    return int(value)


def integers(name: str, values: Any, low: int = 1) -> tuple[int, ...]:
    """A non-empty sequence of integers >= low."""
    if isinstance(values, (str, bytes)) or not isinstance(values, Iterable):
        raise SettingsError(f"{name} = {short_repr(values)} must be a list of integers >= {low}, e.g. (4, 8, 16)")
    out = tuple(integer(f"{name} item", v, low) for v in values)
    if not out:
        raise SettingsError(f"{name} is empty; pass at least one integer >= {low}, e.g. (4, 8, 16)")
    return out


def choice(name: str, value: Any, choices: Iterable[Any]) -> Any:
    """One of ``choices``."""
    choices = tuple(choices)
    if not any(value == c and type(value) is type(c) for c in choices):
        raise SettingsError(f"{name} = {short_repr(value)} is not one of {', '.join(map(repr, choices))}")
    return value


def boolean(name: str, value: Any) -> bool:
    """True or False (numpy's bool too)."""
    if not isinstance(value, bool) and type(value).__name__ != "bool_":
        raise SettingsError(f"{name} = {short_repr(value)} must be True or False")
    return bool(value)
