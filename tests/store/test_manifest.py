"""The plan and the manifest: validation, shard arithmetic, round trips and the errors of a damaged manifest."""

from __future__ import annotations

import json

import pytest

from fractalgen.errors import StoreError
from fractalgen.store.manifest import (MAX_SHARD_SIZE, MIN_SHARD_SIZE, SCHEMA_VERSION, StorePlan,
                                       default_shard_size, make_manifest, read_manifest, write_manifest)
from fractalgen.store.shard import ShardWriter

import numpy as np


def plan(**kw):
    base = dict(set_id="abc", shape=(8, 8, 3), count=10, shard_size=4, compression="lzf", columns=(("family", "str"),))
    return StorePlan(**{**base, **kw})


def test_shards_cover_every_index_once_with_a_short_last_shard():
    p = plan()
    assert p.n_shards == 3
    assert [p.shard(k) for k in range(3)] == [(0, 4), (4, 4), (8, 2)]
    with pytest.raises(StoreError, match="shard 3 does not exist"):
        p.shard(3)


@pytest.mark.parametrize("change, needle", [
    ({"count": 0}, "at least one image"),
    ({"shard_size": 0}, "positive number"),
    ({"compression": "zstd"}, "not one of gzip, lzf, none"),
    ({"shape": (8, 8, 2)}, "1 or 3"),
    ({"set_id": ""}, "non-empty set_id"),
    ({"columns": (("index", "int"),)}, "use a new name"),
])
def test_bad_plans_are_refused_with_the_reason(change, needle):
    with pytest.raises(StoreError, match=needle):
        plan(**change)


def test_plan_round_trips_through_its_dict_keeping_column_order():
    p = plan(columns=(("family", "str"), ("draws", "int")))
    again = StorePlan.from_dict(json.loads(json.dumps(p.to_dict(), sort_keys=True)))
    assert again == p and not p.differences(again)


def test_differences_name_each_changed_setting():
    diff = plan().differences(plan(count=12, compression="gzip", shape=(16, 16, 3)))
    assert any("16x16x3, not 8x8x3" in d for d in diff)
    assert any("count 12, not 10" in d for d in diff)
    assert any("compression 'gzip', not 'lzf'" in d for d in diff)


def test_default_shard_size_targets_192_mib_of_pixels():
    assert default_shard_size((256, 256, 3)) == 1024
    assert default_shard_size((512, 512, 3)) == 256
    assert default_shard_size((32, 32, 3)) == MAX_SHARD_SIZE
    assert default_shard_size((8192, 8192, 3)) == MIN_SHARD_SIZE


def write_store(tmp_path, p):
    entries = []
    for k in range(p.n_shards):
        first, count = p.shard(k)
        with ShardWriter(tmp_path, p, k) as w:
            for i in range(first, first + count):
                w.write(np.full(p.shape, i, np.uint8), {"family": "x", "i": i})
        entries.append(w.entry)
    write_manifest(tmp_path, make_manifest(p, entries, {"recipe": None, "origin": {"kind": "test"}}))


def test_manifest_round_trip_records_plan_shards_and_version(tmp_path):
    p = plan()
    write_store(tmp_path, p)
    m = read_manifest(tmp_path)
    assert m["schema_version"] == SCHEMA_VERSION and m["count"] == 10
    assert [(s["file"], s["first"], s["count"]) for s in m["shards"]] == [
        ("shard-00000.h5", 0, 4), ("shard-00001.h5", 4, 4), ("shard-00002.h5", 8, 2)]
    assert StorePlan.from_dict(m) == p
    assert not list(tmp_path.glob("*.tmp"))


def test_make_manifest_refuses_missing_entries(tmp_path):
    with pytest.raises(StoreError, match="one entry per shard"):
        make_manifest(plan(), [], {})


@pytest.mark.parametrize("edit, needle", [
    (lambda text: text[: len(text) // 2], "is not valid JSON"),
    (lambda text: text.replace('"fractalgen-store"', '"other"'), "is not a fractalgen-store manifest"),
    (lambda text: text.replace('"count": 10', '"count": 11'), "do not cover images"),
    (lambda text: text.replace('"shards"', '"shardz"'), "lacks or mangles a field"),
])
def test_damaged_manifests_raise_a_one_line_store_error(tmp_path, edit, needle):
    write_store(tmp_path, plan())
    path = tmp_path / "manifest.json"
    path.write_text(edit(path.read_text()))
    with pytest.raises(StoreError, match=needle) as err:
        read_manifest(tmp_path)
    assert "\n" not in str(err.value) and "--resume" in str(err.value)


def test_a_newer_schema_asks_for_an_upgrade(tmp_path):
    write_store(tmp_path, plan())
    path = tmp_path / "manifest.json"
    path.write_text(path.read_text().replace(f'"schema_version": {SCHEMA_VERSION}', '"schema_version": 99'))
    with pytest.raises(StoreError, match="upgrade fractalgen"):
        read_manifest(tmp_path)


@pytest.mark.parametrize("change", [{}, {"count": 9}, {"count": 10}, {"set_id": "abd"}, {"shape": (8, 8, 1)},
                                    {"shard_size": 2}, {"compression": "gzip"}, {"columns": ()},
                                    {"columns": (("family", "int"),)}])
def test_a_set_grows_only_into_the_same_plan_with_more_images(change):
    """A finished store may grow only when the plan asked for is the one on disk with a larger count (decided
    by comparing the plans themselves, not the wording of their differences)."""
    on_disk = plan(**change)
    assert plan(count=20).grows(on_disk) is (set(change) <= {"count"})
    assert not on_disk.grows(on_disk)
    assert not plan(count=5).grows(plan())  # a smaller count never grows a set
    # the plans on disk round-trip through the manifest's dict and still compare equal
    assert StorePlan.from_dict(plan().to_dict()) == plan() and plan(count=11).grows(StorePlan.from_dict(plan().to_dict()))
