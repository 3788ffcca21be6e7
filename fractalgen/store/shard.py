"""Shard files: the writer that makes one, and the deep check that decides whether one can be trusted.

A shard is one HDF5 file holding a contiguous run of a store's images:

- ``images``: (N, H, W, C) uint8, one image per chunk, ``fletcher32`` on every chunk, compressed as planned;
- ``index``: (N,) int64 global image indices; ``params``: (N,) UTF-8 JSON strings, one dict per image;
- ``columns/<name>``: (N,) fixed per-image columns copied out of the params (e.g. ``family``), so summaries
  need not parse JSON;
- attributes: ``format``, ``schema_version``, ``set_id``, ``shard``, ``first``, ``count``, ``plan`` (JSON: the
  plan's layout, i.e. without the store's total count, so shard k is the same file in a store of any count),
  ``images_sha256`` (sha256 of the image bytes in index order) and ``params_sha256`` (sha256 of the params
  texts, each followed by a newline).

These attributes are the shard's identity: :func:`identity_problems` compares them with the manifest, and the
reader does so each time it opens a shard, so a shard moved, swapped or copied in from another set is refused
instead of read.

The writer is the only code that creates shard files. It writes ``shard-KKKKK.h5.<pid>-<random>.tmp`` (a name of its
own: a retried or duplicated cluster task never shares it), closes it and renames
it (see :mod:`.files`); it never opens a final path for writing, because HDF5 truncates a file opened with "w"
even while another process reads it. The file bytes are a pure function of the plan, the shard number and the
images and params written: no timestamps (``track_times=False``), fixed attribute order.

gzip and uncompressed image chunks are encoded by :mod:`.chunks` and stored with ``H5Dwrite_chunk``, bypassing
h5py's slicing and HDF5's filter pipeline (~0.3 ms less per 256 px image); the chunks are the ones HDF5's
declared filters would have stored. lzf chunks go through HDF5 as before.
"""

from __future__ import annotations

import contextlib
import hashlib
import json
from collections.abc import Callable
from pathlib import Path
from typing import Any

import h5py
import numpy as np

from ..errors import ImageInputError, StoreError
from .chunks import direct_codec, encode_chunk, read_image
from .files import TMP_SUFFIX, sha256_file, shard_name, tmp_path, publish
from .manifest import FORMAT, SCHEMA_VERSION, ShardEntry, StorePlan

#: gzip level: 1 writes 1.5x faster than h5py's default 4 for files ~12% larger, and decodes as fast.
GZIP_LEVEL = 1
#: h5py arguments of each compression option. lzf's encoder (liblzf built without INIT_HTAB) reads an
#: uninitialised hash table, so its compressed bytes, and a file's sha256, can differ between runs; the images
#: decode identically. gzip and none give the same file bytes every run.
FILTERS: dict[str, dict[str, Any]] = {
    "gzip": {"compression": "gzip", "compression_opts": GZIP_LEVEL},
    "lzf": {"compression": "lzf"},
    "none": {},
}
_STR = h5py.string_dtype("utf-8")
_COLUMN_DTYPES = {"str": _STR, "int": np.dtype(np.int64), "float": np.dtype(np.float64)}
_COLUMN_TYPES = {"str": (str,), "int": (int, np.integer), "float": (int, float, np.integer, np.floating)}


def params_json(params: dict) -> str:
    """The canonical JSON text of one image's params (sorted keys, no spaces: equal dicts, equal bytes)."""
    return json.dumps(params, sort_keys=True, separators=(",", ":"))


