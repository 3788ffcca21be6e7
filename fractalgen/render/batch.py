"""What drawing a batch of images gives: the common result type of every family's ``draw``."""

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
