"""The image ops against PIL, their parameter ranges at severity 1 and 3, and their input handling."""

from __future__ import annotations

import math

import numpy as np
import pytest
from PIL import Image, ImageEnhance, ImageOps

from fractalgen.errors import ImageInputError, SettingsError
from fractalgen.mixing import ops


def pil_apply(img: np.ndarray, fn) -> np.ndarray:
    with Image.fromarray(img if img.shape[2] == 3 else img[:, :, 0]) as pil:
        with fn(pil) as out:
            arr = np.asarray(out)
    return arr if arr.ndim == 3 else arr[:, :, None]


def affine_ref(matrix):
    return lambda pil: pil.transform(pil.size, Image.AFFINE, matrix, resample=Image.BILINEAR)


# (op name, params, the PIL reference) for ops that must give PIL's bytes
EXACT = [
    ("autocontrast", {}, ImageOps.autocontrast),
    ("equalize", {}, ImageOps.equalize),
    ("posterize", {"bits": 3}, lambda p: ImageOps.posterize(p, 3)),
    ("posterize", {"bits": 1}, lambda p: ImageOps.posterize(p, 1)),
    ("solarize", {"threshold": 200}, lambda p: ImageOps.solarize(p, 200)),
    ("solarize", {"threshold": 128}, lambda p: ImageOps.solarize(p, 128)),
    ("invert", {}, ImageOps.invert),
    ("mirror", {}, ImageOps.mirror),
    ("translate_x", {"pixels": 3}, affine_ref((1, 0, 3, 0, 1, 0))),
    ("translate_y", {"pixels": -5}, affine_ref((1, 0, 0, 0, 1, -5))),
    ("translate_x", {"pixels": 40}, affine_ref((1, 0, 40, 0, 1, 0))),
    ("grayscale", {}, lambda p: p.convert("L").convert(p.mode)),
    ("rotate", {"degrees": 8}, lambda p: p.rotate(8, resample=Image.BILINEAR)),
    ("rotate", {"degrees": -3}, lambda p: p.rotate(-3, resample=Image.BILINEAR)),
    ("shear_x", {"level": 0.09}, affine_ref((1, 0.09, 0, 0, 1, 0))),
    ("shear_y", {"level": -0.05}, affine_ref((1, 0, 0, -0.05, 1, 0))),
    ("translate_x", {"pixels": 2.5}, affine_ref((1, 0, 2.5, 0, 1, 0))),
    ("color", {"factor": 0.4}, lambda p: ImageEnhance.Color(p).enhance(0.4)),
    ("color", {"factor": 1.7}, lambda p: ImageEnhance.Color(p).enhance(1.7)),
    ("contrast", {"factor": 0.3}, lambda p: ImageEnhance.Contrast(p).enhance(0.3)),
    ("contrast", {"factor": 1.5}, lambda p: ImageEnhance.Contrast(p).enhance(1.5)),
    ("brightness", {"factor": 0.6}, lambda p: ImageEnhance.Brightness(p).enhance(0.6)),
    ("brightness", {"factor": 1.6}, lambda p: ImageEnhance.Brightness(p).enhance(1.6)),
    ("sharpness", {"factor": 0.2}, lambda p: ImageEnhance.Sharpness(p).enhance(0.2)),
    ("sharpness", {"factor": 1.8}, lambda p: ImageEnhance.Sharpness(p).enhance(1.8)),
    ("rotate", {"degrees": 90}, lambda p: p.rotate(90, resample=Image.BILINEAR)),
    ("rotate", {"degrees": -180}, lambda p: p.rotate(-180, resample=Image.BILINEAR)),
    ("rotate", {"degrees": 271.5}, lambda p: p.rotate(271.5, resample=Image.BILINEAR)),
]


@pytest.fixture(params=["noise", "scene", "scene-odd", "gray"])
def image(request, noise, scene):
    return {"noise": lambda: noise(32, 32), "scene": lambda: scene(32, 32),
            "scene-odd": lambda: scene(37, 45, seed=2), "gray": lambda: scene(40, 40)[:, :, 1:2]}[request.param]()


@pytest.mark.parametrize("name, params, ref", EXACT, ids=[f"{n}-{p}" for n, p, _ in EXACT])
def test_op_gives_pils_bytes(image, name, params, ref):
    np.testing.assert_array_equal(ops.apply(name, image, **params), pil_apply(image, ref))


# PIL's call for each op and its params (the random-parameter sweep below)
PIL_CALLS = {
    "rotate": lambda pil, p: pil.rotate(p["degrees"], resample=Image.BILINEAR),
    "shear_x": lambda pil, p: affine_ref((1, p["level"], 0, 0, 1, 0))(pil),
    "shear_y": lambda pil, p: affine_ref((1, 0, 0, p["level"], 1, 0))(pil),
    "translate_x": lambda pil, p: affine_ref((1, 0, p["pixels"], 0, 1, 0))(pil),
    "translate_y": lambda pil, p: affine_ref((1, 0, 0, 0, 1, p["pixels"]))(pil),
    "color": lambda pil, p: ImageEnhance.Color(pil).enhance(p["factor"]),
    "contrast": lambda pil, p: ImageEnhance.Contrast(pil).enhance(p["factor"]),
    "sharpness": lambda pil, p: ImageEnhance.Sharpness(pil).enhance(p["factor"]),
}


