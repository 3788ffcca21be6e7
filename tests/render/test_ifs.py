"""IFS: sigma-factor sampler statistics, the kernel against a pure-Python chaos game, gate, re-rendering."""

from __future__ import annotations

import json

import numba
import numpy as np
import pytest

import fractalgen as fg
from fractalgen.render import ifs
from fractalgen._random import next64, stream_of
from fractalgen.render import color as C

CFG = ifs.IfsConfig()


def sampled(n, cfg=CFG, seed=0, size=64):
    return [ifs.sample_ifs(cfg, size, True, seed, i) for i in range(n)]


# -- sampler -------------------------------------------------------------------------------------------------


def test_every_map_is_contractive_with_ordered_singular_values():
    for s in sampled(400):
        a = np.asarray(s["maps"])[:, :4].reshape(-1, 2, 2)
        sv = np.linalg.svd(a, compute_uv=False)
        assert (sv <= 1 + 1e-12).all() and (sv >= -1e-12).all()
        # the stored sigma are the maps' singular values, largest first
        np.testing.assert_allclose(np.sort(sv, axis=1)[:, ::-1], np.asarray(s["sigma"]), atol=1e-12)


def test_alpha_is_inside_its_band_and_equals_the_sigma_factor():
    for s in sampled(400):
        n = len(s["maps"])
        assert (5 + n) / 2 <= s["alpha"] <= (6 + n) / 2
        sigma = np.asarray(s["sigma"])
        assert sigma[:, 0].sum() + 2 * sigma[:, 1].sum() == pytest.approx(s["alpha"], abs=1e-9)


def test_alpha_band_option_moves_alpha():
    cfg = ifs.IfsConfig(alpha_band=(3.0, 3.5), maps=(3, 3))
    alphas = [s["alpha"] for s in sampled(200, cfg)]
    assert min(alphas) >= 3.0 and max(alphas) <= 3.25 and max(alphas) - min(alphas) > 0.2


def test_number_of_maps_is_uniform_on_the_configured_range():
    cfg = ifs.IfsConfig(maps=(2, 5))
    counts = np.bincount([len(s["maps"]) for s in sampled(2000, cfg)], minlength=6)[2:]
    assert counts.sum() == 2000 and counts.min() > 0
    # chi-square against uniform, 3 degrees of freedom: 16.3 is the 0.1% critical value
    chi2 = ((counts - 500) ** 2 / 500).sum()
    assert chi2 < 16.3, counts


def test_reflections_occur_and_translations_fill_the_square():
    maps = np.concatenate([np.asarray(s["maps"]) for s in sampled(300)])
    det = maps[:, 0] * maps[:, 3] - maps[:, 1] * maps[:, 2]
    assert 0.35 < (det < 0).mean() < 0.65
    assert maps[:, 4:].min() >= -1 and maps[:, 4:].max() <= 1 and maps[:, 4:].std() > 0.5


def test_probabilities_follow_abs_det_with_a_floor():
    for s in sampled(200):
        sigma = np.asarray(s["sigma"])
        p = np.asarray(s["probs"])
        assert p.sum() == pytest.approx(1.0)
        det = sigma[:, 0] * sigma[:, 1]
        expect = np.maximum(det / det.sum(), CFG.prob_floor)
        np.testing.assert_allclose(p, expect / expect.sum(), rtol=1e-12)


@pytest.mark.parametrize("n", [2, 3, 7])
@pytest.mark.parametrize("edge", ["zero", "full"])
def test_singular_values_meet_the_extreme_alphas(n, edge):
    # alpha = 0 (every map a point) and alpha = 3 N (every map has s1 = s2 = 1) are reachable and met exactly
    band = (-float(n), -float(n)) if edge == "zero" else (5.0 * n, 5.0 * n)
    for s in sampled(20, ifs.IfsConfig(maps=(n, n), alpha_band=band)):
        sigma = np.asarray(s["sigma"])
        assert s["alpha"] == (0.0 if edge == "zero" else 3.0 * n)
        assert (sigma[:, 0] <= 1 + 1e-12).all() and (sigma[:, 0] >= sigma[:, 1] - 1e-12).all()
        assert (sigma >= -1e-12).all()
        assert sigma[:, 0].sum() + 2 * sigma[:, 1].sum() == pytest.approx(s["alpha"], abs=1e-9)


