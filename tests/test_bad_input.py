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


def test_params_record_the_render_version_and_other_ones_are_refused(tmp_path, run):
    params = fg.load_recipe("ifs", size=16).params(0)
    assert params["render_version"] == RENDER_VERSION == 2
    np.testing.assert_array_equal(fg.render(params), fg.load_recipe("ifs", size=16).image(0))
    older = {k: v for k, v in params.items() if k != "render_version"}  # params written before versions existed
    for old in (older, {**params, "render_version": 1}):
        with pytest.raises(fg.RenderError, match="render version 1; this fractalgen renders version 2 .* use "
                                                 "fractalgen 0.1 for them"):
            fg.render(old)
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
    # kernel keys are 53-bit: a larger one would be rounded, so a re-render would silently use another stream
    ("ifs", "key", 2**53 + 1, "'key' = 9007199254740993 is out of range"),
    ("julia", "background", {"kind": "noise", "colors": [[0, 0, 0], [1, 1, 1]], "cells": 2, "octaves": 3,
                             "persistence": 0.5, "key": 2**60}, "'background.key' = 1152921504606846976 is out"),
])
def test_nested_params_are_checked(family, key, value, message):
    params = {**fg.load_recipe(family, size=16, color=True).params(0), key: value}
    with pytest.raises(fg.ParamsError, match=message.replace("[", r"\[").replace("]", r"\]")):
        fg.render(params)


# -- images to import or mix


def _png(path, array, mode=None):
    from PIL import Image

    Image.fromarray(array, mode).save(path)


def test_import_scales_16_bit_gray_and_float_images(run, tmp_path):
    """PIL's convert clips 16-bit pixels at 255 (a nearly white image) and truncates floats in [0, 1] (black)."""
    ramp = np.linspace(0.0, 1.0, 64 * 64).reshape(64, 64)
    (tmp_path / "wide").mkdir()
    _png(tmp_path / "wide" / "a.png", np.round(ramp * 65535).astype(np.uint16))
    _png(tmp_path / "wide" / "b.tif", ramp.astype(np.float32), "F")
    _png(tmp_path / "wide" / "c.png", np.round(ramp * 255).astype(np.uint8))  # the same picture in 8 bits
    res = run("import", "wide", "st", "--size", 64, "--gray", "-q")
    assert res.exit_code == 0, res.output
    with fg.open_store(tmp_path / "st") as store:
        a, b, c = (store[i][:, :, 0].astype(int) for i in range(3))
    assert np.abs(a - c).max() <= 1 and np.abs(b - c).max() <= 1
    assert c.min() == 0 and c.max() == 255


@pytest.mark.parametrize("array, mode, message", [
    (np.full((16, 16), 2.0, np.float32), "F", "float pixels in [2, 2], not in [0, 1]"),
    (np.full((16, 16), np.nan, np.float32), "F", "float pixels in [nan, nan]"),
    (np.full((16, 16), 70000, np.int32), "I", "32-bit integer pixels in [70000, 70000]"),
])
def test_import_refuses_images_with_no_scale_to_guess(run, tmp_path, array, mode, message):
    (tmp_path / "src").mkdir()
    _png(tmp_path / "src" / "x.tif", array, mode)
    one_line_error(run("import", "src", "st", "--size", 16, "-q"), 2, "'x.tif'", message)


def test_import_refuses_a_broken_symlink_a_fifo_and_an_empty_folder_with_exit_2(run, tmp_path):
    import os

    for name in ("link", "fifo", "empty"):
        (tmp_path / name).mkdir()
    for name in ("link", "fifo"):
        _png(tmp_path / name / "ok.png", np.zeros((16, 16, 3), np.uint8))
    os.symlink("missing.png", tmp_path / "link" / "gone.png")
    os.mkfifo(tmp_path / "fifo" / "pipe.png")  # opening it for reading would block forever
    one_line_error(run("import", "link", "st", "--size", 16, "-q"), 2, "'gone.png'", "broken symbolic link")
    one_line_error(run("import", "fifo", "st", "--size", 16, "-q"), 2, "'pipe.png'", "not a regular file")
    one_line_error(run("import", "empty", "st", "--size", 16, "-q"), 2, "no images")
    assert not (tmp_path / "st").exists() or not any((tmp_path / "st").glob("*.h5"))


def _bomb_png(path):
    """A PNG whose header declares 30000 x 30000 pixels (PIL refuses it as a decompression bomb)."""
    import struct
    import zlib

    def chunk(kind, data):
        return struct.pack(">I", len(data)) + kind + data + struct.pack(">I", zlib.crc32(kind + data) & 0xFFFFFFFF)

    head = struct.pack(">IIBBBBB", 30000, 30000, 8, 2, 0, 0, 0)
    path.write_bytes(b"\x89PNG\r\n\x1a\n" + chunk(b"IHDR", head) + chunk(b"IDAT", zlib.compress(b"\0" * 64))
                     + chunk(b"IEND", b""))


