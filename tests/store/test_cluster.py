"""Stores written and checked on a real Dask cluster (LocalCluster, 2 single-threaded worker processes): byte for
byte the local pool's store, a worker killed mid-shard, a client killed or interrupted and resumed (on Dask or
locally, and the other way round), verify on the cluster, and the one-line error when the extra is missing."""

from __future__ import annotations

import hashlib
import json
import os
import signal
import subprocess
import sys
import time

import pytest
from click.testing import CliRunner

import fractalgen as fg
from fractalgen.cli import main
from fractalgen.errors import MissingExtraError, StoreError
from fractalgen.generate import RecipeItems
from fractalgen.store import Interrupted, build_store, verify_store
from fractalgen.store.build import PerItem

from .conftest import SMALL

distributed = pytest.importorskip("distributed")
cloudpickle = pytest.importorskip("cloudpickle")
# the workers unpickle this module's item sources by value (they cannot import a test module by name)
cloudpickle.register_pickle_by_value(sys.modules[__name__])

# ~3 ms per image at 32 px: a run of 30 shards can be caught between its first and its last shard
SLOW = ["ifs-colour", "--count", "240", "--size", "32", "--shard-size", "8", "--set", "ifs.points=4000000"]


@pytest.fixture(scope="module")
def client():
    with distributed.LocalCluster(n_workers=2, threads_per_worker=1, processes=True, dashboard_address=":0",
                                  env={"NUMBA_NUM_THREADS": "1"}) as cluster, distributed.Client(cluster) as c:
        yield c


def digests(path):
    """sha256 of every shard file and the manifest's content apart from its creation time."""
    manifest = json.loads((path / "manifest.json").read_text())
    manifest.pop("created")
    shards = {p.name: hashlib.sha256(p.read_bytes()).hexdigest() for p in sorted(path.glob("shard-*.h5"))}
    return shards, manifest


def small(path, **kw):
    opts = {**SMALL, **kw}
    return fg.generate(opts.pop("recipe"), path, opts.pop("count"), progress=False, **opts).path


def test_a_dask_run_writes_the_local_store_byte_for_byte_and_resumes_and_verifies_on_the_cluster(
        client, small_store_path, tmp_path, flip_byte):
    lines = []
    out = small(tmp_path / "dask", workers=None, dask=client, log=lines.append)
    assert digests(out) == digests(small_store_path)
    assert lines[0].startswith("Dask: 2 workers, 2 threads, scheduler tcp://")
    before = (out / "manifest.json").read_bytes()
    small(out, workers=None, dask=client, log=lines.append)  # the same command again: nothing to do
    assert "already holds this set, complete: nothing to do" in lines[-1]
    assert (out / "manifest.json").read_bytes() == before
    flip_byte(out / "shard-00001.h5", 3)
    local = verify_store(out, progress=False).problems
    on_dask = verify_store(out, progress=False, dask=client).problems
    assert on_dask == local and any("image 19 (position 3 in the shard) fails its checksum" in p for p in local)
    lines.clear()
    small(out, workers=None, dask=client, resume=True, log=lines.append)  # checked and repaired on the workers
    assert "replaced a damaged shard: shard-00001.h5: image 19" in lines[1]
    assert lines[-1] == "resume: 2 shards verified, 1 written"
    assert digests(out) == digests(small_store_path) and verify_store(out, progress=False, dask=client).ok


class KillOnce:
    """The recipe's items, but the first worker to reach image ``at`` dies on the spot (SIGKILL, as the OOM
    killer would), its shard half written; ``marker`` records that it happened and the temporary files of
    ``out`` at that moment."""

    def __init__(self, items, at, marker, out):
        self.inner, self.at, self.marker, self.out = items, at, str(marker), str(out)
        self.set_id, self.shape, self.columns, self.meta = items.set_id, items.shape, items.columns, items.meta

    def setup_worker(self):
        self.inner.setup_worker()

    def items(self, indices):
        for i, item in zip(indices, self.inner.items(indices)):
            if i == self.at and not os.path.exists(self.marker):
                with open(self.marker, "w") as fh:
                    fh.write("\n".join(n for n in os.listdir(self.out) if n.endswith(".tmp")))
                os.kill(os.getpid(), signal.SIGKILL)
            yield item


def test_a_worker_killed_mid_shard_still_gives_the_local_store_and_no_temporary_files(client, small_store_path,
                                                                                       tmp_path):
    pids = set(client.run(os.getpid).values())
    recipe = fg.load_recipe(SMALL["recipe"], size=SMALL["size"], seed=SMALL["seed"])
    source = KillOnce(RecipeItems(recipe), at=SMALL["shard_size"] + 5, marker=tmp_path / "killed",
                      out=tmp_path / "s")
    out = build_store(source, tmp_path / "s", SMALL["count"], shard_size=SMALL["shard_size"], dask=client,
                      progress=False)
    # it died with its shard half written (the other worker's shard may be in progress too: listdir's order)
    assert any(n.startswith("shard-00001.h5.") for n in (tmp_path / "killed").read_text().splitlines())
    assert digests(out) == digests(small_store_path)
    assert sorted(p.name for p in out.iterdir()) == ["manifest.json"] + [f"shard-0000{k}.h5" for k in range(3)]
    client.wait_for_workers(2, timeout=60)  # the nanny restarted the killed worker
    assert set(client.run(os.getpid).values()) != pids


