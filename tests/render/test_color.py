"""Colour helpers against direct formulas: HSV, tone mapping, backgrounds, shading and the dihedral views."""

from __future__ import annotations

import colorsys
import math

import numba
import numpy as np
import pytest

from fractalgen._random import stream_of
from fractalgen.render import color as C
from fractalgen.render.batch import choice_codes


def test_hsv_matches_colorsys_on_the_full_hue_circle():
    rng = np.random.default_rng(0)
    hsv = rng.random((500, 3))
    hsv[:, 0] = rng.uniform(-2, 3, 500)  # hue wraps around
    got = C.hsv_to_rgb(hsv[:, 0], hsv[:, 1], hsv[:, 2])
    expect = [colorsys.hsv_to_rgb(h % 1.0, s, v) for h, s, v in hsv]
    np.testing.assert_allclose(got, expect, atol=1e-12)


def test_log_tone_matches_formula():
    counts = np.random.default_rng(1).integers(0, 300, (32, 32)).astype(np.uint32)
    got = C.tone_map(counts, "log", 2.0)
    expect = np.where(counts > 0, (np.log1p(counts) / math.log1p(counts.max())) ** 0.5, 0)
    np.testing.assert_allclose(got, expect, rtol=1e-6)
    assert C.tone_map(np.zeros((4, 4), np.uint32), "log", 2.0).max() == 0


def test_equalize_spreads_lit_pixels_evenly():
    counts = np.random.default_rng(2).geometric(0.01, (64, 64)).astype(np.uint32)
    counts[:8] = 0
    v = C.tone_map(counts, "equalize", 1.0)
    lit = v[counts > 0]
    assert (v[counts == 0] == 0).all() and lit.max() == 1.0
    # the ranks of a heavy-tailed count are close to uniform
    hist = np.histogram(lit, bins=4, range=(0, 1))[0] / lit.size
    np.testing.assert_allclose(hist, 0.25, atol=0.05)


def test_downsample2_is_the_block_mean():
    x = np.random.default_rng(3).random((8, 6)).astype(np.float32)
    np.testing.assert_allclose(C.downsample2(x), x.reshape(4, 2, 3, 2).mean(axis=(1, 3)), rtol=1e-6)


@pytest.mark.parametrize("kind", C.BACKGROUNDS)
@pytest.mark.parametrize("channels", [1, 3])
def test_backgrounds_stay_in_range_and_are_deterministic(kind, channels):
    bg = draw_background((kind,), channels == 3, seed=4)
    assert C.background_dict(C.background_vector(bg)) == bg
    a = C.render_background(bg, 40, channels)
    assert a.shape == (40, 40, channels) and a.dtype == np.float32
    assert 0.0 <= a.min() and a.max() <= 1.0
    np.testing.assert_array_equal(a, C.render_background(bg, 40, channels))
    if kind in ("gradient", "noise"):
        assert a.std() > 0.005
    if kind == "black":
        assert a.max() == 0


@numba.njit
def _draw_backgrounds(codes, color, seed, n, out):
    st = np.empty(2, np.uint64)
    for i in range(n):
        stream_of(seed, i, 0, 0, st)
        C.sample_background(st, codes, color, out[i])


def draw_background(kinds, color, seed=0, n=None):
    out = np.empty((n or 1, C.BG_LEN))
    _draw_backgrounds(choice_codes(kinds, C.BACKGROUNDS), color, seed, n or 1, out)
    dicts = [C.background_dict(v) for v in out]
    return dicts if n else dicts[0]


