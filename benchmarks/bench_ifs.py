"""IFS speed: the chaos-game kernel against bare-bones loops, and end-to-end images per second on one core.

    python benchmarks/bench_ifs.py [--images 300] [--points 2000000] [--repeats 5]

Prints
- JIT: import and first image in a fresh process, with an empty numba cache (compile, as on a fresh machine)
  and a warm one, kept out of every other figure;
- kernel points/s on one core for a fixed system, and the ratio to two bare-bones numba loops timed in the same
  run: (a) the obvious loop (numba's np.random.random, a search for the map, count hits), (b) the same loop with
  our random stream and branch-free map pick (what our kernel costs beyond counting hits: framing, colour);
- end-to-end images/s on one core for ifs-colour at 256 x 256 with 100k points (sampling, chaos game, tone map,
  gate, colour, background, flip; gate redraws included), plus grayscale and 2x-supersampled variants.
Every figure is the best of ``--repeats`` runs (the machine is shared; the best run is the least disturbed).
"""

from __future__ import annotations

import argparse
import os
import subprocess
import sys
import tempfile

import numba
import numpy as np

import fractalgen as fg
from fractalgen.render import ifs
from timing import best_of, header  # benchmarks/timing.py (the script's folder is on sys.path)


@numba.njit(cache=True, nogil=True)
def bare_numpy_random(coef, cum, n, x_lo, y_lo, scale, grid):
    h, w = grid.shape
    x, y = 0.0, 0.0
    last = cum.shape[0] - 1
    for _ in range(n):
        u = np.random.random()
        j = 0
        while j < last and u >= cum[j]:
            j += 1
        x, y = coef[j, 0] * x + coef[j, 1] * y + coef[j, 4], coef[j, 2] * x + coef[j, 3] * y + coef[j, 5]
        c, r = (x - x_lo) * scale, (y - y_lo) * scale
        if 0.0 <= c < w and 0.0 <= r < h:
            grid[int(r), int(c)] += 1


@numba.njit(cache=True, nogil=True)
def bare_same_rng(coef, cum, key, n, x_lo, y_lo, scale, grid):
    h, w = grid.shape
    x, y = 0.0, 0.0
    state = np.uint64(key)
    for _ in range(n):
        state = state + np.uint64(0x9E3779B97F4A7C15)
        z = state
        z = (z ^ (z >> np.uint64(30))) * np.uint64(0xBF58476D1CE4E5B9)
        z = (z ^ (z >> np.uint64(27))) * np.uint64(0x94D049BB133111EB)
        u = np.float64((z ^ (z >> np.uint64(31))) >> np.uint64(11)) * 1.1102230246251565e-16
        j = 0
        for i in range(cum.shape[0] - 1):
            j += u >= cum[i]
        x, y = coef[j, 0] * x + coef[j, 1] * y + coef[j, 4], coef[j, 2] * x + coef[j, 3] * y + coef[j, 5]
        c, r = (x - x_lo) * scale, (y - y_lo) * scale
        if 0.0 <= c < w and 0.0 <= r < h:
            grid[int(r), int(c)] += 1


