"""Tone mapping, palettes, backgrounds and compositing shared by every fractal family.

Tone mapping follows the fractal-flame convention (Draves & Reckase, "The Fractal Flame Algorithm", 2003): hit
counts are heavy-tailed, so a pixel's value is ``log(1 + c) / log(1 + max c)`` raised to ``1 / gamma``, or the
count's rank (histogram equalisation). Random backgrounds (flat, two-colour gradient, fractional noise) follow
Anderson & Farrell, "Improving Fractal Pre-training" (WACV 2022). Hue is always drawn on the full circle [0, 1):
feeding a 0..255 hue into an 8-bit 0..180 converter is a known bug of published generators.

Every sampler here is a kernel that draws from a stream ``st`` (:mod:`fractalgen._random`) into a float64 vector
(:func:`background_dict` gives its JSON form); every renderer is a pure function of that data.
"""

from __future__ import annotations

import math

import numpy as np

from .._jit import njit, njit_inline
from .._random import rand, rand_below, rand_between, rand_key, splitmix64

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


@njit_inline
def random_color(st, s_lo, s_hi, v_lo, v_hi):
    """A colour (r, g, b) from the stream ``st``: hue uniform on the full circle, saturation and value uniform in
    their bands (three draws: hue, saturation, value)."""
    h = rand(st)
    sat = rand_between(st, s_lo, s_hi)
    return _hsv(h, sat, rand_between(st, v_lo, v_hi))


def gradient_lut(stops, n: int = 256) -> np.ndarray:
    """(n, 3) float32 palette interpolating linearly through ``stops`` ((K, 3) colours, evenly spaced)."""
    out = np.empty((n, 3), dtype=np.float32)
    gradient_lut_into(np.asarray(stops, dtype=np.float64).reshape(-1, 3), out)
    return out


@njit
def gradient_lut_into(stops, out):
    """:func:`gradient_lut` into ``out`` ((n, 3) float32): entry i is the piecewise-linear colour at
    t = i / (n - 1), the K stops at t = j / (K - 1)."""
    n, k = out.shape[0], stops.shape[0]
    for i in range(n):
        t = i / (n - 1) if n > 1 else 0.0
        if k == 1:
            for ch in range(3):
                out[i, ch] = stops[0, ch]
            continue
        x = t * (k - 1)
        j = min(int(x), k - 2)
        f = x - j
        for ch in range(3):
            out[i, ch] = stops[j, ch] + (stops[j + 1, ch] - stops[j, ch]) * f


def cosine_lut(a, b, c, d, n: int = 256) -> np.ndarray:
    """(n, 3) float32 cosine palette ``a + b cos(2 pi (c t + d))`` (Quilez), clipped to [0, 1]."""
    out = np.empty((n, 3), dtype=np.float32)
    cosine_lut_into(np.array([a, b, c, d], dtype=np.float64).reshape(4, 3), out)
    return out


@njit
def cosine_lut_into(abcd, out):
    """:func:`cosine_lut` into ``out`` ((n, 3) float32) from the rows a, b, c, d of ``abcd`` (4, 3): entry i is
    the colour at t = i / (n - 1), as :func:`gradient_lut_into` spaces its entries. The cosines of the evenly
    spaced angles come from turning the first by the step (a complex multiplication per entry, exact to ~1e-13):
    256 cosines per channel cost more than a small image's shading."""
    n = out.shape[0]
    step = 1.0 / (n - 1) if n > 1 else 0.0
    for ch in range(3):
        a, b = abcd[0, ch], abcd[1, ch]
        theta = 2.0 * math.pi * abcd[3, ch]
        delta = 2.0 * math.pi * abcd[2, ch] * step
        cr, sr = math.cos(theta), math.sin(theta)
        cd, sd = math.cos(delta), math.sin(delta)
        for i in range(n):
            out[i, ch] = min(max(a + b * cr, 0.0), 1.0)
            cr, sr = cr * cd - sr * sd, sr * cd + cr * sd


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
    """Add ``amp`` times the lattice bilinearly (smoothstep) upsampled to ``out``'s shape, separably: first each
    lattice row to the output width, then each output row from its two lattice rows (row-major loops that LLVM
    vectorises)."""
    h, w = out.shape
    g = lattice.shape[0] - 1
    cell = np.empty(w, dtype=np.int64)
    weight = np.empty(w, dtype=np.float32)
    for k in range(w):
        cell[k], weight[k] = _smooth_cell(k, g, w)
    rows = np.empty((g + 1, w), dtype=np.float32)
    for j in range(g + 1):
        for k in range(w):
            f = weight[k]
            rows[j, k] = lattice[j, cell[k]] * (np.float32(1.0) - f) + lattice[j, cell[k] + 1] * f
    for r in range(h):
        i, f = _smooth_cell(r, g, h)
        a, b = amp * (np.float32(1.0) - f), amp * f
        for k in range(w):
            out[r, k] += rows[i, k] * a + rows[i + 1, k] * b


