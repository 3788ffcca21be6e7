"""Milliseconds per batch of MiAMix and its parts, numpy and torch, on one core.

    python benchmarks/bench_miamix.py                 # 128 x 32 x 32 and 64 x 224 x 224, CPU
    python benchmarks/bench_miamix.py --device cuda   # the torch rows on a GPU as well

Each figure is the best of ``--repeats`` runs (the machine's noise only ever adds time); the median follows in
brackets. Target (issue 6): MiAMix on a 128 x 32 x 32 batch in <= 5 ms.

CPU tensors run the numba kernels on a view of their memory (``MiAMix(cpu_kernels=True)``, the default); the
"tensor operations" row times the pure-torch path that a GPU runs, forced onto the CPU.
"""

from __future__ import annotations

import argparse
import statistics
import time

import numpy as np

from fractalgen.mixing import FractalMaskMix, MiAMix, masks
from fractalgen.mixing._backend import NumpyBackend
from fractalgen.mixing.miamix import _blend
from timing import header  # benchmarks/timing.py (the script's folder is on sys.path)

CONFIGS = [(128, 32), (64, 224)]


class ArraySource:
    """Random crops of an array of pictures: the FractalSource interface, for when it is not installed."""

    def __init__(self, pool: np.ndarray, size: int):
        self.pool, self.size = pool, size

    def __len__(self) -> int:
        return len(self.pool)

    def sample(self, rng: np.random.Generator) -> np.ndarray:
        i, y, x = rng.integers(len(self.pool)), *rng.integers(0, self.pool.shape[1] - self.size + 1, 2)
        return self.pool[i, y:y + self.size, x:x + self.size]


def fractal_source(size: int):
    pool = np.random.default_rng(1).integers(0, 256, (16, size + size // 8, size + size // 8, 3), dtype=np.uint8)
    try:
        from fractalgen.mixing import FractalSource
    except ImportError:
        return ArraySource(pool, size)
    return FractalSource(pool, size=size, seed=0)


def timed(fn, repeats: int, sync=lambda: None) -> tuple[float, float]:
    """(best, median) milliseconds of ``fn()`` after one warm-up call (numba compiles, caches fill)."""
    fn()
    sync()
    times = []
    for _ in range(repeats):
        start = time.perf_counter()
        fn()
        sync()
        times.append((time.perf_counter() - start) * 1e3)
    return min(times), statistics.median(times)


def row(name: str, result: tuple[float, float], per: int) -> str:
    best, median = result
    return f"| {name} | {best:.2f} ({median:.2f}) | {best / per * 1e3:.1f} |"


def bench_config(b: int, size: int, repeats: int, torch, device: str) -> list[str]:
    gen = np.random.default_rng(0)
    images = gen.integers(0, 256, (b, size, size, 3), dtype=np.uint8)
    labels = gen.integers(0, 100, b)
    mix = MiAMix(num_classes=100, seed=0)
    shape = (size, size)
    params = mix._draw(mix.rng, b, shape)  # the arrays a call draws (sample_params: the same, JSON-ready)
    merged = mix.render_masks(params, shape)
    lines = [f"\n### batch {b} x {size} x {size}\n", "| what | ms per batch: best (median) | us per sample |",
             "|---|---|---|"]
    lines.append(row("MiAMix, numpy uint8", timed(lambda: mix(images, labels), repeats), b))
    floats = images.astype(np.float32) / 255
    lines.append(row("MiAMix, numpy float32", timed(lambda: mix(floats, labels), repeats), b))
    if torch is not None:
        # a CPU tensor runs the numba kernels on its memory; cpu_kernels=False runs the tensor operations that a
        # GPU runs, here on the CPU
        ops = MiAMix(num_classes=100, seed=0, cpu_kernels=False)
        for dev in dict.fromkeys(["cpu", device]):
            sync = torch.cuda.synchronize if dev.startswith("cuda") else (lambda: None)
            x = torch.as_tensor(floats).permute(0, 3, 1, 2).contiguous().to(dev)
            y = torch.as_tensor(labels).to(dev)
            if dev == "cpu":
                x8 = torch.as_tensor(images).permute(0, 3, 1, 2).contiguous()
                lines.append(row("MiAMix, torch uint8 on cpu", timed(lambda: mix(x8, y), repeats), b))
            lines.append(row(f"MiAMix, torch float32 on {dev}", timed(lambda: mix(x, y), repeats, sync), b))
            if dev == "cpu":
                lines.append(row("MiAMix, torch float32 on cpu, tensor operations (the GPU path)",
                                 timed(lambda: ops(x, y), repeats), b))
    fractal_mix = FractalMaskMix(fractal_source(size), seed=0)
    lines.append(row("FractalMaskMix, one uint8 image (ms per image)",
                     timed(lambda: fractal_mix(images[0]), repeats), 1))
    lines.append(row("  draw the params (all random draws)", timed(lambda: mix._draw(mix.rng, b, shape), repeats), b))
    lines.append(row("  sample_params (the draws, JSON-ready)", timed(lambda: mix.sample_params(None, b, shape),
                                                                     repeats), b))
    lines.append(row("  render merged masks (numpy)", timed(lambda: mix.render_masks(params, shape), repeats), b))
    lines.append(row("  blend (numpy uint8 kernel)", timed(
        lambda: _blend(images, images, params["partner"], merged, NumpyBackend()), repeats), b))
    # one method alone, for as many masks as a batch draws of it on average (b * 1.5 layers * weight / 6)
    for name, weight in [("mixup", 2), ("cutmix", 1), ("fmix", 1), ("gridmix", 1), ("agmix", 1)]:
        n = round(b * 1.5 * weight / 6)
        lam = gen.uniform(0, 1, n)
        lines.append(row(f"  {name}: {n} masks, sample + render", timed(
            lambda: masks.render(name, masks.sample_params(name, lam, shape, gen), shape), repeats), b))
    n = round(b * 1.5 * 3 / 6)
    cut = masks.generate("cutmix", gen.uniform(0, 1, n), shape, gen)
    augment = masks.MaskAugment()
    aug = augment.sample_params(n, shape, gen)
    lines.append(row(f"  mask augmentation of {n} cutting masks", timed(lambda: augment.apply(cut, aug), repeats), b))
    return lines


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--repeats", type=int, default=30)
    parser.add_argument("--device", default="cpu", help="torch device for the torch rows (cpu, cuda, ...)")
    args = parser.parse_args()
    try:
        import torch

        torch.set_num_threads(1)
    except ImportError:
        torch = None
    print(header(__doc__.splitlines()[0]))
    print(f"torch {torch.__version__} (1 thread)" if torch else "no torch")
    for b, size in CONFIGS:
        print("\n".join(bench_config(b, size, args.repeats if size <= 64 else max(3, args.repeats // 5), torch,
                                     args.device)))


if __name__ == "__main__":
    main()
