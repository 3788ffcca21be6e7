"""What drawing a batch of images gives: the common result type of every family's ``draw``."""

from __future__ import annotations

import dataclasses

import numpy as np

from ..seeding import STREAM_PARAMS, derive
from .quality import Rejected


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


def one_by_one(sample, render):
    """A family's ``draw`` from a numpy sampler ``sample(rng, cfg, size, color)`` and a renderer
    ``render(params, gate=...)``, one image at a time (each draw's generator derived from (seed, index, draw))."""

    def draw(cfg, size: int, color: bool, seed: int, indices: np.ndarray, max_draws: int, with_params: bool):
        images = np.zeros((len(indices), size, size, 3 if color else 1), dtype=np.uint8)
        draws = np.zeros(len(indices), dtype=np.int64)
        params, reasons = [], {}
        for k, index in enumerate(indices.tolist()):
            for d in range(max_draws):
                p = sample(derive(seed, index, d, STREAM_PARAMS), cfg, size, color)
                try:
                    images[k] = render(p, gate=cfg.gate)
                except Rejected as err:
                    reasons[k] = err
                    continue
                reasons.pop(k, None)
                draws[k] = d + 1
                break
            params.append(p)
        return Drawn(images, draws, params if with_params else None, reasons)

    return draw
