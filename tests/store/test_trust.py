"""Stores that never return wrong data (issue 11): shards checked against the manifest on open and on resume,
growing a set, and the one-line errors of a full disk, a read-only directory and odd directory entries."""

from __future__ import annotations

import concurrent.futures as cf
import errno
import json
import shutil

import h5py
import numpy as np
import pytest

from fractalgen.errors import CorruptShardError, StoreError
from fractalgen.store import Interrupted, build_store, open_store, verify_store
from fractalgen.store import build as build_mod
from fractalgen.store import shard as shard_mod
from fractalgen.store.manifest import MAX_SHARDS

from .test_build import Stripes, manifest_sans_time


def build(out, source=None, count=12, **kw):
    return build_store(source or Stripes(), out, count, shard_size=4, workers=1, progress=False, **kw)


def shard_hashes(path):
    return {e["file"]: e["sha256"] for e in json.loads((path / "manifest.json").read_text())["shards"]}


# -- item 3: each shard carries its identity and the reader checks it -----------------------------------------

def test_swapped_shards_of_equal_size_are_refused_not_read(tmp_path):
    out = build(tmp_path / "s", compression="none")  # every full shard has the same size: stat cannot tell
    a, b = out / "shard-00001.h5", out / "shard-00002.h5"
    assert a.stat().st_size == b.stat().st_size
    a.rename(tmp_path / "x"), b.rename(a), (tmp_path / "x").rename(b)
    with open_store(out) as store:
        assert int(store[0][0, 0, 0]) == 0  # shard 0 is in its place
        with pytest.raises(CorruptShardError, match=r"shard-00001.h5' \(images 4..7\) is not the shard this "
                                                    r"store's manifest lists here \(attribute shard is 2, expected 1"):
            store[5]
        with pytest.raises(CorruptShardError, match="attribute shard is 2"):
            store.params(7)


def test_a_shard_of_another_set_copied_in_is_refused(tmp_path):
    out = build(tmp_path / "s", compression="none")
    other = build(tmp_path / "o", Stripes("stripes-seed-1"), compression="none")
    shutil.copy(other / "shard-00001.h5", out / "shard-00001.h5")
    with open_store(out) as store, pytest.raises(CorruptShardError, match="belongs to another set: other images"):
        store[4]


def test_a_manifest_image_shape_of_the_same_byte_count_is_refused(tmp_path):
    out = build(tmp_path / "s")
    path = out / "manifest.json"
    m = json.loads(path.read_text())
    m["image"].update(height=4, width=16)  # 8 x 8 x 1 and 4 x 16 x 1 hold the same bytes
    path.write_text(json.dumps(m))
    with open_store(out) as store, pytest.raises(CorruptShardError, match="images 8x8x1, not 4x16x1"):
        store[0]


def test_a_store_held_open_while_its_directory_is_regenerated_never_returns_the_new_set(tmp_path):
    out = build(tmp_path / "s")
    with open_store(out) as store:
        assert int(store[0][0, 0, 0]) == 0
        build(out, Stripes("stripes-seed-1"), overwrite=True)
        with pytest.raises(CorruptShardError, match="belongs to another set"):
            store[5]


def test_open_store_with_locking_after_one_without_in_one_process_reads(tmp_path):
    out = build(tmp_path / "s")
    with open_store(out) as plain, open_store(out, locking=True) as locked:
        assert plain[3].tobytes() == locked[3].tobytes()
        with open_store(out) as again:
            np.testing.assert_array_equal(locked[9], again[9])


# -- item 2: resume compares each finished shard with the manifest's record ---------------------------------

def edit_params(path, j, **change):
    """Change the params of position j of a shard, and the columns that copy them, as a hand edit would."""
    with h5py.File(path, "r+") as f:
        params = json.loads(f["params"].asstr()[j])
        params.update(change)
        f["params"][j] = json.dumps(params, sort_keys=True, separators=(",", ":"))
        for name, value in change.items():
            if f"columns/{name}" in f:
                f[f"columns/{name}"][j] = value