@njit_inline
def _smooth_cell(k, g, w):
    """Cell and smoothstep weight (float32) of pixel ``k`` of ``w`` over a lattice of ``g`` cells."""
    t = k * g / w
    i = min(int(t), g - 1)
    f = t - i
    return i, np.float32(f * f * (3.0 - 2.0 * f))


_F0, _F1, _HALF, _F255 = np.float32(0.0), np.float32(1.0), np.float32(0.5), np.float32(255.0)


@njit_inline
def flipped(r, k, n, flip):
    """Where pixel (r, k) of an n x n image lands under :func:`dihedral` ``flip``: ``flip % 4`` quarter turns
    (each takes (r, k) to (n - 1 - k, r), as ``np.rot90``), then a transpose when ``flip >= 4``."""
    turns = flip % 4
    if turns == 1:
        r, k = n - 1 - k, r
    elif turns == 2:
        r, k = n - 1 - r, n - 1 - k
    elif turns == 3:
        r, k = k, n - 1 - r
    if flip >= 4:
        r, k = k, r
    return r, k


@njit
def shade_into(value, t, lut, field, colors, flip, out):
    """Lay the fractal over its background into ``out`` (H, W, C) uint8, C-contiguous.

    The background ``bg = colors[0] + (colors[1] - colors[0]) * field`` fills ``out`` as it is; the fractal
    layer, the palette colour ``lut[t]`` with opacity ``value``, is turned by the dihedral symmetry ``flip``
    (:func:`dihedral`; a flip other than 0 needs a square image) and blended over it:
    ``round(255 * (bg + (lut[t] - bg) * value))``. Only the layer is flipped (a random background is as random
    flipped), so the background is one straight pass and the blend visits only the pixels the fractal covers
    (value > 0). Inputs are in [0, 1], so the result is too; only the opacity is clamped, to keep the uint8
    conversion defined. All in float32 (a float64 constant would promote every pixel's arithmetic: 1.4x
    slower). :func:`shade_lit_into` does the same for a layer whose covered pixels are listed."""
    _shade(value, t, lut, field, colors, flip, None, value.size, out)


@njit
def shade_lit_into(value, t, lut, field, colors, flip, lit, n, out):
    """:func:`shade_into` of a layer that covers only the pixels whose flat (row-major, ascending) indices are
    ``lit[:n]`` (value 0 everywhere else): the blend visits just those, without testing every pixel (an IFS
    layer leaves most of the image bare; with the one-row fill of a one-colour background, an ifs-colour image's
    shading at 256 px fell from about 180 to 130-150 us)."""
    _shade(value, t, lut, field, colors, flip, lit, n, out)


@njit
def _shade(value, t, lut, field, colors, flip, lit, n, out):
    """:func:`shade_into` over pixels ``lit[:n]``, or over every pixel when ``lit`` is None (numba compiles the
    two cases apart). The blend is written out here: a per-pixel function taking the arrays would pay atomic
    reference counts per call, inlined or not. A dihedral flip is affine in (r, k), so a pixel's destination is
    an offset ``q00 + r * dr + k * dk`` in the flat output: no per-pixel case analysis."""
    base, step, flat = _background_into_out(field, colors, out)
    h, w = value.shape
    nch = out.shape[2]
    top = lut.shape[0] - 1
    ftop = np.float32(top)
    l1, l2 = min(1, lut.shape[1] - 1), min(2, lut.shape[1] - 1)  # a one-channel palette serves all three
    r0, k0 = flipped(0, 0, h, flip)
    r1, k1 = flipped(1, 0, h, flip)
    r2, k2 = flipped(0, 1, h, flip)
    q00 = r0 * w + k0
    dr, dk = r1 * w + k1 - q00, r2 * w + k2 - q00
    fields, outs = field.reshape(-1), out.reshape(-1)
    starts = _row_starts(lit, n, h, w)
    for r in range(h):
        lo, hi = (0, w) if lit is None else (starts[r], starts[r + 1])
        q_row = q00 + r * dr
        for i in range(lo, hi):
            k = i if lit is None else lit[i] - r * w
            a = min(max(value[r, k], _F0), _F1)
            if a == _F0:  # bare background: already in place
                continue
            j = min(max(np.int32(t[r, k] * ftop + _HALF), 0), top)
            q = q_row + k * dk
            f = _F0 if flat else fields[q]
            q *= nch
            b0 = base[0] + step[0] * f
            outs[q] = np.uint8(np.int32((b0 + (lut[j, 0] - b0) * a) * _F255 + _HALF))
            if nch == 3:
                b1 = base[1] + step[1] * f
                b2 = base[2] + step[2] * f
                outs[q + 1] = np.uint8(np.int32((b1 + (lut[j, l1] - b1) * a) * _F255 + _HALF))
                outs[q + 2] = np.uint8(np.int32((b2 + (lut[j, l2] - b2) * a) * _F255 + _HALF))


