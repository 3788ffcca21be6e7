"""The operations of the authors' released code where it departs from the papers, for ``variant="released"``.

Papers: LayerMix (Ahmad, Morle, Rahimi, arXiv:2501.04861) and IPMix (Huang et al., NeurIPS 2023,
arXiv:2310.04780). The facts implemented here are those of /work/shared/spec/released.md (what the released code
does, read from it); the code is ours.

- LayerMix's released ops run on float images in [0, 1] with torchvision's conventions (v2 functional ops on
  float tensors): :data:`LAYERMIX_OPS`, each an :class:`ops.Op` (``apply(image, **params)`` on float32 (H, W, C)
  arrays and ``sample(rng, severity, (H, W))``). Magnitudes are ``u ~ U(0.1, max * m / 10)``, signed ops flip
  the sign with probability 1/2; at the released magnitude m = 3 this keeps every defect of that code:
  posterize keeps 0 bits (a black image) with probability 0.82, solarize_increasing's threshold lies in
  [-0.2, 0.1] (nearly every pixel inverted), the shear angle is atan(U(0.09, 0.1)) (about 5.2-5.7 degrees).
  Geometric ops sample about the image centre with bilinear interpolation and zero padding (torch's
  ``grid_sample(align_corners=False)`` after torchvision's inverse affine matrix): border pixels fade to black.
- IPMix's released patch steps: :func:`patch_box` (a corner drawn for an s x s box, then half the time the
  square, otherwise width and height drawn independently from 2..s: mostly squarish) and :func:`blend_box`,
  which blends in float64 without clipping and converts back to 8 bits like ``np.uint8(v * 255)``, so values
  outside [0, 1] wrap around (salt noise).
- :func:`fractal_view`: LayerMix's optional treatment of the mixing picture (grayscale, random flips).
"""

from __future__ import annotations

import math

import numpy as np

from .._jit import njit
from ..errors import ImageInputError
from . import blend as blends
from . import ops

#: LayerMix's released magnitude for every op.
LAYERMIX_SEVERITY = 3.0


# ---------------------------------------------------------------------------------------------------------------
# kernels


@njit
def _grid_affine_impl(src, a, b, c, d, e, f, out, ch):
    """torchvision's affine / rotate on a float image: output pixel (x, y), taken relative to the image centre
    ``((W - 1) / 2, (H - 1) / 2)``, samples the input at ``(a X + b Y + c, d X + e Y + f)`` relative to the same
    centre; bilinear over the four neighbours, each outside the image counting as 0 (grid_sample with zero
    padding and align_corners=False)."""
    h, w = src.shape[0], src.shape[1]
    hx, hy = (w - 1) / 2.0, (h - 1) / 2.0
    for y in range(out.shape[0]):
        yr = y - hy
        for x in range(out.shape[1]):
            xr = x - hx
            ix = a * xr + b * yr + c + hx
            iy = d * xr + e * yr + f + hy
            x0 = int(math.floor(ix))
            y0 = int(math.floor(iy))
            fx = ix - x0
            fy = iy - y0
            # the four taps' weights, 0 for a tap outside the image (zero padding)
            in_x0, in_x1 = 0 <= x0 < w, 0 <= x0 + 1 < w
            in_y0, in_y1 = 0 <= y0 < h, 0 <= y0 + 1 < h
            w00 = (1.0 - fx) * (1.0 - fy) if in_x0 and in_y0 else 0.0
            w01 = fx * (1.0 - fy) if in_x1 and in_y0 else 0.0
            w10 = (1.0 - fx) * fy if in_x0 and in_y1 else 0.0
            w11 = fx * fy if in_x1 and in_y1 else 0.0
            xa, xb = min(max(x0, 0), w - 1), min(max(x0 + 1, 0), w - 1)
            ya, yb = min(max(y0, 0), h - 1), min(max(y0 + 1, 0), h - 1)
            for k in range(ch):
                out[y, x, k] = (w00 * src[ya, xa, k] + w01 * src[ya, xb, k]
                                + w10 * src[yb, xa, k] + w11 * src[yb, xb, k])


