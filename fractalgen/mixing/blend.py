"""Blend operations of the fractal-mixing methods: add, multiply, random pixels, random elements.

Papers: "PixMix: Dreamlike Pictures Comprehensively Improve Safety Measures" (Hendrycks et al., CVPR 2022,
arXiv:2112.05135) introduced add and multiply with the coefficients of :func:`get_ab`; "IPMix: Label-Preserving
Data Augmentation Method for Training Robust Classifiers" (Huang et al., NeurIPS 2023, arXiv:2310.04780) added
random pixels and random elements; "LayerMix: Enhanced Data Augmentation through Fractal Integration for Robust
Deep Learning" (Ahmad et al., arXiv:2501.04861) re-weights the four.

Each blend is ``blend(x1, x2, **params)`` with ``x1`` the current image and ``x2`` its partner; the params come
from :func:`sample_params` (coefficients a, b, or a mask probability and the key of the mask's random bits).
Images are uint8 or float arrays in [0, 1] of one shape; the result has the dtype of ``x1`` and always lies in
[0, 1] (255 for uint8).

What we changed relative to the released reference code and why:

- Every blend clips to [0, 1]. PixMix and LayerMix clip; IPMix's code does not, and its uint8 conversion then
  wraps about 10% of the pixels of a mixed patch into salt noise.
- uint8 images are blended through two 256-entry tables built from the formula per call, so the float formula
  is evaluated exactly and rounded once to the nearest grey level (the reference rounds by truncation, or wraps);
  a 224 x 224 multiply is 4-5x faster than its powers per pixel in float32 numpy (benchmarks/bench_mixing.py).
- The random masks come from a splitmix64 stream keyed by a 64-bit integer drawn from the caller's generator:
  as reproducible as a mask array drawn from it, without the cost of drawing one (a float per element).
  ``P(mask = 1)`` is the drawn probability rounded to a multiple of 1/65536.
"""

from __future__ import annotations

import math

import numpy as np

from .._jit import njit
from ..errors import ImageInputError, SettingsError
from .._random import splitmix64

BLENDS = ("add", "multiply", "random_pixels", "random_elements")
#: The reference's floor on the partner before a negative power (``clip(1e-37)``).
TINY = 1e-37


def get_ab(rng: np.random.Generator, beta: float) -> tuple[float, float]:
    """PixMix's blend coefficients: with probability 1/2 ``a ~ Beta(beta, 1)``, ``b ~ Beta(1, beta)``; otherwise
    ``a = 1 + Beta(1, beta)``, ``b = -Beta(1, beta)`` (extrapolation away from the partner)."""
    if rng.random() < 0.5:
        return float(rng.beta(beta, 1.0)), float(rng.beta(1.0, beta))
    return 1.0 + float(rng.beta(1.0, beta)), -float(rng.beta(1.0, beta))


def sample_params(name: str, rng: np.random.Generator, beta: float) -> dict:
    """The parameters of blend ``name``: ``{"a", "b"}`` for add / multiply, ``{"p", "key"}`` for the masks."""
    if name in ("add", "multiply"):
        a, b = get_ab(rng, beta)
        return {"a": a, "b": b}
    if name in ("random_pixels", "random_elements"):
        return {"p": float(rng.random()), "key": int(rng.bit_generator.random_raw())}
    raise SettingsError(f"unknown blend {name!r}; choose from {', '.join(BLENDS)}")


# ---------------------------------------------------------------------------------------------------------------
# kernels


@njit
def _blend_tables(a, b, multiply, logs):
    """The per-input tables of add (``a x + (1 - a - b) / 2`` and ``b x``) or multiply (``(2 x)^a / 2`` and
    ``max(2 x, tiny)^b``, the powers as ``exp(p log(2 x))`` from the log tables ``logs``)."""
    t1 = np.empty(256)
    t2 = np.empty(256)
    for v in range(256):
        if multiply:
            t1[v] = (np.exp(a * logs[0, v]) if v > 0 else 0.0 ** a) / 2
            t2[v] = np.exp(b * logs[1, v])
        else:
            t1[v] = a * (v / 255.0) + (1 - a - b) / 2
            t2[v] = b * (v / 255.0)
    return t1, t2


