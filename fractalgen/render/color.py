"""Tone mapping, palettes, backgrounds and compositing shared by every fractal family.

Tone mapping follows the fractal-flame convention (Draves & Reckase, "The Fractal Flame Algorithm", 2003): hit
counts are heavy-tailed, so a pixel's value is ``log(1 + c) / log(1 + max c)`` raised to ``1 / gamma``, or the
count's rank (histogram equalisation). Random backgrounds (flat, two-colour gradient, fractional noise) follow
Anderson & Farrell, "Improving Fractal Pre-training" (WACV 2022). Hue is always drawn on the full circle [0, 1):
feeding a 0..255 hue into an 8-bit 0..180 converter is a known bug of published generators.

Every sampler here takes an ``rng`` and returns plain JSON data; every renderer is a pure function of that data.
"""

from __future__ import annotations

import colorsys
import math
from functools import lru_cache

import numpy as np

from .._jit import njit
from ..schema import pick

BACKGROUNDS = ("black", "flat", "gradient", "noise")
TONES = ("log", "equalize")

# ---------------------------------------------------------------------------------------------------------------
# small pure helpers


def hsv_to_rgb(h, s, v) -> np.ndarray:
    """HSV in [0, 1] (hue taken modulo 1, the full circle) to RGB in [0, 1]; broadcasts over arrays, the RGB
    channels on a new last axis (float64)."""
    h, s, v = np.broadcast_arrays(np.asarray(h, dtype=np.float64) % 1.0, np.asarray(s, dtype=np.float64),
                                  np.asarray(v, dtype=np.float64))
    out = np.empty(h.shape + (3,), dtype=np.float64)
    _hsv_many(*(np.ascontiguousarray(a).reshape(-1) for a in (h, s, v)), out.reshape(-1, 3))
    return out


@njit
def _hsv(h, s, v):
    """One colour: ``h`` in [0, 1) (already wrapped), ``s`` and ``v`` in [0, 1] -> (r, g, b)."""
    sector = math.floor(h * 6.0)
    f = h * 6.0 - sector
    p, q, t = v * (1.0 - s), v * (1.0 - s * f), v * (1.0 - s * (1.0 - f))
    j = int(sector) % 6
    if j == 0:
        return v, t, p
    if j == 1:
        return q, v, p
    if j == 2:
        return p, v, t
    if j == 3:
        return p, q, v
    if j == 4:
        return t, p, v
    return v, p, q


@njit
def _hsv_many(h, s, v, out):
    for i in range(h.shape[0]):
        out[i, 0], out[i, 1], out[i, 2] = _hsv(h[i], s[i], v[i])


def random_color(rng: np.random.Generator, saturation=(0.3, 1.0), value=(0.5, 1.0)) -> list[float]:
    """A colour with uniform hue on the full circle and saturation / value drawn from the given bands."""
    return color_from(rng.random(3).tolist(), saturation, value)


def color_from(u, saturation=(0.3, 1.0), value=(0.5, 1.0)) -> list[float]:
    """:func:`random_color` from its three uniform numbers ``u`` (``rng.random(3)``, one per call or sliced
    from a longer draw): hue ``u[0]``, saturation and value ``low + (high - low) * u`` as ``rng.uniform`` makes
    them, bit for bit."""
    s = saturation[0] + (saturation[1] - saturation[0]) * u[1]
    v = value[0] + (value[1] - value[0]) * u[2]
    return list(colorsys.hsv_to_rgb(u[0], s, v))


@lru_cache(maxsize=64)
def _grid01(n: int) -> np.ndarray:
    """``np.linspace(0, 1, n)``, read-only, computed once per ``n`` (the same bits every time)."""
    out = np.linspace(0.0, 1.0, n)
    out.setflags(write=False)
    return out


def gradient_lut(stops: np.ndarray, n: int = 256) -> np.ndarray:
    """(n, 3) float32 palette interpolating linearly through ``stops`` ((K, 3) colours, evenly spaced)."""
    stops = np.asarray(stops, dtype=np.float64)
    t, at = _grid01(n), _grid01(len(stops))
    out = np.empty((n, 3), dtype=np.float32)
    for k in range(3):
        out[:, k] = np.interp(t, at, stops[:, k])
    return out


def cosine_lut(a, b, c, d, n: int = 256) -> np.ndarray:
    """(n, 3) float32 cosine palette ``a + b cos(2 pi (c t + d))`` (Quilez), clipped to [0, 1]."""
    t = _grid01(n)[:, None]
    rgb = np.asarray(a) + np.asarray(b) * np.cos(2 * np.pi * (np.asarray(c) * t + np.asarray(d)))
    return np.clip(rgb, 0.0, 1.0).astype(np.float32)