class Numbers(PerItem):
    """Image i is filled with i % 256 (a non-fractal source; see tests/store/test_build.py)."""

    set_id, shape, columns = "numbers-v1", (8, 8, 1), ()
    meta = {"recipe": None, "seed": None, "origin": {"kind": "test"}}

    def __init__(self, interrupt_at=None):
        self.interrupt_at = interrupt_at

    def setup_worker(self):
        pass

    def item(self, i):
        import numpy as np

        if i == self.interrupt_at:
            raise KeyboardInterrupt
        return np.full(self.shape, i % 256, np.uint8), {"i": i}


def test_a_local_run_interrupted_is_finished_on_dask(client, tmp_path):
    whole = build_store(Numbers(), tmp_path / "whole", 10, shard_size=4, workers=1, progress=False)
    out = tmp_path / "s"
    with pytest.raises(Interrupted):
        build_store(Numbers(interrupt_at=6), out, 10, shard_size=4, workers=1, progress=False)
    lines = []
    build_store(Numbers(), out, 10, shard_size=4, dask=client, resume=True, progress=False, log=lines.append)
    assert lines[-1] == "resume: 1 shards verified, 2 written"
    assert digests(out) == digests(whole)


def start(out, address, *extra):
    cmd = [sys.executable, "-m", "fractalgen", "generate", SLOW[0], str(out), *SLOW[1:], "-q", "--dask", address,
           *extra]
    return subprocess.Popen(cmd, start_new_session=True, stdout=subprocess.PIPE, stderr=subprocess.PIPE, text=True)


def wait_for_a_shard(proc, out, timeout=120.0):
    deadline = time.monotonic() + timeout
    while time.monotonic() < deadline:
        if out.is_dir() and any(p.suffix == ".h5" for p in out.iterdir()):
            return
        assert proc.poll() is None, proc.communicate()
        time.sleep(0.002)
    pytest.fail("no shard appeared")


@pytest.fixture(scope="module")
def slow_local(tmp_path_factory):
    """The SLOW set written by the local pool in one go: the reference of the interrupted runs."""
    out = tmp_path_factory.mktemp("slow") / "local"
    res = CliRunner().invoke(main, ["generate", SLOW[0], str(out), *SLOW[1:], "-q", "--workers", "1"])
    assert res.exit_code == 0, res.output
    return out


def test_a_killed_dask_client_is_resumed_on_dask_and_an_interrupted_one_locally(client, slow_local, tmp_path):
    address = client.scheduler.address
    runner = CliRunner()
    killed = tmp_path / "killed"
    proc = start(killed, address)
    wait_for_a_shard(proc, killed)
    os.kill(proc.pid, signal.SIGKILL)  # the client only: its tasks may go on running on the workers
    proc.communicate()
    assert not (killed / "manifest.json").exists()
    res = runner.invoke(main, ["generate", SLOW[0], str(killed), *SLOW[1:], "-q", "--dask", address, "--resume"])
    assert res.exit_code == 0, res.output
    assert digests(killed) == digests(slow_local)

    stopped = tmp_path / "stopped"
    proc = start(stopped, address)
    wait_for_a_shard(proc, stopped)
    os.killpg(proc.pid, signal.SIGINT)  # Ctrl-C
    _, err = proc.communicate(timeout=60)
    assert proc.returncode == 130, err
    assert "repeat the same command with --resume" in err and "Traceback" not in err
    assert not (stopped / "manifest.json").exists()
    res = runner.invoke(main, ["generate", SLOW[0], str(stopped), *SLOW[1:], "-q", "--workers", "2", "--resume"])
    assert res.exit_code == 0, res.output
    assert digests(stopped) == digests(slow_local)


def test_verify_on_dask_from_the_command_line(client, store_copy, flip_byte):
    runner = CliRunner()
    res = runner.invoke(main, ["verify", str(store_copy), "-q", "--dask", client.scheduler.address])
    assert res.exit_code == 0 and "ok: 40 images in 3 shards verified" in res.output, res.output
    flip_byte(store_copy / "shard-00002.h5", 1)
    res = runner.invoke(main, ["verify", str(store_copy), "-q", "--dask", client.scheduler.address])
    assert res.exit_code == 1 and "shard-00002.h5: image 33 (position 1 in the shard) fails" in res.output


def test_a_missing_extra_is_a_one_line_error_naming_the_install_command(tmp_path, monkeypatch):
    monkeypatch.setitem(sys.modules, "distributed", None)  # `import distributed` raises ImportError
    with pytest.raises(MissingExtraError, match=r'pip install "fractalgen\[dask\]"'):
        fg.generate("ifs-colour", tmp_path / "api", 4, size=32, progress=False, dask="local")
    res = CliRunner().invoke(main, ["generate", "ifs-colour", str(tmp_path / "cli"), "-n", "4", "--dask", "local"])
    assert res.exit_code == 1 and "Traceback" not in res.output
    assert res.output.strip().splitlines() == [
        'Error: running on Dask needs dask.distributed, which is not installed: pip install "fractalgen[dask]"']
    res = CliRunner().invoke(main, ["verify", str(tmp_path / "cli"), "--dask", "tcp://127.0.0.1:8786"])
    assert res.exit_code == 1 and 'pip install "fractalgen[dask]"' in res.output
    assert not (tmp_path / "api").exists() and not (tmp_path / "cli").exists()


def test_bad_dask_arguments_are_refused_before_any_file_is_created(client, tmp_path):
    with pytest.raises(StoreError, match="pass a distributed.Client, a scheduler address"):
        fg.generate("ifs-colour", tmp_path / "s", 4, size=32, progress=False, dask=8786)
    with pytest.raises(StoreError, match="drop --workers"):
        fg.generate("ifs-colour", tmp_path / "s", 4, size=32, progress=False, dask=client, workers=2)
    assert not (tmp_path / "s").exists()
