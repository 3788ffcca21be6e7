"""A tiny generated store must keep the bytes pinned in tests/golden/store.json (written by
tests/golden/make_store_golden.py): the images and params of every shard always, the shard files themselves
with the HDF5 and zlib versions they were pinned with. A change to the random stream, the sampling order, a
rounding, the shard layout or the manifest fails here, not only in a comparison of the code with itself."""

from __future__ import annotations

import importlib.util
import json
import zlib
from pathlib import Path

import h5py
import pytest

GOLDEN = Path(__file__).parent / "golden"
spec = importlib.util.spec_from_file_location("make_store_golden", GOLDEN / "make_store_golden.py")
maker = importlib.util.module_from_spec(spec)
spec.loader.exec_module(maker)
PINNED = json.loads((GOLDEN / "store.json").read_text())


@pytest.fixture(scope="module", params=maker.COMPRESSIONS)
def made(request, tmp_path_factory):
    out = tmp_path_factory.mktemp("golden") / request.param
    maker.make(out, request.param).close()
    return request.param, maker.describe(out)


def test_the_settings_are_the_pinned_ones():
    assert PINNED["settings"] == maker.SETTINGS


def test_images_and_params_of_every_shard_match_the_golden_digests(made):
    compression, got = made
    want = PINNED["stores"][compression]
    assert [(s["file"], s["images_sha256"], s["params_sha256"]) for s in got["shards"]] == [
        (s["file"], s["images_sha256"], s["params_sha256"]) for s in want["shards"]], (
        "the images or params of a generated store changed: if deliberate, bump fractalgen.render.RENDER_VERSION "
        "and rerun tests/golden/make_store_golden.py")


def test_the_manifest_matches_the_golden_one_but_for_the_shard_file_digests(made):
    compression, got = made
    strip = lambda m: {**m, "shards": [{k: v for k, v in s.items() if k not in ("bytes", "sha256")}  # noqa: E731
                                       for s in m["shards"]]}
    assert strip(got["manifest"]) == strip(PINNED["stores"][compression]["manifest"])


def test_shard_files_match_the_golden_sha256_with_the_pinned_libraries(made):
    if (h5py.version.hdf5_version, zlib.ZLIB_RUNTIME_VERSION) != (PINNED["hdf5"], PINNED["zlib"]):
        pytest.skip(f"file bytes were pinned with HDF5 {PINNED['hdf5']} and zlib {PINNED['zlib']}; this is HDF5 "
                    f"{h5py.version.hdf5_version}, zlib {zlib.ZLIB_RUNTIME_VERSION} (images and params are checked)")
    compression, got = made
    want = PINNED["stores"][compression]
    assert [s["sha256"] for s in got["shards"]] == [s["sha256"] for s in want["shards"]]
    assert got["manifest"]["shards"] == want["manifest"]["shards"]
