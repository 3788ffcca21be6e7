"""The store's manifest: its name, schema version, the plan it records, its one parser, and which files of a
store directory are the store's.

A store is a directory of shard files and ``manifest.json``. The manifest is written last and atomically, so
its presence means "every shard listed here was finished". It records:

- ``format`` (``"fractalgen-store"``), ``schema_version`` (:data:`SCHEMA_VERSION`), ``fractalgen_version``,
  ``created`` (UTC, ISO 8601: the only field that differs between two runs of the same command);
- the plan: ``set_id`` (what the images are a function of, e.g. the recipe hash), ``image`` (height, width,
  channels, dtype), ``count``, ``shard_size``, ``compression`` and ``columns`` (the fixed per-image columns
  besides the JSON params);
- ``recipe`` (canonical recipe dict, or null for imported sets), ``seed`` (or null), ``render_version`` (the
  renderer's version of the bytes, or null) and ``origin`` (how the set was made), all opaque to the store:
  ``fractalgen.generate.manifest_problems`` checks them against the set id;
- ``shards``: per shard ``file``, ``first`` (global index of its first image), ``count``, ``bytes`` and
  ``sha256`` of the file.

The store knows nothing of fractals: ``set_id``, ``recipe``, ``seed`` and ``origin`` come from the caller.
"""

from __future__ import annotations

import contextlib
import dataclasses
import datetime as _dt
import json
import math
from collections.abc import Mapping
from pathlib import Path
from typing import Any

from ..errors import StoreError
from .files import TMP_SUFFIX, shard_name, shard_number, tmp_base, write_atomic

MANIFEST_NAME = "manifest.json"
FORMAT = "fractalgen-store"
#: 2: shards record their layout (the plan without the total count), so a store can grow byte for byte, and a
#: ``params_sha256``; the manifest records ``render_version``. Version 1 stores are read as before.
SCHEMA_VERSION = 2
COMPRESSIONS = ("gzip", "lzf", "none")
#: gzip (level 1): on fractal images it decodes as fast as lzf, is ~30% smaller, readable by any HDF5 tool and,
#: unlike h5py's lzf encoder (uninitialised hash table), byte-deterministic; see docs/store-format.md.
DEFAULT_COMPRESSION = "gzip"
COLUMN_KINDS = ("str", "int", "float")
#: Raw image bytes per shard the default shard size aims at (1,024 images at 256 x 256 x 3, ~35 MB with gzip).
SHARD_TARGET_BYTES = 192 * 2**20
MAX_SHARD_SIZE = 8192
MIN_SHARD_SIZE = 16
#: Most shards a store may have: the manifest lists each one (~150 bytes), and a run holds their entries in memory.
MAX_SHARDS = 1_000_000


def is_store_file(name: str) -> bool:
    """Whether a directory entry is one the store writes (manifest, shards, and their temporaries)."""
    base = tmp_base(name) or name
    return base == MANIFEST_NAME or shard_number(base) is not None


def remove_stale_tmp(directory: Path) -> int:
    """Delete the store's ``*.tmp`` files left by an interrupted run; returns how many."""
    n = 0
    for p in directory.glob("*" + TMP_SUFFIX):
        if is_store_file(p.name):
            with contextlib.suppress(FileNotFoundError):
                p.unlink()
                n += 1
    return n


def default_shard_size(shape: tuple[int, int, int]) -> int:
    """Images per shard for images of ``shape``: the power of two nearest to 192 MiB of raw pixels."""
    per_image = math.prod(shape)
    size = 2 ** round(math.log2(SHARD_TARGET_BYTES / per_image))
    return max(MIN_SHARD_SIZE, min(MAX_SHARD_SIZE, size))


