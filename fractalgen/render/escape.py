"""Escape-time fractals: Mandelbrot, Julia and Burning Ship sets of z -> z^d + c, coloured by orbit traps.

Papers and sources:
- Wu, Zhang, Zhang, Yang, Bao, Tu & Huang, "IPMix: Label-Preserving Data Augmentation Method for Training Robust
  Classifiers", NeurIPS 2023 (arXiv:2310.04780), Appendix E: "orbit trap" Mandelbrot and Julia fractals of
  F(z) = z^2 + c as a source of structurally complex mixing images.
- Pickover, "Computers, Pattern, Chaos and Beauty" (1990): the cross trap ("Pickover stalks").
- Michelitsch & Roessler, "The 'Burning Ship' and its quasi-Julia sets" (1992): the Burning Ship formula.
- The smooth (renormalised) iteration count nu = n - log_d(ln|z_n| / ln R) of escape-time colouring practice,
  and Quilez's cosine palettes a + b cos(2 pi (c t + d)).

The paper names the two families and F(z) = z^2 + c but gives no generator settings (traps, palettes, windows);
everything below is our own design, written from the formulas. What it adds: every parameter of an image
(constant, window, trap, palette) is drawn from the image's seeded stream and stored, so :func:`render_escape`
re-renders it byte for byte; Julia constants are drawn near the boundary of the Mandelbrot set and windows are
found by a seeded coarse-to-fine zoom toward the boundary (see :mod:`.escape_sampler`); bounded points take their
colour from the trap, so images fill the frame; nu and the trap value are histogram-equalised (on a log scale),
so palette use does not depend on zoom depth or ``max_iter``; a gate rejects flat, smooth and aliased draws.

An image's parameters travel as a float64 vector with the named offsets ``V_*`` below (:func:`encode` from the
params dict, :func:`decode` back to it): the sampler's kernel writes one per draw and hands it to the same kernels
(:func:`escape_into` for the orbits, :func:`look_into` for the colouring, gate and shading) that
:func:`render_escape` runs on a params dict, so an image re-rendered from its params is the image of the batch.

Speed: the kernel steps two orbits in lockstep (two independent chains of dependent multiplications keep the
CPU's pipelines full) and keeps its per-step code free of loops, calls and arrays, which numba would not inline
(benchmarks/bench_escape.py compares it with a bare-bones loop doing the same work).

The trap statistic runs over the iterates z_1 .. z_m that stay inside the bail-out radius (z_0 is left out: it is
0 for every Mandelbrot pixel and would cap every minimum); an orbit whose first iterate escapes takes the
distance of that iterate.
"""

from __future__ import annotations

import dataclasses
import math

import numpy as np
from numba import prange

from .._jit import njit, njit_parallel, use_parallel
from ..schema import Float, Range, setting
from . import color as C
from . import params as P
from .escape_names import COLORINGS, FORMULAS, STATS, TRANSFERS, TRAPS
from .quality import Rejected


#: Bail-out radius: large, so that the smooth count's log-log correction is accurate (stored in params).
BAILOUT = 256.0
#: Bins of the histogram equalisation (piecewise linear inside a bin, so finer bins only sharpen the ranks).
EQUALIZE_BINS = 4096
#: Octaves below the largest value that :func:`equalize` resolves (smaller values share the lowest bins).
EQUALIZE_OCTAVES = 40
#: The gate's statistics are taken at about this resolution (see :func:`check_gate`).
GATE_SIDE = 128
#: Entries of a palette's look-up table.
LUT_SIZE = 256
PALETTES = ("cosine", "gradient")

# ---------------------------------------------------------------------------------------------------------------
# the parameter vector

(V_JULIA, V_SIZE, V_COLOR, V_SUPERSAMPLE, V_FLIP, V_FORMULA, V_DEGREE, V_BAILOUT, V_CR, V_CI, V_CX, V_CY, V_SPAN,
 V_MAX_ITER, V_ANGLE, V_DEPTH, V_TRAP_SHAPE, V_TRAP_STAT, V_TRAP_X, V_TRAP_Y, V_TRAP_RADIUS, V_TRAP_ANGLE,
 V_COLORING, V_TRANSFER, V_DENSITY, V_OFFSET, V_PALETTE_KIND, V_STOPS, V_BG) = range(29)
#: The palette's numbers come last: a cosine palette's a, b, c, d (12 numbers) or ``V_STOPS`` RGB stops.
V_PALETTE = V_BG + C.BG_LEN


def vector_length(stops: int) -> int:
    """Length of the vector of an image whose palette has ``stops`` RGB stops (a cosine palette counts 4)."""
    return V_PALETTE + 3 * stops


