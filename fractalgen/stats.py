"""Per-image measures of image sets, to see and compare them: what ``fractalgen stats`` computes and draws.

Every image of a set gets six numbers (:data:`~fractalgen.stats_names.MEASURES`), each a pure function of its
pixels (so of nothing else: not the worker count, not the shard layout):

- ``fill``: the fraction of pixels whose luma differs from the background's by more than :data:`FILL_LEVEL` (10
  of 255), the background being the image's most frequent luma (the darkest one on a tie): how much of the canvas
  a fractal covers, on a black or a coloured background (0.5 for an image whose one half is drawn on a flat
  other half; 0 for a constant image).
- ``entropy``: the Shannon entropy, in bits, of the 256-bin histogram of the image's luma; 0 for a constant image,
  8 for one whose luma values are equally frequent.
- ``colourfulness``: M of Hasler and Suesstrunk, "Measuring colourfulness in natural images" (SPIE Human Vision
  and Electronic Imaging, 2003): with rg = R - G and yb = (R + G) / 2 - B over the image's pixels (0..255),
  M = sqrt(std(rg)^2 + std(yb)^2) + 0.3 sqrt(mean(rg)^2 + mean(yb)^2) (population standard deviations). 0 for a
  grayscale image; the paper calls 33 "moderately", 59 "quite" and 82 "highly" colourful.
- ``edges``: the fraction of the (H - 1) x (W - 1) pixels whose luma step to the right and down,
  |L[y, x+1] - L[y, x]| + |L[y+1, x] - L[y, x]|, exceeds :data:`EDGE_LEVEL` (32 of 255).
- ``brightness``: the mean luma / 255.
- ``nearest``: how many of the 256 bits of the image's dHash differ from the nearest dHash of another image of
  the same set (0: a duplicate). The set's *near-duplicate rate* is the fraction of its images whose ``nearest``
  is at most ``near_bits`` (default :data:`~fractalgen.stats_names.NEAR_BITS`, 8): an image and its copy both
  count, so a set of N images with one duplicated pair has rate 2 / N.

Luma is the integer Rec. 601 luma L = (299 R + 587 G + 114 B + 500) // 1000 (the channel itself for a grayscale
image), so every measure but the floating-point summaries is exact integer arithmetic.

The dHash ("difference hash", after N. Krawetz's 2013 description of perceptual hashes): the luma image is cut
into 16 rows x 17 columns of blocks (block k of n over a side of S pixels spans pixels k S // n up to
max((k + 1) S // n, k S // n + 1)), and bit 16 r + c is set when the mean luma of block (r, c + 1) exceeds that
of block (r, c) by more than max(2 grey levels, 10% of the range of the image's 272 block means)
(:data:`DHASH_MARGIN`, :data:`DHASH_RELATIVE`). The margin keeps flat and slowly graded regions (a black or a
vignetted background) at 0 bits whatever their noise. Why 256 bits and a relative margin rather than the usual
64 bits (8 x 9 blocks) and a fixed margin: on 2,000 ifs-colour images at 64 px the 64-bit hash put 7.4% of the
distinct images within 4 bits of another (thin fractals on dark backgrounds set few bits), and copies with +-1
noise up to 20 bits from their original (a background gradient of about the margin); this hash puts 0.65% of
them within 8 bits of another (faint images, whose hashes have few bits set, alike to the eye too) and every
noisy copy within 8 bits of its original.

The nearest distances are exact: every distinct hash is compared with every other (4 popcounts per pair, in
parallel threads of the calling process), about 6 x 10^8 pairs per second per core, so a set of 100,000
distinct images adds about 15 core-seconds (measure a sample of larger sets: ``measure_sets(count=...)``);
repeated hashes are found by sorting and cost nothing.

Speed: the measures are one numba pass over each image, run over whole batches read from the store; a set is cut
into pieces of at most :data:`TASK_IMAGES` images (within one shard), which run on a ``spawn`` pool of worker
processes with one numba thread each from :data:`~fractalgen.stats_names.POOL_MIN_IMAGES` images on (a worker
costs about 1.5 CPU-seconds to start), in the calling process below. Reading the store (gzip decoding and its
checks) costs about 4 times what the measures do (benchmarks/bench_stats.py).
"""

