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

Stragglers are simulated: shards of equal work (a shard's time varies by +-10%, uniform) handed out greedily, as
Dask hands queued tasks to whichever worker frees up, to W workers of which one runs at half speed (a slow or
shared node); the efficiency is the ideal time (all work spread evenly over the workers' speeds) over the
simulated finish, for several shards per worker.
"""

from __future__ import annotations

import argparse
import hashlib
import heapq
import random
import tempfile
import time
import tracemalloc
from pathlib import Path

from timing import best_of, header  # benchmarks/timing.py (the script's folder is on sys.path)

from fractalgen import load_recipe
from fractalgen.store import StorePlan, open_store
from fractalgen.store.files import shard_name
from fractalgen.store.manifest import ShardEntry, make_manifest, read_manifest, remove_stale_tmp, write_manifest


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


def efficiency(workers: int, shards_per_worker: int, slow: float = 0.5, trials: int = 20) -> float:
    """Ideal over simulated finish time of greedy list scheduling, one worker at ``slow`` speed; the mean of
    ``trials`` seeded draws of the shards' times."""
    return sum(_efficiency(workers, shards_per_worker, slow, random.Random(t)) for t in range(trials)) / trials


def _efficiency(workers: int, shards_per_worker: int, slow: float, rng: random.Random) -> float:
    speeds = [slow] + [1.0] * (workers - 1)
    work = [rng.uniform(0.9, 1.1) for _ in range(workers * shards_per_worker)]
    free = [(0.0, w) for w in range(workers)]  # (time the worker frees up, worker)
    finish = 0.0
    for w_k in work:
        t, w = heapq.heappop(free)
        t += w_k / speeds[w]
        finish = max(finish, t)
        heapq.heappush(free, (t, w))
    return sum(work) / sum(speeds) / finish


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
    meta = {"recipe": recipe, "seed": 0, "origin": {"kind": "generated"}}
    with tempfile.TemporaryDirectory() as d:
        root = Path(d)
        t_write = best_of(args.repeats, lambda: write_manifest(root, make_manifest(plan, shards, meta)))
        _, mem_write = peak_mib(lambda: write_manifest(root, make_manifest(plan, shards, meta)))
        size = (root / "manifest.json").stat().st_size
        t_parse = best_of(args.repeats, lambda: read_manifest(root))
        t = time.perf_counter()
        for s in shards:
            (root / s.file).touch()
        t_touch = time.perf_counter() - t
        t_list = best_of(args.repeats, lambda: remove_stale_tmp(root))  # a run lists the directory ~3 times
        t_open = best_of(args.repeats, lambda: open_store(root))
        store, mem_open = peak_mib(lambda: open_store(root))
        del store
    print(f"{plan.count:,} images in {plan.n_shards:,} shards of {args.shard_size:,}:")
    print(f"  manifest.json           : {size / 2**20:.1f} MiB ({size / plan.n_shards:.0f} bytes per shard)")
    print(f"  make and write it (dict, json, fsync, rename): {t_write:.2f} s, {mem_write:.0f} MiB peak while writing")
    print(f"  read_manifest (parse, validate): {t_parse:.2f} s")
    print(f"  open_store (+ one stat per shard): {t_open:.2f} s   (creating the {plan.n_shards:,} empty files took "
          f"{t_touch:.1f} s)")
    print(f"  listing the directory for stale temporaries (a run does it ~3 times): {t_list:.2f} s")
    print(f"  client memory, the entries of every shard: {mem_entries:.0f} MiB peak; opening the store: "
          f"{mem_open:.0f} MiB peak")
    print("\nstragglers (simulated): efficiency with one of W workers at half speed, by shards per worker")
    print("  " + "".join(f"{n:>7}" for n in ["W \\ S/W", 1, 2, 5, 10, 20, 50, 100]))
    for w in (2, 10, 100):
        print("  " + f"{w:>7}" + "".join(f"{efficiency(w, n):7.2f}" for n in (1, 2, 5, 10, 20, 50, 100)))
    per_task = task_cost(args.tasks)
    print(f"\nDask, 2-worker LocalCluster: {per_task * 1e3:.2f} ms of wall time per (no-op) shard task through "
          f"map_shards: {per_task * plan.n_shards / 60:.1f} min for {plan.n_shards:,} shards if nothing overlapped")


if __name__ == "__main__":
    main()
