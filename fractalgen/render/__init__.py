"""Renderers: pure functions from a parameter dict to a uint8 image, one module per fractal family.

A family is registered in :data:`FAMILIES` with its settings class (the recipe section of the same name), a
sampler ``(rng, settings, size, color) -> params`` and a renderer ``(params, gate=None) -> image``. The recipe
layer draws parameters, the renderer draws pixels; nothing here knows about files or stores.
"""

from __future__ import annotations

from typing import TYPE_CHECKING

from .._lazy import lazy_attributes

# Imported on first use (see fractalgen._lazy): the renderers load numba; escape_names must not pay for it.
_LAZY = {"FAMILIES": ".families", "Family": ".families", "family": ".families", "render": ".families"}

if TYPE_CHECKING:
    from .families import FAMILIES, Family, family, render


__getattr__, __dir__ = lazy_attributes(__name__, _LAZY)
