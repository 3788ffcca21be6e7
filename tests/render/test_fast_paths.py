"""The renderers' fast paths against the plain numpy code they replace: kernels and batched draws must give the
same numbers bit for bit (the goldens pin a few images; these compare many random inputs, edge cases included)."""

from __future__ import annotations

import numpy as np
import pytest

from fractalgen.recipe import image_rng
from fractalgen.render import color as C
from fractalgen.render import escape as E
from fractalgen.render import escape_sampler as ES
from fractalgen.render import quality as Q


def boundary_cells_numpy(nu, max_iter):
    """The zoom search's cell pick as first written, in numpy."""
    escaped = nu >= 0.0
    if not escaped.any():
        return np.zeros(0, dtype=np.int64)
    v = np.where(escaped, nu, float(max_iter))
    score = np.zeros_like(v)
    dx, dy = np.abs(np.diff(v, axis=1)), np.abs(np.diff(v, axis=0))
    score[:, 1:] = np.maximum(score[:, 1:], dx)
    score[:, :-1] = np.maximum(score[:, :-1], dx)
    score[1:, :] = np.maximum(score[1:, :], dy)
    score[:-1, :] = np.maximum(score[:-1, :], dy)
    score[~escaped | (v < np.quantile(v[escaped], 0.75))] = 0.0
    order = np.argsort(-score.ravel(), kind="stable")[:ES.COARSE_PICK]
    return order[score.ravel()[order] > 0]


def test_boundary_cells_kernel_equals_numpy_with_ties_and_bounded_cells():
    rng = np.random.default_rng(0)
    for it in range(3000):
        side = 16 if it % 3 else int(rng.integers(1, 20))
        nu = [rng.random((side, side)) * 100, np.round(rng.random((side, side)) * 10) / 2,
              rng.integers(0, 5, (side, side)).astype(float)][it % 3]
        nu[rng.random((side, side)) < rng.random()] = -1.0
        np.testing.assert_array_equal(ES.boundary_cells(nu, 100), boundary_cells_numpy(nu, 100))
        lit = nu[nu >= 0]
        if lit.size:
            assert ES._quantile_linear(lit, 0.75) == np.quantile(lit, 0.75)


def _hsv_numpy(h, s, v):
    """The numpy HSV -> RGB the kernels replaced (the bytes of the golden renders come from it)."""
    h = np.asarray(h, dtype=np.float64) % 1.0
    s = np.asarray(s, dtype=np.float64)
    v = np.asarray(v, dtype=np.float64)
    sector = np.floor(h * 6.0)
    f = h * 6.0 - sector
    i = sector.astype(np.int64) % 6
    p, q, t = v * (1.0 - s), v * (1.0 - s * f), v * (1.0 - s * (1.0 - f))
    r = np.choose(i, [v, q, p, p, t, v])
    g = np.choose(i, [t, v, v, q, p, p])
    b = np.choose(i, [p, p, t, v, v, q])
    return np.stack([r, g, b], axis=-1)


def test_hue_lut_kernel_equals_hsv_to_rgb():
    rng = np.random.default_rng(1)
    shifts = list(rng.random(300) * 7 - 3) + [0.0, -0.0, 1 / 6, 5 / 6, 0.5, 1 - 1e-17]
    for shift in shifts:
        s, v = rng.random(2)
        expect = _hsv_numpy(shift + np.arange(256) / 256, s, v).astype(np.float32)
        np.testing.assert_array_equal(C.hue_lut(shift, s, v), expect)
        np.testing.assert_array_equal(C.hsv_to_rgb(shift + np.arange(256) / 256, s, v), _hsv_numpy(
            shift + np.arange(256) / 256, s, v))


def test_hsv_to_rgb_broadcasts_as_numpy_did():
    rng = np.random.default_rng(2)
    h, s, v = rng.uniform(-2, 3, (4, 1)), rng.random((1, 5)), rng.random(())
    np.testing.assert_array_equal(C.hsv_to_rgb(h, s, v), _hsv_numpy(h, s, v))
    np.testing.assert_array_equal(C.hsv_to_rgb(0.3, 0.5, 0.9), _hsv_numpy(0.3, 0.5, 0.9))


