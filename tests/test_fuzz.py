"""Property-based fuzzing of everything a user can hand fractalgen: recipes (as data and as TOML bytes), params
dicts, and command lines. The properties: the input is accepted, or it is refused with the library's own error
class (a one-line message naming what is wrong); the command line exits 0 or 2 with one ``Error:`` line and no
traceback; and nothing half-written is left behind (no temporary files, no unreadable PNG, no store without
its manifest).

Runs are derandomized (the same examples on every run and machine, so CI is stable) and bounded; hypothesis's
example database is off, so nothing is written next to the tests.
"""

from __future__ import annotations

import copy
import json
import math
import tempfile
from pathlib import Path

import numpy as np
import pytest
from click.testing import CliRunner
from hypothesis import HealthCheck, given, settings
from hypothesis import strategies as st
from PIL import Image

import fractalgen as fg
from fractalgen.cli import main
from fractalgen.recipe import recipe_keys

FUZZ = settings(deadline=None, derandomize=True, database=None, print_blob=False,
                suppress_health_check=[HealthCheck.too_slow, HealthCheck.filter_too_much,
                                       HealthCheck.data_too_large, HealthCheck.function_scoped_fixture])


def fuzz(examples: int) -> settings:
    return settings(FUZZ, max_examples=examples)

KEYS = [key for key, *_ in recipe_keys()]
WORDS = ["ifs", "julia", "mandelbrot", "log", "map", "hue", "power", "black", "noise", "circle", "min", "x", ""]

# Scalars that probe every edge the readers have: huge and negative integers, numpy scalars, non-finite floats,
# booleans where numbers belong, option names where numbers belong, and None.
SCALARS = st.one_of(
    st.none(), st.booleans(),
    st.integers(-2**70, 2**70), st.sampled_from([0, 1, -1, 2, 8, 16, 64, 10**400, -(10**30)]),
    st.floats(allow_nan=True, allow_infinity=True), st.sampled_from([0.0, -0.5, 0.5, 1.5, 1e-320, 1e308]),
    st.sampled_from(WORDS), st.text(max_size=6),
    st.sampled_from([np.int64(64), np.float32(0.5), np.bool_(True), np.uint8(3)]),
)
VALUES = st.recursive(SCALARS, lambda inner: st.lists(inner, max_size=4)
                      | st.dictionaries(st.sampled_from(WORDS), inner, max_size=3), max_leaves=8)


def one_line(err: Exception) -> str:
    text = str(err)
    assert text and "\n" not in text and len(text) < 600, text
    return text


# -- recipes


@fuzz(150)
@given(st.dictionaries(st.sampled_from(KEYS + ["bogus", "ifs.bogus", "julia.gate.bogus"]), VALUES, max_size=4))
def test_any_override_gives_a_recipe_or_a_recipe_error(overrides):
    try:
        recipe = fg.load_recipe("ipmix-like", overrides=overrides)
    except fg.RecipeError as err:
        assert "recipe" in one_line(err) or "override" in one_line(err)
        return
    again = fg.load_recipe(_as_toml_file(recipe.to_toml()))  # what it prints, it reads back
    assert again.to_dict() == recipe.to_dict() and again.hash == recipe.hash


@fuzz(150)
@given(st.dictionaries(st.sampled_from(["family", "size", "seed", "color", "max_draws", "ifs", "julia",
                                        "mandelbrot", "zzz"]), VALUES, max_size=5))
def test_any_table_gives_a_recipe_or_a_recipe_error(table):
    try:
        fg.load_recipe(table)
    except fg.RecipeError as err:
        one_line(err)


def _as_toml_file(text: str | bytes) -> str:
    fh = tempfile.NamedTemporaryFile("wb", suffix=".toml", delete=False)
    with fh:
        fh.write(text.encode() if isinstance(text, str) else text)
    return fh.name


