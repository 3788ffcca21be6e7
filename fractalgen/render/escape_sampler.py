"""Recipe settings and seeded parameter samplers of the escape-time families (``julia``, ``mandelbrot``): the
sampler side of the escape-time renderer. It imports :mod:`.escape` (the kernels, the gate and its settings, the
renderer), never the other way round.

Render version 2: every number of draw ``d`` of image ``i`` comes from the stream of (seed, i, d, STREAM_PARAMS)
(:func:`fractalgen._random.stream_of`) inside numba (:func:`sample_into`), and :func:`_draw_batch` samples,
renders, gates and shades a whole batch of images in one serial kernel call, one image after the other: no numpy
generator and no Python per image. A draw's parameters are a float64 vector (:mod:`.escape` defines its layout);
the params dict of an image is that vector decoded.

Sources: the IPMix paper's Appendix E (Wu et al., NeurIPS 2023, arXiv:2310.04780) for the choice of orbit-trap
Mandelbrot and Julia fractals; the rest is escape-time practice, written here from the formulas.

Julia constants c lie near the boundary of the Mandelbrot set, where Julia sets are richest, by one of two
methods: ``boundary`` puts c on the boundary of the main component, c = z - z^d with z = d^(-1 / (d - 1)) e^(it)
(the c whose fixed point z has a multiplier d z^(d - 1) of modulus 1; the cardioid for d = 2), or for d = 2 on the
period-2 disk c = -1 + e^(it) / 4, then moves it radially from the component's centre by a random few percent;
``band`` draws c uniformly in a box and keeps the first c whose own escape count lies in a middle band (the
boundary's neighbourhood for any formula; Burning Ship and Tricorn always use it). Windows are found by a seeded
zoom toward the boundary: render a coarse grid, pick one of the late-escaping cells whose smooth count differs
most from a neighbour's (see :func:`boundary_cells`), zoom onto it by a random factor, repeat a random number of
times, raising ``max_iter`` by a fixed amount per decade of zoom and never going below ``min_span``. The view is
then turned by a random angle.

``max_iter`` dominates the cost (every bounded pixel runs to it), so the defaults are low: 64 for Julia sets and
96 for Mandelbrot windows at the start window, plus 32 / 48 per decade of zoom. Histogram equalisation makes the
palette independent of ``max_iter``; on contact sheets 64 and 160 give the same pictures, at about half the cost.
"""

from __future__ import annotations

import dataclasses
import math
from functools import lru_cache

import numpy as np

from .._jit import njit
from .._random import rand, rand_below, rand_between, stream_of
from ..errors import RecipeError
from ..schema import Bool, Choices, Float, Int, Range, section, setting
from ..seeding import STREAM_PARAMS
from . import color as C
from . import escape as E
from .batch import Drawn, choice_codes
from .escape import BAILOUT, NO_TRAP, PALETTES, EscapeGate, orbit_settings, view_of
from .escape_names import COLORINGS, FORMULAS, STATS, TRANSFERS, TRAPS

#: The families drawn by this module (their recipe sections share :class:`EscapeConfig`'s keys).
ESCAPE_FAMILIES = ("julia", "mandelbrot")
C_METHODS = ("boundary", "band")
#: Side of the coarse grid of the zoom search.
COARSE = 16
#: Cells of the coarse grid among which the next centre is drawn (those of largest local variation).
COARSE_PICK = 12
#: Candidates per batch of the ``band`` method, and batches tried before falling back to ``boundary``.
BAND_BATCH, BAND_TRIES = 64, 16
#: Start windows (centre, span) of the Mandelbrot-style search, by formula; multibrots start at the origin.
MANDELBROT_START = {"power": ((-0.6, 0.0), 3.0), "burning-ship": ((-0.4, -0.5), 3.6), "tricorn": ((-0.3, 0.0), 3.6)}


