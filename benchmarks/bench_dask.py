"""Dask against the local pool: the same generation job, end to end, on 2 local worker processes and on a
2-worker Dask LocalCluster, in one run.

    python benchmarks/bench_dask.py            # 8,192 ifs-colour images at 256 px in shards of 256; ~5 minutes
    python benchmarks/bench_dask.py --quick    # a smoke run

Each job is a fresh ``python -m fractalgen generate`` process, timed from its start to its exit (imports,
connecting, writing the manifest included):

- local pool: ``--workers 2`` (the command starts its 2 worker processes: included);
- Dask, running cluster: ``--dask tcp://...`` against a LocalCluster(n_workers=2, threads_per_worker=1) that this
  script started beforehand and gave one job before timing, as a user's cluster is up, and has run a job, when
  the next one is sent to it. Its workers have imported fractalgen and loaded the compiled kernels from the
  cache; the first, cold job is printed on its own line;
- Dask, ``--dask local --workers 2``: the command starts its own cluster and pays for it.

The repeats are interleaved (pool, Dask, Dask local; then another round), so a machine whose load changes
during the run disturbs both sides alike; each figure is the best of ``--repeats``. Beside the wall time each
line gives the CPU seconds of every process of the job (the command, its pool workers; for Dask also the cluster's
worker processes and its scheduler and nannies, which live in this script's process), which a busy machine
inflates far less than wall time. The claim is the wall-time ratio of the first two (Dask's cost per job over the
local pool's). All the stores are checked to be byte-identical.
"""

from __future__ import annotations

import argparse
import hashlib
import logging
import os
import resource
import shutil
import subprocess
import sys
import tempfile
import time
from pathlib import Path

from timing import header  # benchmarks/timing.py (the script's folder is on sys.path)


def _cpu_seconds(who: int) -> float:
    r = resource.getrusage(who)
    return r.ru_utime + r.ru_stime


def generate(out: Path, args: argparse.Namespace, *extra: str, cluster_pids: tuple[int, ...] = ()) -> tuple[float, float]:
    """(wall seconds, CPU seconds) of one ``fractalgen generate`` command writing a new store at ``out``."""
    import psutil

    shutil.rmtree(out, ignore_errors=True)
    procs = [psutil.Process(p) for p in cluster_pids]
    cpu0 = (_cpu_seconds(resource.RUSAGE_CHILDREN) + _cpu_seconds(resource.RUSAGE_SELF)
            + sum(sum(p.cpu_times()[:2]) for p in procs))
    t = time.perf_counter()
    subprocess.run([sys.executable, "-m", "fractalgen", "generate", "ifs-colour", str(out), "--count",
                    str(args.count), "--size", str(args.size), "--shard-size", str(args.shard_size), "-q", *extra],
                   check=True, stdout=subprocess.DEVNULL, stderr=subprocess.DEVNULL)
    wall = time.perf_counter() - t
    cpu1 = (_cpu_seconds(resource.RUSAGE_CHILDREN) + _cpu_seconds(resource.RUSAGE_SELF)
            + sum(sum(p.cpu_times()[:2]) for p in procs))
    return wall, cpu1 - cpu0


def digest(path: Path) -> str:
    h = hashlib.sha256()
    for p in sorted(path.glob("shard-*.h5")):
        h.update(p.read_bytes())
    return h.hexdigest()


def main() -> None:
    ap = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    ap.add_argument("--count", type=int, default=8192)
    ap.add_argument("--size", type=int, default=256)
    ap.add_argument("--shard-size", type=int, default=256)
    ap.add_argument("--repeats", type=int, default=3)
    ap.add_argument("--quick", action="store_true", help="256 images in shards of 32, one repeat")
    args = ap.parse_args()
    if args.quick:
        args.count, args.shard_size, args.repeats = 256, 32, 1
    import distributed
    from distributed import Client, LocalCluster

    print(header(__doc__.splitlines()[0]) + f"dask.distributed {distributed.__version__}")
    print(f"ifs-colour, {args.count} images at {args.size} px in shards of {args.shard_size}, gzip; CLI end to "
          f"end, {args.repeats} interleaved repeats, best of each; load average at start "
          f"{os.getloadavg()[0]:.1f}\n", flush=True)
    runs: dict[str, list[tuple[float, float]]] = {"pool": [], "dask": [], "local": []}
    with tempfile.TemporaryDirectory() as d:
        tmp = Path(d)
        with LocalCluster(n_workers=2, threads_per_worker=1, processes=True, dashboard_address=":0",
                          env={"NUMBA_NUM_THREADS": "1"}, silence_logs=logging.CRITICAL) as cluster, Client(cluster) as client:
            address = client.scheduler.address
            pids = tuple(client.run(os.getpid).values())
            cold = generate(tmp / "dask", args, "--dask", address, cluster_pids=pids)
            for r in range(args.repeats):
                jobs = [("pool", lambda: generate(tmp / "pool", args, "--workers", "2")),
                        ("dask", lambda: generate(tmp / "dask", args, "--dask", address, cluster_pids=pids))]
                for name, job in (jobs if r % 2 == 0 else jobs[::-1]):
                    runs[name].append(job())
                runs["local"].append(generate(tmp / "dask-local", args, "--dask", "local", "--workers", "2"))
        same = digest(tmp / "pool") == digest(tmp / "dask") == digest(tmp / "dask-local")
    best = {name: min(r) for name, r in runs.items()}
    cpu = {name: min(c for _, c in r) for name, r in runs.items()}
    t_pool, t_dask, t_local = best["pool"][0], best["dask"][0], best["local"][0]

    def line(label: str, wall: float, cpu_s: float, extra: str = "") -> str:
        return f"  {label:<46}: {args.count / wall:5.0f} images/s ({wall:5.1f} s, {cpu_s:5.1f} CPU s){extra}"

    print(line("local pool, --workers 2", t_pool, cpu["pool"]))
    print(line("Dask, 2-worker LocalCluster, running and warm", t_dask, cpu["dask"],
               f"   Dask / pool time: {t_dask / t_pool:.3f} (target <= 1.10), CPU: {cpu['dask'] / cpu['pool']:.3f}"))
    print(line("Dask, the same cluster's first (cold) job", *cold))
    print(line("Dask, --dask local --workers 2 (starts it)", t_local, cpu["local"],
               f"   {t_local / t_pool:.3f}; starting the cluster costs ~{max(0.0, t_local - t_dask):.1f} s once"))
    print("  every run, wall s: " + "; ".join(f"{n} " + " ".join(f"{w:.1f}" for w, _ in r) for n, r in runs.items()))
    print(f"  load average at the end {os.getloadavg()[0]:.1f}; the stores are byte-identical: {same}")
    if not same:
        sys.exit(1)


if __name__ == "__main__":
    main()
