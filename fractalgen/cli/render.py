"""``fractalgen render``, ``preview`` and ``recipe``: single images, contact sheets and recipe listings."""

from __future__ import annotations

import json
from pathlib import Path

import click
from tqdm import tqdm

from .common import load, recipe_options, trap_option


def _read_params(path: str) -> dict:
    from ..errors import ParamsError

    try:
        data = json.loads(Path(path).read_text())
    except OSError as err:
        raise ParamsError(f"cannot read parameter file '{path}': {err.strerror}; check the path") from None
    except json.JSONDecodeError as err:
        raise ParamsError(f"parameter file '{path}' is not valid JSON ({err}); pass a file written by --params") from None
    return data


@click.command()
@click.argument("source")
@recipe_options
@trap_option
@click.option("--index", type=click.IntRange(0), default=0, show_default=True, help="Which image of the set.")
@click.option("--out", type=click.Path(dir_okay=False), required=True, help="PNG file to write.")
@click.option("--params", "params_out", type=click.Path(dir_okay=False), default=None,
              help="Also write the image's parameters as JSON (re-render them with `render PARAMS.json`).")
def render(source, seed, size, gray, sets, trap, index, out, params_out):
    """Render one image of a recipe to a PNG.

    SOURCE is a family (ifs, julia, mandelbrot), a preset (ifs-colour, julia-traps), a recipe file (my.toml),
    or a parameter file written by --params (params.json), which re-renders that exact image.
    """
    from .. import render as render_params
    from ..sheet import save_png, write_file

    if source.endswith(".json"):
        params = _read_params(source)
        img = render_params(params)
    else:
        recipe = load(source, seed, size, gray, sets, trap)
        img, params = recipe.draw(index)
    save_png(img, out)
    if params_out:
        write_file(params_out, (json.dumps(params, indent=1) + "\n").encode())
    h, w, c = img.shape
    mode = "colour" if c == 3 else "grayscale"
    click.echo(f"wrote {out}: {params['family']} image {params.get('index', '?')}, {w}x{h} {mode}")


@click.command()
@click.argument("source")
@recipe_options
@trap_option
@click.option("--n", "count", type=click.IntRange(1, 4096), default=64, show_default=True, help="Images to show.")
@click.option("--start", type=click.IntRange(0), default=0, show_default=True, help="First image index.")
@click.option("--cols", type=click.IntRange(1), default=None, help="Columns (default: a square grid).")
@click.option("--labels/--no-labels", default=True, show_default=True, help="Print each image's index on it.")
@click.option("--out", type=click.Path(dir_okay=False), required=True, help="PNG file to write.")
def preview(source, seed, size, gray, sets, trap, count, start, cols, labels, out):
    """Render a contact sheet of images of a recipe (indices START to START+N-1).

    SOURCE is a family (ifs, julia, mandelbrot), a preset (ifs-colour, julia-traps) or a recipe file (my.toml).
    """
    from ..sheet import contact_sheet, save_png

    recipe = load(source, seed, size, gray, sets, trap)
    indices = range(start, start + count)
    images = [recipe.image(i) for i in tqdm(indices, desc="rendering", unit="img", leave=False)]
    save_png(contact_sheet(images, cols=cols, labels=[str(i) for i in indices] if labels else None), out)
    click.echo(f"wrote {out}: images {start}..{start + count - 1} of {recipe.source} "
               f"({recipe.size}px, seed {recipe.seed})")


@click.command("recipe")
@click.argument("source", required=False)
@recipe_options
@click.option("--keys", is_flag=True, help="List every recipe key with its accepted values and meaning.")
def recipe_cmd(source, seed, size, gray, sets, keys):
    """Print a recipe in full (every default filled in), ready to save as a .toml and edit.

    Without SOURCE, list the built-in presets and families.
    """
    from ..recipe import FAMILIES, presets, recipe_keys

    if keys:
        for key, accepted, doc, default in recipe_keys():
            click.echo(f"{key:<24} {doc}\n{'':<24}   {accepted}; default {default!r}")
        return
    if source is None:
        click.echo("presets:  " + ", ".join(presets()))
        click.echo("families: " + ", ".join(FAMILIES))
        return
    click.echo(load(source, seed, size, gray, sets).to_toml(), nl=False)


COMMANDS = [render, preview, recipe_cmd]
