"""PixMix: mix a training image with fractals and with augmented copies of itself.

Paper: Hendrycks, Zou, Mazeika, Tang, Li, Song, Steinhardt, "PixMix: Dreamlike Pictures Comprehensively Improve
Safety Measures", CVPR 2022, arXiv:2112.05135.

Steps (one view): ``mixed = aug(x)`` with probability 1/2, else ``x``; then ``r`` rounds, ``r`` uniform on
0..k, each blending ``mixed`` with a partner (``aug(x)`` of the ORIGINAL x with probability 1/2, else the fractal)
by add or multiply (1/2 each), clipping to [0, 1]. ``aug`` is one op drawn uniformly from the op set.

What we changed relative to the released reference code and why:

- The default op set is the 9 AugMix ops; the four ImageEnhance ops of the published recipes (``all_ops``)
  overlap ImageNet-C's test corruptions, so they are opt-in: ``ops=["augmix", "enhance"]``.
- The working image stays 8-bit between rounds (each blend is evaluated exactly and rounded once, see
  blend.py), which the reference keeps in float: the difference is at most half a grey level per round.
- The fractal is drawn only when a round uses it (the reference loads one per sample regardless).

``variant="released"`` uses the published training commands' 13 ops (``--all-ops``); the rest of the released
code is the paper's algorithm (spec/released.md).
"""

from __future__ import annotations

from collections.abc import Iterable
from typing import Any

import numpy as np

from . import blend
from . import ops as image_ops
from . import settings as check
from .base import MixingMethod


class PixMix(MixingMethod):
    """PixMix with the paper's defaults: ``preset="cifar"`` (k=4, beta=3, severity 3) or ``"imagenet"`` (k=4,
    beta=4, severity 1). Any hyper-parameter given overrides the preset's. ``variant="released"``: the 13 ops of
    the published commands."""

    PRESETS = {
        "cifar": {"k": 4, "beta": 3.0, "severity": 3.0, "ops": "augmix"},
        "imagenet": {"k": 4, "beta": 4.0, "severity": 1.0, "ops": "augmix"},
    }
    RELEASED = {"cifar": {"ops": ("augmix", "enhance")}, "imagenet": {"ops": ("augmix", "enhance")}}
    RELEASED_DEFECTS = "the ImageEnhance ops, which overlap ImageNet-C's test corruptions"
    HYPER = ("k", "beta", "severity", "blends", "ops")
    blends = ("add", "multiply")

    def __init__(self, source: Any, preset: str = "cifar", *, k: int | None = None, beta: float | None = None,
                 severity: float | None = None, ops: str | Iterable[str] | None = None, views: int = 1,
                 seed: int | None = None, variant: str = "paper") -> None:
        super().__init__(source, preset, {"k": k, "beta": beta, "severity": severity, "ops": ops},
                         views=views, seed=seed, variant=variant)
        self.k = check.integer("k", self._settings["k"], low=0)

    def _draw(self, rng: np.random.Generator, shape: tuple[int, int]) -> dict:
        """``{"first": op or None, "rounds": [{"partner": op or None (the fractal), "blend", "params"}]}``."""
        first = image_ops.random_op(rng, self.ops, self.severity, shape) if rng.random() < 0.5 else None
        rounds = []
        for _ in range(int(rng.random() * (self.k + 1))):
            partner = image_ops.random_op(rng, self.ops, self.severity, shape) if rng.random() < 0.5 else None
            name = image_ops.pick(rng, self.blends)
            rounds.append({"partner": partner, "blend": name, "params": blend.sample_params(name, rng, self.beta)})
        return {"variant": self.variant, "first": first, "rounds": rounds}

    def needs_fractal(self, params: dict) -> bool:
        return any(r["partner"] is None for r in params["rounds"])

    def apply(self, image: np.ndarray, fractal: np.ndarray | None, params: dict) -> np.ndarray:
        """The view of ``params``: uint8 (H, W, 3)."""
        first = params["first"]
        mixed = image if first is None else image_ops.apply(first[0], image, **first[1])
        for r in params["rounds"]:
            partner = fractal if r["partner"] is None else image_ops.apply(r["partner"][0], image, **r["partner"][1])
            mixed = blend.blend(r["blend"], mixed, partner, **r["params"])
        return mixed