@njit
def _grid_affine_kernel(src, a, b, c, d, e, f, out):
    if src.shape[2] == 3:
        _grid_affine_impl(src, a, b, c, d, e, f, out, 3)
    else:
        _grid_affine_impl(src, a, b, c, d, e, f, out, src.shape[2])


# ---------------------------------------------------------------------------------------------------------------
# LayerMix's released ops on float images


def check_float_image(image: np.ndarray) -> np.ndarray:
    """``image`` as C-contiguous float32 if it is a float (H, W, 1 | 3) array, else a one-line error."""
    if not isinstance(image, np.ndarray) or image.dtype.kind != "f" or image.ndim != 3 \
            or image.shape[2] not in (1, 3) or image.shape[0] == 0 or image.shape[1] == 0:
        got = f"{image.dtype} {image.shape}" if isinstance(image, np.ndarray) else type(image).__name__
        raise ImageInputError(f"the released LayerMix ops take a float (H, W, 1 or 3) array in [0, 1], got {got}; "
                              "convert with img.astype(np.float32) / 255")
    return np.ascontiguousarray(image, dtype=np.float32)


def to_uint8_scaled(image: np.ndarray) -> np.ndarray:
    """torchvision's float -> uint8 conversion: ``uint8(x * (255 + 1 - 1e-3))``, truncated (so 1.0 is 255)."""
    return (np.clip(image, 0, 1) * np.float32(255.999)).astype(np.uint8)


def from_uint8(image: np.ndarray) -> np.ndarray:
    """torchvision's uint8 -> float conversion: ``x * (1 / 255)`` in float32."""
    return image.astype(np.float32) * np.float32(1.0 / 255)


def equalize(image: np.ndarray) -> np.ndarray:
    """torchvision's equalize of a float image: to 8 bits (:func:`to_uint8_scaled`), PIL's per-channel
    histogram equalisation (torchvision computes the same table), back to float."""
    return from_uint8(ops.equalize(to_uint8_scaled(check_float_image(image))))


def autocontrast(image: np.ndarray) -> np.ndarray:
    """torchvision's autocontrast of a float image: each channel ``(x - min) / (max - min)``, a flat channel
    unchanged."""
    img = check_float_image(image)
    lo = img.min(axis=(0, 1), keepdims=True)
    hi = img.max(axis=(0, 1), keepdims=True)
    flat = hi == lo
    scale = np.where(flat, np.float32(1), hi - lo)
    return np.clip((img - np.where(flat, np.float32(0), lo)) / scale, 0, 1).astype(np.float32)


def grayscale(image: np.ndarray) -> np.ndarray:
    """ITU-R 601-2 luma ``0.299 R + 0.587 G + 0.114 B`` copied to the three channels."""
    img = check_float_image(image)
    if img.shape[2] == 1:
        return img.copy()
    luma = img[:, :, 0] * np.float32(0.299) + img[:, :, 1] * np.float32(0.587) + img[:, :, 2] * np.float32(0.114)
    return np.repeat(luma[:, :, None], 3, axis=2)


def posterize(image: np.ndarray, bits: int) -> np.ndarray:
    """torchvision's posterize of a float image: ``floor(x * 2^bits)`` clamped to ``2^bits - 1``, over
    ``2^bits``; 0 bits gives a black image."""
    levels = np.float32(1 << int(bits))
    return np.clip(np.floor(check_float_image(image) * levels), 0, levels - 1) / levels


def solarize(image: np.ndarray, threshold: float) -> np.ndarray:
    """torchvision's solarize of a float image: ``1 - x`` where ``x >= threshold``."""
    img = check_float_image(image)
    return np.where(img >= np.float32(threshold), np.float32(1) - img, img)


