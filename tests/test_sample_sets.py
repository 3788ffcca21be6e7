"""sample_sets/: every recipe loads, a set named like a preset is that preset, and each has its preview sheet."""

from __future__ import annotations

from pathlib import Path

import pytest
from PIL import Image

import fractalgen as fg
from fractalgen.recipe import presets

SAMPLE_SETS = Path(__file__).resolve().parents[1] / "sample_sets"
NAMES = sorted(p.stem for p in SAMPLE_SETS.glob("*.toml"))


def test_the_standard_sets_are_there():
    standard = {"ifs-colour", "ifs-gray", "julia-traps", "mandelbrot-traps", "ipmix-like", "layermix-gray"}
    assert standard <= set(NAMES)
    assert standard <= set(presets()), "each standard set is also a built-in preset"


@pytest.mark.parametrize("name", NAMES)
def test_a_sample_set_named_like_a_preset_is_that_preset(name):
    recipe = fg.load_recipe(SAMPLE_SETS / f"{name}.toml")
    if name in presets():
        assert recipe == fg.load_recipe(name), (
            f"sample_sets/{name}.toml drifted from preset '{name}': run python sample_sets/make_previews.py --sync")


@pytest.mark.parametrize("name", NAMES)
def test_each_sample_set_has_a_small_preview_sheet(name):
    path = SAMPLE_SETS / f"{name}.png"
    assert path.is_file(), f"no preview: run python sample_sets/make_previews.py {name}"
    assert path.stat().st_size < 400_000
    with Image.open(path) as im:
        assert im.size == (4 * 98 + 2, 4 * 98 + 2)