def kernels(points: int, repeats: int) -> None:
    _, params = fg.load_recipe("ifs-colour", size=256, seed=0).draw(0)
    coef, cum = ifs.system_arrays(params)
    x0, y0 = ifs.fixed_point(coef[0])
    x_lo, y_lo, scale = ifs.frame(params, 256)
    key = np.uint64(params["key"])
    grid = np.zeros((256, 256), np.uint32)
    colour = np.zeros((256, 256), np.float32)
    no_colour = None  # counting only: the renderer's call for grayscale and hue-coloured images
    mc = np.linspace(0, 1, len(coef))

    def ours(n, cs):
        return lambda: ifs._chaos_game(coef, cum, None if cs is None else mc, x0, y0, key, n, x_lo, y_lo, scale,
                                       grid, cs)

    for warm in (ours(10, no_colour), ours(10, colour),
                 lambda: bare_numpy_random(coef, cum, 10, x_lo, y_lo, scale, grid),
                 lambda: bare_same_rng(coef, cum, key, 10, x_lo, y_lo, scale, grid)):
        warm()
    t_ours = best_of(repeats, ours(points, no_colour))
    t_colour = best_of(repeats, ours(points, colour))
    t_a = best_of(repeats, lambda: bare_numpy_random(coef, cum, points, x_lo, y_lo, scale, grid))
    t_b = best_of(repeats, lambda: bare_same_rng(coef, cum, key, points, x_lo, y_lo, scale, grid))
    mpts = lambda t: points / t / 1e6
    print(f"\nchaos-game kernel, {len(coef)} maps, {points:,} points, one core (best of {repeats}):")
    print(f"  ours (density)              {mpts(t_ours):7.1f} Mpoints/s")
    print(f"  ours (density + colour)     {mpts(t_colour):7.1f} Mpoints/s")
    print(f"  bare-bones (np.random)      {mpts(t_a):7.1f} Mpoints/s   ratio ours/bare = {t_a / t_ours:.2f}")
    print(f"  bare-bones (same rng+pick)  {mpts(t_b):7.1f} Mpoints/s   ratio ours/bare = {t_b / t_ours:.2f}")


FIRST_IMAGE = """
import time; t0 = time.perf_counter()
import fractalgen as fg; t1 = time.perf_counter()
fg.load_recipe("ifs-colour", size=256).draw(0); t2 = time.perf_counter()  # loads numba, numpy: the package is lazy
print(t1 - t0, t2 - t1)
"""


def jit_cost() -> None:
    """Import and first-image time in fresh processes: with an empty numba cache (every kernel compiles, as on
    a fresh machine) and with the cache that run left behind (every later run)."""
    print("JIT, first image in a fresh process (kept out of every other figure):")
    with tempfile.TemporaryDirectory() as cache:
        env = {**os.environ, "NUMBA_CACHE_DIR": cache, "FRACTALGEN_CACHE_DIR": cache}
        for label in ("empty numba cache (compile)", "warm numba cache"):
            out = subprocess.run([sys.executable, "-c", FIRST_IMAGE], env=env, capture_output=True, text=True,
                                 check=True).stdout.split()
            print(f"  {label:<30} import {float(out[0]) * 1e3:6.0f} ms   first image {float(out[1]) * 1e3:6.0f} ms")


def end_to_end(n_images: int, repeats: int) -> None:
    print(f"\nend to end, {n_images} images per run, one core (best of {repeats}):")
    cases = [
        ("ifs-colour 256px 100k points", fg.load_recipe("ifs-colour", size=256, seed=0)),
        ("ifs-gray   256px 100k points", fg.load_recipe("ifs-gray", size=256, seed=0)),
        ("ifs-colour 256px supersample 2", fg.load_recipe("ifs-colour", size=256, seed=0,
                                                          overrides={"ifs.supersample": 2})),
        ("ifs-colour 128px", fg.load_recipe("ifs-colour", size=128, seed=0)),
    ]
    for name, recipe in cases:
        recipe.draw(10**6)  # warm-up (JIT measured above)
        draws = []

        def run():
            draws.clear()
            for i in range(n_images):
                draws.append(recipe.draw(i)[1]["draws"])

        t = best_of(repeats, run)
        print(f"  {name:<32} {n_images / t:7.0f} images/s   {t / n_images * 1e3:5.2f} ms/image   "
              f"mean draws {np.mean(draws):.2f}")


def main() -> None:
    ap = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    ap.add_argument("--images", type=int, default=300)
    ap.add_argument("--points", type=int, default=2_000_000)
    ap.add_argument("--repeats", type=int, default=5)
    args = ap.parse_args()
    print(header(__doc__.splitlines()[0]))
    numba.set_num_threads(1)
    jit_cost()
    kernels(args.points, args.repeats)
    end_to_end(args.images, max(1, args.repeats // 2))


if __name__ == "__main__":
    main()