def encode(params: dict) -> np.ndarray:
    """The float64 vector of a params dict (checked by :func:`check_params`): what the kernels read."""
    palette = params["palette"]
    v = np.zeros(vector_length(len(_palette_numbers(palette))))
    _encode_orbits(params, v)
    v[V_SIZE], v[V_COLOR], v[V_SUPERSAMPLE], v[V_FLIP] = (params["size"], params["color"], params["supersample"],
                                                          params["flip"])
    v[V_DEPTH] = params.get("depth", 0)
    v[V_COLORING], v[V_TRANSFER] = COLORINGS.index(params["coloring"]), TRANSFERS.index(params["transfer"])
    v[V_DENSITY], v[V_OFFSET] = params["density"], params["offset"]
    _encode_palette(palette, v)
    v[V_BG:V_PALETTE] = C.background_vector(params["background"])
    return v


def _palette_numbers(palette: dict) -> list:
    """A params palette's rows of numbers: a cosine palette's a, b, c, d, or a gradient's stops."""
    return palette["abcd"] if palette["kind"] == "cosine" else palette["stops"]


def _encode_palette(palette: dict, v: np.ndarray) -> None:
    numbers = _palette_numbers(palette)
    v[V_PALETTE_KIND], v[V_STOPS] = PALETTES.index(palette["kind"]), len(numbers)
    v[V_PALETTE:V_PALETTE + 3 * len(numbers)] = np.asarray(numbers, dtype=np.float64).ravel()


def _encode_orbits(params: dict, v: np.ndarray) -> None:
    """The entries :func:`escape_grid` reads: family, formula, window and trap."""
    julia = params["family"] == "julia"
    trap = params["trap"]
    v[V_JULIA] = julia
    v[V_FORMULA], v[V_DEGREE], v[V_BAILOUT] = FORMULAS.index(params["formula"]), params["degree"], params["bailout"]
    v[V_CR], v[V_CI] = params["c"] if julia else (0.0, 0.0)
    v[V_CX], v[V_CY] = params["center"]
    v[V_SPAN], v[V_MAX_ITER], v[V_ANGLE] = params["span"], params["max_iter"], params["angle"]
    v[V_TRAP_SHAPE], v[V_TRAP_STAT] = TRAPS.index(trap["shape"]), STATS.index(trap["stat"])
    v[V_TRAP_X], v[V_TRAP_Y] = trap["center"]
    v[V_TRAP_RADIUS], v[V_TRAP_ANGLE] = trap["radius"], trap["angle"]


def decode(v: np.ndarray) -> dict:
    """The params dict (plain JSON, without the set-wide keys family / seed / index / draws) of a vector."""
    julia = bool(v[V_JULIA])
    n = int(v[V_STOPS])
    numbers = v[V_PALETTE:V_PALETTE + 3 * n].reshape(n, 3).tolist()
    kind = PALETTES[int(v[V_PALETTE_KIND])]
    p = {"size": int(v[V_SIZE]), "color": bool(v[V_COLOR]), "formula": FORMULAS[int(v[V_FORMULA])],
         "degree": int(v[V_DEGREE]), "bailout": float(v[V_BAILOUT])}
    if julia:
        p["c"] = [float(v[V_CR]), float(v[V_CI])]
    p.update(center=[float(v[V_CX]), float(v[V_CY])], span=float(v[V_SPAN]), max_iter=int(v[V_MAX_ITER]),
             depth=int(v[V_DEPTH]), angle=float(v[V_ANGLE]),
             trap={"shape": TRAPS[int(v[V_TRAP_SHAPE])], "stat": STATS[int(v[V_TRAP_STAT])],
                   "center": [float(v[V_TRAP_X]), float(v[V_TRAP_Y])], "radius": float(v[V_TRAP_RADIUS]),
                   "angle": float(v[V_TRAP_ANGLE])},
             coloring=COLORINGS[int(v[V_COLORING])],
             palette={"kind": kind, ("abcd" if kind == "cosine" else "stops"): numbers},
             transfer=TRANSFERS[int(v[V_TRANSFER])], density=float(v[V_DENSITY]), offset=float(v[V_OFFSET]),
             background=C.background_dict(v[V_BG:V_PALETTE]), supersample=int(v[V_SUPERSAMPLE]),
             flip=int(v[V_FLIP]))
    return p


# ---------------------------------------------------------------------------------------------------------------
# kernels


@njit
def _trap_distance(x, y, cs, sn, radius, shape):
    """Distance from (x, y) = z - p to the trap ``shape`` (an index into TRAPS) turned by angle (cos, sin)."""
    if shape == 0:
        return math.sqrt(x * x + y * y)
    if shape == 3:
        return abs(math.sqrt(x * x + y * y) - radius)
    u = x * cs + y * sn
    v = y * cs - x * sn
    if shape == 1:
        return min(abs(u), abs(v))
    if shape == 2:
        return abs(v)
    if shape == 4:
        return abs(max(abs(u), abs(v)) - radius)
    return abs(abs(u) + abs(v) - radius)


