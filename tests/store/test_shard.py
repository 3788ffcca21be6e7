"""ShardWriter and check_shard: atomic publication, deterministic bytes, input checks, damage found and named."""

from __future__ import annotations

import os
import h5py
import numpy as np
import pytest

from fractalgen.errors import ImageInputError, StoreError
from fractalgen.store.files import sha256_file
from fractalgen.store.manifest import StorePlan
from fractalgen.store.shard import ShardWriter, check_shard

PLAN = StorePlan("set-a", (16, 16, 3), 6, 3, "gzip", (("family", "str"), ("draws", "int")))


def images(first, count, shape=PLAN.shape):
    rng = np.random.default_rng(first)
    return [rng.integers(0, 256, shape, dtype=np.uint8) for _ in range(count)]


def write(directory, k=0, plan=PLAN):
    first, count = plan.shard(k)
    with ShardWriter(directory, plan, k) as w:
        for i, img in enumerate(images(first, count, plan.shape), first):
            w.write(img, {"family": "ifs", "draws": 1 + i % 2, "x": i / 3})
    return w.entry


def test_a_shard_holds_images_index_params_and_columns(tmp_path):
    entry = write(tmp_path, 1)
    assert (entry.file, entry.first, entry.count) == ("shard-00001.h5", 3, 3)
    assert entry.bytes == (tmp_path / entry.file).stat().st_size and entry.sha256 == sha256_file(tmp_path / entry.file)
    with h5py.File(tmp_path / entry.file, "r") as f:
        assert f["images"].chunks == (1, 16, 16, 3) and f["images"].fletcher32 and f["images"].compression == "gzip"
        np.testing.assert_array_equal(f["images"][()], np.stack(images(3, 3)))
        assert f["index"][()].tolist() == [3, 4, 5]
        assert f["columns/family"].asstr()[()].tolist() == ["ifs"] * 3
        assert f["columns/draws"][()].tolist() == [2, 1, 2]
        assert f["params"].asstr()[0] == '{"draws":2,"family":"ifs","x":1.0}'
        assert f.attrs["shard"] == 1 and f.attrs["set_id"] == "set-a"


def test_same_content_gives_byte_identical_files(tmp_path):
    a, b = tmp_path / "a", tmp_path / "b"
    a.mkdir(), b.mkdir()
    assert write(a).sha256 == write(b).sha256


def test_an_exception_inside_the_writer_leaves_no_file(tmp_path):
    with pytest.raises(RuntimeError):
        with ShardWriter(tmp_path, PLAN, 0) as w:
            w.write(images(0, 1)[0], {"family": "ifs", "draws": 1})
            raise RuntimeError("boom")
    assert list(tmp_path.iterdir()) == []


def test_finishing_short_of_the_plan_fails_and_leaves_no_file(tmp_path):
    w = ShardWriter(tmp_path, PLAN, 0)
    w.write(images(0, 1)[0], {"family": "ifs", "draws": 1})
    with pytest.raises(StoreError, match="got 1 images, its plan says 3"):
        w.finish()
    assert list(tmp_path.iterdir()) == []


@pytest.mark.parametrize("image, params, needle", [
    (np.zeros((16, 16, 3), np.float32), {"family": "ifs", "draws": 1}, "image 0 is float32"),
    (np.zeros((16, 16, 1), np.uint8), {"family": "ifs", "draws": 1}, r"uint8 \(16, 16, 3\)"),
    (np.zeros((16, 16, 3), np.uint8), {"draws": 1}, "need a str 'family'"),
    (np.zeros((16, 16, 3), np.uint8), {"family": "ifs", "draws": 1, "bad": object()}, "not JSON-serialisable"),
])
def test_bad_images_and_params_are_refused_naming_the_index(tmp_path, image, params, needle):
    with pytest.raises(ImageInputError, match=needle):
        with ShardWriter(tmp_path, PLAN, 0) as w:
            w.write(image, params)
    assert list(tmp_path.iterdir()) == []


def test_the_writer_never_clobbers_another_writers_temporary(tmp_path):
    # two attempts at one shard (a retried or duplicated cluster task) each write a temporary name of their own
    others = [tmp_path / "shard-00000.h5.tmp", tmp_path / f"shard-00000.h5.{os.getpid()}-0badcafe.tmp"]
    for other in others:
        other.write_bytes(b"another attempt")
    assert ShardWriter(tmp_path, PLAN, 0).tmp != ShardWriter(tmp_path, PLAN, 0).tmp
    write(tmp_path)
    assert [p.read_bytes() for p in others] == [b"another attempt"] * 2
    assert check_shard(tmp_path / "shard-00000.h5", PLAN, 0) == []


def test_config_is_validated_before_anything_is_written(tmp_path):
    with pytest.raises(StoreError, match="shard 2 does not exist"):
        ShardWriter(tmp_path, PLAN, 2)
    with pytest.raises(StoreError, match="not a directory"):
        ShardWriter(tmp_path / "nope", PLAN, 0)


def test_check_shard_passes_a_whole_shard_and_counts_its_images(tmp_path):
    write(tmp_path, 1)
    seen = []
    assert check_shard(tmp_path / "shard-00001.h5", PLAN, 1, on_image=seen.append) == []
    assert sum(seen) == 3


def test_check_shard_names_the_image_with_a_flipped_byte(tmp_path, flip_byte):
    write(tmp_path, 1)
    flip_byte(tmp_path / "shard-00001.h5", 1)
    problems = check_shard(tmp_path / "shard-00001.h5", PLAN, 1)
    assert len(problems) == 1
    assert problems[0].startswith("shard-00001.h5: image 4 (position 1 in the shard) fails its checksum")


def test_check_shard_refuses_a_truncated_file_or_a_shard_of_another_set(tmp_path):
    write(tmp_path, 0)
    path = tmp_path / "shard-00000.h5"
    other = StorePlan("set-b", PLAN.shape, PLAN.count, PLAN.shard_size, PLAN.compression, PLAN.columns)
    assert "belongs to another set" in check_shard(path, other, 0)[0]
    assert "shard-00000.h5: attribute shard is 0, expected 1" in check_shard(path, PLAN, 1)
    path.write_bytes(path.read_bytes()[:2000])
    assert "cannot be opened as HDF5" in check_shard(path, PLAN, 0)[0]
    assert check_shard(tmp_path / "shard-00009.h5", PLAN, 0) == ["shard-00009.h5 is missing"]
