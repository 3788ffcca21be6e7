"""Write the golden store pinned by tests/test_golden_store.py: a tiny generated store, per compression, with
the sha256 of its shard files, of their images and of their params, and its manifest.

The images' and params' digests pin what any fractalgen writes for (recipe, seed, count, shard size); the
files' digests also pin the HDF5 layout and the gzip bytes, so they are checked only with the HDF5 and zlib
versions recorded here. Run it ONLY after a deliberate change of a store's bytes (a new schema version, or a
bump of ``fractalgen.render.RENDER_VERSION``):

    PYTHONPATH=$PWD python tests/golden/make_store_golden.py
"""

from __future__ import annotations

import json
import tempfile
import zlib
from pathlib import Path

import h5py

import fractalgen as fg
from fractalgen.render import RENDER_VERSION
from fractalgen.store.files import sha256_file

HERE = Path(__file__).parent
#: ipmix-like mixes the three families; 7 images in shards of 3 make two full shards and a partial one.
SETTINGS = {"recipe": "ipmix-like", "count": 7, "size": 16, "seed": 7, "shard_size": 3}
COMPRESSIONS = ("gzip", "none")
#: Manifest fields that differ between runs or versions of fractalgen.
VOLATILE = ("created", "fractalgen_version")


def make(out: Path, compression: str) -> fg.Store:
    s = SETTINGS
    return fg.generate(s["recipe"], out, s["count"], size=s["size"], seed=s["seed"], shard_size=s["shard_size"],
                       compression=compression, workers=1, progress=False)


def describe(path: Path) -> dict:
    """The golden record of a store directory."""
    manifest = json.loads((path / "manifest.json").read_text())
    shards = []
    for entry in manifest["shards"]:
        with h5py.File(path / entry["file"], "r") as f:
            shards.append({"file": entry["file"], "sha256": sha256_file(path / entry["file"]),
                           "images_sha256": f.attrs["images_sha256"], "params_sha256": f.attrs["params_sha256"]})
    return {"manifest": {k: v for k, v in manifest.items() if k not in VOLATILE}, "shards": shards}


def main() -> None:
    out = {"settings": SETTINGS, "render_version": RENDER_VERSION, "hdf5": h5py.version.hdf5_version,
           "zlib": zlib.ZLIB_RUNTIME_VERSION, "stores": {}}
    with tempfile.TemporaryDirectory() as d:
        for compression in COMPRESSIONS:
            make(Path(d) / compression, compression).close()
            out["stores"][compression] = describe(Path(d) / compression)
    (HERE / "store.json").write_text(json.dumps(out, indent=1) + "\n")
    print(f"wrote {HERE / 'store.json'}")


if __name__ == "__main__":
    main()