def inverse_affine(angle: float = 0.0, translate: tuple[float, float] = (0.0, 0.0),
                   shear: tuple[float, float] = (0.0, 0.0)) -> tuple[float, ...]:
    """torchvision's inverse affine matrix about the image centre (scale 1): rotation by ``angle`` degrees, then
    shears (degrees) along x and y, then a translation; it maps output coordinates to input coordinates."""
    rot, sx, sy = math.radians(angle), math.radians(shear[0]), math.radians(shear[1])
    a = math.cos(rot - sy) / math.cos(sy)
    b = -math.cos(rot - sy) * math.tan(sx) / math.cos(sy) - math.sin(rot)
    c = math.sin(rot - sy) / math.cos(sy)
    d = -math.sin(rot - sy) * math.tan(sx) / math.cos(sy) + math.cos(rot)
    m = [d, -b, 0.0, -c, a, 0.0]  # the inverse of [[a, b], [c, d]] (determinant 1)
    tx, ty = translate
    m[2] += m[0] * -tx + m[1] * -ty
    m[5] += m[3] * -tx + m[4] * -ty
    return tuple(m)


def affine(image: np.ndarray, matrix: tuple[float, ...]) -> np.ndarray:
    """Resample a float image with an inverse matrix from :func:`inverse_affine` (bilinear, zero padding)."""
    img = check_float_image(image)
    out = np.empty_like(img)
    _grid_affine_kernel(img, *(float(v) for v in matrix), out)
    return out


def rotate(image: np.ndarray, degrees: float) -> np.ndarray:
    """torchvision's rotate (bilinear, about the centre, black fill); counter-clockwise for positive degrees."""
    return affine(image, inverse_affine(angle=-(float(degrees) % 360.0)))


def shear_x(image: np.ndarray, degrees: float) -> np.ndarray:
    """torchvision's affine with ``shear=[degrees, 0]`` about the centre: output (X, Y) samples (X + tan Y, Y)."""
    return affine(image, inverse_affine(shear=(float(degrees), 0.0)))


def shear_y(image: np.ndarray, degrees: float) -> np.ndarray:
    """torchvision's affine with ``shear=[0, degrees]`` about the centre: output (X, Y) samples (X, Y + tan X)."""
    return affine(image, inverse_affine(shear=(0.0, float(degrees))))


def translate_x(image: np.ndarray, pixels: float) -> np.ndarray:
    """torchvision's affine with ``translate=[pixels, 0]`` (content moves right; sub-pixel shifts interpolate)."""
    return affine(image, inverse_affine(translate=(float(pixels), 0.0)))


def translate_y(image: np.ndarray, pixels: float) -> np.ndarray:
    """torchvision's affine with ``translate=[0, pixels]`` (content moves down)."""
    return affine(image, inverse_affine(translate=(0.0, float(pixels))))


# -- the released draws: u ~ U(0.1, max * m / 10)


def _level(rng: np.random.Generator, maximum: float, severity: float) -> float:
    """The released magnitude ``U(0.1, maximum * severity / 10)`` (numpy's uniform: ``low + (high - low) u``,
    so an inverted range gives values in (high, low])."""
    return 0.1 + (maximum * severity / 10 - 0.1) * rng.random()


def _signed(rng: np.random.Generator, value: float) -> float:
    return -value if rng.random() < 0.5 else value


def _posterize_params(rng, severity, shape) -> dict:
    return {"bits": int(_level(rng, 4, severity))}


def _posterize_increasing_params(rng, severity, shape) -> dict:
    return {"bits": 4 - int(_level(rng, 4, severity))}


def _solarize_params(rng, severity, shape) -> dict:
    return {"threshold": _level(rng, 1.0, severity)}


def _solarize_increasing_params(rng, severity, shape) -> dict:
    # the released maximum gives U(0.1, -0.2) at magnitude 3: a threshold at or below 0.1
    return {"threshold": _level(rng, -2 / 3, severity)}


def _rotate_params(rng, severity, shape) -> dict:
    return {"degrees": _signed(rng, _level(rng, 30, severity))}


def _shear_params(rng, severity, shape) -> dict:
    return {"degrees": _signed(rng, math.degrees(math.atan(_level(rng, 0.3, severity))))}


def _translate_x_params(rng, severity, shape) -> dict:
    return {"pixels": _signed(rng, _level(rng, int(0.33 * shape[1]), severity))}


def _translate_y_params(rng, severity, shape) -> dict:
    return {"pixels": _signed(rng, _level(rng, int(0.33 * shape[0]), severity))}


def _no_params(rng, severity, shape) -> dict:
    return {}