TOML_LINES = st.sampled_from(['family = "ifs"', "size = 32", "size = 1" + "0" * 400, "seed = -1", "[ifs]",
                              "maps = [3, 2]", "color = false", "family = {ifs = 1e308, julia = 1e308}",
                              "[julia.gate]", "edges = [0.1, 0.2]", "points = nan", "x = 1", "[ifs"])


@fuzz(150)
@given(st.lists(st.one_of(TOML_LINES, st.binary(max_size=12).map(lambda b: b.decode("latin-1"))), max_size=6),
       st.binary(max_size=4))
def test_any_recipe_file_gives_a_recipe_or_a_recipe_error(lines, tail):
    path = _as_toml_file("\n".join(lines).encode("utf-8", "surrogatepass") + tail)
    try:
        fg.load_recipe(path)
    except fg.RecipeError as err:
        assert path in one_line(err) or "recipe key" in str(err) or "unknown recipe key" in str(err)
    finally:
        Path(path).unlink()


# -- params


GOLDEN = json.loads((Path(__file__).parent / "golden" / "renders.json").read_text())["cases"]
SAMPLES = [c["params"] for c in GOLDEN if c["size"] <= 32]
# Small numbers only: a params value inside its range must stay cheap to render (a size of 8192 is valid).
PARAM_VALUES = st.recursive(
    st.one_of(st.none(), st.booleans(), st.sampled_from([-1, 0, 1, 2, 3, 7, 9, 16, 10**30, -(2**70), np.int64(2)]),
              st.sampled_from([math.nan, math.inf, -math.inf, 0.0, -0.5, 0.5, 1.5, 1e300, 1e-300]),
              st.sampled_from(WORDS + ["gradient", "cosine", "smooth-trap", "trap"])),
    lambda inner: st.lists(inner, max_size=4) | st.dictionaries(st.sampled_from(WORDS + ["kind"]), inner,
                                                                  max_size=2),
    max_leaves=6)


def _paths(node, prefix=()):
    """Every path (tuple of keys / list indices) inside a params dict."""
    items = node.items() if isinstance(node, dict) else enumerate(node) if isinstance(node, list) else ()
    for key, value in items:
        yield prefix + (key,)
        yield from _paths(value, prefix + (key,))


@st.composite
def damaged_params(draw):
    params = copy.deepcopy(draw(st.sampled_from(SAMPLES)))
    for _ in range(draw(st.integers(1, 3))):
        paths = [p for p in _paths(params) if p[0] not in ("seed", "index", "draws", "family", "render_version")]
        path = draw(st.sampled_from(paths))
        parent = params
        for key in path[:-1]:
            parent = parent[key]
        old = parent[path[-1]]
        how = draw(st.sampled_from(["delete", "replace", "scale"]))
        if how == "delete" and isinstance(parent, dict):
            del parent[path[-1]]
        elif how == "scale" and isinstance(old, (int, float)) and not isinstance(old, bool):
            # a value of the right type, moved within or past its range: the kernels must cope or be protected
            factors = [-1, 0, 2] if isinstance(old, int) else [-1.0, 0.0, 1e-9, 0.5, 2.0, 10.0]
            parent[path[-1]] = old * draw(st.sampled_from(factors))
        else:
            parent[path[-1]] = draw(PARAM_VALUES)
    return params


@fuzz(200)
@given(damaged_params())
def test_damaged_params_render_or_raise_a_params_error(params):
    try:
        img = fg.render(params)
    except fg.ParamsError as err:
        assert "params key" in one_line(err)
        return
    assert img.dtype == np.uint8 and img.shape == (params["size"], params["size"], 3 if params["color"] else 1)


# -- command lines


OPTION_VALUES = st.one_of(st.sampled_from(["0", "-5", "8", "16", "big", "1" + "0" * 30, "", "::0", "3:2", "1,2",
                                           "5:5", "-1", "nan", "x" * 300]), st.text(max_size=5))
