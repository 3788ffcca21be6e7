"""How strongly each mixing method changes real photos: our defaults (variant "paper") against the released code's
behaviour (variant "released"), per preset.

    python benchmarks/strength.py            # about 4 minutes on 2 cores
    python benchmarks/strength.py --quick    # fewer views (about a minute), noisier

Photos: scikit-image's sample photos (astronaut, chelsea, coffee, rocket, hubble_deep_field; shipped in its
wheel, nothing is downloaded), resized and centre-cropped to the training size (preset cifar at 32 px, imagenet
at 224 px). Mixing pictures: 64 ifs-colour fractals rendered now. For every method x variant x preset it prints
the distribution of the per-pixel change |out - in| (grey levels, every channel of every pixel of every view:
mean, median, 90th and 99th percentiles), the share of views left unchanged and of views with a mean change
above 100 levels (blacked out or inverted), and the ratio of the default's mean change to the released
variant's in the same run. Then LayerMix op by op (``ops=[op]``, 32 px): each op's mean change in both
variants and its share of the gap between them. Each view is one call of ``method.augment`` with the method's
own generator (seed 0), so a run repeats its figures exactly; the figures do not depend on the machine.
"""

from __future__ import annotations

import argparse
import warnings

import numpy as np

from fractalgen.errors import ReleasedVariantWarning
from fractalgen.images import fit_square
from fractalgen.mixing import METHODS, FractalSource, LayerMix, ops

from timing import header

PHOTOS = ("astronaut", "chelsea", "coffee", "rocket", "hubble_deep_field")
PRESET_SIZES = (("cifar", 32), ("imagenet", 224))


def photos(size: int) -> list[np.ndarray]:
    from skimage import data  # a test / benchmark dependency only

    return [fit_square(getattr(data, name)(), size) for name in PHOTOS]


class Change:
    """The distribution of |out - in| over every element of every view, in whole grey levels."""

    def __init__(self) -> None:
        self.hist = np.zeros(256, dtype=np.int64)
        self.total = 0.0
        self.views = 0
        self.unchanged = 0
        self.wiped = 0

    def add(self, x: np.ndarray, out: np.ndarray) -> None:
        diff = np.abs(out.astype(np.float64) * 255 - x)
        self.total += diff.sum()
        self.hist += np.bincount(np.minimum(diff, 255).astype(np.int64).reshape(-1), minlength=256)
        self.views += 1
        self.unchanged += bool(diff.max() < 1)
        self.wiped += bool(diff.mean() > 100)

    @property
    def mean(self) -> float:
        return self.total / self.hist.sum()

    def quantile(self, q: float) -> int:
        return int(np.searchsorted(np.cumsum(self.hist), q * self.hist.sum()))


def measure(method: type, preset: str, size: int, source: FractalSource, images: list[np.ndarray], views: int,
            **settings) -> Change:
    aug = method(source, preset, seed=0, **settings)
    change = Change()
    for x in images:
        for _ in range(views):
            change.add(x, aug.augment(x))
    return change


def row(label: str, c: Change, ratio: str = "") -> str:
    return (f"  {label:<42} {c.mean:6.1f} {c.quantile(0.5):5d} {c.quantile(0.9):5d} {c.quantile(0.99):5d} "
            f"{100 * c.unchanged / c.views:6.1f}% {100 * c.wiped / c.views:6.1f}% {ratio:>8}")


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__.split("\n")[0])
    parser.add_argument("--quick", action="store_true", help="fewer views: a rough table in about a minute")
    args = parser.parse_args()
    views = {32: 40 if args.quick else 200, 224: 6 if args.quick else 30}
    warnings.simplefilter("ignore", ReleasedVariantWarning)
    print(header("Strength of the mixing methods: per-pixel change |out - in| on photos (image statistics: the "
                 "figures do not depend on the CPU)"))
    print(f"photos: {', '.join(PHOTOS)} (scikit-image); fractals: 64 ifs-colour; views per photo: "
          f"{views[32]} at 32 px, {views[224]} at 224 px\n")
    print(f"  {'method / preset / variant':<42} {'mean':>6} {'p50':>5} {'p90':>5} {'p99':>5} {'same':>7} "
          f"{'>100':>7} {'ratio':>8}")
    for preset, size in PRESET_SIZES:
        images = photos(size)
        source = FractalSource.from_recipe("ifs-colour", n=64, size=size, seed=0)
        for name, method in METHODS.items():
            if not method.RELEASED:  # FractalMaskMix: no released variant to compare with
                continue
            paper = measure(method, preset, size, source, images, views[size])
            released = measure(method, preset, size, source, images, views[size], variant="released")
            ratio = f"{paper.mean / released.mean:.2f}x"
            print(row(f"{name} {preset} {size}px paper", paper, ratio))
            print(row(f"{name} {preset} {size}px released", released))
            if method is LayerMix:
                gray = measure(method, preset, size, source, images, views[size], fractal_gray=True)
                print(row(f"{name} {preset} {size}px paper, fractal_gray", gray,
                          f"{gray.mean / released.mean:.2f}x"))
    print("\nLayerMix op by op (ops=[op], cifar, 32 px): mean |out - in| and the op's share of the gap")
    images, source = photos(32), FractalSource.from_recipe("ifs-colour", n=64, size=32, seed=0)
    means = {}
    for op in ops.OP_SETS["layermix"]:
        means[op] = tuple(measure(LayerMix, "cifar", 32, source, images, views[32] // 2, ops=[op], variant=v).mean
                          for v in ("paper", "released"))
    gap = sum(r - p for p, r in means.values())
    print(f"  {'op':<22} {'paper':>7} {'released':>9} {'share of gap':>13}")
    for op, (p, r) in means.items():
        print(f"  {op:<22} {p:7.1f} {r:9.1f} {100 * (r - p) / gap:12.0f}%")


if __name__ == "__main__":
    main()
