"""Store benchmarks: generation speed and scaling, bytes per image per compression, random-access reads.

    python benchmarks/bench_store.py            # ifs-colour at 256 px; about 5 minutes on 2 cores
    python benchmarks/bench_store.py --quick    # a smoke run with small counts

Timings are the best of ``--repeats`` runs. Generation is timed end to end as a user runs it (a fresh
``python -m fractalgen generate`` process, start-up and worker spawning included), with 1 and 2 workers; the CPU
seconds of those processes are printed too (a shared machine inflates wall time more than CPU time).
Reads are timed in this process with the page cache warm (every shard read once before timing), through the
store (which decodes gzip and uncompressed chunks itself) and, for comparison, through h5py's slicing (HDF5's
filter pipeline). The store's own cost per image is timed on pre-rendered images written with ShardWriter.
Opening a shard is timed bare (h5py) and as the reader does it, checking the shard's identity against the
manifest, to show what that check costs.
"""

from __future__ import annotations

import argparse
import json
import resource
import shutil
import subprocess
import sys
import tempfile
from pathlib import Path

import h5py
import numpy as np

import fractalgen as fg
from fractalgen.store import COMPRESSIONS, DEFAULT_COMPRESSION, ShardWriter, StorePlan
from fractalgen.store.chunks import direct_codec
from fractalgen.store.shard import identity_problems
from timing import best_of, header  # benchmarks/timing.py (the script's folder is on sys.path)


def children_cpu() -> float:
    usage = resource.getrusage(resource.RUSAGE_CHILDREN)
    return usage.ru_utime + usage.ru_stime


def generate_cli(out: Path, count: int, size: int, workers: int, compression: str, shard_size: int) -> float:
    """Run ``fractalgen generate``; returns the CPU seconds it used (its worker processes included)."""
    shutil.rmtree(out, ignore_errors=True)
    cpu = children_cpu()
    subprocess.run([sys.executable, "-m", "fractalgen", "generate", "ifs-colour", str(out), "--count", str(count),
                    "--size", str(size), "--workers", str(workers), "--compression", compression,
                    "--shard-size", str(shard_size), "-q"], check=True, stdout=subprocess.DEVNULL)
    return children_cpu() - cpu


def bench_generation(tmp: Path, count: int, size: int, repeats: int, shard_size: int) -> dict[str, float]:
    """End-to-end rates with 1 and 2 workers (and the least CPU time of a run), and the fixed cost of starting
    the 2-process pool (a 2-image set in 2 one-image shards, 2 workers minus 1 worker), which a long run
    amortises."""
    out = {}
    for workers in (1, 2):
        cpu = []
        t = best_of(repeats, lambda: cpu.append(generate_cli(tmp / f"gen{workers}", count, size, workers,
                                                             DEFAULT_COMPRESSION, shard_size)))
        out[f"{workers}w"] = count / t
        out[f"{workers}w_s"] = t
        out[f"{workers}w_cpu_s"] = min(cpu)
    tiny = [best_of(repeats, lambda: generate_cli(tmp / f"tiny{w}", 2, size, w, DEFAULT_COMPRESSION, 1))
            for w in (1, 2)]
    out["pool_start_s"] = max(0.0, tiny[1] - tiny[0])
    return out


def bench_compression(tmp: Path, count: int, size: int, repeats: int, shard_size: int) -> dict[str, tuple]:
    out = {}
    for comp in COMPRESSIONS:
        path = tmp / f"comp-{comp}"
        t = best_of(repeats, lambda: generate_cli(path, count, size, 1, comp, shard_size))
        with fg.open_store(path) as store:
            per_image = sum(s.bytes for s in store.shards) / len(store)
            raw = np.prod(store.shape)
            out[comp] = (per_image, raw / per_image, count / t, read_rate(store, repeats),
                         hdf5_read_rate(store, repeats), write_cost(tmp, store, repeats))
    return out


def random_indices(store, n: int = 3000) -> list[int]:
    return np.random.default_rng(0).integers(0, len(store), n).tolist()


def read_rate(store, repeats: int) -> float:
    for img in store:  # warm the page cache and open every shard
        pass
    idx = random_indices(store)
    return len(idx) / best_of(repeats, lambda: [store[i] for i in idx])


def hdf5_read_rate(store, repeats: int) -> float:
    """The same reads through h5py's slicing (HDF5's filter pipeline): what the store did before it decoded
    chunks itself. HDF5 (2.0) also keeps up to 8 MiB of decoded chunks per open dataset: with the small shards
    of this benchmark that serves ~1 read in 6 from memory, which the store's direct reads do not (at training
    scale, random reads over thousands of images per shard rarely hit it)."""
    files = [h5py.File(store.path / s.file, "r", locking=False) for s in store.shards]
    images = [f["images"] for f in files]
    idx = [divmod(i, store.plan.shard_size) for i in random_indices(store)]
    rate = len(idx) / best_of(repeats, lambda: [images[k][j] for k, j in idx])
    for f in files:
        f.close()
    return rate


def write_cost(tmp: Path, store, repeats: int, n: int = 256) -> float:
    """Milliseconds per image that ShardWriter adds on top of rendering: writing ``n`` pre-rendered images and
    their params (compression, checksums, sha256 of the pixels, params JSON, closing, publishing, hashing)."""
    n = min(n, len(store))
    pairs = [(store[i], store.params(i)) for i in range(n)]
    plan = StorePlan("bench", store.shape, n, n, store.plan.compression, store.plan.columns)
    out = tmp / "write-cost"

    def write() -> None:
        shutil.rmtree(out, ignore_errors=True)
        out.mkdir()
        with ShardWriter(out, plan, 0) as writer:
            for image, params in pairs:
                writer.write(image, params)

    return best_of(repeats, write) / n * 1e3


