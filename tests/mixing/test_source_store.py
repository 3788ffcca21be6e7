"""FractalSource and the mixing CLI on a real store (generated here), in memory, lazily and across processes."""

from __future__ import annotations

import multiprocessing as mp
import pickle

import numpy as np
import pytest

import fractalgen as fg
from fractalgen.mixing import FractalSource, IPMix


@pytest.fixture(scope="module")
def store_path(tmp_path_factory):
    path = tmp_path_factory.mktemp("mixstore") / "gray"
    fg.generate("ifs-gray", path, 12, size=40, seed=2, workers=1, progress=False, shard_size=5).close()
    return path


def test_in_memory_source_loads_the_store_resized_once(store_path):
    src = FractalSource(store_path, size=32, seed=0)
    assert src.in_memory and len(src) == 12 and src.resized == (36, 36)
    with fg.open_store(store_path) as store:
        expect = store.load(size=36)
    crop = src.sample(np.random.default_rng(1))
    assert crop.shape == (32, 32, 3) and crop.dtype == np.uint8
    # a gray store is broadcast to three equal channels, and each crop is a window of one resized image
    assert (crop[..., 0] == crop[..., 2]).all()
    assert any((expect[i, y:y + 32, x:x + 32, 0] == crop[..., 0]).all()
               for i in range(12) for y in range(5) for x in range(5))


def test_lazy_source_reads_the_store_per_draw(store_path):
    lazy = FractalSource(store_path, size=32, in_memory=False, seed=0)
    assert not lazy.in_memory
    draws = [lazy.sample(np.random.default_rng(i)) for i in range(4)]
    assert all(d.shape == (32, 32, 3) for d in draws)
    assert len({d.tobytes() for d in draws}) == 4


def _draw_in_worker(blob):
    src = pickle.loads(blob)
    return src.sample(np.random.default_rng(7))


@pytest.mark.parametrize("method", ["fork", "spawn"])
def test_store_source_pickles_into_worker_processes(store_path, method):
    src = FractalSource(store_path, size=32, seed=0)
    blob = pickle.dumps(src)
    assert len(blob) < 100_000  # the resized copy is not pickled: each process reloads it
    with mp.get_context(method).Pool(2) as pool:
        got = pool.map(_draw_in_worker, [blob, blob])
    expect = src.sample(np.random.default_rng(7))
    for g in got:
        np.testing.assert_array_equal(g, expect)


def test_ipmix_from_a_store_path_is_seeded(store_path):
    img = np.random.default_rng(3).integers(0, 256, (32, 32, 3), dtype=np.uint8)
    a = IPMix(FractalSource(store_path, size=32), seed=5)(img)
    b = IPMix(FractalSource(store_path, size=32), seed=5)(img)
    np.testing.assert_array_equal(a, b)
    assert a.shape == img.shape and a.dtype == np.uint8


def test_mix_cli_reads_a_store(store_path, tmp_path):
    from click.testing import CliRunner
    from PIL import Image

    from fractalgen.cli import main

    photo = tmp_path / "photo.png"
    Image.fromarray(np.random.default_rng(4).integers(0, 256, (48, 48, 3), dtype=np.uint8)).save(photo)
    out = tmp_path / "sheet.png"
    res = CliRunner().invoke(main, ["mix", str(store_path), str(photo), "--method", "layermix", "--n", "3",
                                    "--size", "32", "--out", str(out)])
    assert res.exit_code == 0, res.output
    assert "fractals from" in res.output and out.exists()