@njit
def _step(zr, zi, cr, ci, fold, conj, degree):
    """z -> f(z)^d + c for d in 2..6, f the identity, |Re| + i|Im| (``fold``: Burning Ship) or the conjugate
    (``conj``: Tricorn). Written without loops or calls, with selects for f: a loop or a call here stops LLVM
    from inlining the step into the orbit loop, which then runs at half speed."""
    zr = abs(zr) if fold else zr
    zi = abs(zi) if fold else (-zi if conj else zi)
    sr, si = zr * zr - zi * zi, 2.0 * zr * zi  # z^2
    if degree == 2:
        return sr + cr, si + ci
    if degree == 3:
        return sr * zr - si * zi + cr, sr * zi + si * zr + ci
    qr, qi = sr * sr - si * si, 2.0 * sr * si  # z^4
    if degree == 5:
        qr, qi = qr * zr - qi * zi, qr * zi + qi * zr
    elif degree == 6:
        qr, qi = qr * sr - qi * si, qr * si + qi * sr
    return qr + cr, qi + ci


@njit
def _iterate(zr, zi, cr, ci, n, best, total, ints, floats):
    """Continue one orbit from its n-th iterate z until it leaves the bail-out radius or reaches max_iter;
    returns (z, n, |z|^2, min and sum of the trap distance over the iterates inside the radius)."""
    fold, conj, degree, max_iter, shape = ints[0] == 1, ints[0] == 2, ints[1], ints[2], ints[3]
    r2, px, py, cs, sn, radius = floats[0], floats[1], floats[2], floats[3], floats[4], floats[5]
    m = zr * zr + zi * zi
    while n < max_iter:
        zr, zi = _step(zr, zi, cr, ci, fold, conj, degree)
        n += 1
        m = zr * zr + zi * zi
        if m > r2:
            break
        d = _trap_distance(zr - px, zi - py, cs, sn, radius, shape)
        best = min(best, d)
        total += d
    return zr, zi, n, m, best, total


@njit
def _iterate_pair(ar, ai, acr, aci, br, bi, bcr, bci, ints, floats):
    """Two orbits from z0 in lockstep until either leaves the bail-out radius (or max_iter): two independent
    chains of dependent multiplications keep the CPU's pipelines busy, 1.5x the speed of one orbit at a time.
    Returns both orbits' (z, |z|^2, trap min, trap sum) and the step count n; the trap statistics never include
    step n yet."""
    fold, conj, degree, max_iter, shape = ints[0] == 1, ints[0] == 2, ints[1], ints[2], ints[3]
    r2, px, py, cs, sn, radius = floats[0], floats[1], floats[2], floats[3], floats[4], floats[5]
    best_a, total_a, best_b, total_b, ma, mb, n = np.inf, 0.0, np.inf, 0.0, 0.0, 0.0, 0
    while n < max_iter:
        ar, ai = _step(ar, ai, acr, aci, fold, conj, degree)
        br, bi = _step(br, bi, bcr, bci, fold, conj, degree)
        n += 1
        ma, mb = ar * ar + ai * ai, br * br + bi * bi
        if ma > r2 or mb > r2 or n == max_iter:
            break
        da = _trap_distance(ar - px, ai - py, cs, sn, radius, shape)
        db = _trap_distance(br - px, bi - py, cs, sn, radius, shape)
        best_a, total_a = min(best_a, da), total_a + da
        best_b, total_b = min(best_b, db), total_b + db
    return (ar, ai, ma, best_a, total_a), (br, bi, mb, best_b, total_b), n


@njit
def _finish(zr, zi, n, m, best, total, ints, floats):
    """(nu, trap value) of an orbit that :func:`_iterate` ended at step n: nu = n - log_d(ln|z_n| / ln R), or
    -1 for a bounded orbit; the trap min or mean over the iterates inside the radius. An orbit whose first
    iterate escapes takes that iterate's distance (no other iterate would count)."""
    r2, px, py, cs, sn, radius, inv_log_r2, inv_log_d = floats
    escaped = m > r2
    count = n - 1 if escaped else n
    if count == 0:
        best = total = _trap_distance(zr - px, zi - py, cs, sn, radius, ints[3])
        count = 1
    value = best if ints[4] == 0 else total / count
    if not escaped:
        return -1.0, value
    return n - math.log(math.log(m) * inv_log_r2) * inv_log_d, value


@njit
def _complete(orbit, cr, ci, n, ints, floats):
    """(nu, trap value) of an orbit that :func:`_iterate_pair` left at step n: if it is still inside the
    bail-out radius, count z_n and iterate on alone."""
    zr, zi, m, best, total = orbit
    if m <= floats[0] and n > 0:
        d = _trap_distance(zr - floats[1], zi - floats[2], floats[3], floats[4], floats[5], ints[3])
        zr, zi, n, m, best, total = _iterate(zr, zi, cr, ci, n, min(best, d), total + d, ints, floats)
    return _finish(zr, zi, n, m, best, total, ints, floats)


