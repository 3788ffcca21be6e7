"""Randomness in a real torch DataLoader: 2 workers, fork and spawn, persistent or not, every label-preserving
method as a plain transform and through MixingDataset. Workers never share a stream, epochs never repeat, and a
seeded MixingDataset gives the same bytes for any number of workers and in every run."""

from __future__ import annotations

import multiprocessing

import numpy as np
import pytest

torch = pytest.importorskip("torch")
from torch.utils.data import DataLoader  # noqa: E402

from . import loader_probe as probe  # noqa: E402

CONTEXTS = [c for c in ("fork", "spawn") if c in multiprocessing.get_all_start_methods()]
#: forkserver too, once (its workers unpickle the dataset, as spawn's do)
LOADERS = [(c, p) for c in CONTEXTS for p in (False, True)] + [
    ("forkserver", False) for _ in range("forkserver" in multiprocessing.get_all_start_methods())]


def epochs(dataset, workers: int, context=None, persistent=False, sampler=None, count=2):
    """``count`` epochs of one loader: per epoch, {sample index: the stacked views of every method (bytes)}."""
    loader = DataLoader(dataset, batch_size=2, num_workers=workers, sampler=sampler,
                        multiprocessing_context=context if workers else None,
                        persistent_workers=persistent and workers > 0)
    out = []
    for _ in range(count):
        seen = {}
        for views, labels in loader:
            for v, i in zip(views.numpy(), labels.tolist()):
                seen[i] = v
        out.append(seen)
    return out


@pytest.mark.parametrize("context, persistent", LOADERS, ids=[f"{c}-{'persistent' if p else 'fresh'}" for c, p in LOADERS])
def test_workers_never_share_a_stream_and_epochs_never_repeat(context, persistent):
    first, second = epochs(probe.Both(), 2, context, persistent)
    # batch size 2: worker 0 loads samples 0 1 4 5, worker 1 loads 2 3 6 7, in that order
    pairs = [(0, 2), (1, 3), (4, 6), (5, 7)]
    for m, name in enumerate(probe.Both.names):
        same_across_workers = sum(np.array_equal(first[a][m], first[b][m]) for a, b in pairs)
        assert same_across_workers < len(pairs), f"{name}: the two workers made the same augmentations"
        repeated = sum(np.array_equal(first[i][m], second[i][m]) for i in range(probe.N))
        assert repeated < probe.N // 2, f"{name}: epoch 2 repeated epoch 1 ({repeated} of {probe.N} samples)"
    stacks = [e[i].tobytes() for e in (first, second) for i in range(probe.N)]
    assert len(set(stacks)) == len(stacks), "two samples got the same augmentation from every method"


def _serial_seeded():
    from fractalgen.mixing.torch import EpochSampler

    ds = probe.ThroughMixingDataset(seed=7)
    return epochs(ds, 0, sampler=EpochSampler(ds, shuffle=True, seed=1))


@pytest.fixture(scope="module")
def serial_seeded():
    return _serial_seeded()


@pytest.mark.parametrize("persistent", [False, True], ids=["fresh", "persistent"])
@pytest.mark.parametrize("context", CONTEXTS)
def test_a_seeded_dataset_is_byte_identical_for_any_number_of_workers(serial_seeded, context, persistent):
    from fractalgen.mixing.torch import EpochSampler

    ds = probe.ThroughMixingDataset(seed=7)
    parallel = epochs(ds, 2, context, persistent, sampler=EpochSampler(ds, shuffle=True, seed=1))
    for serial_epoch, parallel_epoch in zip(serial_seeded, parallel):
        assert serial_epoch.keys() == parallel_epoch.keys() == set(range(probe.N))
        for i in range(probe.N):
            np.testing.assert_array_equal(serial_epoch[i], parallel_epoch[i])
    for m, name in enumerate(probe.NAMES):  # and the epochs differ
        repeated = sum(np.array_equal(serial_seeded[0][i][m], serial_seeded[1][i][m]) for i in range(probe.N))
        assert repeated < probe.N // 2, f"{name}: a seeded epoch 2 repeated epoch 1"


def test_a_seeded_dataset_is_byte_identical_between_runs(serial_seeded):
    again = _serial_seeded()
    for a, b in zip(serial_seeded, again):
        for i in range(probe.N):
            np.testing.assert_array_equal(a[i], b[i])


def test_a_seeded_dataset_without_the_epoch_in_a_worker_is_an_error():
    from fractalgen.errors import SettingsError

    with pytest.raises(SettingsError, match=r"plain index .* pass sampler=EpochSampler"):
        epochs(probe.ThroughMixingDataset(seed=7), 2, "fork", count=1)


def test_a_seeded_dataset_repeating_an_epoch_in_the_main_process_warns():
    from fractalgen.errors import RepeatedSampleWarning

    ds = probe.ThroughMixingDataset(seed=7)
    epochs(ds, 0, count=1)
    with pytest.warns(RepeatedSampleWarning, match="set_epoch"):
        epochs(ds, 0, count=1)
    for sub in ds.sets:
        sub.set_epoch(1)
    epochs(ds, 0, count=1)  # told the epoch: no warning


def test_miamix_collate_draws_a_stream_per_worker():
    from fractalgen.mixing import MiAMix

    images = np.random.default_rng(0).integers(0, 256, (4, 16, 16, 3), dtype=np.uint8)
    samples = [(images[i % 4], i % 4) for i in range(8)]  # worker 0 and worker 1 get the same batch
    MiAMix(4, seed=0).collate(samples[:4])  # compile the kernels once, here, rather than in each worker
    for seed in (None, 5):
        loader = DataLoader(samples, batch_size=4, num_workers=2, collate_fn=MiAMix(4, seed=seed).collate,
                            multiprocessing_context="fork")
        (x0, y0), (x1, y1) = list(loader)
        assert not np.array_equal(x0, x1) and not np.array_equal(y0, y1)
