"""The released-code ops (released_ops.py) against slow references written from the facts of
shared/spec/released.md, against torch's grid_sample where torch is installed, and their parameter draws
against the spec's distributions."""

from __future__ import annotations

import math
import platform
from collections import Counter

import numpy as np
import pytest
from PIL import Image, ImageOps

from fractalgen.mixing import blend, ops
from fractalgen.mixing import released_ops as R

# -- slow references -----------------------------------------------------------------------------------------------


def slow_bilinear_zero(img: np.ndarray, source_of) -> np.ndarray:
    """Per output pixel (x, y): the input point ``source_of(X, Y)`` in coordinates relative to the image centre
    ((W - 1) / 2, (H - 1) / 2), bilinear over the 4 neighbours, a neighbour outside the image counting 0."""
    h, w, ch = img.shape
    cx, cy = (w - 1) / 2, (h - 1) / 2
    out = np.zeros(img.shape)
    for y in range(h):
        for x in range(w):
            u, v = source_of(x - cx, y - cy)
            u, v = u + cx, v + cy
            x0, y0 = math.floor(u), math.floor(v)
            for yy, wy in ((y0, 1 - (v - y0)), (y0 + 1, v - y0)):
                for xx, wx in ((x0, 1 - (u - x0)), (x0 + 1, u - x0)):
                    if 0 <= xx < w and 0 <= yy < h:
                        out[y, x] += wx * wy * img[yy, xx].astype(np.float64)
    return out


def slow_geometric(name: str, img: np.ndarray, p: float) -> np.ndarray:
    """The spec's geometric ops as point maps (output -> input, y down): a counter-clockwise rotation by p
    degrees, shears by p degrees (tan p of the other coordinate added), translations moving content by p px."""
    t = math.radians(p)
    maps = {
        "rotate": lambda X, Y: (X * math.cos(t) - Y * math.sin(t), X * math.sin(t) + Y * math.cos(t)),
        "shear_x": lambda X, Y: (X + math.tan(t) * Y, Y),
        "shear_y": lambda X, Y: (X, Y + math.tan(t) * X),
        "translate_x": lambda X, Y: (X - p, Y),
        "translate_y": lambda X, Y: (X, Y - p),
    }
    return slow_bilinear_zero(img, maps[name])


def torch_grid_sample(img: np.ndarray, matrix) -> np.ndarray:
    """torchvision's route for the same op: the affine grid in float32, then grid_sample (bilinear, zeros)."""
    torch = pytest.importorskip("torch")
    h, w = img.shape[:2]
    theta = torch.tensor(matrix, dtype=torch.float32).reshape(1, 2, 3)
    xs = torch.linspace((1.0 - w) * 0.5, (w - 1.0) * 0.5, steps=w)
    ys = torch.linspace((1.0 - h) * 0.5, (h - 1.0) * 0.5, steps=h)
    base = torch.stack([xs.expand(h, w), ys[:, None].expand(h, w), torch.ones(h, w)], -1).reshape(1, h * w, 3)
    grid = base.bmm(theta.transpose(1, 2) / torch.tensor([0.5 * w, 0.5 * h])).reshape(1, h, w, 2)
    x = torch.from_numpy(np.ascontiguousarray(img)).permute(2, 0, 1)[None]
    out = torch.nn.functional.grid_sample(x, grid, mode="bilinear", padding_mode="zeros", align_corners=False)
    return out[0].permute(1, 2, 0).numpy()


def float_image(rng: np.random.Generator, h: int, w: int, c: int = 3) -> np.ndarray:
    return rng.random((h, w, c)).astype(np.float32)


GEOMETRIC = ["rotate", "shear_x", "shear_y", "translate_x", "translate_y"]


def random_geometric_param(name: str, rng: np.random.Generator, shape) -> float:
    """The released draw at magnitude 3, or half the time any angle / shift."""
    params = R.LAYERMIX_OPS[name].sample(rng, 3.0, shape)
    value = next(iter(params.values()))
    if rng.random() < 0.5:
        value = float(rng.uniform(-200, 200) if name == "rotate" else rng.uniform(-40, 40) if "shear" in name
                      else rng.uniform(-1.2, 1.2) * shape[1 if name.endswith("x") else 0])
    return value


