"""fractalgen: fast, seeded, reproducible fractal image sets and the fractal-mixing augmentations fed by them.

>>> import fractalgen as fg
>>> recipe = fg.load_recipe("ifs-colour", size=64, seed=0)
>>> img = recipe.image(12)                      # (64, 64, 3) uint8
>>> bool((fg.render(recipe.params(12)) == img).all())
True
"""

from ._jit import set_threads, threads
from .errors import (CorruptShardError, FractalgenError, ImageInputError, ParamsError, RecipeError, RenderError,
                     StoreError)
from .recipe import Recipe, image_rng, load_recipe, presets
from .render import FAMILIES, render
from .store import Store, open_store
from .generate import generate

__version__ = "0.1.0"

__all__ = [
    "FAMILIES", "CorruptShardError", "FractalgenError", "ImageInputError", "ParamsError", "Recipe", "RecipeError",
    "RenderError", "Store", "StoreError", "generate", "image_rng", "load_recipe", "open_store", "presets", "render",
    "set_threads", "threads", "__version__",
]
