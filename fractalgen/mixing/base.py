"""What the mixing methods share: one protocol for PixMix, IPMix, LayerMix and FractalMaskMix.

A method is a class holding its hyper-parameters (a preset, overridden by keywords, checked with
:mod:`.settings`). One augmented view is made in two steps: ``params = method.sample_params(rng, (H, W))`` draws
every random choice into a JSON-ready dict (log it, replay it), and ``method.apply(x, fractal, params)`` does the
pixel work deterministically (uint8 (H, W, 3) in; uint8 or float32 out). ``method(img, rng=None)`` does both,
drawing the fractal from the source only when the params use it.

``rng`` is None (the method's own :class:`~fractalgen.seeding.Stream`: fresh entropy in every process, or its
``seed``), an int or a ``np.random.Generator``, in the same position everywhere.

Images: PIL images, numpy (H, W, 3) uint8 or float in [0, 1], torch (3, H, W) uint8 or float tensors in [0, 1];
the result comes back in the same kind (torch is never imported here: a tensor means it is imported already).
"""

from __future__ import annotations

import warnings
from typing import Any

import numpy as np
from PIL import Image

from .._jit import njit
from ..errors import ImageInputError, ReleasedVariantWarning, SettingsError
from ..images import to_8bit
from ..seeding import Stream, as_rng, check_seed, sample_rng  # noqa: F401  (sample_rng: re-exported)
from . import ops
from . import settings as check
from ._backend import is_tensor
from .source import FractalSource


def _from_tensor(img: Any) -> tuple[np.ndarray, Any]:
    if img.ndim != 3 or img.shape[0] != 3 or img.shape[1] == 0 or img.shape[2] == 0:
        raise ImageInputError(f"expected a (3, H, W) tensor, got shape {tuple(img.shape)}; a grayscale tensor can "
                              "be repeated to 3 channels with t.expand(3, -1, -1)")
    arr = img.detach().cpu().numpy()
    if arr.dtype != np.uint8 and arr.dtype.kind != "f":
        raise ImageInputError(f"expected a uint8 or float tensor, got {img.dtype}; convert with t.to(torch.uint8)")
    x, _ = _from_array(arr.transpose(1, 2, 0))
    return x, ("tensor", img.dtype, img.device)


def _from_array(img: np.ndarray) -> tuple[np.ndarray, str]:
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


def as_rgb_uint8(img: Any) -> tuple[np.ndarray, Any]:
    """A writable C-contiguous uint8 (H, W, 3) array for any image kind a method takes, and the kind to give
    results back in (``"pil"``, ``"uint8"``, a float dtype name, or ``("tensor", dtype, device)``). PIL images
    of other modes go through :func:`fractalgen.images.to_8bit` (16-bit and float pixels keep their tones).
    (Writable, because numba compiles every kernel twice if some inputs are read-only.)"""
    if isinstance(img, np.ndarray):
        return _from_array(img)
    if isinstance(img, Image.Image):
        return np.array(img if img.mode == "RGB" else to_8bit(img, "RGB")), "pil"
    if is_tensor(img):
        return _from_tensor(img)
    raise ImageInputError(f"cannot augment a {type(img).__name__}; pass a PIL image, an (H, W, 3) uint8 or float "
                          "array, or a (3, H, W) uint8 or float tensor")


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


def to_kind(img: np.ndarray, kind: Any) -> Any:
    """A result (uint8, or float in [0, 1]) in the kind the input came in."""
    if kind == "uint8":
        return to_uint8(img)
    if kind == "pil":
        return Image.fromarray(to_uint8(img))
    if isinstance(kind, tuple):  # ("tensor", dtype, device): channel-first, as it came
        torch = __import__("torch")
        _, dtype, device = kind
        arr = to_uint8(img) if dtype == torch.uint8 else to_float(img)
        return torch.from_numpy(np.ascontiguousarray(arr.transpose(2, 0, 1))).to(device=device, dtype=dtype)
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


