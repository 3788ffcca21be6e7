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
(constant, window, trap, palette) is drawn from the image's seeded ``rng`` and stored, so :func:`render_escape`
re-renders it byte for byte; Julia constants are drawn near the boundary of the Mandelbrot set and windows are
found by a seeded coarse-to-fine zoom toward the boundary (see :mod:`.escape_sampler`); bounded points take their
colour from the trap, so images fill the frame; nu and the trap value are histogram-equalised (on a log scale),
so palette use does not depend on zoom depth or ``max_iter``; a gate rejects flat, smooth and aliased draws.

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
from functools import lru_cache

import numpy as np
from numba import prange

from .._jit import njit, njit_parallel, use_parallel
from ..schema import Float, Range, setting
from . import color as C
from . import params as P
from .escape_names import COLORINGS, FORMULAS, STATS, TRANSFERS, TRAPS
from .quality import edge_density, entropy_bits, require_band, require_finite, require_min


#: Bail-out radius: large, so that the smooth count's log-log correction is accurate (stored in params).
BAILOUT = 256.0
#: Bins of the histogram equalisation (piecewise linear inside a bin, so finer bins only sharpen the ranks).
EQUALIZE_BINS = 4096
#: Octaves below the largest value that :func:`equalize` resolves (smaller values share the lowest bins).
EQUALIZE_OCTAVES = 40
#: A trap for orbits whose trap value is not used (the zoom search, the escape count of a Julia constant).
NO_TRAP = {"shape": "point", "stat": "min", "center": [0.0, 0.0], "radius": 0.0, "angle": 0.0}
#: The gate's statistics are taken at about this resolution (see :func:`check_gate`).
GATE_SIDE = 128
#: Rec. 601 luma weights: the gray level of a palette colour.
LUMA = np.array([0.299, 0.587, 0.114])


# ---------------------------------------------------------------------------------------------------------------
# small pure helpers


def orbit_settings(params: dict, max_iter: int | None = None) -> tuple[tuple, tuple]:
    """The integer and float settings of :func:`_orbit`, from an image's parameters. Tuples, not arrays: a
    kernel passes them to its per-pixel function by value, where arrays would cost two atomic reference-count
    updates per pixel (numba does not inline that function)."""
    trap = params["trap"]
    angle = trap["angle"]
    ints = (FORMULAS.index(params["formula"]), int(params["degree"]),
            int(params["max_iter"] if max_iter is None else max_iter), TRAPS.index(trap["shape"]),
            STATS.index(trap["stat"]))
    floats = (float(params["bailout"]) ** 2, float(trap["center"][0]), float(trap["center"][1]), math.cos(angle),
              math.sin(angle), float(trap["radius"]), 1.0 / math.log(float(params["bailout"]) ** 2),
              1.0 / math.log(params["degree"]))
    return ints, floats


def view_array(center, span: float, angle: float, grid: int) -> np.ndarray:
    """(x centre, y centre, pixel step, cos, sin) of a square window of ``span`` turned by ``angle``."""
    return np.array([center[0], center[1], span / grid, math.cos(angle), math.sin(angle)], dtype=np.float64)


def palette_lut(palette: dict) -> np.ndarray:
    """(256, 3) float32 colours of a palette from :func:`.escape_sampler.sample_palette`."""
    if palette["kind"] == "cosine":
        return C.cosine_lut(*palette["abcd"])
    if palette["kind"] == "gradient":
        return C.gradient_lut(palette["stops"])
    raise ValueError(f"unknown palette kind {palette['kind']!r}")


def gray_levels(lut: np.ndarray) -> np.ndarray:
    """(L, 1) float32 luma of a colour palette stretched to [0, 1] (a constant palette becomes a ramp), so a
    grayscale image uses the whole gray range whatever colours were drawn."""
    luma = lut.astype(np.float64) @ LUMA
    lo, hi = luma.min(), luma.max()
    if hi - lo < 1e-3:
        luma, lo, hi = np.linspace(0.0, 1.0, len(luma)), 0.0, 1.0
    return ((luma - lo) / (hi - lo)).astype(np.float32)[:, None]


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
    hist = np.zeros(bins, dtype=np.int64)
    for i in range(keys.size):
        if use[i]:
            hist[min(int((max(keys[i], lo) - lo) * scale), bins - 1)] += 1
    below = np.zeros(bins, dtype=np.int64)
    for j in range(1, bins):
        below[j] = below[j - 1] + hist[j - 1]
    for i in range(keys.size):
        if use[i]:
            p = (max(keys[i], lo) - lo) * scale
            j = min(int(p), bins - 1)
            out[i] = (below[j] + (p - j) * hist[j]) / count


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


