"""Escape-time samplers (render version 2: every number drawn inside the kernel from the stream of (seed, index,
draw)): Julia constants near the boundary, the zoom search, traps and palettes, the statistics of the drawn
choices; batches against one-by-one rendering; params checks; presets and recipe errors."""

from __future__ import annotations

import dataclasses
import json
import math
from pathlib import Path

import numpy as np
import pytest

import fractalgen as fg
from fractalgen.errors import ParamsError, RecipeError, RenderError
from fractalgen.render import color as C
from fractalgen.render import escape as E
from fractalgen.render import escape_sampler as S
from fractalgen.render.families import RENDER_VERSION
from fractalgen.render.quality import Rejected

JULIA = S.JuliaConfig()
MANDELBROT = S.MandelbrotConfig()
#: Chi-square 0.999 quantiles by degrees of freedom: a fair sampler fails one test in a thousand.
CHI2_999 = {1: 10.83, 2: 13.82, 3: 16.27, 4: 18.47, 5: 20.52, 6: 22.46, 7: 24.32}


def draws(cfg, n, seed=0, size=32, color=True, start=0):
    return [S.sample(cfg, size, color, seed, i) for i in range(start, start + n)]


def assert_uniform(values, options):
    counts = np.array([values.count(o) for o in options])
    expect = len(values) / len(options)
    assert ((counts - expect) ** 2 / expect).sum() < CHI2_999[len(options) - 1], dict(zip(options, counts))


# -- Julia constants ------------------------------------------------------------------------------------------


@pytest.mark.parametrize("degree", [2, 3, 4, 5, 6])
def test_boundary_constants_have_a_fixed_point_of_multiplier_one(degree):
    cfg = dataclasses.replace(JULIA, c_method=("boundary",), jitter=0.0, degree=(degree, degree), depth=(0, 0))
    angles = []
    for p in draws(cfg, 60):
        c = complex(*p["c"])
        if degree == 2 and abs(abs(c + 1) - 0.25) < 1e-12:
            continue  # on the period-2 disk
        # z^d - z + c = 0 has a root with |d z^(d-1)| = 1: c is on the boundary of the main component
        roots = np.roots([1.0] + [0.0] * (degree - 2) + [-1.0, c])
        assert np.abs(np.abs(degree * roots ** (degree - 1)) - 1.0).min() < 1e-9
        angles.append(math.atan2(c.imag, c.real))
    assert np.histogram(angles, bins=4, range=(-math.pi, math.pi))[0].min() > 0  # all around the component


def test_degree_two_uses_both_the_cardioid_and_the_period_two_disk():
    cfg = dataclasses.replace(JULIA, c_method=("boundary",), jitter=0.0, depth=(0, 0))
    on_disk = [abs(abs(complex(*p["c"]) + 1) - 0.25) < 1e-12 for p in draws(cfg, 300)]
    assert 0.25 < np.mean(on_disk) < 0.42  # one third expected


def test_jitter_moves_c_radially_within_its_band():
    plain = dataclasses.replace(JULIA, c_method=("boundary",), jitter=0.0, degree=(3, 3), depth=(0, 0))
    jittered = dataclasses.replace(plain, jitter=0.05)
    # the same stream with and without jitter: the jittered c is the plain one scaled about the centre 0
    ratios = np.array([complex(*b["c"]) / complex(*a["c"]) for a, b in zip(draws(plain, 200), draws(jittered, 200))])
    np.testing.assert_allclose(ratios.imag, 0.0, atol=1e-12)
    assert 0.95 - 1e-12 <= ratios.real.min() and ratios.real.max() <= 1.05 + 1e-12
    assert ratios.real.std() > 0.02


@pytest.mark.parametrize("formula, degree", [("power", 2), ("power", 4), ("burning-ship", 2), ("tricorn", 3)])
def test_band_constants_escape_within_the_band(formula, degree):
    cfg = dataclasses.replace(JULIA, c_method=("band",), formula=(formula,), degree=(degree, degree), depth=(0, 0))
    for p in draws(cfg, 20):
        nu = E.escape_points(np.array([p["c"]]), formula, degree, 101)[0]
        assert 10.0 <= nu <= 100.0


def test_other_formulas_always_use_the_band_method():
    cfg = dataclasses.replace(JULIA, c_method=("boundary",), formula=("burning-ship",), depth=(0, 0))
    for p in draws(cfg, 20):
        assert 10.0 <= E.escape_points(np.array([p["c"]]), "burning-ship", 2, 101)[0] <= 100.0


# -- the zoom search ------------------------------------------------------------------------------------------


