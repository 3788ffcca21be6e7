"""FractalSource.online: fresh fractals rendered in each process, a pure function of the draw's generator."""

from __future__ import annotations

import pickle

import numpy as np
import pytest

import fractalgen as fg
from fractalgen.mixing import METHODS, FractalMaskMix, FractalSource, OnlineSource
from fractalgen.mixing.online import INDEX_SPACE


def test_a_draw_is_the_recipe_image_at_an_index_drawn_from_the_generator():
    src = FractalSource.online("ifs-colour", size=24, scale=1.0)
    got = src.sample(np.random.default_rng(5))
    index = int(np.random.default_rng(5).integers(INDEX_SPACE))
    want = fg.load_recipe("ifs-colour", size=24).image(index)  # the recipe's own seed: a pinned set
    np.testing.assert_array_equal(got, want)


def test_grayscale_crops_broadcast_and_crop_positions_follow_the_generator():
    src = FractalSource.online("ifs-gray", size=16, scale=1.5)
    rng = np.random.default_rng(2)
    got = src.sample(rng)
    check = np.random.default_rng(2)
    img = fg.load_recipe("ifs-gray", size=24).image(int(check.integers(INDEX_SPACE)))
    y, x = (int(u * 9) for u in check.random(2))
    np.testing.assert_array_equal(got, np.repeat(img[y:y + 16, x:x + 16], 3, axis=2))


def test_every_draw_renders_a_new_fractal_without_a_pool():
    src = FractalSource.online("ifs-colour", size=16, seed=0)
    draws = [src.sample().tobytes() for _ in range(6)]
    assert src.rendered == 6 and len(set(draws)) == 6


def test_the_pool_is_bounded_and_refreshed_at_the_set_rate():
    src = FractalSource.online("ifs-gray", size=16, pool=4, refresh=0.25, seed=1)
    for _ in range(4):
        src.sample()
    assert src.rendered == 4 and len(src._pool) == 4
    before = [p.copy() for p in src._pool]
    for _ in range(8):
        src.sample()
    assert src.rendered == 6 and len(src._pool) == 4  # 8 draws x 0.25 = 2 new fractals, replacing the oldest two
    assert not np.array_equal(src._pool[0], before[0]) and not np.array_equal(src._pool[1], before[1])
    np.testing.assert_array_equal(src._pool[2], before[2])


@pytest.mark.parametrize("kwargs, match", [
    ({"pool": -1}, "pool = -1"), ({"refresh": 0}, "refresh = 0"), ({"refresh": 1.5}, "refresh = 1.5"),
    ({"size": 0}, "size = 0"), ({"scale": 0.5}, "scale = 0.5")])
def test_bad_settings_get_one_line_errors(kwargs, match):
    with pytest.raises(fg.SettingsError, match=match):
        FractalSource.online("ifs-gray", **{"size": 16, **kwargs})


def test_pickles_without_its_pool_and_draws_the_same():
    src = FractalSource.online("ifs-colour", size=16, pool=2)
    src.sample(np.random.default_rng(0))
    copy = pickle.loads(pickle.dumps(src))
    assert copy._pool == [] and copy.rendered == 0
    fresh = FractalSource.online("ifs-colour", size=16, pool=2)
    np.testing.assert_array_equal(copy.sample(np.random.default_rng(9)), fresh.sample(np.random.default_rng(9)))


def test_works_with_every_mixing_method(scene):
    src = FractalSource.online("ifs-colour", size=32, pool=3, refresh=0.5)
    img = scene()
    for aug in [cls(src, "cifar", seed=0) for cls in METHODS.values()] + [FractalMaskMix(src, seed=0)]:
        out = aug(img)
        assert out.shape == (32, 32, 3) and out.dtype == np.uint8
    assert src.rendered > 0 and "pool 3" in repr(src)


class _FractalOf:
    """An 'augmentation' that returns the fractal it draws, to see which fractals the workers render."""

    def __init__(self, source):
        self.source = source

    def augment(self, img, rng=None):
        return self.source.sample(rng).astype(np.float32) / 255  # None: the source's own per-process stream


class _Blank:
    def __len__(self):
        return 8

    def __getitem__(self, i):
        return np.zeros((16, 16, 3), np.uint8), i


def _load(ds, workers):
    import torch
    from torch.utils.data import DataLoader

    from fractalgen.mixing.torch import EpochSampler

    torch.manual_seed(0)
    loader = DataLoader(ds, batch_size=2, num_workers=workers, sampler=EpochSampler(ds),
                        multiprocessing_context="fork" if workers else None)
    return torch.cat([x for x, _ in loader]).numpy()


def test_dataloader_workers_render_their_own_fractals_and_seeded_data_ignore_the_workers(scene):
    pytest.importorskip("torch")
    from fractalgen.mixing import IPMix
    from fractalgen.mixing.torch import MixingDataset

    src = FractalSource.online("ifs-colour", size=16)
    own = _load(MixingDataset(_Blank(), _FractalOf(src)), 2)
    assert len({x.tobytes() for x in own}) == 8  # two workers, eight different fractals

    class Scenes(_Blank):
        def __getitem__(self, i):
            return scene(16, 16, i), i

    seeded = [_load(MixingDataset(Scenes(), IPMix(src, seed=0), seed=3), w) for w in (0, 2)]
    np.testing.assert_array_equal(seeded[0], seeded[1])


def test_cli_mix_online(tmp_path):
    from click.testing import CliRunner
    from PIL import Image

    from fractalgen.cli import main

    img = tmp_path / "in.png"
    Image.fromarray(np.full((40, 40, 3), 90, np.uint8)).save(img)
    res = CliRunner().invoke(main, ["mix", "ifs-colour", str(img), "--online", "--size", "32", "--n", "3",
                                    "--out", str(tmp_path / "s.png")])
    assert res.exit_code == 0, res.output
    assert "a new fractal per view" in res.output and (tmp_path / "s.png").exists()
    assert isinstance(FractalSource.online("ifs-gray", size=16), OnlineSource)


def _pool_after_one_draw(src):
    src.sample()
    return src.rendered, len(src._pool)


def test_a_forked_child_renders_its_own_pool():
    import multiprocessing

    if "fork" not in multiprocessing.get_all_start_methods():
        pytest.skip("no fork here")
    src = FractalSource.online("ifs-gray", size=16, pool=3, refresh=0.5, seed=2)
    for _ in range(3):
        src.sample()
    parent = [p.copy() for p in src._pool]
    _INHERITED["src"] = src  # reached by the forked child through module state, not pickled
    ctx = multiprocessing.get_context("fork")
    with ctx.Pool(1) as pool:  # the child inherits the parent's pool, then drops it
        rendered, size = pool.apply(_pool_after_one_draw_inherited)
    assert (rendered, size) == (1, 1)
    assert all(np.array_equal(a, b) for a, b in zip(parent, src._pool))  # the parent's pool is untouched


_INHERITED = {}


def _pool_after_one_draw_inherited():
    return _pool_after_one_draw(_INHERITED["src"])
