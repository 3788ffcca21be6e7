"""fractalgen stats: images per second per core at 64 px, and the cost of reading a store against measuring.

    python benchmarks/bench_stats.py              # ifs-colour, 8192 images at 64 px (about a minute on 2 cores)
    python benchmarks/bench_stats.py --count 2048 # quicker

Generates the set once into a temporary store (not timed), then times, best of ``--repeats`` in this one run:

- the bare kernel: :func:`fractalgen.stats.measure_images` on the images already in memory, one thread (what
  each worker runs; the ceiling of the command);
- a vectorised numpy version of the same five measures and the dHash (written here; asserted equal to the
  kernel), the obvious peer without numba;
- reading the store alone (``store[:]``: gzip chunks decoded and checked by the reader);
- :func:`fractalgen.stats.measure_sets` as ``fractalgen stats`` runs it, nearest-hash distances included: in this
  process (1 worker); then over the set listed as many times as makes
  :data:`~fractalgen.stats_names.POOL_MIN_IMAGES` images (the size from which the command uses a pool), in this
  process and on a pool of every core (spawn and start-up included), and the speed-up of the pool.

Per core = images/s divided by the processes used; per CPU-s = images per CPU second of this process and its
workers. The ratios to the bare kernel, in CPU seconds, are the claims (figures move 2-3x between CPUs, and a
busy machine inflates wall time far more than CPU time; the pool's wall-time speed-up suffers most).
"""

from __future__ import annotations

import argparse
import resource
import tempfile
import time
from pathlib import Path

import numpy as np

import fractalgen as fg
from fractalgen import stats
from fractalgen._jit import one_thread_per_worker
from fractalgen._machine import available_cores
from timing import header  # benchmarks/timing.py (the script's folder is on sys.path)


def cpu_seconds() -> float:
    """CPU seconds of this process and of its finished child processes (pool workers)."""
    own = resource.getrusage(resource.RUSAGE_SELF)
    kids = resource.getrusage(resource.RUSAGE_CHILDREN)
    return own.ru_utime + own.ru_stime + kids.ru_utime + kids.ru_stime


def timed(repeats: int, fn) -> tuple[float, float]:
    """(wall seconds, CPU seconds) of the fastest of ``repeats`` calls of ``fn`` (the best-of rule of
    timing.best_of, with the CPU time of that same call)."""
    best = None
    for _ in range(repeats):
        c, t = cpu_seconds(), time.perf_counter()
        fn()
        run = (time.perf_counter() - t, cpu_seconds() - c)
        best = run if best is None or run[0] < best[0] else best
    return best


