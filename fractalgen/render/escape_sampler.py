"""Recipe settings and seeded parameter samplers of the escape-time families (``julia``, ``mandelbrot``): the
sampler side of the escape-time renderer. It imports :mod:`.escape` (the kernels, the gate and its settings, the
renderer), never the other way round.

Sources: the IPMix paper's Appendix E (Wu et al., NeurIPS 2023, arXiv:2310.04780) for the choice of orbit-trap
Mandelbrot and Julia fractals; the rest is escape-time practice, written here from the formulas.

Julia constants c lie near the boundary of the Mandelbrot set, where Julia sets are richest, by one of two
methods: ``boundary`` puts c on the boundary of the main component, c = z - z^d with z = d^(-1 / (d - 1)) e^(it)
(the c whose fixed point z has a multiplier d z^(d - 1) of modulus 1; the cardioid for d = 2), or for d = 2 on the
period-2 disk c = -1 + e^(it) / 4, then moves it radially from the component's centre by a random few percent; ``band`` draws c uniformly in a box and keeps the first c
whose own escape count lies in a middle band (the boundary's neighbourhood for any formula; Burning Ship and
Tricorn always use it). Windows are found by a seeded zoom toward the boundary: render a coarse grid, pick one of
the late-escaping cells whose smooth count differs most from a neighbour's (see :func:`boundary_cells`), zoom
onto it by a random factor, repeat a random number of times, raising ``max_iter`` by a fixed amount per decade of zoom
and never going below ``min_span``. The view is then turned by a random angle.

``max_iter`` dominates the cost (every bounded pixel runs to it), so the defaults are low: 64 for Julia sets and
96 for Mandelbrot windows at the start window, plus 32 / 48 per decade of zoom. Histogram equalisation makes the
palette independent of ``max_iter``; on contact sheets 64 and 160 give the same pictures, at about half the cost.
"""

from __future__ import annotations

import dataclasses
import math

import numpy as np

from .._jit import njit
from ..errors import RecipeError
from ..schema import Bool, Choices, Float, Int, Range, pick, section, setting
from . import color as C
from .escape import BAILOUT, NO_TRAP, EscapeGate, escape_grid, escape_points, render_escape
from .batch import one_by_one
from .escape_names import COLORINGS, FORMULAS, STATS, TRANSFERS, TRAPS

#: The families drawn by this module (their recipe sections share :class:`EscapeConfig`'s keys).
ESCAPE_FAMILIES = ("julia", "mandelbrot")
PALETTES = ("cosine", "gradient")
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
# helpers


def boundary_constant(rng: np.random.Generator, degree: int, jitter: float) -> list[float]:
    """c on the main cardioid of z^d + c (or, for d = 2, on the period-2 disk with probability 1/3), moved
    radially from the component's centre by a factor in [1 - jitter, 1 + jitter]."""
    t = rng.uniform(0.0, 2.0 * math.pi)
    scale = 1.0 + rng.uniform(-jitter, jitter)
    if degree == 2 and rng.random() < 1.0 / 3.0:
        return [-1.0 + scale * 0.25 * math.cos(t), scale * 0.25 * math.sin(t)]
    z = degree ** (-1.0 / (degree - 1)) * complex(math.cos(t), math.sin(t))
    c = scale * (z - z**degree)
    return [c.real, c.imag]


def band_constant(rng: np.random.Generator, formula: str, degree: int, band: tuple) -> list[float] | None:
    """The first of up to BAND_BATCH * BAND_TRIES uniform draws in [-2, 2]^2 whose smooth escape count lies in
    ``band``; None if none does."""
    for _ in range(BAND_TRIES):
        points = rng.uniform(-2.0, 2.0, size=(BAND_BATCH, 2))
        nu = escape_points(points, formula, degree, int(band[1]) + 1)
        hits = np.flatnonzero((nu >= band[0]) & (nu <= band[1]))
        if hits.size:
            return points[hits[0]].tolist()
    return None


def julia_constant(rng: np.random.Generator, cfg: JuliaConfig, formula: str, degree: int) -> list[float]:
    """A Julia constant near the boundary of the Mandelbrot-style set of the formula (see the module docstring)."""
    method = pick(rng, cfg.c_method)
    if method == "band" or formula != "power":
        c = band_constant(rng, formula, degree, cfg.c_band)
        if c is not None:
            return c
    return boundary_constant(rng, degree, cfg.jitter)


def iterations(cfg: EscapeConfig, zoom: float) -> int:
    """max_iter at a zoom factor ``zoom`` from the start window."""
    return int(cfg.max_iter + cfg.iter_per_decade * math.log10(max(zoom, 1.0)))


