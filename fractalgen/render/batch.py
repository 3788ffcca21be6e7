"""What drawing a batch of images gives (the common result type of every family's ``draw``), and what the batch
kernels take for a recipe's choices."""

from __future__ import annotations

import dataclasses

import numpy as np


@dataclasses.dataclass
class Drawn:
    """What a family's ``draw`` returns for a batch of image indices.

    ``images``: uint8 (n, size, size, channels); ``draws``: int64 (n,), the draws taken by each image, 0 for an
    image none of whose ``max_draws`` draws passed the gate (its pixels are undefined); ``params``: one JSON dict
    per image (without the set-wide keys family / seed / index / draws / render_version), or None when not asked
    for; ``reasons``: for each failed image (by position), the gate's last reason in words."""

    images: np.ndarray
    draws: np.ndarray
    params: list | None
    reasons: dict


def choice_codes(chosen, names: tuple) -> np.ndarray:
    """The choices ``chosen`` of a recipe setting (names) as the int64 indices into ``names`` that the sampling
    kernels draw from."""
    return np.array([names.index(x) for x in chosen], dtype=np.int64)