def test_mix_refuses_a_decompression_bomb_and_a_fifo(run, tmp_path):
    import os

    _bomb_png(tmp_path / "bomb.png")
    os.mkfifo(tmp_path / "pipe.png")
    args = ["ifs", "--size", 16, "--fractals", 2, "--n", 1, "--out", "m.png"]
    one_line_error(run("mix", args[0], "bomb.png", *args[1:]), 2, "'bomb.png'", "decompression bomb")
    one_line_error(run("mix", args[0], "pipe.png", *args[1:]), 2, "'pipe.png'", "not a regular file")
    assert not (tmp_path / "m.png").exists()


# -- fractal sources and mask mixing


@pytest.mark.parametrize("kwargs, message", [
    ({"size": 10**6}, "size = 1000000 must be an integer between 1 and 8192"),
    ({"scale": float("inf")}, "scale = inf must be a number between 1 and 16"),
    ({"scale": float("nan")}, "scale = nan must be a number"),
    ({"scale": "x"}, "scale = 'x' must be a number"),
    ({"scale": True}, "scale = True must be a number"),
])
def test_fractal_source_refuses_sizes_and_scales_it_cannot_serve(kwargs, message):
    from fractalgen.mixing import FractalSource

    arr = np.zeros((2, 16, 16, 3), np.uint8)
    with pytest.raises(fg.SettingsError, match=message):
        FractalSource(arr, **{"size": 8, **kwargs}, in_memory=False).sample()


def test_fractal_mask_mix_on_an_empty_image():
    from fractalgen.mixing import FractalMaskMix, FractalSource

    mix = FractalMaskMix(FractalSource(np.zeros((2, 18, 18, 3), np.uint8), 16), seed=0)
    with pytest.raises(fg.ImageInputError, match=r"expected an \(H, W, 3\) image, got shape \(0, 16, 3\)"):
        mix(np.zeros((0, 16, 3), np.uint8))


# -- selections and output files


@pytest.fixture
def small_store(run, tmp_path):
    assert run("generate", "ifs", "st", "--count", 4, "--size", 16, "-q").exit_code == 0
    return tmp_path / "st"


@pytest.mark.parametrize("cmd", [["show", "st", "--out", "s.png"], ["export", "st", "ex"]])
@pytest.mark.parametrize("indices, message", [
    ("9", "index 9 is out of range for a store of 4 images"),
    ("-5", "index -5 is out of range"),
    ("2:2", "2:2 selects no image"),
    ("10:20", "10 is out of range"),
    ("::0", "has step 0"),
])
def test_bad_index_selections_exit_2(run, small_store, cmd, indices, message):
    """Out of range and empty selections exited 1 (a StoreError), a step of 0 raised a ValueError."""
    res = run(*cmd, "--indices", indices)
    errors = [ln for ln in res.output.splitlines() if ln.startswith("Error")]
    assert res.exit_code == 2 and len(errors) == 1 and message in errors[0], res.output
    assert "Traceback" not in res.output and not isinstance(res.exception, (ValueError, IndexError))


def test_a_300_character_file_name(run, small_store, tmp_path):
    long = "x" * 300
    one_line_error(run("render", "ifs", "--size", 16, "--out", f"{long}.png"), 1, "File name too long")
    one_line_error(run("show", "st", "--out", f"{long}.png"), 1, "File name too long")
    one_line_error(run("render", "ifs", "--size", 16, "--out", "a.png", "--params", f"{long}.json"), 1,
                   "File name too long")
    assert not list(tmp_path.glob("x*"))


def test_show_on_a_full_disk_leaves_no_png(run, small_store, tmp_path, monkeypatch):
    """The PNG was written in place: a full disk left a 0-byte or truncated file under the final name."""
    import builtins
    import errno

    import fractalgen.sheet

    class FullDisk:
        def __init__(self, path, mode):
            self.fh = builtins.open(path, mode)

        def write(self, data):
            self.fh.write(data[:10])
            raise OSError(errno.ENOSPC, "No space left on device")

        def __enter__(self):
            return self

        def __exit__(self, *exc):
            self.fh.close()

    (tmp_path / "s.png").write_bytes(b"old sheet")
    monkeypatch.setattr(fractalgen.sheet, "open", FullDisk, raising=False)
    one_line_error(run("show", "st", "--out", "s.png"), 1, "No space left on device")
    assert (tmp_path / "s.png").read_bytes() == b"old sheet"
    assert sorted(p.name for p in tmp_path.iterdir()) == ["s.png", "st"]
