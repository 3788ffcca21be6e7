"""Planning 100M images (100k shards) by simulation: what the manifest weighs, how long it takes to write and to
open, what the client holds in memory, and what Dask's scheduler costs per shard task.

    python benchmarks/bench_scale.py              # 100,000 shards of 1,000 images; ~1 minute
    python benchmarks/bench_scale.py --shards 10000

The manifest is a real one (``make_manifest`` over synthetic shard entries with real-looking sha256 values);
opening it is ``open_store`` on a directory of that many empty shard files (their recorded size is 0), so the
one ``stat`` per shard that ``open_store`` makes is measured on this machine's file system. Memory is Python's
(tracemalloc) peak for building the entries (what a client holds at the end of a run) and for opening the store.
The task cost is the wall time per task of ``map_shards`` (the Dask driver's loop: bounded window, results
released as recorded) over no-op tasks on a 2-worker LocalCluster.
"""

from __future__ import annotations

import argparse
import hashlib
import tempfile
import time
import tracemalloc
from pathlib import Path

from timing import best_of, header  # benchmarks/timing.py (the script's folder is on sys.path)

from fractalgen import load_recipe
from fractalgen.store import StorePlan, open_store
from fractalgen.store.files import shard_name
from fractalgen.store.manifest import ShardEntry, make_manifest, read_manifest, write_manifest


def entries(plan: StorePlan) -> list[ShardEntry]:
    out = []
    for k in range(plan.n_shards):
        first, count = plan.shard(k)
        out.append(ShardEntry(shard_name(k), first, count, 0, hashlib.sha256(str(k).encode()).hexdigest()))
    return out


def peak_mib(fn):
    tracemalloc.start()
    result = fn()
    peak = tracemalloc.get_traced_memory()[1]
    tracemalloc.stop()
    return result, peak / 2**20


def _noop(job, k):
    return k


def task_cost(n: int) -> float:
    from distributed import Client, LocalCluster

    from fractalgen.store.cluster import map_shards

    with LocalCluster(n_workers=2, threads_per_worker=1, processes=True, dashboard_address=":0") as cluster, \
            Client(cluster) as client:
        map_shards(client, _noop, (), range(50), "warm-up", lambda k, r: None)
        t = time.perf_counter()
        map_shards(client, _noop, (), range(n), "bench", lambda k, r: None)
        return (time.perf_counter() - t) / n


def main() -> None:
    ap = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    ap.add_argument("--shards", type=int, default=100_000)
    ap.add_argument("--shard-size", type=int, default=1000)
    ap.add_argument("--tasks", type=int, default=2000, help="no-op tasks timed on the LocalCluster")
    ap.add_argument("--repeats", type=int, default=3)
    args = ap.parse_args()
    print(header(__doc__.splitlines()[0]))
    plan = StorePlan("x" * 64, (256, 256, 3), args.shards * args.shard_size, args.shard_size, "gzip",
                     (("family", "str"), ("draws", "int")))
    shards, mem_entries = peak_mib(lambda: entries(plan))
    recipe = load_recipe("ifs-colour", size=256).to_dict()
    manifest = make_manifest(plan, shards, {"recipe": recipe, "seed": 0, "origin": {"kind": "generated"}})
    with tempfile.TemporaryDirectory() as d:
        root = Path(d)
        t_write = best_of(args.repeats, lambda: write_manifest(root, manifest))
        size = (root / "manifest.json").stat().st_size
        t_parse = best_of(args.repeats, lambda: read_manifest(root))
        t = time.perf_counter()
        for s in shards:
            (root / s.file).touch()
        t_touch = time.perf_counter() - t
        t_open = best_of(args.repeats, lambda: open_store(root))
        store, mem_open = peak_mib(lambda: open_store(root))
        del store
    print(f"{plan.count:,} images in {plan.n_shards:,} shards of {args.shard_size:,}:")
    print(f"  manifest.json           : {size / 2**20:.1f} MiB ({size / plan.n_shards:.0f} bytes per shard)")
    print(f"  write (json, fsync, rename): {t_write:.2f} s")
    print(f"  read_manifest (parse, validate): {t_parse:.2f} s")
    print(f"  open_store (+ one stat per shard): {t_open:.2f} s   (creating the {plan.n_shards:,} empty files took "
          f"{t_touch:.1f} s)")
    print(f"  client memory, the entries of every shard: {mem_entries:.0f} MiB peak; opening the store: "
          f"{mem_open:.0f} MiB peak")
    per_task = task_cost(args.tasks)
    print(f"\nDask, 2-worker LocalCluster: {per_task * 1e3:.2f} ms of wall time per (no-op) shard task through "
          f"map_shards: {per_task * plan.n_shards / 60:.1f} min for {plan.n_shards:,} shards if nothing overlapped")


if __name__ == "__main__":
    main()