# -- the ops -------------------------------------------------------------------------------------------------------


@pytest.mark.parametrize("name", GEOMETRIC)
def test_geometric_ops_match_the_slow_reference_within_1e_5(name):
    # the kernel interpolates in doubles and stores float32: the bound is float32's rounding of values <= 1
    rng = np.random.default_rng(sum(map(ord, name)))
    for _ in range(40):
        h, w = rng.integers(8, 24, 2)
        img = float_image(rng, h, w, 3 if rng.random() < 0.8 else 1)
        p = random_geometric_param(name, rng, (h, w))
        key = "pixels" if name.startswith("translate") else "degrees"
        ours = R.LAYERMIX_OPS[name].apply(img, **{key: p})
        np.testing.assert_allclose(ours, slow_geometric(name, img, p), atol=1e-5, rtol=0)


@pytest.mark.parametrize("name", GEOMETRIC)
def test_geometric_ops_match_torch_grid_sample_within_1e_4_at_sizes_8_to_256(name):
    # torch samples at float32 coordinates: at 256 px that moves a sample by up to ~3e-5 px
    rng = np.random.default_rng(7 + sum(map(ord, name)))
    for _ in range(30):
        h, w = np.exp(rng.uniform(np.log(8), np.log(257), 2)).astype(int)
        img = float_image(rng, h, w)
        p = random_geometric_param(name, rng, (h, w))
        kwargs = {"rotate": {"angle": -(p % 360)}, "shear_x": {"shear": (p, 0.0)}, "shear_y": {"shear": (0.0, p)},
                  "translate_x": {"translate": (p, 0.0)}, "translate_y": {"translate": (0.0, p)}}[name]
        key = "pixels" if name.startswith("translate") else "degrees"
        ours = R.LAYERMIX_OPS[name].apply(img, **{key: p})
        np.testing.assert_allclose(ours, torch_grid_sample(img, R.inverse_affine(**kwargs)), atol=1e-4, rtol=0)


def test_rotation_is_counter_clockwise_about_the_centre_with_black_corners():
    img = np.zeros((9, 9, 1), np.float32)
    img[4, 8] = 1.0  # a dot at the middle of the right edge
    out = R.rotate(img, 90.0)
    assert out[0, 4, 0] == pytest.approx(1.0, abs=1e-6)  # it moves to the middle of the top edge
    full = R.rotate(np.ones((16, 16, 3), np.float32), 30.0)
    assert full[0, 0].max() == 0.0 and full[8, 8].min() == pytest.approx(1.0)


@pytest.mark.parametrize("bits", range(9))
def test_posterize_keeps_floor_of_x_times_2_to_the_bits(bits):
    img = float_image(np.random.default_rng(bits), 12, 10)
    levels = 2 ** bits
    expect = np.array([[[min(math.floor(v * levels), levels - 1) / levels for v in px] for px in row] for row in img])
    np.testing.assert_array_equal(R.posterize(img, bits), expect.astype(np.float32))
    if bits == 0:
        assert not R.posterize(img, 0).any()  # the released 0 bits: an all-black image


def test_solarize_inverts_every_value_at_or_above_the_threshold():
    img = float_image(np.random.default_rng(1), 10, 10)
    for t in (0.2, 0.1, -0.15):
        expect = np.where(img >= t, 1 - img, img)
        np.testing.assert_array_equal(R.solarize(img, t), expect)
    assert np.array_equal(R.solarize(img, -0.2), 1 - img)  # solarize_increasing's range: everything inverted


def test_grayscale_is_601_luma_on_three_channels():
    img = float_image(np.random.default_rng(2), 6, 7)
    luma = 0.299 * img[..., 0] + 0.587 * img[..., 1] + 0.114 * img[..., 2]
    out = R.grayscale(img)
    assert out.shape == img.shape
    np.testing.assert_allclose(out, np.repeat(luma[..., None], 3, 2), atol=1e-6)


