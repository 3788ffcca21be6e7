"""The render / preview / recipe commands, through click's runner: outputs, messages, exit codes."""

from __future__ import annotations

import json

import numpy as np
import pytest
from click.testing import CliRunner
from PIL import Image

import fractalgen as fg
from fractalgen.cli import main


def read_png(path):
    with Image.open(path) as im:
        return im.mode, im.size, np.asarray(im)


@pytest.fixture
def run(tmp_path, monkeypatch):
    monkeypatch.chdir(tmp_path)
    runner = CliRunner()
    return lambda *args: runner.invoke(main, [str(a) for a in args])


def test_render_writes_the_recipes_image(run, tmp_path):
    res = run("render", "ifs", "--seed", 7, "--size", 64, "--index", 3, "--out", "f.png", "--params", "p.json")
    assert res.exit_code == 0, res.output
    got = read_png(tmp_path / "f.png")[2]
    expect = fg.load_recipe("ifs", seed=7, size=64).image(3)
    np.testing.assert_array_equal(got, expect)
    params = json.loads((tmp_path / "p.json").read_text())
    assert params["index"] == 3 and params["seed"] == 7


def test_render_gray_and_rerender_from_params(run, tmp_path):
    assert run("render", "ifs", "--size", 48, "--gray", "--out", "g.png", "--params", "p.json").exit_code == 0
    mode, size, _ = read_png(tmp_path / "g.png")
    assert mode == "L" and size == (48, 48)
    assert run("render", "p.json", "--out", "again.png").exit_code == 0
    assert (tmp_path / "again.png").read_bytes() == (tmp_path / "g.png").read_bytes()


def test_preview_sheet_of_a_toml_recipe(run, tmp_path):
    (tmp_path / "my.toml").write_text('family = "ifs"\nsize = 32\n[ifs]\nmaps = [3, 3]\n')
    res = run("preview", "my.toml", "--n", 6, "--cols", 3, "--no-labels", "--out", "sheets/s.png")
    assert res.exit_code == 0, res.output
    assert read_png(tmp_path / "sheets" / "s.png")[1] == (3 * 34 + 2, 2 * 34 + 2)


@pytest.mark.parametrize("args, needle", [
    (("preview", "nope", "--out", "x.png"), "unknown preset 'nope'"),
    (("render", "ifs", "--set", "ifs.mapz=3", "--out", "x.png"), "unknown recipe key 'ifs.mapz'"),
    (("render", "ifs", "--set", "ifs.alpha_band=[6,5]", "--out", "x.png"), "is inverted"),
    (("render", "missing.toml", "--out", "x.png"), "recipe file 'missing.toml' not found"),
    (("render", "ifs", "--set", "novalue", "--out", "x.png"), "is not KEY=VALUE"),
    (("render", "ifs", "--size", -3, "--out", "x.png"), "-3 is not in the range"),
])
def test_bad_arguments_exit_2_with_one_line_and_no_traceback(run, args, needle):
    res = run(*args)
    assert res.exit_code == 2
    assert needle in res.output
    assert "Traceback" not in res.output
    assert sum(line.startswith("Error:") for line in res.output.splitlines()) == 1
    assert not isinstance(res.exception, Exception) or isinstance(res.exception, SystemExit)


def test_unsatisfiable_gate_exits_1_with_the_reason(run):
    res = run("render", "ifs", "--size", 32, "--set", "ifs.gate.fill=[0.99,1]", "--set", "max_draws=2", "--out", "x.png")
    assert res.exit_code == 1
    assert "none of 2 draws passed" in res.output and "Traceback" not in res.output


def test_unwritable_output_is_a_one_line_error(run, tmp_path):
    (tmp_path / "file").write_text("")
    res = run("render", "ifs", "--size", 32, "--out", "file/x.png")
    assert res.exit_code == 1 and "cannot write 'file/x.png'" in res.output


def test_recipe_lists_presets_and_prints_a_loadable_recipe(run, tmp_path):
    res = run("recipe")
    assert "ifs-colour" in res.output and "ifs-gray" in res.output
    res = run("recipe", "ifs-gray", "--size", 100)
    assert res.exit_code == 0
    (tmp_path / "r.toml").write_text(res.output)
    assert fg.load_recipe(tmp_path / "r.toml") == fg.load_recipe("ifs-gray", size=100)
    assert "ifs.gate.fill" in run("recipe", "--keys").output


def test_render_escape_time_families_with_a_trap(run, tmp_path):
    res = run("render", "mandelbrot", "--seed", 3, "--size", 48, "--trap", "cross", "--out", "m.png",
              "--params", "m.json")
    assert res.exit_code == 0, res.output
    params = json.loads((tmp_path / "m.json").read_text())
    assert params["family"] == "mandelbrot" and params["trap"]["shape"] == "cross"
    expect = fg.load_recipe("mandelbrot", seed=3, size=48, overrides={"mandelbrot.trap": ["cross"]}).image(0)
    np.testing.assert_array_equal(read_png(tmp_path / "m.png")[2], expect)
    assert run("render", "julia", "--seed", 3, "--size", 48, "--out", "j.png").exit_code == 0


def test_preview_gray_sheet_of_an_escape_preset(run, tmp_path):
    res = run("preview", "julia-traps", "-n", 4, "--size", 32, "--gray", "--trap", "circle", "--no-labels",
              "-o", "s.png")
    assert res.exit_code == 0, res.output
    mode, size, _ = read_png(tmp_path / "s.png")
    assert mode == "L" and size == (2 * 34 + 2, 2 * 34 + 2)


def test_bad_trap_is_a_usage_error(run):
    res = run("render", "julia", "--trap", "star", "--out", "x.png")
    assert res.exit_code == 2 and "Invalid value for '--trap'" in res.output and "Traceback" not in res.output


@pytest.mark.parametrize("params_path, code, needle", [
    ("file/p.json", 1, "cannot write 'file/p.json'"),     # its folder is a file
    ("x" * 300 + ".json", 1, "File name too long"),
    ("x.png", 2, "is also the image's --out"),
])
def test_a_params_file_that_cannot_be_written_leaves_no_png(run, tmp_path, params_path, code, needle):
    """`render ... --params BAD` wrote the PNG, then failed on the params file, leaving an image without the
    parameters asked for: both are written, or neither."""
    (tmp_path / "file").write_text("")
    res = run("render", "ifs", "--size", 16, "--out", "x.png", "--params", params_path)
    assert res.exit_code == code and needle in res.output and "Traceback" not in res.output, res.output
    assert sorted(p.name for p in tmp_path.iterdir()) == ["file"]


def test_render_writes_the_png_and_its_params_together(run, tmp_path):
    res = run("render", "julia", "--size", 16, "--out", "sub/x.png", "--params", "sub/x.json")
    assert res.exit_code == 0, res.output
    params = json.loads((tmp_path / "sub" / "x.json").read_text())
    with Image.open(tmp_path / "sub" / "x.png") as im:
        assert (np.asarray(im) == fg.render(params)).all()
    assert sorted(p.name for p in (tmp_path / "sub").iterdir()) == ["x.json", "x.png"]