@dataclasses.dataclass(frozen=True)
class EscapeConfig:
    """Settings shared by the Julia and Mandelbrot families."""

    formula: tuple = setting(Choices(("power",), FORMULAS), "z -> z^d + c, Burning Ship (|Re z| + i|Im z|)^d + c "
                                                            "or Tricorn conj(z)^d + c")
    degree: tuple = setting(Range((2, 2), 2, 6, integer=True), "exponent d, uniform on [low, high]")
    max_iter: int = setting(Int(96, 16, 100_000), "iteration cap at the start window")
    iter_per_decade: int = setting(Int(48, 0, 10_000), "added to max_iter per factor 10 of zoom")
    depth: tuple = setting(Range((0, 2), 0, 40, integer=True), "zoom steps toward the boundary")
    zoom: tuple = setting(Range((2.0, 6.0), 1.1, 16.0), "zoom factor of one step")
    min_span: float = setting(Float(1e-12, 1e-13, 1.0), "smallest window side (float64 precision ends near 1e-13)")
    rotate: bool = setting(Bool(True), "turn the view by a random angle")
    trap: tuple = setting(Choices(TRAPS, TRAPS), "orbit trap shapes")
    trap_stat: tuple = setting(Choices(("min",), STATS), "statistic of the trap distance over the orbit")
    trap_offset: float = setting(Float(1.0, 0.0, 4.0), "trap centre uniform in the disk of this radius about 0")
    trap_radius: tuple = setting(Range((0.1, 1.0), 0.0, 4.0), "radius of circle, square and rhombus traps")
    coloring: tuple = setting(Choices(COLORINGS, COLORINGS),
                              "palette from trap / smooth count, or one for the palette, the other for brightness")
    palette: tuple = setting(Choices(PALETTES, PALETTES), "random cosine palette or gradient through 3-6 colours")
    transfer: tuple = setting(Choices(TRANSFERS, TRANSFERS), "applied to the equalised value before the palette")
    density: tuple = setting(Range((1.0, 3.0), 0.1, 64.0), "palette cycles over the value range")
    background: tuple = setting(Choices(("black",), C.BACKGROUNDS), "shows where brightness is below 1")
    supersample: int = setting(Int(1, 1, 2), "render at this factor and box-filter down (2 removes aliasing)")
    flip: bool = setting(Bool(True), "apply a random one of the 8 flips / quarter turns")
    gate: EscapeGate = section(EscapeGate, "quality gate")


@dataclasses.dataclass(frozen=True)
class JuliaConfig(EscapeConfig):
    c_method: tuple = setting(Choices(C_METHODS, C_METHODS), "how c is put near the Mandelbrot set's boundary")
    jitter: float = setting(Float(0.03, 0.0, 0.5), "boundary method: radial jitter of c, fraction of its radius")
    c_band: tuple = setting(Range((10.0, 100.0), 1.0, 10_000.0), "band method: escape count band of c itself")
    span: float = setting(Float(2.6, 1e-6, 16.0), "side of the start window, centred at 0")
    max_iter: int = setting(Int(64, 16, 100_000), "iteration cap at the start window")
    iter_per_decade: int = setting(Int(32, 0, 10_000), "added to max_iter per factor 10 of zoom")
    depth: tuple = setting(Range((0, 3), 0, 40, integer=True), "zoom steps toward the boundary")
    zoom: tuple = setting(Range((1.5, 5.0), 1.1, 16.0), "zoom factor of one step")

    def check(self, where: str) -> None:
        if self.min_span > self.span:
            raise RecipeError(f"recipe key '{where}.min_span' = {self.min_span} is larger than '{where}.span' = "
                              f"{self.span}, so no window fits; use a min_span below the start span")


@dataclasses.dataclass(frozen=True)
class MandelbrotConfig(EscapeConfig):
    depth: tuple = setting(Range((1, 5), 0, 40, integer=True), "zoom steps toward the boundary")


# ---------------------------------------------------------------------------------------------------------------
# the zoom search's cell pick


def boundary_cells(nu: np.ndarray, max_iter: int) -> np.ndarray:
    """Flat indices of up to COARSE_PICK cells of a coarse grid near the set's boundary: among the escaping cells
    that escape late (smooth count in the top quarter of the escaping cells', at or above their
    ``np.quantile(.., 0.75)``), those whose count differs most from a 4-neighbour's (bounded cells count as
    ``max_iter``). Escaping late keeps the zoom on the set's edge rather than on the smooth exterior or inside a
    bounded region; the difference to a neighbour finds the filaments. Ties keep the cells' order (a stable
    sort), so the pick is reproducible."""
    out = np.empty(COARSE_PICK, dtype=np.int64)
    found = _boundary_cells(np.ascontiguousarray(nu, dtype=np.float64), float(max_iter), out)
    return out[:found]


