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


#: The largest seed: seeds are unsigned 63-bit integers.
MAX_SEED = 2**63 - 1


def count_option(default: int | None, maximum: int | None = None, help: str = "Number of images.",
                 required: bool = False):
    """``-n/--n/--count``: how many images, spelled the same in every command."""
    return click.option("-n", "--n", "--count", "count", type=click.IntRange(1, maximum), default=default,
                        required=required, show_default=default is not None, help=help)


def out_option(help: str = "PNG file to write."):
    """``-o/--out``: the file a command writes."""
    return click.option("-o", "--out", type=click.Path(dir_okay=False), required=True, help=help)


class Seed(click.ParamType):
    """An integer 0 .. 2**63 - 1 (written as SEED in help, without the long bound)."""

    name = "seed"

    def convert(self, value, param, ctx):
        try:
            seed = int(value)
        except (TypeError, ValueError):
            self.fail(f"{value!r} is not an integer; give a seed like 0 or 1234", param, ctx)
        if not 0 <= seed <= MAX_SEED:
            self.fail(f"{seed} is out of range; a seed is 0..2**63-1", param, ctx)
        return seed


def seed_option(default: int | None, help: str):
    """``-s/--seed``."""
    return click.option("-s", "--seed", type=Seed(), default=default, show_default=default is not None, help=help)


def tile_option(help: str = "Scale every tile to this side (smaller images are enlarged, pixel for pixel)."):
    """``--tile``: the side of a contact sheet's tiles."""
    return click.option("--tile", type=click.IntRange(8, 4096), default=None, help=help)


def sheet_options(fn):
    """--cols / --labels: the layout of a contact sheet."""
    fn = click.option("--labels/--no-labels", default=True, show_default=True,
                      help="Write each tile's label under it.")(fn)
    return click.option("--cols", type=click.IntRange(1), default=None, help="Columns (default: a square grid).")(fn)


def recipe_options(fn):
    """-s/--seed, --size, --gray, --set: the overrides every command that reads a recipe accepts."""
    fn = click.option("--set", "sets", multiple=True, metavar="KEY=VALUE", callback=parse_set,
                      help="Override a recipe key, e.g. --set ifs.maps=[3,3] (repeatable).")(fn)
    fn = click.option("--gray/--color", "gray", default=None,
                      help="Grayscale (1 channel) or colour images; default: the recipe's.")(fn)
    fn = click.option("--size", type=click.IntRange(8, 8192), default=None,
                      help="Image side in pixels; default: the recipe's.")(fn)
    return seed_option(None, "Seed of the set; default: the recipe's.")(fn)


def trap_option(fn):
    """--trap: sugar for the orbit-trap shape of the escape-time families (``--set julia.trap=[...]`` and
    ``--set mandelbrot.trap=[...]`` at once)."""
    from ..render.escape_names import TRAPS

    return click.option("--trap", type=click.Choice(TRAPS), default=None,
                        help="Orbit trap of every escape-time image (julia, mandelbrot); default: the recipe's.")(fn)


def load(source: str, seed: int | None, size: int | None, gray: bool | None, sets: dict[str, Any],
         trap: str | None = None):
    """The recipe named on the command line, with the command-line overrides applied (``--set`` wins over
    ``--trap``)."""
    from ..recipe import load_recipe
    from ..render.escape_sampler import ESCAPE_FAMILIES

    color = None if gray is None else not gray
    if trap is not None:
        sets = {**{f"{name}.trap": [trap] for name in ESCAPE_FAMILIES}, **sets}
    return load_recipe(source, overrides=sets, seed=seed, size=size, color=color)