class ShardWriter:
    """Writes shard ``k`` of a plan: ``write(image, params)`` once per image in index order, then ``finish()``.

    As a context manager it finishes on a clean exit and discards the temporary file if an exception is in
    flight, so an interrupted shard never appears under its final name.
    """

    def __init__(self, directory: str | Path, plan: StorePlan, k: int) -> None:
        if not isinstance(plan, StorePlan):
            raise TypeError(f"ShardWriter needs a StorePlan, got {type(plan).__name__}")
        self.directory = Path(directory)
        if not self.directory.is_dir():
            raise StoreError(f"cannot write a shard into '{directory}': not a directory; create it first")
        self.plan = plan
        self.k = int(k)
        self.first, self.count = plan.shard(self.k)
        self.path = self.directory / shard_name(self.k)
        self.tmp = tmp_path(self.path, unique=True)
        self.entry: ShardEntry | None = None
        self._file: h5py.File | None = None
        self._created = False
        self._n = 0
        self._hash = hashlib.sha256()
        self._params_hash = hashlib.sha256()
        self._params: list[str] = []
        self._columns: dict[str, list] = {name: [] for name, _ in plan.columns}

    def __enter__(self) -> "ShardWriter":
        return self

    def __exit__(self, exc_type, exc, tb) -> None:
        if exc_type is None:
            self.finish()
        else:
            self.abort()

    def _open(self) -> None:
        # mode "x": never truncate a file someone else may be writing (a second run into the same directory).
        # No HDF5 file lock: the temporary's name is this attempt's own, so no one else opens it, and HDF5's
        # lock fails outright on a network file system without lock support (NFS: "unable to lock file")
        try:
            self._file = h5py.File(self.tmp, "x", track_order=False, locking=False)
        except FileExistsError:
            raise StoreError(f"'{self.tmp}' exists: another run is writing into '{self.directory}', or a crashed "
                             "one left it; stop the other run or delete the file") from None
        self._created = True
        self._images = self._file.create_dataset(
            "images", shape=(self.count, *self.plan.shape), dtype=np.uint8, chunks=(1, *self.plan.shape),
            fletcher32=True, track_times=False, **FILTERS[self.plan.compression])
        # gzip and none: encode chunks here, exactly as the declared filters would (see .chunks)
        self._codec = direct_codec(self._images)

    def write(self, image: np.ndarray, params: dict) -> None:
        """Append the next image (uint8, the plan's (H, W, C)) and its JSON-serialisable params."""
        index = self.first + self._n
        if self._n >= self.count:
            raise StoreError(f"shard {self.k} holds {self.count} images; image {index} belongs to the next shard")
        if not isinstance(image, np.ndarray) or image.dtype != np.uint8 or image.shape != self.plan.shape:
            got = f"{getattr(image, 'dtype', type(image).__name__)} {getattr(image, 'shape', '')}"
            raise ImageInputError(f"image {index} is {got}; this store holds uint8 {self.plan.shape} images")
        if not isinstance(params, dict):
            raise ImageInputError(f"params of image {index} must be a dict, got {type(params).__name__}")
        try:
            text = params_json(params)
        except (TypeError, ValueError) as err:
            raise ImageInputError(f"params of image {index} are not JSON-serialisable ({err})") from None
        for name, kind in self.plan.columns:
            value = params.get(name)
            if isinstance(value, bool) or not isinstance(value, _COLUMN_TYPES[kind]):
                raise ImageInputError(f"params of image {index} need a {kind} '{name}' for the '{name}' column, "
                                      f"got {value!r}")
            self._columns[name].append(value)
        if self._file is None:
            self._open()
        image = np.ascontiguousarray(image)
        if self._codec is None:
            self._images[self._n] = image
        else:
            self._images.id.write_direct_chunk((self._n, 0, 0, 0), encode_chunk(image, self._codec, GZIP_LEVEL))
        self._hash.update(image.data)
        self._params_hash.update(text.encode() + b"\n")
        self._params.append(text)
        self._n += 1

    def finish(self) -> ShardEntry:
        """Write the columns and attributes, close, rename into place; returns the manifest entry."""
        if self.entry is not None:
            return self.entry
        if self._n != self.count:
            self.abort()
            raise StoreError(f"shard {self.k} got {self._n} images, its plan says {self.count}")
        f = self._file
        try:
            f.create_dataset("index", data=np.arange(self.first, self.first + self.count, dtype=np.int64),
                             track_times=False)
            f.create_dataset("params", data=np.array(self._params, dtype=object), dtype=_STR, track_times=False)
            group = f.create_group("columns", track_order=False)
            for name, kind in self.plan.columns:
                group.create_dataset(name, data=np.array(self._columns[name], dtype=object if kind == "str"
                                                          else _COLUMN_DTYPES[kind]),
                                     dtype=_COLUMN_DTYPES[kind], track_times=False)
            attrs = {"format": FORMAT, "schema_version": SCHEMA_VERSION, "set_id": self.plan.set_id,
                     "shard": self.k, "first": self.first, "count": self.count,
                     "plan": json.dumps(self.plan.layout(), sort_keys=True), "images_sha256": self._hash.hexdigest(),
                     "params_sha256": self._params_hash.hexdigest()}
            for key, value in attrs.items():
                f.attrs[key] = value
            f.close()
            publish(self.tmp, self.path)
        except BaseException:
            self.abort()
            raise
        self.entry = shard_entry(self.path, self.plan, self.k)
        return self.entry

    def abort(self) -> None:
        """Close and delete the temporary file this writer created (nothing under the final name is touched)."""
        if self._file is not None:
            with contextlib.suppress(Exception):
                self._file.close()
            self._file = None
        if self._created:
            with contextlib.suppress(FileNotFoundError):
                self.tmp.unlink()
            self._created = False


def shard_entry(path: Path, plan: StorePlan, k: int) -> ShardEntry:
    """The manifest entry of a finished shard file (its size and sha256 as they are on disk)."""
    first, count = plan.shard(k)
    return ShardEntry(path.name, first, count, path.stat().st_size, sha256_file(path))


def _attr(f: h5py.File, key: str) -> Any:
    try:
        value = f.attrs[key]
    except KeyError:
        return None
    if isinstance(value, np.generic):
        value = value.item()
    return value.decode() if isinstance(value, bytes) else value


