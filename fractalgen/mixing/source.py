"""FractalSource: random fractals at the training size, drawn from a store, a folder of images or an array.

The mixing methods draw one mixing picture per training sample. The reference recipes read it from a folder of
images with ``Resize(36) -> RandomCrop(32)`` (CIFAR) or ``Resize(256) -> RandomCrop(224)`` (ImageNet), decoding a
full-size file per sample. A FractalSource does the resize once per process instead (in-memory mode: the whole
set resized to ``round(scale * size)``, then every draw is a random ``size x size`` crop, a copy of a few KB), or,
for sets larger than the RAM budget, reads one image per draw and resizes only the crop (lazy mode).

Grayscale sets stay one channel in memory (a third of the RAM) and are broadcast to three channels per draw.
A source pickles cheaply: one backed by a store drops its resized copy and reloads it lazily in the process that
unpickles it (a DataLoader worker started by spawn); with fork, the workers share the parent's copy.
"""

from __future__ import annotations

import numbers
import os
import warnings
from typing import Any

import numpy as np

from ..errors import ImageInputError, RecipeError, SettingsError, StoreError, UpsampleWarning
from ..images import resize, shorter_side_to
from ..schema import short_repr
from ..seeding import Stream, as_rng, check_seed

#: Largest crop side and resize factor a source accepts (a 10**6 side asked for a 23 GB crop).
MAX_SIZE, MAX_SCALE = 8192, 16.0
#: in_memory=None keeps the resized set in RAM when it takes at most this many bytes (else lazy mode).
MEMORY_BUDGET = 2 << 30


