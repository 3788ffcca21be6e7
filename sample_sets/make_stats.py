"""Regenerate sample_sets/stats.png: `fractalgen stats` over the sample sets, the figure the README shows.

    python sample_sets/make_stats.py                   # ifs-colour, ipmix-like, layermix-gray: 1000 images at 64 px
    python sample_sets/make_stats.py julia-traps mandelbrot-traps --count 2000 --out other.png

Each set is generated from sample_sets/NAME.toml at 64 px (its recipe's seed) into a temporary store, exactly as
`fractalgen generate sample_sets/NAME.toml DIR -n COUNT --size 64` makes it; the figure is then what
`fractalgen stats DIR ... -o sample_sets/stats.png` draws (extremes by entropy), and the table is printed.
"""

from __future__ import annotations

import argparse
import tempfile
from pathlib import Path

import fractalgen as fg
from fractalgen import stats

HERE = Path(__file__).resolve().parent
#: The README's comparison: a colour IFS set, the IPMix-style mix, a grayscale mix.
DEFAULT = ["ifs-colour", "ipmix-like", "layermix-gray"]


def main() -> None:
    ap = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    ap.add_argument("names", nargs="*", help=f"sample sets (default: {' '.join(DEFAULT)})")
    ap.add_argument("--count", type=int, default=1000, help="images per set")
    ap.add_argument("--size", type=int, default=64)
    ap.add_argument("--out", type=Path, default=HERE / "stats.png")
    args = ap.parse_args()
    names = args.names or DEFAULT
    with tempfile.TemporaryDirectory() as tmp:
        paths = []
        for name in names:
            path = Path(tmp) / name
            fg.generate(HERE / f"{name}.toml", path, args.count, size=args.size, progress=False).close()
            paths.append(path)
        sets = stats.measure_sets(paths, progress=False)
        print("\n".join(stats.table_lines(sets)))
        stats.draw(sets, args.out, by="entropy")
    print(f"wrote {args.out} ({args.out.stat().st_size // 1024} KiB)")


if __name__ == "__main__":
    main()
