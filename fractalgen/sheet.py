"""Pictures for people: PNG writing and contact sheets of uint8 HWC images."""

from __future__ import annotations

import contextlib
import io
import math
import os
from collections.abc import Sequence
from pathlib import Path

import numpy as np
from PIL import Image, ImageDraw, ImageFont

from .errors import FractalgenError, ImageInputError


def to_pil(image: np.ndarray) -> Image.Image:
    """uint8 (H, W, 1 | 3) or (H, W) array -> PIL image (mode L or RGB)."""
    arr = np.asarray(image)
    if arr.dtype != np.uint8 or arr.ndim not in (2, 3) or (arr.ndim == 3 and arr.shape[2] not in (1, 3)):
        raise ImageInputError(f"expected a uint8 (H, W, 1 or 3) image, got {arr.dtype} {arr.shape}; "
                              "convert with np.asarray(img, dtype=np.uint8)")
    if arr.ndim == 3 and arr.shape[2] == 1:
        arr = arr[:, :, 0]
    return Image.fromarray(np.ascontiguousarray(arr))


def png_bytes(image: np.ndarray | Image.Image) -> bytes:
    """A uint8 (H, W, 1 | 3) array or a PIL image, encoded as PNG."""
    pil = image if isinstance(image, Image.Image) else to_pil(image)
    buf = io.BytesIO()
    pil.save(buf, format="PNG")
    return buf.getvalue()


def save_png(image: np.ndarray | Image.Image, path: str | os.PathLike) -> Path:
    """Write a PNG atomically (:func:`write_file`), creating missing parent folders; a failure says which path
    and why."""
    return write_file(path, png_bytes(image))


def write_file(path: str | os.PathLike, data: bytes) -> Path:
    """Write ``data`` to ``PATH.tmp`` and rename it over ``path``: a full disk or a kill leaves the old file or
    none, never a 0-byte or truncated one (no fsync: these are files for people, not a store). Missing parent
    folders are created; an OS failure (full disk, a name too long, no permission) becomes a one-line
    :class:`~fractalgen.errors.FractalgenError`."""
    return write_files({path: data})[0]


def write_files(files: dict[str | os.PathLike, bytes]) -> list[Path]:
    """Write several files as :func:`write_file` does, all or none: every one is written to its temporary
    first, and only when all of them are written are they renamed into place (so a params file that cannot be
    written leaves no image behind, and the other way round)."""
    from .store.files import tmp_path

    paths = [Path(p) for p in files]
    written: list[Path] = []
    current = paths[0]
    try:
        try:
            for current, data in zip(paths, files.values()):
                current.parent.mkdir(parents=True, exist_ok=True)
                tmp = tmp_path(current)
                written.append(tmp)
                with open(tmp, "wb") as fh:
                    fh.write(data)
            for current, tmp in zip(paths, written):
                os.replace(tmp, current)
        except BaseException:
            for tmp in written:
                with contextlib.suppress(OSError):
                    tmp.unlink()
            raise
    except OSError as err:
        raise FractalgenError(f"cannot write '{_short_path(current)}': {err.strerror or err}; choose a writable "
                              "path") from None
    return paths


def _short_path(path: Path, limit: int = 80) -> str:
    text = str(path)
    return text if len(text) <= limit else text[:40] + "..." + text[-(limit - 43):]


def scale_tile(image: np.ndarray, tile: int) -> np.ndarray:
    """One tile of a sheet, ``tile`` pixels square: a smaller image is enlarged with nearest-neighbour sampling
    (its pixels stay visible as they are, which is what a 32 px training image looks like), a larger one is
    reduced with the antialiased rule of :func:`fractalgen.images.fit_square`."""
    from .images import fit_square

    h, w = image.shape[:2]
    if (h, w) == (tile, tile):
        return image
    if h >= tile and w >= tile:
        return fit_square(image, tile)
    square = fit_square(image, min(h, w))
    gray = square.shape[2] == 1
    with Image.fromarray(square[:, :, 0] if gray else square) as pil, pil.resize((tile, tile), Image.NEAREST) as big:
        out = np.asarray(big)
    return out[:, :, None] if gray else out


def contact_sheet(images: Sequence[np.ndarray], cols: int | None = None, labels: Sequence[str] | None = None,
                  pad: int = 2, background: int = 24, tile: int | None = None) -> np.ndarray:
    """Tile images (all the same size) into one uint8 RGB (or L, if all are grayscale) sheet.

    ``cols`` defaults to a near-square grid; ``tile`` scales every image to that side first (:func:`scale_tile`);
    ``labels`` are written in a strip under each tile, never over its pixels.
    """
    if len(images) == 0:
        raise ImageInputError("a contact sheet needs at least one image")
    if tile is not None:
        images = [scale_tile(im if im.ndim == 3 else im[:, :, None], tile) for im in images]
    h, w = images[0].shape[:2]
    channels = 3 if any(im.ndim == 3 and im.shape[2] == 3 for im in images) else 1
    cols = cols or math.ceil(math.sqrt(len(images)))
    rows = math.ceil(len(images) / cols)
    font = ImageFont.load_default() if labels is not None else None
    strip = 0 if font is None else font.getbbox("0123456789input")[3] + 3
    cell_h = h + strip + pad
    sheet = np.full((rows * cell_h + pad, cols * (w + pad) + pad, channels), background, dtype=np.uint8)
    for n, im in enumerate(images):
        if im.shape[:2] != (h, w):
            raise ImageInputError(f"image {n} is {im.shape[:2]}, the first is {(h, w)}; a sheet needs one size")
        r, c = divmod(n, cols)
        y, x = pad + r * cell_h, pad + c * (w + pad)
        sheet[y:y + h, x:x + w] = im if im.ndim == 3 else im[:, :, None]
    if labels is None:
        return sheet
    pil = to_pil(sheet)
    draw = ImageDraw.Draw(pil)
    for n, text in enumerate(labels):
        r, c = divmod(n, cols)
        xy = (pad + c * (w + pad) + 1, pad + r * cell_h + h + 1)
        draw.text(xy, str(text), fill=255 if channels == 1 else (255, 255, 255), font=font)
    arr = np.asarray(pil)
    return arr if arr.ndim == 3 else arr[:, :, None]
