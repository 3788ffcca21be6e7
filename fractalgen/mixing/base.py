"""What the mixing methods share: image kinds in and out, presets, seeding, views, and the sample/apply split.

A method is a class holding its hyper-parameters. One augmented view is made in two steps:
``plan = method.sample_params(rng, (H, W))`` draws every random choice into a JSON-ready dict, and
``method.apply(x, fractal, plan)`` does the pixel work deterministically (uint8 in; uint8 or float32 out).
``method(img)`` does both, drawing the fractal from the source only when a plan uses it.
"""

from __future__ import annotations

import warnings
from typing import Any

import numpy as np
from PIL import Image

from .._jit import njit
from ..errors import ImageInputError, RecipeError, ReleasedVariantWarning
from ..recipe import STREAM_MIXING, image_rng
from . import ops
from .source import FractalSource


def as_rgb_uint8(img: Any) -> tuple[np.ndarray, str]:
    """A writable C-contiguous uint8 (H, W, 3) array for a PIL image or a uint8 / float (values in [0, 1])
    (H, W, 3) array, and the input's kind (``"pil"``, ``"uint8"`` or the name of its float dtype) to give the
    results back in. (Writable, because numba compiles every kernel twice if some inputs are read-only.)"""
    if isinstance(img, Image.Image):
        rgb = img if img.mode == "RGB" else img.convert("RGB")
        return np.array(rgb), "pil"
    if not isinstance(img, np.ndarray):
        raise ImageInputError(f"cannot augment a {type(img).__name__}; pass a PIL image or an (H, W, 3) uint8 or "
                              "float array")
    if img.ndim != 3 or img.shape[2] != 3 or img.shape[0] == 0 or img.shape[1] == 0:
        raise ImageInputError(f"expected an (H, W, 3) image, got shape {img.shape}; grayscale images can be "
                              "repeated to 3 channels with np.repeat(img[..., None], 3, axis=2)")
    if img.dtype == np.uint8:
        return (np.ascontiguousarray(img) if img.flags.writeable else img.copy()), "uint8"
    if img.dtype.kind != "f":
        raise ImageInputError(f"expected a uint8 or float image, got {img.dtype}; convert with img.astype(np.uint8)")
    lo, hi = float(img.min()), float(img.max())
    if not (0.0 <= lo and hi <= 1.0):
        raise ImageInputError(f"float images must hold values in [0, 1], got [{lo:.3g}, {hi:.3g}]; divide by 255")
    return to_uint8(img), img.dtype.name


@njit
def _to_float_kernel(src, out):
    for i in range(src.shape[0]):
        out[i] = np.float32(src[i]) / np.float32(255)


@njit
def _to_uint8_kernel(src, out):
    for i in range(src.shape[0]):
        out[i] = np.uint8(int(min(max(src[i], np.float32(0)), np.float32(1)) * np.float32(255) + np.float32(0.5)))


def to_float(img: np.ndarray) -> np.ndarray:
    """float32 in [0, 1] for a uint8 image (float images pass through as float32)."""
    if img.dtype != np.uint8:
        return img.astype(np.float32, copy=False)
    out = np.empty(img.shape, dtype=np.float32)
    _to_float_kernel(np.ascontiguousarray(img).reshape(-1), out.reshape(-1))
    return out


def to_uint8(img: np.ndarray) -> np.ndarray:
    """uint8 for a float image in [0, 1] (clipped, rounded to the nearest grey level); uint8 passes through."""
    if img.dtype == np.uint8:
        return img
    out = np.empty(img.shape, dtype=np.uint8)
    _to_uint8_kernel(np.ascontiguousarray(img, dtype=np.float32).reshape(-1), out.reshape(-1))
    return out


def to_kind(img: np.ndarray, kind: str) -> Any:
    """A result (uint8, or float in [0, 1]) in the kind the input came in."""
    if kind == "uint8":
        return to_uint8(img)
    if kind == "pil":
        return Image.fromarray(to_uint8(img))
    return to_float(img).astype(kind, copy=False)


#: ``"paper"``: the paper's algorithm with the released code's defects fixed (the default); ``"released"``: what
#: the authors' released code does, defects included (to reproduce a published number; spec/released.md).
VARIANTS = ("paper", "released")
_warned: set[str] = set()  # the methods that have issued their ReleasedVariantWarning in this process


def released_note(method: str, defects: str) -> str:
    """What the released variant of ``method`` reproduces, in one line."""
    return (f"{method}(variant='released') reproduces the authors' released code, defects included ({defects}); "
            "use it to reproduce a published number, and the default variant='paper' to train")


def warn_released(method: str, defects: str) -> None:
    """Warn once per method and process that its released variant reproduces known defects."""
    if method not in _warned:
        _warned.add(method)
        warnings.warn(released_note(method, defects), ReleasedVariantWarning, stacklevel=4)


def sample_rng(seed: int, epoch: int, index: int) -> np.random.Generator:
    """The generator of training sample ``index`` in ``epoch`` for a run seeded ``seed``: a pure function of the
    three, so an augmented sample does not depend on the worker, the worker count or the order of loading."""
    return image_rng(seed, index, epoch, STREAM_MIXING)


