"""Dask against the local pool: the same generation job, end to end, on 2 local worker processes and on a
2-worker Dask LocalCluster, in one run.

    python benchmarks/bench_dask.py            # 8,192 ifs-colour images at 256 px in shards of 256; ~4 minutes
    python benchmarks/bench_dask.py --quick    # a smoke run

Each job is a fresh ``python -m fractalgen generate`` process (start-up included), the best of ``--repeats``:

- local pool: ``--workers 2``;
- Dask, running cluster: ``--dask tcp://...`` against a LocalCluster(n_workers=2, threads_per_worker=1) this
  script started beforehand, as a cluster is running before a job is sent to it (the client connects, submits
  one task per shard, collects the entries and writes the manifest);
- Dask, ``--dask local --workers 2``: the command starts its own cluster, and pays for it.

The claim is the ratio of the first two (Dask's cost per job over the local pool's); the third shows what
starting a cluster costs once. All three stores are checked to be byte-identical.
"""

from __future__ import annotations

import argparse
import hashlib
import shutil
import subprocess
import sys
import tempfile
from pathlib import Path

from timing import best_of, header  # benchmarks/timing.py (the script's folder is on sys.path)


def generate(out: Path, args: argparse.Namespace, *extra: str) -> None:
    shutil.rmtree(out, ignore_errors=True)
    subprocess.run([sys.executable, "-m", "fractalgen", "generate", "ifs-colour", str(out), "--count",
                    str(args.count), "--size", str(args.size), "--shard-size", str(args.shard_size), "-q", *extra],
                   check=True, stdout=subprocess.DEVNULL)


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
    from distributed import Client, LocalCluster
    import distributed

    print(header(__doc__.splitlines()[0]) + f"dask.distributed {distributed.__version__}")
    print(f"ifs-colour, {args.count} images at {args.size} px in shards of {args.shard_size}, gzip; CLI end to "
          f"end, best of {args.repeats}\n")
    with tempfile.TemporaryDirectory() as d:
        tmp = Path(d)
        t_pool = best_of(args.repeats, lambda: generate(tmp / "pool", args, "--workers", "2"))
        with LocalCluster(n_workers=2, threads_per_worker=1, processes=True, dashboard_address=":0",
                          env={"NUMBA_NUM_THREADS": "1"}) as cluster, Client(cluster) as client:
            address = client.scheduler.address
            t_dask = best_of(args.repeats, lambda: generate(tmp / "dask", args, "--dask", address))
        t_local = best_of(args.repeats, lambda: generate(tmp / "dask-local", args, "--dask", "local",
                                                         "--workers", "2"))
        same = digest(tmp / "pool") == digest(tmp / "dask") == digest(tmp / "dask-local")
    rate = args.count / t_pool
    print(f"  local pool, --workers 2                : {rate:7.0f} images/s ({t_pool:.1f} s)")
    print(f"  Dask, 2-worker LocalCluster, running   : {args.count / t_dask:7.0f} images/s ({t_dask:.1f} s)   "
          f"Dask / pool time: {t_dask / t_pool:.3f} (target <= 1.10)")
    print(f"  Dask, --dask local --workers 2 (starts it): {args.count / t_local:5.0f} images/s ({t_local:.1f} s)   "
          f"{t_local / t_pool:.3f}; starting the cluster costs ~{max(0.0, t_local - t_dask):.1f} s once")
    print(f"  the three stores are byte-identical: {same}")
    if not same:
        sys.exit(1)


if __name__ == "__main__":
    main()
