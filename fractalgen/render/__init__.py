"""Renderers: pure functions from a parameter dict to a uint8 image, one module per fractal family.

Rendered bytes are versioned: :data:`RENDER_VERSION` is recorded in every image's params (and in a store's
manifest) and goes up with any deliberate change of the pixels some params render to (the random stream, the
sampling order, a rounding). :func:`render` refuses params recorded by a newer version, which this code would
render differently; the golden set under ``tests/golden/`` pins the bytes of the current version.

A family is registered in :data:`FAMILIES` with its settings class (the recipe section of the same name), a
batch kernel ``draw(settings, size, color, seed, indices, max_draws, with_params) -> Drawn`` (sampling, gate and
pixels of many images in one call, each from its own (seed, index, draw) stream) and a re-renderer
``render(params) -> image``. The recipe layer says which images; nothing here knows about files or stores.
"""

from __future__ import annotations

from typing import TYPE_CHECKING

from .._lazy import lazy_attributes

# Imported on first use (see fractalgen._lazy): the renderers load numba; escape_names must not pay for it.
_LAZY = {name: ".families" for name in ("FAMILIES", "Family", "family", "render", "RENDER_VERSION",
                                        "check_version")}

if TYPE_CHECKING:
    from .families import FAMILIES, RENDER_VERSION, Family, check_version, family, render


__getattr__, __dir__ = lazy_attributes(__name__, _LAZY)