# ---------------------------------------------------------------------------------------------------------------
# kernels


@njit
def _box_down2(src, out):
    """2x2 box filter: ``out[r, k]`` is the mean of the 2x2 block of ``src`` at (2r, 2k)."""
    for r in range(out.shape[0]):
        for k in range(out.shape[1]):
            out[r, k] = 0.25 * (src[2 * r, 2 * k] + src[2 * r, 2 * k + 1] + src[2 * r + 1, 2 * k]
                                + src[2 * r + 1, 2 * k + 1])


@njit
def _add_octave(out, lattice, amp):
    """Add ``amp`` times the lattice bilinearly (smoothstep) upsampled to ``out``'s shape, separably."""
    h, w = out.shape
    g = lattice.shape[0] - 1
    rows = np.empty((g + 1, w), dtype=np.float32)
    for k in range(w):
        t = k * g / w
        i = min(int(t), g - 1)
        f = t - i
        f = f * f * (3.0 - 2.0 * f)
        for j in range(g + 1):
            rows[j, k] = lattice[j, i] * (1.0 - f) + lattice[j, i + 1] * f
    for r in range(h):
        t = r * g / h
        i = min(int(t), g - 1)
        f = t - i
        f = f * f * (3.0 - 2.0 * f)
        for k in range(w):
            out[r, k] += amp * (rows[i, k] * (1.0 - f) + rows[i + 1, k] * f)


@njit
def _shade(value, t, lut, field, colors, out):
    """``out = round(255 * (bg + (lut[t] - bg) * value))`` with the background
    ``bg = colors[0] + (colors[1] - colors[0]) * field``: the palette colour at coordinate ``t`` laid over the
    background with opacity ``value``. ``out`` may be a flipped / transposed view. Inputs are in [0, 1], so
    the result is too; only the opacity is clamped, to keep the uint8 conversion defined."""
    top = lut.shape[0] - 1
    nch = out.shape[2]
    c0, c1, c2 = colors[0, 0], colors[0, min(1, nch - 1)], colors[0, min(2, nch - 1)]
    d0 = colors[1, 0] - c0  # float32, as in the per-pixel expression they replace
    d1 = colors[1, min(1, nch - 1)] - c1
    d2 = colors[1, min(2, nch - 1)] - c2
    for r in range(out.shape[0]):
        for k in range(out.shape[1]):
            a = min(max(value[r, k], 0.0), 1.0)
            f = field[r, k]
            i = min(max(int(t[r, k] * top + 0.5), 0), top)
            if nch == 3:  # unrolled: twice as fast as the channel loop
                b0 = c0 + d0 * f
                b1 = c1 + d1 * f
                b2 = c2 + d2 * f
                out[r, k, 0] = np.uint8((b0 + (lut[i, 0] - b0) * a) * 255.0 + 0.5)
                out[r, k, 1] = np.uint8((b1 + (lut[i, 1] - b1) * a) * 255.0 + 0.5)
                out[r, k, 2] = np.uint8((b2 + (lut[i, 2] - b2) * a) * 255.0 + 0.5)
            else:
                for ch in range(nch):
                    b = colors[0, ch] + (colors[1, ch] - colors[0, ch]) * f
                    out[r, k, ch] = np.uint8((b + (lut[i, ch] - b) * a) * 255.0 + 0.5)


@njit
def _log_lut(top, gamma):
    lut = np.empty(top + 1, dtype=np.float32)
    lut[0] = 0.0
    inv_log = 1.0 / math.log1p(top)
    for c in range(1, top + 1):
        lut[c] = (math.log1p(c) * inv_log) ** (1.0 / gamma)
    return lut


# ---------------------------------------------------------------------------------------------------------------
# tone mapping


def tone_map(counts: np.ndarray, tone: str, gamma: float) -> np.ndarray:
    """Hit counts (H, W) -> float32 values in [0, 1], 0 exactly where nothing landed.

    ``log``: ``(log(1 + c) / log(1 + max c)) ** (1 / gamma)``; ``equalize``: see :func:`equalize_counts`.
    Both are tabulated per count value, so the cost does not grow with the per-pixel work.
    """
    if tone == "log":
        top = int(counts.max())
        if top == 0:
            return np.zeros(counts.shape, dtype=np.float32)
        return _log_lut(top, gamma)[counts]
    if tone == "equalize":
        return equalize_counts(counts)
    raise ValueError(f"unknown tone {tone!r}")