def test_resume_rewrites_a_shard_whose_params_and_column_were_edited(tmp_path):
    out = build(tmp_path / "s")
    reference = manifest_sans_time(out)
    edit_params(out / "shard-00001.h5", 1, kind="other")
    assert not verify_store(out, progress=False).ok
    source, lines = Stripes(), []
    build(out, source, resume=True, log=lines.append)
    assert source.calls == [4, 5, 6, 7], lines
    assert lines[-1] == "resume: 2 shards verified, 1 written"
    assert manifest_sans_time(out) == reference and verify_store(out, progress=False).ok
    with open_store(out) as store:
        assert store.params(5)["kind"] == "stripe" and set(store.column("kind")) == {"stripe"}


def test_resume_of_an_unfinished_run_catches_edited_params_by_their_recorded_sha256(tmp_path):
    out = build(tmp_path / "s")
    (out / "manifest.json").unlink()  # no record to compare with: the shard's own params_sha256 must catch it
    edit_params(out / "shard-00002.h5", 0, i=99)
    source, lines = Stripes(), []
    build(out, source, resume=True, log=lines.append)
    assert source.calls == [8, 9, 10, 11]
    assert "params' sha256 differs" in lines[0]


def test_verify_catches_a_column_that_disagrees_with_its_params(tmp_path):
    out = build(tmp_path / "s")
    with h5py.File(out / "shard-00000.h5", "r+") as f:
        f["columns/kind"][2] = "other"
    problems = verify_store(out, progress=False).problems
    assert any("column 'kind' of image 2 reads 'other', its params say 'stripe'" in p for p in problems)


# -- growing a store ------------------------------------------------------------------------------------------

def test_a_larger_count_grows_a_finished_set_to_the_bytes_of_one_go(tmp_path):
    out = build(tmp_path / "s", count=10)  # shards of 4, 4, 2
    before = shard_hashes(out)
    source, lines = Stripes(), []
    build(out, source, count=18, log=lines.append)
    assert source.calls == list(range(12, 18)) + [8, 9, 10, 11]  # the new shards, then the old last one re-made
    assert "growing" in lines[0] and lines[-1] == "grow: 2 shards verified, 3 written"
    whole = build(tmp_path / "whole", count=18)
    assert manifest_sans_time(out) == manifest_sans_time(whole)
    after = shard_hashes(out)
    assert [after[f] == before[f] for f in sorted(before)] == [True, True, False]
    assert verify_store(out, progress=False).ok


def test_an_interrupted_grow_keeps_the_old_store_readable_and_the_same_command_finishes_it(tmp_path):
    out = build(tmp_path / "s", count=10)
    with pytest.raises(Interrupted, match="repeat the same command to finish the rest"):
        build(out, Stripes(interrupt_at=13), count=18)
    with open_store(out) as store:
        assert len(store) == 10 and int(store[9][0, 0, 0]) == 9
    source = Stripes()
    build(out, source, count=18)
    assert source.calls == list(range(12, 18)) + [8, 9, 10, 11]
    assert manifest_sans_time(out) == manifest_sans_time(build(tmp_path / "whole", count=18))


def test_a_smaller_count_is_refused_naming_both(tmp_path):
    out = build(tmp_path / "s")
    with pytest.raises(StoreError, match="holds another set: count 12, not 8"):
        build(out, count=8)


# -- bounded work, failures of the file system --------------------------------------------------------------

class Limited(Stripes):
    """Stops after 50 images, so that a run that would never end fails instead of hanging the suite."""

    def item(self, i):
        if len(self.calls) > 50:
            raise RuntimeError("the run went on: the count was not checked up front")
        return super().item(i)


def test_an_absurd_count_is_refused_up_front(tmp_path):
    with pytest.raises(StoreError, match=f"a store holds at most {MAX_SHARDS:,}: pass a smaller --count"):
        build_store(Limited(), tmp_path / "s", 10**12, shard_size=16, workers=1, progress=False)
    assert not (tmp_path / "s").exists()


class ThreadPool(cf.ThreadPoolExecutor):
    """A process pool stand-in that records how many tasks are queued at once."""

    most = 0

    def __init__(self, workers, mp_context=None, initializer=None, initargs=()):
        super().__init__(workers, initializer=initializer, initargs=initargs)
        self.futures = []

    def submit(self, *args, **kw):
        self.futures.append(super().submit(*args, **kw))
        ThreadPool.most = max(ThreadPool.most, sum(not f.done() for f in self.futures))
        return self.futures[-1]


