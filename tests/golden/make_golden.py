"""Write the golden set pinned by tests/test_golden.py: one case per family and colouring.

Each case names a recipe (a family or preset, overrides, size, seed) and an image index; the golden file keeps
the image's full params (pinning the sampler: random stream, drawing order, rounding) and the sha256 of its
pixels (pinning the renderer). Run it ONLY after a deliberate change of rendered bytes, together with a bump of
``fractalgen.render.RENDER_VERSION``:

    PYTHONPATH=$PWD python tests/golden/make_golden.py
"""

from __future__ import annotations

import hashlib
import json
from pathlib import Path

import fractalgen as fg
from fractalgen.render import RENDER_VERSION

HERE = Path(__file__).parent

# (name, source, overrides, size, seed, index); small sizes keep the test fast, the seeds and indices are
# arbitrary but fixed.
COLORINGS = ("trap", "smooth", "trap-smooth", "smooth-trap")
CASES = [
    ("ifs-map", "ifs", {"ifs.coloring": ["map"], "ifs.background": ["noise"]}, 32, 11, 0),
    ("ifs-hue", "ifs", {"ifs.coloring": ["hue"], "ifs.background": ["gradient"], "ifs.tone": ["equalize"]},
     32, 12, 1),
    ("ifs-gray", "ifs", {"color": False, "ifs.background": ["flat"], "ifs.invert": 1.0}, 32, 13, 2),
    ("ifs-supersample", "ifs-colour", {"ifs.supersample": 2, "ifs.maps": [4, 6]}, 24, 14, 3),
    *[(f"julia-{c}", "julia", {"julia.coloring": [c], "julia.palette": ["cosine" if k % 2 else "gradient"],
                               "julia.trap": [("point", "cross", "line", "circle")[k]]}, 32, 20 + k, k)
      for k, c in enumerate(COLORINGS)],
    *[(f"mandelbrot-{c}", "mandelbrot", {"mandelbrot.coloring": [c],
                                         "mandelbrot.palette": ["gradient" if k % 2 else "cosine"],
                                         "mandelbrot.trap": [("square", "rhombus", "circle", "point")[k]]},
       32, 30 + k, k) for k, c in enumerate(COLORINGS)],
    ("julia-gray", "julia", {"color": False, "julia.background": ["noise"]}, 32, 40, 0),
    ("mandelbrot-gray", "mandelbrot", {"color": False, "mandelbrot.background": ["gradient"]}, 32, 41, 1),
    ("burning-ship", "mandelbrot", {"mandelbrot.formula": ["burning-ship"], "mandelbrot.degree": [3, 3]}, 32, 42, 0),
    ("tricorn", "julia", {"julia.formula": ["tricorn"], "julia.trap_stat": ["mean"], "julia.c_method": ["band"]},
     32, 43, 0),
    ("julia-supersample", "julia-traps", {"julia.supersample": 2}, 24, 44, 5),
    ("ipmix-like", "ipmix-like", {}, 32, 45, 6),
]


def recipe_of(case: dict) -> fg.Recipe:
    return fg.load_recipe(case["source"], overrides=case["overrides"], size=case["size"], seed=case["seed"])


def digest(image) -> str:
    return hashlib.sha256(image.tobytes()).hexdigest()


def main() -> None:
    out = {"render_version": RENDER_VERSION, "cases": []}
    for name, source, overrides, size, seed, index in CASES:
        case = {"name": name, "source": source, "overrides": overrides, "size": size, "seed": seed, "index": index}
        img, params = recipe_of(case).draw(index)
        case.update(shape=list(img.shape), sha256=digest(img), params=params)
        out["cases"].append(case)
    (HERE / "renders.json").write_text(json.dumps(out, indent=1) + "\n")
    print(f"wrote {len(CASES)} cases to {HERE / 'renders.json'}")


if __name__ == "__main__":
    main()
