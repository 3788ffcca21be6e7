"""``fractalgen stats``: the per-image measures of one or more sets as a table (or JSON) and a figure; a thin
command over :mod:`fractalgen.stats`."""

from __future__ import annotations

import click

from ..stats_names import HASH_BITS, MEASURES, NEAR_BITS, POOL_MIN_IMAGES
from .common import count_option, seed_option


@click.command(short_help="Compare sets: per-image measures, a table and a figure.")
@click.argument("stores", nargs=-1, required=True, metavar="STORE [STORE ...]")
@click.option("-o", "--out", type=click.Path(dir_okay=False), default=None,
              help='Also draw the figure into this PNG file (needs pip install "fractalgen[plots]").')
@count_option(None, help="Measure a seeded random sample of at most N images of each set (default: all).")
@seed_option(0, "Seed of the -n sample (the sample `fractalgen show -n N -s SEED` shows).")
@click.option("--json", "as_json", is_flag=True, help="Print JSON instead of the table.")
@click.option("--by", type=click.Choice(MEASURES), default="entropy", show_default=True,
              help="The measure whose lowest and highest images the figure shows.")
@click.option("--extremes", type=click.IntRange(1, 16), default=4, show_default=True,
              help="How many of the lowest and of the highest images the figure shows per set.")
@click.option("--near-bits", type=click.IntRange(0, HASH_BITS), default=NEAR_BITS, show_default=True,
              help=f"Two images are near-duplicates when their {HASH_BITS}-bit dHashes differ in at most this many "
                   "bits.")
@click.option("--workers", type=click.IntRange(1), default=None,
              help=f"Worker processes (default: every core for {POOL_MIN_IMAGES:,} images or more, else this "
                   "process).")
@click.option("--quiet", "-q", is_flag=True, help="No progress bar.")
def stats(stores, out, count, seed, as_json, by, extremes, near_bits, workers, quiet):
    """Measure every image of each STORE and compare the sets: fill, entropy, colourfulness, edges,
    brightness and the distance to the nearest other image's dHash, per set as mean, std and quantiles, with
    the near-duplicate rate.

    The near-duplicate rate compares every pair of images (about 6 x 10^8 pairs a second per core): measure
    a sample of a set of millions with -n. With -o, also draw one figure: a histogram per measure with one colour per set, and each set's lowest and
    highest images in --by. Works on any store: generated, imported (a PixMix folder), colour or grayscale.
    The measures are defined in the documentation of fractalgen.stats.

    \b
    Examples:
      fractalgen stats out/ifs
      fractalgen stats out/ifs out/mix -o stats.png
      fractalgen stats out/ifs out/pixmix-set --by fill -o fill.png
      fractalgen stats out/ifs --json -q
      fractalgen stats out/huge-set -n 20000 -o sample.png
    """
    import json

    from ..errors import NoStoreError
    from ..stats import draw, measure_sets, require_matplotlib, table_lines, to_json
    from ..store import is_image_folder, open_store

    if out is not None:
        require_matplotlib()  # before the work, not after it
    opened = []
    for path in stores:  # a path without a store exits 2, a damaged or unfinished store 1 (fractalgen.cli)
        if is_image_folder(path):
            raise NoStoreError(f"'{path}' is a folder of images, not a store: import it first, e.g. `fractalgen "
                               f"import {path} out/set --size 64`, then run stats on out/set")
        opened.append(open_store(path))
    sets = measure_sets(opened, count=count, seed=seed, workers=workers, progress=not quiet, near_bits=near_bits)
    for store in opened:
        store.close()
    if as_json:
        click.echo(json.dumps(to_json(sets, by, extremes), indent=2))
    else:
        for line in table_lines(sets):
            click.echo(line)
    if out is not None:
        draw(sets, out, by, extremes)
        click.echo(f"wrote {out}", err=as_json)  # --json keeps stdout pure JSON


COMMANDS = [stats]
