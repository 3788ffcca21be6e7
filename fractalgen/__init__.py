"""fractalgen: fast, seeded, reproducible fractal image sets and the fractal-mixing augmentations fed by them.

>>> import fractalgen as fg
>>> recipe = fg.load_recipe("ifs-colour", size=64, seed=0)
>>> img = recipe.image(12)                      # (64, 64, 3) uint8
>>> bool((fg.render(recipe.params(12)) == img).all())
True
"""

from __future__ import annotations

import sys
import types
from typing import TYPE_CHECKING

from ._lazy import lazy_attributes
from .errors import (CorruptShardError, FractalgenError, FractalgenWarning, ImageInputError, NoStoreError,
                     ParamsError, RecipeError, RenderError, SettingsError, StoreError)

# The rest is imported on first use (see fractalgen._lazy).
_LAZY = {
    "Recipe": ".recipe", "image_rng": ".recipe", "load_recipe": ".recipe", "presets": ".recipe",
    "FAMILIES": ".render", "render": ".render", "Store": ".store", "open_store": ".store",
    "generate": ".generate", "set_threads": "._jit", "threads": "._jit",
}

if TYPE_CHECKING:
    from ._jit import set_threads, threads
    from .generate import generate
    from .recipe import Recipe, image_rng, load_recipe, presets
    from .render import FAMILIES, render
    from .store import Store, open_store


__getattr__, __dir__ = lazy_attributes(__name__, _LAZY)


class _Package(types.ModuleType):
    """``fractalgen.render`` and ``fractalgen.generate`` are functions named like the submodules that define them.
    Importing a submodule sets it as an attribute of its package; this keeps the functions in those two places."""

    def __setattr__(self, name: str, value) -> None:
        if name in ("render", "generate") and isinstance(value, types.ModuleType):
            return
        super().__setattr__(name, value)


sys.modules[__name__].__class__ = _Package


__version__ = "0.2.0"

__all__ = [
    "FAMILIES", "CorruptShardError", "FractalgenError", "FractalgenWarning", "ImageInputError", "NoStoreError",
    "ParamsError", "Recipe", "RecipeError", "RenderError", "SettingsError", "Store", "StoreError", "generate",
    "image_rng", "load_recipe", "open_store", "presets", "render",
    "set_threads", "threads", "__version__",
]
