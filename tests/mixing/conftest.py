"""Small images and fractal sets for the mixing tests."""

from __future__ import annotations

import math

import numpy as np
import pytest

import fractalgen as fg
from fractalgen.mixing import FractalSource


def _scene(h: int = 32, w: int = 32, seed: int = 0) -> np.ndarray:
    """A real-looking uint8 RGB image: smooth gradients, a disc, a dark band and mild noise."""
    rng = np.random.default_rng(seed)
    y, x = np.mgrid[0:h, 0:w] / max(h, w)
    img = np.stack([90 + 120 * x + 30 * np.sin(6 * y), 60 + 150 * y * (1 - x),
                    200 - 140 * np.hypot(x - 0.6, y - 0.4)], -1)
    img[np.hypot(x - 0.35, y - 0.6) < 0.2] = (230, 210, 40)
    img[:, : w // 5] *= 0.4
    return np.clip(img + rng.normal(0, 4, img.shape), 0, 255).astype(np.uint8)


@pytest.fixture
def scene():
    """Factory of real-looking images: ``scene(h, w, seed)``."""
    return _scene


@pytest.fixture
def noise():
    """Factory of uniform-noise images: ``noise(h, w, c, seed)``."""
    return lambda h=32, w=32, c=3, seed=1: np.random.default_rng(seed).integers(0, 256, (h, w, c), dtype=np.uint8)


@pytest.fixture(scope="session")
def fractals():
    """12 rendered colour fractals at 36 px (the resize size of a 32 px source)."""
    recipe = fg.load_recipe("ifs-colour", size=36, seed=5)
    return np.stack([recipe.image(i) for i in range(12)])


@pytest.fixture
def source(fractals):
    return FractalSource(fractals, size=32, seed=0)


@pytest.fixture
def within():
    """``within(count, n, p)``: ``count`` successes in ``n`` trials is within 4 binomial standard errors of ``p``."""
    return lambda count, n, p: abs(count / n - p) < 4 * math.sqrt(p * (1 - p) / n)


@pytest.fixture
def draw_plans(source):
    """``draw_plans(Method, n, **settings)``: n recorded plans of a method for 32 x 32 images."""
    def draw(method, n, seed=0, **settings):
        aug = method(source, **settings)
        rng = np.random.default_rng(seed)
        return [aug.sample_params(rng, (32, 32)) for _ in range(n)]

    return draw


@pytest.fixture
def fits():
    """``fits(counts, probs)``: a chi-square goodness-of-fit test of observed counts against probabilities
    (dicts keyed alike, or sequences) passes at p > 1e-4; a count of an outcome with probability 0 fails."""
    from scipy.stats import chisquare

    def check(counts, probs) -> bool:
        if isinstance(probs, dict):
            if set(counts) - {k for k, p in probs.items() if p > 0}:
                return False
            keys = [k for k, p in probs.items() if p > 0]
            counts, probs = [counts.get(k, 0) for k in keys], [probs[k] for k in keys]
        counts, probs = np.asarray(counts, float), np.asarray(probs, float)
        if len(counts) == 1:
            return True
        return chisquare(counts, probs / probs.sum() * counts.sum()).pvalue > 1e-4

    return check
