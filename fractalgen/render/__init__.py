"""Renderers: pure functions from a parameter dict to a uint8 image, one module per fractal family.

Rendered bytes are versioned: :data:`RENDER_VERSION` is recorded in every image's params (and in a store's
manifest) and goes up with any deliberate change of the pixels some params render to (the random stream, the
sampling order, a rounding). :func:`render` refuses params recorded by a newer version, which this code would
render differently; the golden set under ``tests/golden/`` pins the bytes of the current version.

A family is registered in :data:`FAMILIES` with its settings class (the recipe section of the same name), a
sampler ``(rng, settings, size, color) -> params`` and a renderer ``(params, gate=None) -> image``. The recipe
layer draws parameters, the renderer draws pixels; nothing here knows about files or stores.
"""

from __future__ import annotations

import dataclasses
from typing import Any, Callable

import numpy as np

from ..errors import ParamsError
from . import escape, escape_params, ifs

#: Version of the rendered bytes: bump it (and regenerate tests/golden/) when a change alters any image.
RENDER_VERSION = 1


@dataclasses.dataclass(frozen=True)
class Family:
    """One fractal family: its recipe section, its parameter sampler and its renderer."""

    name: str
    description: str
    settings: type
    sample: Callable[[np.random.Generator, Any, int, bool], dict]
    render: Callable[..., np.ndarray]

    def gate(self, settings: Any) -> Any:
        """The quality-gate settings of this family's recipe section."""
        return settings.gate


FAMILIES: dict[str, Family] = {
    "ifs": Family("ifs", "iterated function systems drawn by the chaos game", ifs.IfsConfig,
                  ifs.sample_ifs, ifs.render_ifs),
    "julia": Family("julia", "Julia sets of z -> z^d + c (c near the Mandelbrot boundary) with orbit traps",
                    escape_params.JuliaConfig, escape_params.sample_julia, escape.render_escape),
    "mandelbrot": Family("mandelbrot", "Mandelbrot, multibrot and Burning Ship windows found by a seeded zoom, "
                         "with orbit traps", escape_params.MandelbrotConfig, escape_params.sample_mandelbrot,
                         escape.render_escape),
}


def family(name: str) -> Family:
    try:
        return FAMILIES[name]
    except KeyError:
        raise ParamsError(f"unknown fractal family {name!r}; known families: {', '.join(FAMILIES)}") from None


def render(params: dict) -> np.ndarray:
    """Re-render an image from its stored parameters (``recipe.params(i)`` or ``store.params(i)``).

    Returns uint8 (size, size, 3) for colour and (size, size, 1) for grayscale, byte-identical to the image
    the parameters were recorded with.
    """
    if not isinstance(params, dict) or "family" not in params:
        raise ParamsError("render() takes the parameter dict of one image (recipe.params(i)), "
                          "with a 'family' key")
    check_version(params.get("render_version", 1))
    return family(params["family"]).render(params)


def check_version(version: object) -> None:
    """Refuse params (or a store) written by a renderer newer than this one: their bytes may differ here."""
    if isinstance(version, bool) or not isinstance(version, int) or version < 1:
        raise ParamsError(f"params key 'render_version' = {version!r} is not a positive integer; "
                          "pass params written by recipe.params(i) or store.params(i)")
    if version > RENDER_VERSION:
        raise ParamsError(f"these params were written by render version {version}, newer than this fractalgen's "
                          f"({RENDER_VERSION}); they would not re-render the same image: upgrade fractalgen")