@njit
def _quantile_linear(values, q):
    """``np.quantile(values, q)`` (method "linear") of a non-empty float64 vector, with numpy's operations:
    virtual index (n - 1) q, and the interpolation ``a + (b - a) t``, or ``b - (b - a) (1 - t)`` for t >= 0.5.
    The two order statistics come from a partition, not a sort (the same numbers, for less work)."""
    n = values.size
    virtual = (n - 1) * q
    if virtual >= n - 1:
        return values.max()
    below = int(math.floor(virtual))
    part = np.partition(values, below)
    a, b = part[below], part[below + 1:].min()
    t = virtual - below
    diff = b - a
    if t >= 0.5:
        return b - diff * (1.0 - t)
    return a + diff * t


@njit
def _boundary_cells(nu, max_iter, out):
    """:func:`boundary_cells` into ``out`` (COARSE_PICK long); returns how many cells it found."""
    h, w = nu.shape
    late = np.empty(h * w)
    count = 0
    for r in range(h):
        for k in range(w):
            if nu[r, k] >= 0.0:
                late[count] = nu[r, k]
                count += 1
    if count == 0:
        return 0
    q = _quantile_linear(late[:count], 0.75)
    top = np.empty(out.size)  # the scores of out[:found], descending; equal scores keep the cells' order
    found = 0
    for r in range(h):
        for k in range(w):
            x = nu[r, k]
            if x < 0.0 or x < q:
                continue
            best = 0.0
            if k > 0:
                best = max(best, abs(x - _value(nu[r, k - 1], max_iter)))
            if k < w - 1:
                best = max(best, abs(_value(nu[r, k + 1], max_iter) - x))
            if r > 0:
                best = max(best, abs(x - _value(nu[r - 1, k], max_iter)))
            if r < h - 1:
                best = max(best, abs(_value(nu[r + 1, k], max_iter) - x))
            if best <= 0.0 or (found == out.size and best <= top[found - 1]):
                continue
            at = min(found, out.size - 1)  # insert after every score >= best
            while at > 0 and top[at - 1] < best:
                if at < out.size:
                    top[at], out[at] = top[at - 1], out[at - 1]
                at -= 1
            top[at], out[at] = best, r * w + k
            found = min(found + 1, out.size)
    return found


@njit
def _value(x, max_iter):
    """A coarse cell's value for the boundary score: its smooth count, or ``max_iter`` if bounded."""
    return x if x >= 0.0 else max_iter


# ---------------------------------------------------------------------------------------------------------------
# the sampler kernels: every number of a draw comes from its stream ``st``, in the order written here

#: The recipe settings as the kernels take them: offsets into one float64 vector.
(S_SIZE, S_COLOR, S_DEGREE_LO, S_DEGREE_HI, S_MAX_ITER, S_PER_DECADE, S_DEPTH_LO, S_DEPTH_HI, S_ZOOM_LO, S_ZOOM_HI,
 S_MIN_SPAN, S_ROTATE, S_TRAP_OFFSET, S_RADIUS_LO, S_RADIUS_HI, S_DENSITY_LO, S_DENSITY_HI, S_SUPERSAMPLE, S_FLIP,
 S_JITTER, S_BAND_LO, S_BAND_HI, S_SPAN, S_LEN) = range(24)
#: Most palette stops a sampled gradient has (the vectors of a batch have room for them).
MAX_STOPS = 6


@njit
def iterations(max_iter, per_decade, zoom):
    """max_iter at a zoom factor ``zoom`` from the start window: ``per_decade`` more per factor 10."""
    return int(max_iter + per_decade * math.log10(max(zoom, 1.0)))


@njit
def _boundary_constant(st, degree, jitter):
    """c on the main component of z^d + c (for d = 2, on the period-2 disk with probability 1/3), moved
    radially from the component's centre by a factor in [1 - jitter, 1 + jitter]."""
    t = rand_between(st, 0.0, 2.0 * math.pi)
    scale = 1.0 + rand_between(st, -jitter, jitter)
    if degree == 2 and rand(st) < 1.0 / 3.0:
        return -1.0 + scale * 0.25 * math.cos(t), scale * 0.25 * math.sin(t)
    radius = degree ** (-1.0 / (degree - 1))
    z = complex(radius * math.cos(t), radius * math.sin(t))
    zd = z
    for _ in range(degree - 1):
        zd = zd * z
    c = scale * (z - zd)
    return c.real, c.imag