@njit
def _orbit_pair(ar, ai, acr, aci, br, bi, bcr, bci, ints, floats):
    """(nu, trap value) of two orbits given as (z0, c): together while both are inside, then each alone."""
    a, b, n = _iterate_pair(ar, ai, acr, aci, br, bi, bcr, bci, ints, floats)
    return _complete(a, acr, aci, n, ints, floats), _complete(b, bcr, bci, n, ints, floats)


@njit
def _escape_row(r, julia, cr, ci, view, ints, floats, nu, trap):
    """Row ``r`` of the window ``view`` (see :func:`view_array`), two pixels at a time: Julia (z0 = pixel,
    c fixed) or Mandelbrot (z0 = 0, c = pixel). Pixel centres are symmetric about the view centre, exactly."""
    h, w = nu.shape
    cx, cy, step, cs, sn = view[0], view[1], view[2], view[3], view[4]
    v = (0.5 * h - r - 0.5) * step
    for k in range(0, w, 2):
        k2 = min(k + 1, w - 1)  # an odd last pixel is paired with itself
        ua, ub = (k + 0.5 - 0.5 * w) * step, (k2 + 0.5 - 0.5 * w) * step
        xa, ya = cx + (ua * cs - v * sn), cy + (ua * sn + v * cs)
        xb, yb = cx + (ub * cs - v * sn), cy + (ub * sn + v * cs)
        if julia:
            a, b = _orbit_pair(xa, ya, cr, ci, xb, yb, cr, ci, ints, floats)
        else:
            a, b = _orbit_pair(0.0, 0.0, xa, ya, 0.0, 0.0, xb, yb, ints, floats)
        nu[r, k], trap[r, k] = a
        nu[r, k2], trap[r, k2] = b


@njit
def _escape_serial(julia, cr, ci, view, ints, floats, nu, trap):
    for r in range(nu.shape[0]):
        _escape_row(r, julia, cr, ci, view, ints, floats, nu, trap)


@njit_parallel
def _escape_parallel(julia, cr, ci, view, ints, floats, nu, trap):
    for r in prange(nu.shape[0]):
        _escape_row(r, julia, cr, ci, view, ints, floats, nu, trap)


@njit
def _escape_points(points, ints, floats, nu):
    """Smooth count of the Mandelbrot-style orbit (z0 = 0) of each c in ``points`` (N, 2)."""
    n = points.shape[0]
    for i in range(0, n, 2):
        j = min(i + 1, n - 1)
        a, b = _orbit_pair(0.0, 0.0, points[i, 0], points[i, 1], 0.0, 0.0, points[j, 0], points[j, 1], ints, floats)
        nu[i], nu[j] = a[0], b[0]


@njit
def _equalize(keys, use, bins, octaves, out):
    """``out[i]`` = fraction of the used ``keys`` below ``keys[i]`` (for used i), linear inside each of ``bins``
    histogram bins spread over the top ``octaves`` octaves; ``keys`` are the bit patterns of non-negative floats
    (see :func:`equalize`). Unused entries of ``out`` are left alone."""
    lo, hi, count = np.iinfo(np.int64).max, 0, 0
    for i in range(keys.size):
        if use[i]:
            lo, hi, count = min(lo, keys[i]), max(hi, keys[i]), count + 1
    if count == 0:
        return
    lo = max(lo, hi - (octaves << 52))  # the exponent field starts at bit 52
    scale = bins / (hi - lo) if hi > lo else 0.0
    below = np.zeros(bins + 1, dtype=np.int64)  # counts per bin, then (in place) the counts below each bin
    for i in range(keys.size):
        if use[i]:
            below[min(int((max(keys[i], lo) - lo) * scale), bins - 1) + 1] += 1
    for j in range(1, bins + 1):
        below[j] += below[j - 1]
    for i in range(keys.size):
        if use[i]:
            p = (max(keys[i], lo) - lo) * scale
            j = min(int(p), bins - 1)
            out[i] = (below[j] + (p - j) * (below[j + 1] - below[j])) / count


@njit
def _transfer(x, kind):
    if kind == 1:
        return math.sqrt(x)
    if kind == 2:
        return math.log2(1.0 + 15.0 * x) * 0.25
    return x


@njit
def _wave(s):
    """Triangle wave of period 2 onto [0, 1]: palette cycles without a seam, whatever the palette's ends."""
    s -= 2.0 * math.floor(0.5 * s)  # s mod 2, without the cost of Python's float modulo
    return s if s <= 1.0 else 2.0 - s


