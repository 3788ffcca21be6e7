"""Fractal-mixing augmentations fed from a fractal store: PixMix, IPMix and LayerMix."""

from __future__ import annotations

from . import blend, ops
from .source import FractalSource

__all__ = ["FractalSource", "blend", "ops"]
