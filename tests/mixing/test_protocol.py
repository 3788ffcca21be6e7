"""The one mixing protocol: settings checked in one place, rng as None / int / Generator, JSON-ready params that
replay exactly, the image kinds in and out, and the size checked on every call."""

from __future__ import annotations

import json
import multiprocessing
import pickle

import numpy as np
import pytest
from PIL import Image

from fractalgen.errors import ImageInputError, SettingsError, UpsampleWarning
from fractalgen.mixing import METHODS, FractalMaskMix, FractalSource, IPMix, LayerMix, PixMix
from fractalgen.mixing.base import to_float
from fractalgen.seeding import Stream, as_rng

ALL = list(METHODS.values())


@pytest.mark.parametrize("method", [PixMix, IPMix, LayerMix])
@pytest.mark.parametrize("value", [float("inf"), float("nan"), -1, 0, "3", True])
def test_beta_must_be_a_finite_positive_number(method, source, value):
    with pytest.raises(SettingsError, match=r"beta = .* must be a finite number > 0, e\.g\. 3"):
        method(source, beta=value)


@pytest.mark.parametrize("method, kwargs, needle", [
    (IPMix, {"alpha": float("inf")}, "alpha = inf must be a finite number > 0"),
    (IPMix, {"alpha": float("nan")}, "alpha = nan"),
    (IPMix, {"k": 0}, "k = 0 must be an integer >= 1"),
    (IPMix, {"t": 1.5}, "t = 1.5 must be an integer"),
    (IPMix, {"patch_sizes": ()}, "patch_sizes is empty"),
    (IPMix, {"p_augmented": 2}, r"p_augmented = 2 must be a number in \[0, 1\]"),
    (PixMix, {"k": -1}, "k = -1 must be an integer >= 0"),
    (PixMix, {"severity": float("inf")}, "severity = inf"),
    (LayerMix, {"fractal_gray": "yes"}, "fractal_gray = 'yes' must be True or False"),
    (FractalMaskMix, {"alpha": float("inf")}, "alpha = inf"),
    (FractalMaskMix, {"max_share": -0.1}, "max_share"),
    (FractalMaskMix, {"variant": "released"}, "no released variant"),
    (PixMix, {"seed": -3}, "seed = -3; pass a non-negative integer"),
    (PixMix, {"views": 2}, "views = 2 is not one of 1, 3"),
])
def test_bad_settings_name_the_setting_and_the_fix(source, method, kwargs, needle):
    with pytest.raises(SettingsError, match=needle):
        method(source, **kwargs)


@pytest.mark.parametrize("method", ALL)
def test_rng_is_none_an_int_or_a_generator_in_the_same_place(method, source, scene):
    aug, img = method(source), scene()
    np.testing.assert_array_equal(aug(img, rng=5), aug(img, np.random.default_rng(5)))
    assert aug.sample_params(5, (32, 32)) == aug.sample_params(np.random.default_rng(5), (32, 32))
    aug(img, rng=None)
    for bad in (-1, 1.5, "x"):
        with pytest.raises(SettingsError, match="rng = "):
            aug(img, rng=bad)


@pytest.mark.parametrize("method", ALL)
def test_params_are_json_ready_and_replay_exactly(method, source, scene):
    aug, img = method(source), scene()
    for seed in range(12):
        params = aug.sample_params(seed, (32, 32))
        replayed = json.loads(json.dumps(params))
        fractal = source.sample(seed)
        np.testing.assert_array_equal(aug.apply(img, fractal, params), aug.apply(img, fractal, replayed))
    gen = np.random.default_rng(3)
    params = aug.sample_params(gen, (32, 32))
    fractal = source.sample(gen) if aug.needs_fractal(params) else None
    np.testing.assert_array_equal(aug.augment(img, rng=3), to_float(aug.apply(img, fractal, params)))


@pytest.mark.parametrize("method", ALL)
def test_the_size_is_checked_on_every_call_naming_both_sizes(method, source, scene):
    aug, img = method(source), scene(24, 24)
    for seed in range(30):  # not only when the params happen to draw a fractal
        with pytest.raises(ImageInputError, match=r"the image is 24x24 but .* gives 32x32 crops; resize or crop "
                                                  r"the images to 32x32, or make the source with size=24"):
            aug(img, rng=seed)


@pytest.mark.parametrize("method", ALL)
def test_image_kinds_come_back_as_they_came(method, source, scene):
    torch = pytest.importorskip("torch")
    aug, img = method(source), scene()
    ref = aug(img, rng=1)
    pil = aug(Image.fromarray(img), rng=1)
    assert isinstance(pil, Image.Image) and pil.mode == "RGB"
    np.testing.assert_array_equal(np.asarray(pil), ref)
    as_float = aug(img / np.float32(255), rng=1)
    assert as_float.dtype == np.float32 and as_float.shape == (32, 32, 3)
    chw = torch.from_numpy(img.transpose(2, 0, 1).copy())
    out = aug(chw, rng=1)
    assert isinstance(out, torch.Tensor) and out.dtype == torch.uint8 and out.shape == (3, 32, 32)
    np.testing.assert_array_equal(out.numpy().transpose(1, 2, 0), ref)
    out = aug(chw.float() / 255, rng=1)
    assert out.dtype == torch.float32 and out.shape == (3, 32, 32) and 0 <= float(out.min()) <= float(out.max()) <= 1
    np.testing.assert_allclose(out.numpy().transpose(1, 2, 0), as_float, atol=1e-6)
    three = method(source, views=3)(chw.double() / 255, rng=1)
    assert [t.dtype for t in three] == [torch.float64] * 3 and torch.equal(three[0], chw.double() / 255)
    gray = Image.fromarray(img[:, :, 0])  # other PIL modes go through images.to_8bit
    assert aug(gray, rng=1).mode == "RGB"
    with pytest.raises(ImageInputError, match=r"expected a \(3, H, W\) tensor"):
        aug(chw[:1], rng=1)


def test_readable_repr(source):
    for method in ALL:
        text = repr(method(source, seed=4))
        assert text.startswith(f"{method.__name__}(preset='cifar'") and "seed=4" in text and "source=" in text


def test_a_source_that_enlarges_its_set_warns(fractals):
    with pytest.warns(UpsampleWarning, match=r"enlarges its 36x36 images to 72x72 .* make the set at least 72 px"):
        FractalSource(fractals, size=64)


# -- streams (fractalgen.seeding) ---------------------------------------------------------------------------------


def _draw(stream):
    return stream.generator().integers(2**62)


def _in_children(stream, n=2):
    ctx = multiprocessing.get_context("fork")
    with ctx.Pool(n) as pool:
        return pool.map(_draw, [stream] * n)  # pickled to the children: each builds its own


def test_a_seeded_stream_restarts_from_its_seed_and_never_pickles_its_state():
    s = Stream(11)
    first = _draw(s)
    assert _draw(s) != first and _draw(Stream(11)) == first
    copy = pickle.loads(pickle.dumps(s))
    assert _draw(copy) == first  # the seed travels, the state does not
    assert as_rng(None, s) is s.generator() and as_rng(4).integers(9) == np.random.default_rng(4).integers(9)


@pytest.mark.skipif("fork" not in multiprocessing.get_all_start_methods(), reason="no fork here")
def test_unseeded_streams_differ_in_every_process():
    s = Stream()
    s.generator()  # made in the parent first: the children must not reuse it
    a, b = _in_children(s)
    assert a != b and _draw(s) not in (a, b)
