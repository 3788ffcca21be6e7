"""The blends against their formulas evaluated directly, their ranges, masks and coefficient draws."""

from __future__ import annotations

import math

import numpy as np
import pytest

from fractalgen.errors import ImageInputError, SettingsError
from fractalgen.mixing import blend


def add_formula(x1, x2, a, b):
    return np.clip((a * (2 * x1 - 1) + b * (2 * x2 - 1) + 1) / 2, 0, 1)


def multiply_formula(x1, x2, a, b):
    return np.clip((2 * x1) ** a * np.maximum(2 * x2, 1e-37) ** b / 2, 0, 1)


FORMULAS = {"add": add_formula, "multiply": multiply_formula}
COEFFS = [(0.7, 0.2), (1.4, -0.6), (1.95, -0.99), (0.05, 0.9)]  # interpolation and extrapolation cases


@pytest.fixture
def pair(noise):
    x1, x2 = noise(24, 20, seed=1), noise(24, 20, seed=2)
    x1[0, :3], x2[0, :3] = (0, 255, 0), (0, 0, 255)  # the extremes, where multiply's powers are delicate
    return x1, x2


@pytest.mark.parametrize("name", ["add", "multiply"])
@pytest.mark.parametrize("a, b", COEFFS)
def test_float_blend_is_the_formula(pair, name, a, b):
    f1, f2 = (x.astype(np.float64) / 255 for x in pair)
    np.testing.assert_allclose(blend.blend(name, f1, f2, a=a, b=b), FORMULAS[name](f1, f2, a, b), atol=1e-12)


@pytest.mark.parametrize("name", ["add", "multiply"])
@pytest.mark.parametrize("a, b", COEFFS)
def test_uint8_blend_is_the_formula_rounded_to_the_nearest_level(pair, name, a, b):
    f1, f2 = (x.astype(np.float64) / 255 for x in pair)
    expect = FORMULAS[name](f1, f2, a, b) * 255
    got = blend.blend(name, *pair, a=a, b=b).astype(np.float64)
    assert np.abs(got - expect).max() <= 0.5 + 1e-9


@pytest.mark.parametrize("name", ["random_pixels", "random_elements"])
def test_random_blends_take_each_value_from_x1_where_the_mask_is_set(pair, name):
    x1, x2 = pair
    params = {"p": 0.3, "key": 12345}
    out = blend.blend(name, x1, x2, **params)
    mask = blend.random_mask((24, 20, 3 if name == "random_elements" else 1), **params)
    np.testing.assert_array_equal(out, np.where(mask, x1, x2))
    f1, f2 = x1 / 255.0, x2 / 255.0
    np.testing.assert_array_equal(blend.blend(name, f1, f2, **params), np.where(mask, f1, f2))


def test_random_pixels_share_the_mask_across_channels_and_random_elements_do_not():
    x1, x2 = np.full((40, 40, 3), 255, np.uint8), np.zeros((40, 40, 3), np.uint8)
    pixels = blend.random_pixels(x1, x2, p=0.5, key=7)
    elements = blend.random_elements(x1, x2, p=0.5, key=7)
    assert (pixels.min(axis=2) == pixels.max(axis=2)).all()
    assert (elements.min(axis=2) != elements.max(axis=2)).any()


@pytest.mark.parametrize("p", [0.05, 0.5, 0.93])
def test_mask_density_is_p(p):
    n = 200 * 200
    mask = blend.random_mask((200, 200), p, key=99)
    assert abs(mask.mean() - p) < 4 * math.sqrt(p * (1 - p) / n)


def test_masks_differ_by_key_and_repeat_for_one_key():
    a, b, c = (blend.random_mask((16, 16, 3), 0.5, k) for k in (1, 1, 2))
    assert np.array_equal(a, b) and not np.array_equal(a, c)


@pytest.mark.parametrize("name", blend.BLENDS)
@pytest.mark.parametrize("dtype", [np.uint8, np.float32, np.float64])
def test_results_keep_shape_and_dtype_stay_in_range_and_leave_inputs_alone(pair, name, dtype):
    x1, x2 = (x if dtype == np.uint8 else (x / 255).astype(dtype) for x in pair)
    before = x1.copy(), x2.copy()
    rng = np.random.default_rng(3)
    for _ in range(20):
        out = blend.blend(name, x1, x2, **blend.sample_params(name, rng, 3.0))
        assert out.shape == x1.shape and out.dtype == dtype
        assert out.min() >= 0 and out.max() <= (255 if dtype == np.uint8 else 1)
    assert np.array_equal(x1, before[0]) and np.array_equal(x2, before[1])


