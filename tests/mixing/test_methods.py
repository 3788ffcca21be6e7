"""What PixMix, IPMix and LayerMix share: input kinds, views, seeding, presets, repr, errors."""

from __future__ import annotations

import pickle

import numpy as np
import pytest
from PIL import Image

from fractalgen.errors import ImageInputError, SettingsError
from fractalgen.mixing import METHODS, FractalMaskMix, FractalSource, IPMix, LayerMix, PixMix

ALL = [PixMix, IPMix, LayerMix]


class CountingSource:
    """A source that counts its draws (a method draws at most one fractal per sample)."""

    def __init__(self, inner: FractalSource) -> None:
        self.inner = inner
        self.calls = 0

    def sample(self, rng=None):
        self.calls += 1
        return self.inner.sample(rng)


@pytest.fixture(params=ALL, ids=lambda c: c.__name__)
def method(request):
    return request.param


@pytest.mark.parametrize("kind", ["uint8", "float32", "float64", "pil"])
def test_output_has_the_input_kind_and_shape(method, source, scene, kind):
    img = scene()
    x = {"uint8": img, "float32": img / np.float32(255), "float64": img / 255.0, "pil": Image.fromarray(img)}[kind]
    aug = method(source, seed=0)
    for _ in range(10):
        out = aug(x)
        if kind == "pil":
            assert isinstance(out, Image.Image) and out.mode == "RGB" and out.size == (32, 32)
        else:
            assert out.shape == (32, 32, 3) and out.dtype == x.dtype
            assert out.min() >= 0 and out.max() <= (255 if kind == "uint8" else 1)


def test_input_is_left_alone(method, source, scene):
    img = scene()
    before = img.copy()
    aug = method(source, seed=1)
    for _ in range(20):
        aug(img)
    np.testing.assert_array_equal(img, before)


def test_augment_returns_float32_of_the_same_pixels(method, source, scene):
    img = scene()
    a, b = method(source, seed=3), method(source, seed=3)
    for _ in range(5):
        out8, outf = a(img), b.augment(img)
        assert outf.dtype == np.float32
        assert np.abs(outf * 255 - out8).max() <= 0.5 + 1e-3


def test_a_seed_fixes_the_stream_and_an_rng_overrides_it(method, source, scene):
    img = scene()
    a, b, c = (method(source, seed=s) for s in (7, 7, 8))
    seq_a = [a(img).tobytes() for _ in range(8)]
    assert seq_a == [b(img).tobytes() for _ in range(8)]
    assert seq_a != [c(img).tobytes() for _ in range(8)]
    assert a(img, np.random.default_rng(5)).tobytes() == c(img, np.random.default_rng(5)).tobytes()


def test_reseed_restarts_the_stream(method, source, scene):
    img = scene()
    aug = method(source, seed=0)
    aug.reseed(11)
    first = [aug(img).tobytes() for _ in range(4)]
    aug.reseed(11)
    assert first == [aug(img).tobytes() for _ in range(4)]


def test_three_views_are_clean_and_two_augmentations_sharing_one_fractal(method, source, scene):
    img = scene()
    counting = CountingSource(source)
    aug = method(counting, views=3, seed=2)
    differ = 0
    for _ in range(20):
        clean, a1, a2 = aug(img)
        np.testing.assert_array_equal(clean, img)
        differ += not np.array_equal(a1, a2)
    assert counting.calls <= 20 and differ >= 10
    pil_views = aug(Image.fromarray(img))
    assert len(pil_views) == 3 and all(isinstance(v, Image.Image) for v in pil_views)
    f_clean, *_ = aug(img / 255.0)
    np.testing.assert_array_equal(f_clean, img / 255.0)


def test_at_most_one_fractal_per_sample_and_none_when_no_plan_uses_it(method, source, scene):
    img = scene()
    counting = CountingSource(source)
    aug = method(counting, seed=4)
    rng = np.random.default_rng(100)
    for _ in range(40):
        before = counting.calls
        aug(img)
        assert counting.calls - before <= 1
        plan = aug.sample_params(rng, img.shape[:2])
        aug.apply(img, source.sample() if aug.needs_fractal(plan) else None, plan)  # None suffices if unused
    assert 0 < counting.calls < 40


