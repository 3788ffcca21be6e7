"""Quality gates: cheap statistics that tell a worth-keeping fractal from an empty, full or flat one.

Thresholds follow the published generators: FractalDB (Kataoka et al., ACCV 2020) keeps an IFS whose attractor
fills at least 20% of the frame, Anderson & Farrell (WACV 2022) reject below 5%; escape-time images are kept
when their interior fraction lies in a band and their histogram and edges carry information. Each family's kernel
computes its gate (render version 2: in the batch kernel, before the colour stage where it can); a re-render that
fails it raises :class:`Rejected` naming the failed test. The numpy functions here are the plain definitions the
kernels' statistics are tested against.
"""

from __future__ import annotations

import numpy as np


class Rejected(Exception):
    """A draw failed the quality gate; ``str(err)`` says which statistic and by how much."""


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
