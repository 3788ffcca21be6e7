"""Generating fractal sets into stores: the glue between recipes and the store.

The store knows nothing of fractals; this module adapts a :class:`~fractalgen.recipe.Recipe` to the store's item
source protocol (:mod:`fractalgen.store.build`): the set id is the recipe hash (seed included), item i is
``recipe.draw(i)``, the fixed columns are the family and the number of gate draws, and the manifest records
the canonical recipe and the render version. :func:`manifest_problems` checks those records against the set id
(the store carries them opaque, so only this layer can). Worker processes run numba with one thread each, so N workers use N cores.

Image i depends on (recipe, seed, i) only, and a shard on (recipe, seed, plan, shard number): the bytes of a set
do not depend on the number of workers or on their scheduling.
"""

from __future__ import annotations

import os
from collections.abc import Callable, Iterator, Mapping
from typing import Any

import numpy as np

from ._jit import one_thread_per_worker
from .errors import RecipeError, StoreError
from .recipe import Recipe, from_dict, load_recipe
from .render import RENDER_VERSION
from .render.families import OLD_RELEASES
from .store import DEFAULT_COMPRESSION, Store, VerifyReport, build_store, open_store, verify_store


#: Images a store writer renders per kernel call: enough to spread the call's fixed cost, few enough that the
#: progress bar moves and a batch of 256 px images stays small (64 x 196 kB).
BATCH = 64


class RecipeItems:
    """Item source of a recipe: picklable as its canonical dict (workers rebuild the Recipe from it)."""

    columns = (("family", "str"), ("draws", "int"))

    def __init__(self, recipe: Recipe) -> None:
        self._recipe = recipe
        self.data = recipe.to_dict()
        self.source = recipe.source
        self.set_id = recipe.hash
        self.shape = recipe.shape
        self.meta = {"recipe": self.data, "seed": recipe.seed, "render_version": RENDER_VERSION,
                     "origin": {"kind": "generated", "source": self.source}}

    def __getstate__(self) -> dict:
        return {k: v for k, v in self.__dict__.items() if k != "_recipe"}

    def __setstate__(self, state: dict) -> None:
        self.__dict__.update(state)
        self._recipe = from_dict(self.data, self.source)

    def setup_worker(self) -> None:
        one_thread_per_worker()  # one core per worker: parallelism comes from the pool

    def items(self, indices: range) -> Iterator[tuple[np.ndarray, dict]]:
        """The images and params of ``indices``, rendered :data:`BATCH` at a time (one kernel call each)."""
        for start in range(0, len(indices), BATCH):
            images, params = self._recipe.draw_many(indices[start:start + BATCH])
            yield from zip(images, params)


def compile_here_first(recipe: Recipe, count: int) -> None:
    """On a machine's first run, render the first image of each family of ``recipe`` in this process before the
    pool starts: the kernels compile once, here, and the workers load them from the cache, instead of every
    worker compiling the same kernels at the same time (N workers, N times the 10-30 s)."""
    from ._jit import kernel_cache_is_empty

    if not kernel_cache_is_empty():
        return
    todo = set(recipe.family)
    for index in range(min(count, 256)):
        name = recipe.pick_family(index)
        if name in todo:
            recipe.draw(index)
            todo.discard(name)
        if not todo:
            return


def generate(recipe: str | os.PathLike | Mapping | Recipe, out: str | os.PathLike, count: int, *,
             shard_size: int | None = None, compression: str = DEFAULT_COMPRESSION, workers: int | None = None,
             resume: bool = False, overwrite: bool = False, progress: bool = True,
             log: Callable[[str], None] | None = None, dask: Any = None, **overrides: Any) -> Store:
    """Render images ``0..count-1`` of a recipe into a store at ``out`` and open it.

    ``recipe`` is anything :func:`~fractalgen.recipe.load_recipe` takes; ``overrides`` are its set-wide settings
    (``size=128, seed=3``). See :func:`fractalgen.store.build_store` for the rest. Uses a ``spawn`` process pool:
    a script calling this with ``workers > 1`` needs the ``if __name__ == "__main__":`` guard.

    ``dask`` renders the shards on a Dask cluster instead: a ``distributed.Client``, a scheduler address
    (``"tcp://host:8786"``) or ``"local"`` (a new ``LocalCluster`` of ``workers`` single-threaded processes).
    The store is byte for byte the one the local pool writes, and either can resume the other's run.
    """
    recipe = load_recipe(recipe, **overrides)
    if (workers is None or workers > 1) and count > 1 and dask in (None, "local"):  # a remote cluster's
        compile_here_first(recipe, count)                                              # workers have their own cache
    path = build_store(RecipeItems(recipe), out, count, shard_size=shard_size, compression=compression,
                       workers=workers, resume=resume, overwrite=overwrite, progress=progress, desc="generating",
                       log=log, dask=dask)
    return open_store(path)