def test_boundary_cells_are_late_escaping_cells_next_to_change():
    nu = np.tile(np.linspace(1.0, 8.0, 16), (16, 1))
    nu[:, 12:] = -1.0  # a bounded block on the right
    cells = S.boundary_cells(nu, max_iter=100)
    rows, cols = np.divmod(cells, 16)
    assert cells.size == S.COARSE_PICK and (cols == 11).all()  # the escaping column touching the block
    assert S.boundary_cells(np.full((16, 16), -1.0), 100).size == 0
    assert S.boundary_cells(np.full((16, 16), 3.0), 100).size == 0


def test_zoom_stops_above_the_smallest_span_and_raises_max_iter():
    cfg = S.MandelbrotConfig(depth=(40, 40), zoom=(16.0, 16.0), min_span=1e-9)
    for p in draws(cfg, 4):
        assert 1e-9 <= p["span"] < 16e-9
        assert p["max_iter"] == S.iterations(cfg.max_iter, cfg.iter_per_decade, 3.0 / p["span"]) > cfg.max_iter


def test_zoom_depth_is_uniform_in_its_range():
    depths = [p["depth"] for p in draws(JULIA, 400)]
    assert_uniform(depths, [0, 1, 2, 3])
    spans = {d: [p["span"] for p in draws(JULIA, 400) if p["depth"] == d] for d in (0, 3)}
    assert set(spans[0]) == {JULIA.span}
    assert all(JULIA.span / 5.0**3 <= s <= JULIA.span / 1.5**3 for s in spans[3])


def test_zoomed_windows_hold_the_boundary():
    near = 0
    for p in draws(MANDELBROT, 30):
        nu, _ = E.escape_grid({"family": "mandelbrot", **p}, 32)
        assert 1 <= p["depth"] <= 5
        near += (nu < 0).any() or nu.max() > 0.25 * p["max_iter"]
    assert near >= 27


# -- the drawn choices ------------------------------------------------------------------------------------------


def test_formulas_degrees_and_choices_follow_their_settings():
    cfg = dataclasses.replace(MANDELBROT, formula=E.FORMULAS, degree=(2, 6), trap_stat=E.STATS, depth=(0, 1),
                              background=C.BACKGROUNDS)
    ps = draws(cfg, 500, size=16)
    assert_uniform([p["formula"] for p in ps], list(E.FORMULAS))
    assert_uniform([p["degree"] for p in ps], [2, 3, 4, 5, 6])
    for key, options in (("coloring", E.COLORINGS), ("transfer", E.TRANSFERS)):
        assert_uniform([p[key] for p in ps], list(options))
    assert_uniform([p["trap"]["stat"] for p in ps], list(E.STATS))
    assert_uniform([p["palette"]["kind"] for p in ps], list(E.PALETTES))
    assert_uniform([p["background"]["kind"] for p in ps], list(C.BACKGROUNDS))
    assert_uniform([p["flip"] for p in ps], list(range(8)))
    assert all(cfg.density[0] <= p["density"] <= cfg.density[1] and 0.0 <= p["offset"] < 1.0 for p in ps)


def test_trap_shapes_are_uniform():
    assert_uniform([p["trap"]["shape"] for p in draws(JULIA, 600, size=16)], list(E.TRAPS))


def test_settings_with_one_option_and_switches_are_honoured():
    cfg = dataclasses.replace(JULIA, coloring=("smooth",), palette=("gradient",), rotate=False, flip=False,
                              trap=("cross",), transfer=("log",))
    for p in draws(cfg, 30):
        assert (p["coloring"], p["palette"]["kind"], p["angle"], p["flip"]) == ("smooth", "gradient", 0.0, 0)
        assert (p["trap"]["shape"], p["transfer"]) == ("cross", "log")


def test_traps_are_drawn_inside_their_bands():
    cfg = S.JuliaConfig(trap_offset=0.7, trap_radius=(0.2, 0.3), depth=(0, 0))
    traps = [p["trap"] for p in draws(cfg, 600)]
    assert max(math.hypot(*t["center"]) for t in traps) <= 0.7
    assert all(0.2 <= t["radius"] <= 0.3 and 0.0 <= t["angle"] < math.pi for t in traps)
    # uniform in the disk: a quarter of the centres within half the radius
    assert 0.2 < np.mean([math.hypot(*t["center"]) < 0.35 for t in traps]) < 0.3


def test_palettes_have_their_stated_shapes():
    for p in draws(dataclasses.replace(JULIA, depth=(0, 0)), 100):
        pal = p["palette"]
        lut = E.palette_lut(pal)
        assert lut.shape == (256, 3) and 0.0 <= lut.min() and lut.max() <= 1.0
        if pal["kind"] == "gradient":
            assert 3 <= len(pal["stops"]) <= 6 and max(max(stop) for stop in pal["stops"]) >= 0.85
        else:
            a, b, c, d = np.array(pal["abcd"])
            assert (0.3 <= a).all() and (a <= 0.7).all() and (0.25 <= b).all() and (b <= 0.5).all()
            assert (0.5 <= c).all() and (c <= 1.5).all() and (0.0 <= d).all() and (d < 1.0).all()


