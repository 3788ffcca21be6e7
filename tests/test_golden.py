"""Reproducible across versions, not only across runs: images pinned by a golden set written once
(tests/golden/renders.json, by tests/golden/make_golden.py), one case per family and colouring.

A change to the random stream, the sampling order, a rounding or a kernel fails here even when the code still
agrees with itself. Such a change must be deliberate: bump ``fractalgen.render.RENDER_VERSION`` and regenerate
the golden file, so stores and params files written before it are refused by ``render()`` instead of silently
re-rendering differently.
"""

from __future__ import annotations

import hashlib
import json
from pathlib import Path

import numpy as np
import pytest

import fractalgen as fg
from fractalgen.render import RENDER_VERSION

GOLDEN = json.loads((Path(__file__).parent / "golden" / "renders.json").read_text())
CASES = GOLDEN["cases"]


def digest(image: np.ndarray) -> str:
    return hashlib.sha256(np.ascontiguousarray(image).tobytes()).hexdigest()


def test_the_golden_set_is_of_this_render_version():
    assert GOLDEN["render_version"] == RENDER_VERSION, (
        "RENDER_VERSION changed: regenerate tests/golden/renders.json with tests/golden/make_golden.py")


def test_the_golden_set_covers_every_family_and_colouring():
    params = [c["params"] for c in CASES]
    assert {p["family"] for p in params} == set(fg.FAMILIES)
    assert {p.get("coloring", "gray") for p in params if p["family"] == "ifs"} == {"map", "hue", "gray"}
    for fam in ("julia", "mandelbrot"):
        assert {p["coloring"] for p in params if p["family"] == fam and p["color"]} == \
            {"trap", "smooth", "trap-smooth", "smooth-trap"}
        assert any(not p["color"] for p in params if p["family"] == fam)
    assert {p["background"]["kind"] for p in params} == {"black", "flat", "gradient", "noise"}
    assert {p["formula"] for p in params if "formula" in p} == {"power", "burning-ship", "tricorn"}
    assert {p["supersample"] for p in params} == {1, 2}


@pytest.mark.parametrize("case", CASES, ids=[c["name"] for c in CASES])
def test_params_render_to_the_pinned_bytes(case):
    img = fg.render(case["params"])
    assert list(img.shape) == case["shape"] and img.dtype == np.uint8
    assert digest(img) == case["sha256"], f"{case['name']}: rendered bytes changed; see this module's docstring"


@pytest.mark.parametrize("case", CASES, ids=[c["name"] for c in CASES])
def test_the_recipe_draws_the_pinned_params(case):
    recipe = fg.load_recipe(case["source"], overrides=case["overrides"], size=case["size"], seed=case["seed"])
    drawn = json.loads(json.dumps(recipe.params(case["index"])))
    assert drawn == case["params"], f"{case['name']}: the sampler drew different params; see the docstring"