def manifest_problems(manifest: Mapping[str, Any]) -> list[str]:
    """What a manifest's ``recipe``, ``seed``, ``origin`` and ``render_version`` contradict: the recipe must
    hash to the set id (its seed and image shape agree with the manifest's), a generated set must have one and
    an imported set none, and the images must not come from a newer renderer. One line per problem."""
    data, origin = manifest.get("recipe"), manifest.get("origin")
    kind = origin.get("kind") if isinstance(origin, Mapping) else None
    where = "manifest.json"
    if data is None:
        if kind == "generated" or manifest.get("seed") is not None:
            return [f"{where}: it says the set was generated but records no recipe; the manifest was edited"]
        if kind == "imported":
            channels = (manifest.get("image") or {}).get("channels")
            if origin.get("files") != manifest.get("count"):
                return [f"{where}: its origin lists {origin.get('files')!r} imported files for "
                        f"{manifest.get('count')!r} images; the manifest was edited"]
            if origin.get("mode") != {1: "L", 3: "RGB"}.get(channels):
                return [f"{where}: its origin's mode {origin.get('mode')!r} does not hold {channels!r} channels; "
                        "the manifest was edited"]
        return []
    if kind != "generated":
        return [f"{where}: it records a recipe but its origin is {origin!r}, not generated; the manifest was edited"]
    try:
        recipe = from_dict(data, str(origin.get("source", "")))
    except RecipeError as err:
        return [f"{where}: its recipe does not load ({err})"]
    problems = []
    if recipe.hash != manifest.get("set_id"):
        problems.append(f"{where}: its recipe hashes to {recipe.hash[:12]}, but the images were made from recipe "
                        f"{str(manifest.get('set_id'))[:12]} (the set id): the recipe was edited after the store "
                        "was written")
    if manifest.get("seed") != recipe.seed:
        problems.append(f"{where}: seed {manifest.get('seed')!r} is not its recipe's seed {recipe.seed}")
    image = manifest.get("image") or {}
    if (image.get("height"), image.get("width"), image.get("channels")) != tuple(recipe.shape):
        problems.append(f"{where}: image shape {image!r} is not its recipe's {recipe.shape}")
    version = manifest.get("render_version", 1)  # stores of schema 1 predate the field: version 1
    if version is None:
        version = 1
    if isinstance(version, bool) or not isinstance(version, int) or version < 1:
        problems.append(f"{where}: render_version {version!r} is not a positive integer")
    elif version > RENDER_VERSION:
        problems.append(f"{where}: the images were rendered by render version {version}, newer than this "
                        f"fractalgen's ({RENDER_VERSION}); upgrade fractalgen to check or extend this store")
    elif version < RENDER_VERSION:
        problems.append(f"{where}: the images were rendered by render version {version}; this fractalgen renders "
                        f"version {RENDER_VERSION}, so it cannot check or extend this store against its recipe: use "
                        f"fractalgen {OLD_RELEASES[version]} for that (reading and mixing it works with any version)")
    return problems


def verify(path: str | os.PathLike, *, progress: bool = True, dask: Any = None, workers: int | None = None,
           log: Callable[[str], None] | None = None) -> VerifyReport:
    """:func:`fractalgen.store.verify_store` (every shard, chunk and hash; on a Dask cluster with ``dask``) plus
    :func:`manifest_problems`."""
    return verify_store(path, progress=progress, check_meta=manifest_problems, dask=dask, workers=workers, log=log)


def rerender_check(store: Store, n: int, seed: int = 0) -> list[str]:
    """Re-render ``n`` randomly chosen images of a generated store from their stored params and compare bytes;
    returns one line per image that differs."""
    from .render import render

    if store.recipe is None:
        raise StoreError(f"'{store.path}' was imported, not generated: it has no params to re-render from")
    rng = np.random.default_rng(seed)
    problems = []
    for i in sorted(rng.choice(len(store), size=min(n, len(store)), replace=False).tolist()):
        try:
            same = np.array_equal(render(store.params(i)), store[i])
        except Exception as err:  # any failure to re-render is a finding, not a crash of verify
            problems.append(f"image {i}: its params do not re-render ({type(err).__name__}: {err})")
            continue
        if not same:
            problems.append(f"image {i}: re-rendering its params gives different pixels than the stored image")
    return problems