def test_draws_are_pure_functions_of_seed_index_and_draw():
    a = S.sample(JULIA, 64, True, 3, 7, 0)
    assert a == S.sample(JULIA, 64, True, 3, 7, 0)
    others = [S.sample(JULIA, 64, True, *key) for key in ((3, 8, 0), (3, 7, 1), (4, 7, 0), (7, 3, 0))]
    assert all(o != a and o["c"] != a["c"] for o in others)


def test_params_are_small_plain_json():
    for cfg in (JULIA, MANDELBROT):
        for p in draws(cfg, 10, size=256):
            text = json.dumps(p)
            assert json.loads(text) == p and len(text) < 1500


def test_vectors_round_trip_through_params():
    for cfg in (JULIA, MANDELBROT):
        for p in draws(dataclasses.replace(cfg, palette=("gradient", "cosine"), background=("noise", "gradient")),
                       20):
            v = E.encode(p)
            assert {"family": p["family"], **E.decode(v)} == p
            np.testing.assert_array_equal(E.encode({"family": p["family"], **E.decode(v)}), v)


# -- batches ----------------------------------------------------------------------------------------------------


def mixed_recipe(**kw):
    return fg.load_recipe("ipmix-like", size=24, seed=3, max_draws=50, **kw)


def test_a_batch_gives_each_image_what_one_by_one_rendering_gives():
    rec = fg.load_recipe("julia-traps", size=24, seed=1, max_draws=50)
    batch, params = rec.draw_many(range(12))
    assert max(p["draws"] for p in params) > 1  # an index that needed redraws is in the batch
    for i in range(12):
        img, p = rec.draw(i)
        assert p == params[i] and img.tobytes() == batch[i].tobytes()
        assert fg.render(json.loads(json.dumps(p))).tobytes() == batch[i].tobytes()


def test_batches_do_not_depend_on_order_or_company():
    for name in ("julia-traps", "mandelbrot-traps"):
        rec = fg.load_recipe(name, size=20, seed=4)
        whole = rec.images(range(10))
        backwards = rec.images(list(range(9, -1, -1)))
        np.testing.assert_array_equal(whole, backwards[::-1])
        np.testing.assert_array_equal(whole[[2, 5, 7]], rec.images([7, 2, 5])[[1, 2, 0]])
        np.testing.assert_array_equal(whole[[3]], rec.images([1000, 3, 2000])[[1]])


def test_mixed_families_batch_as_one_by_one():
    rec = mixed_recipe()
    batch = rec.images(range(9))
    assert {rec.pick_family(i) for i in range(9)} >= {"julia", "mandelbrot"}
    for i in range(9):
        assert rec.image(i).tobytes() == batch[i].tobytes()


@pytest.mark.parametrize("overrides, top", [
    ({}, {}), ({"supersample": 2}, {}), ({}, {"color": False}),
    ({"background": ["flat", "gradient", "noise"], "palette": ["gradient"]}, {}),
])
def test_render_params_is_the_batch_image(overrides, top):
    for family in ("julia", "mandelbrot"):
        rec = fg.load_recipe(f"{family}-traps", size=20, seed=2, max_draws=100,
                             overrides={f"{family}.{k}": v for k, v in overrides.items()}, **top)
        batch, params = rec.draw_many(range(5))
        for img, p in zip(batch, params):
            assert fg.render(json.loads(json.dumps(p))).tobytes() == img.tobytes()


def test_check_params_accepts_every_sampled_params_dict():
    """A fuzz over formulas, degrees, colourings, palettes, backgrounds, grayscale and supersampling."""
    for family in ("julia", "mandelbrot"):
        cfg = dataclasses.replace(fg.load_recipe(family).sections[family], formula=E.FORMULAS, degree=(2, 6),
                                  trap_stat=E.STATS, background=C.BACKGROUNDS, depth=(0, 2))
        for i in range(150):
            size, color = (8, 40, 100)[i % 3], i % 4 != 0
            p = {"family": family, **S.sample(dataclasses.replace(cfg, supersample=1 + i % 2), size, color, 5, i),
                 "render_version": RENDER_VERSION}
            E.check_params(p)


