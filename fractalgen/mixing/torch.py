"""PyTorch glue for the mixing methods: a Dataset wrapper and a DataLoader ``worker_init_fn``.

The only module of fractalgen.mixing that imports torch (an optional dependency).

>>> from torch.utils.data import DataLoader
>>> from fractalgen.mixing.torch import MixingDataset, worker_init_fn
>>> train = MixingDataset(cifar_train, IPMix(source), normalize=([0.5] * 3, [0.5] * 3))     # doctest: +SKIP
>>> loader = DataLoader(train, batch_size=128, num_workers=4, worker_init_fn=worker_init_fn)  # doctest: +SKIP

Two ways to seed (see the protocol in fractalgen.mixing):

- ``MixingDataset(..., seed=S)``: sample i of epoch e is augmented with ``sample_rng(S, e, i)``, so the data do not
  depend on the workers at all; call ``train.set_epoch(e)`` before iterating each epoch (with
  ``persistent_workers=True`` the workers keep the epoch they were started with).
- no seed: the method's own generator. ``worker_init_fn`` re-seeds each worker's copy from torch's per-worker seed
  (different in every worker and every epoch, reproducible under ``torch.manual_seed``). Without it, forked
  workers would all start from the same generator state and repeat each other's augmentations.
"""

from __future__ import annotations

import os
from collections.abc import Sequence
from typing import Any

import numpy as np
import torch
from torch.utils.data import Dataset, get_worker_info

from .._jit import one_thread_per_worker
from ..errors import RecipeError
from .base import sample_rng

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
        raise RecipeError(f"normalize = {normalize!r}; pass (mean, std), e.g. ([0.5] * 3, [0.5] * 3)") from None
    if mean.shape[0] not in (1, 3) or std.shape[0] not in (1, 3) or bool((std <= 0).any()):
        raise RecipeError(f"normalize = {normalize!r}; pass 1 or 3 means and 1 or 3 positive stds")
    return mean, std


class MixingDataset(Dataset):
    """Wraps a dataset of ``(image, label)`` pairs (PIL images or uint8 (H, W, 3) arrays) with a mixing method.

    Returns ``(image, label)``, or ``((clean, aug1, aug2), label)`` for a method made with ``views=3``. With
    ``to_tensor=True`` (default) images are float32 (3, H, W) tensors, normalised by ``normalize=(mean, std)`` if
    given; with False they come back as the method returns them (the input's kind). The label is untouched:
    PixMix, IPMix and LayerMix preserve labels.
    """

    def __init__(self, dataset: Any, aug: Any, *, to_tensor: bool = True,
                 normalize: tuple[Sequence[float], Sequence[float]] | None = None, seed: int | None = None) -> None:
        if seed is not None and (isinstance(seed, bool) or not isinstance(seed, (int, np.integer)) or seed < 0):
            raise RecipeError(f"seed = {seed!r}; pass a non-negative integer, or None to use worker_init_fn")
        self.dataset = dataset
        self.aug = aug
        self.to_tensor = to_tensor
        self.normalize = None if normalize is None else _channel_stats(normalize)
        self.seed = seed
        self.epoch = 0

    def set_epoch(self, epoch: int) -> None:
        """The epoch of the per-sample streams (only used with ``seed``)."""
        self.epoch = int(epoch)

    def reseed(self, seed: int) -> None:
        """Re-seed the method's own generator (``worker_init_fn`` calls this in each worker)."""
        self.aug.reseed(seed)

    def __len__(self) -> int:
        return len(self.dataset)

    def __getitem__(self, index: int) -> tuple[Any, Any]:
        serial_in_worker()
        image, label = self.dataset[index]
        rng = None if self.seed is None else sample_rng(self.seed, self.epoch, int(index))
        if not self.to_tensor:
            return self.aug(image, rng), label
        out = self.aug.augment(image, rng)
        if isinstance(out, tuple):
            return tuple(to_tensor(v, self.normalize) for v in out), label
        return to_tensor(out, self.normalize), label

    def __repr__(self) -> str:
        return f"MixingDataset({len(self)} samples, {self.aug!r}, seed={self.seed}, epoch={self.epoch})"


def worker_init_fn(worker_id: int) -> None:
    """Give this DataLoader worker its own stream and one numba thread: re-seeds the first dataset found (through ``.dataset``
    wrappers such as ``Subset``) that has a ``reseed`` method, from torch's seed for this worker."""
    serial_in_worker()
    info = get_worker_info()
    dataset = info.dataset
    while not hasattr(dataset, "reseed") and hasattr(dataset, "dataset"):
        dataset = dataset.dataset
    if hasattr(dataset, "reseed"):
        dataset.reseed(info.seed)
