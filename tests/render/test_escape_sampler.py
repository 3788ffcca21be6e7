"""Escape-time samplers: Julia constants near the boundary, the zoom search, traps; presets and recipe errors."""

from __future__ import annotations

import json
import math
from pathlib import Path

import numpy as np
import pytest

import fractalgen as fg
from fractalgen.errors import RecipeError
from fractalgen.recipe import image_rng
from fractalgen.render import escape as E
from fractalgen.render import escape_sampler as P

JULIA = P.JuliaConfig()
MANDELBROT = P.MandelbrotConfig()


def rngs(n, seed=0):
    return (image_rng(seed, i) for i in range(n))


# -- Julia constants ------------------------------------------------------------------------------------------


@pytest.mark.parametrize("degree", [2, 3, 4, 5, 6])
def test_boundary_constants_have_a_fixed_point_of_multiplier_one(degree):
    angles = []
    for rng in rngs(60):
        c = complex(*P.boundary_constant(rng, degree, jitter=0.0))
        if degree == 2 and abs(abs(c + 1) - 0.25) < 1e-12:
            continue  # on the period-2 disk
        # z^d - z + c = 0 has a root with |d z^(d-1)| = 1: c is on the boundary of the main component
        roots = np.roots([1.0] + [0.0] * (degree - 2) + [-1.0, c])
        assert np.abs(np.abs(degree * roots ** (degree - 1)) - 1.0).min() < 1e-9
        angles.append(math.atan2(c.imag, c.real))
    assert np.histogram(angles, bins=4, range=(-math.pi, math.pi))[0].min() > 0  # all around the component


def test_degree_two_uses_both_the_cardioid_and_the_period_two_disk():
    on_disk = [abs(abs(complex(*P.boundary_constant(rng, 2, 0.0)) + 1) - 0.25) < 1e-12 for rng in rngs(300)]
    assert 0.2 < np.mean(on_disk) < 0.47  # one third expected


def test_jitter_moves_c_radially_within_its_band():
    ratios = []  # the same rng with and without jitter: the jittered c is the plain one scaled
    for i in range(200):
        a = complex(*P.boundary_constant(image_rng(9, i), 3, 0.0))
        b = complex(*P.boundary_constant(image_rng(9, i), 3, 0.05))
        ratios.append(b / a)
    ratios = np.array(ratios)
    np.testing.assert_allclose(ratios.imag, 0.0, atol=1e-12)  # radial: same direction from the centre 0
    assert 0.95 - 1e-12 <= ratios.real.min() and ratios.real.max() <= 1.05 + 1e-12
    assert ratios.real.std() > 0.02


def test_band_constants_escape_within_the_band():
    for formula, degree in [("power", 2), ("power", 4), ("burning-ship", 2), ("tricorn", 2)]:
        for rng in rngs(20):
            c = P.band_constant(rng, formula, degree, (10.0, 100.0))
            nu = E.escape_points(np.array([c]), formula, degree, 101)[0]
            assert 10.0 <= nu <= 100.0


def test_julia_constant_uses_the_band_method_for_other_formulas():
    for rng in rngs(20):
        c = P.julia_constant(rng, P.JuliaConfig(c_method=("boundary",)), "burning-ship", 2)
        assert 10.0 <= E.escape_points(np.array([c]), "burning-ship", 2, 101)[0] <= 100.0


# -- the zoom search ------------------------------------------------------------------------------------------


def test_boundary_cells_are_late_escaping_cells_next_to_change():
    nu = np.tile(np.linspace(1.0, 8.0, 16), (16, 1))
    nu[:, 12:] = -1.0  # a bounded block on the right
    cells = P.boundary_cells(nu, max_iter=100)
    rows, cols = np.divmod(cells, 16)
    assert cells.size == P.COARSE_PICK and (cols == 11).all()  # the escaping column touching the block
    assert P.boundary_cells(np.full((16, 16), -1.0), 100).size == 0
    assert P.boundary_cells(np.full((16, 16), 3.0), 100).size == 0


def test_zoom_stops_above_the_smallest_span_and_raises_max_iter():
    cfg = P.MandelbrotConfig(depth=(40, 40), zoom=(16.0, 16.0), min_span=1e-9)
    for rng in rngs(4):
        p = P.sample_mandelbrot(rng, cfg, 32, True)
        assert 1e-9 <= p["span"] < 16e-9
        assert p["max_iter"] == P.iterations(cfg, 3.0 / p["span"]) > cfg.max_iter


def test_zoomed_windows_hold_the_boundary():
    near = 0
    for rng in rngs(30):
        p = P.sample_mandelbrot(rng, MANDELBROT, 32, True)
        nu, _ = E.escape_grid(p, 32)
        assert 1 <= p["depth"] <= 5
        near += (nu < 0).any() or nu.max() > 0.25 * p["max_iter"]
    assert near >= 27


def test_samplers_are_pure_functions_of_the_rng():
    for sample, cfg in [(P.sample_julia, JULIA), (P.sample_mandelbrot, MANDELBROT)]:
        a = sample(image_rng(3, 7), cfg, 64, True)
        b = sample(image_rng(3, 7), cfg, 64, True)
        assert a == b and a != sample(image_rng(3, 8), cfg, 64, True)


def test_params_are_small_plain_json():
    for sample, cfg in [(P.sample_julia, JULIA), (P.sample_mandelbrot, MANDELBROT)]:
        for rng in rngs(10):
            p = sample(rng, cfg, 256, True)
            text = json.dumps(p)
            assert json.loads(text) == p and len(text) < 1500


# -- traps and palettes ---------------------------------------------------------------------------------------


def test_traps_are_drawn_inside_their_bands():
    cfg = P.JuliaConfig(trap_offset=0.7, trap_radius=(0.2, 0.3))
    traps = [P.sample_trap(rng, cfg) for rng in rngs(600)]
    assert {t["shape"] for t in traps} == set(E.TRAPS) and {t["stat"] for t in traps} == {"min"}
    assert max(math.hypot(*t["center"]) for t in traps) <= 0.7
    assert all(0.2 <= t["radius"] <= 0.3 and 0.0 <= t["angle"] < math.pi for t in traps)
    # uniform in the disk: a quarter of the centres within half the radius
    assert 0.2 < np.mean([math.hypot(*t["center"]) < 0.35 for t in traps]) < 0.3


def test_palettes_have_their_stated_shapes():
    for rng in rngs(50):
        pal = P.sample_palette(rng, P.PALETTES)
        lut = E.palette_lut(pal)
        assert lut.shape == (256, 3) and 0.0 <= lut.min() and lut.max() <= 1.0
        if pal["kind"] == "gradient":
            assert 3 <= len(pal["stops"]) <= 6 and max(max(stop) for stop in pal["stops"]) >= 0.85


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
    assert isinstance(P.JuliaConfig().gate, E.EscapeGate)  # the gate's settings live beside the gate
