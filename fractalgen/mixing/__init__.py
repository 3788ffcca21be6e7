"""Fractal-mixing augmentations fed from a fractal store: PixMix, IPMix and LayerMix."""

from __future__ import annotations

from . import ops

__all__ = ["ops"]
