"""The fractal families: each family's recipe section, parameter sampler, params check and renderer;
:func:`render` and the version of the rendered bytes."""

from __future__ import annotations

import dataclasses
from typing import Callable

import numpy as np

from ..errors import ParamsError
from ..schema import short_repr
from . import escape, escape_sampler, ifs
from .batch import Drawn  # noqa: F401 (the type of Family.draw's result)

#: Version of the rendered bytes: bump it (and regenerate tests/golden/) when a change alters any image.
#: Version 2 (fractalgen 0.2) draws every parameter inside numba kernels from derived streams
#: (:func:`fractalgen._random.stream_of`) and renders batches of images in one kernel call; version 1 drew them
#: with numpy generators, one image at a time, so its images and params differ.
RENDER_VERSION = 2


@dataclasses.dataclass(frozen=True)
class Family:
    """One fractal family: its recipe section, its parameter sampler and its renderer."""

    name: str
    description: str
    settings: type
    #: ``draw(cfg, size, color, seed, indices, max_draws, with_params) -> Drawn``: images ``indices`` (int64
    #: array) of a set; draw ``d`` of image ``i`` takes its numbers from the stream of (seed, i, d,
    #: STREAM_PARAMS) only, so a batch gives each image byte for byte what a batch of one gives it.
    draw: Callable[..., Drawn]
    render: Callable[[dict], np.ndarray]  # re-renders one image from its params (no gate)
    check: Callable[[dict], None]  # raises ParamsError naming a key render cannot take


FAMILIES: dict[str, Family] = {
    "ifs": Family("ifs", "iterated function systems drawn by the chaos game", ifs.IfsConfig,
                  ifs.draw_ifs, ifs.render_ifs, ifs.check_params),
    "julia": Family("julia", "Julia sets of z -> z^d + c (c near the Mandelbrot boundary) with orbit traps",
                    escape_sampler.JuliaConfig, escape_sampler.draw_julia, escape.render_escape, escape.check_params),
    "mandelbrot": Family("mandelbrot", "Mandelbrot, multibrot and Burning Ship windows found by a seeded zoom, "
                         "with orbit traps", escape_sampler.MandelbrotConfig, escape_sampler.draw_mandelbrot,
                         escape.render_escape, escape.check_params),
}


def family(name: str) -> Family:
    try:
        return FAMILIES[name]
    except (KeyError, TypeError):  # TypeError: an unhashable name (a list)
        raise ParamsError(f"unknown fractal family {short_repr(name)}; known families: {', '.join(FAMILIES)}") from None


def render(params: dict) -> np.ndarray:
    """Re-render an image from its stored parameters (``recipe.params(i)`` or ``store.params(i)``).

    Returns uint8 (size, size, 3) for colour and (size, size, 1) for grayscale, byte-identical to the image
    the parameters were recorded with. Params that are malformed (a key missing, a value of the wrong type or
    out of range) or from a newer :data:`RENDER_VERSION` raise :class:`~fractalgen.errors.ParamsError`.
    """
    if not isinstance(params, dict) or "family" not in params:
        raise ParamsError("render() takes the parameter dict of one image (recipe.params(i)), "
                          "with a 'family' key")
    check_version(params.get("render_version", 1))
    fam = family(params["family"])
    fam.check(params)
    return fam.render(params)


def check_version(version: object) -> None:
    """Refuse params (or a store) written by a renderer newer than this one: their bytes may differ here."""
    if isinstance(version, bool) or not isinstance(version, int) or version < 1:
        raise ParamsError(f"params key 'render_version' = {short_repr(version)} is not a positive integer; "
                          "pass params written by recipe.params(i) or store.params(i)")
    if version > RENDER_VERSION:
        raise ParamsError(f"these params were written by render version {version}, newer than this fractalgen's "
                          f"({RENDER_VERSION}); they would not re-render the same image: upgrade fractalgen")
    if version < RENDER_VERSION:
        raise ParamsError(f"these params were written by render version {version}; this fractalgen renders version "
                          f"{RENDER_VERSION} and would not re-render the same image: use fractalgen "
                          f"{OLD_RELEASES[version]} for them")


#: The last release that rendered each older version.
OLD_RELEASES = {1: "0.1"}
