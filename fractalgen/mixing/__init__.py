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
image, label-preserving); and :mod:`fractalgen.mixing.torch` (a Dataset wrapper and ``worker_init_fn``;
the only module that imports torch).

Randomness protocol (MiAMix and any later method follow it):

- No global random state is read or written. Every draw comes from an explicit ``np.random.Generator``.
- A method takes ``seed=None`` and owns a generator seeded from it. ``method(img, rng=None)`` draws from the
  ``rng`` given, else from its own. ``method.reseed(seed)`` replaces its own generator.
- A random step splits into ``plan = method.sample_params(rng, (H, W))``, a JSON-ready dict of every choice, and
  the deterministic ``method.apply(x, fractal, plan)``; image ops (``ops.sample_params`` / ``ops.apply``) and
  blends (``blend.sample_params`` / ``blend.blend``) split the same way. Random masks are drawn as a 64-bit key
  whose splitmix64 stream the kernel expands, so the params stay small.
- Per-sample streams: :func:`sample_rng` ``(seed, epoch, index)`` is the generator of one training sample, a pure
  function of the three (``fractalgen.recipe.image_rng`` with the stream ``STREAM_MIXING``).
  ``MixingDataset(..., seed=S)`` uses it, so the augmented data do not depend on the number of workers or
  the order of loading. Without a seed, ``worker_init_fn`` re-seeds each DataLoader worker's copy of the
  method from torch's per-worker seed: different streams per worker, reproducible under ``torch.manual_seed``.
- One fractal is drawn per training sample (from the same generator, after the plans), only if a plan uses it,
  and shared by the views of that sample.
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

#: method name -> class (the CLI's --method and examples/train_cifar.py use it)
METHODS = {"pixmix": PixMix, "ipmix": IPMix, "layermix": LayerMix}

__all__ = ["METHODS", "FractalMaskMix", "FractalSource", "IPMix", "LayerMix", "MiAMix", "MixingMethod",
           "OnlineSource", "PixMix", "as_rgb_uint8", "blend", "masks", "ops", "sample_rng"]
