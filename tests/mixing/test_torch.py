"""MixingDataset, EpochSampler and jsd_loss (the randomness across workers and epochs: test_loader.py)."""

from __future__ import annotations

import multiprocessing

import numpy as np
import pytest

torch = pytest.importorskip("torch")
from torch.utils.data import DataLoader, Subset  # noqa: E402

from fractalgen.errors import SettingsError  # noqa: E402
from fractalgen.mixing import IPMix, LayerMix, PixMix  # noqa: E402
from fractalgen.mixing.torch import EpochSampler, MixingDataset, jsd_loss, to_tensor  # noqa: E402


@pytest.fixture
def base(scene):
    """Eight identical images, so that any difference between samples comes from the augmentation."""
    img = scene(16, 16)
    return [(img, i % 3) for i in range(8)]


@pytest.fixture
def source16(fractals):
    from fractalgen.mixing import FractalSource

    return FractalSource(fractals, size=16, seed=0)


def batches(dataset, workers, context=None, seed=0, sampler=None):
    torch.manual_seed(seed)
    loader = DataLoader(dataset, batch_size=2, num_workers=workers, multiprocessing_context=context, sampler=sampler)
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
    ds = MixingDataset(base, IPMix(source16, views=3))
    (clean, a1, a2), label = ds[0]
    torch.testing.assert_close(clean, to_tensor(base[0][0] / np.float32(255)))
    assert a1.shape == a2.shape == (3, 16, 16) and label == 0
    loader = DataLoader(ds, batch_size=4)
    views, labels = next(iter(loader))
    assert len(views) == 3 and views[0].shape == (4, 3, 16, 16) and labels.tolist() == [0, 1, 2, 0]


def test_without_to_tensor_items_keep_the_input_kind(base, source16):
    x, _ = MixingDataset(base, LayerMix(source16), to_tensor=False, seed=0)[1]
    assert isinstance(x, np.ndarray) and x.dtype == np.uint8 and x.shape == (16, 16, 3)


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
    serial = next(iter(DataLoader(ds, batch_size=8, sampler=EpochSampler(ds))))[0]
    spawned = next(iter(DataLoader(ds, batch_size=8, num_workers=1, multiprocessing_context="spawn",
                                   sampler=EpochSampler(ds))))[0]
    for a, b in zip(serial, spawned):
        torch.testing.assert_close(a, b, rtol=0, atol=0)


def test_workers_draw_their_own_streams_under_a_subset(base, source16):
    ds = Subset(MixingDataset(base, IPMix(source16, seed=0)), range(8))
    run = batches(ds, 2, "fork", seed=3)
    assert not np.array_equal(run[0][0], run[1][0])


@pytest.mark.parametrize("kwargs, needle", [({"seed": -1}, "seed = -1"), ({"normalize": (1, 2, 3)}, "normalize"),
                                            ({"normalize": ([0.5] * 3, [0.0] * 3)}, "positive")])
def test_bad_dataset_settings(base, source16, kwargs, needle):
    with pytest.raises(SettingsError, match=needle):
        MixingDataset(base, PixMix(source16), **kwargs)


def test_epoch_sampler_carries_the_epoch_and_shuffles_reproducibly():
    sampler = EpochSampler(range(6), shuffle=True, seed=3)
    first, second = list(sampler), list(sampler)
    assert {e for e, _ in first} == {0} and {e for e, _ in second} == {1}
    assert sorted(i for _, i in first) == list(range(6)) and [i for _, i in first] != [i for _, i in second]
    again = EpochSampler(6, shuffle=True, seed=3)
    assert list(again) == first and list(EpochSampler(6)) == [(0, i) for i in range(6)]
    again.set_epoch(7)
    assert next(iter(again))[0] == 7 and len(again) == 6
    with pytest.raises(SettingsError, match="epoch = -1"):
        again.set_epoch(-1)


def test_an_epoch_sampler_item_is_the_seeded_sample_of_that_epoch(base, source16):
    ds = MixingDataset(base, PixMix(source16), seed=2)
    a, b = ds[(0, 3)][0], ds[(1, 3)][0]
    torch.testing.assert_close(ds[(0, 3)][0], a, rtol=0, atol=0)
    assert not torch.equal(a, b)
    ds.set_epoch(1)
    torch.testing.assert_close(ds[3][0], b, rtol=0, atol=0)  # a plain index follows set_epoch


def test_jsd_loss_is_cross_entropy_for_identical_views():
    logits = torch.randn(4, 10, generator=torch.Generator().manual_seed(0))
    targets = torch.tensor([1, 2, 3, 4])
    same = jsd_loss(torch.cat([logits] * 3), targets)
    torch.testing.assert_close(same, torch.nn.functional.cross_entropy(logits, targets))
    other = jsd_loss(torch.cat([logits, logits.flip(0), -logits]), targets)
    assert float(other) > float(same)
    with pytest.raises(SettingsError, match="3 x len"):
        jsd_loss(logits, targets)
