"""Datasets for the real-DataLoader tests, in an importable module so that spawn workers can unpickle them.

Every sample is the same image, so any difference between two samples comes from the augmentation: two workers
sharing a stream, or an epoch repeating the last, show up as equal bytes. An item stacks the views of all four
label-preserving methods, so one loader run checks them all.
"""

from __future__ import annotations

import numpy as np

from fractalgen.mixing import FractalMaskMix, FractalSource, IPMix, LayerMix, PixMix

SIZE, N = 16, 8
CLASSES = (PixMix, IPMix, LayerMix, FractalMaskMix)
NAMES = tuple(c.__name__ for c in CLASSES)


def image() -> np.ndarray:
    y, x = np.mgrid[0:SIZE, 0:SIZE] / SIZE
    img = np.stack([40 + 180 * x, 60 + 150 * y * (1 - x), 200 - 140 * np.hypot(x - 0.6, y - 0.4)], -1)
    return img.astype(np.uint8)


def methods(seed: int | None = None) -> list:
    fractals = np.random.default_rng(0).integers(0, 256, (6, 18, 18, 3), dtype=np.uint8)
    source = FractalSource(fractals, size=SIZE)
    return [cls(source, seed=seed) for cls in CLASSES]


class Images:
    """N copies of one image, labelled by their index."""

    def __len__(self) -> int:
        return N

    def __getitem__(self, i: int):
        return image(), int(i)


class PlainTransforms:
    """What a user writes first: a Dataset that calls each method as a plain transform."""

    def __init__(self, seed: int | None = None) -> None:
        self.augs = methods(seed)

    def __len__(self) -> int:
        return N

    def __getitem__(self, i: int):
        return np.stack([aug(image()) for aug in self.augs]), int(i)


class ThroughMixingDataset:
    """Each method through fractalgen's MixingDataset (``seed``: the dataset's), items passed on as they come
    (an int, or an (epoch, index) pair from an EpochSampler)."""

    def __init__(self, seed: int | None = None) -> None:
        from fractalgen.mixing.torch import MixingDataset

        self.sets = [MixingDataset(Images(), aug, to_tensor=False, seed=seed) for aug in methods()]

    def __len__(self) -> int:
        return N

    def __getitem__(self, item):
        outs = [ds[item] for ds in self.sets]
        return np.stack([np.asarray(x) for x, _ in outs]), outs[0][1]


class Both:
    """The methods as plain transforms, then through MixingDataset (unseeded): 2 x 4 views per item."""

    names = tuple(f"{n} (plain transform)" for n in NAMES) + tuple(f"{n} (MixingDataset)" for n in NAMES)

    def __init__(self) -> None:
        self.plain, self.wrapped = PlainTransforms(), ThroughMixingDataset()

    def __len__(self) -> int:
        return N

    def __getitem__(self, i: int):
        return np.concatenate([self.plain[i][0], self.wrapped[i][0]]), int(i)
