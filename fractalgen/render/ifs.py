"""Iterated function system (IFS) fractals: sigma-factor sampling and a fused chaos-game renderer.

Papers:
- Anderson & Farrell, "Improving Fractal Pre-training", WACV 2022 (arXiv:2110.03091): the SVD / sigma-factor
  parametrisation of random affine systems and its band alpha ~ U((5 + N) / 2, (6 + N) / 2).
- Kataoka et al., "Pre-training without Natural Images" (FractalDB), ACCV 2020: map probabilities from |det A|.
- Draves & Reckase, "The Fractal Flame Algorithm", 2003: log-density tone mapping and the running-average
  colour coordinate.

What we do differently from the released code: every random draw is seeded from (recipe seed, image index,
draw); the kernel accumulates hits straight into the density grid (no array of points); the chain's random
numbers come from an in-kernel splitmix64 stream keyed by a stored integer, so an image re-renders from its
parameters byte for byte and the map choices can be replayed by a slow reference (:func:`map_choices`).

Sampling the singular values: the contributions ``c_i = s_i1 + 2 s_i2`` (each in [0, 3]) are drawn one map at a
time, uniformly inside the interval that keeps the rest feasible (``c_i`` in ``[max(0, B - 3 r), min(3, B)]``
with budget ``B`` left and ``r`` maps to go), the last map takes the remainder, and the order is shuffled so no
map position is favoured. Each ``c`` is split as ``s_2 ~ U(max(0, (c - 1) / 2), c / 3)``, ``s_1 = c - 2 s_2``,
which is exactly the set ``1 >= s_1 >= s_2 >= 0``: every map is contractive by construction.
"""

from __future__ import annotations

import dataclasses
import math

import numpy as np

from .._jit import njit, njit_inline
from .._random import splitmix64, uniform
from ..errors import RecipeError
from ..schema import Bool, Choices, Float, Int, Range, pick, section, setting
from . import color as C
from . import params as P
from .batch import one_by_one
from .quality import contrast, fill_fraction, require_band, require_min

COLORINGS = ("map", "hue")
#: Points of the framing pre-pass (the first points of the same chain).
PREPASS_POINTS = 4096
#: Points at the reference size of 256 x 256; the count scales with the rendered area.
REFERENCE_AREA = 256 * 256


@dataclasses.dataclass(frozen=True)
class IfsGate:
    fill: tuple = setting(Range((0.05, 0.6), 0.0, 1.0), "band of the fraction of pixels lit")
    min_contrast: float = setting(Float(0.08, 0.0, 0.5), "minimum std of the tone-mapped density")


@dataclasses.dataclass(frozen=True)
class IfsConfig:
    maps: tuple = setting(Range((2, 4), 2, 16, integer=True), "number of maps N, uniform on [low, high]")
    alpha_band: tuple = setting(
        Range((5.0, 6.0), -16.0, 80.0),
        "sigma factor alpha = sum(s1 + 2 s2) ~ U((low + N) / 2, (high + N) / 2); larger fills more of the frame")
    prob_floor: float = setting(Float(0.02, 0.0, 0.5), "least probability of a map before renormalising")
    points: int = setting(Int(100_000, 1_000, 100_000_000), "chaos-game points at 256 x 256, scaled by area")
    supersample: int = setting(Int(1, 1, 2), "render at this factor and box-filter down (2 removes aliasing)")
    margin: float = setting(Float(0.05, 0.0, 1.0), "blank margin around the attractor, fraction of its extent")
    zoom: tuple = setting(Range((1.0, 1.0), 0.25, 8.0), "random zoom of the frame (1 = fit the attractor)")
    shift: float = setting(Float(0.0, 0.0, 1.0), "random shift of the frame centre, fraction of the frame")
    tone: tuple = setting(Choices(("log",), C.TONES), "tone mapping of hit counts")
    gamma: tuple = setting(Range((2.0, 2.0), 0.2, 10.0), "log tone: value = log-density ** (1 / gamma)")
    coloring: tuple = setting(Choices(COLORINGS, COLORINGS),
                              "colour by map (running-average colour coordinate) or hue from density")
    background: tuple = setting(Choices(C.BACKGROUNDS, C.BACKGROUNDS), "background kinds")
    flip: bool = setting(Bool(True), "apply a random one of the 8 flips / quarter turns")
    invert: float = setting(Float(0.0, 0.0, 1.0), "probability of inverting the finished image")
    gate: IfsGate = section(IfsGate, "quality gate")

    def check(self, where: str) -> None:
        low, high = self.alpha_band
        n_min = self.maps[0]
        if (high + n_min) / 2 > 3 * n_min or (low + n_min) / 2 < 0:
            raise RecipeError(
                f"recipe key '{where}.alpha_band' = {list(self.alpha_band)} cannot be met with {n_min} maps "
                f"(alpha must lie in [0, {3 * n_min}]); use a band inside [{-n_min}, {5 * n_min}]")


