"""``fractalgen generate``, ``import``, ``info``, ``show``, ``export`` and ``verify``: thin commands over
:mod:`fractalgen.store` and :mod:`fractalgen.generate`."""

from __future__ import annotations

import click

from .common import load, recipe_options


class IndexSpec(click.ParamType):
    """``0:64``, ``10:100:5``, ``3,17,42`` or ``7``: image indices (negative ones count from the end)."""

    name = "INDICES"

    def convert(self, value, param, ctx):
        if not isinstance(value, str):
            return value
        try:
            if ":" in value:
                parts = [int(p) if p.strip() else None for p in value.split(":")]
                if len(parts) > 3:
                    raise ValueError
                if len(parts) == 3 and parts[2] == 0:
                    self.fail(f"{value!r} has a step of 0; use a step of 1 or more, e.g. 0:64:2", param, ctx)
                return slice(*parts)
            return [int(p) for p in value.split(",")]
        except ValueError:
            self.fail(f"{value!r} is not START:STOP[:STEP] or a comma-separated list of indices", param, ctx)


def resolve_indices(spec, count: int) -> list[int]:
    """The store indices an --indices value selects; a selection that is empty or out of range is bad input
    (exit 2)."""
    from . import UserError

    if isinstance(spec, slice):
        chosen = list(range(*spec.indices(count)))
        if not chosen:
            stop = "" if spec.stop is None else spec.stop
            raise UserError(f"--indices {'' if spec.start is None else spec.start}:{stop}"
                            f"{'' if spec.step is None else f':{spec.step}'} selects no image of a store of "
                            f"{count}; use e.g. 0:{min(count, 64)}", 2)
        return chosen
    bad = [i for i in spec if not -count <= i < count]
    if bad:
        raise UserError(f"index {bad[0]} is out of range for a store of {count} images; use 0..{count - 1}", 2)
    return [i % count for i in spec]


def family_option(fn):
    """--family: keep only the images of these fractal families (repeatable)."""
    return click.option("--family", "families", multiple=True, metavar="NAME",
                        help="Only images of this family, e.g. julia (repeatable); not with --indices.")(fn)


def family_pool(store, families: tuple[str, ...], indices) -> "list[int] | None":
    """The store indices of ``families`` (None when no --family was given); --family with --indices is an
    error."""
    if not families:
        return None
    if indices is not None:
        raise click.UsageError("--family and --indices both choose images; give one of them")
    return store.subset(family=list(families)).indices.tolist()


def store_options(fn):
    """Options of the commands that write a store."""
    from ..store import COMPRESSIONS, DEFAULT_COMPRESSION
    from ..store.build import available_cores

    fn = click.option("--quiet", "-q", is_flag=True, help="No progress bar.")(fn)
    fn = click.option("--overwrite", is_flag=True,
                      help="Replace a store (or unfinished run) of another set in OUT: deletes its shards.")(fn)
    fn = click.option("--resume", is_flag=True,
                      help="Finish an interrupted run (or repair a damaged store) of the same command: checks every "
                           "finished shard and makes only the missing or damaged ones.")(fn)
    fn = click.option("--compression", type=click.Choice(COMPRESSIONS), default=DEFAULT_COMPRESSION,
                      show_default=True,
                      help="HDF5 compression of the images: gzip (small, portable, reproducible bytes), lzf "
                           "(faster to write, bytes may vary between runs) or none (fastest reads, ~5x the disk).")(fn)
    fn = click.option("--shard-size", type=click.IntRange(1), default=None,
                      help="Images per shard file (default: ~192 MiB of raw pixels, e.g. 1024 at 256 px).")(fn)
    fn = click.option("--workers", type=click.IntRange(1), default=None,
                      help=f"Worker processes (default: all cores, {available_cores()} here).")(fn)
    return fn


def _run_build(ctx: click.Context, fn, *args, **kwargs):
    """Run a store build; Ctrl-C ends with the resume hint and exit status 130."""
    from ..store import Interrupted

    try:
        return fn(*args, log=lambda line: click.echo(line, err=True), **kwargs)
    except Interrupted as err:
        click.echo(f"\n{err}", err=True)
        ctx.exit(130)


def _done(store) -> None:
    h, w, c = store.shape
    size = sum(s.bytes for s in store.shards)
    n = store.plan.n_shards
    click.echo(f"done: {store.path} holds {len(store)} images {h}x{w}x{c} in {n} shard{'s' * (n != 1)} "
               f"({size / 1e6:.1f} MB, {store.plan.compression})")


@click.command()
@click.argument("source")
@click.argument("out", type=click.Path(file_okay=False))
@click.option("--count", "-n", type=click.IntRange(1), required=True, help="Number of images.")
@recipe_options
@store_options
@click.pass_context
def generate(ctx, source, out, count, seed, size, gray, sets, workers, shard_size, compression, resume, overwrite,
             quiet):
    """Render COUNT images of a recipe into a sharded HDF5 store at OUT.

    SOURCE is a preset (ifs-colour), a family (ifs) or a recipe file (sample_sets/ifs-gray.toml). Image i is a
    pure function of (recipe, seed, i): the store's bytes do not depend on --workers. Ctrl-C stops cleanly;
    repeat the command with --resume to finish.
    """
    from ..generate import generate as generate_set

    recipe = load(source, seed, size, gray, sets)
    store = _run_build(ctx, generate_set, recipe, out, count, shard_size=shard_size, compression=compression,
                       workers=workers, resume=resume, overwrite=overwrite, progress=not quiet)
    _done(store)


