"""Options and helpers shared by the commands."""

from __future__ import annotations

import sys
from typing import Any

import click

if sys.version_info >= (3, 11):
    import tomllib
else:  # pragma: no cover
    import tomli as tomllib


def parse_set(ctx: click.Context, param: click.Parameter, values: tuple[str, ...]) -> dict[str, Any]:
    """``--set key=value`` pairs -> {dotted key: value}; values are read as TOML (``[2, 3]``, ``true``, ``1e5``)
    and fall back to plain strings (``tone=log``)."""
    out = {}
    for item in values:
        key, sep, text = item.partition("=")
        if not sep or not key.strip():
            raise click.BadParameter(f"{item!r} is not KEY=VALUE; write e.g. --set ifs.maps=[3,3]", ctx, param)
        try:
            value = tomllib.loads(f"v = {text}")["v"]
        except tomllib.TOMLDecodeError:
            value = text
        out[key.strip()] = value
    return out


def recipe_options(fn):
    """--seed / --size / --gray / --set: the overrides every command that reads a recipe accepts."""
    fn = click.option("--set", "sets", multiple=True, metavar="KEY=VALUE", callback=parse_set,
                      help="Override a recipe key, e.g. --set ifs.maps=[3,3] (repeatable).")(fn)
    fn = click.option("--gray/--color", "gray", default=None,
                      help="Grayscale (1 channel) or colour images; default: the recipe's.")(fn)
    fn = click.option("--size", type=click.IntRange(8, 8192), default=None,
                      help="Image side in pixels; default: the recipe's.")(fn)
    fn = click.option("--seed", type=click.IntRange(0, 2**63 - 1), default=None,
                      help="Seed of the set; default: the recipe's.")(fn)
    return fn


def trap_option(fn):
    """--trap: sugar for the orbit-trap shape of the escape-time families (``--set julia.trap=[...]`` and
    ``--set mandelbrot.trap=[...]`` at once)."""
    from ..render.escape import TRAPS

    return click.option("--trap", type=click.Choice(TRAPS), default=None,
                        help="Orbit trap of every escape-time image (julia, mandelbrot); default: the recipe's.")(fn)


def load(source: str, seed: int | None, size: int | None, gray: bool | None, sets: dict[str, Any],
         trap: str | None = None):
    """The recipe named on the command line, with the command-line overrides applied (``--set`` wins over
    ``--trap``)."""
    from ..recipe import load_recipe
    from ..render.escape_params import ESCAPE_FAMILIES

    color = None if gray is None else not gray
    if trap is not None:
        sets = {**{f"{name}.trap": [trap] for name in ESCAPE_FAMILIES}, **sets}
    return load_recipe(source, overrides=sets, seed=seed, size=size, color=color)
