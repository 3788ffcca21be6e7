"""Reading a store: :func:`open_store` and :class:`Store`, a lazy, picklable, random-access image sequence.

The parent process reads the manifest only. Shard files are opened on first use, per process: a Store checks
its process id before touching a handle, so one built (or used) before a fork, or unpickled in a spawned
DataLoader worker, opens its own handles there. Pickling carries the path and the manifest, nothing else.

h5py serialises every HDF5 call behind one global lock, so threads gain nothing: use processes (DataLoader
workers) to read in parallel. Shard files are immutable once renamed into place, so the reader opens them
without HDF5 file locking by default (``locking=False``), which also works on network and read-only file systems.
At most :data:`MAX_OPEN_SHARDS` files stay open per process (least recently used closed first).

What differs from a plain ``h5py.File`` per shard: gzip and uncompressed images are decoded by :mod:`.chunks`
rather than by HDF5's filter pipeline (the same checks and pixels, ~15% faster random reads); damage surfaces as
:class:`~fractalgen.errors.CorruptShardError` naming the shard file, the image and the check it fails; and a store
that was never finished (no manifest) is refused outright.
"""

from __future__ import annotations

import functools
import json
import os
import threading
from collections import OrderedDict
from collections.abc import Iterator
from pathlib import Path
from typing import TYPE_CHECKING, Any

import h5py
import numpy as np

from ..errors import CorruptShardError, NoStoreError, StoreError
from .chunks import direct_codec, read_image
from .files import shard_name
from .manifest import MANIFEST_NAME, ShardEntry, StorePlan, entries_of, is_store_file, plan_of, read_manifest
from .shard import identity_problems

MAX_OPEN_SHARDS = 128
#: Images read per slice when iterating or loading (one shard lookup and lock for many chunks).
BLOCK = 32
if TYPE_CHECKING:
    from ..recipe import Recipe

_REPAIR = "run `fractalgen verify {path}` to see the damage, and repeat the command that made the store with --resume"


def _open_shard(path: Path, locking: bool) -> h5py.File:
    """Open a shard read-only. HDF5 shares one open file per process and refuses a second opening with other
    locking flags ("file locking flag values don't match"), e.g. ``open_store(p, locking=True)`` after
    ``open_store(p)`` in one process: the shard is then opened with the flags it is already open with (shards are
    immutable, so the lock adds nothing)."""
    try:
        return h5py.File(path, "r", locking=locking)
    except OSError as err:
        if "locking flag" not in str(err):
            raise
    return h5py.File(path, "r", locking=not locking)