def test_contributions_are_shuffled_so_no_map_position_is_favoured():
    # without the shuffle the first map would take the largest share of the budget
    cfg = ifs.IfsConfig(maps=(4, 4))
    share = np.array([[a + 2 * b for a, b in s["sigma"]] for s in sampled(1500, cfg)])
    share /= share.sum(axis=1, keepdims=True)
    np.testing.assert_allclose(share.mean(axis=0), 0.25, atol=0.02)


# -- kernel vs a slow reference ------------------------------------------------------------------------------


def splitmix64_reference(key, n):
    mask = (1 << 64) - 1
    state, out = key, []
    for _ in range(n):
        state = (state + 0x9E3779B97F4A7C15) & mask
        z = state
        z = ((z ^ (z >> 30)) * 0xBF58476D1CE4E5B9) & mask
        z = ((z ^ (z >> 27)) * 0x94D049BB133111EB) & mask
        out.append(z ^ (z >> 31))
    return out


def chaos_reference(params, grid):
    """The chaos game written plainly: the same map choices, framing from the first points, one hit per point."""
    coef, _ = ifs.system_arrays(params)
    choices = ifs.map_choices(params)
    x, y = ifs.fixed_point(coef[0])
    pts = []
    for j in choices:
        a, b, c, d, e, f = coef[j]
        x, y = a * x + b * y + e, c * x + d * y + f
        pts.append((x, y))
    first = np.array([ifs.fixed_point(coef[0])] + pts[:ifs.PREPASS_POINTS])
    lo, hi = first.min(axis=0), first.max(axis=0)
    span = max(hi[0] - lo[0], hi[1] - lo[1], 1e-9) * (1 + 2 * params["margin"]) / params["zoom"]
    cx = 0.5 * (lo[0] + hi[0]) + params["shift"][0] * span
    cy = 0.5 * (lo[1] + hi[1]) + params["shift"][1] * span
    x_lo, y_lo, scale = cx - span / 2, cy - span / 2, grid / span
    counts = np.zeros((grid, grid), np.uint32)
    colour = np.zeros((grid, grid), np.float64)
    cc = 0.5
    map_colors = params.get("map_colors", [0.0] * len(coef))
    for (x, y), j in zip(pts, choices):
        cc = 0.5 * (cc + map_colors[j])
        col, row = (x - x_lo) * scale, (y - y_lo) * scale
        if 0 <= col < grid and 0 <= row < grid:
            counts[int(row), int(col)] += 1
            colour[int(row), int(col)] += cc
    return counts, colour


def test_splitmix_stream_matches_reference():
    params = {"maps": [[0.5, 0, 0, 0.5, 0, 0]] * 4, "probs": [0.1, 0.2, 0.3, 0.4], "key": 12345, "points": 2000}
    cum = np.cumsum(params["probs"])
    u = [(z >> 11) * 2.0**-53 for z in splitmix64_reference(12345, 2000)]
    expect = [int(sum(v >= c for c in cum[:-1])) for v in u]
    assert ifs.map_choices(params).tolist() == expect


def stream_reference(seed, index, draw, stream, n):
    """The derived stream of render version 2 written plainly: a sponge of splitmix64's output function over the
    four words, then outputs mix(state + k gamma)."""
    mask = (1 << 64) - 1

    def mix(z):
        z = ((z ^ (z >> 30)) * 0xBF58476D1CE4E5B9) & mask
        z = ((z ^ (z >> 27)) * 0x94D049BB133111EB) & mask
        return z ^ (z >> 31)

    h = 0x9E3779B97F4A7C15
    for word in (seed, index, draw, stream):
        h = mix(h ^ word)
    state, gamma = mix((h + 1) & mask), mix((h + 2) & mask) | 1
    return [mix((state + k * gamma) & mask) for k in range(1, n + 1)]


@numba.njit
def _stream_outputs(seed, index, draw, stream, n):
    st = np.empty(2, np.uint64)
    stream_of(seed, index, draw, stream, st)
    out = np.empty(n, np.uint64)
    for k in range(n):
        out[k] = next64(st)
    return out


