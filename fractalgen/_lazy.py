"""Attributes of a package imported on first use (PEP 562).

``fractalgen --help``, an argument error or a script that only needs the error classes should not pay for numba,
numpy and h5py (about a second): the packages whose modules load them (``fractalgen``, ``fractalgen.render``,
``fractalgen.store``) name their public attributes here instead of importing them.
"""

from __future__ import annotations

import importlib
from collections.abc import Callable, Mapping
from typing import Any


def lazy_attributes(package: str, names: Mapping[str, str]) -> tuple[Callable[[str], Any], Callable[[], list[str]]]:
    """``(__getattr__, __dir__)`` for ``package``, whose attribute ``name`` is ``names[name]`` (a module relative to
    the package) ``.name``; an attribute is imported once, then kept in the package's namespace."""

    def __getattr__(name: str) -> Any:
        module = names.get(name)
        if module is None:
            raise AttributeError(f"module {package!r} has no attribute {name!r}")
        value = getattr(importlib.import_module(module, package), name)
        setattr(importlib.import_module(package), name, value)
        return value

    def __dir__() -> list[str]:
        return sorted(set(vars(importlib.import_module(package))) | set(names))

    return __getattr__, __dir__
