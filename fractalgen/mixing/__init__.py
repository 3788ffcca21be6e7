"""Mixing augmentations fed by fractal sets."""

from . import masks
from .miamix import FractalMaskMix, MiAMix

__all__ = ["FractalMaskMix", "MiAMix", "masks"]