@pytest.mark.parametrize("words", [(0, 0, 0, 1), (2**63 - 1, 2**64 - 1, 19, 3), (12345, 2**32, 7, 1)])
def test_derived_stream_matches_reference(words):
    assert _stream_outputs(*(np.uint64(w) for w in words), 50).tolist() == stream_reference(*words, 50)


def test_derived_streams_of_neighbouring_tuples_are_unrelated():
    a = np.array([stream_reference(0, i, d, 1, 64) for i in range(40) for d in range(3)], dtype=np.uint64)
    u = (a >> np.uint64(11)).astype(np.float64) * 2.0**-53
    assert len({row.tobytes() for row in a}) == len(a)
    corr = np.corrcoef(u)[np.triu_indices(len(u), 1)]
    assert np.abs(corr).max() < 0.5 and abs(corr.mean()) < 0.01


def test_map_choices_follow_probabilities():
    params = {"maps": [[0.5, 0, 0, 0.5, 0, 0]] * 3, "probs": [0.2, 0.5, 0.3], "key": 99, "points": 200_000}
    freq = np.bincount(ifs.map_choices(params), minlength=3) / 200_000
    np.testing.assert_allclose(freq, [0.2, 0.5, 0.3], atol=0.005)


@pytest.mark.parametrize("index", [0, 1, 2, 5])
@pytest.mark.parametrize("shift_zoom", [((0.0, 0.0), 1.0), ((0.1, -0.2), 1.7)])
@pytest.mark.parametrize("points", [1_500, ifs.PREPASS_POINTS, 20_000])  # (up to PREPASS_POINTS the chain runs once)
def test_kernel_agrees_with_pure_python_chaos_game(index, shift_zoom, points):
    params = ifs.sample_ifs(CFG, 48, True, 4, index)
    params.update(points=points, coloring="map", shift=list(shift_zoom[0]), zoom=shift_zoom[1])
    counts, colour = ifs.density(params, with_color=True)
    ref_counts, ref_colour = chaos_reference(params, 48)
    np.testing.assert_array_equal(counts, ref_counts)
    np.testing.assert_allclose(colour, ref_colour, rtol=1e-5, atol=1e-4)
    # the frame holds the attractor (a zoom of 1.7 with a shift crops part of it)
    assert counts.sum() > (0.9 if shift_zoom[1] == 1.0 else 0.25) * params["points"]


def test_fixed_point_is_fixed():
    for s in sampled(50):
        row = np.asarray(s["maps"][0])
        x, y = ifs.fixed_point(row)
        a, b, c, d, e, f = row
        assert a * x + b * y + e == pytest.approx(x, abs=1e-9) and c * x + d * y + f == pytest.approx(y, abs=1e-9)


def test_points_scale_with_area_and_supersampling():
    rng_params = lambda size, ss: ifs.sample_ifs(ifs.IfsConfig(supersample=ss), size, True, 0, 0)
    assert rng_params(256, 1)["points"] == 100_000
    assert rng_params(128, 1)["points"] == 25_000
    assert rng_params(128, 2)["points"] == 100_000


# -- gate ----------------------------------------------------------------------------------------------------


def gate_reference(params, gate):
    """The gate written with numpy: the tone-mapped density's lit fraction inside the band, its float64 standard
    deviation at least min_contrast. None when it passes, else the kernel's reason code."""
    counts, _ = ifs.density(params)
    value = C.tone_map(counts, params["tone"], params["gamma"])
    if params["supersample"] > 1:
        value = C.downsample2(value)
    fill = (value != 0).mean()
    if fill < gate.fill[0]:
        return ifs.TOO_SPARSE
    if fill > gate.fill[1]:
        return ifs.TOO_DENSE
    if value.astype(np.float64).std() < gate.min_contrast:
        return ifs.TOO_FLAT
    return ifs.PASSED


@pytest.mark.parametrize("overrides", [{}, {"ifs.supersample": 2, "ifs.tone": ["equalize"]},
                                       {"ifs.gate.min_contrast": 0.3, "ifs.gate.fill": [0.1, 0.3]}])