def test_escape_gate_counts_equal_the_numpy_statistics():
    rng = np.random.default_rng(2)
    for it in range(500):
        side, s = int(rng.integers(4, 60)), int(rng.integers(1, 3))
        nu = rng.random((side, side)) - 0.3
        gray = (rng.random((side, side)) ** rng.uniform(0.2, 5)).astype(np.float32)
        structure = (np.cumsum(rng.random((side, side)) * 0.06, axis=1) % 1).astype(np.float32)
        if it % 2:
            gray, structure = np.round(gray * 8) / np.float32(8), np.round(structure * 20) / np.float32(20)
        finite, bounded, cells, entropy, edges, pairs = E._gate_counts(nu, gray, structure, s, 64, np.float32(0.05))
        assert finite and cells == nu[::s, ::s].size and bounded == np.count_nonzero(nu[::s, ::s] < 0)
        assert edges / pairs == Q.edge_density(structure[::s, ::s])
        assert entropy == pytest.approx(Q.entropy_bits(gray[::s, ::s]), abs=1e-12)


def test_escape_gate_rejects_non_finite_levels():
    nu = np.ones((16, 16))
    gray = np.full((16, 16), np.nan, dtype=np.float32)
    with pytest.raises(Q.Rejected, match="non-finite"):
        E.check_gate(nu, gray, gray, E.EscapeGate())


def test_a_single_option_pick_draws_nothing():
    """schema.pick skips the call for one option: numpy's integers(1) draws nothing, so the stream is the same."""
    from fractalgen.schema import pick

    for i in range(50):
        a, b = image_rng(1, i), image_rng(1, i)
        a.integers(2), b.integers(2)  # half a 64-bit word left in the 32-bit buffer, half the time
        assert pick(a, ("only",)) == "only"
        b.integers(1)
        assert (a.integers(5), a.random(), a.integers(7)) == (b.integers(5), b.random(), b.integers(7))


def test_derive_is_default_rng_of_the_six_words():
    """seeding.derive builds the generator from a uint32 array (faster); it must be default_rng(words)'s."""
    from fractalgen.seeding import derive

    cases = [(0, 0, 0, 1), (2**64 - 1, 2**62 + 5, 19, 3), (12345, 2**32, 2**32 - 1, 5), (7, 3, 2**32 + 1, 1)]
    for seed, index, draw, stream in cases:
        words = [seed & 0xFFFFFFFF, seed >> 32, index & 0xFFFFFFFF, index >> 32, draw, stream]
        assert derive(seed, index, draw, stream).bit_generator.state == np.random.default_rng(words).bit_generator.state


def test_cosine_lut_kernel_equals_the_formula():
    """The kernel turns the first angle by the step instead of taking 256 cosines: the same colours to float32."""
    rng = np.random.default_rng(4)
    for _ in range(300):
        a, b, c, d = rng.uniform(0.3, 0.7, 3), rng.uniform(0.25, 0.5, 3), rng.uniform(0.5, 1.5, 3), rng.random(3)
        t = np.linspace(0.0, 1.0, 256)[:, None]
        expect = np.clip(a + b * np.cos(2 * np.pi * (c * t + d)), 0.0, 1.0)
        np.testing.assert_allclose(C.cosine_lut(a, b, c, d), expect, rtol=0, atol=1e-6)


# -- shading over a listed layer, and the IFS statistics over lit pixels ------------------------------------------


