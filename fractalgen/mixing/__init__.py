"""Mixing augmentations fed by fractal sets."""

from . import masks

__all__ = ["masks"]
