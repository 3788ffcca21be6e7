"""``fractalgen render``, ``preview`` and ``recipe``: single images, contact sheets and recipe listings."""

from __future__ import annotations

import json
from pathlib import Path

import click

from .common import count_option, load, out_option, recipe_options, sheet_options, tile_option, trap_option


def _read_params(path: str) -> dict:
    from ..errors import ParamsError

    try:
        data = json.loads(Path(path).read_text())
    except OSError as err:
        raise ParamsError(f"cannot read parameter file '{path}': {err.strerror}; check the path") from None
    except json.JSONDecodeError as err:
        raise ParamsError(f"parameter file '{path}' is not valid JSON ({err}); pass a file written by --params") from None
    return data


@click.command(short_help="Render one image of a recipe (or a params file) to a PNG.")
@click.argument("source")
@recipe_options
@trap_option
@click.option("--index", "-i", type=click.IntRange(0), default=0, show_default=True, help="Which image of the set.")
@out_option()
@click.option("--params", "params_out", type=click.Path(dir_okay=False), default=None,
              help="Also write the image's parameters as JSON (re-render them with `render PARAMS.json`).")
def render(source, seed, size, gray, sets, trap, index, out, params_out):
    """Render one image of a recipe to a PNG.

    SOURCE is a family (ifs, julia, mandelbrot), a preset (ifs-colour, julia-traps), a recipe file (my.toml),
    or a parameter file written by --params (params.json), which re-renders that exact image.

    \b
    Examples:
      fractalgen render julia -s 3 --size 256 -o julia.png
      fractalgen render ipmix-like -i 12 -o f.png --params f.json
      fractalgen render f.json -o same.png
    """
    from .. import render as render_params
    from ..sheet import png_bytes, write_files

    if params_out and Path(params_out).resolve() == Path(out).resolve():
        raise click.BadParameter(f"'{params_out}' is also the image's --out; give the parameters their own file, "
                                 "e.g. params.json", param_hint="'--params'")
    if source.endswith(".json"):
        params = _read_params(source)
        img = render_params(params)
    else:
        recipe = load(source, seed, size, gray, sets, trap)
        img, params = recipe.draw(index)
    files = {out: png_bytes(img)}
    if params_out:
        files[params_out] = (json.dumps(params, indent=1) + "\n").encode()
    write_files(files)  # both or neither: a --params path that cannot be written leaves no PNG behind
    h, w, c = img.shape
    mode = "colour" if c == 3 else "grayscale"
    click.echo(f"wrote {out}: {params['family']} image {params.get('index', '?')}, {w}x{h} {mode}")


@click.command(short_help="Contact sheet of images of a recipe, rendered now.")
@click.argument("source")
@recipe_options
@trap_option
@count_option(64, 4096, "Images to show.")
@click.option("--start", type=click.IntRange(0), default=0, show_default=True, help="First image index.")
@tile_option()
@sheet_options
@out_option()
def preview(source, seed, size, gray, sets, trap, count, start, tile, cols, labels, out):
    """Render a contact sheet of images of a recipe (indices START to START+N-1).

    SOURCE is a family (ifs, julia, mandelbrot), a preset (ifs-colour, julia-traps) or a recipe file (my.toml).

    \b
    Examples:
      fractalgen preview ifs-colour -n 64 --size 128 -o sheet.png
      fractalgen preview julia-traps -n 16 --size 32 --tile 96 -o small.png
    """
    from tqdm import tqdm

    from ..sheet import contact_sheet, save_png

    recipe = load(source, seed, size, gray, sets, trap)
    indices = range(start, start + count)
    with tqdm(indices, desc="rendering", unit="img", leave=False) as bar:  # closed (cleared) on an error too
        images = [recipe.image(i) for i in bar]
    save_png(contact_sheet(images, cols=cols, labels=[str(i) for i in indices] if labels else None, tile=tile), out)
    click.echo(f"wrote {out}: images {start}..{start + count - 1} of {recipe.source} "
               f"({recipe.size}px, seed {recipe.seed})")


@click.command("recipe", short_help="Print a recipe in full as TOML, or list presets and keys.")
@click.argument("source", required=False)
@recipe_options
@click.option("--keys", is_flag=True, help="List every recipe key with its accepted values and meaning.")
def recipe_cmd(source, seed, size, gray, sets, keys):
    """Print a recipe in full (every default filled in), ready to save as a .toml and edit.

    Without SOURCE, list the built-in presets and families.

    \b
    Examples:
      fractalgen recipe
      fractalgen recipe julia-traps > mine.toml
      fractalgen recipe --keys
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