@njit
def _band_constant(st, formula, degree, low, high):
    """(found, c): the first of up to BAND_BATCH * BAND_TRIES uniform draws in [-2, 2]^2 whose smooth escape
    count lies in [low, high] (drawn and iterated two at a time)."""
    ints, floats = orbit_settings(formula, degree, int(high) + 1, BAILOUT, *NO_TRAP)
    for _ in range(BAND_BATCH * BAND_TRIES // 2):
        ar, ai = rand_between(st, -2.0, 2.0), rand_between(st, -2.0, 2.0)
        br, bi = rand_between(st, -2.0, 2.0), rand_between(st, -2.0, 2.0)
        a, b = E._orbit_pair(0.0, 0.0, ar, ai, 0.0, 0.0, br, bi, ints, floats)
        if low <= a[0] <= high:
            return True, ar, ai
        if low <= b[0] <= high:
            return True, br, bi
    return False, 0.0, 0.0


@njit
def _julia_constant(st, s, c_methods, formula, degree):
    """A Julia constant near the boundary of the Mandelbrot-style set of the formula (see the module docstring)."""
    method = c_methods[rand_below(st, c_methods.shape[0])]
    if method == 1 or formula != 0:
        found, cr, ci = _band_constant(st, formula, degree, s[S_BAND_LO], s[S_BAND_HI])
        if found:
            return cr, ci
    return _boundary_constant(st, degree, s[S_JITTER])


@njit
def probe_side(size):
    """Side of the zoom search's probe grid for images of ``size`` pixels: COARSE, but never more than a fifth
    of the image side (at least 8): at 36 px a 16 x 16 probe per zoom step cost a third of the image's own
    escape-time grid, for a precision of the window the small image cannot show."""
    return min(COARSE, max(8, size // 5))


@njit
def _zoom_search(st, s, v):
    """Zoom the window of ``v`` toward the boundary for a random number of steps; sets its centre, span,
    max_iter and the steps taken."""
    julia = v[E.V_JULIA] != 0.0
    formula, degree = int(v[E.V_FORMULA]), int(v[E.V_DEGREE])
    start = span = v[E.V_SPAN]
    cx, cy = v[E.V_CX], v[E.V_CY]
    lo, hi = int(s[S_DEPTH_LO]), int(s[S_DEPTH_HI])
    steps = lo + rand_below(st, hi - lo + 1)
    coarse = probe_side(int(s[S_SIZE]))
    nu = np.empty((coarse, coarse))
    trap = np.empty((coarse, coarse))
    cells = np.empty(COARSE_PICK, dtype=np.int64)
    taken = 0
    for _ in range(steps):
        factor = rand_between(st, s[S_ZOOM_LO], s[S_ZOOM_HI])
        if span / factor < s[S_MIN_SPAN]:
            break
        max_iter = iterations(s[S_MAX_ITER], s[S_PER_DECADE], start / span)
        ints, floats = orbit_settings(formula, degree, max_iter, BAILOUT, *NO_TRAP)
        E._escape_serial(julia, v[E.V_CR], v[E.V_CI], view_of(cx, cy, span, 0.0, coarse), ints, floats, nu, trap)
        found = _boundary_cells(nu, float(max_iter), cells)
        if found == 0:
            break
        cell = cells[rand_below(st, found)]
        r, k = cell // coarse, cell % coarse
        step = span / coarse
        cx, cy = cx + (k + 0.5 - 0.5 * coarse) * step, cy + (0.5 * coarse - r - 0.5) * step
        span /= factor
        taken += 1
    v[E.V_CX], v[E.V_CY], v[E.V_SPAN] = cx, cy, span
    v[E.V_MAX_ITER] = iterations(s[S_MAX_ITER], s[S_PER_DECADE], start / span)
    v[E.V_DEPTH] = taken


@njit
def _palette(st, palettes, v):
    """A random cosine palette (a, b, c, d as 3-vectors) or a gradient through 3-6 random colours, one of them
    bright (all-dark gradients made dim, murky images)."""
    at = E.V_PALETTE
    if palettes[rand_below(st, palettes.shape[0])] == 0:
        v[E.V_PALETTE_KIND], v[E.V_STOPS] = 0.0, 4.0
        for i in range(3):
            v[at + i] = rand_between(st, 0.3, 0.7)  # a
        for i in range(3):
            v[at + 3 + i] = rand_between(st, 0.25, 0.5)  # b
        for i in range(3):
            v[at + 6 + i] = rand_between(st, 0.5, 1.5)  # c
        for i in range(3):
            v[at + 9 + i] = rand(st)  # d
        return
    n = 3 + rand_below(st, 4)
    v[E.V_PALETTE_KIND], v[E.V_STOPS] = 1.0, n
    for j in range(n):
        v[at + 3 * j], v[at + 3 * j + 1], v[at + 3 * j + 2] = C.random_color(st, 0.3, 1.0, 0.1, 1.0)
    j = rand_below(st, n)  # one bright stop
    v[at + 3 * j], v[at + 3 * j + 1], v[at + 3 * j + 2] = C.random_color(st, 0.3, 1.0, 0.85, 1.0)


@njit
def _sample(julia, st, s, formulas, traps, stats, colorings, palettes, transfers, backgrounds, c_methods, v):
    """Every parameter of one draw into the vector ``v`` (see :mod:`.escape` for its layout)."""
    v[:] = 0.0
    v[E.V_JULIA] = 1.0 if julia else 0.0
    v[E.V_SIZE], v[E.V_COLOR], v[E.V_SUPERSAMPLE] = s[S_SIZE], s[S_COLOR], s[S_SUPERSAMPLE]
    v[E.V_BAILOUT] = BAILOUT
    formula = formulas[rand_below(st, formulas.shape[0])]
    lo, hi = int(s[S_DEGREE_LO]), int(s[S_DEGREE_HI])
    degree = lo + rand_below(st, hi - lo + 1)
    v[E.V_FORMULA], v[E.V_DEGREE] = formula, degree
    if julia:
        v[E.V_CR], v[E.V_CI] = _julia_constant(st, s, c_methods, formula, degree)
        v[E.V_SPAN] = s[S_SPAN]
    elif degree != 2:  # multibrots start at the origin
        v[E.V_SPAN] = 3.0
    elif formula == 0:
        v[E.V_CX], v[E.V_SPAN] = -0.6, 3.0
    elif formula == 1:  # Burning Ship
        v[E.V_CX], v[E.V_CY], v[E.V_SPAN] = -0.4, -0.5, 3.6
    else:  # Tricorn
        v[E.V_CX], v[E.V_SPAN] = -0.3, 3.6
    _zoom_search(st, s, v)
    v[E.V_ANGLE] = rand_between(st, 0.0, 2.0 * math.pi) if s[S_ROTATE] != 0.0 else 0.0
    # the trap: shape, statistic, centre uniform in a disk, radius and angle
    v[E.V_TRAP_SHAPE] = traps[rand_below(st, traps.shape[0])]
    v[E.V_TRAP_STAT] = stats[rand_below(st, stats.shape[0])]
    rho = s[S_TRAP_OFFSET] * math.sqrt(rand(st))
    phi = rand_between(st, 0.0, 2.0 * math.pi)
    v[E.V_TRAP_X], v[E.V_TRAP_Y] = rho * math.cos(phi), rho * math.sin(phi)
    v[E.V_TRAP_RADIUS] = rand_between(st, s[S_RADIUS_LO], s[S_RADIUS_HI])
    v[E.V_TRAP_ANGLE] = rand_between(st, 0.0, math.pi)
    v[E.V_COLORING] = colorings[rand_below(st, colorings.shape[0])]
    _palette(st, palettes, v)
    v[E.V_TRANSFER] = transfers[rand_below(st, transfers.shape[0])]
    v[E.V_DENSITY] = rand_between(st, s[S_DENSITY_LO], s[S_DENSITY_HI])
    v[E.V_OFFSET] = rand(st)
    C.sample_background(st, backgrounds, s[S_COLOR] != 0.0, v[E.V_BG:E.V_PALETTE])
    v[E.V_FLIP] = rand_below(st, 8) if s[S_FLIP] != 0.0 else 0


@njit
def sample_into(julia, seed, index, draw, s, formulas, traps, stats, colorings, palettes, transfers, backgrounds,
                c_methods, v):
    """Draw ``draw`` of image ``index``: its parameters into ``v``, from the stream of (seed, index, draw,
    STREAM_PARAMS) only."""
    st = np.empty(2, dtype=np.uint64)
    stream_of(seed, index, draw, STREAM_PARAMS, st)
    _sample(julia, st, s, formulas, traps, stats, colorings, palettes, transfers, backgrounds, c_methods, v)


@njit
def _draw_batch(julia, seed, indices, max_draws, s, formulas, traps, stats, colorings, palettes, transfers,
                backgrounds, c_methods, gate, images, vectors, draws, status, gate_stats):
    """Images ``indices`` in one call: for each, draws 0, 1, ... until one passes the gate (its image goes to
    ``images[k]``, ``draws[k]`` = draws taken) or ``max_draws`` fail (``draws[k]`` = 0, ``status[k]`` the last
    gate code). ``vectors[k]`` holds the last draw's parameters. One image at a time, serially: images never
    share state, so a batch gives each image what a batch of one gives it."""
    grid = images.shape[1] * int(s[S_SUPERSAMPLE])
    nu = np.empty((grid, grid))
    trap = np.empty((grid, grid))
    for k in range(indices.shape[0]):
        for d in range(max_draws):
            sample_into(julia, seed, indices[k], d, s, formulas, traps, stats, colorings, palettes, transfers,
                        backgrounds, c_methods, vectors[k])
            E.escape_into(vectors[k], nu, trap)
            status[k] = E.look_into(vectors[k], nu, trap, gate, True, gate_stats[k], images[k])
            if status[k] == 0:
                draws[k] = d + 1
                break


@lru_cache(maxsize=32)
def kernel_settings(cfg: EscapeConfig, size: int, color: bool) -> tuple:
    """A recipe section as :func:`sample_into` takes it: the settings vector and the choice codes."""
    julia = isinstance(cfg, JuliaConfig)
    s = np.zeros(S_LEN)
    s[S_SIZE], s[S_COLOR] = size, color
    s[S_DEGREE_LO], s[S_DEGREE_HI] = cfg.degree
    s[S_MAX_ITER], s[S_PER_DECADE] = cfg.max_iter, cfg.iter_per_decade
    s[S_DEPTH_LO], s[S_DEPTH_HI] = cfg.depth
    s[S_ZOOM_LO], s[S_ZOOM_HI] = cfg.zoom
    s[S_MIN_SPAN], s[S_ROTATE], s[S_TRAP_OFFSET] = cfg.min_span, cfg.rotate, cfg.trap_offset
    s[S_RADIUS_LO], s[S_RADIUS_HI] = cfg.trap_radius
    s[S_DENSITY_LO], s[S_DENSITY_HI] = cfg.density
    s[S_SUPERSAMPLE], s[S_FLIP] = cfg.supersample, cfg.flip
    if julia:
        s[S_JITTER], s[S_SPAN] = cfg.jitter, cfg.span
        s[S_BAND_LO], s[S_BAND_HI] = cfg.c_band
    codes = (choice_codes(cfg.formula, FORMULAS), choice_codes(cfg.trap, TRAPS), choice_codes(cfg.trap_stat, STATS),
             choice_codes(cfg.coloring, COLORINGS), choice_codes(cfg.palette, PALETTES),
             choice_codes(cfg.transfer, TRANSFERS), choice_codes(cfg.background, C.BACKGROUNDS),
             choice_codes(cfg.c_method if julia else ("boundary",), C_METHODS))
    for a in (s, *codes):
        a.setflags(write=False)
    return julia, s, codes


def sample(cfg: EscapeConfig, size: int, color: bool, seed: int, index: int, draw: int = 0) -> dict:
    """The parameters of draw ``draw`` of image ``index`` (before the gate): for tests and inspection."""
    julia, s, codes = kernel_settings(cfg, size, color)
    v = np.zeros(E.vector_length(MAX_STOPS))
    sample_into(julia, seed, index, draw, s, *codes, v)
    return {"family": "julia" if julia else "mandelbrot", **E.decode(v)}


def _draw(cfg: EscapeConfig, size: int, color: bool, seed: int, indices: np.ndarray, max_draws: int,
          with_params: bool) -> Drawn:
    """The family's ``draw`` (see :class:`.families.Family`): one kernel call for the whole batch."""
    julia, s, codes = kernel_settings(cfg, size, color)
    n = len(indices)
    images = np.empty((n, size, size, 3 if color else 1), dtype=np.uint8)
    vectors = np.zeros((n, E.vector_length(MAX_STOPS)))
    draws = np.zeros(n, dtype=np.int64)
    status = np.zeros(n, dtype=np.int64)
    stats = np.zeros((n, 3))
    _draw_batch(julia, seed, np.ascontiguousarray(indices, dtype=np.int64), max_draws, s, *codes,
                cfg.gate.array(), images, vectors, draws, status, stats)
    reasons = {int(k): cfg.gate.reason(status[k], stats[k]) for k in np.flatnonzero(draws == 0)}
    params = [E.decode(vectors[k]) for k in range(n)] if with_params else None
    return Drawn(images, draws, params, reasons)


draw_julia = draw_mandelbrot = _draw
