"""uint8 (H, W, C) image helpers shared by the store, the mixing source and the CLI: one resize rule for all.

Resizing follows the training pipelines' convention (torchvision's ``Resize(int)``): the shorter side becomes
the target, the longer one is scaled by the same factor and truncated; resampling is PIL's antialiased bilinear.
A store's ``load(size)``, an imported folder, a FractalSource's resized set and ``fractalgen mix``'s input all go
through these functions, so the same picture resized on any of these paths gives the same pixels.
"""

from __future__ import annotations

import os
import stat
import struct

import numpy as np
from PIL import Image

from .errors import ImageInputError

#: PIL modes of 16-bit and 32-bit integer pixels (16-bit grayscale PNG and TIFF files open as one of them).
_WIDE_INT_MODES = ("I;16", "I;16L", "I;16B", "I;16N", "I")
#: What decoding a damaged or hostile file may raise besides OSError (PIL's plugins are not uniform).
_DECODE_ERRORS = (OSError, ValueError, EOFError, SyntaxError, struct.error, Image.DecompressionBombError)


def to_8bit(image: Image.Image, mode: str) -> Image.Image:
    """``image`` as an 8-bit ``mode`` ("RGB" or "L") image, keeping its tones.

    PIL's own ``convert`` clips 16-bit pixels at 255 (a 16-bit grayscale PNG turns nearly white) and truncates
    float pixels (a float TIFF in [0, 1] turns black); here 16-bit values are scaled by 255 / 65535 and float
    values in [0, 1] by 255, rounded. Integers beyond 16 bits and floats outside [0, 1] are refused with an
    :class:`~fractalgen.errors.ImageInputError`: there is no scale to guess."""
    if image.mode in _WIDE_INT_MODES or image.mode == "F":
        arr = np.asarray(image)
        lo, hi = (float(arr.min()), float(arr.max())) if arr.size else (0.0, 0.0)
        if image.mode == "F":
            if not (np.isfinite(lo) and np.isfinite(hi) and 0.0 <= lo and hi <= 1.0):
                raise ImageInputError(f"float pixels in [{lo:g}, {hi:g}], not in [0, 1]; save the image as 8-bit, "
                                      "or as floats scaled to [0, 1]")
            scaled = np.floor(arr.astype(np.float64) * 255.0 + 0.5)
        else:
            if lo < 0 or hi > 65535:
                raise ImageInputError(f"32-bit integer pixels in [{lo:g}, {hi:g}], beyond 16 bits; save the image "
                                      "as 8-bit or 16-bit")
            scaled = np.floor(arr.astype(np.float64) / 257.0 + 0.5)
        image = Image.fromarray(scaled.astype(np.uint8), "L")
    return image.convert(mode)  # a copy even in the same mode: the caller may close the file's image


def file_size(path: str | os.PathLike) -> int:
    """Bytes of the regular file ``path``; :class:`~fractalgen.errors.ImageInputError` with the reason if it is
    a broken symbolic link, a FIFO (reading it would block forever), a device or a socket, or is unreadable."""
    try:
        info = os.stat(path)
    except OSError as err:
        broken = os.path.islink(path)
        raise ImageInputError("a broken symbolic link" if broken else (err.strerror or str(err))) from None
    if not stat.S_ISREG(info.st_mode):
        raise ImageInputError("not a regular file (a FIFO, device or socket)")
    return info.st_size


def read_image(path: str | os.PathLike, mode: str) -> tuple[Image.Image, tuple[int, int]]:
    """Decode the image file ``path`` to an 8-bit ``mode`` image (:func:`to_8bit`); returns it and the file's
    (width, height). Anything that is not a readable regular image file (a broken symbolic link, a FIFO that
    would block the read forever, a truncated or hostile file, a decompression bomb) raises
    :class:`~fractalgen.errors.ImageInputError` with the reason; callers add which file and the fix."""
    file_size(path)
    try:
        with Image.open(path) as im:
            size = im.size
            return to_8bit(im, mode), size
    except _DECODE_ERRORS as err:
        raise ImageInputError(" ".join(str(err).split()) or type(err).__name__) from None


def shorter_side_to(h: int, w: int, side: int) -> tuple[int, int]:
    """(H, W) scaled so the shorter side is ``side``, the longer one truncated (torchvision's ``Resize(int)``)."""
    if h <= w:
        return side, max(side, int(side * w / h))
    return max(side, int(side * h / w)), side


def resize(image: np.ndarray, height: int, width: int, box: tuple[float, ...] | None = None,
           reducing_gap: float | None = None) -> np.ndarray:
    """Antialiased (PIL bilinear) resize of a uint8 (H, W, C) image, optionally of the region ``box``."""
    gray = image.shape[2] == 1
    with Image.fromarray(image[:, :, 0] if gray else image) as pil:
        with pil.resize((width, height), Image.BILINEAR, box=box, reducing_gap=reducing_gap) as small:
            out = np.asarray(small)
    return out[:, :, None] if gray else out


def fit_square(image: np.ndarray | Image.Image, size: int) -> np.ndarray:
    """Resize the shorter side to ``size`` (:func:`shorter_side_to`), centre-crop to a square; uint8 (size,
    size, C). An (H, W, 1) array or a mode-L image comes back as (size, size, 1)."""
    if isinstance(image, Image.Image):
        pil, channels = image, (1 if image.mode == "L" else 3)
    else:
        arr = np.asarray(image)
        channels = arr.shape[2] if arr.ndim == 3 else 1
        pil = Image.fromarray(arr[:, :, 0] if channels == 1 and arr.ndim == 3 else arr)
    w, h = pil.size
    if (w, h) != (size, size):
        nh, nw = shorter_side_to(h, w, size)
        if (nw, nh) != (w, h):
            pil = pil.resize((nw, nh), Image.BILINEAR)
        if (nw, nh) != (size, size):
            left, top = int(round((nw - size) / 2.0)), int(round((nh - size) / 2.0))
            pil = pil.crop((left, top, left + size, top + size))
    out = np.asarray(pil, dtype=np.uint8)
    return out[:, :, None] if out.ndim == 2 else (out if channels == 3 else out[:, :, :1])