def test_methods_pickle_and_keep_their_stream(method, source, scene):
    img = scene()
    aug = method(source, seed=9)
    clone = pickle.loads(pickle.dumps(aug))
    assert [aug(img).tobytes() for _ in range(3)] == [clone(img).tobytes() for _ in range(3)]


def test_plans_are_json_ready(method, source):
    import json

    aug = method(source)
    rng = np.random.default_rng(0)
    for _ in range(20):
        plan = aug.sample_params(rng, (32, 32))
        assert json.loads(json.dumps(plan)) is not None


def test_presets_and_overrides(source):
    assert (PixMix(source).beta, PixMix(source).severity, PixMix(source).k) == (3.0, 3.0, 4)
    assert (PixMix(source, "imagenet").beta, PixMix(source, "imagenet").severity) == (4.0, 1.0)
    ip = IPMix(source, "imagenet")
    assert (ip.k, ip.t, ip.alpha, ip.beta, ip.severity) == (3, 3, 1.0, 4.0, 1.0)
    assert ip.patch_sizes == (4, 8, 16, 32, 64, 224) and IPMix(source).patch_sizes == (4, 8, 16, 32)
    assert (LayerMix(source, "imagenet").severity, LayerMix(source, "imagenet").beta) == (3.0, 3.0)
    assert PixMix(source, "imagenet", beta=2, k=1).beta == 2.0 and PixMix(source, k=1).k == 1
    assert len(PixMix(source).ops) == 9 and len(PixMix(source, ops=["augmix", "enhance"]).ops) == 13
    assert len(IPMix(source).ops) == 10 and len(LayerMix(source).ops) == 12
    assert set(METHODS.values()) == {*ALL, FractalMaskMix}


def test_repr_names_the_method_and_its_settings(method, source):
    text = repr(method(source, preset="imagenet", seed=3))
    assert text.startswith(method.__name__ + "(preset='imagenet'") and "severity=" in text and "seed=3" in text
    assert "FractalSource(" in text


@pytest.mark.parametrize("kwargs, needle", [
    ({"preset": "svhn"}, "preset = 'svhn'"),
    ({"views": 2}, "views = 2"),
    ({"severity": 0}, "severity = 0"),
    ({"beta": -1}, "beta = -1"),
    ({"ops": ["rotate", "blur"]}, "unknown image op 'blur'"),
])
def test_bad_settings_get_recipe_errors(method, source, kwargs, needle):
    with pytest.raises(SettingsError, match=needle):
        method(source, **kwargs)


@pytest.mark.parametrize("img, needle", [
    (np.zeros((32, 32), np.uint8), "expected an \\(H, W, 3\\) image"),
    (np.zeros((32, 32, 4), np.uint8), "expected an \\(H, W, 3\\) image"),
    (np.zeros((32, 32, 3), np.int32), "uint8 or float"),
    (np.full((32, 32, 3), 2.0), "values in \\[0, 1\\]"),
    (np.zeros((40, 40, 3), np.uint8), "size=40"),
    ("photo.png", "cannot augment a str"),
])
def test_bad_images_get_image_errors(method, source, img, needle):
    aug = method(source, seed=0)
    with pytest.raises(ImageInputError, match=needle) as err:
        for _ in range(30):  # a size mismatch shows when a plan draws a fractal
            aug(img)
    assert "\n" not in str(err.value)


def test_a_source_made_from_an_array_is_accepted(fractals, scene):
    assert PixMix(fractals, seed=0).source.size == 32
    assert PixMix(fractals, seed=0)(scene()).shape == (32, 32, 3)


def test_methods_leave_global_random_state_alone(global_rng_guard, method, source, scene):
    aug = method(source, views=3)
    for _ in range(10):
        aug(scene())