from __future__ import annotations

import concurrent.futures as cf
import dataclasses
import io
import multiprocessing as mp
import os
from collections.abc import Sequence
from pathlib import Path
from typing import Any

import numpy as np
from numba import prange

from ._jit import njit, njit_parallel, one_thread_per_worker
from ._machine import available_cores
from .errors import ImageInputError, MissingExtraError, StoreError
from .stats_names import DESCRIPTIONS, HASH_BITS, MEASURES, NEAR_BITS, POOL_MIN_IMAGES
from .store import Store, open_store

#: A pixel is filled when its luma differs from the background's (the most frequent luma) by more than this.
FILL_LEVEL = 10
#: A pixel is an edge when its luma step right plus its luma step down is above this (of 255).
EDGE_LEVEL = 32
#: dHash: a block sets its bit when its mean luma exceeds its left neighbour's by more than DHASH_MARGIN grey
#: levels and DHASH_RELATIVE of the range of the image's block means.
DHASH_MARGIN = 2
DHASH_RELATIVE = 0.1
#: dHash: rows of blocks (and columns - 1): HASH_ROWS x HASH_ROWS bits, in HASH_WORDS uint64 words.
HASH_ROWS = 16
assert HASH_ROWS * HASH_ROWS == HASH_BITS
HASH_WORDS = HASH_BITS // 64
#: The measures the kernel computes per image (``nearest`` comes from the hashes of the whole set).
PIXEL_MEASURES = MEASURES[:5]
#: Images per task of the pool: small enough for a smooth progress bar and to spread a one-shard set over the
#: cores, large enough that a task's overhead (a pickle, an HDF5 lookup) is noise.
TASK_IMAGES = 2048
#: Images read and measured at once in a task.
BATCH = 256
INSTALL_PLOTS = 'pip install "fractalgen[plots]"'


# -- the kernels