@njit
def _row_starts(lit, n, h, w):
    """``starts[r]`` = the position in ``lit[:n]`` (ascending flat indices of an (h, w) image) of the first
    pixel of row r or below; ``starts[h] = n``. (None for ``lit`` None.)"""
    if lit is None:
        return None
    starts = np.empty(h + 1, dtype=np.int64)
    starts[0] = 0
    r = 0
    for i in range(n):
        while lit[i] >= (r + 1) * w:
            r += 1
            starts[r] = i
    while r < h:
        r += 1
        starts[r] = n
    return starts


@njit
def _background_into_out(field, colors, out):
    """Fill ``out`` with the background of :func:`shade_into`; returns its (base, step, flat) colours (float32:
    ``bg = base + step * field``; ``flat`` when step is 0: one colour). Rows go through an int32 buffer (a
    float -> uint8 conversion does not vectorise); a one-colour background converts one row and copies it."""
    h, w, nch = out.shape
    base = np.empty(3, dtype=np.float32)
    step = np.empty(3, dtype=np.float32)
    b = np.empty(3, dtype=np.float32)
    d = np.empty(3, dtype=np.float32)
    for ch in range(3):
        base[ch] = colors[0, min(ch, nch - 1)]
        step[ch] = colors[1, min(ch, nch - 1)] - base[ch]  # float32, as in the per-pixel expression
        b[ch], d[ch] = base[ch] * _F255 + _HALF, step[ch] * _F255
    flat = step[0] == _F0 and step[1] == _F0 and step[2] == _F0
    rows = out.reshape((h, w * nch))
    row = np.empty(w * nch, dtype=np.int32)
    small = np.empty(w * nch, dtype=np.uint8)
    for r in range(h):
        if r == 0 or not flat:  # (a flat background's rows are all row 0)
            if nch == 3:
                b0, b1, b2, d0, d1, d2 = b[0], b[1], b[2], d[0], d[1], d[2]
                for k in range(w):
                    f = field[r, k]
                    row[3 * k] = np.int32(b0 + d0 * f)
                    row[3 * k + 1] = np.int32(b1 + d1 * f)
                    row[3 * k + 2] = np.int32(b2 + d2 * f)
            else:
                for k in range(w):
                    row[k] = np.int32(b[0] + d[0] * field[r, k])
            for j in range(w * nch):
                small[j] = row[j]
        for j in range(w * nch):
            rows[r, j] = small[j]
    return base, step, flat


@njit
def _log_lut(top, gamma):
    lut = np.empty(top + 1, dtype=np.float32)
    lut[0] = 0.0
    inv_log = 1.0 / math.log1p(top)
    for c in range(1, top + 1):
        lut[c] = log_tone(c, inv_log, gamma)
    return lut


@njit_inline
def log_tone(c, inv_log, gamma):
    """The log tone of count ``c`` >= 1 (float64; ``inv_log`` = 1 / log(1 + max count)): the one formula of
    :func:`_log_lut` and the IFS render kernel."""
    return (math.log1p(c) * inv_log) ** (1.0 / gamma)


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


#: A background as a float64 vector (what kernels pass around): kind (index in BACKGROUNDS), two RGB colours
#: (a flat background repeats its colour), the gradient's angle, and the noise's cells, octaves, persistence, key.
BG_KIND, BG_COLORS, BG_ANGLE, BG_CELLS, BG_OCTAVES, BG_PERSISTENCE, BG_KEY, BG_LEN = 0, 1, 7, 8, 9, 10, 11, 12
#: Background value band: backgrounds stay dark so a bright fractal keeps its contrast.
BG_VALUE = (0.0, 0.45)