def test_background_kinds_and_settings_follow_their_distributions():
    bgs = draw_background(C.BACKGROUNDS, True, n=4000)
    kinds = np.array([C.BACKGROUNDS.index(b["kind"]) for b in bgs])
    counts = np.bincount(kinds, minlength=4)
    assert ((counts - 1000) ** 2 / 1000).sum() < 16.3, counts  # chi-square, 3 dof, 0.1%
    noise = [b for b in bgs if b["kind"] == "noise"]
    assert {b["cells"] for b in noise} == {2, 3, 4} and {b["octaves"] for b in noise} == {3, 4, 5, 6}
    assert all(0.4 <= b["persistence"] < 0.7 for b in noise)
    hsv = np.array([colorsys.rgb_to_hsv(*c) for b in bgs if b["kind"] != "black" for c in b["colors"]])
    assert hsv[:, 2].max() <= 0.45 and hsv[:, 1].min() >= 0.2 - 1e-9
    assert abs(hsv[:, 0].mean() - 0.5) < 0.03  # hue uniform on the full circle
    gray = draw_background(("flat", "gradient"), False, n=50)
    assert all(c[0] == c[1] == c[2] for b in gray for c in b["colors"])


def test_gradient_lut_is_numpy_interp_of_the_stops():
    stops = np.random.default_rng(2).random((4, 3))
    t = np.arange(256) / 255
    expect = np.stack([np.interp(t, np.linspace(0, 1, 4), stops[:, k]) for k in range(3)], axis=1)
    np.testing.assert_allclose(C.gradient_lut(stops), expect, atol=1e-6)
    np.testing.assert_array_equal(C.gradient_lut(stops[:1]), np.repeat(stops[:1], 256, 0).astype(np.float32))


def test_noise_has_structure_at_several_scales():
    n = C.fractional_noise(128, 3, 5, 0.6, key=42)
    assert n.min() == 0.0 and n.max() == 1.0
    # neighbouring pixels correlate (smooth), distant ones much less
    near = np.corrcoef(n[:, :-1].ravel(), n[:, 1:].ravel())[0, 1]
    far = np.corrcoef(n[:, :-64].ravel(), n[:, 64:].ravel())[0, 1]
    assert near > 0.9 and far < near - 0.3


def test_shade_matches_numpy_reference():
    rng = np.random.default_rng(5)
    value, t, field = (rng.random((16, 20)).astype(np.float32) for _ in range(3))
    lut = C.gradient_lut(rng.random((4, 3)))
    colors = rng.random((2, 3)).astype(np.float32)
    out = C.shade(value, t, lut, (field, colors))
    bg = colors[0] + (colors[1] - colors[0]) * field[..., None]
    fg = lut[np.round(t * 255).astype(int)]
    expect = np.floor((bg + (fg - bg) * value[..., None]) * 255 + 0.5)
    assert np.abs(out.astype(int) - expect).max() <= 1


@pytest.mark.parametrize("k", range(8))
def test_shade_flips_the_fractal_layer_over_an_unflipped_background(k):
    rng = np.random.default_rng(k)
    value, t, field = (rng.random((12, 12)).astype(np.float32) for _ in range(3))
    value[value < 0.6] = 0.0  # bare background where the layer is transparent
    lut, colors = C.hue_lut(0.3, 0.8, 0.9), rng.random((2, 3)).astype(np.float32)
    turned = C.shade(value, t, lut, (field, colors), flip=k)
    expect = C.shade(C.dihedral(value, k), C.dihedral(t, k), lut, (field, colors))
    np.testing.assert_array_equal(turned, expect)
    if k:
        assert not np.array_equal(turned, C.shade(value, t, lut, (field, colors)))


def test_dihedral_gives_eight_distinct_symmetries():
    img = np.arange(9 * 3, dtype=np.uint8).reshape(3, 3, 3)
    outs = {C.dihedral(img, k).tobytes() for k in range(8)}
    assert len(outs) == 8


def test_luts_are_in_range():
    rng = np.random.default_rng(6)
    for lut in (C.gradient_lut(rng.random((5, 3))), C.cosine_lut(*rng.random((4, 3))), C.hue_lut(0.9, 1.0, 1.0)):
        assert lut.shape == (256, 3) and lut.dtype == np.float32 and 0 <= lut.min() and lut.max() <= 1