# ---------------------------------------------------------------------------------------------------------------
# public functions


def escape_grid(params: dict, grid: int, parallel: bool | None = None) -> tuple[np.ndarray, np.ndarray]:
    """(nu, trap) float64 (grid, grid) arrays of an image's window: nu is the smooth iteration count (-1 where the
    orbit stays bounded), trap the trap statistic. ``parallel`` picks the prange kernel (same result); None
    decides by the image's size and the thread count (:func:`fractalgen._jit.use_parallel`)."""
    julia = params["family"] == "julia"
    cr, ci = params["c"] if julia else (0.0, 0.0)
    view = view_array(params["center"], params["span"], params["angle"], grid)
    ints, floats = orbit_settings(params)
    nu = np.empty((grid, grid), dtype=np.float64)
    trap = np.empty((grid, grid), dtype=np.float64)
    if parallel is None:
        parallel = use_parallel(grid * grid)
    kernel = _escape_parallel if parallel else _escape_serial
    kernel(julia, float(cr), float(ci), view, ints, floats, nu, trap)
    return nu, trap


def escape_points(points: np.ndarray, formula: str, degree: int, max_iter: int) -> np.ndarray:
    """Smooth escape count of z0 = 0 under z -> f(z)^d + c for each c in ``points`` (N, 2); -1 if bounded."""
    probe = {"formula": formula, "degree": degree, "max_iter": max_iter, "bailout": BAILOUT, "trap": NO_TRAP}
    ints, floats = orbit_settings(probe)
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


@lru_cache(maxsize=16)
def _everywhere(shape: tuple) -> np.ndarray:
    """An all-True mask of ``shape``, shared and read-only."""
    out = np.ones(shape, dtype=np.bool_)
    out.setflags(write=False)
    return out


def coordinates(params: dict, nu: np.ndarray, trap: np.ndarray, levels: np.ndarray) -> tuple[np.ndarray, ...]:
    """(t, value, gray, structure) float32 arrays like ``nu``, as :func:`_coordinates` defines them."""
    escaped = nu >= 0.0
    nu_eq = equalize(nu, escaped)
    trap_eq = equalize(trap, _everywhere(trap.shape))
    out = tuple(np.empty(nu.shape, dtype=np.float32) for _ in range(4))
    _coordinates(nu_eq, trap_eq, nu, COLORINGS.index(params["coloring"]), TRANSFERS.index(params["transfer"]),
                 params["density"], params["offset"], levels, *out)
    return out


@dataclasses.dataclass(frozen=True)
class EscapeGate:
    """The quality gate's settings (recipe sections ``[julia.gate]`` and ``[mandelbrot.gate]``), read by
    :func:`check_gate`."""

    interior: tuple = setting(Range((0.0, 0.9), 0.0, 1.0), "band of the fraction of pixels whose orbit stays bounded")
    min_entropy: float = setting(Float(3.0, 0.0, 8.0), "least entropy in bits of the 64-bin gray-level histogram")
    edges: tuple = setting(Range((0.04, 0.65), 0.0, 1.0),
                           "band of the fraction of neighbouring pixels whose palette coordinate (before cycling) "
                           "differs by > 0.05: below, a smooth ramp; above, aliasing noise")


#: Distance from the entropy threshold (bits) inside which the gate recomputes the entropy with numpy, as
#: :func:`.quality.entropy_bits` does (the kernel's float64 value is within 1e-12 of it).
ENTROPY_SLACK = 1e-6