# ---------------------------------------------------------------------------------------------------------------
# sampling


def _between(low: float, high: float, u: float) -> float:
    """``rng.uniform(low, high)`` given the ``rng.random()`` it draws: numpy computes exactly ``low + (high - low)
    * u``, so several uniform draws can be taken as one ``rng.random(k)`` call (the same doubles in the same
    order) and mapped here, in Python floats, at a fraction of the cost of a numpy call per number."""
    return low + (high - low) * u


def _sum(values: list[float]) -> float:
    """``np.sum`` of a short float64 vector, bit for bit: below 8 entries numpy adds them left to right."""
    if len(values) >= 8:
        return float(np.sum(values))
    total = 0.0
    for v in values:
        total += v
    return total


def _singular_values(rng: np.random.Generator, alpha: float, n: int, draws: list[float] | None = None,
                     more: int = 0) -> tuple[list[list[float]], list[float]]:
    """:func:`sample_singular_values` as nested lists (what the sampler stores), and ``more`` uniform numbers
    drawn right after the split ones in the same call (what the sampler draws next). ``draws``: the n - 1
    uniform numbers of the contributions, if the caller drew them already (with the numbers before them)."""
    if not 0.0 <= alpha <= 3.0 * n:
        raise ValueError(f"alpha {alpha} is not reachable with {n} maps")
    if draws is None:
        draws = rng.random(n - 1).tolist()
    contrib = []
    budget = alpha
    for i in range(n - 1):
        rest = n - 1 - i
        c = _between(max(0.0, budget - 3.0 * rest), min(3.0, budget), draws[i])
        contrib.append(c)
        budget -= c
    contrib.append(min(max(budget, 0.0), 3.0))
    contrib = [contrib[j] for j in rng.permutation(n).tolist()]
    split = rng.random(n + more).tolist()
    sigma = []
    for c, u in zip(contrib, split):
        s2 = _between(max(0.0, (c - 1.0) / 2.0), c / 3.0, u)
        sigma.append([c - 2.0 * s2, s2])
    return sigma, split[n:]


def sample_singular_values(rng: np.random.Generator, alpha: float, n: int) -> np.ndarray:
    """(n, 2) singular values with 1 >= s1 >= s2 >= 0 and sum(s1 + 2 s2) == alpha (see the module docstring)."""
    return np.array(_singular_values(rng, alpha, n)[0], dtype=np.float64).reshape(n, 2)