@dataclasses.dataclass(frozen=True)
class StorePlan:
    """Everything the bytes of a store depend on: which images (set_id, count), their shape and how they are
    cut into shards and compressed. Two runs with equal plans write byte-identical shard files."""

    set_id: str
    shape: tuple[int, int, int]
    count: int
    shard_size: int
    compression: str = DEFAULT_COMPRESSION
    columns: tuple[tuple[str, str], ...] = ()

    def __post_init__(self) -> None:
        if not isinstance(self.set_id, str) or not self.set_id:
            raise StoreError("a store plan needs a non-empty set_id (e.g. the recipe hash)")
        shape = tuple(int(s) for s in self.shape)
        if len(shape) != 3 or min(shape) < 1 or shape[2] not in (1, 3):
            raise StoreError(f"image shape {self.shape} is not (height, width, 1 or 3); store colour or gray images")
        object.__setattr__(self, "shape", shape)
        if isinstance(self.count, bool) or not isinstance(self.count, int) or self.count < 1:
            raise StoreError(f"count = {self.count!r}: a store holds at least one image; pass --count 1 or more")
        if isinstance(self.shard_size, bool) or not isinstance(self.shard_size, int) or self.shard_size < 1:
            raise StoreError(f"shard size = {self.shard_size!r}: pass a positive number of images per shard")
        if self.n_shards > MAX_SHARDS:
            raise StoreError(f"count = {self.count:,} in shards of {self.shard_size:,} images makes "
                             f"{self.n_shards:,} shards; a store holds at most {MAX_SHARDS:,}: pass a smaller "
                             "--count or a larger --shard-size")
        if self.compression not in COMPRESSIONS:
            raise StoreError(f"compression {self.compression!r} is not one of {', '.join(COMPRESSIONS)}")
        columns = tuple((str(n), str(k)) for n, k in self.columns)
        for name, kind in columns:
            if kind not in COLUMN_KINDS or name in ("images", "index", "params"):
                raise StoreError(f"column {name!r} of kind {kind!r}: use a new name and one of {COLUMN_KINDS}")
        object.__setattr__(self, "columns", columns)

    @property
    def n_shards(self) -> int:
        return -(-self.count // self.shard_size)

    def shard(self, k: int) -> tuple[int, int]:
        """(first global index, image count) of shard ``k``."""
        if not 0 <= k < self.n_shards:
            raise StoreError(f"shard {k} does not exist; this plan has shards 0..{self.n_shards - 1}")
        first = k * self.shard_size
        return first, min(self.shard_size, self.count - first)

    def to_dict(self) -> dict:
        h, w, c = self.shape
        return {"set_id": self.set_id, "image": {"height": h, "width": w, "channels": c, "dtype": "uint8"},
                "count": self.count, "shard_size": self.shard_size, "compression": self.compression,
                "columns": [list(c) for c in self.columns]}

    def layout(self) -> dict:
        """The plan without the total count: what a shard records of it, so that shard k of a set is the same
        file whatever the count of the store around it (a store can grow; only its last shard is re-made)."""
        out = self.to_dict()
        del out["count"]
        return out

    def layout_differences(self, layout: Mapping[str, Any]) -> list[str]:
        """What differs between this plan and the layout a shard records (the ``plan`` attribute; a version 1
        shard's also holds the count of its store, which is ignored)."""
        try:
            other = StorePlan.from_dict({**layout, "count": self.count})
        except (KeyError, TypeError, ValueError, StoreError) as err:
            return [f"its recorded plan is unreadable ({err})"]
        return self.differences(other)

    @classmethod
    def from_dict(cls, data: Mapping[str, Any]) -> "StorePlan":
        img = data["image"]
        return cls(data["set_id"], (img["height"], img["width"], img["channels"]), data["count"],
                   data["shard_size"], data["compression"], tuple(tuple(c) for c in data["columns"]))

    def grows(self, other: "StorePlan") -> bool:
        """Whether this plan is ``other`` (the one on disk) with more images and nothing else changed: the set
        on disk can grow into it."""
        return self.count > other.count and dataclasses.replace(other, count=self.count) == self

    def differences(self, other: "StorePlan") -> list[str]:
        """What differs between this plan (the one asked for) and ``other`` (the one on disk), in words."""
        out = []
        if self.shape != other.shape:
            out.append(f"images {'x'.join(map(str, other.shape))}, not {'x'.join(map(str, self.shape))}")
        if self.set_id != other.set_id:
            out.append(f"other images (set id {other.set_id[:12]}, not {self.set_id[:12]}: another recipe, seed "
                       "or source)")
        for key in ("count", "shard_size", "compression", "columns"):
            if getattr(self, key) != getattr(other, key):
                out.append(f"{key.replace('_', ' ')} {getattr(other, key)!r}, not {getattr(self, key)!r}")
        return out


@dataclasses.dataclass(frozen=True)
class ShardEntry:
    """The manifest's record of one finished shard file."""

    file: str
    first: int
    count: int
    bytes: int
    sha256: str

    def to_dict(self) -> dict:
        return dataclasses.asdict(self)


META_FIELDS = ("recipe", "seed", "render_version", "origin")


def meta_differs(manifest: Mapping[str, Any], meta: Mapping[str, Any]) -> bool:
    """Whether a manifest's caller metadata differs from ``meta`` (a resume then rewrites the manifest)."""
    return any(manifest.get(key) != meta.get(key, {} if key == "origin" else None) for key in META_FIELDS)


def make_manifest(plan: StorePlan, entries: list[ShardEntry], meta: Mapping[str, Any]) -> dict:
    """The manifest of a finished store: plan, caller metadata (recipe, seed, origin) and shard entries."""
    from .. import __version__

    if [e.file for e in entries] != [shard_name(k) for k in range(plan.n_shards)]:
        raise StoreError("internal: a manifest needs one entry per shard, in order")
    created = _dt.datetime.now(_dt.timezone.utc).replace(microsecond=0).isoformat().replace("+00:00", "Z")
    return {"format": FORMAT, "schema_version": SCHEMA_VERSION, "fractalgen_version": __version__,
            "created": created, **plan.to_dict(), **{key: meta.get(key, {} if key == "origin" else None)
                                                     for key in META_FIELDS},
            "shards": [e.to_dict() for e in entries]}


def write_manifest(directory: Path, manifest: Mapping[str, Any]) -> Path:
    """Write ``manifest.json`` atomically (tmp file, fsync, rename)."""
    path = Path(directory) / MANIFEST_NAME
    write_atomic(path, (json.dumps(manifest, indent=1) + "\n").encode())
    return path


def _bad(path: Path, what: str) -> StoreError:
    return StoreError(f"manifest '{path}' {what}; the store is damaged: repair it with `fractalgen generate ... "
                      "--resume` (same arguments) or regenerate it with --overwrite")


def read_manifest(directory: Path) -> dict:
    """Parse and validate ``manifest.json``; a missing, unparseable or inconsistent one raises StoreError."""
    path = Path(directory) / MANIFEST_NAME
    try:
        data = json.loads(path.read_text())
    except FileNotFoundError:
        raise
    except (OSError, UnicodeDecodeError) as err:
        raise _bad(path, f"cannot be read ({err})") from None
    except json.JSONDecodeError as err:
        raise _bad(path, f"is not valid JSON ({err})") from None
    if not isinstance(data, dict) or data.get("format") != FORMAT:
        raise _bad(path, f"is not a {FORMAT} manifest")
    version = data.get("schema_version")
    if not isinstance(version, int) or version > SCHEMA_VERSION:
        raise StoreError(f"manifest '{path}' has schema version {version!r}; this fractalgen reads versions up to "
                         f"{SCHEMA_VERSION}: upgrade fractalgen")
    try:
        plan = StorePlan.from_dict(data)
        shards = [ShardEntry(**s) for s in data["shards"]]
    except (KeyError, TypeError, AttributeError, StoreError) as err:
        raise _bad(path, f"lacks or mangles a field ({err})") from None
    expect = [(shard_name(k), *plan.shard(k)) for k in range(plan.n_shards)]
    if [(s.file, s.first, s.count) for s in shards] != expect:
        raise _bad(path, f"lists shards that do not cover images 0..{plan.count - 1} in order")
    return data


def plan_of(manifest: Mapping[str, Any]) -> StorePlan:
    """The plan recorded in a (validated) manifest."""
    return StorePlan.from_dict(manifest)


def entries_of(manifest: Mapping[str, Any]) -> list[ShardEntry]:
    return [ShardEntry(**s) for s in manifest["shards"]]