def numpy_measures(images: np.ndarray) -> tuple[np.ndarray, np.ndarray]:
    """The kernel's measures and dHashes, vectorised over the batch with numpy (uint8 (N, H, W, 3), H, W >= 17)."""
    n, h, w, c = images.shape
    x = images.astype(np.int64)
    luma = (299 * x[..., 0] + 587 * x[..., 1] + 114 * x[..., 2] + 500) // 1000
    counts = np.bincount((luma + 256 * np.arange(n)[:, None, None]).ravel(), minlength=256 * n).reshape(n, 256)
    background = counts.argmax(axis=1)  # the first maximum: the darkest on a tie
    below = np.concatenate([np.zeros((n, 1), np.int64), counts.cumsum(axis=1)], axis=1)
    lo, hi = np.maximum(background - stats.FILL_LEVEL, 0), np.minimum(background + stats.FILL_LEVEL, 255)
    rows_ = np.arange(n)
    fill = 1 - (below[rows_, hi + 1] - below[rows_, lo]) / (h * w)
    p = counts / (h * w)
    with np.errstate(divide="ignore", invalid="ignore"):
        entropy = -np.where(p > 0, p * np.log2(p), 0.0).sum(axis=1)
    rg = x[..., 0] - x[..., 1]
    yb = 0.5 * (x[..., 0] + x[..., 1]) - x[..., 2]
    colourfulness = (np.hypot(rg.std(axis=(1, 2)), yb.std(axis=(1, 2)))
                     + 0.3 * np.hypot(rg.mean(axis=(1, 2)), yb.mean(axis=(1, 2))))
    step = np.abs(np.diff(luma, axis=2))[:, :-1, :] + np.abs(np.diff(luma, axis=1))[:, :, :-1]
    edges = (step > stats.EDGE_LEVEL).mean(axis=(1, 2))
    brightness = luma.mean(axis=(1, 2)) / 255
    side = stats.HASH_ROWS
    rows = [k * h // side for k in range(side)]
    cols = [k * w // (side + 1) for k in range(side + 1)]
    sums = np.add.reduceat(np.add.reduceat(luma, rows, axis=1), cols, axis=2)
    means = sums / np.outer(np.diff([*rows, h]), np.diff([*cols, w]))
    spread = means.max(axis=(1, 2)) - means.min(axis=(1, 2))
    margin = np.maximum(stats.DHASH_MARGIN, stats.DHASH_RELATIVE * spread)[:, None, None]
    bits = (means[:, :, 1:] - means[:, :, :-1] > margin).reshape(n, stats.HASH_WORDS, 64).astype(np.uint64)
    hashes = (bits << np.arange(64, dtype=np.uint64)).sum(axis=2, dtype=np.uint64)
    return np.stack([fill, entropy, colourfulness, edges, brightness], axis=1), hashes


def main() -> None:
    ap = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    ap.add_argument("--count", type=int, default=8192)
    ap.add_argument("--size", type=int, default=64)
    ap.add_argument("--recipe", default="ifs-colour")
    ap.add_argument("--repeats", type=int, default=3)
    args = ap.parse_args()
    cores = available_cores()
    print(header(f"fractalgen stats: {args.count} images of {args.recipe} at {args.size} px"))
    with tempfile.TemporaryDirectory() as tmp:
        path = Path(tmp) / "set"
        fg.generate(args.recipe, path, args.count, size=args.size, seed=0, progress=False).close()
        store = fg.open_store(path)
        images = store[:]
        one_thread_per_worker()  # as in a worker: one numba thread
        ref_values, ref_hashes = stats.measure_images(images)
        np_values, np_hashes = numpy_measures(images)
        assert np.allclose(ref_values, np_values, rtol=1e-9, atol=1e-12), "the numpy peer disagrees"
        assert np.array_equal(ref_hashes, np_hashes), "the numpy peer's hashes disagree"
        n = len(images)
        copies = -(-stats.POOL_MIN_IMAGES // n)  # the set listed this many times: a run large enough for a pool
        big = [path] * copies
        procs = min(cores, copies * len(stats._tasks(store, np.arange(n))))
        few = min(args.repeats, 2)
        rows = [("bare kernel, images in memory (1 thread)", n, 1,
                 timed(args.repeats, lambda: stats.measure_images(images))),
                ("numpy, vectorised over the batch (1 thread)", n, 1,
                 timed(args.repeats, lambda: numpy_measures(images))),
                ("reading the store only (1 process)", n, 1, timed(args.repeats, lambda: store[:])),
                ("measure_sets, 1 process (read + measure + nearest)", n, 1,
                 timed(args.repeats, lambda: stats.measure_sets([path], workers=1, progress=False))),
                (f"measure_sets, 1 process, {copies * n} images", copies * n, 1,
                 timed(few, lambda: stats.measure_sets(big, workers=1, progress=False))),
                (f"measure_sets, pool of {procs} processes, {copies * n} images (spawn included)", copies * n, procs,
                 timed(few, lambda: stats.measure_sets(big, workers=cores, progress=False)))]
        store.close()
    kernel = n / rows[0][3][1]
    print(f"{'':72}{'images/s':>10}{'per core':>10}{'per CPU-s':>11}{'/ kernel':>10}")
    for name, count, used, (wall, cpu) in rows:
        print(f"{name:72}{count / wall:10.0f}{count / wall / used:10.0f}{count / cpu:11.0f}"
              f"{count / cpu / kernel:10.2f}")
    (_, big_n, _, (serial, _)), (_, _, _, (pool, _)) = rows[-2:]
    print(f"\n/ kernel: images per CPU-second over the bare kernel's (CPU seconds of this process and its workers,\n"
          f"which a busy machine inflates less than wall time). Pool of {procs} vs 1 process on {big_n} images, wall "
          f"time: {serial / pool:.2f}x")


if __name__ == "__main__":
    main()