def sample_system(rng: np.random.Generator, cfg: IfsConfig) -> dict:
    """Draw an IFS by the sigma-factor method: maps as rows (a, b, c, d, e, f) meaning
    x' = a x + b y + e, y' = c x + d y + f; probabilities from |det A| with a floor.

    Written for speed at small sizes (where this costs more than the chaos game): scalar arithmetic in Python
    floats, runs of uniform draws taken as one ``rng.random(k)`` each (see :func:`_between`); the random
    numbers, their order and every rounding are those of the plain numpy version (tests/golden pins them)."""
    n = int(rng.integers(cfg.maps[0], cfg.maps[1] + 1))
    u = rng.random(n).tolist()  # alpha, then the n - 1 contributions of the singular values
    alpha = _between((cfg.alpha_band[0] + n) / 2.0, (cfg.alpha_band[1] + n) / 2.0, u[0])
    sigma, theta = _singular_values(rng, alpha, n, u[1:], more=2 * n)  # the angles follow the split
    signs = rng.integers(0, 2, size=4 * n).tolist()
    # A = U diag(sigma) V^T with U, V rotations whose columns are flipped by the signs (+-1: exact products),
    # for all maps in one batched matmul of (n, 2, 2) operands laid out as numpy's version laid them out: the
    # product's rounding is numpy's and BLAS's to choose (this CPU's OpenBLAS rounds a b + c d as one fused
    # multiply-add), so it is left to them. Cosines with math, not np.cos (which may round differently).
    turns = []
    for i in range(2 * n):
        angle = _between(-np.pi, np.pi, theta[i])
        c, s = math.cos(angle), math.sin(angle)
        sx, sy = signs[2 * i] * 2.0 - 1.0, signs[2 * i + 1] * 2.0 - 1.0
        turns += (c * sx, -s * sy, s * sx, c * sy)
    turns = np.array(turns).reshape(n, 2, 2, 2)
    scale = np.array([v for s1, s2 in sigma for v in (s1, 0.0, 0.0, s2)]).reshape(n, 2, 2)
    linear = (turns[:, 0] @ scale @ turns[:, 1].transpose(0, 2, 1)).reshape(n, 4).tolist()
    shift = rng.random(2 * n).tolist()
    maps = [row + [_between(-1.0, 1.0, shift[2 * i]), _between(-1.0, 1.0, shift[2 * i + 1])]
            for i, row in enumerate(linear)]
    det = [abs(s1 * s2) for s1, s2 in sigma]
    total = _sum(det)
    probs = [d / total for d in det] if total > 0 else [1.0 / n] * n
    probs = [max(p, cfg.prob_floor) for p in probs]
    total = _sum(probs)
    probs = [p / total for p in probs]
    return {"maps": maps, "probs": probs, "alpha": alpha, "sigma": sigma}


def sample_ifs(rng: np.random.Generator, cfg: IfsConfig, size: int, color: bool) -> dict:
    """Every parameter of one IFS image (JSON data); :func:`render_ifs` turns it into pixels."""
    p = {"family": "ifs", "size": size, "color": color}
    p.update(sample_system(rng, cfg))
    grid = size * cfg.supersample
    p["points"] = max(1, round(cfg.points * grid * grid / REFERENCE_AREA))
    p["supersample"] = cfg.supersample
    p["key"] = int(rng.integers(2**53))
    p["margin"] = cfg.margin
    one_tone = len(cfg.tone) == 1  # then picking the tone draws nothing, and gamma's number follows the shift's
    u = rng.random(4 if one_tone else 3).tolist()
    p["zoom"] = _between(cfg.zoom[0], cfg.zoom[1], u[0])
    p["shift"] = [_between(-cfg.shift, cfg.shift, u[1]), _between(-cfg.shift, cfg.shift, u[2])]
    p["tone"] = pick(rng, cfg.tone)
    p["gamma"] = _between(cfg.gamma[0], cfg.gamma[1], u[3] if one_tone else rng.random())
    if color:
        p["coloring"] = pick(rng, cfg.coloring)
        if p["coloring"] == "map":
            n_stops = int(rng.integers(2, 6))
            n = len(p["maps"])
            u = rng.random(3 * n_stops + n).tolist()
            p["palette"] = [C.color_from(u[3 * k:3 * k + 3], (0.4, 1.0), (0.6, 1.0)) for k in range(n_stops)]
            p["map_colors"] = u[3 * n_stops:]
        else:
            u = rng.random(3).tolist()
            p["hue"] = [u[0], _between(0.3, 1.0, u[1]), _between(0.5, 1.0, u[2])]
    p["background"] = C.sample_background(rng, cfg.background, color)
    p["flip"] = int(rng.integers(8)) if cfg.flip else 0
    p["invert"] = bool(rng.random() < cfg.invert)
    return p


# ---------------------------------------------------------------------------------------------------------------
# kernels


@njit_inline
def _pick(cum, z):
    """Index of the map chosen by the 64-bit random ``z`` from cumulative probabilities ``cum``.

    Counts the thresholds below ``u`` instead of searching: a search branches on a random outcome and
    mispredicts; the count is branch-free and made the chaos game 1.3-1.6x faster (benchmarks/bench_ifs.py).
    """
    u = uniform(z)
    j = 0
    for i in range(cum.shape[0] - 1):
        j += u >= cum[i]
    return j