def test_gate_decides_as_the_numpy_reference(overrides):
    rec = fg.load_recipe("ifs-colour", size=40, seed=3, overrides=overrides)
    cfg = rec.sections["ifs"]
    k = ifs.settings_vector(cfg, 40)
    outcomes = set()
    for i in range(25):
        for d in range(2):
            v = np.empty(ifs.V_LEN)
            ifs._sample_one(np.uint64(3), np.uint64(i), np.uint64(d), *k, True, v)
            status = ifs._render_vector(v, 40, True, True, k[0], np.empty((40, 40, 3), np.uint8))
            assert status == gate_reference(ifs.params_of(v, 40, True), cfg.gate), (i, d)
            outcomes.add(status)
    assert ifs.PASSED in outcomes and len(outcomes) > 1


@pytest.mark.parametrize("gate, reason", [({"fill": [0.99, 1.0]}, "fill below the band"),
                                          ({"fill": [0.0, 0.001]}, "fill above the band"),
                                          ({"min_contrast": 0.5}, "contrast too low")])
def test_a_gate_no_draw_passes_names_its_reason(gate, reason):
    overrides = {f"ifs.gate.{key}": value for key, value in gate.items()}
    rec = fg.load_recipe("ifs", size=32, max_draws=3, overrides=overrides)
    with pytest.raises(fg.RenderError, match=f"image 2 .* none of 3 draws passed the ifs quality gate "
                                             f"\\(last: {reason}"):
        rec.images([0, 1, 2][2:])


def test_redraws_are_counted_and_reproducible():
    # a tight gate forces redraws; the params record how many draws it took
    rec = fg.load_recipe("ifs-gray", size=48, seed=2, overrides={"ifs.gate.fill": [0.25, 0.6]}, max_draws=200)
    draws = [rec.params(i)["draws"] for i in range(12)]
    assert max(draws) > 1
    for i in range(12):
        p = rec.params(i)
        assert p["draws"] == draws[i]
        assert 0.25 <= (ifs.density(p)[0] > 0).mean() <= 0.6


def test_unsatisfiable_gate_stops_with_a_message():
    rec = fg.load_recipe("ifs", size=32, max_draws=4, overrides={"ifs.gate.fill": [0.99, 1.0]})
    with pytest.raises(fg.RenderError, match="image 3 .* none of 4 draws passed the ifs quality gate"):
        rec.image(3)


# -- rendering -----------------------------------------------------------------------------------------------


@pytest.mark.parametrize("overrides", [
    {}, {"color": False}, {"ifs.supersample": 2}, {"ifs.tone": ["equalize"]}, {"ifs.coloring": ["hue"]},
    {"ifs.invert": 1.0, "ifs.flip": False}, {"ifs.zoom": [0.7, 1.5], "ifs.shift": 0.2},
])
def test_render_params_reproduces_the_image_after_json(overrides):
    top = {k: v for k, v in overrides.items() if "." not in k}
    dotted = {k: v for k, v in overrides.items() if "." in k}
    rec = fg.load_recipe("ifs-colour", size=64, seed=9, overrides=dotted, **top)
    for i in range(6):
        img, params = rec.draw(i)
        assert img.shape == rec.shape and img.dtype == np.uint8
        again = fg.render(json.loads(json.dumps(params)))
        assert again.tobytes() == img.tobytes()


def test_images_use_their_dynamic_range(small_colour):
    imgs = small_colour.images(range(8))
    assert np.median(imgs.max(axis=(1, 2, 3))) > 150 and np.median(imgs.std(axis=(1, 2, 3))) > 10


def test_supersampling_smooths_thin_structures():
    base = fg.load_recipe("ifs-gray", size=64, seed=1, overrides={"ifs.background": ["black"], "ifs.flip": False})
    ss = base.replace(overrides={"ifs.supersample": 2})
    # same draws except the grid; supersampled images have more intermediate gray levels (anti-aliasing)
    a = np.concatenate([base.image(i).ravel() for i in range(4)])
    b = np.concatenate([ss.image(i).ravel() for i in range(4)])
    mid = lambda x: ((x > 10) & (x < 120)).mean()
    assert mid(b) > mid(a)