@njit
def _gate_counts(nu, gray, structure, s, bins, step):
    """The escape gate's statistics on every ``s``-th row and column, in one pass each: (all gray levels
    finite, bounded cells, cells, entropy in bits of the ``bins``-bin histogram of the gray levels, neighbour
    pairs whose structure values differ by more than ``step``, pairs). The differences are taken in float32 and
    compared with float32 ``step``, as numpy compares a float32 array with a Python float. ``finite`` is False
    when a gray level is not a finite non-negative number (the caller then lets numpy decide)."""
    rows = (nu.shape[0] + s - 1) // s
    cols = (nu.shape[1] + s - 1) // s
    bounded = 0
    finite = True
    hist = np.zeros(bins, dtype=np.int64)
    for i in range(rows):
        for j in range(cols):
            g = gray[i * s, j * s]
            bounded += nu[i * s, j * s] < 0.0
            if not (math.isfinite(g) and g >= 0.0):  # not a clear case: numpy decides
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


def check_gate(nu: np.ndarray, gray: np.ndarray, structure: np.ndarray, gate: EscapeGate) -> None:
    """Raise :class:`~.quality.Rejected` unless the fraction of bounded orbits lies in ``gate.interior``, the
    foreground's gray levels carry ``gate.min_entropy`` bits and the edge density of the value driving the palette
    lies in ``gate.edges`` (before the palette cycles, which would make a smooth ramp look busy).

    The statistics are taken on every s-th row and column, s = grid // GATE_SIDE: edge density depends on the
    resolution (a smooth ramp's steps shrink as pixels do), so this keeps one threshold right at any size, and
    costs less.
    """
    s = max(1, nu.shape[0] // GATE_SIDE)
    finite, bounded, cells, entropy, edges, pairs = _gate_counts(nu, gray, structure, s, 64, np.float32(0.05))
    if (finite and gate.interior[0] <= bounded / cells <= gate.interior[1]
            and entropy >= gate.min_entropy + ENTROPY_SLACK
            and pairs > 0 and gate.edges[0] <= edges / pairs <= gate.edges[1]):
        return  # a clear pass, decided by the kernel; anything else is decided (and reported) by numpy below
    require_finite(gray)
    require_band("interior", float(np.count_nonzero(nu[::s, ::s] < 0.0)) / nu[::s, ::s].size, gate.interior)
    require_min("entropy", entropy_bits(gray[::s, ::s]), gate.min_entropy)
    require_band("edges", edge_density(structure[::s, ::s]), gate.edges)


def check_params(params: dict) -> None:
    """Raise :class:`~fractalgen.errors.ParamsError` naming the first key of ``params`` that
    :func:`render_escape` cannot render (missing, wrong type, out of range)."""
    p = P.Reader(params)
    P.read_grid(p)
    p("color", P.boolean)
    p("formula", P.one_of(FORMULAS))
    p("degree", P.integer(2, 64))
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
    if palette("kind", P.one_of(("cosine", "gradient"))) == "cosine":
        palette("abcd", P.vector(P.vector(P.real(-1e6, 1e6), 3), 4))
    else:
        palette("stops", P.vector(P.RGB, lo=1, hi=256))
    p("transfer", P.one_of(TRANSFERS))
    p("density", P.real(-1e6, 1e6))
    p("offset", P.real(-1e6, 1e6))
    P.read_background(p, C.BACKGROUNDS)
    p("flip", P.integer(0, 7))


def render_escape(params: dict, gate: EscapeGate | None = None) -> np.ndarray:
    """Render a Julia or Mandelbrot image, (size, size, 3) or (size, size, 1) uint8, from its parameters.

    With ``gate`` the statistics of :func:`check_gate` are computed before colouring and
    :class:`~.quality.Rejected` raised on failure.
    """
    size, ss = params["size"], params["supersample"]
    grid = size * ss
    nu, trap = escape_grid(params, grid)
    lut = palette_lut(params["palette"])
    levels = gray_levels(lut)
    t, value, gray, structure = coordinates(params, nu, trap, levels)
    if gate is not None:
        check_gate(nu, gray, structure, gate)
    channels = 3 if params["color"] else 1
    background = C.background_field(params["background"], grid, channels)
    img = C.shade(value, t, lut if params["color"] else levels, background, params["flip"] if ss == 1 else 0)
    if ss == 1:
        return img
    small = np.stack([C.downsample2(img[:, :, ch].astype(np.float32)) for ch in range(channels)], axis=2)
    return C.dihedral(np.floor(small + 0.5).astype(np.uint8), params["flip"])
