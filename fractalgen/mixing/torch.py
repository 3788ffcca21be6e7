"""PyTorch glue for the mixing methods: a Dataset wrapper, the sampler that carries the epoch, and the JSD loss.

The only module of fractalgen.mixing that imports torch (an optional dependency).

>>> from torch.utils.data import DataLoader
>>> from fractalgen.mixing.torch import EpochSampler, MixingDataset
>>> train = MixingDataset(cifar_train, IPMix(source), normalize=([0.5] * 3, [0.5] * 3), seed=0)  # doctest: +SKIP
>>> loader = DataLoader(train, batch_size=128, sampler=EpochSampler(train, shuffle=True, seed=0),
...                     num_workers=4, persistent_workers=True)                                 # doctest: +SKIP

The randomness rules (fractalgen.seeding; docs/mixing.md, "Randomness: the rules"):

- ``MixingDataset(..., seed=S)`` with an :class:`EpochSampler`: sample i of epoch e is augmented with
  ``sample_rng(S, e, i)``, so the data are the same whatever the number of workers, start method or
  ``persistent_workers``, and differ from epoch to epoch. The sampler lives in the main process and hands the
  epoch to the workers with every index. A seeded dataset that gets plain indices inside a worker raises (it
  cannot know the epoch); in the main process it follows :meth:`MixingDataset.set_epoch` and warns if a sample
  comes twice in one epoch.
- ``seed=None``: each worker process draws from the method's own stream, which it rebuilds for itself (fresh OS
  entropy, or the method's seed mixed with torch's per-worker seed): workers never share a stream and epochs
  never repeat, with no worker_init_fn to remember.
"""

from __future__ import annotations

import numbers
import os
import warnings
from collections.abc import Iterator, Sequence
from typing import Any

import numpy as np
import torch
import torch.nn.functional as F
from torch.utils.data import Dataset, Sampler, get_worker_info

from .._jit import one_thread_per_worker
from ..errors import RepeatedSampleWarning, SettingsError
from ..seeding import STREAM_SHUFFLE, check_seed, derive, sample_rng
from . import settings as check

#: The process id of the DataLoader worker already made serial (see :func:`serial_in_worker`).
_SERIAL_PID: int | None = None


def serial_in_worker() -> None:
    """In a DataLoader worker, run fractalgen's kernels on one thread (once per worker process): the loader's
    workers, not numba's threads, share the cores, and parallel kernels inside them oversubscribe the machine."""
    global _SERIAL_PID
    if _SERIAL_PID != os.getpid() and get_worker_info() is not None:
        one_thread_per_worker()
        _SERIAL_PID = os.getpid()


def to_tensor(image: np.ndarray, normalize: tuple[torch.Tensor, torch.Tensor] | None = None) -> torch.Tensor:
    """float32 (H, W, C) array in [0, 1] -> float32 (C, H, W) tensor, optionally ``(t - mean) / std``."""
    t = torch.from_numpy(np.ascontiguousarray(image.transpose(2, 0, 1), dtype=np.float32))
    if normalize is not None:
        mean, std = normalize
        t = (t - mean) / std
    return t


def _channel_stats(normalize: tuple[Sequence[float], Sequence[float]]) -> tuple[torch.Tensor, torch.Tensor]:
    try:
        mean, std = (torch.as_tensor(v, dtype=torch.float32).reshape(-1, 1, 1) for v in normalize)
    except (TypeError, ValueError):
        raise SettingsError(f"normalize = {normalize!r}; pass (mean, std), e.g. ([0.5] * 3, [0.5] * 3)") from None
    if mean.shape[0] not in (1, 3) or std.shape[0] not in (1, 3) or bool((std <= 0).any()):
        raise SettingsError(f"normalize = {normalize!r}; pass 1 or 3 means and 1 or 3 positive stds")
    return mean, std


class EpochSampler(Sampler):
    """A DataLoader sampler that yields ``(epoch, index)`` pairs and moves to the next epoch each time it is
    iterated, so a seeded :class:`MixingDataset` knows the epoch in every worker (persistent or not).

    ``data``: the dataset (or its length). ``shuffle``: a new order every epoch, drawn from ``seed`` and the epoch
    (reproducible; with ``seed=None``, from fresh entropy). ``epoch``: the first epoch (e.g. to resume a run);
    :meth:`set_epoch` moves it."""

    def __init__(self, data: Any, *, shuffle: bool = False, seed: int | None = None, epoch: int = 0) -> None:
        n = data if isinstance(data, numbers.Integral) else len(data)
        if isinstance(n, bool) or n < 0:
            raise SettingsError(f"EpochSampler data = {data!r}; pass the dataset or its length")
        self.n = int(n)
        self.shuffle = bool(shuffle)
        self.seed = check_seed(seed, "EpochSampler seed")
        self.set_epoch(epoch)

    def set_epoch(self, epoch: int) -> None:
        """The epoch of the next iteration."""
        self.epoch = check.integer("epoch", epoch, 0)

    def __len__(self) -> int:
        return self.n

    def __iter__(self) -> Iterator[tuple[int, int]]:
        epoch, self.epoch = self.epoch, self.epoch + 1
        if self.shuffle:
            rng = np.random.default_rng() if self.seed is None else derive(self.seed, epoch, 0, STREAM_SHUFFLE)
            order = rng.permutation(self.n).tolist()
        else:
            order = range(self.n)
        return iter([(epoch, i) for i in order])

    def __repr__(self) -> str:
        return f"EpochSampler({self.n} samples, shuffle={self.shuffle}, seed={self.seed}, next epoch {self.epoch})"


