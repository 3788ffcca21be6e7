"""Threads that never hurt: serial kernels for small images, one thread in workers, a settable count."""

from __future__ import annotations

import numba
import numpy as np
import pytest

import fractalgen as fg
from fractalgen import _jit
from fractalgen.render import escape as E


@pytest.fixture
def restore_threads():
    before = numba.get_num_threads()
    yield
    numba.set_num_threads(before)


def test_set_threads_sets_numba_threads_and_rejects_bad_counts(restore_threads):
    fg.set_threads(1)
    assert fg.threads() == 1 == numba.get_num_threads()
    for bad in (0, -1, "2", 2.0, True, numba.config.NUMBA_NUM_THREADS + 1):
        with pytest.raises(fg.RecipeError, match="threads = .*pass an integer from 1 to"):
            fg.set_threads(bad)


def test_small_images_never_use_the_parallel_kernel(restore_threads, monkeypatch):
    numba.set_num_threads(numba.config.NUMBA_NUM_THREADS)

    def refuse(*args):
        raise AssertionError("parallel kernel on a small image")

    monkeypatch.setattr(E, "_escape_parallel", refuse)
    fg.load_recipe("julia-traps", size=36, seed=0).image(0)  # would call the prange kernel before
    assert not _jit.use_parallel(255 * 255)
    assert _jit.use_parallel(256 * 256) == (numba.config.NUMBA_NUM_THREADS > 1)
    numba.set_num_threads(1)
    assert not _jit.use_parallel(4096 * 4096)


def test_cli_threads_option(tmp_path):
    from click.testing import CliRunner

    from fractalgen.cli import main

    runner = CliRunner()
    bad = runner.invoke(main, ["--threads", str(numba.config.NUMBA_NUM_THREADS + 1), "render", "ifs-gray",
                               "--size", "32", "--out", str(tmp_path / "a.png")])
    assert bad.exit_code == 2 and "threads =" in bad.output
    ok = runner.invoke(main, ["--threads", "1", "render", "ifs-gray", "--size", "32", "--out", str(tmp_path / "a.png")])
    assert ok.exit_code == 0, ok.output


class _ThreadsSeen:
    """A dataset whose label is the numba thread count its worker runs with (read after MixingDataset's setup)."""

    def __len__(self):
        return 2

    def __getitem__(self, i):
        return np.zeros((8, 8, 3), np.uint8), numba.get_num_threads()


class _Identity:
    def augment(self, img, rng=None):
        return img.astype(np.float32) / 255


def test_dataloader_workers_run_one_thread(restore_threads):
    torch = pytest.importorskip("torch")
    from fractalgen.mixing.torch import MixingDataset

    numba.set_num_threads(numba.config.NUMBA_NUM_THREADS)
    loader = torch.utils.data.DataLoader(MixingDataset(_ThreadsSeen(), _Identity()), batch_size=2, num_workers=1)
    (_, seen), = list(loader)
    assert seen.tolist() == [1, 1]


def test_a_batch_is_byte_identical_to_one_by_one_with_any_thread_count(restore_threads):
    for name in ("ifs-colour", "julia-traps"):
        recipe = fg.load_recipe(name, size=24, seed=4)
        numba.set_num_threads(1)
        batch = recipe.images([3, 0, 3])
        numba.set_num_threads(numba.config.NUMBA_NUM_THREADS)
        one = np.stack([recipe.image(i) for i in (3, 0, 3)])
        assert batch.shape == (3, 24, 24, 3) and batch.dtype == np.uint8
        np.testing.assert_array_equal(batch, one)
    assert fg.load_recipe("ifs-gray", size=16).images([]).shape == (0, 16, 16, 1)