@pytest.mark.parametrize("key, value, needle", [
    ("degree", 7, "'degree' = 7 is out of range"),
    ("formula", "mandelbar", "'formula' = 'mandelbar' is not a known option"),
    ("trap", {"shape": "star"}, "'trap.shape' = 'star' is not a known option"),
    ("palette", {"kind": "cosine", "abcd": [[0, 0, 0]] * 3}, "'palette.abcd' = "),
    ("palette", {"kind": "gradient", "stops": [[0, 0, 2]]}, "'palette.stops[0][2]' = 2 is out of range"),
    ("span", 0.0, "'span' = 0.0 is out of range"),
    ("c", None, "'c' = None is not a list"),
    ("flip", 8, "'flip' = 8 is out of range"),
    ("background", {"kind": "noise", "colors": [[0, 0, 0]] * 2}, "'background.cells' is missing"),
])
def test_check_params_refuses_bad_params_naming_the_key(key, value, needle):
    _, p = fg.load_recipe("julia-traps", size=16, seed=0).draw(0)
    p[key] = value
    with pytest.raises(ParamsError) as err:
        fg.render(p)
    assert needle in str(err.value) and "\n" not in str(err.value)


def test_an_impossible_gate_fails_with_the_reason():
    rec = fg.load_recipe("julia-traps", size=16, seed=0, max_draws=1, overrides={"julia.gate.min_entropy": 8.0})
    with pytest.raises(RenderError) as err:
        rec.image(4)
    msg = str(err.value)
    assert "image 4" in msg and "none of 1 draws passed the julia quality gate" in msg
    assert "entropy" in msg and "below 8.0" in msg and "\n" not in msg
    with pytest.raises(Rejected, match="entropy .* below 8.0"):
        E.render_escape(fg.load_recipe("julia-traps", size=16, seed=0).params(4), gate=rec.julia.gate)


# -- recipes --------------------------------------------------------------------------------------------------


def test_presets_load_with_their_families():
    assert fg.load_recipe("julia-traps").family == {"julia": 1.0}
    assert fg.load_recipe("mandelbrot-traps").family == {"mandelbrot": 1.0}
    mixed = fg.load_recipe("ipmix-like")
    assert set(mixed.family) == {"julia", "mandelbrot", "ifs"}
    picks = [mixed.pick_family(i) for i in range(900)]
    for name in ("julia", "mandelbrot", "ifs"):
        assert abs(picks.count(name) / 900 - 1 / 3) < 0.06


def test_mixed_weights_are_configurable():
    rec = fg.load_recipe("ipmix-like", overrides={"family": {"julia": 3.0, "ifs": 1.0}})
    picks = [rec.pick_family(i) for i in range(800)]
    assert "mandelbrot" not in picks and abs(picks.count("julia") / 800 - 0.75) < 0.06


def test_family_defaults_differ_where_they_should():
    assert fg.load_recipe("mandelbrot").mandelbrot.depth == (1, 5)
    julia = fg.load_recipe("julia").julia
    assert julia.depth == (0, 3) and julia.trap_stat == ("min",) and julia.gate.interior == (0.0, 0.9)


@pytest.mark.parametrize("text, needle", [
    ('[julia]\ntrap = ["star"]\n', "'julia.trap' = ['star'] names an unknown option 'star'"),
    ('[mandelbrot]\ndegree = [2, 9]\n', "'mandelbrot.degree' = [2, 9] is out of range"),
    ('[julia]\nformula = "mandelbar"\n', "'julia.formula' = 'mandelbar' names an unknown option"),
    ('[julia.gate]\ninterior = [0.9, 0.1]\n', "'julia.gate.interior' = [0.9, 0.1] is inverted"),
    ('[mandelbrot]\nzoom = [1.0, 4.0]\n', "'mandelbrot.zoom' = [1.0, 4.0] is out of range"),
    ('[mandelbrot]\nc_method = ["band"]\n', "unknown recipe key 'mandelbrot.c_method'"),
    ('[julia]\ntrap_stat = ["median"]\n', "unknown option 'median'"),
    ('[julia]\nspan = 1e-3\nmin_span = 0.01\n', "'julia.min_span' = 0.01 is larger than 'julia.span' = 0.001"),
])
def test_bad_escape_recipes_name_the_problem(tmp_path, text, needle):
    path = tmp_path / "r.toml"
    path.write_text(text)
    with pytest.raises(RecipeError) as err:
        fg.load_recipe(path)
    assert needle in str(err.value) and "\n" not in str(err.value)


def test_the_renderer_never_imports_the_sampler():
    """One-way dependency: escape_sampler -> escape (kernels, gate, renderer), never back, not even for types."""
    import ast

    tree = ast.parse(Path(E.__file__).read_text())
    imported = {node.module for node in ast.walk(tree) if isinstance(node, ast.ImportFrom)}
    imported |= {alias.name for node in ast.walk(tree) if isinstance(node, ast.Import) for alias in node.names}
    assert not any("escape_sampler" in (name or "") for name in imported)
    assert isinstance(S.JuliaConfig().gate, E.EscapeGate)  # the gate's settings live beside the gate


def test_the_probe_grid_follows_small_image_sizes():
    assert [S.probe_side(n) for n in (8, 24, 36, 64, 80, 256, 4096)] == [8, 8, 8, 12, 16, 16, 16]
