"""The exceptions fractalgen raises for problems a user can fix.

Every message says what is wrong, where (key, file, index), the offending value and the fix, on one line, so
the command line can print it without a traceback (``fractalgen.cli`` turns any :class:`FractalgenError` into a
one-line error and a non-zero exit status).
"""

from __future__ import annotations


class FractalgenError(Exception):
    """Base class of every error caused by input the user controls (recipes, paths, stores, images)."""


class RecipeError(FractalgenError, ValueError):
    """A recipe (TOML file, preset name or override) is malformed or out of range."""


class SettingsError(FractalgenError, ValueError):
    """A mixing method, fractal source, mixing dataset or sampler got a bad setting (a beta that is not a finite
    positive number, an unknown preset, an ``rng`` that is not None, an int or a Generator...)."""


class RenderError(FractalgenError):
    """A recipe cannot produce an image, e.g. no draw passes the quality gate within ``max_draws``."""


class ParamsError(RenderError, ValueError):
    """An image's parameter dict (``recipe.params(i)``, a --params JSON file) is malformed, out of range, or
    written by a newer render version."""


class StoreError(FractalgenError):
    """A store is missing, incomplete or cannot be written where asked."""


class NoStoreError(StoreError, ValueError):
    """The path given as a store holds none: it does not exist, is a file, or is a directory that no
    ``generate`` or ``import`` wrote into. Bad input (the command line exits 2), unlike a store that exists but
    is unfinished or damaged (exit 1)."""


class CorruptShardError(StoreError):
    """A shard file is truncated, fails its checksum or disagrees with the manifest."""


class ImageInputError(FractalgenError, ValueError):
    """An image handed to fractalgen has the wrong type, shape or dtype."""


class MissingExtraError(FractalgenError, ImportError):
    """An optional dependency is not installed; the message names the extra to install
    (e.g. ``pip install "fractalgen[dask]"``)."""


class FractalgenWarning(UserWarning):
    """Base class of fractalgen's warnings: something works, but probably not as the user meant."""


class ReleasedVariantWarning(FractalgenWarning):
    """A mixing method was made with ``variant="released"``: it reproduces the authors' released code, defects
    included (issued once per method and process)."""


class UpsampleWarning(FractalgenWarning):
    """A fractal source enlarges its images to reach the training size: the fractals come out blurred. Make the
    set at least as large as ``scale * size`` (or pass a smaller ``scale``)."""


class RepeatedSampleWarning(FractalgenWarning):
    """A seeded MixingDataset was asked for the same sample twice in one epoch: it would give the same
    augmentation again. Use an EpochSampler (or call ``set_epoch`` before each epoch)."""