def random_case(rng: np.random.Generator) -> np.ndarray:
    """An image of a random size 8..256 (log-uniform per side), 1 or 3 channels, noise or smooth ramps."""
    h, w = np.exp(rng.uniform(np.log(8), np.log(257), 2)).astype(int)
    c = 3 if rng.random() < 0.75 else 1
    if rng.random() < 0.5:
        return rng.integers(0, 256, (h, w, c), dtype=np.uint8)
    return np.clip(np.cumsum(rng.integers(-12, 13, (h, w, c)), axis=1) + 128, 0, 255).astype(np.uint8)


def random_params(name: str, rng: np.random.Generator, shape) -> dict:
    """The op's own draws at a random severity, and half the time a wilder value (any angle, any shift)."""
    params = ops.sample_params(name, rng, float(rng.uniform(0.2, 10)), shape)
    if rng.random() < 0.5:
        if name == "rotate":
            params = {"degrees": float(rng.uniform(-400, 400))}
        elif name.startswith("shear"):
            params = {"level": float(rng.uniform(-1, 1))}
        elif name.startswith("translate"):
            params = {"pixels": float(rng.uniform(-1.2, 1.2) * shape[1 if name.endswith("x") else 0])}
    return params


@pytest.mark.parametrize("name, cases", [("rotate", 1000), ("shear_x", 400), ("shear_y", 400),
                                         ("translate_x", 400), ("translate_y", 400), ("color", 150),
                                         ("contrast", 150), ("sharpness", 150)])
def test_op_gives_pils_bytes_for_random_params_and_sizes_8_to_256(name, cases):
    # the fixed-point kernel this replaced was off by up to 234 grey levels on a few border pixels
    rng = np.random.default_rng(sum(map(ord, name)))
    for _ in range(cases):
        img = random_case(rng)
        params = random_params(name, rng, img.shape[:2])
        ours = ops.apply(name, img, **params)
        ref = pil_apply(img, lambda pil: PIL_CALLS[name](pil, params))
        if not np.array_equal(ours, ref):
            bad = np.argwhere(ours != ref)[0]
            pytest.fail(f"{name} {params} on {img.shape}: first difference at {tuple(bad)}: "
                        f"{ours[tuple(bad)]} vs PIL {ref[tuple(bad)]}")


def test_every_registered_op_is_checked_against_pil():
    checked = {name for name, _, _ in EXACT}
    assert checked | {"posterize_increasing", "solarize_increasing"} == set(ops.OPS)


def test_rotate_by_zero_is_a_copy_and_shear_by_zero_is_identity(scene):
    img = scene()
    assert np.array_equal(ops.rotate(img, 0), img) and np.array_equal(ops.rotate(img, 360), img)
    assert np.array_equal(ops.shear_x(img, 0.0), img) and np.array_equal(ops.shear_y(img, 0.0), img)


@pytest.mark.parametrize("name", sorted(ops.OPS))
def test_op_keeps_shape_and_dtype_and_leaves_its_input_alone(name, scene):
    img = scene(20, 28)
    before = img.copy()
    params = ops.sample_params(name, np.random.default_rng(0), 3.0, img.shape[:2])
    out = ops.apply(name, img, **params)
    assert out.shape == img.shape and out.dtype == np.uint8 and out is not img
    np.testing.assert_array_equal(img, before)


@pytest.mark.parametrize("name", sorted(ops.OPS))
@pytest.mark.parametrize("fill", [0, 255, None])
def test_op_handles_tiny_and_flat_images(name, fill):
    img = np.full((1, 1, 3), fill, np.uint8) if fill is not None else np.array([[[10, 200, 30]]], np.uint8)
    params = ops.sample_params(name, np.random.default_rng(1), 3.0, (1, 1))
    assert ops.apply(name, img, **params).shape == (1, 1, 3)
    flat = np.full((8, 8, 3), 255 if fill is None else fill, np.uint8)
    assert ops.apply(name, flat, **params).shape == flat.shape


# -- parameter draws ------------------------------------------------------------------------------------------------


def draws(name, severity, shape=(32, 32), n=4000, seed=0):
    rng = np.random.default_rng(seed)
    return [ops.sample_params(name, rng, severity, shape) for _ in range(n)]


@pytest.mark.parametrize("name, key, severity, shape, values", [
    ("posterize", "bits", 3, (32, 32), {3, 4}),
    ("posterize", "bits", 1, (32, 32), {4}),
    ("rotate", "degrees", 3, (32, 32), set(range(-8, 9))),
    ("rotate", "degrees", 1, (32, 32), {-2, -1, 0, 1, 2}),
    ("translate_x", "pixels", 3, (32, 32), set(range(-3, 4))),
    ("translate_y", "pixels", 3, (224, 224), set(range(-22, 23))),
    ("translate_x", "pixels", 1, (224, 224), set(range(-7, 8))),
    ("posterize_increasing", "bits", 3, (32, 32), {2, 3, 4}),
])
def test_integer_magnitudes_take_every_value_of_the_spec_range_and_no_other(name, key, severity, shape, values):
    assert {p[key] for p in draws(name, severity, shape)} == values


