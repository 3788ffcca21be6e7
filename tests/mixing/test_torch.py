"""MixingDataset and worker_init_fn with real DataLoader workers (fork and spawn)."""

from __future__ import annotations

import multiprocessing

import numpy as np
import pytest

torch = pytest.importorskip("torch")
from torch.utils.data import DataLoader, Subset  # noqa: E402

from fractalgen.errors import RecipeError  # noqa: E402
from fractalgen.mixing import IPMix, LayerMix, PixMix  # noqa: E402
from fractalgen.mixing.torch import MixingDataset, to_tensor, worker_init_fn  # noqa: E402


@pytest.fixture
def base(scene):
    """Eight identical images, so that any difference between samples comes from the augmentation."""
    img = scene(16, 16)
    return [(img, i % 3) for i in range(8)]


@pytest.fixture
def source16(fractals):
    from fractalgen.mixing import FractalSource

    return FractalSource(fractals, size=16, seed=0)


def batches(dataset, workers, context=None, seed=0):
    torch.manual_seed(seed)
    loader = DataLoader(dataset, batch_size=2, num_workers=workers, worker_init_fn=worker_init_fn,
                        multiprocessing_context=context)
    return [(x.numpy(), y.numpy()) for x, y in loader]


def test_items_are_normalised_chw_tensors_and_labels_are_untouched(base, source16):
    ds = MixingDataset(base, PixMix(source16, seed=0), normalize=([0.5] * 3, [0.25] * 3), seed=1)
    x, y = ds[4]
    assert isinstance(x, torch.Tensor) and x.dtype == torch.float32 and x.shape == (3, 16, 16)
    assert y == base[4][1] and len(ds) == 8
    raw = MixingDataset(base, PixMix(source16), seed=1)[4][0]
    torch.testing.assert_close(x, (raw - 0.5) / 0.25)
    assert 0 <= float(raw.min()) and float(raw.max()) <= 1


def test_to_tensor_matches_a_direct_transpose():
    img = np.random.default_rng(0).random((5, 7, 3), dtype=np.float32)
    np.testing.assert_array_equal(to_tensor(img).numpy(), img.transpose(2, 0, 1))


def test_three_views_come_back_as_a_tuple_with_the_clean_image_first(base, source16):
    ds = MixingDataset(base, IPMix(source16, views=3), seed=0)
    (clean, a1, a2), label = ds[0]
    torch.testing.assert_close(clean, to_tensor(base[0][0] / np.float32(255)))
    assert a1.shape == a2.shape == (3, 16, 16) and label == 0
    loader = DataLoader(ds, batch_size=4)
    views, labels = next(iter(loader))
    assert len(views) == 3 and views[0].shape == (4, 3, 16, 16) and labels.tolist() == [0, 1, 2, 0]


def test_without_to_tensor_items_keep_the_input_kind(base, source16):
    x, _ = MixingDataset(base, LayerMix(source16), to_tensor=False, seed=0)[1]
    assert isinstance(x, np.ndarray) and x.dtype == np.uint8 and x.shape == (16, 16, 3)


def test_a_seeded_dataset_gives_the_same_data_whatever_the_number_of_workers(base, source16):
    ds = MixingDataset(base, IPMix(source16), seed=5)
    serial = batches(ds, 0)
    parallel = batches(ds, 2, "fork")
    for (x0, y0), (x1, y1) in zip(serial, parallel):
        np.testing.assert_array_equal(x0, x1)
        np.testing.assert_array_equal(y0, y1)
    ds.set_epoch(1)
    assert not np.array_equal(batches(ds, 0)[0][0], serial[0][0])  # a new epoch, new augmentations


def test_forked_workers_draw_different_reproducible_streams(base, source16):
    ds = MixingDataset(base, IPMix(source16, seed=0))
    run = batches(ds, 2, "fork", seed=3)
    # DataLoader gives batch 0 to worker 0 and batch 1 to worker 1: same images, different streams
    assert not np.array_equal(run[0][0], run[1][0])
    again = batches(ds, 2, "fork", seed=3)
    for (x0, _), (x1, _) in zip(run, again):
        np.testing.assert_array_equal(x0, x1)


def test_spawned_workers_rebuild_the_method_and_give_the_serial_data(base, source16):
    """Spawn pickles the dataset into fresh processes (macOS, Windows, Linux from Python 3.14)."""
    if "spawn" not in multiprocessing.get_all_start_methods():
        pytest.skip("no spawn start method here")
    ds = MixingDataset(base, IPMix(source16, views=3), seed=5)
    serial = next(iter(DataLoader(ds, batch_size=8)))[0]
    spawned = next(iter(DataLoader(ds, batch_size=8, num_workers=1, multiprocessing_context="spawn")))[0]
    for a, b in zip(serial, spawned):
        torch.testing.assert_close(a, b, rtol=0, atol=0)


def test_without_worker_init_fn_forked_workers_repeat_each_other(base, source16):
    """Why worker_init_fn exists: each worker starts from a copy of the same generator state."""
    ds = MixingDataset(base, IPMix(source16, seed=0))
    loader = DataLoader(ds, batch_size=2, num_workers=2, multiprocessing_context="fork")
    x = [b[0].numpy() for b in loader]
    np.testing.assert_array_equal(x[0], x[1])


def test_worker_init_fn_finds_the_mixing_dataset_under_a_subset(base, source16):
    ds = Subset(MixingDataset(base, IPMix(source16, seed=0)), range(8))
    run = batches(ds, 2, "fork", seed=3)
    assert not np.array_equal(run[0][0], run[1][0])


@pytest.mark.parametrize("kwargs, needle", [({"seed": -1}, "seed = -1"), ({"normalize": (1, 2, 3)}, "normalize"),
                                            ({"normalize": ([0.5] * 3, [0.0] * 3)}, "positive")])
def test_bad_dataset_settings(base, source16, kwargs, needle):
    with pytest.raises(RecipeError, match=needle):
        MixingDataset(base, PixMix(source16), **kwargs)