@njit
def _choices(cum, key, n):
    out = np.empty(n, dtype=np.int64)
    state = np.uint64(key)
    for i in range(n):
        state, z = splitmix64(state)
        out[i] = _pick(cum, z)
    return out


@njit
def _chaos_bounds(coef, cum, x, y, key, n):
    """Bounding box (x_min, x_max, y_min, y_max) of the first ``n`` points of the chain from (x, y)."""
    state = np.uint64(key)
    x_min, x_max, y_min, y_max = x, x, y, y
    for _ in range(n):
        state, z = splitmix64(state)
        j = _pick(cum, z)
        x, y = coef[j, 0] * x + coef[j, 1] * y + coef[j, 4], coef[j, 2] * x + coef[j, 3] * y + coef[j, 5]
        x_min, x_max = min(x_min, x), max(x_max, x)
        y_min, y_max = min(y_min, y), max(y_max, y)
    return x_min, x_max, y_min, y_max


@njit
def _chaos_game(coef, cum, map_color, x, y, key, n, x_lo, y_lo, scale, counts, color_sum):
    """Run ``n`` chaos-game steps from (x, y), adding each point that falls in the frame to ``counts``.

    With ``color_sum`` (and ``map_color``) given, it also accumulates the running-average colour coordinate
    ``c <- (c + map_color[j]) / 2`` of every hit (fractal-flame colouring). Pass ``None`` for both to count hits
    only: numba compiles that case separately with the colour branches removed, so counting costs exactly what a
    bare loop costs (benchmarks/bench_ifs.py).
    """
    h, w = counts.shape
    state = np.uint64(key)
    c = 0.5
    for _ in range(n):
        state, z = splitmix64(state)
        j = _pick(cum, z)
        x, y = coef[j, 0] * x + coef[j, 1] * y + coef[j, 4], coef[j, 2] * x + coef[j, 3] * y + coef[j, 5]
        fc = (x - x_lo) * scale
        fr = (y - y_lo) * scale
        if color_sum is not None:
            c = 0.5 * (c + map_color[j])
        if 0.0 <= fc < w and 0.0 <= fr < h:
            counts[int(fr), int(fc)] += 1
            if color_sum is not None:
                color_sum[int(fr), int(fc)] += c


@njit
def _mean_color(counts, color_sum, factor, out):
    """Mean colour coordinate per output pixel, pooling ``factor`` x ``factor`` blocks of the grid."""
    for r in range(out.shape[0]):
        for k in range(out.shape[1]):
            n = 0
            s = 0.0
            for dr in range(factor):
                for dk in range(factor):
                    n += counts[r * factor + dr, k * factor + dk]
                    s += color_sum[r * factor + dr, k * factor + dk]
            out[r, k] = s / n if n > 0 else 0.0


@njit
def _fixed_point(coef):
    """:func:`fixed_point` of map 0, inside a kernel (the same operations, so the same bits)."""
    a, b, c, d, e, f = coef[0, 0], coef[0, 1], coef[0, 2], coef[0, 3], coef[0, 4], coef[0, 5]
    det = (1.0 - a) * (1.0 - d) - b * c
    if abs(det) < 1e-12:
        return e, f
    return ((1.0 - d) * e + b * f) / det, (c * e + (1.0 - a) * f) / det


@njit
def _frame(coef, cum, key, n, margin, zoom, shift_x, shift_y, grid):
    """:func:`frame` in one kernel call: (x_lo, y_lo, pixels per unit)."""
    x0, y0 = _fixed_point(coef)
    x_min, x_max, y_min, y_max = _chaos_bounds(coef, cum, x0, y0, key, n)
    span = max(x_max - x_min, y_max - y_min, 1e-9) * (1.0 + 2.0 * margin) / zoom
    cx = 0.5 * (x_min + x_max) + shift_x * span
    cy = 0.5 * (y_min + y_max) + shift_y * span
    return cx - 0.5 * span, cy - 0.5 * span, grid / span