def shade_reference(value, t, lut, field, colors, flip):
    """shade_into written with numpy in float32, operation for operation (so bit for bit)."""
    f32 = np.float32
    nch = colors.shape[1]
    base = colors[0].astype(f32)
    step = (colors[1] - colors[0]).astype(f32)
    out = (base * f32(255) + f32(0.5) + step * f32(255) * field[..., None]).astype(np.int32).astype(np.uint8)
    a = np.clip(value, f32(0), f32(1))
    top = lut.shape[0] - 1
    j = np.clip((t * f32(top) + f32(0.5)).astype(np.int32), 0, top)
    flat = not step.any()
    f = C.dihedral(np.zeros_like(field) if flat else field, (4 - flip % 4) % 4 if flip < 4 else flip)
    bg = base + step * f[..., None]
    fg = lut[j][..., [min(c, lut.shape[1] - 1) for c in range(nch)]]
    layer = ((bg + (fg - bg) * a[..., None]) * f32(255) + f32(0.5)).astype(np.int32).astype(np.uint8)
    turned_layer, turned_a = C.dihedral(layer, flip), C.dihedral(a, flip)
    return np.where(turned_a[..., None] > 0, turned_layer, out)


@pytest.mark.parametrize("flip", range(8))
@pytest.mark.parametrize("channels, flat", [(3, False), (3, True), (1, False), (1, True)])
@pytest.mark.parametrize("pattern", ["scattered", "none", "all", "edge rows"])
def test_shade_over_listed_pixels_is_shade_over_every_pixel(flip, channels, flat, pattern):
    rng = np.random.default_rng(flip + 8 * channels)
    h = 13
    value, t, field = (rng.random((h, h)).astype(np.float32) for _ in range(3))
    if pattern == "scattered":
        value[value < 0.8] = 0.0
    elif pattern == "none":
        value[:] = 0.0
    elif pattern == "edge rows":  # only the first and the last row lit, and empty rows between
        value[1:-1] = 0.0
    colors = rng.random((2, channels)).astype(np.float32)
    if flat:
        colors[1] = colors[0]
    lut = C.hue_lut(0.3, 0.8, 0.9) if channels == 3 else np.linspace(0, 1, 256, dtype=np.float32)[:, None]
    lit = np.flatnonzero(value.ravel())
    every, listed = (np.empty((h, h, channels), np.uint8) for _ in range(2))
    C.shade_into(value, t, lut, field, colors, flip, every)
    C.shade_lit_into(value, t, lut, field, colors, flip, np.concatenate([lit, np.zeros(3, np.int64)]), len(lit),
                     listed)
    np.testing.assert_array_equal(listed, every)
    # the IFS kernel's background-only rows and its one-row copy for a flat background, against numpy
    np.testing.assert_array_equal(every, shade_reference(value, t, lut, field, colors, flip))


@pytest.mark.parametrize("tone", ["log", "equalize"])
def test_tone_of_hit_pixels_and_lit_statistics_match_numpy_bit_for_bit(tone):
    from fractalgen.render import ifs

    rng = np.random.default_rng(11)
    for trial in range(20):
        counts = rng.integers(0, 40 if trial % 3 else 5000, (17, 17)).astype(np.uint32)
        counts[rng.random((17, 17)) < rng.random()] = 0  # from bare to fully lit
        if trial == 0:
            counts[:] = 0
        gamma = 0.2 + trial / 2
        lit = np.full(17 * 17, -7, np.int64)
        top, n = ifs._nonzero(counts, lit)
        assert top == counts.max()
        np.testing.assert_array_equal(lit[:n], np.flatnonzero(counts.ravel()))
        value = np.zeros((17, 17), np.float32)
        ifs._tone_hits(counts, lit, n, top, C.TONES.index(tone), gamma, value)
        np.testing.assert_array_equal(value, C.tone_map(counts, tone, gamma))  # the table of every count value
        lit_count, total, squares = ifs._lit_stats(value, lit, n)
        assert lit_count == np.count_nonzero(value) and ifs._nonzero(value, lit)[1] == lit_count
        total_ref = squares_ref = 0.0
        for x in value.ravel().astype(np.float64):  # every pixel, in order, as the gate first summed them
            total_ref += x
            squares_ref += x * x
        assert (total, squares) == (total_ref, squares_ref)
