"""IPMix: image-level, patch-level and pixel-level mixing chains, combined like AugMix.

Paper: Huang, Zhang, Zhang, Wu, Liu, Lin, "IPMix: Label-Preserving Data Augmentation Method for Training Robust
Classifiers", NeurIPS 2023, arXiv:2310.04780 (Algorithm 1, Appendix D).

Steps (one view): ``w ~ Dirichlet(alpha, ..., alpha)`` over k chains, ``m ~ Beta(alpha, alpha)``. Each chain starts
from x and is, with probability 1/2 each, an image-level chain (n random ops in sequence) or a P-level chain
(n patch mixes: a box of a size drawn from the patch sizes, a blend drawn from add / multiply / random pixels /
random elements, and a partner that is the fractal or, with probability 1/2, a random op applied to the
original x). n is uniform on 1..t. Output ``m * sum(w_i chain_i) + (1 - m) * x``.

Patch boxes: a square of side s at a uniform position inside the image, or with probability 1/2 a scar: a strip
of length s and width uniform on 1..max(1, s // 3) (so its aspect ratio is at least 3), horizontal or vertical
with probability 1/2. A patch of the image's size is the pixel-level (whole image) mix.

What we changed relative to the released reference code and why:

- Blends clip to [0, 1] (blend.py). The reference does not, and its conversion back to 8 bits wraps about 10%
  of a mixed patch's pixels into salt noise.
- Chain lengths are uniform on 1..t as in the paper; the reference draws 0..t, which makes a quarter of the
  chains the identity. ``chain_lengths="released"`` restores that.
- P-level steps mix with the fractal or with an augmented x, 1/2 each (the paper's Algorithm 1); the reference
  code mixes with the fractal only.
- Scars are clearly elongated (aspect ratio >= 3): the reference draws the two sides independently from 2..s,
  which mostly gives squarish boxes, not the paper's long, thin scars.
- The ImageNet patch sizes are {4, 8, 16, 32, 64, 224} clipped to the image (the paper writes 256 with 224 px
  training images).

``variant="released"`` restores all of these (spec/released.md): chain lengths 0..t, the fractal as the only
partner at CIFAR (``p_augmented=0``; the ImageNet script keeps 1/2), squarish boxes (released_ops.patch_box), and
patches blended without clipping and wrapped into 8 bits (released_ops.blend_box).
"""

from __future__ import annotations

from collections.abc import Iterable
from typing import Any

import numpy as np

from . import blend
from . import ops as image_ops
from . import released_ops
from . import settings as check
from .base import MixingMethod

CHAIN_LENGTHS = ("paper", "released")


