"""Quality gates: cheap statistics that tell a worth-keeping fractal from an empty, full or flat one.

Thresholds follow the published generators: FractalDB (Kataoka et al., ACCV 2020) keeps an IFS whose attractor
fills at least 20% of the frame, Anderson & Farrell (WACV 2022) reject below 5%; escape-time images are kept
when their interior fraction lies in a band and their histogram and edges carry information. A family's
renderer computes these on its tone-mapped value map (floats in [0, 1]) before the colour stage, so a rejected
draw costs as little as possible, and raises :class:`Rejected` naming the failed test.
"""

from __future__ import annotations

import numpy as np


class Rejected(Exception):
    """A draw failed the quality gate; ``str(err)`` says which statistic and by how much."""


def fill_fraction(value: np.ndarray) -> float:
    """Fraction of pixels where anything landed (value > 0)."""
    return float(np.count_nonzero(value)) / value.size


def contrast(value: np.ndarray) -> float:
    """Standard deviation of the values: 0 for a flat image, 0.5 at most for values in [0, 1]."""
    return float(value.std())


def entropy_bits(value: np.ndarray, bins: int = 64) -> float:
    """Shannon entropy in bits of the histogram of values in [0, 1] (0 for a constant image, log2(bins) max)."""
    hist = np.bincount(np.minimum((value.ravel() * bins).astype(np.int64), bins - 1), minlength=bins)
    p = hist[hist > 0] / value.size
    return float(-(p * np.log2(p)).sum())


def edge_density(value: np.ndarray, step: float = 0.05) -> float:
    """Fraction of horizontally or vertically adjacent pixel pairs whose values differ by more than ``step``."""
    dx = np.abs(np.diff(value, axis=1)) > step
    dy = np.abs(np.diff(value, axis=0)) > step
    return float(dx.sum() + dy.sum()) / (dx.size + dy.size)


def require_finite(value: np.ndarray) -> None:
    if not np.isfinite(value).all():
        raise Rejected("non-finite values")


def require_band(name: str, x: float, band: tuple[float, float]) -> None:
    """Raise :class:`Rejected` unless ``band[0] <= x <= band[1]``."""
    if x < band[0]:
        raise Rejected(f"{name} {x:.3g} below {band[0]}")
    if x > band[1]:
        raise Rejected(f"{name} {x:.3g} above {band[1]}")


def require_min(name: str, x: float, low: float) -> None:
    if x < low:
        raise Rejected(f"{name} {x:.3g} below {low}")
