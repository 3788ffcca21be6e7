"""``fractalgen generate``, ``import``, ``info``, ``show``, ``export`` and ``verify``: thin commands over
:mod:`fractalgen.store` and :mod:`fractalgen.generate`."""

from __future__ import annotations

import click

from .common import count_option, load, out_option, recipe_options, seed_option, sheet_options, tile_option


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
            else:
                parts = [int(p) for p in value.split(",")]
        except ValueError:
            self.fail(f"{value!r} is not START:STOP[:STEP] or a comma-separated list of indices", param, ctx)
        if ":" not in value:
            return parts
        if len(parts) == 3 and parts[2] is not None and parts[2] <= 0:
            self.fail(f"{value!r} has step {parts[2]}; the step of START:STOP:STEP must be 1 or more", param, ctx)
        return slice(*parts)


def select(ctx: click.Context, total: int, count: int | None, indices, *, pool: list[int] | None = None,
           default: int | None = None, seed: int | None = None) -> list[int]:
    """The images a command works on, from ``-n/--n``, ``--indices`` and ``--family`` (``pool``: the indices
    of those families), checked against the store's ``total`` images: --indices excludes the other two, and
    indices reaching past either end are an error (exit 2), never silently cut short. ``-n`` takes at most N
    images: with ``seed`` a seeded random sample of the pool, else its first N; without ``-n``, ``default``
    images, or all of them."""
    from ..store.export import random_indices

    if indices is not None and count is not None:
        raise click.UsageError("give either -n/--n or --indices, not both", ctx)
    if indices is None:
        pool = list(range(total)) if pool is None else pool
        n = min(len(pool), count or default or len(pool))  # -n is at most N: the command says how many it took
        return [pool[i] for i in random_indices(len(pool), n, seed)] if seed is not None else pool[:n]
    param = param_named(ctx, "indices")
    if isinstance(indices, slice):
        for end in (indices.start, indices.stop):
            if end is not None and not -total <= end <= total:
                raise click.BadParameter(f"{end} is out of range for a store of {total} images; indices run "
                                         f"0..{total - 1} (or -{total}..-1 from the end)", ctx, param)
        chosen = list(range(*indices.indices(total)))
        if not chosen:
            raise click.BadParameter(f"{_spec(indices)} selects no image of a store of {total}", ctx, param)
        return chosen
    bad = [i for i in indices if not -total <= i < total]
    if bad:
        raise click.BadParameter(f"index {bad[0]} is out of range for a store of {total} images; use "
                                 f"0..{total - 1} (or -{total}..-1 from the end)", ctx, param)
    return [i % total for i in indices]


def _spec(s: slice) -> str:
    text = ":".join("" if v is None else str(v) for v in (s.start, s.stop, s.step))
    return text[:-1] if s.step is None else text


def param_named(ctx: click.Context, name: str) -> click.Parameter | None:
    return next((p for p in ctx.command.params if p.name == name), None)


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
    from .._machine import available_cores
    from ..store.manifest import COMPRESSIONS, DEFAULT_COMPRESSION

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
    """Run a store build; Ctrl-C (SIGTERM) ends with the resume hint and exit status 130 (143)."""
    from ..store import Interrupted

    try:
        return fn(*args, log=lambda line: click.echo(line, err=True), **kwargs)
    except Interrupted as err:
        click.echo(f"\n{err}", err=True)
        ctx.exit(err.exit_code)


def _done(store) -> None:
    h, w, c = store.shape
    size = sum(s.bytes for s in store.shards)
    n = store.plan.n_shards
    click.echo(f"done: {store.path} holds {len(store)} images {h}x{w}x{c} in {n} shard{'s' * (n != 1)} "
               f"({size / 1e6:.1f} MB, {store.plan.compression})")


@click.command(short_help="Render N images of a recipe into a sharded HDF5 store.")
@click.argument("source")
@click.argument("out", type=click.Path(file_okay=False))
@count_option(None, required=True, help="Number of images.")
@recipe_options
@store_options
@click.pass_context
def generate(ctx, source, out, count, seed, size, gray, sets, workers, shard_size, compression, resume, overwrite,
             quiet):
    """Render COUNT images of a recipe into a sharded HDF5 store at OUT.

    SOURCE is a preset (ifs-colour), a family (ifs) or a recipe file (sample_sets/ifs-gray.toml). Image i is a
    pure function of (recipe, seed, i): the store's bytes do not depend on --workers. Ctrl-C stops cleanly;
    repeat the command with --resume to finish.

    \b
    Examples:
      fractalgen generate ifs-colour out/ifs -n 20000 --size 256 --workers 2
      fractalgen generate sample_sets/ipmix-like.toml out/mix -n 10000
      fractalgen generate ifs-colour out/ifs -n 20000 --size 256 --resume
    """
    from ..generate import generate as generate_set

    recipe = load(source, seed, size, gray, sets)
    store = _run_build(ctx, generate_set, recipe, out, count, shard_size=shard_size, compression=compression,
                       workers=workers, resume=resume, overwrite=overwrite, progress=not quiet)
    _done(store)