def equalize_counts(counts: np.ndarray) -> np.ndarray:
    """Histogram equalisation over the lit pixels: a pixel's value is the fraction of lit pixels with a count
    at most its own, so values spread evenly over (0, 1] whatever the count distribution."""
    flat = counts.ravel()
    hist = np.bincount(flat)
    hist[0] = 0
    total = hist.sum()
    if total == 0:
        return np.zeros(counts.shape, dtype=np.float32)
    cdf = (np.cumsum(hist) / total).astype(np.float32)
    return cdf[counts]


def downsample2(img: np.ndarray) -> np.ndarray:
    """2x2 box filter of a (2H, 2W) float32 array."""
    out = np.empty((img.shape[0] // 2, img.shape[1] // 2), dtype=np.float32)
    _box_down2(img, out)
    return out


# ---------------------------------------------------------------------------------------------------------------
# backgrounds


def sample_background(rng: np.random.Generator, kinds: tuple[str, ...], color: bool,
                      value=(0.0, 0.45)) -> dict:
    """Draw a background: ``kinds`` lists the allowed kinds (drawn uniformly). Backgrounds stay dark (value band)
    so a bright fractal keeps its contrast; grayscale backgrounds have zero saturation."""
    kind = pick(rng, kinds)
    sat = (0.2, 1.0) if color else (0.0, 0.0)
    if kind == "black":
        return {"kind": "black"}
    if kind == "flat":
        return {"kind": "flat", "colors": [random_color(rng, sat, value)]}
    if kind == "gradient":  # two colours and the angle: seven uniform numbers, drawn as one call
        u = rng.random(7).tolist()
        return {"kind": "gradient", "colors": [color_from(u[:3], sat, value), color_from(u[3:6], sat, value)],
                "angle": 0.0 + (2 * np.pi - 0.0) * u[6]}
    if kind == "noise":
        u = rng.random(6).tolist()
        return {"kind": "noise", "colors": [color_from(u[:3], sat, value), color_from(u[3:], sat, value)],
                "cells": int(rng.integers(2, 5)),
                "octaves": int(rng.integers(3, 7)), "persistence": float(rng.uniform(0.4, 0.7)),
                "key": int(rng.integers(2**53))}
    raise ValueError(f"unknown background {kind!r}")


def background_field(bg: dict, size: int, channels: int) -> tuple[np.ndarray, np.ndarray]:
    """A background from :func:`sample_background`'s data, as a float32 field (size, size) in [0, 1] and two
    float32 colours (2, channels): the background is ``colors[0] + (colors[1] - colors[0]) * field``.
    Kept in this form (not as an (H, W, C) array) because the shading kernel mixes it per pixel for free."""
    kind = bg["kind"]
    colors = np.zeros((2, 3), dtype=np.float32)
    if kind != "black":
        given = bg["colors"]
        colors[0], colors[1] = given[0], given[-1]  # one colour (flat) fills both rows
    if channels == 1:
        colors = np.ascontiguousarray(colors.mean(axis=1, keepdims=True))
    if kind in ("black", "flat"):
        field = _flat_field(size)
    elif kind == "gradient":
        ramp = _ramp(size)
        field = ramp[None, :] * np.float32(math.cos(bg["angle"])) + ramp[:, None] * np.float32(math.sin(bg["angle"]))
        field -= field.min()
        field /= max(float(field.max()), 1e-6)
    elif kind == "noise":
        field = fractional_noise(size, bg["cells"], bg["octaves"], bg["persistence"], bg["key"])
    else:
        raise ValueError(f"unknown background {kind!r}")
    return field, colors


@lru_cache(maxsize=16)
def _flat_field(size: int) -> np.ndarray:
    """The zero field of flat and black backgrounds, shared and read-only."""
    out = np.zeros((size, size), dtype=np.float32)
    out.setflags(write=False)
    return out


@lru_cache(maxsize=16)
def _ramp(size: int) -> np.ndarray:
    """``np.linspace(-0.5, 0.5, size, dtype=float32)``, computed once per size, read-only."""
    out = np.linspace(-0.5, 0.5, size, dtype=np.float32)
    out.setflags(write=False)
    return out


def render_background(bg: dict, size: int, channels: int) -> np.ndarray:
    """The background as a float32 (size, size, channels) array (for inspection; renderers use the field)."""
    field, colors = background_field(bg, size, channels)
    return colors[0] + (colors[1] - colors[0]) * field[:, :, None]


def fractional_noise(size: int, cells: int, octaves: int, persistence: float, key: int) -> np.ndarray:
    """(size, size) float32 fractional value noise normalised to [0, 1]: octave o is a random lattice of
    ``cells * 2**o`` cells, smoothly interpolated, weighted ``persistence**o`` (a cheap stand-in for the
    diamond-square noise of Anderson & Farrell with the same 1/f character)."""
    rng = np.random.default_rng([key & 0xFFFFFFFF, key >> 32, 0x6E6F, 0])
    sides = np.array([min(cells * 2**o, size) for o in range(octaves)], dtype=np.int64)
    amps = np.array([persistence**o for o in range(octaves)], dtype=np.float32)
    # every octave's lattice in one draw: float32 draws continue one stream whatever the calls' sizes
    lattices = rng.random(int(((sides + 1) ** 2).sum()), dtype=np.float32)
    out = np.zeros((size, size), dtype=np.float32)
    _noise(out, sides, amps, lattices)
    return out


@njit
def _noise(out, sides, amps, lattices):
    """Sum the octaves (lattice o of side ``sides[o] + 1``, weight ``amps[o]``, stored one after another in
    ``lattices``), then stretch ``out`` to [0, 1] in float32 as numpy's ``(out - lo) / max(hi - lo, 1e-6)``."""
    at = 0
    for o in range(sides.shape[0]):
        g = sides[o] + 1
        _add_octave(out, lattices[at:at + g * g].reshape((g, g)), amps[o])
        at += g * g
    lo, hi = out.min(), out.max()
    scale = np.float32(max(np.float64(hi - lo), 1e-6))
    for r in range(out.shape[0]):
        for k in range(out.shape[1]):
            out[r, k] = (out[r, k] - lo) / scale


def shade(value: np.ndarray, t: np.ndarray, lut: np.ndarray, background: tuple[np.ndarray, np.ndarray],
          flip: int = 0) -> np.ndarray:
    """uint8 (H, W, C) image: palette ``lut`` ((L, C) float32) looked up at ``t`` (H, W) in [0, 1], laid over
    the ``background`` of :func:`background_field` with opacity ``value`` (H, W) in [0, 1], then turned by the
    dihedral symmetry ``flip`` (see :func:`dihedral`) at no extra cost: the kernel writes through a view."""
    field, colors = background
    out = np.empty(value.shape + (colors.shape[1],), dtype=np.uint8)
    _shade(value, t, lut, field, colors, undo_dihedral(out, flip))
    return out


def hue_lut(shift: float, saturation: float, value: float, n: int = 256) -> np.ndarray:
    """(n, 3) float32 palette sweeping the full hue circle from ``shift`` at constant saturation and value
    (:func:`hsv_to_rgb` of ``shift + arange(n) / n``, in one kernel call)."""
    out = np.empty((n, 3), dtype=np.float32)
    _hue_lut(float(shift), float(saturation), float(value), out)
    return out


@njit
def _hue_lut(shift, s, v, out):
    n = out.shape[0]
    for i in range(n):
        out[i, 0], out[i, 1], out[i, 2] = _hsv((shift + i / n) % 1.0, s, v)


def gray_lut(level: float = 1.0) -> np.ndarray:
    """(1, 1) palette of one gray level, for grayscale images."""
    return np.full((1, 1), level, dtype=np.float32)


#: The palette of grayscale images (white), shared and read-only.
GRAY_LUT = gray_lut()
GRAY_LUT.setflags(write=False)


def dihedral(img: np.ndarray, k: int) -> np.ndarray:
    """One of the 8 symmetries of the square: ``k % 4`` quarter turns, transposed when ``k >= 4``."""
    out = np.rot90(img, k % 4)
    if k >= 4:
        out = out.swapaxes(0, 1)
    return np.ascontiguousarray(out)


def undo_dihedral(buf: np.ndarray, k: int) -> np.ndarray:
    """A view ``v`` of ``buf`` such that writing an image ``x`` into ``v`` leaves ``dihedral(x, k)`` in ``buf``
    (``np.rot90(buf, -(k % 4))`` of the transposed buffer for k >= 4, written as slices: rot90 costs more than
    shading a small image)."""
    if k >= 4:
        buf = buf.swapaxes(0, 1)
    turns = -(k % 4) % 4
    if turns == 1:
        return buf[:, ::-1].swapaxes(0, 1)
    if turns == 2:
        return buf[::-1, ::-1]
    if turns == 3:
        return buf.swapaxes(0, 1)[:, ::-1]
    return buf
