"""FractalSource: crops, resizing, grayscale broadcast, in-memory and lazy modes, seeding, pickling, errors."""

from __future__ import annotations

import math
import pickle

import numpy as np
import pytest
from PIL import Image

from fractalgen.errors import ImageInputError, RecipeError, SettingsError
from fractalgen.mixing import FractalSource, source as source_mod


class FakeStore:
    """The store contract (len, shape, [i], load(size=), cheap pickling), counting what is read."""

    def __init__(self, images: np.ndarray) -> None:
        self.images = images
        self.shape = images.shape[1:]
        self.reads = 0
        self.loads = []

    def __len__(self) -> int:
        return len(self.images)

    def __getitem__(self, i: int) -> np.ndarray:
        self.reads += 1
        return self.images[i]

    def load(self, size: int) -> np.ndarray:
        self.loads.append(size)
        return np.stack([np.asarray(Image.fromarray(im).resize((size, size), Image.BILINEAR)) for im in self.images])

    def __getstate__(self):  # a real store pickles its path only
        return {"images": self.images[:0].copy(), "shape": self.shape, "reads": 0, "loads": []}

    def __setstate__(self, state):
        self.__dict__.update(state)


def windows(data: np.ndarray, size: int) -> set[bytes]:
    """Every size x size crop of every image, as bytes."""
    n, h, w, _ = data.shape
    return {data[i, y:y + size, x:x + size].tobytes() for i in range(n) for y in range(h - size + 1)
            for x in range(w - size + 1)}


def test_draws_are_random_crops_of_the_set(fractals):
    src = FractalSource(fractals, size=32, seed=0)
    assert src.resized == (36, 36) and len(src) == 12 and src.in_memory
    crops = windows(fractals, 32)
    for _ in range(50):
        out = src.sample()
        assert out.shape == (32, 32, 3) and out.dtype == np.uint8
        assert out.tobytes() in crops


def test_image_and_offsets_are_uniform():
    n_img, side, size = 4, 12, 8
    i, y, x = np.meshgrid(np.arange(n_img), np.arange(side), np.arange(side), indexing="ij")
    coded = np.stack([i, y, x], -1).astype(np.uint8)  # each pixel names its image and position
    src = FractalSource(coded, size=size, scale=side / size)
    rng = np.random.default_rng(1)
    n = 4000
    draws = np.array([src.sample(rng)[0, 0] for _ in range(n)])
    for column, values in ((0, n_img), (1, side - size + 1), (2, side - size + 1)):
        freq = np.bincount(draws[:, column], minlength=values) / n
        assert len(freq) == values
        p = 1 / values
        assert np.abs(freq - p).max() < 4 * math.sqrt(p * (1 - p) / n)


def test_sets_of_another_size_are_resized_once_with_antialiasing(fractals):
    big = np.stack([np.asarray(Image.fromarray(f).resize((72, 72), Image.NEAREST)) for f in fractals])
    src = FractalSource(big, size=32)
    assert src.resized == (36, 36) and src._data.shape == (12, 36, 36, 3)
    expect = np.asarray(Image.fromarray(big[3]).resize((36, 36), Image.BILINEAR))
    np.testing.assert_array_equal(src._data[3], expect)


def test_non_square_images_keep_their_aspect(fractals):
    wide = np.concatenate([fractals, fractals], axis=2)  # 36 x 72
    src = FractalSource(wide, size=16)
    assert src.resized == (18, 36)
    assert src.sample(np.random.default_rng(0)).shape == (16, 16, 3)


def test_grayscale_sets_stay_one_channel_and_draw_three_equal_channels(fractals):
    gray = fractals[..., :1].copy()
    src = FractalSource(gray, size=32)
    assert src.channels == 1 and src._data.shape[-1] == 1
    out = src.sample(np.random.default_rng(0))
    assert out.shape == (32, 32, 3) and (out[..., 0] == out[..., 1]).all() and (out[..., 1] == out[..., 2]).all()


def test_draws_are_fresh_arrays(fractals):
    src = FractalSource(fractals, size=32, seed=0)
    out = src.sample()
    out[:] = 0
    assert src._data.any() and src.sample().any()


def test_seed_fixes_the_sequence_and_an_rng_overrides_it(fractals):
    a, b, c = (FractalSource(fractals, size=32, seed=s) for s in (4, 4, 5))
    seq = [x.sample().tobytes() for x in (a, a, b, b, c, c)]
    assert seq[:2] == seq[2:4] and seq[:2] != seq[4:]
    assert a.sample(np.random.default_rng(9)).tobytes() == c.sample(np.random.default_rng(9)).tobytes()