@click.command("import")
@click.argument("src", type=click.Path(exists=True, file_okay=False))
@click.argument("out", type=click.Path(file_okay=False))
@click.option("--size", type=click.IntRange(8, 8192), required=True, help="Side of the stored square images.")
@click.option("--gray", is_flag=True, help="Store grayscale (1 channel) instead of RGB.")
@store_options
@click.pass_context
def import_cmd(ctx, src, out, size, gray, workers, shard_size, compression, resume, overwrite, quiet):
    """Import every image under SRC (recursive: jpg, png, webp, bmp, gif, tif) into a store at OUT.

    Files are sorted by relative path; each is converted to RGB (or --gray), its shorter side resized to SIZE
    (bilinear, antialiased) and centre-cropped to SIZE x SIZE. The params of each image hold its relative path
    and original size. A file that cannot be decoded stops the import and is named.
    """
    from ..store import import_folder, open_store

    path = _run_build(ctx, import_folder, src, out, size, gray=gray, shard_size=shard_size, compression=compression,
                      workers=workers, resume=resume, overwrite=overwrite, progress=not quiet)
    with open_store(path) as store:
        _done(store)


@click.command()
@click.argument("store_path", metavar="STORE")
@click.option("--recipe", "show_recipe", is_flag=True, help="Print the recipe of a generated set as TOML instead.")
def info(store_path, show_recipe):
    """Counts, size on disk, origin, per-image columns (families, draws) and the shard table of a store."""
    from ..errors import StoreError
    from ..store import info_lines, open_store

    with open_store(store_path) as store:
        if show_recipe:
            if store.recipe is None:
                raise StoreError(f"'{store_path}' was imported, not generated from a recipe")
            click.echo(store.recipe.to_toml(), nl=False)
            return
        for line in info_lines(store):
            click.echo(line)


@click.command()
@click.argument("store_path", metavar="STORE")
@click.option("--out", type=click.Path(dir_okay=False), required=True, help="PNG file to write.")
@click.option("--n", "count", type=click.IntRange(1, 4096), default=64, show_default=True,
              help="Images in a random sample.")
@click.option("--indices", type=IndexSpec(), default=None, help="Show these instead, e.g. 0:64 or 3,17,42.")
@click.option("--seed", type=click.IntRange(0), default=0, show_default=True, help="Seed of the random sample.")
@click.option("--tile", type=click.IntRange(8, 4096), default=None, help="Resize each image to this side first.")
@click.option("--cols", type=click.IntRange(1), default=None, help="Columns (default: a square grid).")
@click.option("--labels/--no-labels", default=True, show_default=True, help="Print each image's index on it.")
@family_option
def show(store_path, out, count, indices, seed, tile, cols, labels, families):
    """Write a contact sheet of images of a store: a seeded random sample (of --family), or --indices."""
    from ..sheet import save_png
    from ..store import open_store
    from ..store.export import random_indices, store_sheet

    with open_store(store_path) as store:
        pool = family_pool(store, families, indices)
        if indices is not None:
            chosen = resolve_indices(indices, len(store))
        elif pool is not None:
            chosen = [pool[i] for i in random_indices(len(pool), count, seed)]
        else:
            chosen = random_indices(len(store), count, seed)
        save_png(store_sheet(store, chosen, tile=tile, cols=cols, labels=labels), out)
    click.echo(f"wrote {out}: {len(chosen)} images of {store_path}")


@click.command()
@click.argument("store_path", metavar="STORE")
@click.argument("out", type=click.Path(file_okay=False))
@click.option("--n", "count", type=click.IntRange(1), default=None, help="Export images 0..N-1 (default: all).")
@click.option("--indices", type=IndexSpec(), default=None, help="Export these instead, e.g. 100:200 or 3,17,42.")
@click.option("--imagefolder", is_flag=True,
              help="Torchvision ImageFolder layout: OUT/<family>/<index>.png, one class folder per fractal family "
                   "(a store without families, e.g. an imported one, uses the single folder OUT/fractals/).")
@family_option
def export(store_path, out, count, indices, imagefolder, families):
    """Write images of a store as PNG files named by index (000042.png)."""
    from ..store import export_pngs, open_store

    with open_store(store_path) as store:
        pool = family_pool(store, families, indices)
        if indices is not None:
            chosen = resolve_indices(indices, len(store))
        elif pool is not None:
            chosen = pool[:count]
        else:
            chosen = range(min(count or len(store), len(store)))
        n = export_pngs(store, out, chosen, class_column="family" if imagefolder else None)
    click.echo(f"wrote {n} PNG files to {out}" + (" (ImageFolder layout)" if imagefolder else ""))


@click.command()
@click.argument("store_path", metavar="STORE")
@click.option("--rerender", type=click.IntRange(0), default=0, show_default=True,
              help="Also re-render this many random images from their params and compare the bytes.")
@click.option("--seed", type=click.IntRange(0), default=0, show_default=True, help="Seed picking those images.")
@click.option("--quiet", "-q", is_flag=True, help="No progress bar.")
def verify(store_path, rerender, seed, quiet):
    """Check every shard (size, sha256, layout, index) and every image's checksum; exit 0 only if all is well.

    Each problem is printed on its own line, naming the shard file and the image index.
    """
    from ..generate import rerender_check
    from ..store import open_store, verify_store
    from ..store.report import describe_problems

    report = verify_store(store_path, progress=not quiet)
    problems = list(report.problems)
    if rerender and report.ok:
        with open_store(store_path) as store:
            problems += rerender_check(store, rerender, seed)
    for line in problems:
        click.echo(line)
    if problems:
        report.problems = problems
        raise describe_problems(report)
    extra = f", {min(rerender, report.images)} re-rendered identically" if rerender else ""
    click.echo(f"ok: {report.images} images in {report.shards} shard{'s' * (report.shards != 1)} verified{extra}")


COMMANDS = [generate, import_cmd, info, show, export, verify]