SET_VALUES = st.builds(lambda k, v: f"{k}={v}", st.sampled_from(["size", "seed", "color", "family", "ifs.maps",
                                                                 "ifs.points", "julia.trap", "bogus", "ifs"]),
                       st.sampled_from(["32", "nonsense", "false", "-1", "1e400", "[3, 2]", "{ifs = 1}", "", "[",
                                        '"julia"', "0x10"]))


@st.composite
def command_lines(draw):
    cmd = draw(st.sampled_from(["recipe", "render", "preview", "show", "export", "info", "verify"]))
    if cmd in ("recipe", "render", "preview"):
        args = [cmd, draw(st.sampled_from(["ifs", "julia", "mandelbrot", "nope", "ifs-gray", "p.json"]))]
        args += ["--size", draw(st.sampled_from(["16", "8", "7", "big", "99999"]))]
        for value in draw(st.lists(SET_VALUES, max_size=2)):
            args += ["--set", value]
        if draw(st.booleans()):
            args += [draw(st.sampled_from(["--seed", "--index", "--n", "--start", "--cols"])), draw(OPTION_VALUES)]
        if cmd != "recipe":
            args += ["--out", draw(st.sampled_from(["o.png", "sub/o.png", "x" * 300 + ".png"]))]
            if cmd == "preview":
                args += ["--n", "2"]
    else:
        args = [cmd, draw(st.sampled_from(["st", "missing", "p.json"]))]
        if cmd == "show":
            args += ["--out", "s.png", "--n", "2"]
        if cmd == "export":
            args += ["ex"]
        if cmd in ("show", "export"):
            args += [draw(st.sampled_from(["--indices", "--n", "--tile", "--seed"])), draw(OPTION_VALUES)]
    return args


@pytest.fixture(scope="module")
def workdir(tmp_path_factory):
    """A folder holding a tiny store ``st`` and a params file ``p.json``; each example runs in a copy-free way:
    commands only write new files, which the test removes after checking them."""
    root = tmp_path_factory.mktemp("cli-fuzz")
    res = CliRunner().invoke(main, ["generate", "ifs", str(root / "st"), "--count", "3", "--size", "16", "-q",
                                    "--workers", "1"])
    assert res.exit_code == 0, res.output
    (root / "p.json").write_text(json.dumps(fg.load_recipe("julia", size=16).params(1)))
    return root


def _listing(root: Path) -> set[Path]:
    return {p.relative_to(root) for p in root.rglob("*")}


@fuzz(120)
@given(args=command_lines())
def test_any_command_line_exits_0_or_2_with_one_error_line(workdir, monkeypatch, args):
    monkeypatch.chdir(workdir)
    before = _listing(workdir)
    res = CliRunner().invoke(main, args)
    assert res.exception is None or isinstance(res.exception, SystemExit), (args, res.exception)
    assert "Traceback" not in res.output, args
    errors = [ln for ln in res.output.splitlines() if ln.startswith("Error")]
    if res.exit_code == 0:
        assert not errors
    else:
        # exit 1 (a failure) where the OS refuses a file name or no draw of an image passes its quality gate (tiny
        # escape-time images fail it often); every other refusal (a store path holding no store included) is bad
        # input, exit 2
        failure = any(len(a) > 255 for a in args) or "quality gate" in res.output
        assert res.exit_code in ((1, 2) if failure else (2,)), (args, res.output)
        assert len(errors) == 1 and len(errors[0]) < 600, (args, res.output)
    new = _listing(workdir) - before
    try:
        for rel in new:  # nothing half-written: no temporaries, every PNG whole
            path = workdir / rel
            assert not rel.name.endswith(".tmp"), (args, rel)
            if path.is_file() and path.suffix == ".png":
                with Image.open(path) as im:
                    im.load()
    finally:
        for rel in sorted(new, key=lambda r: len(r.parts), reverse=True):
            path = workdir / rel
            path.rmdir() if path.is_dir() else path.unlink()
