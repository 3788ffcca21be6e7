"""Every override reaches the recipe: ``--set size=32`` / ``seed=5`` / ``color=false`` on each command that reads a
recipe (generate, render, preview, recipe, mix), a bad ``--set`` value is refused, and a key given twice with two
values is an error rather than a silent pick (issue 11, silently wrong item 1)."""

from __future__ import annotations

import numpy as np
import pytest
from click.testing import CliRunner
from PIL import Image

import fractalgen as fg
from fractalgen.cli import main

SETS = ["--set", "size=32", "--set", "seed=5", "--set", "color=false"]


@pytest.fixture
def run(tmp_path, monkeypatch):
    monkeypatch.chdir(tmp_path)
    runner = CliRunner()
    return lambda *args: runner.invoke(main, [str(a) for a in args])


def png(path):
    with Image.open(path) as im:
        return np.asarray(im)


def test_recipe_prints_the_set_values(run):
    res = run("recipe", "ifs", *SETS)
    assert res.exit_code == 0, res.output
    assert "size = 32\nseed = 5\ncolor = false\n" in res.output


def test_render_uses_the_set_values(run, tmp_path):
    res = run("render", "ifs", *SETS, "--index", 2, "--out", "a.png")
    assert res.exit_code == 0, res.output
    expect = fg.load_recipe("ifs", size=32, seed=5, color=False).image(2)[:, :, 0]
    np.testing.assert_array_equal(png(tmp_path / "a.png"), expect)


def test_preview_uses_the_set_values(run):
    res = run("preview", "ifs", *SETS, "--n", 1, "--out", "p.png")
    assert res.exit_code == 0, res.output
    assert "(32px, seed 5)" in res.output


def test_generate_uses_the_set_values(run, tmp_path):
    res = run("generate", "ifs", "st", "--count", 2, *SETS, "-q")
    assert res.exit_code == 0, res.output
    with fg.open_store(tmp_path / "st") as store:
        assert store.shape == (32, 32, 1)
        assert store.recipe.seed == 5
        np.testing.assert_array_equal(store[1], fg.load_recipe("ifs", size=32, seed=5, color=False).image(1))


def test_mix_renders_a_recipe_file_with_its_own_seed(run, tmp_path):
    """`mix` used its --seed default (0) as the recipe's seed, hiding the file's `seed = 5`."""
    for seed in (0, 5):
        (tmp_path / f"r{seed}.toml").write_text(f'family = "ifs"\nseed = {seed}\n')
    Image.fromarray(np.full((16, 16, 3), 90, np.uint8)).save(tmp_path / "in.png")
    sheets = []
    for seed in (0, 5):
        res = run("mix", f"r{seed}.toml", "in.png", "--method", "fractalmaskmix", "--size", 16, "--fractals", 2, "--n", 4,
                  "--out", f"m{seed}.png")
        assert res.exit_code == 0, res.output
        sheets.append(png(tmp_path / f"m{seed}.png"))
    assert not np.array_equal(*sheets)
    src = fg.mixing.FractalSource.from_name(str(tmp_path / "r5.toml"), 16, n=2)
    np.testing.assert_array_equal(src._data[1], fg.load_recipe("ifs", seed=5, size=18).image(1))


@pytest.mark.parametrize("args, message", [
    (["--set", "size=nonsense"], "recipe key 'size' = 'nonsense' is not an integer"),
    (["--set", "size=4"], "recipe key 'size' = 4 is out of range"),
    (["--set", "color=maybe"], "recipe key 'color' = 'maybe' is not a boolean"),
    (["--set", "size=32", "--size", "64"], "recipe key 'size' is given twice, as 32 and 64"),
    (["--set", "color=true", "--gray"], "recipe key 'color' is given twice"),
])
def test_bad_or_conflicting_overrides_exit_2_with_one_line(run, args, message):
    for cmd in (["recipe", "ifs"], ["render", "ifs", "--out", "x.png"], ["generate", "ifs", "st", "-n", 2, "-q"]):
        res = run(*cmd, *args)
        assert res.exit_code == 2, (cmd, res.output)
        assert message in res.output and "Traceback" not in res.output
        assert len(res.output.strip().splitlines()) == 1


def test_same_value_twice_is_fine_and_api_keywords_meet_overrides():
    assert fg.load_recipe("ifs", overrides={"size": 32}, size=32).size == 32
    assert fg.load_recipe("ifs", overrides={"seed": 5}, seed=None).seed == 5
    with pytest.raises(fg.RecipeError, match="given twice"):
        fg.load_recipe("ifs", overrides={"seed": 5}, seed=6)