def test_store_in_memory_mode_loads_once_at_the_resize_size(fractals):
    store = FakeStore(fractals)
    src = FractalSource(store, size=24)
    assert store.loads == [27] and src.in_memory
    for _ in range(20):
        src.sample()
    assert store.loads == [27] and store.reads == 0


def test_lazy_mode_reads_one_image_per_draw_and_crops_close_to_resize_then_crop(fractals):
    big = np.stack([np.asarray(Image.fromarray(f).resize((144, 144), Image.BICUBIC)) for f in fractals])
    lazy = FractalSource(FakeStore(big), size=32, in_memory=False)
    memory = FractalSource(big, size=32, in_memory=True)
    assert not lazy.in_memory
    for seed in range(10):
        a, b = (s.sample(np.random.default_rng(seed)) for s in (lazy, memory))
        assert a.shape == b.shape == (32, 32, 3)
        assert np.abs(a.astype(int) - b).mean() < 3  # the same draw: one resize of the crop vs a crop of the resize
    assert lazy._items.reads == 10


def test_in_memory_none_goes_lazy_above_the_budget(fractals, monkeypatch):
    monkeypatch.setattr(source_mod, "MEMORY_BUDGET", 12 * 36 * 36 * 3 - 1)
    assert not FractalSource(FakeStore(fractals), size=32).in_memory
    monkeypatch.setattr(source_mod, "MEMORY_BUDGET", 12 * 36 * 36 * 3)
    assert FractalSource(FakeStore(fractals), size=32).in_memory


def test_pickling_a_store_source_drops_the_resized_copy_and_reloads_it(fractals):
    store = FakeStore(fractals)
    src = FractalSource(store, size=32, seed=1)
    blob = pickle.dumps(src)
    assert len(blob) < 3000  # no pixels travel
    clone = pickle.loads(blob)
    clone._items.images = fractals  # what reopening the store's shards gives in the new process
    assert clone._data is None
    assert clone.sample().tobytes() == src.sample().tobytes()
    assert clone._items.loads == [36]


def test_pickling_an_array_source_keeps_the_resized_set(fractals):
    src = FractalSource(fractals, size=32, seed=2)
    clone = pickle.loads(pickle.dumps(src))
    assert clone.sample().tobytes() == src.sample().tobytes()


def test_from_recipe_renders_the_set_at_the_resize_size():
    src = FractalSource.from_recipe("ifs-gray", n=5, size=16, seed=0)
    assert len(src) == 5 and src.resized == (18, 18) and src.channels == 1
    assert src.sample().shape == (16, 16, 3)


def test_from_name_renders_a_preset_or_a_recipe_file_and_explains_an_unknown_name(tmp_path):
    assert len(FractalSource.from_name("ifs-colour", 16, n=3)) == 3
    (tmp_path / "mine.toml").write_text('family = "ifs"\ncolor = false\n')
    mine = FractalSource.from_name(str(tmp_path / "mine.toml"), 16, n=2, seed=4)
    assert len(mine) == 2 and mine.channels == 1
    with pytest.raises(RecipeError, match="nope' is neither a store folder nor a recipe"):
        FractalSource.from_name(str(tmp_path / "nope"), 16)


@pytest.mark.parametrize("src, error, needle", [
    (np.zeros((0, 8, 8, 3), np.uint8), ImageInputError, "holds no images"),
    (np.zeros((2, 8, 8, 3), np.float32), ImageInputError, "must be uint8 \\(N, H, W, C\\)"),
    (np.zeros((2, 8, 8), np.uint8), ImageInputError, "must be uint8 \\(N, H, W, C\\)"),
    (np.zeros((2, 8, 8, 2), np.uint8), ImageInputError, "1 or 3 channels"),
    ([1, 2, 3], ImageInputError, "cannot draw fractals from list"),
])
def test_bad_sources_get_one_line_errors(src, error, needle):
    with pytest.raises(error, match=needle):
        FractalSource(src, size=4)


@pytest.mark.parametrize("kwargs, needle", [({"size": 0}, "size = 0"), ({"size": 2.5}, "size = 2.5"),
                                            ({"scale": 0.5}, "scale = 0.5")])
def test_bad_settings_get_recipe_errors(fractals, kwargs, needle):
    with pytest.raises(SettingsError, match=needle):
        FractalSource(fractals, **{"size": 8, **kwargs})


def test_sampling_leaves_global_random_state_alone(global_rng_guard, fractals):
    src = FractalSource(fractals, size=32)
    src.sample()
    FractalSource(FakeStore(fractals), size=32, in_memory=False).sample(np.random.default_rng(0))