class MixingDataset(Dataset):
    """Wraps a dataset of ``(image, label)`` pairs (PIL images, uint8 (H, W, 3) arrays, (3, H, W) tensors) with a
    mixing method.

    Returns ``(image, label)``, or ``((clean, aug1, aug2), label)`` for a method made with ``views=3``. With
    ``to_tensor=True`` (default) images are float32 (3, H, W) tensors, normalised by ``normalize=(mean, std)`` if
    given; with False they come back as the method returns them (the input's kind). The label is untouched:
    PixMix, IPMix, LayerMix and FractalMaskMix preserve labels.

    Indices: an int, or an ``(epoch, index)`` pair from :class:`EpochSampler`. With ``seed``, sample i of epoch e
    is augmented with ``sample_rng(seed, e, i)``; see the module docstring for the rules.
    """

    def __init__(self, dataset: Any, aug: Any, *, to_tensor: bool = True,
                 normalize: tuple[Sequence[float], Sequence[float]] | None = None, seed: int | None = None) -> None:
        self.dataset = dataset
        self.aug = aug
        self.to_tensor = to_tensor
        self.normalize = None if normalize is None else _channel_stats(normalize)
        self.seed = check_seed(seed, "MixingDataset seed")
        self.set_epoch(0)

    def set_epoch(self, epoch: int) -> None:
        """The epoch of plain int indices in this process (an :class:`EpochSampler` carries its own)."""
        self.epoch = check.integer("epoch", epoch, 0)
        self._seen: bytearray | None = None  # one byte per sample: requested in this epoch (made on first use)

    def __len__(self) -> int:
        return len(self.dataset)

    def _epoch_index(self, item: Any) -> tuple[int, int]:
        if isinstance(item, (tuple, list)) and len(item) == 2:
            return int(item[0]), int(item[1])
        index = int(item)
        if self.seed is not None:
            if get_worker_info() is not None:
                raise SettingsError(
                    f"a seeded MixingDataset got the plain index {index} in a DataLoader worker, which cannot know "
                    "the epoch (every epoch would repeat the same augmentations); pass "
                    "sampler=EpochSampler(dataset, shuffle=True, seed=0) to the DataLoader")
            if self._seen is None or len(self._seen) != len(self.dataset):
                self._seen = bytearray(len(self.dataset))
            if self._seen[index]:
                warnings.warn(f"a seeded MixingDataset gave sample {index} twice in epoch {self.epoch}: the same "
                              "augmentation again; iterate with an EpochSampler, or call set_epoch before each "
                              "epoch", RepeatedSampleWarning, stacklevel=3)
                self._seen = bytearray(len(self.dataset))  # once per repeat of the data, not once per sample
            self._seen[index] = 1
        return self.epoch, index

    def __getitem__(self, item: Any) -> tuple[Any, Any]:
        serial_in_worker()
        epoch, index = self._epoch_index(item)
        image, label = self.dataset[index]
        rng = None if self.seed is None else sample_rng(self.seed, epoch, index)
        if not self.to_tensor:
            return self.aug(image, rng), label
        out = self.aug.augment(image, rng)
        if isinstance(out, tuple):
            return tuple(to_tensor(v, self.normalize) for v in out), label
        return to_tensor(out, self.normalize), label

    def __repr__(self) -> str:
        return f"MixingDataset({len(self)} samples, {self.aug!r}, seed={self.seed}, epoch={self.epoch})"


def worker_init_fn(worker_id: int) -> None:
    """Optional: one numba thread in this DataLoader worker (MixingDataset does it on its first item anyway).
    Streams need no worker_init_fn: every process rebuilds its own (fractalgen.seeding)."""
    serial_in_worker()


def jsd_loss(logits: torch.Tensor, targets: torch.Tensor, n: int | None = None, weight: float = 12.0) -> torch.Tensor:
    """AugMix's consistency loss (Hendrycks et al., ICLR 2020, arXiv:1912.02781) for a method made with
    ``views=3``: ``logits`` of (clean, aug1, aug2) stacked along the batch (``torch.cat(views)``), ``n`` images
    each (default ``len(targets)``); cross-entropy of the clean view plus ``weight`` x the Jensen-Shannon
    divergence of the three predictions."""
    n = len(targets) if n is None else n
    if logits.shape[0] != 3 * n:
        raise SettingsError(f"jsd_loss got {logits.shape[0]} rows of logits for {n} targets; pass the logits of "
                            "torch.cat((clean, aug1, aug2)), 3 x len(targets) rows")
    clean, aug1, aug2 = torch.split(logits, n)
    p = [F.softmax(v, dim=1) for v in (clean, aug1, aug2)]
    mixture = torch.clamp((p[0] + p[1] + p[2]) / 3, 1e-7, 1).log()
    kl = sum(F.kl_div(mixture, q, reduction="batchmean") for q in p)
    return F.cross_entropy(clean, targets) + weight * kl / 3
