"""build_store with a non-fractal item source, in-process: the directory rules, resume, repair, overwrite,
Ctrl-C and errors. (The process pool is exercised through fractalgen.generate in tests/test_generate.py.)"""

from __future__ import annotations

import errno
import json
import os

import numpy as np
import pytest

from fractalgen.errors import RenderError, StoreError
from fractalgen.store import Interrupted, build_store, open_store, verify_store
from fractalgen.store.build import PerItem
from fractalgen.store.files import run_lock


class Stripes(PerItem):
    """Image i is filled with i % 256: proof that the store needs nothing from fractals."""

    columns = (("kind", "str"),)
    meta = {"recipe": None, "seed": None, "origin": {"kind": "test"}}

    def __init__(self, set_id="stripes-v1", fail_at=None, interrupt_at=None):
        self.set_id, self.fail_at, self.interrupt_at = set_id, fail_at, interrupt_at
        self.shape = (8, 8, 1)
        self.calls = []

    def setup_worker(self):
        pass

    def item(self, i):
        self.calls.append(i)
        if i == self.interrupt_at:
            raise KeyboardInterrupt
        if i == self.fail_at:
            raise RenderError(f"image {i} cannot be made")
        return np.full(self.shape, i % 256, np.uint8), {"kind": "stripe", "i": i}


def build(out, source=None, **kw):
    return build_store(source or Stripes(), out, 10, shard_size=4, workers=1, progress=False, **kw)


def manifest_sans_time(path):
    m = json.loads((path / "manifest.json").read_text())
    m.pop("created")
    return m


def test_builds_a_store_of_the_sources_items(tmp_path):
    out = build(tmp_path / "s")
    with open_store(out) as store:
        assert [int(store[i][0, 0, 0]) for i in range(10)] == list(range(10))
        assert store.params(7) == {"kind": "stripe", "i": 7}
        assert store.recipe is None and store.column("kind").tolist() == ["stripe"] * 10
    assert sorted(p.name for p in out.iterdir()) == ["manifest.json"] + [f"shard-0000{k}.h5" for k in range(3)]


def test_refuses_a_directory_holding_other_files(tmp_path):
    (tmp_path / "thesis.tex").write_text("precious")
    for flags in ({}, {"overwrite": True}, {"resume": True}):
        with pytest.raises(StoreError, match=r"holds files that are not part of a fractalgen store \(thesis.tex\)"):
            build(tmp_path, **flags)
    assert [p.name for p in tmp_path.iterdir()] == ["thesis.tex"]


def test_refuses_another_set_unless_told_to_overwrite(tmp_path):
    out = build(tmp_path / "s")
    with pytest.raises(StoreError, match="holds another set: other images .*--overwrite"):
        build(out, Stripes("stripes-v2"))
    with pytest.raises(StoreError, match="holds another set: .*--overwrite"):
        build(out, Stripes("stripes-v2"), resume=True)
    with pytest.raises(StoreError, match="count 10, not 8"):  # a larger count grows the set instead
        build_store(Stripes(), out, 8, shard_size=4, workers=1, progress=False)
    build(out, Stripes("stripes-v2"), overwrite=True)
    assert open_store(out).manifest["set_id"] == "stripes-v2"


def test_the_same_complete_set_again_is_a_no_op(tmp_path):
    out = build(tmp_path / "s")
    before = (out / "manifest.json").read_bytes()
    source, lines = Stripes(), []
    build(out, source, log=lines.append)
    assert source.calls == [] and (out / "manifest.json").read_bytes() == before
    assert "already holds this set, complete: nothing to do" in lines[0]
    with pytest.raises(StoreError, match="contradict"):
        build(out, resume=True, overwrite=True)


def test_resume_finishes_an_unfinished_run_making_only_the_missing_shards(tmp_path):
    out = build(tmp_path / "s")
    reference = manifest_sans_time(out)
    (out / "manifest.json").unlink()
    (out / "shard-00002.h5").unlink()
    (out / "shard-00001.h5.tmp").write_bytes(b"stale")
    with pytest.raises(StoreError, match=r"holds an unfinished run of this set \(2 of 3 shards written, no "
                                         r"manifest\): add --resume to the same command"):
        build(out)
    source, lines = Stripes(), []
    build(out, source, resume=True, log=lines.append)
    assert source.calls == [8, 9]
    assert manifest_sans_time(out) == reference
    assert not list(out.glob("*.tmp"))
    assert lines[-1] == "resume: 2 shards verified, 1 written"


