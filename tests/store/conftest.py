"""Small stores shared by the store tests: 40 colour images at 32 px in shards of 16 (16 + 16 + 8)."""

from __future__ import annotations

import shutil

import h5py
import pytest

import fractalgen as fg

SMALL = {"recipe": "ifs-colour", "count": 40, "size": 32, "seed": 5, "shard_size": 16}


def make_small(path, **changes):
    opts = {**SMALL, **changes}
    recipe = opts.pop("recipe")
    count = opts.pop("count")
    store = fg.generate(recipe, path, count, workers=1, progress=False, **opts)
    store.close()
    return path


@pytest.fixture(scope="session")
def small_store_path(tmp_path_factory):
    """A finished store; tests must not modify it (copy it with ``store_copy``)."""
    return make_small(tmp_path_factory.mktemp("small") / "ifs")


@pytest.fixture
def small_store(small_store_path):
    with fg.open_store(small_store_path) as store:
        yield store


@pytest.fixture
def store_copy(small_store_path, tmp_path):
    """A private copy of the small store, free to damage."""
    dst = tmp_path / "copy"
    shutil.copytree(small_store_path, dst)
    return dst


def _flip_byte(path, j):
    """Flip one byte in the middle of the stored (compressed) chunk of image j of a shard file."""
    with h5py.File(path, "r") as f:
        info = f["images"].id.get_chunk_info(j)
    with open(path, "r+b") as fh:
        fh.seek(info.byte_offset + info.size // 2)
        b = fh.read(1)
        fh.seek(-1, 1)
        fh.write(bytes([b[0] ^ 0xFF]))


@pytest.fixture
def flip_byte():
    return _flip_byte
