"""Getting images out of a store for people and other tools: PNG files (a flat folder, or the class-folder layout
torchvision's ImageFolder reads) and contact sheets of a seeded random sample.

File names are the global image index, zero-padded (``000042.png``), so a directory listing sorts in index order
and a file maps back to ``store[i]`` and ``store.params(i)``. Every file is written to a temporary name and
renamed, so an interrupted export leaves only whole PNGs (re-running it rewrites them).
"""

from __future__ import annotations

import os
import re
from collections.abc import Iterable
from pathlib import Path

import numpy as np
from tqdm import tqdm

from ..errors import StoreError
from ..sheet import contact_sheet, save_png
from .reader import Store

#: Class folder name for --imagefolder when the store has no class column (e.g. an imported set).
DEFAULT_CLASS = "fractals"
_SAFE = re.compile(r"[^A-Za-z0-9._-]+")


def png_name(index: int, count: int) -> str:
    """``000042.png``: at least six digits, more if the store needs them."""
    return f"{index:0{max(6, len(str(count - 1)))}d}.png"


def export_pngs(store: Store, out: str | os.PathLike, indices: Iterable[int], *, class_column: str | None = None,
                progress: bool = True) -> int:
    """Write ``store[i]`` for each index as ``out/[CLASS/]INDEX.png``; returns the number of files.

    With ``class_column`` (e.g. ``"family"``) each image goes into a sub-folder named by that column's value (one
    folder per family: the ImageFolder layout); a store without that column puts every image in
    ``out/fractals/``. Without it, files go straight into ``out``.
    """
    out = Path(out)
    if out.exists() and not out.is_dir():
        raise StoreError(f"cannot export into '{out}': it is a file; give a folder")
    indices = list(indices)
    classes = None
    if class_column is not None:
        column = store.column(class_column) if class_column in store.columns else None
        classes = [DEFAULT_CLASS if column is None else (_SAFE.sub("_", str(column[i])) or DEFAULT_CLASS)
                   for i in indices]
    for folder in {out} if classes is None else {out / c for c in classes}:
        try:
            folder.mkdir(parents=True, exist_ok=True)
        except OSError as err:
            raise StoreError(f"cannot create '{folder}': {err.strerror}; choose a writable folder") from None
    for n, i in enumerate(tqdm(indices, desc="exporting", unit="img", disable=not progress, leave=False)):
        folder = out if classes is None else out / classes[n]
        save_png(store[i], folder / png_name(i % len(store), len(store)))
    return len(indices)


def random_indices(count: int, n: int, seed: int = 0) -> list[int]:
    """``n`` distinct indices below ``count`` (all of them if ``n >= count``), sorted, from a seeded generator."""
    rng = np.random.default_rng(seed)
    return sorted(rng.choice(count, size=min(n, count), replace=False).tolist())


def store_sheet(store: Store, indices: Iterable[int], *, tile: int | None = None, cols: int | None = None,
                labels: bool = True) -> np.ndarray:
    """A contact sheet of ``store[i]`` for each index, each tile resized to ``tile`` pixels if given, labelled
    with its index."""
    indices = list(indices)
    if not indices:
        raise StoreError("a contact sheet needs at least one image index")
    images = [store[i] for i in indices]
    return contact_sheet(images, cols=cols, labels=[str(i) for i in indices] if labels else None, tile=tile)