#: LayerMix's 12 released ops on float images, by the names of ``ops.OP_SETS["layermix"]``.
LAYERMIX_OPS: dict[str, ops.Op] = {op.name: op for op in (
    ops.Op("equalize", equalize, _no_params),
    ops.Op("autocontrast", autocontrast, _no_params),
    ops.Op("grayscale", grayscale, _no_params),
    ops.Op("posterize", posterize, _posterize_params),
    ops.Op("posterize_increasing", posterize, _posterize_increasing_params),
    ops.Op("solarize", solarize, _solarize_params),
    ops.Op("solarize_increasing", solarize, _solarize_increasing_params),
    ops.Op("rotate", rotate, _rotate_params),
    ops.Op("shear_x", shear_x, _shear_params),
    ops.Op("shear_y", shear_y, _shear_params),
    ops.Op("translate_x", translate_x, _translate_x_params),
    ops.Op("translate_y", translate_y, _translate_y_params),
)}


# ---------------------------------------------------------------------------------------------------------------
# IPMix's released patch steps


def patch_box(rng: np.random.Generator, shape: tuple[int, int], size: int) -> tuple[int, int, int, int]:
    """The released IPMix box ``(top, left, height, width)``: a corner drawn uniformly so that an s x s box
    fits (s = ``size`` clipped to the image); half the time that square, otherwise height and width drawn
    independently and uniformly from 2..s from the same corner (1..s when s < 2)."""
    h, w = shape
    s = max(1, min(size, h, w))
    square, u_top, u_left, u_h, u_w = rng.random(5).tolist()
    top, left = int(u_top * (h - s + 1)), int(u_left * (w - s + 1))
    if square < 0.5:
        return top, left, s, s
    low = min(2, s)
    return top, left, low + int(u_h * (s - low + 1)), low + int(u_w * (s - low + 1))


def wrap_uint8(values: np.ndarray) -> np.ndarray:
    """``np.uint8(values)`` as numpy computes it on x86-64, stated so it holds on every platform: truncate
    toward zero; inside the int32 range keep the value modulo 256 (the low byte), outside it (and NaN) 0."""
    v = np.asarray(values, dtype=np.float64)
    inside = np.isfinite(v) & (v >= -2.0 ** 31) & (v < 2.0 ** 31)
    t = np.trunc(np.where(inside, v, 0.0)).astype(np.int64)
    return np.mod(t, 256).astype(np.uint8)


def unclipped_blend(name: str, x1: np.ndarray, x2: np.ndarray, **params) -> np.ndarray:
    """The blend formula of ``name`` on float images in [0, 1], without clipping (IPMix's released code)."""
    if name in ("add", "multiply"):
        return blends.FLOAT_FORMULAS[name](x1, x2, **params)
    return blends.blend(name, x1, x2, **params)  # the selections stay in [0, 1]; an unknown name: blend's error


def blend_box(name: str, image: np.ndarray, partner: np.ndarray, box: tuple[int, int, int, int], **params) -> None:
    """The released IPMix patch mix, in place on uint8 ``image``: the box of both images as float64 ``v / 255``,
    the blend without clipping, then ``wrap_uint8(result * 255)``."""
    top, left, bh, bw = box
    region = (slice(top, top + bh), slice(left, left + bw))
    x1 = image[region].astype(np.float64) / 255
    x2 = partner[region].astype(np.float64) / 255
    image[region] = wrap_uint8(unclipped_blend(name, x1, x2, **params) * 255)


# ---------------------------------------------------------------------------------------------------------------
# LayerMix's treatment of the mixing picture


def sample_fractal_flips(rng: np.random.Generator) -> dict:
    """The random flips of :func:`fractal_view`: each direction with probability 1/2."""
    horizontal, vertical = rng.random(2).tolist()
    return {"flip_h": horizontal < 0.5, "flip_v": vertical < 0.5}


def fractal_view(fractal: np.ndarray, flip_h: bool, flip_v: bool) -> np.ndarray:
    """LayerMix's optional fractal treatment: PIL's grayscale (to three channels), flipped left-right and/or
    upside down."""
    out = ops.grayscale(fractal)
    if flip_h:
        out = out[:, ::-1]
    if flip_v:
        out = out[::-1]
    return np.ascontiguousarray(out)