def patch_box(rng: np.random.Generator, shape: tuple[int, int], size: int) -> tuple[int, int, int, int]:
    """A random box ``(top, left, height, width)`` inside an image of ``shape``: a square of side ``size``, or
    with probability 1/2 a scar (length ``size``, width 1..size // 3), both clipped to the image."""
    h, w = shape
    s = max(1, min(size, h, w))
    square, thin, across, u_top, u_left = rng.random(5).tolist()  # one call: five scalar draws cost 3x more
    if square < 0.5:
        bh = bw = s
    else:
        thin = 1 + int(thin * max(1, s // 3))
        bh, bw = (thin, s) if across < 0.5 else (s, thin)
    return int(u_top * (h - bh + 1)), int(u_left * (w - bw + 1)), bh, bw


class IPMix(MixingMethod):
    """IPMix with the paper's defaults: ``preset="cifar"`` (k=3, t=3, alpha=1, beta=3, severity 3, patch sizes 4..32)
    or ``"imagenet"`` (beta=4, severity 1, patch sizes 4..224). Any hyper-parameter given overrides the preset's.
    ``chain_lengths``: ``"paper"`` (1..t) or ``"released"`` (0..t, as the authors' code); ``p_augmented``: the
    probability that a patch step mixes with an augmented x rather than the fractal (1/2).
    ``variant="released"``: the authors' code (see the module docstring)."""

    PRESETS = {
        "cifar": {"k": 3, "t": 3, "alpha": 1.0, "beta": 3.0, "severity": 3.0, "patch_sizes": (4, 8, 16, 32),
                  "ops": "ipmix", "chain_lengths": "paper", "p_augmented": 0.5},
        "imagenet": {"k": 3, "t": 3, "alpha": 1.0, "beta": 4.0, "severity": 1.0,
                     "patch_sizes": (4, 8, 16, 32, 64, 224), "ops": "ipmix", "chain_lengths": "paper",
                     "p_augmented": 0.5},
    }
    RELEASED = {"cifar": {"chain_lengths": "released", "p_augmented": 0.0},
                "imagenet": {"chain_lengths": "released", "p_augmented": 0.5}}
    RELEASED_DEFECTS = ("unclipped patch blends wrapping into salt noise, a quarter of the chains empty, squarish "
                        "boxes instead of scars")
    HYPER = ("k", "t", "alpha", "beta", "severity", "patch_sizes", "chain_lengths", "p_augmented", "blends", "ops")
    blends = blend.BLENDS

    def __init__(self, source: Any, preset: str = "cifar", *, k: int | None = None, t: int | None = None,
                 alpha: float | None = None, beta: float | None = None, severity: float | None = None,
                 patch_sizes: Iterable[int] | None = None, ops: str | Iterable[str] | None = None,
                 chain_lengths: str | None = None, p_augmented: float | None = None, views: int = 1,
                 seed: int | None = None, variant: str = "paper") -> None:
        super().__init__(source, preset, {"k": k, "t": t, "alpha": alpha, "beta": beta, "severity": severity,
                                          "patch_sizes": patch_sizes, "ops": ops, "chain_lengths": chain_lengths,
                                          "p_augmented": p_augmented}, views=views, seed=seed, variant=variant)
        s = self._settings
        self.k = check.integer("k", s["k"])
        self.t = check.integer("t", s["t"])
        self.alpha = check.positive("alpha", s["alpha"])
        self.patch_sizes = check.integers("patch_sizes", s["patch_sizes"])
        self.chain_lengths = check.choice("chain_lengths", s["chain_lengths"], CHAIN_LENGTHS)
        self.p_augmented = check.probability("p_augmented", s["p_augmented"])

    # -- drawing params
    def _length(self, rng: np.random.Generator) -> int:
        low = 1 if self.chain_lengths == "paper" else 0
        return low + int(rng.random() * (self.t + 1 - low))

    def _patch_step(self, rng: np.random.Generator, shape: tuple[int, int]) -> dict:
        size = image_ops.pick(rng, self.patch_sizes)
        name = image_ops.pick(rng, self.blends)
        params = blend.sample_params(name, rng, self.beta)
        augmented = rng.random() >= 1 - self.p_augmented
        partner = image_ops.random_op(rng, self.ops, self.severity, shape) if augmented else None
        box = (released_ops.patch_box if self.variant == "released" else patch_box)(rng, shape, size)
        return {"box": box, "blend": name, "params": params, "partner": partner}

    def _draw(self, rng: np.random.Generator, shape: tuple[int, int]) -> dict:
        """``{"w": [k weights], "m", "chains": [{"kind": "image", "ops": [...]} or {"kind": "patch", "steps":
        [{"box": (top, left, h, w), "blend", "params", "partner": op or None (the fractal)}]}]}``."""
        if self.alpha >= 0.1:
            # Dirichlet(alpha) as normalised Gamma(alpha) draws: for alpha >= 0.1 numpy's dirichlet computes
            # exactly this (the same values from the same generator state), at three times the cost
            gammas = rng.standard_gamma(self.alpha, self.k).tolist()
            w = [g / sum(gammas) for g in gammas]
        else:  # tiny alphas: all the gammas can underflow to 0; numpy then switches to stick-breaking
            w = rng.dirichlet([self.alpha] * self.k).tolist()
        m = float(rng.beta(self.alpha, self.alpha))
        chains = []
        for _ in range(self.k):
            image_level = rng.random() < 0.5
            n = self._length(rng)
            if image_level:
                chains.append({"kind": "image",
                               "ops": [image_ops.random_op(rng, self.ops, self.severity, shape) for _ in range(n)]})
            else:
                chains.append({"kind": "patch", "steps": [self._patch_step(rng, shape) for _ in range(n)]})
        return {"variant": self.variant, "w": w, "m": m, "chains": chains}

    def needs_fractal(self, params: dict) -> bool:
        return any(step["partner"] is None for c in params["chains"] if c["kind"] == "patch" for step in c["steps"])

    # -- pixels
    def chain(self, image: np.ndarray, fractal: np.ndarray | None, chain: dict, variant: str = "paper") -> np.ndarray:
        """The uint8 result of one chain of the params (``variant``: the params')."""
        if chain["kind"] == "image":
            out = image
            for name, params in chain["ops"]:
                out = image_ops.apply(name, out, **params)
            return out
        out = image.copy()
        for step in chain["steps"]:
            partner = fractal if step["partner"] is None else image_ops.apply(step["partner"][0], image,
                                                                              **step["partner"][1])
            mix_box = released_ops.blend_box if variant == "released" else blend.blend_box
            mix_box(step["blend"], out, partner, step["box"], **step["params"])
        return out

    def apply(self, image: np.ndarray, fractal: np.ndarray | None, params: dict) -> np.ndarray:
        """The view of ``params``: float32 (H, W, 3) in [0, 1]."""
        chains = [self.chain(image, fractal, c, params["variant"]) for c in params["chains"]]
        m = params["m"]
        return blend.weighted_sum([*chains, image], [m * w for w in params["w"]] + [1 - m])