def bench_open(path: Path, repeats: int) -> tuple[float, float, float]:
    """Seconds per shard opening, bare (h5py open, the images dataset, its codec) and as the reader opens one
    (the same plus :func:`identity_problems`: set id, shard number, first index, count, recorded layout and the
    images' shape against the manifest), and seconds per random image read, for scale. A reader opens each shard
    once per process."""
    with fg.open_store(path) as store:
        paths = [store.path / s.file for s in store.shards]
        read = 1 / read_rate(store, repeats)

        def opening(check: bool) -> None:
            for k, p in enumerate(paths):
                with h5py.File(p, "r", locking=False) as f:
                    images = f["images"]
                    if check:
                        assert not identity_problems(f, store.plan, k, images)
                    direct_codec(images)

        bare = best_of(repeats, lambda: opening(False)) / len(paths)
        checked = best_of(repeats, lambda: opening(True)) / len(paths)
    return bare, checked, read


def bench_load(path: Path, repeats: int, size: int = 32) -> tuple[float, float]:
    with fg.open_store(path) as store:
        t = best_of(repeats, lambda: store.load(size=size))
        arr = store.load(size=size)
    idx = np.random.default_rng(1).integers(0, len(arr), 200_000)
    t_access = best_of(repeats, lambda: [arr[i] for i in idx.tolist()])
    return len(arr) / t, len(idx) / t_access


def main() -> None:
    ap = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    ap.add_argument("--count", type=int, default=8192, help="images for the 1- vs 2-worker generation timing")
    ap.add_argument("--comp-count", type=int, default=1024, help="images per compression option")
    ap.add_argument("--size", type=int, default=256)
    ap.add_argument("--shard-size", type=int, default=256)
    ap.add_argument("--repeats", type=int, default=3)
    ap.add_argument("--quick", action="store_true", help="small counts, one repeat: a smoke test")
    args = ap.parse_args()
    if args.quick:
        args.count, args.comp_count, args.repeats, args.shard_size = 256, 128, 1, 32
    with tempfile.TemporaryDirectory() as d:
        tmp = Path(d)
        print(header(__doc__.splitlines()[0]))
        print(f"ifs-colour at {args.size} px, best of {args.repeats}")
        gen = bench_generation(tmp, args.count, args.size, args.repeats, args.shard_size)
        print(f"\ngeneration, {args.count} images in shards of {args.shard_size}, {DEFAULT_COMPRESSION}, end to end "
              "(CLI process):")
        steady = gen["1w_s"] / max(1e-9, gen["2w_s"] - gen["pool_start_s"])
        print(f"  1 worker : {gen['1w']:8.0f} images/s  ({gen['1w_s']:.1f} s)")
        print(f"  2 workers: {gen['2w']:8.0f} images/s  ({gen['2w_s']:.1f} s)   scaling {gen['2w'] / gen['1w']:.2f}x")
        print(f"  starting the 2 worker processes costs {gen['pool_start_s']:.1f} s once; scaling without it: "
              f"{steady:.2f}x")
        print(f"  CPU time: 1 worker {gen['1w_cpu_s']:.1f} s ({gen['1w_cpu_s'] / args.count * 1e3:.2f} ms/image), "
              f"2 workers {gen['2w_cpu_s']:.1f} s ({gen['2w_cpu_s'] / args.count * 1e3:.2f} ms/image, the "
              "difference is the second process's start-up and the parent's bookkeeping)")
        comp = bench_compression(tmp, args.comp_count, args.size, args.repeats, args.shard_size)
        print(f"\ncompression, {args.comp_count} images (generate: 1 worker, end to end; read: random access, "
              "one process, page cache warm; read via HDF5: the same reads through h5py's slicing; write: "
              "ShardWriter's cost per pre-rendered image):")
        print(f"  {'option':<8} {'bytes/image':>12} {'ratio':>7} {'generate img/s':>15} {'read img/s':>11} "
              f"{'via HDF5':>9} {'write ms':>9}")
        for name, (per_image, ratio, gen_rate, read, read_hdf5, write_ms) in comp.items():
            mark = " (default)" if name == DEFAULT_COMPRESSION else ""
            print(f"  {name:<8} {per_image:12.0f} {ratio:6.2f}x {gen_rate:15.0f} {read:11.0f} {read_hdf5:9.0f} "
                  f"{write_ms:9.2f}{mark}")
        load_rate, access = bench_load(tmp / f"comp-{DEFAULT_COMPRESSION}", args.repeats)
        print(f"\nstore.load(size=32): builds the array at {load_rate:.0f} images/s; random access from it "
              f"{access:.0f} images/s")
        bare, checked, read = bench_open(tmp / f"comp-{DEFAULT_COMPRESSION}", args.repeats)
        print(f"\nopening a shard: {bare * 1e6:.0f} us bare, {checked * 1e6:.0f} us with the reader's identity check "
              f"(+{(checked - bare) * 1e6:.0f} us, {(checked - bare) / read:.2f} random image reads of "
              f"{read * 1e6:.0f} us; once per shard and process, i.e. "
              f"{(checked - bare) / (read * args.shard_size) * 100:.3f}% of reading a {args.shard_size}-image shard)")
        print("\n" + json.dumps({"generation": gen, "compression": comp, "load": [load_rate, access],
                                 "open": {"bare_s": bare, "checked_s": checked, "read_s": read}}))


if __name__ == "__main__":
    main()