class MixingMethod:
    """Base class: holds the fractal source, the views, the generator, and the hyper-parameters of a preset.

    Randomness: every draw comes from the ``rng`` passed to a call, or else from the method's own generator,
    seeded by ``seed`` (``reseed`` replaces it, e.g. once per DataLoader worker).
    """

    #: preset name -> hyper-parameters (subclasses fill it)
    PRESETS: dict[str, dict[str, Any]] = {}
    #: preset name -> the hyper-parameters that the released code uses instead (``variant="released"``)
    RELEASED: dict[str, dict[str, Any]] = {}
    #: what the released variant reproduces, for its warning
    RELEASED_DEFECTS = ""
    #: the hyper-parameters shown by repr, in order
    HYPER: tuple[str, ...] = ()
    #: the blends a method draws from, uniformly (repeat a name to weight it)
    blends: tuple[str, ...] = ()

    def __init__(self, source: Any, preset: str, overrides: dict[str, Any], *, views: int = 1,
                 seed: int | None = None, variant: str = "paper") -> None:
        if not isinstance(source, FractalSource) and not hasattr(source, "sample"):
            source = FractalSource(source)
        self.source = source
        if views not in (1, 3):
            raise RecipeError(f"views = {views!r}; pass 1 (one augmented image) or 3 (clean, aug1, aug2 for a JSD loss)")
        self.views = views
        self.seed = seed
        self.rng = np.random.default_rng(seed)
        try:
            settings = dict(self.PRESETS[preset])
        except KeyError:
            raise RecipeError(f"unknown {type(self).__name__} preset {preset!r}; choose from "
                              f"{', '.join(self.PRESETS)}") from None
        self.preset = preset
        if variant not in VARIANTS:
            raise RecipeError(f"variant = {variant!r} is not one of {', '.join(map(repr, VARIANTS))}")
        self.variant = variant
        if variant == "released":
            settings.update(self.RELEASED.get(preset, {}))
            warn_released(type(self).__name__, self.RELEASED_DEFECTS)
        settings.update({k: v for k, v in overrides.items() if v is not None})
        self._settings = settings
        # every method blends with get_ab(beta) and draws ops from a set at a severity
        self.beta = self._positive("beta", settings["beta"])
        self.severity = ops.check_severity(settings["severity"])
        self.ops = ops.resolve_ops(settings["ops"])

    # -- hyper-parameter checks shared by the subclasses
    @staticmethod
    def _positive_int(name: str, value: Any, low: int = 1) -> int:
        if isinstance(value, bool) or not isinstance(value, (int, np.integer)) or value < low:
            raise RecipeError(f"{name} = {value!r} must be an integer >= {low}")
        return int(value)

    @staticmethod
    def _positive(name: str, value: Any) -> float:
        if isinstance(value, bool) or not isinstance(value, (int, float, np.number)) or not value > 0:
            raise RecipeError(f"{name} = {value!r} must be a number > 0")
        return float(value)

    def reseed(self, seed: Any) -> None:
        """Replace the method's own generator (``worker_init_fn`` gives each DataLoader worker its own seed)."""
        self.rng = np.random.default_rng(seed)

    # -- the sample / apply split (subclasses)
    def sample_params(self, rng: np.random.Generator, shape: tuple[int, int]) -> dict:
        raise NotImplementedError

    def apply(self, image: np.ndarray, fractal: np.ndarray | None, plan: dict) -> np.ndarray:
        raise NotImplementedError

    def needs_fractal(self, plan: dict) -> bool:
        raise NotImplementedError

    # -- calling
    def _views(self, img: Any, rng: np.random.Generator | None) -> tuple[np.ndarray, str, list[np.ndarray]]:
        x, kind = as_rgb_uint8(img)
        rng = self.rng if rng is None else rng
        plans = [self.sample_params(rng, x.shape[:2]) for _ in range(1 if self.views == 1 else 2)]
        fractal = None
        if any(self.needs_fractal(p) for p in plans):
            fractal = self.source.sample(rng)  # one mixing picture per sample, shared by its views
            if fractal.shape != x.shape:
                raise ImageInputError(f"the image is {x.shape[1]}x{x.shape[0]} but the fractal source gives "
                                      f"{fractal.shape[1]}x{fractal.shape[0]} crops; make the source with "
                                      f"size={x.shape[0]} or resize the images")
        return x, kind, [self.apply(x, fractal, p) for p in plans]

    def __call__(self, img: Any, rng: np.random.Generator | None = None) -> Any:
        """Augment one image (PIL, uint8 or float array): the same kind back, or (clean, aug1, aug2) if views=3."""
        x, kind, outs = self._views(img, rng)
        if self.views == 1:
            return to_kind(outs[0], kind)
        clean = to_kind(x, kind) if kind in ("uint8", "pil") else np.array(img)  # a float input stays exact
        return (clean, *(to_kind(o, kind) for o in outs))

    def augment(self, img: Any, rng: np.random.Generator | None = None) -> Any:
        """As ``__call__``, but every result is float32 (H, W, 3) in [0, 1] (no rounding to 8 bits)."""
        x, kind, outs = self._views(img, rng)
        if self.views == 1:
            return to_float(outs[0])
        clean = to_float(x) if kind in ("uint8", "pil") else to_float(img)
        return (clean, *(to_float(o) for o in outs))

    def __repr__(self) -> str:
        parts = [f"preset={self.preset!r}", f"variant={self.variant!r}"]
        for name in self.HYPER:
            value = getattr(self, name)
            if name == "ops":
                value = f"{len(value)} ops ({', '.join(value)})"
            parts.append(f"{name}={value}")
        parts += [f"views={self.views}", f"seed={self.seed}", f"source={self.source!r}"]
        return f"{type(self).__name__}({', '.join(parts)})"