def boundary_cells(nu: np.ndarray, max_iter: int) -> np.ndarray:
    """Flat indices of up to COARSE_PICK cells of a coarse grid near the set's boundary: among the escaping cells
    that escape late (smooth count in the top quarter of the escaping cells', at or above their
    ``np.quantile(.., 0.75)``), those whose count differs most from a 4-neighbour's (bounded cells count as
    ``max_iter``). Escaping late keeps the zoom on the set's edge rather than on the smooth exterior or inside a
    bounded region; the difference to a neighbour finds the filaments. Ties keep the cells' order (a stable
    sort), so the pick is reproducible. One kernel call (the numpy version cost more than the coarse grid)."""
    out = np.empty(COARSE_PICK, dtype=np.int64)
    found = _boundary_cells(np.ascontiguousarray(nu, dtype=np.float64), float(max_iter), out)
    return out[:found]


@njit
def _quantile_linear(values, q):
    """``np.quantile(values, q)`` (method "linear") of a non-empty float64 vector, with numpy's operations:
    virtual index (n - 1) q, and the interpolation ``a + (b - a) t``, or ``b - (b - a) (1 - t)`` for t >= 0.5."""
    ordered = np.sort(values)
    n = ordered.size
    virtual = (n - 1) * q
    if virtual >= n - 1:
        return ordered[n - 1]
    below = int(math.floor(virtual))
    a, b = ordered[below], ordered[below + 1]
    t = virtual - below
    diff = b - a
    if t >= 0.5:
        return b - diff * (1.0 - t)
    return a + diff * t


@njit
def _boundary_cells(nu, max_iter, out):
    """:func:`boundary_cells` into ``out`` (COARSE_PICK long); returns how many cells it found."""
    h, w = nu.shape
    v = np.empty((h, w))
    count = 0
    for r in range(h):
        for k in range(w):
            if nu[r, k] >= 0.0:
                v[r, k] = nu[r, k]
                count += 1
            else:
                v[r, k] = max_iter
    if count == 0:
        return 0
    late = np.empty(count)
    i = 0
    for r in range(h):
        for k in range(w):
            if nu[r, k] >= 0.0:
                late[i] = v[r, k]
                i += 1
    q = _quantile_linear(late, 0.75)
    score = np.zeros(h * w)
    for r in range(h):
        for k in range(w):
            if nu[r, k] < 0.0 or v[r, k] < q:
                continue
            best = 0.0
            if k > 0:
                best = max(best, abs(v[r, k] - v[r, k - 1]))
            if k < w - 1:
                best = max(best, abs(v[r, k + 1] - v[r, k]))
            if r > 0:
                best = max(best, abs(v[r, k] - v[r - 1, k]))
            if r < h - 1:
                best = max(best, abs(v[r + 1, k] - v[r, k]))
            score[r * w + k] = best
    found = 0
    for _ in range(out.size):  # the largest scores, the first cell among equals (a stable descending order)
        top, at = 0.0, -1
        for j in range(h * w):
            if score[j] > top:
                top, at = score[j], j
        if at < 0:
            break
        out[found] = at
        score[at] = 0.0
        found += 1
    return found


def zoom_search(rng: np.random.Generator, cfg: EscapeConfig, p: dict) -> dict:
    """Zoom the window of ``p`` (image parameters with family, formula, degree, bailout, c, center, span) toward
    the boundary for a random number of steps; returns center, span, max_iter and the steps taken."""
    probe = {**p, "angle": 0.0, "trap": NO_TRAP}
    start, center, span = p["span"], list(p["center"]), p["span"]
    steps = int(rng.integers(cfg.depth[0], cfg.depth[1] + 1))
    taken = 0
    for _ in range(steps):
        factor = rng.uniform(*cfg.zoom)
        if span / factor < cfg.min_span:
            break
        max_iter = iterations(cfg, start / span)
        nu, _ = escape_grid({**probe, "center": center, "span": span, "max_iter": max_iter}, COARSE,
                            parallel=False)
        cells = boundary_cells(nu, max_iter)
        if cells.size == 0:
            break
        r, k = divmod(int(cells[rng.integers(cells.size)]), COARSE)
        step = span / COARSE
        center = [center[0] + (k + 0.5 - 0.5 * COARSE) * step, center[1] + (0.5 * COARSE - r - 0.5) * step]
        span /= factor
        taken += 1
    return {"center": center, "span": span, "max_iter": iterations(cfg, start / span), "depth": taken}


