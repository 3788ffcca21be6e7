"""Fractal-mixing augmentations fed from a fractal store: PixMix, IPMix, LayerMix, and the MiAMix mask family.

>>> import numpy as np
>>> from fractalgen.mixing import FractalSource, IPMix
>>> fractals = np.random.default_rng(0).integers(0, 256, (8, 36, 36, 3), dtype=np.uint8)
>>> aug = IPMix(FractalSource(fractals, size=32), preset="cifar", seed=0)
>>> img = np.zeros((32, 32, 3), dtype=np.uint8)
>>> aug(img).shape, aug(img).dtype
((32, 32, 3), dtype('uint8'))

Pieces: :class:`FractalSource` (random fractal crops at the training size; ``FractalSource.online(recipe)``
renders fresh ones inside each process, :class:`OnlineSource`), :mod:`.ops` (the AugMix image ops,
equal to PIL's), :mod:`.blend` (add, multiply, random pixels, random elements), the methods :class:`PixMix`,
:class:`IPMix`, :class:`LayerMix`; :mod:`.masks` (MixUp, CutMix, FMix, GridMix, GMix, AGMix masks),
:class:`MiAMix` (label-mixing over a batch) and :class:`FractalMaskMix` (those masks mixing a fractal into an
image, label-preserving); and :mod:`fractalgen.mixing.torch` (MixingDataset, EpochSampler, jsd_loss;
the only module that imports torch).

The protocol of every method (PixMix, IPMix, LayerMix, FractalMaskMix, and MiAMix on batches):

- Settings are checked when the method is made (:mod:`.settings`); a bad one raises
  :class:`~fractalgen.errors.SettingsError` naming the setting and the fix.
- ``params = method.sample_params(rng, (H, W))`` (MiAMix: ``(rng, batch_size, (H, W))``) draws every random
  choice into a JSON-ready dict; ``method.apply(x, fractal, params)`` (MiAMix: ``apply(images, labels,
  params)``) is deterministic; ``method(img, rng=None)`` does both. ``rng`` is None, an int or a Generator.
- Randomness (:mod:`fractalgen.seeding`, the one place that derives generators): no global random state is read
  or written. Without an ``rng``, a method draws from its own stream, which every process rebuilds for itself
  (fresh OS entropy if unseeded; from ``seed`` in the process that made it, and from (seed, torch's worker seed) in
  a DataLoader worker), so workers never share a stream and epochs never repeat. ``MixingDataset(..., seed=S)``
  with an ``EpochSampler`` augments sample i of epoch e with ``sample_rng(S, e, i)``: reproducible and
  independent of the number of workers (see docs/mixing.md, "Randomness: the rules").
- One fractal is drawn per training sample (from the same generator, after the params), only if the params use
  it, and shared by the views of that sample.
- Images: PIL, numpy (H, W, 3) uint8 or float in [0, 1], torch (3, H, W) uint8 or float; the same kind comes
  back. Their size must match the source's (checked on every call).
"""

from __future__ import annotations

from . import blend, masks, ops
from .base import MixingMethod, as_rgb_uint8, sample_rng
from .ipmix import IPMix
from .layermix import LayerMix
from .miamix import FractalMaskMix, MiAMix
from .online import OnlineSource
from .pixmix import PixMix
from .source import FractalSource

#: method name -> class of the label-preserving methods (the CLI's --method and examples/train_cifar.py use it)
METHODS = {"pixmix": PixMix, "ipmix": IPMix, "layermix": LayerMix, "fractalmaskmix": FractalMaskMix}

__all__ = ["METHODS", "FractalMaskMix", "FractalSource", "IPMix", "LayerMix", "MiAMix", "MixingMethod",
           "OnlineSource", "PixMix", "as_rgb_uint8", "blend", "masks", "ops", "sample_rng"]