@njit
def _density(coef, cum, map_color, key, points, prepass, margin, zoom, shift_x, shift_y, counts, color_sum):
    """Frame the attractor and run the chaos game (:func:`density`) in one kernel call: at 32 px a numba call's
    fixed cost is a sizeable part of the chaos game itself."""
    x_lo, y_lo, scale = _frame(coef, cum, key, prepass, margin, zoom, shift_x, shift_y, counts.shape[0])
    x0, y0 = _fixed_point(coef)
    _chaos_game(coef, cum, map_color, x0, y0, key, points, x_lo, y_lo, scale, counts, color_sum)


@njit
def _tone_log(counts, gamma, out):
    """``out = tone_map(counts, "log", gamma)`` (:func:`.color.tone_map`'s table, looked up in the kernel)."""
    top = 0
    for r in range(counts.shape[0]):
        for k in range(counts.shape[1]):
            top = max(top, counts[r, k])
    if top == 0:
        out[:] = 0.0
        return
    lut = C._log_lut(top, gamma)
    for r in range(counts.shape[0]):
        for k in range(counts.shape[1]):
            out[r, k] = lut[counts[r, k]]


@njit
def _gate_stats(value):
    """(pixels lit, standard deviation in float64) of the tone-mapped density, in two passes."""
    n = value.shape[0] * value.shape[1]
    lit = 0
    total = 0.0
    for r in range(value.shape[0]):
        for k in range(value.shape[1]):
            v = value[r, k]
            lit += v != 0.0
            total += v
    mean = total / n
    dev = 0.0
    for r in range(value.shape[0]):
        for k in range(value.shape[1]):
            d = value[r, k] - mean
            dev += d * d
    return lit, math.sqrt(dev / n)


# ---------------------------------------------------------------------------------------------------------------
# rendering


def fixed_point(row: np.ndarray) -> tuple[float, float]:
    """Fixed point (I - A)^-1 b of the map (a, b, c, d, e, f); it lies on the attractor, so no burn-in."""
    a, b, c, d, e, f = row
    det = (1.0 - a) * (1.0 - d) - b * c
    if abs(det) < 1e-12:  # a singular value of exactly 1: any point converges onto the attractor
        return float(e), float(f)
    return float(((1.0 - d) * e + b * f) / det), float((c * e + (1.0 - a) * f) / det)


def system_arrays(params: dict) -> tuple[np.ndarray, np.ndarray]:
    """The map coefficients (N, 6) and cumulative probabilities (N,) the kernels take."""
    coef = np.ascontiguousarray(params["maps"], dtype=np.float64)
    cum = np.cumsum(np.asarray(params["probs"], dtype=np.float64))
    cum[-1] = 1.0
    return coef, cum


def map_choices(params: dict, n: int | None = None) -> np.ndarray:
    """The map indices the renderer's chain picks, in order (for checking against a slow reference)."""
    _, cum = system_arrays(params)
    return _choices(cum, np.uint64(params["key"]), params["points"] if n is None else n)


def frame(params: dict, grid: int) -> tuple[float, float, float]:
    """(x_lo, y_lo, pixels per unit) of the square window onto the attractor: the bounding box of the chain's
    first :data:`PREPASS_POINTS` points from the fixed point of map 0, with the margin, zoom and shift."""
    coef, cum = system_arrays(params)
    return _frame(coef, cum, np.uint64(params["key"]), min(params["points"], PREPASS_POINTS), params["margin"],
                  params["zoom"], params["shift"][0], params["shift"][1], grid)


def density(params: dict, with_color: bool = False) -> tuple[np.ndarray, np.ndarray | None]:
    """Hit counts (grid, grid) uint32 and, if asked, the summed colour coordinate per grid pixel (else None)."""
    grid = params["size"] * params["supersample"]
    coef, cum = system_arrays(params)
    counts = np.zeros((grid, grid), dtype=np.uint32)
    color_sum = map_color = None
    if with_color:
        color_sum = np.zeros((grid, grid), dtype=np.float32)
        map_color = np.array(params.get("map_colors", [0.0] * len(coef)), dtype=np.float64)
    _density(coef, cum, map_color, np.uint64(params["key"]), params["points"], min(params["points"], PREPASS_POINTS),
             params["margin"], params["zoom"], params["shift"][0], params["shift"][1], counts, color_sum)
    return counts, color_sum