def test_the_pool_gets_a_bounded_window_of_tasks(tmp_path, monkeypatch):
    def init(source, directory, plan, queue, *parent):
        build_mod._WORKER = (source, build_mod.Path(directory), plan, build_mod._Reporter(queue))

    monkeypatch.setattr(build_mod.cf, "ProcessPoolExecutor", ThreadPool)
    monkeypatch.setattr(build_mod, "_init_worker", init)
    ThreadPool.most = 0
    out = build_store(Stripes(), tmp_path / "s", 60, shard_size=1, workers=2, progress=False)
    assert 1 <= ThreadPool.most <= 2 * 2  # two tasks per worker
    with open_store(out) as store:
        assert [int(store[i][0, 0, 0]) for i in range(60)] == list(range(60))


def failing_publish(code, after=1):
    real, calls = shard_mod.publish, []

    def publish(tmp, final):
        calls.append(final)
        if len(calls) > after:
            raise OSError(code, "simulated", str(tmp))
        real(tmp, final)

    return publish


def test_a_full_disk_stops_with_one_line_keeps_finished_shards_and_resume_works(tmp_path, monkeypatch):
    out, real_publish = tmp_path / "s", shard_mod.publish
    monkeypatch.setattr(shard_mod, "publish", failing_publish(errno.ENOSPC))
    with pytest.raises(StoreError, match=r"the disk holding '.*' is full \(No space left on device\); the finished "
                                         r"shards are kept: free some space, then repeat the command with --resume"):
        build(out)
    assert sorted(p.name for p in out.iterdir()) == ["shard-00000.h5"]
    monkeypatch.setattr(shard_mod, "publish", real_publish)  # space freed
    build(out, resume=True)
    assert manifest_sans_time(out) == manifest_sans_time(build(tmp_path / "whole"))


def test_hdf5s_own_error_for_a_read_only_directory_is_one_line(tmp_path, monkeypatch):
    """h5py reports the errno only inside its message."""
    def read_only(*args, **kw):
        raise OSError("Unable to synchronously create file (unable to open file: name = 'x', errno = 30, error "
                      "message = 'Read-only file system', flags = 15, o_flags = c2)")

    monkeypatch.setattr(shard_mod.h5py, "File", read_only)
    with pytest.raises(StoreError, match=r"cannot write into '.*' \(Read-only file system\); choose a writable"):
        build(tmp_path / "s")


def test_a_directory_that_is_not_writable_is_refused_before_anything_runs(tmp_path, monkeypatch):
    monkeypatch.setattr("os.access", lambda path, mode: False)
    with pytest.raises(StoreError, match="cannot write into"):
        build(tmp_path / "s", Limited())


def test_a_temporary_that_vanishes_while_a_resume_looks_is_no_obstacle(tmp_path, monkeypatch):
    """A Dask client killed mid-run leaves tasks running on the workers: a resume may list one of their shard
    temporaries just before it is published (renamed) or dropped. Seen in CI as "is not a regular file"."""
    out = build(tmp_path / "s")
    (out / "manifest.json").unlink()  # an unfinished run
    listing = type(out).iterdir

    def with_a_ghost(self):
        yield from listing(self)
        if self == out:
            yield out / "shard-00001.h5.4242-deadbeef.tmp"  # listed, then gone before the check

    monkeypatch.setattr(type(out), "iterdir", with_a_ghost)
    build(out, resume=True)
    monkeypatch.undo()
    assert verify_store(out).ok


@pytest.mark.parametrize("name", ["manifest.json", "shard-00001.h5"])
def test_resume_refuses_a_directory_named_like_a_store_file(tmp_path, name):
    out = build(tmp_path / "s")
    (out / name).unlink()
    (out / name).mkdir()
    for flags in ({"resume": True}, {"overwrite": True}, {}):
        with pytest.raises(StoreError, match=f"'{out / name}' is not a regular file .* remove it"):
            build(out, **flags)
    assert (out / name).is_dir()