def test_solarize_thresholds_span_the_spec_range():
    for severity, lo, hi in ((3, 180, 254), (1, 231, 254)):
        t = [p["threshold"] for p in draws("solarize", severity)]
        assert min(t) >= lo and max(t) <= hi
        assert min(t) <= lo + 3 and max(t) >= hi - 3  # the ends are reached (each end has ~1/3000 mass per level)


def test_increasing_variants_are_bounded_at_every_severity():
    bits = [p["bits"] for p in draws("posterize_increasing", 10)]
    thresholds = [p["threshold"] for p in draws("solarize_increasing", 10)]
    assert min(bits) == 1 and min(thresholds) == 128  # never 0 bits (black), never inverting everything
    t3 = [p["threshold"] for p in draws("solarize_increasing", 3)]
    assert min(t3) == 128 and max(t3) <= 251


@pytest.mark.parametrize("name, key, scale", [("shear_x", "level", 0.3), ("shear_y", "level", 0.3),
                                              ("color", "factor", 1.8), ("sharpness", "factor", 1.8)])
@pytest.mark.parametrize("severity", [1.0, 3.0])
def test_float_magnitude_is_u_times_scale_over_ten_with_u_uniform(name, key, scale, severity):
    n = 4000
    values = np.array([p[key] for p in draws(name, severity, n=n)])
    offset = 0.1 if name in ("color", "sharpness") else 0.0
    u = (np.abs(values) - offset) * 10 / scale  # back to AugMix's level u ~ U(0.1, severity)
    assert u.min() >= 0.1 - 1e-9 and u.max() <= severity
    mean, sd = (0.1 + severity) / 2, (severity - 0.1) / math.sqrt(12)
    assert abs(u.mean() - mean) < 4 * sd / math.sqrt(n)
    if offset == 0.0:  # signed ops: each sign half the time
        assert abs((values < 0).mean() - 0.5) < 4 * math.sqrt(0.25 / n)


def test_rotation_degrees_follow_the_truncated_uniform_level():
    n = 4000
    degrees = np.abs([p["degrees"] for p in draws("rotate", 3.0, n=n)])
    # int(3 u) = k for u in [k / 3, (k + 1) / 3) intersected with [0.1, 3): P(0) = (1/3 - 0.1) / 2.9
    p0 = (1 / 3 - 0.1) / 2.9
    assert abs((degrees == 0).mean() - p0) < 4 * math.sqrt(p0 * (1 - p0) / n)


# -- names, sets and errors -----------------------------------------------------------------------------------------


def test_op_sets_resolve_to_the_spec_counts():
    assert len(ops.resolve_ops("augmix")) == 9
    assert len(ops.resolve_ops("ipmix")) == 10
    assert len(ops.resolve_ops("layermix")) == 12
    published = ops.resolve_ops(["augmix", "enhance"])
    assert len(published) == 13 and published[-4:] == ("color", "contrast", "brightness", "sharpness")
    assert ops.resolve_ops(["rotate", "augmix", "rotate"])[0] == "rotate"
    assert len(ops.resolve_ops(["rotate", "augmix", "rotate"])) == 9


@pytest.mark.parametrize("bad", [np.zeros((4, 4), np.uint8), np.zeros((4, 4, 3), np.float32),
                                 np.zeros((4, 4, 4), np.uint8), np.zeros((0, 4, 3), np.uint8), [[1, 2]]])
def test_bad_images_get_a_one_line_error(bad):
    with pytest.raises(ImageInputError, match="must be a uint8 \\(H, W, 1 or 3\\) array") as err:
        ops.equalize(bad)
    assert "\n" not in str(err.value)


@pytest.mark.parametrize("call, needle", [
    (lambda: ops.apply("blur", np.zeros((2, 2, 3), np.uint8)), "unknown image op 'blur'"),
    (lambda: ops.resolve_ops(["augmix", "sepia"]), "unknown image op 'sepia'"),
    (lambda: ops.resolve_ops([]), "the op set is empty"),
    (lambda: ops.posterize(np.zeros((2, 2, 3), np.uint8), 0), "posterize bits = 0"),
    (lambda: ops.check_severity(0), "severity = 0"),
])
def test_bad_names_and_values_get_a_recipe_error(call, needle):
    with pytest.raises(SettingsError, match=needle):
        call()


def test_ops_leave_global_random_state_alone(global_rng_guard, scene):
    img = scene()
    rng = np.random.default_rng(0)
    for name in ops.OPS:
        ops.apply(name, img, **ops.sample_params(name, rng, 3.0, img.shape[:2]))