#: Distance from the contrast threshold inside which the gate recomputes the contrast exactly as numpy's float32
#: ``std`` does (the fast float64 value is within 1e-5 of it; this keeps every decision numpy's).
CONTRAST_SLACK = 1e-4


def check_gate(value: np.ndarray, gate: IfsGate) -> None:
    """Raise :class:`~.quality.Rejected` unless the tone-mapped density fills a fraction of the frame inside
    ``gate.fill`` and has a standard deviation of at least ``gate.min_contrast``.

    The contrast is numpy's float32 ``value.std()``; a float64 kernel decides the clear cases (every case but
    those within :data:`CONTRAST_SLACK` of the threshold) at a fraction of its cost, with the same outcome."""
    lit, std = _gate_stats(value)
    if gate.fill[0] <= lit / value.size <= gate.fill[1] and std >= gate.min_contrast + CONTRAST_SLACK:
        return
    require_band("fill", fill_fraction(value), gate.fill)
    require_min("contrast", contrast(value), gate.min_contrast)


def check_params(params: dict) -> None:
    """Raise :class:`~fractalgen.errors.ParamsError` naming the first key of ``params`` that
    :func:`render_ifs` cannot render (missing, wrong type, out of range)."""
    p = P.Reader(params)
    P.read_grid(p)
    color = p("color", P.boolean)
    maps = p("maps", P.vector(P.vector(P.real(-1e6, 1e6), 6), lo=1, hi=256))
    probs = p("probs", P.vector(P.real(0.0, 1e6), len(maps)))
    if sum(probs) <= 0:
        raise P.bad("probs", params["probs"], "sums to 0", "give at least one map a positive probability")
    p("points", P.integer(1, 10**12))
    p("key", P.integer(0, 2**64 - 1))
    p("margin", P.real(0.0, 100.0))
    p("zoom", P.real(above=0.0, hi=1e6))
    p("shift", P.vector(P.real(-1e6, 1e6), 2))
    p("tone", P.one_of(C.TONES))
    p("gamma", P.real(above=0.0, hi=1e6))
    if color:
        if p("coloring", P.one_of(COLORINGS)) == "map":
            p("palette", P.vector(P.RGB, lo=1, hi=256))
            if "map_colors" in params:
                p("map_colors", P.vector(P.real(0.0, 1.0), len(maps)))
        else:
            p("hue", P.fields(P.real(-1e6, 1e6), P.real(0.0, 1.0), P.real(0.0, 1.0)))
    P.read_background(p, C.BACKGROUNDS)
    p("flip", P.integer(0, 7))
    p("invert", P.boolean)


def render_ifs(params: dict, gate: IfsGate | None = None) -> np.ndarray:
    """Render an IFS image, (size, size, 3) or (size, size, 1) uint8, from :func:`sample_ifs`'s parameters.

    With ``gate`` the tone-mapped density is checked first and :class:`~.quality.Rejected` raised on failure.
    """
    size, ss = params["size"], params["supersample"]
    by_map = params["color"] and params["coloring"] == "map"
    counts, color_sum = density(params, with_color=by_map)
    if params["tone"] == "log":
        value = np.empty(counts.shape, dtype=np.float32)
        _tone_log(counts, params["gamma"], value)
    else:
        value = C.tone_map(counts, params["tone"], params["gamma"])
    if ss > 1:
        value = C.downsample2(value)
    if gate is not None:
        check_gate(value, gate)
    channels = 3 if params["color"] else 1
    if not params["color"]:
        t, lut = value, C.GRAY_LUT
    elif by_map:
        t = np.empty((size, size), dtype=np.float32)
        _mean_color(counts, color_sum, ss, t)
        lut = C.gradient_lut(params["palette"])
    else:
        t, lut = value, C.hue_lut(*params["hue"])
    img = C.shade(value, t, lut, C.background_field(params["background"], size, channels), params["flip"])
    if params["invert"]:
        np.subtract(255, img, out=img)
    return img


draw_ifs = one_by_one(sample_ifs, render_ifs)
