"""Bad input gets a one-line error naming the problem, never a traceback (issue 11's list): recipes, params,
render versions, images to import or mix, fractal sources, index selections and output paths."""

from __future__ import annotations

import json

import numpy as np
import pytest
from click.testing import CliRunner

import fractalgen as fg
from fractalgen.cli import main
from fractalgen.render import RENDER_VERSION


@pytest.fixture
def run(tmp_path, monkeypatch):
    monkeypatch.chdir(tmp_path)
    runner = CliRunner()
    return lambda *args: runner.invoke(main, [str(a) for a in args])


def one_line_error(res, code: int, *needles: str) -> None:
    assert res.exit_code == code, res.output
    assert not isinstance(res.exception, Exception) or isinstance(res.exception, SystemExit), res.exception
    assert "Traceback" not in res.output
    lines = [ln for ln in res.output.splitlines() if ln.strip()]
    assert len(lines) == 1 and lines[0].startswith("Error: "), res.output
    for needle in needles:
        assert needle in lines[0], lines[0]


# -- recipes


def test_non_utf8_recipe_file(run, tmp_path):
    (tmp_path / "bad.toml").write_bytes(b'family = "ifs"\n# caf\xe9\n')
    one_line_error(run("recipe", "bad.toml"), 2, "bad.toml", "not UTF-8")


def test_an_integer_of_401_digits(run, tmp_path):
    (tmp_path / "big.toml").write_text("size = 1" + "0" * 400 + "\n")
    one_line_error(run("recipe", "big.toml"), 2, "recipe key 'size'", "out of range", "between 8 and 8192")
    with pytest.raises(fg.RecipeError, match="out of range"):
        fg.load_recipe("ifs", size=10**400)
    with pytest.raises(fg.RecipeError, match="recipe key 'ifs.points' = <integer of about 5000 digits> is out"):
        fg.load_recipe("ifs", overrides={"ifs.points": 10**5000})
    with pytest.raises(fg.RecipeError, match="recipe key 'ifs.maps' = <list holding an integer too long"):
        fg.load_recipe("ifs", overrides={"ifs.maps": [2, 10**5000]})


def test_family_weights_whose_sum_overflows(run, tmp_path):
    (tmp_path / "w.toml").write_text("family = {ifs = 1e308, julia = 1e308}\n")
    one_line_error(run("render", "w.toml", "--size", 16, "--out", "x.png"), 2, "recipe key 'family'", "overflows")
    assert not (tmp_path / "x.png").exists()


def test_numpy_integers_are_integers():
    r = fg.load_recipe("ifs", size=np.int64(64), seed=np.uint32(3), overrides={"ifs.points": np.float32(5e4)})
    assert (r.size, r.seed, type(r.size), type(r.seed)) == (64, 3, int, int)
    assert r.to_toml() == fg.load_recipe("ifs", size=64, seed=3, overrides={"ifs.points": 5e4}).to_toml()
    with pytest.raises(fg.RecipeError, match="is not an integer"):
        fg.load_recipe("ifs", size=np.bool_(True))


# -- render versions


def test_params_record_the_render_version_and_newer_ones_are_refused(tmp_path, run):
    params = fg.load_recipe("ifs", size=16).params(0)
    assert params["render_version"] == RENDER_VERSION
    older = {k: v for k, v in params.items() if k != "render_version"}  # params written before versions existed
    np.testing.assert_array_equal(fg.render(older), fg.render(params))
    newer = {**params, "render_version": RENDER_VERSION + 1}
    with pytest.raises(fg.RenderError, match=f"render version {RENDER_VERSION + 1}, newer than"):
        fg.render(newer)
    (tmp_path / "p.json").write_text(json.dumps(newer))
    one_line_error(run("render", "p.json", "--out", "x.png"), 2, "newer than", "upgrade fractalgen")
    assert not (tmp_path / "x.png").exists()


# -- params files


@pytest.mark.parametrize("family", ["ifs", "julia", "mandelbrot"])
@pytest.mark.parametrize("edit, message", [
    (lambda p: p.pop("size"), "params key 'size' is missing"),
    (lambda p: p.update(size=0), "params key 'size' = 0 is out of range"),
    (lambda p: p.update(size=-5), "params key 'size' = -5 is out of range"),
    (lambda p: p.update(size="big"), "params key 'size' = 'big' is not an integer"),
    (lambda p: p.update(size=100000), "params key 'size' = 100000 is out of range"),
    (lambda p: p["background"].update(kind="plaid"), "params key 'background.kind' = 'plaid' is not a known option"),
    (lambda p: p.update(flip=9), "params key 'flip' = 9 is out of range"),
    (lambda p: p.update(family=["ifs"]), "unknown fractal family ['ifs']"),
])
def test_render_of_a_damaged_params_file_names_the_key(run, tmp_path, family, edit, message):
    params = fg.load_recipe(family, size=16).params(0)
    edit(params)
    with pytest.raises(fg.ParamsError, match=message.replace("[", r"\[").replace("]", r"\]")):
        fg.render(params)
    (tmp_path / "p.json").write_text(json.dumps(params))
    one_line_error(run("render", "p.json", "--out", "x.png"), 2, message)
    assert not (tmp_path / "x.png").exists()


@pytest.mark.parametrize("family, key, value, message", [
    ("ifs", "maps", [[0.5, 0, 0, 0.5, 0]], "params key 'maps[0]' = [0.5, 0, 0, 0.5, 0] has 5 entries"),
    ("ifs", "probs", [0.5], "params key 'probs' = [0.5] has 1 entries"),
    ("ifs", "background", {"kind": "flat", "colors": [[2.0, 0, 0]]}, "'background.colors[0][0]' = 2.0 is out of"),
    ("julia", "trap", {"shape": "circle", "stat": "min", "center": [0, 0], "angle": 0}, "'trap.radius' is missing"),
    ("julia", "palette", {"kind": "gradient", "stops": []}, "'palette.stops' = [] has 0 entries"),
    ("mandelbrot", "max_iter", 1.5, "'max_iter' = 1.5 is not an integer"),
    ("mandelbrot", "bailout", float("nan"), "'bailout' = nan is not finite"),
    ("mandelbrot", "span", 0.0, "'span' = 0.0 is out of range"),
])
def test_nested_params_are_checked(family, key, value, message):
    params = {**fg.load_recipe(family, size=16, color=True).params(0), key: value}
    with pytest.raises(fg.ParamsError, match=message.replace("[", r"\[").replace("]", r"\]")):
        fg.render(params)