def identity_problems(f: h5py.File, plan: StorePlan, k: int, images: h5py.Dataset | None = None) -> list[str]:
    """Whether open shard file ``f`` is shard ``k`` of ``plan``: its recorded layout (set id included) and
    shard number, and the shape of its images (which holds the shard's count). Two attribute reads and no data
    (the reader runs it on every shard it opens, passing the ``images`` dataset it opened anyway;
    benchmarks/bench_store.py times it)."""
    try:
        layout = json.loads(_attr(f, "plan"))
        if not isinstance(layout, dict):
            raise TypeError("not an object")
    except (TypeError, ValueError, KeyError):
        return ["it has no readable 'plan' attribute: it is not a fractalgen shard"]
    differences = plan.layout_differences(layout)
    if differences:
        return ["it belongs to another set: " + "; ".join(differences)]
    number = _attr(f, "shard")
    if number != k:
        return [f"attribute shard is {number!r}, expected {k!r}"]
    images = f.get("images") if images is None else images
    count = plan.shard(k)[1]
    if not isinstance(images, h5py.Dataset) or images.shape != (count, *plan.shape) or images.dtype != np.uint8:
        return [f"'images' is not a uint8 {(count, *plan.shape)} dataset"]
    return []


def _check_layout(f: h5py.File, plan: StorePlan, k: int) -> list[str]:
    first, count = plan.shard(k)
    problems = identity_problems(f, plan, k)
    if problems:
        return problems
    want = {"format": FORMAT, "set_id": plan.set_id, "first": first, "count": count}
    problems = [f"attribute {key} is {_attr(f, key)!r}, expected {value!r}" for key, value in want.items()
                if _attr(f, key) != value]
    if problems:
        return problems
    images = f["images"]
    if images.chunks != (1, *plan.shape) or not images.fletcher32:
        return ["'images' is not stored one checksummed image per chunk"]
    for name in ("index", "params", *(f"columns/{n}" for n, _ in plan.columns)):
        if not isinstance(f.get(name), h5py.Dataset) or f[name].shape != (count,):
            return [f"dataset '{name}' is missing or does not hold {count} rows"]
    if not np.array_equal(f["index"][()], np.arange(first, first + count)):
        return [f"the index column does not read {first}..{first + count - 1}"]
    return []


def _check_images(f: h5py.File, plan: StorePlan, k: int, on_image: Callable[[int], None] | None) -> list[str]:
    """Read every image (checking each chunk's fletcher32) and compare the images' sha256."""
    first, count = plan.shard(k)
    images = f["images"]
    codec = direct_codec(images)
    buf = np.empty(plan.shape, np.uint8)
    digest = hashlib.sha256()
    problems = []
    for j in range(count):
        try:
            read_image(images, codec, j, buf)
        except OSError as err:
            problems.append(f"image {first + j} (position {j} in the shard) fails its checksum or cannot be "
                            f"decoded ({err})")
        else:
            digest.update(buf.data)
        if on_image is not None:
            on_image(1)
    if not problems and digest.hexdigest() != _attr(f, "images_sha256"):
        problems.append("the images' sha256 differs from the one recorded when the shard was written")
    problems += _check_params(f, plan, k)
    return problems


def _check_params(f: h5py.File, plan: StorePlan, k: int) -> list[str]:
    """Every params entry parses as a JSON object, their sha256 is the recorded one (version 2 shards), and
    the fixed columns hold the params' values."""
    first, count = plan.shard(k)
    texts = f["params"].asstr()[()]
    digest = hashlib.sha256()
    parsed = []
    for j, text in enumerate(texts):
        digest.update(text.encode() + b"\n")
        try:
            value = json.loads(text)
            if not isinstance(value, dict):
                raise ValueError("not an object")
        except ValueError as err:
            return [f"params of image {first + j} do not parse as a JSON object ({err})"]
        parsed.append(value)
    recorded = _attr(f, "params_sha256")
    if recorded is not None and digest.hexdigest() != recorded:
        return ["the params' sha256 differs from the one recorded when the shard was written"]
    for name, kind in plan.columns:
        col = f["columns"][name]
        values = col.asstr()[()] if kind == "str" else col[()]
        for j, (value, params) in enumerate(zip(values.tolist(), parsed)):
            if value != params.get(name) and not (value != value and params.get(name) != params.get(name)):
                return [f"column '{name}' of image {first + j} reads {value!r}, its params say "
                        f"{params.get(name)!r}"]
    return []


def check_shard(path: Path, plan: StorePlan, k: int, on_image: Callable[[int], None] | None = None) -> list[str]:
    """Problems with shard file ``path`` as shard ``k`` of ``plan`` (empty: it is whole and belongs here).

    Reads every image, so a flipped byte in any chunk is found and named by its global index. ``on_image(n)``
    is called as images are read (for progress bars).
    """
    if path.name.endswith(TMP_SUFFIX) or not path.is_file():
        return [f"{path.name} is missing"]
    try:
        f = h5py.File(path, "r", locking=False)
    except OSError as err:
        return [f"{path.name} cannot be opened as HDF5 ({err}): it is truncated or damaged"]
    with f:
        try:
            problems = _check_layout(f, plan, k)
            if not problems:
                problems = _check_images(f, plan, k, on_image)
        except (OSError, KeyError, ValueError, TypeError) as err:
            problems = [f"its structure cannot be read ({err})"]
    return [p if p.startswith(path.name) else f"{path.name}: {p}" for p in problems]