@click.command("import", short_help="Import a folder of images (e.g. PixMix's) into a store.")
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

    \b
    Examples:
      fractalgen import ~/fractals_and_fvis out/pixmix-set --size 256
      fractalgen import photos/ out/photos --size 64 --gray
    """
    from ..store import import_folder, open_store

    path = _run_build(ctx, import_folder, src, out, size, gray=gray, shard_size=shard_size, compression=compression,
                      workers=workers, resume=resume, overwrite=overwrite, progress=not quiet)
    with open_store(path) as store:
        _done(store)


@click.command(short_help="Counts, size, origin, columns and shards of a store.")
@click.argument("store_path", metavar="STORE")
@click.option("--recipe", "show_recipe", is_flag=True, help="Print the recipe of a generated set as TOML instead.")
def info(store_path, show_recipe):
    """Counts, size on disk, origin, per-image columns (families, draws) and the shard table of a store.

    \b
    Examples:
      fractalgen info out/ifs
      fractalgen info out/ifs --recipe > ifs.toml
    """
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


@click.command(short_help="Contact sheet of a store: a random sample or --indices.")
@click.argument("store_path", metavar="STORE")
@out_option()
@count_option(None, 4096, "Images in a random sample (at most; default 64).")
@click.option("--indices", type=IndexSpec(), default=None, help="Show these instead, e.g. 0:64 or 3,17,42.")
@seed_option(0, "Seed of the random sample.")
@tile_option()
@sheet_options
@family_option
@click.pass_context
def show(ctx, store_path, out, count, indices, seed, tile, cols, labels, families):
    """Write a contact sheet of images of a store: a seeded random sample (of --family), or --indices.

    \b
    Examples:
      fractalgen show out/ifs -n 64 -o sheet.png
      fractalgen show out/ifs --indices 0:16 --tile 128 -o first.png
      fractalgen show out/mix --family julia -n 16 -o julia.png
    """
    from ..sheet import save_png
    from ..store import open_store
    from ..store.export import store_sheet

    with open_store(store_path) as store:
        pool = family_pool(store, families, indices)
        chosen = select(ctx, len(store), count, indices, pool=pool, default=64, seed=seed)
        save_png(store_sheet(store, chosen, tile=tile, cols=cols, labels=labels), out)
    click.echo(f"wrote {out}: {len(chosen)} images of {store_path}")


@click.command(short_help="Write images of a store as PNG files (or an ImageFolder).")
@click.argument("store_path", metavar="STORE")
@click.argument("out", type=click.Path(file_okay=False))
@count_option(None, help="Export the first N images (of --family if given); default: all.")
@click.option("--indices", type=IndexSpec(), default=None, help="Export these instead, e.g. 100:200 or 3,17,42.")
@click.option("--imagefolder", is_flag=True,
              help="Torchvision ImageFolder layout: OUT/<family>/<index>.png, one class folder per fractal family "
                   "(a store without families, e.g. an imported one, uses the single folder OUT/fractals/).")
@family_option
@click.pass_context
def export(ctx, store_path, out, count, indices, imagefolder, families):
    """Write images of a store as PNG files named by index (000042.png).

    \b
    Examples:
      fractalgen export out/ifs pngs/ -n 100
      fractalgen export out/ifs some/ --indices 100:200
      fractalgen export out/ifs folder/ --imagefolder
      fractalgen export out/mix julia/ --family julia -n 50
    """
    from ..store import export_pngs, open_store

    with open_store(store_path) as store:
        pool = family_pool(store, families, indices)
        chosen = select(ctx, len(store), count, indices, pool=pool)
        n = export_pngs(store, out, chosen, class_column="family" if imagefolder else None)
    click.echo(f"wrote {n} PNG files to {out}" + (" (ImageFolder layout)" if imagefolder else ""))


@click.command(short_help="Check every shard and image of a store; exit 0 if all is well.")
@click.argument("store_path", metavar="STORE")
@click.option("--rerender", type=click.IntRange(0), default=0, show_default=True,
              help="Also re-render this many random images from their params and compare the bytes.")
@seed_option(0, "Seed picking those images.")
@click.option("--quiet", "-q", is_flag=True, help="No progress bar.")
def verify(store_path, rerender, seed, quiet):
    """Check every shard (size, sha256, identity, layout, index), every image's checksum and the manifest's
    recipe against its set id; exit 0 only if all is well.

    Each problem is printed on its own line, naming the shard file and the image index.

    \b
    Examples:
      fractalgen verify out/ifs
      fractalgen verify out/ifs --rerender 16
    """
    from ..generate import rerender_check, verify as verify_set
    from ..store import open_store
    from ..store.report import describe_problems

    report = verify_set(store_path, progress=not quiet)
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