@njit
def _coordinates(nu_eq, trap_eq, nu, mode, transfer, density, offset, levels, t, value, gray, structure):
    """Per pixel, from the equalised smooth count and trap value: palette coordinate ``t``, opacity ``value``,
    and for the gate the foreground's gray level and the value that drives the palette. Modes (COLORINGS):
    trap -> t; nu -> t; trap -> t with nu -> brightness; nu -> t with trap -> brightness. Interior pixels have
    no nu: they take the trap for t and full brightness."""
    top = levels.shape[0] - 1
    for r in range(nu.shape[0]):
        for k in range(nu.shape[1]):
            a = _transfer(trap_eq[r, k], transfer)
            escaped = nu[r, k] >= 0.0
            b = _transfer(nu_eq[r, k], transfer) if escaped and mode != 0 else a
            hue = a if mode == 0 or mode == 2 else b
            bright = 1.0
            if mode == 2:
                bright = b if escaped else 1.0
            elif mode == 3:
                bright = 1.0 - a
            tt = _wave(offset + density * hue)
            t[r, k] = tt
            value[r, k] = bright
            gray[r, k] = bright * levels[min(max(int(tt * top + 0.5), 0), top), 0]
            structure[r, k] = hue


@njit
def _gate_counts(nu, gray, structure, s, bins, step):
    """The escape gate's statistics on every ``s``-th row and column, in one pass each: (all gray levels
    finite, bounded cells, cells, entropy in bits of the ``bins``-bin histogram of the gray levels, neighbour
    pairs whose structure values differ by more than ``step``, pairs). The differences are taken in float32 and
    compared with float32 ``step``, as numpy compares a float32 array with a Python float. ``finite`` is False
    when a gray level is not a finite non-negative number (the gate then rejects the draw)."""
    rows = (nu.shape[0] + s - 1) // s
    cols = (nu.shape[1] + s - 1) // s
    bounded = 0
    finite = True
    hist = np.zeros(bins, dtype=np.int64)
    for i in range(rows):
        for j in range(cols):
            g = gray[i * s, j * s]
            bounded += nu[i * s, j * s] < 0.0
            if not (math.isfinite(g) and g >= 0.0):
                finite = False
                continue
            hist[min(int(g * np.float32(bins)), bins - 1)] += 1
    cells = rows * cols
    entropy = 0.0
    for b in range(bins):
        if hist[b] > 0:
            p = hist[b] / cells
            entropy -= p * math.log2(p)
    edges = 0
    for i in range(rows):
        for j in range(cols):
            a = structure[i * s, j * s]
            if j + 1 < cols and abs(structure[i * s, (j + 1) * s] - a) > step:
                edges += 1
            if i + 1 < rows and abs(structure[(i + 1) * s, j * s] - a) > step:
                edges += 1
    return finite, bounded, cells, entropy, edges, rows * (cols - 1) + (rows - 1) * cols


@njit
def orbit_settings(formula, degree, max_iter, bailout, shape, stat, px, py, radius, angle):
    """The integer and float settings of :func:`_iterate` (formula, shape and stat as indices into FORMULAS, TRAPS
    and STATS). Tuples, not arrays: a kernel passes them to its per-pixel function by value, where arrays would
    cost two atomic reference-count updates per pixel (numba does not inline that function)."""
    r2 = bailout * bailout
    return ((formula, degree, max_iter, shape, stat),
            (r2, px, py, math.cos(angle), math.sin(angle), radius, 1.0 / math.log(r2), 1.0 / math.log(degree)))


#: orbit_settings' trap arguments for orbits whose trap value is not used (the zoom search, Julia constants).
NO_TRAP = (0, 0, 0.0, 0.0, 0.0, 0.0)


@njit
def view_of(cx, cy, span, angle, grid):
    """(x centre, y centre, pixel step, cos, sin) of a square window of side ``span`` turned by ``angle``."""
    return np.array([cx, cy, span / grid, math.cos(angle), math.sin(angle)])


@njit
def escape_settings(v, grid):
    """The arguments of :func:`_escape_serial` (before nu and trap) for the image of vector ``v`` on a grid."""
    ints, floats = orbit_settings(int(v[V_FORMULA]), int(v[V_DEGREE]), int(v[V_MAX_ITER]), v[V_BAILOUT],
                                  int(v[V_TRAP_SHAPE]), int(v[V_TRAP_STAT]), v[V_TRAP_X], v[V_TRAP_Y],
                                  v[V_TRAP_RADIUS], v[V_TRAP_ANGLE])
    view = view_of(v[V_CX], v[V_CY], v[V_SPAN], v[V_ANGLE], grid)
    return v[V_JULIA] != 0.0, v[V_CR], v[V_CI], view, ints, floats


@njit
def escape_into(v, nu, trap):
    """(nu, trap) of the image of vector ``v`` on the grid of ``nu``'s shape, serially."""
    julia, cr, ci, view, ints, floats = escape_settings(v, nu.shape[0])
    _escape_serial(julia, cr, ci, view, ints, floats, nu, trap)