@njit
def sample_background(st, kinds, color, out):
    """Draw a background from the stream ``st`` into ``out`` (float64[BG_LEN]): the kind uniformly among the
    codes ``kinds``, then its colours (saturation 0.2-1, or 0 for grayscale; value in BG_VALUE), angle or noise
    settings. Anderson & Farrell (WACV 2022) use such flat, gradient and noise backgrounds."""
    out[:] = 0.0
    kind = kinds[rand_below(st, kinds.shape[0])]
    out[BG_KIND] = kind
    if kind == 0:  # black
        return
    s_lo, s_hi = (0.2, 1.0) if color else (0.0, 0.0)
    for c in range(2 if kind > 1 else 1):
        r, g, b = random_color(st, s_lo, s_hi, BG_VALUE[0], BG_VALUE[1])
        out[BG_COLORS + 3 * c], out[BG_COLORS + 3 * c + 1], out[BG_COLORS + 3 * c + 2] = r, g, b
    if kind == 1:  # flat: one colour fills both
        out[BG_COLORS + 3:BG_COLORS + 6] = out[BG_COLORS:BG_COLORS + 3]
    elif kind == 2:
        out[BG_ANGLE] = rand_between(st, 0.0, 2.0 * math.pi)
    else:
        out[BG_CELLS] = 2 + rand_below(st, 3)
        out[BG_OCTAVES] = 3 + rand_below(st, 4)
        out[BG_PERSISTENCE] = rand_between(st, 0.4, 0.7)
        out[BG_KEY] = rand_key(st)


def background_dict(bg: np.ndarray) -> dict:
    """The JSON form of a background vector (what params files hold)."""
    kind = BACKGROUNDS[int(bg[BG_KIND])]
    if kind == "black":
        return {"kind": kind}
    c = bg[BG_COLORS:BG_COLORS + 6].tolist()
    if kind == "flat":
        return {"kind": kind, "colors": [c[:3]]}
    out = {"kind": kind, "colors": [c[:3], c[3:]]}
    if kind == "gradient":
        out["angle"] = float(bg[BG_ANGLE])
    else:
        out.update(cells=int(bg[BG_CELLS]), octaves=int(bg[BG_OCTAVES]), persistence=float(bg[BG_PERSISTENCE]),
                   key=int(bg[BG_KEY]))
    return out


def background_vector(bg: dict) -> np.ndarray:
    """:func:`background_dict` undone (for re-rendering from params)."""
    out = np.zeros(BG_LEN)
    out[BG_KIND] = BACKGROUNDS.index(bg["kind"])
    if bg["kind"] != "black":
        colors = bg["colors"]
        out[BG_COLORS:BG_COLORS + 3], out[BG_COLORS + 3:BG_COLORS + 6] = colors[0], colors[-1]
    if bg["kind"] == "gradient":
        out[BG_ANGLE] = bg["angle"]
    if bg["kind"] == "noise":
        out[BG_CELLS], out[BG_OCTAVES], out[BG_PERSISTENCE] = bg["cells"], bg["octaves"], bg["persistence"]
        out[BG_KEY] = bg["key"]
    return out


@njit
def background_into(bg, field, colors):
    """The background of vector ``bg`` as a float32 field (size, size) in [0, 1] and two float32 colours
    (2, channels): the background is ``colors[0] + (colors[1] - colors[0]) * field``. Kept in this form (not as an
    (H, W, C) array) because the shading kernel mixes it per pixel for free."""
    kind = int(bg[BG_KIND])
    nch = colors.shape[1]
    for c in range(2):
        if nch == 3:
            for ch in range(3):
                colors[c, ch] = bg[BG_COLORS + 3 * c + ch]
        else:
            colors[c, 0] = (np.float32(bg[BG_COLORS + 3 * c]) + np.float32(bg[BG_COLORS + 3 * c + 1])
                            + np.float32(bg[BG_COLORS + 3 * c + 2])) / np.float32(3.0)
    size = field.shape[0]
    if kind <= 1:
        field[:] = 0.0
    elif kind == 2:
        cs, sn = np.float32(math.cos(bg[BG_ANGLE])), np.float32(math.sin(bg[BG_ANGLE]))
        ramp = np.empty(size, dtype=np.float32)
        for i in range(size):
            ramp[i] = -0.5 + i / (size - 1) if size > 1 else 0.0
        for r in range(size):
            y = ramp[r] * sn
            for k in range(size):
                field[r, k] = ramp[k] * cs + y
        # a sum of two monotone terms: its extremes lie at the corners
        lo, hi = field[0, 0], field[0, 0]
        for r in (0, size - 1):
            for k in (0, size - 1):
                lo, hi = min(lo, field[r, k]), max(hi, field[r, k])
        _stretch(field, lo, hi)
    else:
        _noise_into(field, int(bg[BG_CELLS]), int(bg[BG_OCTAVES]), bg[BG_PERSISTENCE], np.uint64(bg[BG_KEY]))