def test_autocontrast_stretches_each_channel_and_leaves_flat_ones():
    rng = np.random.default_rng(3)
    img = (0.2 + 0.5 * rng.random((8, 9, 3))).astype(np.float32)
    img[..., 2] = 0.4
    out = R.autocontrast(img)
    for k in range(2):
        c = img[..., k].astype(np.float64)
        np.testing.assert_allclose(out[..., k], (c - c.min()) / (c.max() - c.min()), atol=1e-6)
    np.testing.assert_array_equal(out[..., 2], img[..., 2])


def test_equalize_is_pils_equalize_of_the_truncated_8_bit_image():
    rng = np.random.default_rng(4)
    img = (rng.random((20, 16, 3)) ** 2).astype(np.float32)
    as_bytes = np.floor(img.astype(np.float64) * 255.999).astype(np.uint8)  # torchvision's float -> uint8
    with Image.fromarray(as_bytes) as pil, ImageOps.equalize(pil) as eq:
        expect = np.asarray(eq).astype(np.float32) * np.float32(1 / 255)
    np.testing.assert_array_equal(R.equalize(img), expect)


def test_released_ops_leave_their_input_alone_and_keep_shape_and_dtype():
    rng = np.random.default_rng(5)
    img = float_image(rng, 11, 13)
    before = img.copy()
    for name, op in R.LAYERMIX_OPS.items():
        out = op.apply(img, **op.sample(rng, 3.0, img.shape[:2]))
        assert out.shape == img.shape and out.dtype == np.float32, name
    np.testing.assert_array_equal(img, before)


def test_released_op_set_is_layermix_s_twelve():
    assert tuple(R.LAYERMIX_OPS) == ops.OP_SETS["layermix"]


# -- the released draws (magnitude 3) ------------------------------------------------------------------------------

N = 4000


def draws(name: str, shape=(32, 32), n: int = N, seed: int = 0) -> list[dict]:
    rng = np.random.default_rng(seed)
    return [R.LAYERMIX_OPS[name].sample(rng, 3.0, shape) for _ in range(n)]


def uniform_fit(values: np.ndarray, low: float, high: float, bins: int = 10) -> None:
    """All values in [low, high] and a chi-square test of uniformity over ``bins`` equal bins (p > 1e-4)."""
    assert values.min() >= low - 1e-12 and values.max() <= high + 1e-12
    counts = np.histogram(values, bins=bins, range=(low, high))[0]
    expect = len(values) / bins
    chi2 = ((counts - expect) ** 2 / expect).sum()
    assert chi2 < 37.7  # the 1e-4 tail of chi-square with 9 degrees of freedom


def test_posterize_draws_0_bits_with_probability_0_82(within):
    bits = Counter(p["bits"] for p in draws("posterize"))
    assert set(bits) == {0, 1} and within(bits[0], N, 0.9 / 1.1)
    inc = Counter(p["bits"] for p in draws("posterize_increasing"))
    assert set(inc) == {3, 4} and within(inc[4], N, 0.9 / 1.1)


def test_solarize_thresholds_are_uniform_on_the_released_ranges():
    uniform_fit(np.array([p["threshold"] for p in draws("solarize")]), 0.1, 0.3)
    uniform_fit(np.array([p["threshold"] for p in draws("solarize_increasing")]), -0.2, 0.1)


@pytest.mark.parametrize("name", ["shear_x", "shear_y"])
def test_shear_angles_are_atan_of_u_0_09_to_0_1_with_a_random_sign(name, within):
    deg = np.array([p["degrees"] for p in draws(name)])
    assert within((deg < 0).sum(), N, 0.5)
    uniform_fit(np.tan(np.radians(np.abs(deg))), 0.09, 0.1)
    assert np.abs(deg).min() > 5.14 and np.abs(deg).max() < 5.72


def test_rotation_angles_are_real_valued_u_0_1_to_9_with_a_random_sign(within):
    deg = np.array([p["degrees"] for p in draws("rotate")])
    assert within((deg < 0).sum(), N, 0.5)
    uniform_fit(np.abs(deg), 0.1, 9.0)
    assert (deg != np.round(deg)).all()


@pytest.mark.parametrize("side, high", [(32, 3.0), (224, 21.9)])
def test_translations_are_real_valued_up_to_int_0_33_side_times_0_3(side, high, within):
    for name in ("translate_x", "translate_y"):
        px = np.array([p["pixels"] for p in draws(name, (side, side))])
        assert within((px < 0).sum(), N, 0.5)
        uniform_fit(np.abs(px), 0.1, high)


