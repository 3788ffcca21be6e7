"""OnlineSource: fresh fractals rendered inside the process that draws them, no stored set needed.

Anderson & Farrell ("Improving Fractal Pre-training", WACV 2022) render their pre-training fractals on the fly
with a small cache; reviewers of a keras-cv PixMix layer asked for a "pure online" version without the 1.6 GB
folder of fractal art. :meth:`FractalSource.online <fractalgen.mixing.FractalSource.online>` makes one.

Which fractal a draw renders follows the mixing package's randomness protocol: it is image ``i`` of the recipe
(at its seed), with ``i`` drawn from the generator of the draw (``rng.integers(2**62)``). So a draw is a pure
function of its generator: under ``MixingDataset(..., seed=S)`` the fractals do not depend on the workers; with
the method's own stream (fractalgen.seeding), every process and DataLoader worker has its own, so workers render
different fractals (two draws share an image only if they draw the same one of 2**62 indices).

``pool=0`` renders a new fractal for every draw. ``pool=N`` keeps at most N rendered fractals and renders
``refresh`` new ones per draw on average (replacing the oldest), then draws a random member: a fractal is then
reused about ``1 / refresh`` times, and the cost per draw falls to ``refresh`` renders. The pool is per process
(not pickled, and emptied in a forked child, like a :class:`~fractalgen.seeding.Stream`) and depends on the
draws the process made, so only ``pool=0`` is independent of the workers.
"""

from __future__ import annotations

from collections.abc import Mapping
from typing import Any

import numpy as np

from ..errors import SettingsError
from . import settings as check
from ..seeding import Stream, as_rng, check_seed, process_token

#: Image indices are drawn uniformly below this bound.
INDEX_SPACE = 2**62


class OnlineSource:
    """Random ``size x size`` RGB crops of fractals rendered on demand from a recipe (see the module docstring).

    ``recipe``: a preset name, a .toml path, a mapping or a Recipe; it is rendered at ``round(scale * size)``
    pixels (``scale`` as in :class:`~fractalgen.mixing.FractalSource`) and cropped to ``size``. ``pool``: 0 for a
    new fractal every draw, else the most fractals kept; ``refresh``: new fractals per draw once the pool is full
    (0 < refresh <= 1). ``seed``: seeds the source's own generator, used by ``sample()`` without an ``rng``.
    """

    def __init__(self, recipe: str | Mapping | Any, size: int = 32, *, pool: int = 0, refresh: float = 0.1,
                 scale: float = 1.125, seed: int | None = None) -> None:
        from ..recipe import load_recipe

        size = check.integer("online source size", size, 1, 8192, "the training image side")
        scale = check.number_in("online source scale", scale, 1, 16, 1.125, "render at scale * size, then crop")
        pool = check.integer("online source pool", pool, 0, None,
                             "0: a new fractal every draw, else the number of fractals to keep, e.g. 256")
        refresh = check.number_in("online source refresh", refresh, 1e-9, 1, 0.1,
                                  "the new fractals per draw; 0.1 reuses each fractal about 10 times")
        self.size = int(size)
        self.scale = float(scale)
        self.side = max(8, round(self.scale * self.size))
        self.recipe = load_recipe(recipe, size=self.side)
        self.channels = self.recipe.channels
        self.pool = int(pool)
        self.refresh = float(refresh)
        self.seed = check_seed(seed)
        self._stream = Stream(self.seed)
        self._reset_pool()

    def _reset_pool(self) -> None:
        self._process = process_token()
        self._pool: list[np.ndarray] = []
        self._oldest = 0
        self._credit = 0.0
        self.rendered = 0  # fractals this process has rendered

    def render(self, index: int) -> np.ndarray:
        """Image ``index`` of the recipe at the render size (uint8, 1 or 3 channels)."""
        self.rendered += 1
        return self.recipe.image(index)

    def _fresh(self, rng: np.random.Generator) -> np.ndarray:
        return self.render(int(rng.integers(INDEX_SPACE)))

    def _pick(self, rng: np.random.Generator) -> np.ndarray:
        if self.pool == 0:
            return self._fresh(rng)
        if self._process != process_token():  # a forked copy: this process renders its own pool
            self._reset_pool()
        if len(self._pool) < self.pool:  # filling: every draw renders, as without a pool
            self._pool.append(self._fresh(rng))
            return self._pool[-1]
        self._credit += self.refresh
        while self._credit >= 1.0:
            self._credit -= 1.0
            self._pool[self._oldest] = self._fresh(rng)
            self._oldest = (self._oldest + 1) % self.pool
        return self._pool[int(rng.integers(self.pool))]

    def __len__(self) -> int:
        """The fractals a draw can come from: the index space (pool=0) or the pool's size."""
        return self.pool or INDEX_SPACE

    def sample(self, rng: Any = None) -> np.ndarray:
        """A fresh (or pooled) fractal, randomly cropped: uint8 (size, size, 3), a fresh array."""
        rng = as_rng(rng, self._stream)
        img = self._pick(rng)
        s, side = self.size, self.side
        u = rng.random(2)
        y, x = int(u[0] * (side - s + 1)), int(u[1] * (side - s + 1))
        out = np.empty((s, s, 3), dtype=np.uint8)
        out[...] = img[y:y + s, x:x + s]  # copies, and broadcasts a grayscale crop to three channels
        return out

    # -- pickling: the recipe as plain data, no pool (each process renders its own)
    def __getstate__(self) -> dict:
        state = {k: v for k, v in self.__dict__.items() if k not in ("recipe", "_pool")}
        state["recipe"] = (self.recipe.to_dict(), self.recipe.source)
        return state

    def __setstate__(self, state: dict) -> None:
        from ..recipe import from_dict

        data, label = state.pop("recipe")
        self.__dict__.update(state)
        self.recipe = from_dict(data, label)
        self._reset_pool()

    def __repr__(self) -> str:
        mode = "a new fractal every draw" if self.pool == 0 else f"pool {self.pool}, refresh {self.refresh:g}"
        return (f"OnlineSource({self.recipe.source or 'custom'!r}, size={self.size}, rendered at {self.side}px, "
                f"{mode})")