def test_extrapolation_is_clipped_not_wrapped():
    x1, x2 = np.full((4, 4, 3), 250, np.uint8), np.full((4, 4, 3), 5, np.uint8)
    assert (blend.add(x1, x2, a=1.9, b=-0.9) == 255).all()  # unclipped it would exceed 1: 8-bit wrap is salt noise
    assert (blend.add(x2, x1, a=1.9, b=-0.9) == 0).all()


def test_mixed_kinds_follow_x1(pair):
    x1, x2 = pair
    out = blend.add(x1, x2 / 255.0, a=0.6, b=0.3)
    assert out.dtype == np.uint8
    # the float path and the table path round the same formula; they may differ on ties only
    assert np.abs(out.astype(int) - blend.add(x1, x2, a=0.6, b=0.3)).max() <= 1
    assert blend.add(x1 / 255.0, x2, a=0.6, b=0.3).dtype == np.float64


@pytest.mark.parametrize("name", blend.BLENDS)
def test_blend_box_changes_the_box_only_and_equals_blending_the_crops(pair, name):
    x1, x2 = pair
    params = blend.sample_params(name, np.random.default_rng(5), 3.0)
    box = (3, 5, 7, 11)
    img = x1.copy()
    blend.blend_box(name, img, x2, box, **params)
    expect = x1.copy()
    expect[3:10, 5:16] = blend.blend(name, x1[3:10, 5:16], x2[3:10, 5:16], **params)
    np.testing.assert_array_equal(img, expect)


def test_weighted_sum_is_the_sum(noise):
    images = [noise(6, 5, seed=s) for s in range(4)]
    w = [0.1, 0.5, 0.15, 0.25]
    expect = sum(wi * im / 255.0 for wi, im in zip(w, images))
    np.testing.assert_allclose(blend.weighted_sum(images, w), expect, atol=1e-6)


def test_get_ab_interpolates_half_the_time_with_beta_distributed_coefficients():
    n, beta = 4000, 3.0
    rng = np.random.default_rng(0)
    ab = np.array([blend.get_ab(rng, beta) for _ in range(n)])
    inter = ab[:, 0] < 1  # a ~ Beta(beta, 1) < 1; a = 1 + Beta(1, beta) > 1 when extrapolating
    assert abs(inter.mean() - 0.5) < 4 * math.sqrt(0.25 / n)
    assert (ab[inter, 1] > 0).all() and (ab[~inter, 1] < 0).all()
    # E[Beta(3, 1)] = 3/4 (sd 0.19), E[Beta(1, 3)] = 1/4 (sd 0.19)
    sd = math.sqrt(3 / 80)
    assert abs(ab[inter, 0].mean() - 0.75) < 4 * sd / math.sqrt(inter.sum())
    assert abs(ab[~inter, 0].mean() - 1.25) < 4 * sd / math.sqrt((~inter).sum())
    assert abs(-ab[~inter, 1].mean() - 0.25) < 4 * sd / math.sqrt((~inter).sum())


@pytest.mark.parametrize("call, error, needle", [
    (lambda x: blend.blend("screen", x, x), SettingsError, "unknown blend 'screen'"),
    (lambda x: blend.sample_params("screen", np.random.default_rng(0), 3.0), SettingsError, "unknown blend"),
    (lambda x: blend.add(x, x[:-1], a=1, b=0), ImageInputError, "one shape"),
    (lambda x: blend.add(x, x.astype(np.int16), a=1, b=0), ImageInputError, "uint8 or float"),
    (lambda x: blend.add(x, [[1]], a=1, b=0), ImageInputError, "arrays"),
])
def test_bad_blend_calls_get_one_line_errors(pair, call, error, needle):
    with pytest.raises(error, match=needle):
        call(pair[0])


def test_blends_leave_global_random_state_alone(global_rng_guard, pair):
    rng = np.random.default_rng(0)
    for name in blend.BLENDS:
        blend.blend(name, *pair, **blend.sample_params(name, rng, 4.0))
