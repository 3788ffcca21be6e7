"""uint8 (H, W, C) image helpers shared by the store, the mixing source and the CLI: one resize rule for all.

Resizing follows the training pipelines' convention (torchvision's ``Resize(int)``): the shorter side becomes
the target, the longer one is scaled by the same factor and truncated; resampling is PIL's antialiased bilinear.
A store's ``load(size)``, an imported folder, a FractalSource's resized set and ``fractalgen mix``'s input all go
through these functions, so the same picture resized on any of these paths gives the same pixels.
"""

from __future__ import annotations

import numpy as np
from PIL import Image


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