@njit
def _stretch(field, lo, hi):
    """Stretch ``field`` from [lo, hi] (its least and largest values) to [0, 1] in float32:
    ``(x - lo) / max(hi - lo, 1e-6)``."""
    scale = np.float32(max(np.float64(hi - lo), 1e-6))
    for r in range(field.shape[0]):
        for k in range(field.shape[1]):
            field[r, k] = (field[r, k] - lo) / scale


@njit
def _nonnegative_range(field):
    """(least, largest) of a field of non-negative float32 values, compared as their int32 bit patterns (which
    order such floats as the floats themselves): an integer reduction vectorises, a float one does not."""
    bits = field.reshape(-1).view(np.int32)
    lo, hi = bits[0], bits[0]
    for i in range(bits.shape[0]):
        lo, hi = min(lo, bits[i]), max(hi, bits[i])
    pair = np.array([lo, hi], dtype=np.int32).view(np.float32)
    return pair[0], pair[1]


def background_field(bg: dict, size: int, channels: int) -> tuple[np.ndarray, np.ndarray]:
    """:func:`background_into` of a params file's background table."""
    field = np.empty((size, size), dtype=np.float32)
    colors = np.empty((2, channels), dtype=np.float32)
    background_into(background_vector(bg), field, colors)
    return field, colors


def render_background(bg: dict, size: int, channels: int) -> np.ndarray:
    """The background as a float32 (size, size, channels) array (for inspection; renderers use the field)."""
    field, colors = background_field(bg, size, channels)
    return colors[0] + (colors[1] - colors[0]) * field[:, :, None]


def fractional_noise(size: int, cells: int, octaves: int, persistence: float, key: int) -> np.ndarray:
    """(size, size) float32 fractional value noise normalised to [0, 1] (see :func:`_noise_into`)."""
    out = np.empty((size, size), dtype=np.float32)
    _noise_into(out, cells, octaves, persistence, np.uint64(key))
    return out


@njit
def _noise_into(out, cells, octaves, persistence, key):
    """Fractional value noise: octave o is a lattice of ``cells * 2**o`` cells (at most the image side) of
    uniform float32 values from the splitmix64 stream of ``key``, smoothly interpolated and weighted
    ``persistence**o``; the sum is stretched to [0, 1] (a cheap stand-in for the diamond-square noise of Anderson
    & Farrell with the same 1/f character)."""
    size = out.shape[0]
    out[:] = 0.0
    state = key
    for o in range(octaves):
        g = min(cells * 2**o, size) + 1
        lattice = np.empty(g * g, dtype=np.float32)
        for i in range(0, g * g, 2):  # two 24-bit floats from each 64-bit output
            state, z = splitmix64(state)
            lattice[i] = np.float32(z >> np.uint64(40)) * np.float32(2.0**-24)
            if i + 1 < g * g:
                lattice[i + 1] = np.float32((z >> np.uint64(8)) & np.uint64(0xFFFFFF)) * np.float32(2.0**-24)
        _add_octave(out, lattice.reshape((g, g)), np.float32(persistence**o))
    lo, hi = _nonnegative_range(out)
    _stretch(out, lo, hi)


def shade(value: np.ndarray, t: np.ndarray, lut: np.ndarray, background: tuple[np.ndarray, np.ndarray],
          flip: int = 0) -> np.ndarray:
    """uint8 (H, W, C) image: palette ``lut`` ((L, C) float32) looked up at ``t`` (H, W) in [0, 1], laid over
    the ``background`` of :func:`background_field` with opacity ``value`` (H, W) in [0, 1], then turned by the
    dihedral symmetry ``flip`` (see :func:`dihedral`) at no extra cost (:func:`shade_into`)."""
    field, colors = background
    out = np.empty(value.shape + (colors.shape[1],), dtype=np.uint8)
    shade_into(value, t, lut, field, colors, flip, out)
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


def dihedral(img: np.ndarray, k: int) -> np.ndarray:
    """One of the 8 symmetries of the square: ``k % 4`` quarter turns, transposed when ``k >= 4``."""
    out = np.rot90(img, k % 4)
    if k >= 4:
        out = out.swapaxes(0, 1)
    return np.ascontiguousarray(out)
