"""fractalgen.stats: every measure against a slow reference written from its definition, on hand-made images with
known values and on random ones; the dHash and the near-duplicate rate of stores with planted duplicates (exact and
+-1 noise copies) and without; the same numbers whatever the worker count; imported and grayscale sets."""

from __future__ import annotations

import math
from collections import Counter
from fractions import Fraction

import numpy as np
import pytest
from PIL import Image

import fractalgen as fg
from fractalgen import stats
from fractalgen.errors import ImageInputError, StoreError
from fractalgen.stats_names import MEASURES

# -- slow references, pixel by pixel, from the definitions in fractalgen/stats.py's docstring


def luma_ref(img: np.ndarray) -> list[list[int]]:
    h, w, c = img.shape
    if c == 1:
        return [[int(img[y, x, 0]) for x in range(w)] for y in range(h)]
    return [[(299 * int(img[y, x, 0]) + 587 * int(img[y, x, 1]) + 114 * int(img[y, x, 2]) + 500) // 1000
             for x in range(w)] for y in range(h)]


def fill_ref(img):
    values = [v for row in luma_ref(img) for v in row]
    counts = Counter(values)
    background = min(counts, key=lambda v: (-counts[v], v))  # the most frequent, the darkest on a tie
    return sum(abs(v - background) > 10 for v in values) / len(values)


def entropy_ref(img):
    values = [v for row in luma_ref(img) for v in row]
    return -sum(n / len(values) * math.log2(n / len(values)) for n in Counter(values).values())


def colourfulness_ref(img):
    if img.shape[2] == 1:
        return 0.0
    rgb = img.reshape(-1, 3).astype(np.float64)
    rg = rgb[:, 0] - rgb[:, 1]
    yb = 0.5 * (rgb[:, 0] + rgb[:, 1]) - rgb[:, 2]
    return math.hypot(rg.std(), yb.std()) + 0.3 * math.hypot(rg.mean(), yb.mean())


def edges_ref(img):
    lum = luma_ref(img)
    h, w = len(lum), len(lum[0])
    hits = sum(abs(lum[y][x + 1] - lum[y][x]) + abs(lum[y + 1][x] - lum[y][x]) > 32
               for y in range(h - 1) for x in range(w - 1))
    return hits / max((h - 1) * (w - 1), 1)


def brightness_ref(img):
    lum = luma_ref(img)
    return sum(map(sum, lum)) / (255 * len(lum) * len(lum[0]))


