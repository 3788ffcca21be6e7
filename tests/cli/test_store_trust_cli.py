"""Issue 11, as a user meets it on the command line: verify checks the manifest's recipe, a store grows, a run
killed or terminated by its PID alone takes its workers with it, and the one-line errors of odd directories and
a full disk."""

from __future__ import annotations

import contextlib
import errno
import json
import os
import signal
import time
from pathlib import Path

import pytest

import fractalgen as fg
from fractalgen.render import RENDER_VERSION
from fractalgen.store import shard as shard_mod

from .test_store_cli import SLOW, manifest_sans_time, one_line_error, run, start, store, wait_for_a_shard  # noqa: F401

GEN = ["generate", "ifs-colour", "s", "--size", 32, "--shard-size", 8, "--workers", 1, "-q"]


def test_verify_checks_the_manifests_recipe_and_seed_against_the_set_id(run, store):
    path = store / "manifest.json"
    m = json.loads(path.read_text())
    m["recipe"]["size"], m["seed"] = 64, 99
    path.write_text(json.dumps(m))
    res = run("verify", store, "-q")
    assert res.exit_code == 1 and "Traceback" not in res.output, res.output
    assert "manifest.json: its recipe hashes to" in res.output and "the recipe was edited" in res.output
    assert "manifest.json: seed 99 is not its recipe's seed 0" in res.output
    one_line_error(run("info", store, "--recipe"), 1, "records a recipe (hash")
    res = run(*GEN, "--count", 20, "--resume")  # the same command repairs the manifest
    assert res.exit_code == 0, res.output
    assert run("verify", store, "-q").exit_code == 0
    assert json.loads(path.read_text())["seed"] == 0


def test_verify_refuses_a_store_of_a_newer_renderer(run, store):
    path = store / "manifest.json"
    m = json.loads(path.read_text())
    assert m["render_version"] == RENDER_VERSION
    m["render_version"] += 1
    path.write_text(json.dumps(m))
    res = run("verify", store, "-q")
    assert res.exit_code == 1 and "newer than this fractalgen's" in res.output


def test_verify_checks_an_imported_sets_origin(run, tmp_path):
    from PIL import Image

    (tmp_path / "photos").mkdir()
    for i in range(3):
        Image.new("RGB", (20, 20), (i, 0, 0)).save(tmp_path / "photos" / f"{i}.png")
    assert run("import", tmp_path / "photos", "imp", "--size", 16, "--workers", 1, "-q").exit_code == 0
    assert run("verify", "imp", "-q").exit_code == 0
    path = tmp_path / "imp" / "manifest.json"
    m = json.loads(path.read_text())
    m["origin"]["files"] = 30
    path.write_text(json.dumps(m))
    res = run("verify", "imp", "-q")
    assert res.exit_code == 1 and "its origin lists 30 imported files for 3 images" in res.output


def test_a_larger_count_grows_the_store_to_what_one_go_writes(run, store, tmp_path):
    res = run(*GEN, "--count", 28)
    assert res.exit_code == 0, res.output
    assert "growing 's' from 20 to 28 images" in res.output and "done: s holds 28 images" in res.output
    assert run(*GEN[:2], "whole", *GEN[3:], "--count", 28).exit_code == 0
    assert manifest_sans_time(store) == manifest_sans_time(tmp_path / "whole")


def test_an_unfinished_run_without_resume_says_what_to_add(run, store):
    (store / "manifest.json").unlink()
    (store / "shard-00001.h5").unlink()
    one_line_error(run(*GEN, "--count", 20), 1, "holds an unfinished run of this set (2 of 3 shards written, no "
                                                "manifest): add --resume to the same command")


@pytest.mark.parametrize("name", ["manifest.json", "shard-00002.h5"])
def test_resume_with_a_directory_named_like_a_store_file_is_one_line(run, store, name):
    (store / name).unlink()
    (store / name).mkdir()
    one_line_error(run(*GEN, "--count", 20, "--resume"), 1, "is not a regular file")


def test_a_full_disk_during_import_is_one_line_and_resume_finishes(run, tmp_path, monkeypatch):
    from PIL import Image

    src = tmp_path / "photos"
    src.mkdir()
    for i in range(5):
        Image.new("RGB", (20, 20), (i, 0, 0)).save(src / f"{i}.png")
    real, calls = shard_mod.publish, []

    def publish(tmp, final):
        calls.append(final)
        if len(calls) > 1:
            raise OSError(errno.ENOSPC, os.strerror(errno.ENOSPC), str(tmp))
        real(tmp, final)

    monkeypatch.setattr(shard_mod, "publish", publish)
    args = ["import", src, "imp", "--size", 16, "--shard-size", 2, "--workers", 1, "-q"]
    one_line_error(run(*args), 1, "is full (No space left on device); the finished shards are kept")
    assert sorted(p.name for p in (tmp_path / "imp").iterdir()) == ["shard-00000.h5"]
    monkeypatch.setattr(shard_mod, "publish", real)  # space freed
    assert run(*args, "--resume").exit_code == 0
    with fg.open_store(tmp_path / "imp") as s:
        assert len(s) == 5 and int(s[4][0, 0, 0]) == 4


# -- the parent killed by its PID alone -------------------------------------------------------------------------

def workers_of(pid):
    """PIDs of the spawned pool workers whose parent is ``pid``."""
    out = []
    for entry in Path("/proc").iterdir():
        if not entry.name.isdigit():
            continue
        with contextlib.suppress(OSError):
            stat = (entry / "stat").read_text()
            cmdline = (entry / "cmdline").read_bytes()
            if int(stat.rsplit(")", 1)[1].split()[1]) == pid and b"spawn_main" in cmdline:
                out.append(int(entry.name))
    return out


def alive(pid):
    try:
        state = Path(f"/proc/{pid}/stat").read_text().rsplit(")", 1)[1].split()[0]
    except OSError:
        return False
    return state != "Z"  # a zombie has ended (nobody may reap it in a container)


def wait_until_gone(pids, timeout=20.0):
    deadline = time.monotonic() + timeout
    while time.monotonic() < deadline and any(alive(p) for p in pids):
        time.sleep(0.05)
    return [p for p in pids if alive(p)]


def started_with_workers(out):
    proc = start(out, "--workers", "2")
    wait_for_a_shard(proc, out)
    deadline = time.monotonic() + 30
    while len(pids := workers_of(proc.pid)) < 2 and time.monotonic() < deadline:
        time.sleep(0.01)
    assert len(pids) == 2, pids
    return proc, pids


@pytest.mark.skipif(not Path("/proc/self/stat").exists(), reason="reads /proc")
@pytest.mark.parametrize("sig", [signal.SIGKILL, signal.SIGTERM])
def test_workers_die_with_a_parent_killed_by_its_pid(tmp_path, sig):
    out = tmp_path / "s"
    proc, pids = started_with_workers(out)
    try:
        os.kill(proc.pid, sig)  # the parent only, as `kill PID` or the OOM killer do
        _, err = proc.communicate(timeout=60)
        assert wait_until_gone(pids) == [], "workers outlived their parent"
        if sig == signal.SIGTERM:
            assert proc.returncode == 143, err
            assert "terminated:" in err and "repeat the same command with --resume" in err and "Traceback" not in err
            assert not list(out.glob("*.tmp"))
    finally:
        with contextlib.suppress(ProcessLookupError):
            os.killpg(proc.pid, signal.SIGKILL)
        for p in pids:
            with contextlib.suppress(ProcessLookupError):
                os.kill(p, signal.SIGKILL)
