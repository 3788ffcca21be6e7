"""Importing a folder of images into a store, and the one resize every store path uses.

``import_folder(src, out, size)`` walks ``src`` recursively for image files (:data:`IMAGE_SUFFIXES`; hidden
files and folders are skipped, e.g. macOS ``._x.jpg`` forks), sorts their relative paths (so the index of each
file does not depend on the file system's listing order), and stores image i as file i:

- decoded with PIL and converted to RGB (or L with ``gray``), like torchvision's default image loader
  (no EXIF rotation, alpha dropped);
- resized so the shorter side is ``size`` (bilinear, antialiased), then centre-cropped to ``size`` x ``size``:
  torchvision's ``Resize(size)`` + ``CenterCrop(size)``, what training pipelines do;
- stored with params ``{"source": relative path, "width": w, "height": h}`` (the original size).

A file that cannot be decoded stops the import with its name (no silent gaps: indices are fixed before any
image is decoded, so skipping a file late would shift every later index); remove or replace it and import
again (with --overwrite if shards were already written: the file list, and so the set id, changed). The set id hashes the file list (paths and sizes) and the settings, so an import into
a directory holding a different import is refused, and --resume continues an interrupted import.
"""

from __future__ import annotations

import hashlib
import json
import os
from pathlib import Path

import numpy as np

from ..errors import ImageInputError, StoreError
from ..images import file_size, fit_square, read_image
from .build import PerItem, build_store

IMAGE_SUFFIXES = (".jpg", ".jpeg", ".png", ".webp", ".bmp", ".gif", ".tif", ".tiff", ".ppm", ".pgm")
RESIZE = "shorter side to size (bilinear, antialiased), then centre crop"


def find_images(root: Path) -> list[str]:
    """Relative POSIX paths of the image files under ``root``, sorted; hidden files and folders skipped."""
    found = []
    for dirpath, dirnames, filenames in os.walk(root):
        dirnames[:] = [d for d in dirnames if not d.startswith(".")]
        for name in filenames:
            if not name.startswith(".") and name.lower().endswith(IMAGE_SUFFIXES):
                found.append(Path(dirpath, name).relative_to(root).as_posix())
    return sorted(found)


class FolderItems(PerItem):
    """Item source over the image files of a folder (see :mod:`fractalgen.store.build`)."""

    columns = ()

    def __init__(self, root: str | os.PathLike, size: int, gray: bool = False) -> None:
        self.root = Path(root)
        if not self.root.is_dir():
            raise StoreError(f"cannot import '{root}': not a directory; give a folder of images")
        if isinstance(size, bool) or not isinstance(size, int) or not 8 <= size <= 8192:
            raise StoreError(f"import size {size!r}: pass an image side between 8 and 8192 pixels")
        self.size, self.gray = size, bool(gray)
        self.files = find_images(self.root)
        if not self.files:
            raise ImageInputError(f"no images ({', '.join(s[1:] for s in IMAGE_SUFFIXES)}) found under '{root}'; "
                             "point at a folder of images")
        listing = []
        for f in self.files:  # every file checked before any work starts
            try:
                listing.append((f, file_size(self.root / f)))
            except ImageInputError as err:
                raise ImageInputError(f"cannot import '{f}' under '{root}' ({err}); remove it or point at another "
                                      "folder") from None
        blob = json.dumps({"files": listing, "size": size, "gray": self.gray, "resize": RESIZE})
        self.set_id = hashlib.sha256(blob.encode()).hexdigest()
        self.shape = (size, size, 1 if self.gray else 3)
        self.meta = {"recipe": None, "seed": None,
                     "origin": {"kind": "imported", "root": str(self.root.resolve()), "files": len(self.files),
                                "resize": RESIZE, "mode": "L" if self.gray else "RGB"}}

    def __len__(self) -> int:
        return len(self.files)

    def setup_worker(self) -> None:
        pass

    def item(self, index: int) -> tuple[np.ndarray, dict]:
        rel = self.files[index]
        try:
            pil, (w, h) = read_image(self.root / rel, "L" if self.gray else "RGB")
        except ImageInputError as err:
            raise ImageInputError(f"cannot read image '{rel}' under '{self.root}' ({err}); remove or replace the "
                                  "file and import again (add --overwrite if it says OUT holds another set: "
                                  "images were stored before this one)") from None
        with pil:
            return fit_square(pil, self.size), {"source": rel, "width": w, "height": h}


def load_folder(src: str | os.PathLike, size: int, *, gray: bool = False, progress: bool | None = None) -> np.ndarray:
    """Every image under ``src`` in memory, uint8 (N, size, size, C): the files, order and resize of
    :func:`import_folder`, without writing a store (what a FractalSource on a folder of images uses).
    ``progress=None`` shows a bar only on a terminal."""
    from tqdm import tqdm

    items = FolderItems(src, size, gray)
    out = np.empty((len(items), *items.shape), np.uint8)
    bar = tqdm(range(len(items)), desc="loading images", unit="img", leave=False,
               disable=None if progress is None else not progress)
    for i in bar:
        out[i] = items.item(i)[0]
    return out


def is_image_folder(path: str | os.PathLike) -> bool:
    """True if ``path`` is a directory that is not a store (no manifest, no shard files) and holds images."""
    from .manifest import MANIFEST_NAME, is_store_file

    root = Path(path)
    if not root.is_dir() or (root / MANIFEST_NAME).exists() or any(is_store_file(p.name) for p in root.iterdir()):
        return False
    return bool(find_images(root))


def import_folder(src: str | os.PathLike, out: str | os.PathLike, size: int, *, gray: bool = False,
                  **build: object) -> Path:
    """Import every image under ``src`` into a store at ``out`` (see the module doc); ``build`` takes
    :func:`~fractalgen.store.build.build_store`'s options (workers, shard_size, compression, resume, ...)."""
    items = FolderItems(src, size, gray)
    return build_store(items, out, len(items), desc="importing", **build)