def sample_trap(rng: np.random.Generator, cfg: EscapeConfig) -> dict:
    """Trap shape, statistic, centre (uniform in a disk), radius and angle."""
    shape = pick(rng, cfg.trap)
    stat = pick(rng, cfg.trap_stat)
    rho = cfg.trap_offset * math.sqrt(rng.random())
    phi = rng.uniform(0.0, 2.0 * math.pi)
    return {"shape": shape, "stat": stat, "center": [rho * math.cos(phi), rho * math.sin(phi)],
            "radius": float(rng.uniform(*cfg.trap_radius)), "angle": float(rng.uniform(0.0, math.pi))}


def sample_palette(rng: np.random.Generator, kinds: tuple) -> dict:
    """A random cosine palette (a, b, c, d as 3-vectors) or a gradient through 3-6 random colours, one of them
    bright (all-dark gradients made dim, murky images)."""
    kind = pick(rng, kinds)
    if kind == "cosine":
        # four uniform triples (a, b, c in their bands, d in [0, 1)): twelve doubles, drawn in one call and
        # mapped as rng.uniform maps them (low + (high - low) u), so the same numbers as four calls
        u = rng.random(12).tolist()
        bands = ((0.3, 0.7), (0.25, 0.5), (0.5, 1.5))
        abcd = [[lo + (hi - lo) * x for x in u[3 * i:3 * i + 3]] for i, (lo, hi) in enumerate(bands)]
        return {"kind": "cosine", "abcd": abcd + [u[9:]]}
    st = _stream(rng)  # interim, until the escape families draw in kernels
    stops = [list(_color(st, 0.3, 1.0, 0.1, 1.0)) for _ in range(int(rng.integers(3, 7)))]
    stops[int(rng.integers(len(stops)))] = list(_color(st, 0.3, 1.0, 0.85, 1.0))  # one bright stop
    return {"kind": "gradient", "stops": stops}


def _view_and_look(rng: np.random.Generator, cfg: EscapeConfig, p: dict, color: bool) -> dict:
    """Add the view (zoom search and angle), trap and colouring parameters shared by both families."""
    p.update(zoom_search(rng, cfg, p))
    p["angle"] = float(rng.uniform(0.0, 2.0 * math.pi)) if cfg.rotate else 0.0
    p["trap"] = sample_trap(rng, cfg)
    p["coloring"] = pick(rng, cfg.coloring)
    p["palette"] = sample_palette(rng, cfg.palette)
    p["transfer"] = pick(rng, cfg.transfer)
    p["density"] = float(rng.uniform(*cfg.density))
    p["offset"] = float(rng.random())
    bg = np.zeros(C.BG_LEN)
    C.sample_background(_stream(rng), C.background_codes(cfg.background), color, bg)
    p["background"] = C.background_dict(bg)
    p["supersample"] = cfg.supersample
    p["flip"] = int(rng.integers(8)) if cfg.flip else 0
    return p


def _start(rng: np.random.Generator, cfg: EscapeConfig, family: str, size: int, color: bool) -> dict:
    formula = pick(rng, cfg.formula)
    degree = int(rng.integers(cfg.degree[0], cfg.degree[1] + 1))
    return {"family": family, "size": size, "color": color, "formula": formula, "degree": degree,
            "bailout": BAILOUT}


# ---------------------------------------------------------------------------------------------------------------
# samplers


def sample_julia(rng: np.random.Generator, cfg: JuliaConfig, size: int, color: bool) -> dict:
    """Every parameter of one Julia image (JSON data); :func:`.escape.render_escape` turns it into pixels."""
    p = _start(rng, cfg, "julia", size, color)
    p["c"] = julia_constant(rng, cfg, p["formula"], p["degree"])
    p.update(center=[0.0, 0.0], span=cfg.span)
    return _view_and_look(rng, cfg, p, color)


def sample_mandelbrot(rng: np.random.Generator, cfg: MandelbrotConfig, size: int, color: bool) -> dict:
    """Every parameter of one Mandelbrot-style image (z0 = 0, c = pixel), window found by the zoom search."""
    p = _start(rng, cfg, "mandelbrot", size, color)
    center, span = MANDELBROT_START[p["formula"]] if p["degree"] == 2 else ((0.0, 0.0), 3.0)
    p.update(center=list(center), span=span)
    return _view_and_look(rng, cfg, p, color)


draw_julia = one_by_one(sample_julia, render_escape)
draw_mandelbrot = one_by_one(sample_mandelbrot, render_escape)


def _stream(rng):
    """Interim: a kernel stream seeded from a numpy generator."""
    return np.array([rng.integers(2**63), 2 * rng.integers(2**62) + 1], dtype=np.uint64)


@njit
def _color(st, s_lo, s_hi, v_lo, v_hi):
    return C.random_color(st, s_lo, s_hi, v_lo, v_hi)