class FractalSource:
    """Random ``size x size`` RGB crops of the fractals of a set.

    ``src``: a store path (str / PathLike), a store object (``len``, ``shape``, ``[i]``, ``load(size=)``; a
    :class:`~fractalgen.store.StoreSubset` too), a folder of image files (e.g. the PixMix fractal folder: every
    file decoded and resized once, RGB, as ``fractalgen import`` stores it, then held in memory), or a uint8
    array (N, H, W, C) with C = 1 or 3. ``scale``: the set is resized (shorter side) to
    ``round(scale * size)`` before cropping (1.125: CIFAR's 36 -> 32; pass 256 / 224 for ImageNet's exact
    ratio; a set smaller than that is enlarged, with an :class:`~fractalgen.errors.UpsampleWarning`).
    ``in_memory``: True / False, or None to decide by :data:`MEMORY_BUDGET`. ``seed``: seeds the source's own
    stream (fractalgen.seeding), used by :meth:`sample` calls without an ``rng``.
    """

    def __init__(self, src: Any, size: int = 32, *, in_memory: bool | None = None, scale: float = 1.125,
                 seed: int | None = None) -> None:
        if isinstance(size, bool) or not isinstance(size, (int, np.integer)) or not 1 <= size <= MAX_SIZE:
            raise SettingsError(f"FractalSource size = {short_repr(size)} must be an integer between 1 and {MAX_SIZE} "
                              "(the training image side)")
        if isinstance(scale, bool) or not isinstance(scale, numbers.Real) or not 1 <= scale <= MAX_SCALE:
            raise SettingsError(f"FractalSource scale = {short_repr(scale)} must be a number between 1 and "
                              f"{MAX_SCALE} (resize to scale * size, then crop)")
        self.size = int(size)
        self.scale = float(scale)
        self.seed = check_seed(seed)
        self._stream = Stream(self.seed)  # fractalgen.seeding: fresh in every process
        self._items, self._is_store = self._open(src, in_memory)
        n, h, w, c = self.set_shape = (len(self._items), *self._item_shape())  # (N, H, W, C) of the set
        if n == 0:
            raise ImageInputError("the fractal source holds no images; generate a set first or pass a non-empty array")
        if c not in (1, 3):
            raise ImageInputError(f"fractal images must have 1 or 3 channels, got {c}")
        self.channels = c
        self.resized = shorter_side_to(h, w, round(self.scale * self.size))
        if self.resized[0] > h or self.resized[1] > w:
            warnings.warn(f"the fractal source enlarges its {h}x{w} images to {self.resized[1]}x{self.resized[0]} "
                          f"for {self.size} px crops (scale {self.scale:g}), which blurs them; make the set at "
                          f"least {round(self.scale * self.size)} px, or pass scale=1", UpsampleWarning, stacklevel=2)
        need = n * self.resized[0] * self.resized[1] * c
        self.in_memory = need <= MEMORY_BUDGET if in_memory is None else bool(in_memory)
        self._data: np.ndarray | None = None
        if self.in_memory:
            self._load()
            if not self._is_store:
                self._items = None  # the resized copy is all an array-backed source needs

    # -- construction
    def _open(self, src: Any, in_memory: bool | None) -> tuple[Any, bool]:
        if isinstance(src, (str, os.PathLike)):
            from ..store import is_image_folder, load_folder, open_store

            if not is_image_folder(src):
                return open_store(src), True
            if in_memory is False:
                raise ImageInputError(f"'{src}' is a folder of images, which a source reads into memory once; "
                                      "for lazy reads import it into a store first (`fractalgen import`)")
            # resized once, as `fractalgen import` would store it, at the side the crops are taken from
            return load_folder(src, round(self.scale * self.size)), False
        if isinstance(src, np.ndarray):
            if src.dtype != np.uint8 or src.ndim != 4:
                raise ImageInputError(f"a fractal array must be uint8 (N, H, W, C), got {src.dtype} {src.shape}; "
                                      "stack uint8 images with np.stack")
            return src, False
        if all(hasattr(src, name) for name in ("__getitem__", "__len__", "shape", "load")):
            return src, True
        raise ImageInputError(f"cannot draw fractals from {type(src).__name__}; pass a store path, a store or a "
                              "uint8 (N, H, W, C) array")

    def _item_shape(self) -> tuple[int, int, int]:
        shape = tuple(self._items.shape[1:]) if isinstance(self._items, np.ndarray) else tuple(self._items.shape)
        if len(shape) != 3:
            raise StoreError(f"store images have shape {shape}; expected (H, W, C)")
        return shape

    def _load(self) -> None:
        rh, rw = self.resized
        if self._is_store and rh == rw:
            data = np.asarray(self._items.load(size=rh))
        elif not self._is_store and (rh, rw) == tuple(self.set_shape[1:3]):
            data = self._items
        else:
            data = np.stack([resize(np.asarray(self._items[i]), rh, rw) for i in range(self.set_shape[0])])
        self._data = data

    @classmethod
    def from_recipe(cls, recipe: Any, n: int = 64, size: int = 32, *, scale: float = 1.125,
                    seed: int | None = None, render_seed: int | None = None) -> "FractalSource":
        """A source of ``n`` fractals rendered now from a recipe (a preset name, a .toml path, or a Recipe), at
        the resize size, so nothing is stored: for trying a method without generating a set first.
        ``render_seed`` replaces the recipe's seed; None keeps the recipe's own."""
        from ..recipe import load_recipe

        side = max(8, round(scale * size))
        r = load_recipe(recipe, size=side, seed=render_seed)
        return cls(r.images(range(n)), size, in_memory=True, scale=side / size, seed=seed)

    @staticmethod
    def online(recipe: Any, size: int = 32, *, pool: int = 0, refresh: float = 0.1, scale: float = 1.125,
               seed: int | None = None) -> Any:
        """A source that renders fresh fractals from a recipe inside each process (DataLoader worker), with no
        stored set: every draw a new fractal (``pool=0``), or a pool of ``pool`` fractals refreshed by ``refresh``
        new ones per draw. See :class:`fractalgen.mixing.online.OnlineSource`."""
        from .online import OnlineSource

        return OnlineSource(recipe, size, pool=pool, refresh=refresh, scale=scale, seed=seed)

    @classmethod
    def from_name(cls, name: str | os.PathLike, size: int = 32, *, n: int = 64, seed: int | None = None,
                  scale: float = 1.125) -> "FractalSource":
        """A store or a folder of images if ``name`` is a folder, else a preset or recipe file rendered on the fly
        (``n`` images; ``seed`` seeds the source's generator and replaces the recipe's seed; None keeps the
        recipe's own)."""
        if os.path.isdir(name):
            return cls(name, size, seed=seed, scale=scale)
        try:
            return cls.from_recipe(os.fspath(name), n, size, seed=seed, scale=scale, render_seed=seed)
        except RecipeError as err:
            raise RecipeError(f"'{name}' is neither a store folder nor a recipe ({err})") from None

    # -- drawing
    def __len__(self) -> int:
        return self.set_shape[0]

    def sample(self, rng: Any = None) -> np.ndarray:
        """A random fractal, randomly cropped: uint8 (size, size, 3), a fresh array. ``rng``: None (the source's
        own stream, fresh in every process), an int or a Generator."""
        rng = as_rng(rng, self._stream)
        rh, rw = self.resized
        s = self.size
        u = rng.random(3)
        i = int(u[0] * self.set_shape[0])
        y = int(u[1] * (rh - s + 1))
        x = int(u[2] * (rw - s + 1))
        if self.in_memory:
            if self._data is None:
                self._load()
            crop = self._data[i, y:y + s, x:x + s]
        else:
            img = np.asarray(self._items[i])
            ky, kx = img.shape[0] / rh, img.shape[1] / rw  # source pixels per resized pixel
            # reducing_gap: a box pre-reduction by an integer factor first, 1.6x faster for large sources
            # and (PIL's docs) indistinguishable from a full resample at 3
            crop = resize(img, s, s, box=(x * kx, y * ky, (x + s) * kx, (y + s) * ky), reducing_gap=3.0)
        out = np.empty((s, s, 3), dtype=np.uint8)
        out[...] = crop  # copies, and broadcasts a grayscale crop to three channels
        return out

    # -- pickling: drop what the receiving process can rebuild
    def __getstate__(self) -> dict:
        state = self.__dict__.copy()
        if self._is_store:
            state["_data"] = None
        return state

    def __repr__(self) -> str:
        n, h, w, c = self.set_shape
        mode = "memory" if self.in_memory else "lazy"
        return (f"FractalSource({n} x {h}x{w}x{c}, size={self.size}, resized={self.resized[0]}x{self.resized[1]}, "
                f"{mode})")
