"""Sharded HDF5 stores of uint8 images with per-image JSON params: writing, reading, checking, import, export.

The store knows nothing of fractals: it holds images, their params and a manifest whose recipe it carries as
opaque data. ``fractalgen.generate`` glues recipes to it. The on-disk schema is in docs/store-format.md.
"""

from __future__ import annotations

from typing import TYPE_CHECKING

from .._lazy import lazy_attributes

# Imported on first use (see fractalgen._lazy): the reader and writer load h5py and numba; the command line reads
# COMPRESSIONS for its help without them.
_LAZY = {
    "Interrupted": ".build", "build_store": ".build", "make_shard": ".build", "export_pngs": ".export",
    "fit_square": ".folder", "import_folder": ".folder", "is_image_folder": ".folder", "load_folder": ".folder",
    "COMPRESSIONS": ".manifest",
    "DEFAULT_COMPRESSION": ".manifest", "SCHEMA_VERSION": ".manifest", "ShardEntry": ".manifest",
    "StorePlan": ".manifest", "default_shard_size": ".manifest", "Store": ".reader", "StoreSubset": ".reader",
    "open_store": ".reader",
    "VerifyReport": ".report", "info_lines": ".report", "verify_store": ".report", "ShardWriter": ".shard",
    "check_shard": ".shard",
}

if TYPE_CHECKING:
    from .build import Interrupted, build_store, make_shard
    from .export import export_pngs
    from .folder import fit_square, import_folder, is_image_folder, load_folder
    from .manifest import (COMPRESSIONS, DEFAULT_COMPRESSION, SCHEMA_VERSION, ShardEntry, StorePlan,
                           default_shard_size)
    from .reader import Store, StoreSubset, open_store
    from .report import VerifyReport, info_lines, verify_store
    from .shard import ShardWriter, check_shard

__getattr__, __dir__ = lazy_attributes(__name__, _LAZY)

__all__ = [
    "COMPRESSIONS", "DEFAULT_COMPRESSION", "SCHEMA_VERSION", "Interrupted", "ShardEntry", "ShardWriter", "Store",
    "StorePlan", "StoreSubset", "VerifyReport", "build_store", "check_shard", "default_shard_size", "export_pngs",
    "fit_square", "import_folder", "info_lines", "is_image_folder", "load_folder", "make_shard", "open_store",
    "verify_store",
]
