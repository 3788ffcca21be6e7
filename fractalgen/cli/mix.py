"""``fractalgen mix``: a contact sheet of what training will see, the input image then n augmented versions."""

from __future__ import annotations

import click

from .common import count_option, out_option, seed_option, sheet_options, tile_option

#: Smallest default tile of a mix sheet: smaller training images are enlarged by a whole factor up to it.
MIN_TILE = 96


def _load_image(path: str, size: int):
    """The image at ``path`` as uint8 RGB, resized (shorter side) and centre-cropped to ``size`` x ``size``."""
    from ..errors import ImageInputError
    from ..images import fit_square, read_image

    try:
        rgb, _ = read_image(path, "RGB")
    except ImageInputError as err:
        raise ImageInputError(f"cannot read image '{path}' ({err}); pass a PNG or JPEG file") from None
    with rgb:
        return fit_square(rgb, size)


@click.command(short_help="Sheet of a mixing method's views of one image.")
@click.argument("source")
@click.argument("image", type=click.Path(exists=True, dir_okay=False))
@click.option("--method", "-m", type=click.Choice(["pixmix", "ipmix", "layermix", "fractalmaskmix"]),
              default="ipmix", show_default=True,
              help="Mixing method (fractalmaskmix: the MiAMix masks mixing in a fractal).")
@click.option("--preset", type=click.Choice(["cifar", "imagenet"]), default=None,
              help="Hyper-parameters of PixMix / IPMix / LayerMix; default: cifar up to --size 64, else imagenet.")
@click.option("--variant", type=click.Choice(["paper", "released"]), default="paper", show_default=True,
              help="PixMix / IPMix / LayerMix: the paper's algorithm (released code's defects fixed), or what the "
                   "authors' released code does, defects included (to reproduce a published number).")
@count_option(16, 1024, "Augmented versions to show.")
@click.option("--size", type=click.IntRange(8, 2048), default=224, show_default=True,
              help="Training size: the image is resized and centre-cropped to it.")
@seed_option(None, "Seed of the augmentations (default 0) and of the fractals rendered for a preset or recipe "
                  "SOURCE (default: the recipe's own seed).")
@click.option("--fractals", type=click.IntRange(1, 100_000), default=64, show_default=True,
              help="When SOURCE is a preset or recipe: how many fractals to render for the sheet.")
@click.option("--online", is_flag=True,
              help="SOURCE is a preset or recipe: render a new fractal for every view, inside the loop, as "
                   "FractalSource.online does in training (--fractals is then unused).")
@tile_option(f"Side of each tile on the sheet; default: --size, enlarged by a whole factor to at least "
             f"{MIN_TILE} px (pixel for pixel, so a 32 px view shows its real pixels).")
@sheet_options
@out_option()
def mix(source, image, method, preset, variant, count, size, seed, fractals, online, tile, cols, labels, out):
    """Show a mixing method on one image: the input, then N augmented versions, as a PNG sheet.

    SOURCE is a fractal store folder, or a preset / recipe (ifs-colour, my.toml) from which --fractals images are
    rendered now at the mixing size (with --online: a new one rendered for every view). IMAGE is a PNG or JPEG
    file.

    \b
    Examples:
      fractalgen mix out/ipmix-like photo.jpg -m ipmix -n 16 --size 224 -o ipmix-sheet.png
      fractalgen mix ifs-gray photo.jpg -m layermix --size 32 -o sheet.png
      fractalgen mix ifs-colour photo.jpg -m ipmix --variant released --size 32 -o released.png
    """
    import warnings

    from ..errors import ReleasedVariantWarning
    from ..mixing import METHODS, FractalSource
    from ..mixing.base import released_note
    from ..sheet import contact_sheet, save_png

    img = _load_image(image, size)
    preset = preset or ("cifar" if size <= 64 else "imagenet")
    if online:
        from ..recipe import load_recipe

        fractal_source = FractalSource.online(load_recipe(source, seed=seed), size, seed=seed)
        what = "a new fractal per view"
    else:
        fractal_source = FractalSource.from_name(source, size, n=fractals, seed=seed)
        what = f"{len(fractal_source)} fractals"
    seed = 0 if seed is None else seed
    with warnings.catch_warnings():  # said below in one line, not Python's two-line warning format
        warnings.simplefilter("ignore", ReleasedVariantWarning)
        aug = METHODS[method](fractal_source, preset, seed=seed, variant=variant)
    if variant == "released":
        click.echo(f"note: {released_note(type(aug).__name__, aug.RELEASED_DEFECTS)}", err=True)
    views = [aug(img) for _ in range(count)]
    names = ["input", *(str(i) for i in range(1, count + 1))] if labels else None
    tile = tile or size * max(1, -(-MIN_TILE // size))
    save_png(contact_sheet([img, *views], cols=cols, labels=names, tile=tile), out)
    click.echo(f"wrote {out}: the input and {count} {type(aug).__name__} views (preset {preset}, variant {variant}, {size}px, "
               f"{what} from {source})")


COMMANDS = [mix]