def dhash_ref(img) -> int:
    """The 256-bit dHash as one Python integer (bit 16 r + c)."""
    lum = luma_ref(img)
    h, w = len(lum), len(lum[0])

    def spans(size, n):
        return [(k * size // n, max((k + 1) * size // n, k * size // n + 1)) for k in range(n)]

    rows, cols = spans(h, 16), spans(w, 17)
    means = [[sum(lum[y][x] for y in range(*rs) for x in range(*cs)) / ((rs[1] - rs[0]) * (cs[1] - cs[0]))
              for cs in cols] for rs in rows]
    flat = [m for row in means for m in row]
    step = max(2.0, 0.1 * (max(flat) - min(flat)))
    return sum(1 << (16 * r + c) for r in range(16) for c in range(16) if means[r][c + 1] - means[r][c] > step)


def as_int(words) -> int:
    """A hash's uint64 words as one Python integer."""
    return sum(int(word) << (64 * k) for k, word in enumerate(words))


def nearest_ref(hashes) -> list[int]:
    codes = [as_int(h) for h in hashes]
    return [min((bin(a ^ b).count("1") for j, b in enumerate(codes) if j != i), default=256)
            for i, a in enumerate(codes)]


REFS = {"fill": fill_ref, "entropy": entropy_ref, "colourfulness": colourfulness_ref, "edges": edges_ref,
        "brightness": brightness_ref}


def measured(img: np.ndarray) -> dict[str, float]:
    values, hashes = stats.measure_images(img[None])
    return {**dict(zip(stats.PIXEL_MEASURES, values[0].tolist())), "hash": as_int(hashes[0])}


def smooth(rng: np.random.Generator, size: int, channels: int = 3, grid: int = 6) -> np.ndarray:
    """A smooth random image: a random grid of colours enlarged bilinearly (gradients everywhere, so its dHash is
    far from every other's)."""
    small = rng.integers(0, 256, (grid, grid, channels), dtype=np.uint8)
    pil = Image.fromarray(small[:, :, 0] if channels == 1 else small).resize((size, size), Image.BILINEAR)
    return np.asarray(pil).reshape(size, size, channels)


# -- hand-made images with known values


@pytest.mark.parametrize("channels", [1, 3])
def test_a_half_filled_image(channels):
    img = np.zeros((16, 20, channels), np.uint8)
    img[:, 10:] = 200
    m = measured(img)
    assert m["fill"] == 0.5
    assert m["entropy"] == pytest.approx(1.0, abs=1e-12)  # two luma values, equally frequent
    assert m["edges"] == pytest.approx(15 / (15 * 19))  # one column of steps, 15 rows of 19 pixels
    assert m["brightness"] == pytest.approx(0.5 * 200 / 255)
    assert m["colourfulness"] == 0.0  # gray either way


def test_fill_counts_what_is_drawn_on_a_coloured_background():
    img = np.empty((20, 20, 3), np.uint8)
    img[:] = (40, 90, 160)  # luma 89
    img[:10, :10] = 255  # a quarter drawn in white
    img[10:, 10:][::2] = (40, 90, 168)  # luma 90: within 10 of the background's, not drawn
    assert measured(img)["fill"] == 0.25
    assert measured(img)["fill"] == fill_ref(img)


@pytest.mark.parametrize("value", [0, 10, 11, 255])
def test_a_constant_image_has_no_entropy_no_edges_and_no_fill(value):
    m = measured(np.full((12, 12, 3), value, np.uint8))
    assert m["entropy"] == 0.0 and m["edges"] == 0.0 and m["colourfulness"] == 0.0
    assert m["fill"] == 0.0  # all background
    assert m["brightness"] == pytest.approx(value / 255)
    assert m["hash"] == 0


def test_known_colourfulness():
    red = np.zeros((8, 8, 3), np.uint8)
    red[..., 0] = 255
    # one colour: no spread; rg = 255, yb = 127.5
    assert measured(red)["colourfulness"] == pytest.approx(0.3 * math.hypot(255, 127.5))
    half = red.copy()
    half[:, 4:] = (0, 255, 0)
    # red | green: rg = +-255 (mean 0, std 255), yb = 127.5 everywhere (std 0)
    assert measured(half)["colourfulness"] == pytest.approx(255 + 0.3 * 127.5)


def test_gray_and_its_rgb_copy_agree_but_for_colour():
    img = smooth(np.random.default_rng(1), 24, channels=1)
    gray, rgb = measured(img), measured(np.repeat(img, 3, axis=2))
    assert {k: v for k, v in gray.items() if k != "colourfulness"} == \
        {k: v for k, v in rgb.items() if k != "colourfulness"}
    assert gray["colourfulness"] == rgb["colourfulness"] == 0.0


@pytest.mark.parametrize("shape", [(8, 8, 3), (9, 13, 1), (32, 32, 3), (40, 24, 3), (17, 64, 1)])
def test_every_measure_matches_the_reference(shape):
    rng = np.random.default_rng(sum(shape))
    images = [rng.integers(0, 256, shape, dtype=np.uint8),
              smooth(rng, shape[0], shape[2])[:, :shape[1]] if shape[0] <= shape[1] else
              rng.integers(0, 256, shape, dtype=np.uint8),
              (rng.random(shape) < 0.3).astype(np.uint8) * rng.integers(0, 256, shape, dtype=np.uint8)]
    images = [np.ascontiguousarray(np.resize(img, shape)) for img in images]
    values, hashes = stats.measure_images(np.stack(images))
    for img, row, code in zip(images, values, hashes):
        for name, got in zip(stats.PIXEL_MEASURES, row):
            assert got == pytest.approx(REFS[name](img), rel=1e-9, abs=1e-12), name
        assert as_int(code) == dhash_ref(img)


def test_nearest_distances_match_the_reference():
    rng = np.random.default_rng(2)
    codes = rng.integers(0, 2**63, (60, 4), dtype=np.uint64)
    codes[5] = codes[9]  # a repeat
    codes[7] = codes[8]
    codes[7, 2] ^= np.uint64(0b1001)  # two bits apart, in the third word
    codes[20] = codes[21]
    codes[20, 3] ^= np.uint64(1) << np.uint64(63)  # the top bit
    got = stats.nearest_distances(codes)
    assert got.tolist() == nearest_ref(codes)
    assert got[5] == got[9] == 0 and got[7] == got[8] == 2 and got[20] == got[21] == 1
    assert stats.nearest_distances(codes[:1]).tolist() == [256]


def test_the_hash_ignores_small_noise_but_not_another_image():
    rng = np.random.default_rng(3)
    noise, others = [], []
    for _ in range(50):
        img = smooth(rng, 32)
        noisy = np.clip(img.astype(np.int16) + rng.integers(-1, 2, img.shape), 0, 255).astype(np.uint8)
        a, b, c = (measured(x)["hash"] for x in (img, noisy, smooth(rng, 32)))
        noise.append(bin(a ^ b).count("1"))
        others.append(bin(a ^ c).count("1"))
    assert max(noise) <= stats.NEAR_BITS and np.mean(noise) < stats.NEAR_BITS / 4, noise
    assert min(others) > stats.NEAR_BITS, others


def test_bad_images_are_refused():
    for bad in (np.zeros((4, 8, 8, 3), np.float32), np.zeros((8, 8, 3), np.uint8), np.zeros((2, 8, 8, 4), np.uint8)):
        with pytest.raises(ImageInputError, match="expected uint8 images"):
            stats.measure_images(bad)


# -- stores


def import_images(tmp_path, images, name="set", gray=False):
    """A store imported from PNG files of ``images`` (in order), as `fractalgen import` makes it."""
    src = tmp_path / f"{name}-png"
    src.mkdir()
    for i, img in enumerate(images):
        Image.fromarray(img[:, :, 0] if img.shape[2] == 1 else img).save(src / f"{i:04d}.png")
    size = images[0].shape[0]
    return fg.store.import_folder(src, tmp_path / name, size, gray=gray, workers=1, progress=False,
                                  shard_size=8)


def test_planted_duplicates_are_found_and_nothing_else(tmp_path):
    rng = np.random.default_rng(4)
    images = [smooth(rng, 32) for _ in range(30)]
    clean = import_images(tmp_path, images, "clean")
    noisy = np.clip(images[7].astype(np.int16) + rng.integers(-1, 2, images[7].shape), 0, 255).astype(np.uint8)
    planted = import_images(tmp_path, images + [images[3].copy(), noisy], "planted")
    a, b = stats.measure_sets([clean, planted], progress=False)
    assert a.near_duplicates == 0 and a.near_duplicate_rate == 0.0
    assert b.near_duplicates == 4 and b.near_duplicate_rate == 4 / 32  # 3 and its copy, 7 and its noisy copy
    near = b.values["nearest"]
    assert near[3] == near[30] == 0 and near[7] <= 1 and near[31] <= 1
    assert np.flatnonzero(near <= stats.NEAR_BITS).tolist() == [3, 7, 30, 31]
    assert near.tolist() == nearest_ref(b.hashes)
    # the first 30 images measure the same in both sets: a measure depends on the image alone
    for m in stats.PIXEL_MEASURES:
        assert np.array_equal(a.values[m], b.values[m][:30])


def test_a_grayscale_imported_set(tmp_path):
    rng = np.random.default_rng(5)
    images = [smooth(rng, 16, channels=1) for _ in range(10)]
    st, = stats.measure_sets([import_images(tmp_path, images, gray=True)], progress=False)
    assert st.shape == (16, 16, 1) and len(st) == 10
    assert np.all(st.values["colourfulness"] == 0.0)
    ref = [entropy_ref(img) for img in images]
    assert st.values["entropy"] == pytest.approx(ref, rel=1e-9)


@pytest.fixture(scope="module")
def generated(tmp_path_factory):
    """A generated colour set of 3 shards (12 + 12 + 6 images at 32 px)."""
    path = tmp_path_factory.mktemp("stats") / "ifs"
    fg.generate("ifs-colour", path, 30, size=32, seed=2, shard_size=12, workers=1, progress=False).close()
    return path


def test_the_numbers_do_not_depend_on_the_workers(generated, monkeypatch):
    monkeypatch.setattr(stats, "TASK_IMAGES", 5)  # pieces 5 + 5 + 2, 5 + 5 + 2, 5 + 1: finishing out of order
    assert len(stats._tasks(fg.open_store(generated), np.arange(30))) == 8
    one, = stats.measure_sets([generated], workers=1, progress=False)
    two, = stats.measure_sets([generated], workers=2, progress=False)
    for m in MEASURES:
        assert np.array_equal(one.values[m], two.values[m]), m
    assert np.array_equal(one.hashes, two.hashes)
    with fg.open_store(generated) as store:  # and they are the images' own
        values, hashes = stats.measure_images(store[:])
    assert np.array_equal(values[:, 1], one.values["entropy"]) and np.array_equal(hashes, one.hashes)


def test_a_sample_measures_the_images_show_would_show(generated):
    from fractalgen.store.export import random_indices

    full, = stats.measure_sets([generated], progress=False)
    part, = stats.measure_sets([generated], count=10, seed=3, progress=False)
    assert part.indices.tolist() == random_indices(30, 10, 3) and len(part) == 10 and part.of == 30
    for m in stats.PIXEL_MEASURES:  # the same images, the same numbers
        assert np.array_equal(part.values[m], full.values[m][part.indices]), m
    assert part.values["nearest"].tolist() == nearest_ref(part.hashes)  # nearest within the sample
    low, high = part.extremes("entropy", 2)  # store indices
    assert full.values["entropy"][low[0]] == part.values["entropy"].min()
    assert full.values["entropy"][high[0]] == part.values["entropy"].max()
    assert stats.table_lines([part])[0].startswith("ifs: 10 images (a sample of 30) 32x32x3")
    every, = stats.measure_sets([generated], count=99, progress=False)
    assert len(every) == 30 and np.array_equal(every.hashes, full.hashes)


def test_summaries_extremes_and_the_table(generated):
    st, = stats.measure_sets([generated], progress=False)
    s = st.summary("entropy")
    v = st.values["entropy"]
    assert s["mean"] == pytest.approx(v.mean()) and s["median"] == pytest.approx(np.median(v))
    assert s["min"] <= s["p05"] <= s["median"] <= s["p95"] <= s["max"]
    low, high = st.extremes("entropy", 3)
    assert v[low].tolist() == sorted(v)[:3] and v[high].tolist() == sorted(v, reverse=True)[:3]
    lines = stats.table_lines([st])
    assert lines[0].startswith("ifs: 30 images 32x32x3, near-duplicates ")
    assert [line.split()[0] for line in lines[2:]] == list(MEASURES)
    data = stats.to_json([st], by="fill", k=2)
    assert data["sets"][0]["images"] == 30 and set(data["sets"][0]["measures"]) == set(MEASURES)
    assert data["sets"][0]["extremes"]["by"] == "fill" and len(data["sets"][0]["extremes"]["lowest"]) == 2


def test_bad_arguments(tmp_path, generated):
    with pytest.raises(StoreError, match="does not exist"):
        stats.measure_sets([tmp_path / "nowhere"], progress=False)
    with pytest.raises(StoreError, match="near_bits"):
        stats.measure_sets([generated], near_bits=257, progress=False)
    with pytest.raises(StoreError, match="count"):
        stats.measure_sets([generated], count=0, progress=False)
    with pytest.raises(StoreError, match="workers"):
        stats.measure_sets([generated], workers=0, progress=False)
    with pytest.raises(StoreError, match="no store given"):
        stats.measure_sets([], progress=False)