@njit
def _bins(size: int, n: int) -> np.ndarray:
    """(n, 2) start and stop of the n dHash blocks over a side of ``size`` pixels (never empty)."""
    out = np.empty((n, 2), np.int64)
    for k in range(n):
        start = k * size // n
        out[k, 0] = start
        out[k, 1] = max((k + 1) * size // n, start + 1)
    return out


@njit
def _measure_kernel(images, fill_level, edge_level, margin, relative, side, out, hashes):
    """The five pixel measures (``out[i]``, in :data:`PIXEL_MEASURES` order) and the dHash (``hashes[i]``, 4
    words) of each image of a uint8 (N, H, W, C) batch, C 1 or 3; ``side`` blocks down, ``side + 1`` across."""
    n, h, w, c = images.shape
    luma = np.empty((h, w), np.int64)
    hist = np.zeros(256, np.int64)
    rows, cols = _bins(h, side), _bins(w, side + 1)
    means = np.zeros((side, side + 1), np.float64)
    npix = h * w
    for i in range(n):
        hist[:] = 0
        total = 0
        s_rg = 0
        s_rg2 = 0
        s_yb = 0  # sums of 2 yb = R + G - 2 B, exact in integers
        s_yb2 = 0
        for y in range(h):
            for x in range(w):
                if c == 1:
                    v = np.int64(images[i, y, x, 0])
                else:
                    r_ = np.int64(images[i, y, x, 0])
                    g_ = np.int64(images[i, y, x, 1])
                    b_ = np.int64(images[i, y, x, 2])
                    v = (299 * r_ + 587 * g_ + 114 * b_ + 500) // 1000
                    rg = r_ - g_
                    yb = r_ + g_ - 2 * b_
                    s_rg += rg
                    s_rg2 += rg * rg
                    s_yb += yb
                    s_yb2 += yb * yb
                luma[y, x] = v
                hist[v] += 1
                total += v
        background = 0  # the most frequent luma, the darkest on a tie
        for v in range(256):
            if hist[v] > hist[background]:
                background = v
        plain = 0
        for v in range(max(background - fill_level, 0), min(background + fill_level, 255) + 1):
            plain += hist[v]
        edges = 0
        for y in range(h - 1):
            for x in range(w - 1):
                here = luma[y, x]
                if abs(luma[y, x + 1] - here) + abs(luma[y + 1, x] - here) > edge_level:
                    edges += 1
        entropy = 0.0
        for v in range(256):
            if hist[v]:
                p = hist[v] / npix
                entropy -= p * np.log2(p)
        colourfulness = 0.0
        if c != 1:
            m_rg = s_rg / npix
            m_yb = s_yb / (2.0 * npix)
            var_rg = max(s_rg2 / npix - m_rg * m_rg, 0.0)
            var_yb = max(s_yb2 / (4.0 * npix) - m_yb * m_yb, 0.0)
            colourfulness = np.sqrt(var_rg + var_yb) + 0.3 * np.sqrt(m_rg * m_rg + m_yb * m_yb)
        lo = 255.0
        hi = 0.0
        for r in range(side):
            for k in range(side + 1):
                s = 0
                for y in range(rows[r, 0], rows[r, 1]):
                    for x in range(cols[k, 0], cols[k, 1]):
                        s += luma[y, x]
                m = s / ((rows[r, 1] - rows[r, 0]) * (cols[k, 1] - cols[k, 0]))
                means[r, k] = m
                lo = min(lo, m)
                hi = max(hi, m)
        step = max(margin, relative * (hi - lo))
        for word in range(hashes.shape[1]):
            hashes[i, word] = 0
        for r in range(side):
            for k in range(side):
                if means[r, k + 1] - means[r, k] > step:
                    bit = r * side + k
                    hashes[i, bit // 64] |= np.uint64(1) << np.uint64(bit % 64)
        out[i, 0] = (npix - plain) / npix
        out[i, 1] = entropy
        out[i, 2] = colourfulness
        out[i, 3] = edges / max((h - 1) * (w - 1), 1)
        out[i, 4] = total / (255.0 * npix)


@njit
def _popcount(x):
    x = x - ((x >> np.uint64(1)) & np.uint64(0x5555555555555555))
    x = (x & np.uint64(0x3333333333333333)) + ((x >> np.uint64(2)) & np.uint64(0x3333333333333333))
    x = (x + (x >> np.uint64(4))) & np.uint64(0x0F0F0F0F0F0F0F0F)
    return (x * np.uint64(0x0101010101010101)) >> np.uint64(56)


@njit
def _distance(codes, i, j):
    d = np.uint64(0)
    for word in range(codes.shape[1]):
        d += _popcount(codes[i, word] ^ codes[j, word])
    return d


@njit_parallel
def _nearest_kernel(codes, out):
    """``out[i]``: the fewest differing bits between hash ``codes[i]`` (a row of words) and any other of the
    (distinct) ``codes``; rows are independent, so the result does not depend on the thread count."""
    n = codes.shape[0]
    for i in prange(n):
        best = np.uint64(64 * codes.shape[1])
        for j in range(i):  # two plain loops, no early exit: each stays a vectorised min
            best = min(best, _distance(codes, i, j))
        for j in range(i + 1, n):
            best = min(best, _distance(codes, i, j))
        out[i] = best


# -- the measures of images in memory

def _check_batch(images: Any) -> np.ndarray:
    arr = np.asarray(images)
    if arr.dtype != np.uint8 or arr.ndim != 4 or arr.shape[3] not in (1, 3) or 0 in arr.shape[1:3]:
        raise ImageInputError(f"expected uint8 images (N, H, W, 1 or 3), got {arr.dtype} {arr.shape}; stack the "
                              "images with np.stack and convert with .astype(np.uint8)")
    return np.ascontiguousarray(arr)


def measure_images(images: Any) -> tuple[np.ndarray, np.ndarray]:
    """The pixel measures and dHashes of uint8 images (N, H, W, C), C 1 or 3: ``(values, hashes)``, float64
    (N, 5) in :data:`PIXEL_MEASURES` order and uint64 (N, :data:`HASH_WORDS`) (bit b of a hash is bit b % 64 of
    word b // 64). See the module doc for the definitions."""
    arr = _check_batch(images)
    values = np.empty((len(arr), len(PIXEL_MEASURES)), np.float64)
    hashes = np.empty((len(arr), HASH_WORDS), np.uint64)
    if len(arr):
        _measure_kernel(arr, FILL_LEVEL, EDGE_LEVEL, float(DHASH_MARGIN), DHASH_RELATIVE, HASH_ROWS, values, hashes)
    return values, hashes


def nearest_distances(hashes: Any) -> np.ndarray:
    """For each hash (a row of uint64 words), the fewest bits it differs in from another hash of the sequence
    (0 if the same hash occurs twice): int64 (N,). A single hash has no neighbour: all its bits."""
    codes = np.asarray(hashes, dtype=np.uint64)
    if codes.ndim != 2:
        raise ImageInputError(f"expected hashes as a 2-d array of uint64 words (N, words), got shape {codes.shape}")
    distinct, inverse, counts = np.unique(codes, axis=0, return_inverse=True, return_counts=True)
    near = np.full(len(distinct), 64 * codes.shape[1], np.int64)
    if len(distinct) > 1:
        _nearest_kernel(np.ascontiguousarray(distinct), near)
    near[counts > 1] = 0
    return near[inverse.reshape(-1)]


# -- a set's measures

@dataclasses.dataclass
class SetStats:
    """The measures of one set (or of a sample of it): ``values[m]`` is float64 (N,) for each measure ``m`` of
    :data:`~fractalgen.stats_names.MEASURES`, ``hashes`` the dHashes, row ``j`` being store image
    ``indices[j]`` (in increasing order)."""

    name: str
    path: Path
    shape: tuple[int, int, int]
    values: dict[str, np.ndarray]
    hashes: np.ndarray
    indices: np.ndarray
    near_bits: int = NEAR_BITS
    of: int = 0  #: images in the store (``len(self)`` when every image was measured)

    def __len__(self) -> int:
        return len(self.hashes)

    @property
    def near_duplicates(self) -> int:
        """Images with another image of the set at most ``near_bits`` dHash bits away."""
        return int(np.count_nonzero(self.values["nearest"] <= self.near_bits))

    @property
    def near_duplicate_rate(self) -> float:
        return self.near_duplicates / len(self)

    def summary(self, measure: str) -> dict[str, float]:
        """mean, std, min, p05, median, p95, max of a measure (numpy's linear quantiles)."""
        v = self.values[measure]
        p05, median, p95 = np.quantile(v, [0.05, 0.5, 0.95])
        return {"mean": float(v.mean()), "std": float(v.std()), "min": float(v.min()), "p05": float(p05),
                "median": float(median), "p95": float(p95), "max": float(v.max())}

    def extreme_rows(self, measure: str, k: int) -> tuple[list[int], list[int]]:
        """Rows of the ``k`` images lowest in ``measure`` (lowest first) and of the ``k`` highest (highest
        first); ties go to the lower row."""
        order = np.argsort(self.values[measure], kind="stable")
        k = min(k, len(order))
        high = np.argsort(-self.values[measure], kind="stable")[:k]
        return order[:k].tolist(), high.tolist()

    def extremes(self, measure: str, k: int) -> tuple[list[int], list[int]]:
        """Store indices of the ``k`` images lowest in ``measure`` and of the ``k`` highest
        (:meth:`extreme_rows`)."""
        low, high = self.extreme_rows(measure, k)
        return self.indices[low].tolist(), self.indices[high].tolist()

    def to_dict(self, by: str = "entropy", k: int = 4) -> dict[str, Any]:
        low, high = self.extremes(by, k)
        return {"name": self.name, "path": str(self.path), "images": len(self), "of": self.of,
                "shape": list(self.shape),
                "near_bits": self.near_bits, "near_duplicates": self.near_duplicates,
                "near_duplicate_rate": self.near_duplicate_rate,
                "measures": {m: self.summary(m) for m in MEASURES},
                "extremes": {"by": by, "lowest": low, "highest": high}}


def _read(store: Store, idx: np.ndarray) -> np.ndarray:
    """Images ``idx`` (increasing) of a store: one slice when they are consecutive."""
    if idx[-1] - idx[0] + 1 == len(idx):
        return store[int(idx[0]):int(idx[-1]) + 1]
    return np.stack([store[int(i)] for i in idx])


def _measure_rows(store: Store, pos: int, idx: np.ndarray, report=None) -> tuple[int, np.ndarray, np.ndarray]:
    """The pixel measures and hashes of images ``idx`` of a store (rows ``pos...`` of its set), read
    :data:`BATCH` at a time."""
    values = np.empty((len(idx), len(PIXEL_MEASURES)), np.float64)
    hashes = np.empty((len(idx), HASH_WORDS), np.uint64)
    for a in range(0, len(idx), BATCH):
        b = min(a + BATCH, len(idx))
        values[a:b], hashes[a:b] = measure_images(_read(store, idx[a:b]))
        if report is not None:
            report(b - a)
    return pos, values, hashes


def _tasks(store: Store, indices: np.ndarray) -> list[tuple[int, np.ndarray]]:
    """(first row, store indices) pieces of the increasing ``indices``: at most :data:`TASK_IMAGES` images each,
    none crossing a shard."""
    out = []
    shard = indices // store.plan.shard_size
    for start, stop in zip(*_runs(shard)):
        out += [(a, indices[a:min(a + TASK_IMAGES, stop)]) for a in range(start, stop, TASK_IMAGES)]
    return out


def _runs(keys: np.ndarray) -> tuple[np.ndarray, np.ndarray]:
    """Starts and stops of the runs of equal values in ``keys``."""
    cut = np.flatnonzero(np.diff(keys)) + 1
    return np.concatenate([[0], cut]).astype(np.int64), np.concatenate([cut, [len(keys)]]).astype(np.int64)


def _init_worker(parent: int) -> None:
    from .store.build import pool_worker_setup

    pool_worker_setup(parent)
    one_thread_per_worker()  # the pool, not numba, spreads the work over the cores


def _names(paths: Sequence[Path]) -> list[str]:
    """Each set's label: its folder's name, or its whole path when two folders share a name."""
    short = [p.name or str(p) for p in paths]
    return [s if short.count(s) == 1 else str(p) for s, p in zip(short, paths)]


def measure_sets(stores: Sequence[str | os.PathLike | Store], *, count: int | None = None, seed: int = 0,
                 workers: int | None = None, progress: bool = True, near_bits: int = NEAR_BITS) -> list[SetStats]:
    """The measures of every image of each store (paths or open stores), one :class:`SetStats` per store; with
    ``count``, of a seeded random sample of at most ``count`` images of each (the sample ``fractalgen show -n
    COUNT -s SEED`` shows), whose near-duplicate rate is then the sample's.

    Runs in this process for sets under :data:`POOL_MIN_IMAGES` images in all (unless ``workers`` is given),
    else on ``workers`` spawned processes (default: every core) with one numba thread each; the numbers are the
    same either way. A script calling this with several workers needs the ``if __name__ == "__main__":`` guard.
    """
    from .store.build import _sigint_ignored, _stop, progress_bar
    from .store.export import random_indices

    if isinstance(near_bits, bool) or not isinstance(near_bits, int) or not 0 <= near_bits <= HASH_BITS:
        raise StoreError(f"near_bits = {near_bits!r}: pass a number of dHash bits from 0 to {HASH_BITS}")
    if count is not None and (isinstance(count, bool) or not isinstance(count, int) or count < 1):
        raise StoreError(f"count = {count!r}: pass a positive number of images, or None for all")
    if workers is not None and (isinstance(workers, bool) or not isinstance(workers, int) or workers < 1):
        raise StoreError(f"workers = {workers!r}: pass a positive number of processes, or None for every core")
    opened = [open_store(s) for s in stores]
    if not opened:
        raise StoreError("no store given: pass one or more store directories")
    chosen = [np.arange(len(store), dtype=np.int64) if count is None or count >= len(store)
              else np.asarray(random_indices(len(store), count, seed), np.int64) for store in opened]
    tasks = [(s, pos, idx) for s, store in enumerate(opened) for pos, idx in _tasks(store, chosen[s])]
    total = sum(map(len, chosen))
    n_workers = min(available_cores() if workers is None else workers, len(tasks))
    if workers is None and total < POOL_MIN_IMAGES:
        n_workers = 1
    parts: list[dict[int, tuple[np.ndarray, np.ndarray]]] = [{} for _ in opened]
    measure_images(np.zeros((1, 9, 9, 3), np.uint8))  # compile (or load) once here, before any worker does
    measure_images(np.zeros((1, 9, 9, 1), np.uint8))
    with progress_bar(total, "measuring", progress) as bar:
        if n_workers <= 1:
            for s, pos, idx in tasks:
                _, values, hashes = _measure_rows(opened[s], pos, idx, bar.update)
                parts[s][pos] = values, hashes
        else:
            executor = cf.ProcessPoolExecutor(n_workers, mp_context=mp.get_context("spawn"),
                                              initializer=_init_worker, initargs=(os.getpid(),))
            try:
                with _sigint_ignored():  # workers start with the first submit
                    futures = {executor.submit(_measure_rows, opened[s], pos, idx): s for s, pos, idx in tasks}
                for fut in cf.as_completed(futures):
                    start, values, hashes = fut.result()
                    parts[futures[fut]][start] = values, hashes
                    bar.update(len(hashes))
            except cf.process.BrokenProcessPool:
                _stop(executor)
                raise StoreError("a worker process died (killed, or out of memory?) while measuring; run again, "
                                 "with fewer --workers") from None
            except BaseException:
                _stop(executor)
                raise
            executor.shutdown(wait=True)
    for given, store in zip(stores, opened):
        if store is not given:  # opened here: close its shard files
            store.close()
    out = []
    for store, name, got, idx in zip(opened, _names([st.path for st in opened]), parts, chosen):
        starts = sorted(got)
        values = np.concatenate([got[a][0] for a in starts])
        hashes = np.concatenate([got[a][1] for a in starts])
        columns = {m: values[:, j] for j, m in enumerate(PIXEL_MEASURES)}
        columns["nearest"] = nearest_distances(hashes).astype(np.float64)
        out.append(SetStats(name, store.path, store.shape, columns, hashes, idx, near_bits, len(store)))
    return out


# -- what people read: the table, the JSON, the figure

def table_lines(sets: Sequence[SetStats]) -> list[str]:
    """Per set: a header line (images, shape, near-duplicates), then one row per measure (mean, std, p05,
    median, p95)."""
    lines = []
    for st in sets:
        h, w, c = st.shape
        sample = f" (a sample of {st.of})" if st.of > len(st) else ""
        lines.append(f"{st.name}: {len(st)} images{sample} {h}x{w}x{c}, near-duplicates "
                     f"{100 * st.near_duplicate_rate:.2f}% ({st.near_duplicates} within {st.near_bits} dHash bits of "
                     "another image)")
        lines.append(f"  {'measure':<14}{'mean':>9}{'std':>9}{'p05':>9}{'median':>9}{'p95':>9}")
        for m in MEASURES:
            s = st.summary(m)
            lines.append(f"  {m:<14}" + "".join(f"{s[key]:9.3f}" for key in ("mean", "std", "p05", "median", "p95")))
    return lines


def to_json(sets: Sequence[SetStats], by: str = "entropy", k: int = 4) -> dict[str, Any]:
    """What ``fractalgen stats --json`` prints: each set's summaries and extremes, and what each measure is."""
    return {"measures": dict(DESCRIPTIONS), "sets": [st.to_dict(by, k) for st in sets]}


def require_matplotlib() -> Any:
    """matplotlib's Figure class, or a one-line error naming the install command."""
    try:
        from matplotlib.figure import Figure
    except ImportError:
        raise MissingExtraError(f"drawing the figure needs matplotlib, which is not installed: {INSTALL_PLOTS} "
                                "(or leave out --out for the table only)") from None
    return Figure


#: Side of the extremes' thumbnails in the figure, in pixels, and the figure's resolution.
THUMB = 56
DPI = 72


def _strip(store: Store, low: list[int], high: list[int]) -> np.ndarray:
    """One RGB row: the lowest images, a gap, the highest, each fitted to :data:`THUMB` pixels."""
    from .images import fit_square

    gap, wide = 4, 24
    n = len(low) + len(high)
    strip = np.full((THUMB, n * (THUMB + gap) - gap + wide - gap, 3), 255, np.uint8)
    x = 0
    for j, i in enumerate([*low, *high]):
        if j == len(low):
            x += wide - gap
        img = fit_square(store[i], THUMB)
        strip[:, x:x + THUMB] = img if img.shape[2] == 3 else np.repeat(img, 3, axis=2)
        x += THUMB + gap
    return strip


def draw(sets: Sequence[SetStats], out: str | os.PathLike, by: str = "entropy", k: int = 4) -> Path:
    """Write one PNG figure: a histogram per measure with one colour per set (densities, so sets of different
    sizes compare), and per set a strip of its ``k`` lowest and ``k`` highest images in measure ``by``."""
    from .sheet import write_file

    Figure = require_matplotlib()
    if by not in MEASURES:
        raise StoreError(f"by = {by!r} is not a measure; choose one of {', '.join(MEASURES)}")
    colours = [f"C{j % 10}" for j in range(len(sets))]
    fig = Figure(figsize=(11, 5.6 + 1.15 * len(sets)), dpi=DPI, layout="constrained")
    grid = fig.add_gridspec(2 + len(sets), 3, height_ratios=[2.6, 2.6] + [1.0] * len(sets))
    for m, measure in enumerate(MEASURES):
        ax = fig.add_subplot(grid[m // 3, m % 3])
        data = [st.values[measure] for st in sets]
        lo, hi = min(float(v.min()) for v in data), max(float(v.max()) for v in data)
        if measure == "nearest":
            bins = np.arange(-0.5, hi + 1.5, max(1, int(hi + 1) // 40 + 1))  # whole bits, at most ~40 bins
        else:
            bins = np.linspace(lo, hi, 41) if hi > lo else np.linspace(lo - 0.5, hi + 0.5, 3)
        for st, v, colour in zip(sets, data, colours):
            sample = f" of {st.of}" if st.of > len(st) else ""
            label = f"{st.name} ({len(st)}{sample} images, {100 * st.near_duplicate_rate:.1f}% near-dup.)"
            if v.min() == v.max():  # one value (a grayscale set's colourfulness): a line, not a spike
                ax.axvline(float(v[0]), color=colour, linewidth=2, label=label)
                continue
            ax.hist(v, bins=bins, density=True, histtype="stepfilled", alpha=0.3, color=colour)
            ax.hist(v, bins=bins, density=True, histtype="step", linewidth=1.4, color=colour, label=label)
        ax.set_title(measure, fontsize=11)
        ax.set_xlabel(DESCRIPTIONS[measure], fontsize=7.5)
        ax.tick_params(labelsize=7.5)
        ax.set_yticks([])
        if m == 0:
            fig.legend(*ax.get_legend_handles_labels(), loc="outside upper center", ncol=min(len(sets), 3),
                       fontsize=8.5, frameon=False)
    for s, (st, colour) in enumerate(zip(sets, colours)):
        low, high = st.extreme_rows(by, k)
        with open_store(st.path) as store:
            strip = _strip(store, st.indices[low].tolist(), st.indices[high].tolist())
        ax = fig.add_subplot(grid[2 + s, :])
        ax.imshow(strip, interpolation="nearest")
        ax.set_axis_off()
        lv = ", ".join(f"{st.values[by][i]:.2f}" for i in low)
        hv = ", ".join(f"{st.values[by][i]:.2f}" for i in high)
        ax.set_title(f"{st.name}: lowest {by} ({lv})   |   highest {by} ({hv})", fontsize=8.5, color=colour)
    buf = io.BytesIO()
    fig.savefig(buf, format="png", dpi=DPI)
    return write_file(out, buf.getvalue())