# -- IPMix's released patch steps ----------------------------------------------------------------------------------


@pytest.mark.parametrize("size", [4, 8, 16, 32])
def test_released_boxes_are_half_squares_and_half_independent_sides_from_2_to_s(size, fits):
    rng = np.random.default_rng(size)
    boxes = [R.patch_box(rng, (32, 40), size) for _ in range(N)]
    # each side: s with probability 1/2 (the square), else uniform on 2..s, independently of the other side
    sides = range(2, size + 1)
    marginal = {v: 0.5 / (size - 1) + (0.5 if v == size else 0.0) for v in sides}
    for axis in (2, 3):
        assert fits(Counter(b[axis] for b in boxes), marginal)
    rect = [b for b in boxes if b[2] != size or b[3] != size]
    joint = {(u, v): 1 / ((size - 1) ** 2 - 1) for u in sides for v in sides if (u, v) != (size, size)}
    assert fits(Counter((b[2], b[3]) for b in rect), joint)
    p_square = 0.5 + 0.5 / (size - 1) ** 2
    assert fits([N - len(rect), len(rect)], [p_square, 1 - p_square])
    tops, lefts = Counter(b[0] for b in boxes), Counter(b[1] for b in boxes)
    assert fits(tops, {t: 1 for t in range(32 - size + 1)}) and fits(lefts, {v: 1 for v in range(40 - size + 1)})
    assert all(t + bh <= 32 and left + bw <= 40 for t, left, bh, bw in boxes)


def test_wrap_uint8_is_numpys_cast_truncating_then_keeping_the_low_byte():
    values = np.array([0.0, 254.9, 255.9, 256.0, 300.7, -0.5, -1.2, -300.2, 2e9 + 7.9, -2e9 - 7.9, 3e9, 1e37,
                       -1e37, np.nan, np.inf])
    expect = [0, 254, 255, 0, 44, 0, 255, 212, 7, 249, 0, 0, 0, 0, 0]
    assert R.wrap_uint8(values).tolist() == expect
    if platform.machine() in ("x86_64", "AMD64"):
        with np.errstate(invalid="ignore"):
            assert R.wrap_uint8(values).tolist() == values.astype(np.uint8).tolist()


@pytest.mark.parametrize("name", ["add", "multiply"])
def test_released_blend_box_computes_unclipped_floats_and_wraps_outside_the_box_untouched(name, noise):
    x, f = noise(16, 16, seed=1), noise(16, 16, seed=2)
    params = {"a": 1.7, "b": -0.8}
    out = x.copy()
    R.blend_box(name, out, f, (3, 4, 6, 5), **params)
    x1, x2 = x[3:9, 4:9] / 255, f[3:9, 4:9] / 255
    raw = blend.FLOAT_FORMULAS[name](x1, x2, **params) * 255
    expect = np.array([int(v) % 256 for v in raw.reshape(-1)], np.uint8).reshape(raw.shape)
    np.testing.assert_array_equal(out[3:9, 4:9], expect)
    mask = np.ones(x.shape[:2], bool)
    mask[3:9, 4:9] = False
    np.testing.assert_array_equal(out[mask], x[mask])
    assert ((raw < 0) | (raw >= 256)).any()  # the case wraps somewhere


def test_fractal_view_is_pils_grayscale_flipped():
    f = np.random.default_rng(9).integers(0, 256, (6, 8, 3), dtype=np.uint8)
    with Image.fromarray(f) as pil, pil.convert("L") as gray:
        g = np.asarray(gray)
    out = R.fractal_view(f, flip_h=True, flip_v=False)
    np.testing.assert_array_equal(out, np.repeat(g[:, ::-1, None], 3, 2))
    np.testing.assert_array_equal(R.fractal_view(f, flip_h=True, flip_v=True)[:, :, 0], g[::-1, ::-1])
    flips = [R.sample_fractal_flips(np.random.default_rng(s)) for s in range(400)]
    assert 150 < sum(d["flip_h"] for d in flips) < 250 and 150 < sum(d["flip_v"] for d in flips) < 250