@njit
def _table_blend(x1, x2, a, b, multiply, logs, out, top, left, bh, bw):
    """``out = round(255 * clip(t1[x1] (+ or *) t2[x2], 0, 1))`` over the box (top, left, bh, bw) of C-contiguous
    (H, W, C) images; ``out`` may be ``x1`` (IPMix writes patches in place)."""
    t1, t2 = _blend_tables(a, b, multiply, logs)
    ch = x1.shape[2]
    start, n = left * ch, bw * ch
    for y in range(top, top + bh):
        p = x1[y].reshape(-1)[start:start + n]
        q = x2[y].reshape(-1)[start:start + n]
        o = out[y].reshape(-1)[start:start + n]
        if multiply:
            for i in range(n):
                o[i] = np.uint8(int(min(max(t1[p[i]] * t2[q[i]], 0.0), 1.0) * 255.0 + 0.5))
        else:
            for i in range(n):
                o[i] = np.uint8(int(min(max(t1[p[i]] + t2[q[i]], 0.0), 1.0) * 255.0 + 0.5))


@njit
def _mask_kernel(key, threshold, out):
    """Mask bits ``out[i] = (16-bit word i of the splitmix64 stream keyed by key) < threshold``."""
    state = np.uint64(key)
    z = np.uint64(0)
    for i in range(out.shape[0]):
        if i % 4 == 0:
            state, z = splitmix64(state)
        out[i] = ((z >> np.uint64(16 * (i % 4))) & np.uint64(0xFFFF)) < threshold


@njit
def _select_impl(x1, x2, mask, out, top, left, ch):
    bh, bw, mc = mask.shape
    for y in range(bh):
        a = x1[top + y, left:left + bw]
        b = x2[top + y, left:left + bw]
        o = out[top + y, left:left + bw]
        m = mask[y]
        for x in range(bw):
            for k in range(ch):
                o[x, k] = a[x, k] if m[x, k if mc > 1 else 0] else b[x, k]


@njit
def _select_kernel(x1, x2, mask, out, top, left):
    """``out = x1 where mask else x2`` over the box of ``mask`` at (top, left); ``mask`` is (bh, bw, 1) for
    whole pixels or (bh, bw, C) per element; images as in :func:`_table_blend`. (The literal 3 lets LLVM unroll
    the channel loop, see ops.py.)"""
    if x1.shape[2] == 3:
        _select_impl(x1, x2, mask, out, top, left, 3)
    else:
        _select_impl(x1, x2, mask, out, top, left, x1.shape[2])


@njit
def _random_blend(x1, x2, key, threshold, channels, out, top, left, bh, bw):
    """The random blends over a box: the mask (``channels`` = 1 for pixels, C for elements), then the selection."""
    mask = np.empty((bh, bw, channels), dtype=np.bool_)
    _mask_kernel(key, threshold, mask.reshape(-1))
    _select_kernel(x1, x2, mask, out, top, left)


@njit
def _weighted_sum_kernel(images, coeffs, out):
    """``out = sum(coeffs[j] * images[j])`` for a tuple of flat uint8 images and a flat float32 ``out``."""
    for i in range(out.shape[0]):
        out[i] = 0
    for j in range(len(images)):
        img = images[j]
        c = coeffs[j]
        for i in range(out.shape[0]):
            out[i] += c * np.float32(img[i])


# ---------------------------------------------------------------------------------------------------------------
# tables, masks and the float formulas


with np.errstate(divide="ignore"):
    #: log(2 x) for x = v / 255 (-inf at 0), and log(max(2 x, tiny)): multiply's powers as exp(p log)
    _LOGS = np.log(np.stack([2 * np.arange(256) / 255, np.maximum(2 * np.arange(256) / 255, TINY)]))


def random_mask(shape: tuple[int, ...], p: float, key: int) -> np.ndarray:
    """The boolean mask of the random blends: each element is True with probability ``p`` (to 1/65536), drawn
    from the splitmix64 stream keyed by ``key`` in C order."""
    out = np.empty(math.prod(shape), dtype=np.bool_)
    _mask_kernel(np.uint64(key), _threshold(p), out)
    return out.reshape(shape)


def _threshold(p: float) -> np.uint64:
    return np.uint64(round(p * 65536))


def _add_float(f1, f2, a, b):
    return (a * (2 * f1 - 1) + b * (2 * f2 - 1) + 1) / 2


def _multiply_float(f1, f2, a, b):
    return (2 * f1) ** a * np.maximum(2 * f2, f2.dtype.type(TINY)) ** b / 2


def _random_float(name):
    def select(f1, f2, p, key):
        h, w, c = f1.shape
        return np.where(random_mask((h, w, c if name == "random_elements" else 1), p, key), f1, f2)

    return select


#: blend name -> its float formula ``(x1, x2, **params)`` on [0, 1] images, before clipping
FLOAT_FORMULAS = {"add": _add_float, "multiply": _multiply_float, "random_pixels": _random_float("random_pixels"),
                  "random_elements": _random_float("random_elements")}


# ---------------------------------------------------------------------------------------------------------------
# the blends


