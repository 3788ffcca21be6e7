"""LayerMix: three samples of increasing strength with correlated augmentations; one is returned.

Paper: Ahmad, Morle, Rahimi, "LayerMix: Enhanced Data Augmentation through Fractal Integration for Robust Deep
Learning", 2025, arXiv:2501.04861.

Steps (one view): the level L is uniform on {1, 2, 3} and only sample L is computed:
``S1 = Aug1(x)``, ``S2 = clip(Blend(Aug1(x), Aug2(x)))``, ``S3 = Aug3(clip(Blend(S2, f)))`` with f the fractal.
The Aug blocks of one call share one op type (drawn once, uniformly: the paper's covariance between stages),
each with its own magnitude and sign. Each blend is drawn from add 1/3, multiply 1/3, random pixels 1/6, random
elements 1/6 (the paper's re-weighted mixture), with ``get_ab(beta=3)``.

What we changed relative to the released reference code, op by op, and why (each op's measured effect on the
mean per-pixel change, paper -> released, is in docs/mixing.md, from benchmarks/strength.py):

- posterize: AugMix's 4 - int(u * 4 / 10) bits (4 or 3 at severity 3). The released draw keeps 0 bits (a black
  image) 82% of the time: about 6% of all samples carry no content. The largest part of the strength gap.
- posterize_increasing: max(1, 4 - int(u * 8 / 10)) bits (4..2): an "increasing" op is stronger than the plain
  one and never black; the released 4 or 3 bits is the plain AugMix op under another name.
- solarize: AugMix's threshold 256 - int(u * 256 / 10) (180..254), a mild op. LayerMix's own threshold,
  U(0.1, 0.3) of the range, inverts all but the darkest pixels, which is nearly ``invert``, an op the LayerMix
  set leaves out (IPMix has it). A deliberate choice, not a defect fix: ``variant="released"`` gives LayerMix's.
- solarize_increasing: threshold max(128, 256 - int(u * 512 / 10)) (128..251). The released range [-0.2, 0.1]
  inverts every pixel: ``invert`` again, in every call that draws it.
- shear_x / shear_y: AugMix's level u * 0.3 / 10 about the top / left edge (PIL's affine). The released angle
  is atan(U(0.09, 0.1)), a constant 5.2-5.7 degrees.
- rotate, translate: AugMix's whole degrees and pixels (PIL's bilinear affine, about the centre for rotate);
  the released ones are real-valued and sample with zero padding (torchvision). The effect is within 2%.
- equalize, autocontrast, grayscale: PIL's 8-bit ops; the released ones compute the same on floats.
- The working image is 8-bit between stages (blends are evaluated exactly and rounded once, see blend.py); the
  released variant stays in float32.
- The fractal is mixed in as it is; ``fractal_gray=True`` gives the released option (grayscale, random flips),
  off by default in both variants as in the released code.
- The method is the class itself: the released code's default method name does not run.
"""

from __future__ import annotations

from collections.abc import Iterable
from typing import Any

import numpy as np

from ..errors import SettingsError
from . import blend
from . import ops as image_ops
from . import released_ops
from . import settings as check
from .base import MixingMethod, to_float


class LayerMix(MixingMethod):
    """LayerMix with the paper's defaults (severity 3 and beta 3 for CIFAR and ImageNet alike, the 12-op set);
    ``preset="cifar"`` and ``"imagenet"`` are the same settings, kept for a uniform API. ``fractal_gray=True``
    mixes in the fractal as grayscale, flipped at random (the paper's figures). ``variant="released"``: the
    authors' code (released_ops.LAYERMIX_OPS on float images)."""

    PRESETS = {
        "cifar": {"beta": 3.0, "severity": 3.0, "ops": "layermix", "fractal_gray": False},
        "imagenet": {"beta": 3.0, "severity": 3.0, "ops": "layermix", "fractal_gray": False},
    }
    RELEASED = {"cifar": {"severity": released_ops.LAYERMIX_SEVERITY},
                "imagenet": {"severity": released_ops.LAYERMIX_SEVERITY}}
    RELEASED_DEFECTS = ("posterize blacking out the image 82% of the time, solarize_increasing inverting nearly "
                        "every pixel, a nearly constant 5-degree shear")
    HYPER = ("beta", "severity", "fractal_gray", "blends", "ops")
    #: the re-weighted blending mixture: a uniform draw from this list
    blends = ("add", "multiply", "add", "multiply", "random_pixels", "random_elements")

    def __init__(self, source: Any, preset: str = "cifar", *, beta: float | None = None,
                 severity: float | None = None, ops: str | Iterable[str] | None = None,
                 fractal_gray: bool | None = None, views: int = 1, seed: int | None = None,
                 variant: str = "paper") -> None:
        super().__init__(source, preset, {"beta": beta, "severity": severity, "ops": ops,
                                          "fractal_gray": fractal_gray}, views=views, seed=seed, variant=variant)
        self.fractal_gray = check.boolean("fractal_gray", self._settings["fractal_gray"])
        self._ops = released_ops.LAYERMIX_OPS if self.variant == "released" else image_ops.OPS
        unknown = [name for name in self.ops if name not in self._ops]
        if unknown:
            raise SettingsError(f"the released LayerMix has no op {unknown[0]!r}; choose from "
                              f"{', '.join(released_ops.LAYERMIX_OPS)}")

    def _draw(self, rng: np.random.Generator, shape: tuple[int, int]) -> dict:
        """``{"variant", "level": L, "op": name, "augs": [params of each Aug block], "blends": [(name, params) of
        each blend], "fractal": flips of the grayscale fractal or None}`` with only the draws sample L needs: L Aug
        blocks and L - 1 blends."""
        level = 1 + int(rng.random() * 3)
        op = image_ops.pick(rng, self.ops)
        augs = [self._ops[op].sample(rng, self.severity, shape) for _ in range(level)]
        blends = []
        for _ in range(level - 1):
            name = image_ops.pick(rng, self.blends)
            blends.append((name, blend.sample_params(name, rng, self.beta)))
        fractal = released_ops.sample_fractal_flips(rng) if level == 3 and self.fractal_gray else None
        return {"variant": self.variant, "level": level, "op": op, "augs": augs, "blends": blends,
                "fractal": fractal}

    def needs_fractal(self, params: dict) -> bool:
        return params["level"] == 3

    def apply(self, image: np.ndarray, fractal: np.ndarray | None, params: dict) -> np.ndarray:
        """Sample ``params["level"]`` of the pipeline: uint8 (H, W, 3), or float32 in the released variant, which
        works on float images throughout."""
        op, augs, blends = params["op"], params["augs"], params["blends"]
        if params["level"] == 3 and params["fractal"] is not None:
            fractal = released_ops.fractal_view(fractal, **params["fractal"])
        if params["variant"] == "released":
            image, fractal = to_float(image), None if fractal is None else to_float(fractal)
        run = (released_ops.LAYERMIX_OPS if params["variant"] == "released" else image_ops.OPS)[op].apply
        out = run(image, **augs[0])
        if params["level"] >= 2:
            out = blend.blend(blends[0][0], out, run(image, **augs[1]), **blends[0][1])
        if params["level"] == 3:
            out = run(blend.blend(blends[1][0], out, fractal, **blends[1][1]), **augs[2])
        return out