class Store:
    """A finished store. ``len(store)``, ``store[i]`` (uint8 (H, W, C)), ``store[a:b]`` (n, H, W, C), iteration,
    ``store.params(i)``, ``store.column(name)``, ``store.load(size)``; ``store.recipe`` for generated sets.

    Build one with :func:`open_store`, which checks that every shard is present and of the recorded size.
    """

    def __init__(self, path: str | os.PathLike, manifest: dict, locking: bool = False) -> None:
        self.path = Path(path)
        self.manifest = manifest
        self.locking = bool(locking)
        self.plan: StorePlan = plan_of(manifest)
        self._reset()

    def _reset(self) -> None:
        # a fresh handle table (and lock) per process: handles and locks must not cross a fork
        self._pid = os.getpid()
        self._lock = threading.Lock()
        # shard -> (file, images dataset, its direct codec or None: see .chunks)
        self._files: OrderedDict[int, tuple[h5py.File, h5py.Dataset, str | None]] = OrderedDict()

    # -- pickling: the path and the manifest only
    def __getstate__(self) -> dict:
        return {"path": str(self.path), "manifest": self.manifest, "locking": self.locking}

    def __setstate__(self, state: dict) -> None:
        self.__init__(state["path"], state["manifest"], state["locking"])

    def __repr__(self) -> str:
        h, w, c = self.shape
        return f"Store('{self.path}', {len(self)} images {h}x{w}x{c}, {self.plan.n_shards} shards)"

    # -- shape
    def __len__(self) -> int:
        return self.plan.count

    @property
    def shape(self) -> tuple[int, int, int]:
        """(H, W, C) of every image."""
        return self.plan.shape

    @property
    def dtype(self) -> np.dtype:
        return np.dtype(np.uint8)

    @property
    def shards(self) -> list[ShardEntry]:
        return entries_of(self.manifest)

    @property
    def columns(self) -> tuple[str, ...]:
        """Names of the fixed per-image columns (see :meth:`column`)."""
        return tuple(name for name, _ in self.plan.columns)

    @functools.cached_property
    def recipe(self) -> "Recipe | None":
        """The fractalgen Recipe the set was generated from; None for an imported set."""
        data = self.manifest.get("recipe")
        if data is None:
            return None
        from ..recipe import from_dict  # the store only carries the dict; the recipe model interprets it

        recipe = from_dict(data, (self.manifest.get("origin") or {}).get("source", ""))
        if recipe.hash != self.manifest.get("set_id"):
            raise StoreError(f"'{self.path / MANIFEST_NAME}' records a recipe (hash {recipe.hash[:12]}) that is not "
                             f"the one its images were made from (set id {str(self.manifest.get('set_id'))[:12]}): "
                             "the manifest was edited; repeat the command that made the store with --resume")
        return recipe

    # -- shard handles
    def _shard_error(self, k: int, what: str) -> CorruptShardError:
        first, count = self.plan.shard(k)
        return CorruptShardError(f"shard '{self.path / shard_name(k)}' (images {first}..{first + count - 1}) "
                                 f"{what}; " + _REPAIR.format(path=self.path))

    def _images(self, k: int) -> tuple[h5py.Dataset, str | None]:
        """The images dataset of shard ``k``, opened in this process (call with the lock held), and how its
        chunks can be decoded directly (:func:`~.chunks.direct_codec`)."""
        hit = self._files.get(k)
        if hit is not None:
            self._files.move_to_end(k)
            return hit[1:]
        try:
            f = _open_shard(self.path / shard_name(k), self.locking)
        except FileNotFoundError:
            raise self._shard_error(k, "is missing") from None
        except OSError as err:
            raise self._shard_error(k, f"cannot be opened ({err})") from None
        try:
            images = f["images"]
            problems = identity_problems(f, self.plan, k, images)
            if problems:
                f.close()
                raise self._shard_error(k, f"is not the shard this store's manifest lists here ({problems[0]})")
            codec = direct_codec(images)
        except (OSError, KeyError) as err:
            f.close()
            raise self._shard_error(k, f"cannot be read ({err})") from None
        self._files[k] = (f, images, codec)
        while len(self._files) > MAX_OPEN_SHARDS:
            self._files.popitem(last=False)[1][0].close()
        return images, codec

    def _read(self, k: int, fn):
        """``fn(images dataset, codec)`` on shard ``k``, under the lock, with HDF5 read errors made
        CorruptShardError."""
        if self._pid != os.getpid():
            self._reset()
        with self._lock:
            images, codec = self._images(k)
            try:
                return fn(images, codec)
            except (OSError, KeyError) as err:
                raise self._shard_error(k, f"cannot be read ({err})") from None

    def close(self) -> None:
        """Close the shard files this process opened (the store reopens them on the next access)."""
        if self._pid != os.getpid():
            self._reset()
            return
        with self._lock:
            while self._files:
                self._files.popitem()[1][0].close()

    def __enter__(self) -> "Store":
        return self

    def __exit__(self, *exc) -> None:
        self.close()

    # -- random access
    def _locate(self, i: Any) -> tuple[int, int]:
        if isinstance(i, (bool, np.bool_)) or not isinstance(i, (int, np.integer)):
            raise TypeError(f"store indices are integers or slices, not {type(i).__name__}")
        n = len(self)
        i = int(i)
        if not -n <= i < n:
            raise IndexError(f"image index {i} is out of range for a store of {n} images")
        i %= n
        return divmod(i, self.plan.shard_size)

    def __getitem__(self, key: int | slice) -> np.ndarray:
        if isinstance(key, slice):
            return self._slice(key)
        k, j = self._locate(key)
        out = np.empty(self.shape, np.uint8)
        self._read(k, lambda images, codec: self._image_into(images, codec, k, j, out))
        return out

    def _image_into(self, images: h5py.Dataset, codec: str | None, k: int, j: int, out: np.ndarray) -> None:
        try:
            read_image(images, codec, j, out)
        except OSError as err:  # name the image: _read names the shard
            raise OSError(f"image {k * self.plan.shard_size + j}: {err}") from None

    def _slice(self, key: slice) -> np.ndarray:
        idx = range(*key.indices(len(self)))
        if idx.step < 0:
            return self._slice(slice(idx[-1], idx[0] + 1, -idx.step))[::-1] if len(idx) else self._slice(slice(0, 0))
        out = np.empty((len(idx), *self.shape), np.uint8)
        pos = 0
        while pos < len(idx):
            k, j = divmod(idx[pos], self.plan.shard_size)
            _, count = self.plan.shard(k)
            n = min(len(idx) - pos, -(-(count - j) // idx.step))

            def read(images, codec):
                for t in range(n):
                    self._image_into(images, codec, k, j + t * idx.step, out[pos + t])

            self._read(k, read)
            pos += n
        return out

    def __iter__(self) -> Iterator[np.ndarray]:
        """Images in index order, read :data:`BLOCK` at a time."""
        for start in range(0, len(self), BLOCK):
            yield from self[start:start + BLOCK]

    def params(self, i: int) -> dict:
        """The JSON params stored with image ``i``: ``fractalgen.render(store.params(i))`` re-renders it."""
        k, j = self._locate(i)
        return json.loads(self._read(k, lambda images, codec: images.file["params"][j]))

    def column(self, name: str) -> np.ndarray:
        """A fixed per-image column (e.g. ``family``) for the whole store, in index order."""
        if name not in self.columns:
            raise StoreError(f"store '{self.path}' has no column {name!r}; "
                             f"its columns: {', '.join(self.columns) or 'none'}")

        def read(images, codec):
            col = images.file["columns"][name]
            return col.asstr()[()] if h5py.check_string_dtype(col.dtype) else col[()]

        return np.concatenate([self._read(k, read) for k in range(self.plan.n_shards)])

    def load(self, size: int | None = None, progress: bool = False) -> np.ndarray:
        """Every image in memory, uint8 (N, size, size, C), resized once (PIL bilinear, antialiased: what
        torchvision's Resize does). ``size=None`` keeps the stored size. Call once and keep the array."""
        return _load(self, size, progress)

    def subset(self, indices: Any = None, **where: Any) -> "StoreSubset":
        """A view of some images: ``store.subset([3, 17, 42])``, ``store.subset(range(100))``,
        ``store.subset(family="julia")``, ``store.subset(family=["julia", "mandelbrot"])``; with both, the
        given indices whose columns match. See :class:`StoreSubset`."""
        return StoreSubset(self, _select(self, np.arange(len(self)), indices, where))


def _load(images: "Store | StoreSubset", size: int | None, progress: bool) -> np.ndarray:
    """``images.load(size, progress)`` for a store or a subset: read :data:`BLOCK` images at a time."""
    from .folder import fit_square

    if size is not None and (isinstance(size, bool) or not isinstance(size, (int, np.integer)) or size < 1):
        raise StoreError(f"load(size={size!r}): pass a positive image side in pixels, or None")
    if size is None or (size, size) == images.shape[:2]:
        return images[:]
    out = np.empty((len(images), size, size, images.shape[2]), np.uint8)
    starts = range(0, len(images), BLOCK)
    if progress:
        from tqdm import tqdm

        starts = tqdm(starts, desc="loading", unit="block", leave=False)
    for start in starts:
        for n, img in enumerate(images[start:start + BLOCK]):
            out[start + n] = fit_square(img, int(size))
    return out


def _select(store: Store, rows: np.ndarray, indices: Any, where: dict[str, Any]) -> np.ndarray:
    """The global indices of ``rows`` picked by ``indices`` (positions in ``rows``; negative ones count from the
    end) whose columns hold the values in ``where`` (a value, or a list of accepted values)."""
    n = len(rows)
    if indices is not None:
        if isinstance(indices, slice):
            pos = np.arange(n)[indices]
        else:
            pos = np.asarray(list(indices) if not isinstance(indices, np.ndarray) else indices)
            if pos.size and (pos.dtype.kind not in "iu" or pos.ndim != 1):
                raise StoreError(f"subset indices must be integers, got {pos.dtype} {pos.shape}; pass a list, a "
                                 "range or a slice of image indices")
            bad = pos[(pos < -n) | (pos >= n)]
            if bad.size:
                raise StoreError(f"index {int(bad[0])} is out of range for a set of {n} images; use 0..{n - 1}")
        rows = rows[pos.astype(np.int64) % max(n, 1)] if pos.size else rows[:0]
    for name, wanted in where.items():
        values = store.column(name)[rows]
        accepted = [wanted] if isinstance(wanted, (str, bytes, int, float, np.generic)) else list(wanted)
        keep = np.isin(values, np.asarray(accepted, dtype=values.dtype))
        if not keep.any():
            present = ", ".join(map(str, np.unique(store.column(name)))) or "none"
            raise StoreError(f"no image of '{store.path}' has {name} {' or '.join(map(repr, accepted))}; "
                             f"its values: {present}")
        rows = rows[keep]
    return rows.astype(np.int64)


class StoreSubset:
    """Images ``indices`` of a store, in that order, read through the store: ``len``, ``shape``, ``[i]`` and
    ``[a:b]``, iteration, ``params(i)``, ``column(name)``, ``load(size)``, ``subset(...)``. Position ``i`` of the
    subset is image ``indices[i]`` of the store. Pickles as the store (its path and manifest) and the indices,
    so it goes into DataLoader workers and FractalSource like a store."""

    def __init__(self, store: Store, indices: np.ndarray) -> None:
        self.store = store
        self.indices = np.asarray(indices, dtype=np.int64)

    def __repr__(self) -> str:
        h, w, c = self.shape
        return f"StoreSubset('{self.store.path}', {len(self)} of {len(self.store)} images {h}x{w}x{c})"

    def __len__(self) -> int:
        return len(self.indices)

    @property
    def path(self) -> Path:
        return self.store.path

    @property
    def shape(self) -> tuple[int, int, int]:
        return self.store.shape

    @property
    def dtype(self) -> np.dtype:
        return self.store.dtype

    @property
    def columns(self) -> tuple[str, ...]:
        return self.store.columns

    @property
    def recipe(self) -> "Recipe | None":
        return self.store.recipe

    def _global(self, i: Any) -> int:
        if isinstance(i, (bool, np.bool_)) or not isinstance(i, (int, np.integer)):
            raise TypeError(f"subset indices are integers or slices, not {type(i).__name__}")
        n = len(self)
        if not -n <= i < n:
            raise IndexError(f"index {i} is out of range for a subset of {n} images")
        return int(self.indices[int(i)])

    def __getitem__(self, key: int | slice) -> np.ndarray:
        if isinstance(key, slice):
            chosen = self.indices[key]
            out = np.empty((len(chosen), *self.shape), np.uint8)
            for n, i in enumerate(chosen):
                out[n] = self.store[int(i)]
            return out
        return self.store[self._global(key)]

    def __iter__(self) -> Iterator[np.ndarray]:
        for i in self.indices:
            yield self.store[int(i)]

    def params(self, i: int) -> dict:
        return self.store.params(self._global(i))

    def column(self, name: str) -> np.ndarray:
        return self.store.column(name)[self.indices]

    def load(self, size: int | None = None, progress: bool = False) -> np.ndarray:
        """The subset in memory, resized once: :meth:`Store.load`."""
        return _load(self, size, progress)

    def subset(self, indices: Any = None, **where: Any) -> "StoreSubset":
        """A subset of this subset (``indices`` are positions in it)."""
        return StoreSubset(self.store, _select(self.store, self.indices, indices, where))

    def close(self) -> None:
        self.store.close()

    def __enter__(self) -> "StoreSubset":
        return self

    def __exit__(self, *exc) -> None:
        self.close()


def open_store(path: str | os.PathLike | Store, locking: bool = False) -> Store:
    """Open a finished store directory; refuse an unfinished, missing or damaged one with a one-line reason.

    Checks the manifest and that every shard file exists with its recorded size (a cheap stat, no hashing);
    ``fractalgen verify`` reads everything. ``locking=True`` asks HDF5 for file locks (not needed: shards are
    never written after they are published).
    """
    if isinstance(path, Store):
        return path
    root = Path(path)
    if not root.is_dir():
        what = "is a file, not a store directory" if root.exists() else "does not exist"
        raise NoStoreError(f"no store at '{root}': it {what}; make one with `fractalgen generate RECIPE {root} "
                         "--count N` or `fractalgen import`")
    try:
        manifest = read_manifest(root)
    except FileNotFoundError:
        if any(is_store_file(p.name) for p in root.iterdir()):
            raise StoreError(f"'{root}' has no {MANIFEST_NAME}: the run that wrote it did not finish; finish it by "
                             "repeating the same `fractalgen generate` (or `import`) command with --resume") from None
        raise NoStoreError(f"'{root}' is not a fractalgen store (no {MANIFEST_NAME}); give the directory that "
                         "`fractalgen generate` or `import` wrote") from None
    store = Store(root, manifest, locking)
    for k, entry in enumerate(store.shards):
        try:
            size = (root / entry.file).stat().st_size
        except FileNotFoundError:
            raise store._shard_error(k, "is missing") from None
        if size != entry.bytes:
            raise store._shard_error(k, f"is {size} bytes, the manifest says {entry.bytes}: it is truncated or "
                                        "was replaced")
    return store