@njit
def coordinates_into(nu, trap, mode, transfer, density, offset, levels, t, value, gray, structure):
    """:func:`_coordinates` of the equalised smooth count (over the escaped pixels) and trap value (over all).
    The trap-only colouring (mode 0) never reads the smooth count's ranks, so it does not equalise them."""
    n = nu.size
    nu_eq = np.zeros(nu.shape, dtype=np.float32)
    trap_eq = np.zeros(nu.shape, dtype=np.float32)
    if mode != 0:
        _equalize(nu.reshape(n).view(np.int64), (nu >= 0.0).reshape(n), EQUALIZE_BINS, EQUALIZE_OCTAVES,
                  nu_eq.reshape(n))
    _equalize(trap.reshape(n).view(np.int64), np.ones(n, dtype=np.bool_), EQUALIZE_BINS, EQUALIZE_OCTAVES,
              trap_eq.reshape(n))
    _coordinates(nu_eq, trap_eq, nu, mode, transfer, density, offset, levels, t, value, gray, structure)


@njit
def gate_status(nu, gray, structure, gate, stats):
    """The gate's verdict: 0 if the fraction of bounded orbits lies in [gate[0], gate[1]], the gray levels carry
    at least gate[2] bits and the edge density of the palette driver lies in [gate[3], gate[4]]; else the code of
    the first failed test (see :data:`GATE_TESTS`). ``stats`` gets (interior, entropy, edges).

    The statistics are taken on every s-th row and column, s = grid // GATE_SIDE: edge density depends on the
    resolution (a smooth ramp's steps shrink as pixels do), so this keeps one threshold right at any size, and
    costs less. A grid smaller than GATE_SIDE cannot be sampled up, so its step threshold grows instead: 0.05 at
    GATE_SIDE pixels, 0.05 * sqrt(GATE_SIDE / side) below. Without it a 36 px image counted many times the edges of
    the same picture at 128 px, and a fifth of its draws were redrawn for "edges above"; the full ratio (a pure
    ramp's) turned as many away for "edges below"; the square root measured fewest redraws (17% at 36 px, 13% at
    256 px)."""
    s = max(1, nu.shape[0] // GATE_SIDE)
    step = np.float32(0.05 * max(1.0, GATE_SIDE / nu.shape[0]) ** 0.5)
    finite, bounded, cells, entropy, edges, pairs = _gate_counts(nu, gray, structure, s, 64, step)
    interior = bounded / cells
    density = edges / pairs if pairs > 0 else 0.0
    stats[0], stats[1], stats[2] = interior, entropy, density
    if not finite:
        return 1
    if interior < gate[0]:
        return 2
    if interior > gate[1]:
        return 3
    if entropy < gate[2]:
        return 4
    if density < gate[3]:
        return 5
    if density > gate[4]:
        return 6
    return 0


@njit
def palette_into(v, lut):
    """The palette of vector ``v`` as a (L, 3) float32 look-up table."""
    n = int(v[V_STOPS])
    numbers = v[V_PALETTE:V_PALETTE + 3 * n].copy().reshape((n, 3))
    if v[V_PALETTE_KIND] == 0.0:
        C.cosine_lut_into(numbers, lut)
    else:
        C.gradient_lut_into(numbers, lut)


@njit
def gray_levels_into(lut, levels):
    """``levels`` (L, 1): the Rec. 601 luma of each colour of ``lut`` stretched to [0, 1] (a constant palette
    becomes a ramp), so a grayscale image uses the whole gray range whatever colours were drawn."""
    n = lut.shape[0]
    luma = np.empty(n)
    for i in range(n):
        luma[i] = 0.299 * lut[i, 0] + 0.587 * lut[i, 1] + 0.114 * lut[i, 2]
    lo, hi = luma.min(), luma.max()
    for i in range(n):
        levels[i, 0] = i / (n - 1) if hi - lo < 1e-3 else (luma[i] - lo) / (hi - lo)


@njit
def _downsample_flipped(big, flip, out):
    """``out`` = the 2x2 block means of ``big`` (rounded half up), turned by ``flip``."""
    n = out.shape[0]
    for r in range(n):
        for k in range(n):
            rr, kk = C.flipped(r, k, n, flip)
            for ch in range(out.shape[2]):
                total = (np.int64(big[2 * r, 2 * k, ch]) + np.int64(big[2 * r, 2 * k + 1, ch])
                         + np.int64(big[2 * r + 1, 2 * k, ch]) + np.int64(big[2 * r + 1, 2 * k + 1, ch]))
                out[rr, kk, ch] = np.uint8((total + 2) // 4)


@njit
def look_into(v, nu, trap, gate, use_gate, stats, out):
    """Colour the orbits (nu, trap) of the image of vector ``v`` into ``out`` (size, size, channels) uint8:
    palette, equalised coordinates, then (with ``use_gate``) the gate of :func:`gate_status` before any shading,
    then background, shading, supersampling and flip. Returns the gate's code (0: passed, ``out`` written)."""
    grid = nu.shape[0]
    channels = out.shape[2]
    lut = np.empty((LUT_SIZE, 3), dtype=np.float32)
    palette_into(v, lut)
    levels = np.empty((LUT_SIZE, 1), dtype=np.float32)
    gray_levels_into(lut, levels)
    t = np.empty((grid, grid), dtype=np.float32)
    value = np.empty((grid, grid), dtype=np.float32)
    gray = np.empty((grid, grid), dtype=np.float32)
    structure = np.empty((grid, grid), dtype=np.float32)
    coordinates_into(nu, trap, int(v[V_COLORING]), int(v[V_TRANSFER]), v[V_DENSITY], v[V_OFFSET], levels, t, value,
                     gray, structure)
    if use_gate:
        status = gate_status(nu, gray, structure, gate, stats)
        if status != 0:
            return status
    field = np.empty((grid, grid), dtype=np.float32)
    colors = np.empty((2, channels), dtype=np.float32)
    C.background_into(v[V_BG:V_PALETTE], field, colors)
    palette = lut if channels == 3 else levels
    flip = int(v[V_FLIP])
    if grid == out.shape[0]:
        C.shade_into(value, t, palette, field, colors, flip, out)
    else:
        big = np.empty((grid, grid, channels), dtype=np.uint8)
        C.shade_into(value, t, palette, field, colors, 0, big)
        _downsample_flipped(big, flip, out)
    return 0


# ---------------------------------------------------------------------------------------------------------------
# public functions


def _escape_vector(v: np.ndarray, grid: int, parallel: bool | None) -> tuple[np.ndarray, np.ndarray]:
    nu = np.empty((grid, grid), dtype=np.float64)
    trap = np.empty((grid, grid), dtype=np.float64)
    if parallel is None:
        parallel = use_parallel(grid * grid)
    if parallel:  # rows are independent: the same arrays as escape_into's
        _escape_parallel(*escape_settings(v, grid), nu, trap)
    else:
        escape_into(v, nu, trap)
    return nu, trap


def escape_grid(params: dict, grid: int, parallel: bool | None = None) -> tuple[np.ndarray, np.ndarray]:
    """(nu, trap) float64 (grid, grid) arrays of an image's window: nu is the smooth iteration count (-1 where the
    orbit stays bounded), trap the trap statistic. ``parallel`` picks the prange kernel (same result); None
    decides by the image's size and the thread count (:func:`fractalgen._jit.use_parallel`). Reads only the
    keys family, c (Julia), formula, degree, bailout, center, span, angle, max_iter and trap."""
    v = np.zeros(V_PALETTE)
    _encode_orbits(params, v)
    return _escape_vector(v, grid, parallel)


def escape_points(points: np.ndarray, formula: str, degree: int, max_iter: int) -> np.ndarray:
    """Smooth escape count of z0 = 0 under z -> f(z)^d + c for each c in ``points`` (N, 2); -1 if bounded."""
    ints, floats = orbit_settings(FORMULAS.index(formula), degree, max_iter, BAILOUT, *NO_TRAP)
    nu = np.empty(len(points), dtype=np.float64)
    _escape_points(np.ascontiguousarray(points, dtype=np.float64), ints, floats, nu)
    return nu


def equalize(x: np.ndarray, use: np.ndarray, bins: int = EQUALIZE_BINS) -> np.ndarray:
    """float32 ranks in [0, 1] of the non-negative float64 ``x`` among the entries where ``use`` holds (0
    elsewhere), from a histogram on a logarithmic scale: the bit pattern of a non-negative float orders it like
    its value and grows linearly with its exponent, so binning the bit patterns (floored at 2^-EQUALIZE_OCTAVES
    of the largest value) gives every octave the same number of bins. Heavy tails (trap distances near 0) then
    keep a fine resolution, at no cost in logarithms."""
    keys = np.ascontiguousarray(x, dtype=np.float64).view(np.int64).ravel()
    out = np.zeros(x.shape, dtype=np.float32)
    _equalize(keys, np.ascontiguousarray(use).ravel(), bins, EQUALIZE_OCTAVES, out.ravel())
    return out


def palette_lut(palette: dict) -> np.ndarray:
    """(LUT_SIZE, 3) float32 colours of a params dict's palette (cosine or gradient)."""
    v = np.zeros(vector_length(len(_palette_numbers(palette))))
    _encode_palette(palette, v)
    lut = np.empty((LUT_SIZE, 3), dtype=np.float32)
    palette_into(v, lut)
    return lut


def gray_levels(lut: np.ndarray) -> np.ndarray:
    """(L, 1) float32 gray levels of a colour palette (see :func:`gray_levels_into`)."""
    levels = np.empty((len(lut), 1), dtype=np.float32)
    gray_levels_into(np.ascontiguousarray(lut, dtype=np.float32), levels)
    return levels


def coordinates(params: dict, nu: np.ndarray, trap: np.ndarray, levels: np.ndarray) -> tuple[np.ndarray, ...]:
    """(t, value, gray, structure) float32 arrays like ``nu``, as :func:`_coordinates` defines them."""
    out = tuple(np.empty(nu.shape, dtype=np.float32) for _ in range(4))
    coordinates_into(np.ascontiguousarray(nu), np.ascontiguousarray(trap), COLORINGS.index(params["coloring"]),
                     TRANSFERS.index(params["transfer"]), float(params["density"]), float(params["offset"]),
                     levels, *out)
    return out


@dataclasses.dataclass(frozen=True)
class EscapeGate:
    """The quality gate's settings (recipe sections ``[julia.gate]`` and ``[mandelbrot.gate]``), read by
    :func:`gate_status`."""

    interior: tuple = setting(Range((0.0, 0.9), 0.0, 1.0), "band of the fraction of pixels whose orbit stays bounded")
    min_entropy: float = setting(Float(3.0, 0.0, 8.0), "least entropy in bits of the 64-bin gray-level histogram")
    edges: tuple = setting(Range((0.04, 0.65), 0.0, 1.0),
                           "band of the fraction of neighbouring pixels whose palette coordinate (before cycling) "
                           "differs by > 0.05: below, a smooth ramp; above, aliasing noise")

    def array(self) -> np.ndarray:
        """The settings as :func:`gate_status` takes them."""
        return np.array([*self.interior, self.min_entropy, *self.edges], dtype=np.float64)

    def reason(self, status: int, stats) -> str:
        """The failed test of :func:`gate_status`'s code, in words, with the statistic and its bound."""
        interior, entropy, edges = (float(x) for x in stats)
        return {1: "non-finite values",
                2: f"interior {interior:.3g} below {self.interior[0]}",
                3: f"interior {interior:.3g} above {self.interior[1]}",
                4: f"entropy {entropy:.3g} below {self.min_entropy}",
                5: f"edges {edges:.3g} below {self.edges[0]}",
                6: f"edges {edges:.3g} above {self.edges[1]}"}[int(status)]


#: For renders without a gate.
_NO_GATE = EscapeGate().array()


def check_gate(nu: np.ndarray, gray: np.ndarray, structure: np.ndarray, gate: EscapeGate) -> None:
    """Raise :class:`~.quality.Rejected` naming the first failed test of :func:`gate_status`."""
    stats = np.zeros(3)
    status = gate_status(np.ascontiguousarray(nu), np.ascontiguousarray(gray, dtype=np.float32),
                         np.ascontiguousarray(structure, dtype=np.float32), gate.array(), stats)
    if status:
        raise Rejected(gate.reason(status, stats))


def check_params(params: dict) -> None:
    """Raise :class:`~fractalgen.errors.ParamsError` naming the first key of ``params`` that
    :func:`render_escape` cannot render (missing, wrong type, out of range)."""
    p = P.Reader(params)
    P.read_grid(p)
    p("color", P.boolean)
    p("formula", P.one_of(FORMULAS))
    p("degree", P.integer(2, 6))
    p("bailout", P.real(above=1.0, hi=1e150))
    if params.get("family") == "julia":
        p("c", P.vector(P.real(-1e6, 1e6), 2))
    p("center", P.vector(P.real(-1e6, 1e6), 2))
    p("span", P.real(above=0.0, hi=1e6))
    p("max_iter", P.integer(1, 10**7))
    p("angle", P.real(-1e6, 1e6))
    trap = p.sub("trap")
    trap("shape", P.one_of(TRAPS))
    trap("stat", P.one_of(STATS))
    trap("center", P.vector(P.real(-1e6, 1e6), 2))
    trap("radius", P.real(0.0, 1e6))
    trap("angle", P.real(-1e6, 1e6))
    p("coloring", P.one_of(COLORINGS))
    palette = p.sub("palette")
    if palette("kind", P.one_of(PALETTES)) == "cosine":
        palette("abcd", P.vector(P.vector(P.real(-1e6, 1e6), 3), 4))
    else:
        palette("stops", P.vector(P.RGB, lo=1, hi=256))
    p("transfer", P.one_of(TRANSFERS))
    p("density", P.real(-1e6, 1e6))
    p("offset", P.real(-1e6, 1e6))
    P.read_background(p, C.BACKGROUNDS)
    p("flip", P.integer(0, 7))


def render_escape(params: dict, gate: EscapeGate | None = None) -> np.ndarray:
    """Render a Julia or Mandelbrot image, (size, size, 3) or (size, size, 1) uint8, from its parameters, with the
    kernels the sampler's batches use (:func:`escape_into` or its parallel twin, then :func:`look_into`).

    With ``gate`` the statistics of :func:`gate_status` are computed before colouring and
    :class:`~.quality.Rejected` raised on failure.
    """
    v = encode(params)
    size = params["size"]
    nu, trap = _escape_vector(v, size * params["supersample"], None)
    out = np.empty((size, size, 3 if params["color"] else 1), dtype=np.uint8)
    stats = np.zeros(3)
    status = look_into(v, nu, trap, _NO_GATE if gate is None else gate.array(), gate is not None, stats, out)
    if status:
        raise Rejected(gate.reason(status, stats))
    return out