class MixingMethod:
    """Base class of the label-preserving methods: holds the fractal source, the views, the stream, the preset's
    hyper-parameters, and runs the protocol (see the module docstring). Subclasses fill :attr:`PRESETS`, check
    their own settings after ``super().__init__``, and implement ``_draw(rng, shape)``, :meth:`needs_fractal` and
    :meth:`apply`.

    Randomness (fractalgen.seeding): every draw comes from the ``rng`` passed to a call, or else from the method's
    own stream: with ``seed=None`` fresh entropy in every process (so DataLoader workers never share it), with a
    seed ``default_rng(seed)`` in this process and, in a DataLoader worker, a stream derived from (seed, the
    worker's torch seed). A method used as a plain transform cannot know which sample it augments, so only
    ``MixingDataset(..., seed=)`` makes the augmentations independent of the number of workers.
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
        if not hasattr(source, "sample"):
            source = FractalSource(source)
        self.source = source
        self.views = check.choice("views", views, (1, 3))
        self.seed = check_seed(seed)
        self._stream = Stream(self.seed)
        name = type(self).__name__
        self.preset = check.choice(f"{name} preset", preset, tuple(self.PRESETS))
        settings = dict(self.PRESETS[preset])
        if not self.RELEASED and variant != "paper":
            raise SettingsError(f"variant = {variant!r}: {name} has no released variant; drop variant= (the "
                                "released variants are those of PixMix, IPMix and LayerMix)")
        self.variant = check.choice("variant", variant, VARIANTS)
        if variant == "released":
            settings.update(self.RELEASED.get(preset, {}))
            warn_released(name, self.RELEASED_DEFECTS)
        settings.update({k: v for k, v in overrides.items() if v is not None})
        self._settings = settings
        # the settings most methods share: blends by get_ab(beta), ops from a set at a severity
        if "beta" in settings:
            self.beta = check.positive("beta", settings["beta"], 3.0)
        if "severity" in settings:
            self.severity = ops.check_severity(settings["severity"])
        if "ops" in settings:
            self.ops = ops.resolve_ops(settings["ops"])

    @property
    def rng(self) -> np.random.Generator:
        """The method's own generator in this process (see the class docstring)."""
        return self._stream.generator()

    def reseed(self, seed: int | None) -> None:
        """Start the method's own stream again from ``seed`` (None: fresh entropy)."""
        self.seed = check_seed(seed)
        self._stream.reset(self.seed)

    # -- the protocol
    def sample_params(self, rng: Any, shape: tuple[int, int]) -> dict:
        """Every random choice of one view of an (H, W) image, as a JSON-ready dict (``rng``: None, an int or a
        Generator)."""
        h, w = (check.integer("shape", int(v)) for v in shape)
        return self._json(self._draw(as_rng(rng, self._stream), (h, w)))

    def _draw(self, rng: np.random.Generator, shape: tuple[int, int]) -> dict:
        """The params a call uses (:meth:`sample_params` gives them through :meth:`_json`)."""
        raise NotImplementedError

    def _json(self, params: dict) -> dict:
        """``params`` as JSON-ready data (most methods draw them so already; ``apply`` takes both forms)."""
        return params

    def apply(self, image: np.ndarray, fractal: np.ndarray | None, params: dict) -> np.ndarray:
        """The view of ``params`` (deterministic): uint8 (H, W, 3) image and fractal in, uint8 or float32 out."""
        raise NotImplementedError

    def needs_fractal(self, params: dict) -> bool:
        """Whether ``apply`` uses the fractal for these params."""
        raise NotImplementedError

    def check_size(self, shape: tuple[int, ...]) -> None:
        """An :class:`ImageInputError` naming both sizes and the fix unless an image of ``shape`` matches the
        source's crops (checked on every call, not only when the params use a fractal)."""
        size = getattr(self.source, "size", None)
        if size is not None and (shape[0] != size or shape[1] != size):
            raise ImageInputError(f"the image is {shape[1]}x{shape[0]} but {type(self).__name__}'s fractal source "
                                  f"gives {size}x{size} crops; resize or crop the images to {size}x{size}, or make "
                                  f"the source with size={shape[0]}" + ("" if shape[0] == shape[1] else
                                                                       " after cropping them square"))

    # -- calling
    def _views(self, img: Any, rng: Any) -> tuple[np.ndarray, Any, list[np.ndarray]]:
        x, kind = as_rgb_uint8(img)
        self.check_size(x.shape)
        rng = as_rng(rng, self._stream)
        params = [self._draw(rng, x.shape[:2]) for _ in range(1 if self.views == 1 else 2)]
        fractal = None
        if any(self.needs_fractal(p) for p in params):
            fractal = self.source.sample(rng)  # one mixing picture per sample, shared by its views
            if fractal.shape != x.shape:
                raise ImageInputError(f"the fractal source gave a {fractal.shape} crop for a {x.shape} image; a "
                                      "source's sample(rng) must return uint8 (size, size, 3)")
        return x, kind, [self.apply(x, fractal, p) for p in params]

    def __call__(self, img: Any, rng: Any = None) -> Any:
        """Augment one image (PIL, numpy or tensor): the same kind back, or (clean, aug1, aug2) if views=3."""
        x, kind, outs = self._views(img, rng)
        if self.views == 1:
            return to_kind(outs[0], kind)
        if kind in ("uint8", "pil"):
            clean = to_kind(x, kind)
        else:  # a float input stays exact
            clean = img.clone() if isinstance(kind, tuple) else np.array(img)
        return (clean, *(to_kind(o, kind) for o in outs))

    def augment(self, img: Any, rng: Any = None) -> Any:
        """As ``__call__``, but every result is float32 (H, W, 3) in [0, 1] (no rounding to 8 bits)."""
        x, kind, outs = self._views(img, rng)
        if self.views == 1:
            return to_float(outs[0])
        if kind in ("uint8", "pil") or (isinstance(kind, tuple) and kind[1].is_floating_point is False):
            clean = to_float(x)
        else:  # a float input stays exact
            clean = to_float(img.detach().cpu().numpy().transpose(1, 2, 0) if isinstance(kind, tuple) else img)
        return (clean, *(to_float(o) for o in outs))

    def __repr__(self) -> str:
        parts = [f"preset={self.preset!r}"] + ([f"variant={self.variant!r}"] if self.RELEASED else [])
        for name in self.HYPER:
            value = getattr(self, name)
            if name == "ops":
                value = f"{len(value)} ops ({', '.join(value)})"
            parts.append(f"{name}={value}")
        parts += [f"views={self.views}", f"seed={self.seed}", f"source={self.source!r}"]
        return f"{type(self).__name__}({', '.join(parts)})"