def blend_box(name: str, image: np.ndarray, partner: np.ndarray, box: tuple[int, int, int, int], **params) -> None:
    """Blend the box ``(top, left, height, width)`` of the C-contiguous uint8 ``image`` with the same box of
    ``partner``, in place (IPMix's patch mixing): ``image[box] = blend(name, image[box], partner[box])``."""
    top, left, bh, bw = box
    if name == "add" or name == "multiply":
        _table_blend(image, partner, float(params["a"]), float(params["b"]), name == "multiply", _LOGS, image,
                     top, left, bh, bw)
    elif name == "random_pixels" or name == "random_elements":
        channels = image.shape[2] if name == "random_elements" else 1
        _random_blend(image, partner, np.uint64(params["key"]), _threshold(params["p"]), channels, image,
                      top, left, bh, bw)
    else:
        raise SettingsError(f"unknown blend {name!r}; choose from {', '.join(BLENDS)}")


def blend(name: str, x1: np.ndarray, x2: np.ndarray, **params) -> np.ndarray:
    """Blend ``name`` of ``x1`` (the current image) with its partner ``x2``, params from :func:`sample_params`.

    Two uint8 images take the table / kernel path; otherwise the formula is evaluated in floats (uint8 read as
    value / 255). The result has ``x1``'s dtype and lies in [0, 1]."""
    if name not in FLOAT_FORMULAS:
        raise SettingsError(f"unknown blend {name!r}; choose from {', '.join(BLENDS)}")
    for x in (x1, x2):
        if not isinstance(x, np.ndarray) or (x.dtype != np.uint8 and x.dtype.kind != "f"):
            got = x.dtype if isinstance(x, np.ndarray) else type(x).__name__
            raise ImageInputError(f"blends take uint8 or float (values in [0, 1]) arrays, got {got}; "
                                  "convert PIL images with np.asarray(img)")
    if x1.shape != x2.shape or x1.ndim != 3:
        raise ImageInputError(f"blends need two (H, W, C) images of one shape, got {x1.shape} and {x2.shape}; "
                              "crop or resize the partner to the image")
    if x1.dtype == np.uint8 and x2.dtype == np.uint8:
        out = np.array(x1, order="C")
        blend_box(name, out, np.ascontiguousarray(x2), (0, 0, x1.shape[0], x1.shape[1]), **params)
        return out
    dt = np.result_type(*[x.dtype for x in (x1, x2) if x.dtype.kind == "f"])
    f1, f2 = (x.astype(dt) / dt.type(255) if x.dtype == np.uint8 else x.astype(dt, copy=False) for x in (x1, x2))
    out = np.clip(FLOAT_FORMULAS[name](f1, f2, **params), 0, 1)
    if x1.dtype == np.uint8:  # rounded half up, as the table path does
        return np.floor(out * 255 + 0.5).astype(np.uint8)
    return out.astype(x1.dtype, copy=False)


def add(x1: np.ndarray, x2: np.ndarray, a: float, b: float) -> np.ndarray:
    """``(a (2 x1 - 1) + b (2 x2 - 1) + 1) / 2``, clipped to [0, 1]."""
    return blend("add", x1, x2, a=a, b=b)


def multiply(x1: np.ndarray, x2: np.ndarray, a: float, b: float) -> np.ndarray:
    """``(2 x1)^a * max(2 x2, 1e-37)^b / 2``, clipped to [0, 1]."""
    return blend("multiply", x1, x2, a=a, b=b)


def random_pixels(x1: np.ndarray, x2: np.ndarray, p: float, key: int) -> np.ndarray:
    """Whole pixels of ``x1`` where an (H, W) mask with ``P(1) = p`` is set, of ``x2`` elsewhere."""
    return blend("random_pixels", x1, x2, p=p, key=key)


def random_elements(x1: np.ndarray, x2: np.ndarray, p: float, key: int) -> np.ndarray:
    """Single channel values of ``x1`` where an (H, W, C) mask with ``P(1) = p`` is set, of ``x2`` elsewhere."""
    return blend("random_elements", x1, x2, p=p, key=key)


def weighted_sum(images: list[np.ndarray], weights: list[float]) -> np.ndarray:
    """``sum(w_i * x_i)`` of uint8 images read as [0, 1]: float32 (H, W, C) (AugMix / IPMix's mixing of chains)."""
    out = np.empty(images[0].shape, dtype=np.float32)
    flat = tuple(np.ascontiguousarray(img).reshape(-1) for img in images)
    _weighted_sum_kernel(flat, np.array(weights, dtype=np.float32) / np.float32(255), out.reshape(-1))
    return out