def test_resume_repairs_a_damaged_shard_of_a_finished_store(tmp_path, flip_byte):
    out = build(tmp_path / "s")
    reference = manifest_sans_time(out)
    flip_byte(out / "shard-00001.h5", 2)
    assert not verify_store(out, progress=False).ok
    source, lines = Stripes(), []
    build(out, source, resume=True, log=lines.append)
    assert source.calls == [4, 5, 6, 7]
    assert "replaced a damaged shard: shard-00001.h5: image 6" in lines[0]
    assert manifest_sans_time(out) == reference and verify_store(out, progress=False).ok


def test_resume_of_a_whole_store_changes_nothing(tmp_path):
    out = build(tmp_path / "s")
    before = (out / "manifest.json").read_bytes()
    source = Stripes()
    build(out, source, resume=True)
    assert source.calls == [] and (out / "manifest.json").read_bytes() == before


def test_ctrl_c_keeps_finished_shards_removes_the_partial_one_and_says_how_to_resume(tmp_path):
    out = tmp_path / "s"
    with pytest.raises(Interrupted, match="1 of 3 shards .* are finished; repeat the same command with --resume"):
        build(out, Stripes(interrupt_at=6))
    assert sorted(p.name for p in out.iterdir()) == ["shard-00000.h5"]
    with pytest.raises(StoreError, match="did not finish"):
        open_store(out)


def test_an_error_in_the_source_stops_the_run_without_a_manifest(tmp_path):
    out = tmp_path / "s"
    with pytest.raises(RenderError, match="image 5 cannot be made"):
        build(out, Stripes(fail_at=5))
    assert sorted(p.name for p in out.iterdir()) == ["shard-00000.h5"]


def test_a_second_run_into_the_same_directory_is_refused(tmp_path):
    out = tmp_path / "s"
    out.mkdir()
    with run_lock(out):
        with pytest.raises(StoreError, match="another fractalgen run is writing"):
            build(out)


@pytest.mark.parametrize("code", [errno.ENOLCK, errno.EOPNOTSUPP])
def test_a_file_system_without_locks_runs_unlocked_but_a_held_lock_still_refuses(tmp_path, monkeypatch, code):
    """An NFS mount without a lock service makes flock fail with ENOLCK: that said "another fractalgen run is
    writing" and no run could ever start there. Only a lock held by another process refuses a run."""
    import fcntl

    def no_locks(fd, op):
        raise OSError(code, os.strerror(code))

    monkeypatch.setattr(fcntl, "flock", no_locks)
    build(tmp_path / "s")
    assert (tmp_path / "s" / "manifest.json").exists()

    def held(fd, op):
        raise BlockingIOError(errno.EWOULDBLOCK, os.strerror(errno.EWOULDBLOCK))

    monkeypatch.setattr(fcntl, "flock", held)
    with pytest.raises(StoreError, match="another fractalgen run is writing"):
        build(tmp_path / "t")


def test_bad_settings_are_refused_before_any_file_is_created(tmp_path):
    for kw, needle in (({"workers": 0}, "positive number of worker"), ({"compression": "zip"}, "not one of"),
                       ({"shard_size": 0}, "positive number of images")):
        with pytest.raises(StoreError, match=needle):
            build_store(Stripes(), tmp_path / "s", 10, progress=False, **{"workers": 1, **kw})
    assert not (tmp_path / "s").exists()


DYING = '''
import os
import numpy as np
from fractalgen.store.build import PerItem

class Dying(PerItem):
    """Item 5 kills its worker process outright, as the OOM killer would."""
    columns = ()
    meta = {"recipe": None, "seed": None, "origin": {}}
    set_id, shape = "dying", (4, 4, 1)

    def setup_worker(self):
        pass

    def item(self, i):
        if i == 5:
            os._exit(3)
        return np.zeros(self.shape, np.uint8), {}
'''


def test_a_worker_process_that_dies_stops_the_run_with_a_resume_hint(tmp_path, monkeypatch):
    import importlib

    (tmp_path / "dying_source.py").write_text(DYING)
    monkeypatch.syspath_prepend(str(tmp_path))  # spawned workers inherit sys.path, so they can import it
    source = importlib.import_module("dying_source").Dying()
    out = tmp_path / "s"
    with pytest.raises(StoreError, match="a worker process died .* repeat the command with --resume"):
        build_store(source, out, 8, shard_size=2, workers=2, progress=False)
    assert not list(out.glob("*.tmp")) and not (out / "manifest.json").exists()
