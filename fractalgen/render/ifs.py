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
from functools import lru_cache

import numpy as np

from .._jit import njit, njit_inline
from .._random import rand, rand_below, rand_between, rand_key, splitmix64, stream_of, uniform
from ..errors import RecipeError
from ..schema import Bool, Choices, Float, Int, Range, section, setting
from . import color as C
from . import params as P
from ..seeding import STREAM_PARAMS
from .batch import Drawn, choice_codes

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
# sampling (inside numba: one image's parameters cost a few hundred nanoseconds, not a numpy call per number)

#: Most maps a sampled system has (the recipe's ``maps`` range stops at 16).
MAX_MAPS = 16
#: Most stops of a sampled palette.
MAX_STOPS = 5
#: The float64 vector that holds one image's sampled parameters in the kernels (offsets of its fields).
(V_N, V_ALPHA, V_POINTS, V_KEY, V_MARGIN, V_ZOOM, V_SHIFT, V_TONE, V_GAMMA, V_SS, V_COLORING, V_STOPS, V_HUE,
 V_FLIP, V_INVERT) = (0, 1, 2, 3, 4, 5, 6, 8, 9, 10, 11, 12, 13, 16, 17)
V_MAPS = 18
V_PROBS = V_MAPS + 6 * MAX_MAPS
V_SIGMA = V_PROBS + MAX_MAPS
V_MAP_COLORS = V_SIGMA + 2 * MAX_MAPS
V_PALETTE = V_MAP_COLORS + MAX_MAPS
V_BG = V_PALETTE + 3 * MAX_STOPS
V_LEN = V_BG + C.BG_LEN
#: The recipe settings the kernels read, as a float64 vector (offsets).
(K_MAPS_LO, K_MAPS_HI, K_ALPHA_LO, K_ALPHA_HI, K_PROB_FLOOR, K_POINTS, K_SS, K_MARGIN, K_ZOOM_LO, K_ZOOM_HI,
 K_SHIFT, K_GAMMA_LO, K_GAMMA_HI, K_FLIP, K_INVERT, K_FILL_LO, K_FILL_HI, K_CONTRAST, K_LEN) = range(19)
#: Gate outcomes of the render kernel.
PASSED, TOO_SPARSE, TOO_DENSE, TOO_FLAT = 0, 1, 2, 3


@lru_cache(maxsize=32)
def settings_vector(cfg: IfsConfig, size: int) -> tuple[np.ndarray, np.ndarray, np.ndarray, np.ndarray]:
    """A recipe's ``[ifs]`` section as the kernels take it: the settings vector and the codes of the tones,
    colourings and backgrounds to draw from (cached per section and size, read-only: a batch of one pays for
    them once)."""
    grid = size * cfg.supersample
    k = np.zeros(K_LEN)
    k[K_MAPS_LO], k[K_MAPS_HI] = cfg.maps
    k[K_ALPHA_LO], k[K_ALPHA_HI] = cfg.alpha_band
    k[K_PROB_FLOOR] = cfg.prob_floor
    k[K_POINTS] = max(1, round(cfg.points * grid * grid / REFERENCE_AREA))
    k[K_SS], k[K_MARGIN] = cfg.supersample, cfg.margin
    k[K_ZOOM_LO], k[K_ZOOM_HI] = cfg.zoom
    k[K_SHIFT] = cfg.shift
    k[K_GAMMA_LO], k[K_GAMMA_HI] = cfg.gamma
    k[K_FLIP], k[K_INVERT] = cfg.flip, cfg.invert
    k[K_FILL_LO], k[K_FILL_HI] = cfg.gate.fill
    k[K_CONTRAST] = cfg.gate.min_contrast
    out = (k, choice_codes(cfg.tone, C.TONES), choice_codes(cfg.coloring, COLORINGS),
           choice_codes(cfg.background, C.BACKGROUNDS))
    for a in out:
        a.setflags(write=False)
    return out


@njit
def _sample(st, k, tones, colorings, backgrounds, color, v):
    """Draw every parameter of one image from the stream ``st`` into the vector ``v`` (offsets ``V_*``).

    The system by the sigma-factor method (Anderson & Farrell 2022): N maps; alpha uniform in its band; the
    contributions ``c_i = s_i1 + 2 s_i2`` one map at a time inside the interval that keeps the rest feasible
    (``[max(0, B - 3 r), min(3, B)]`` with budget B left and r maps to go), the last map taking the remainder,
    shuffled (Fisher-Yates); each ``c`` split as ``s2 ~ U(max(0, (c - 1) / 2), c / 3)``, ``s1 = c - 2 s2``
    (exactly the set 1 >= s1 >= s2 >= 0: every map is contractive); ``A = U diag(s1, s2) V^T`` with U and V
    rotations by uniform angles whose columns are flipped by random signs; translations uniform in [-1, 1];
    probabilities from |det A| = s1 s2 with a floor (Kataoka et al. 2020). Then the chain key, the frame, the
    tone, the colouring, the background, the flip and the inversion."""
    v[:] = 0.0
    n = int(k[K_MAPS_LO]) + rand_below(st, int(k[K_MAPS_HI]) - int(k[K_MAPS_LO]) + 1)
    v[V_N] = n
    alpha = rand_between(st, (k[K_ALPHA_LO] + n) / 2.0, (k[K_ALPHA_HI] + n) / 2.0)
    v[V_ALPHA] = alpha
    contrib = np.empty(n)
    budget = alpha
    for i in range(n - 1):
        rest = n - 1 - i
        c = rand_between(st, max(0.0, budget - 3.0 * rest), min(3.0, budget))
        contrib[i] = c
        budget -= c
    contrib[n - 1] = min(max(budget, 0.0), 3.0)
    for i in range(n - 1, 0, -1):
        j = rand_below(st, i + 1)
        contrib[i], contrib[j] = contrib[j], contrib[i]
    det_total = 0.0
    for i in range(n):
        c = contrib[i]
        s2 = rand_between(st, max(0.0, (c - 1.0) / 2.0), c / 3.0)
        s1 = c - 2.0 * s2
        v[V_SIGMA + 2 * i], v[V_SIGMA + 2 * i + 1] = s1, s2
        t1 = rand_between(st, -math.pi, math.pi)
        t2 = rand_between(st, -math.pi, math.pi)
        signs = rand_below(st, 16)
        ux, uy = 1.0 - 2.0 * (signs & 1), 1.0 - 2.0 * ((signs >> 1) & 1)
        vx, vy = 1.0 - 2.0 * ((signs >> 2) & 1), 1.0 - 2.0 * ((signs >> 3) & 1)
        c1, n1, c2, n2 = math.cos(t1), math.sin(t1), math.cos(t2), math.sin(t2)
        u00, u01, u10, u11 = c1 * ux, -n1 * uy, n1 * ux, c1 * uy  # U: rotation, columns times the signs
        w00, w01, w10, w11 = c2 * vx, -n2 * vy, n2 * vx, c2 * vy  # V likewise; A = U diag(s1, s2) V^T
        m = V_MAPS + 6 * i
        v[m] = u00 * s1 * w00 + u01 * s2 * w01
        v[m + 1] = u00 * s1 * w10 + u01 * s2 * w11
        v[m + 2] = u10 * s1 * w00 + u11 * s2 * w01
        v[m + 3] = u10 * s1 * w10 + u11 * s2 * w11
        v[m + 4] = rand_between(st, -1.0, 1.0)
        v[m + 5] = rand_between(st, -1.0, 1.0)
        det_total += s1 * s2
    total = 0.0
    for i in range(n):
        p = v[V_SIGMA + 2 * i] * v[V_SIGMA + 2 * i + 1] / det_total if det_total > 0.0 else 1.0 / n
        v[V_PROBS + i] = max(p, k[K_PROB_FLOOR])
        total += v[V_PROBS + i]
    for i in range(n):
        v[V_PROBS + i] /= total
    v[V_POINTS], v[V_SS], v[V_MARGIN] = k[K_POINTS], k[K_SS], k[K_MARGIN]
    v[V_KEY] = rand_key(st)
    v[V_ZOOM] = rand_between(st, k[K_ZOOM_LO], k[K_ZOOM_HI])
    v[V_SHIFT] = rand_between(st, -k[K_SHIFT], k[K_SHIFT])
    v[V_SHIFT + 1] = rand_between(st, -k[K_SHIFT], k[K_SHIFT])
    v[V_TONE] = tones[rand_below(st, tones.shape[0])]
    v[V_GAMMA] = rand_between(st, k[K_GAMMA_LO], k[K_GAMMA_HI])
    if color:
        coloring = colorings[rand_below(st, colorings.shape[0])]
        v[V_COLORING] = coloring
        if coloring == 0:  # by map: a palette of 2-5 stops and a colour coordinate per map
            stops = 2 + rand_below(st, MAX_STOPS - 1)
            v[V_STOPS] = stops
            for j in range(stops):
                r, g, b = C.random_color(st, 0.4, 1.0, 0.6, 1.0)
                v[V_PALETTE + 3 * j], v[V_PALETTE + 3 * j + 1], v[V_PALETTE + 3 * j + 2] = r, g, b
            for i in range(n):
                v[V_MAP_COLORS + i] = rand(st)
        else:  # hue from density: hue shift, saturation, value
            v[V_HUE] = rand(st)
            v[V_HUE + 1] = rand_between(st, 0.3, 1.0)
            v[V_HUE + 2] = rand_between(st, 0.5, 1.0)
    C.sample_background(st, backgrounds, color, v[V_BG:V_BG + C.BG_LEN])
    v[V_FLIP] = rand_below(st, 8) if k[K_FLIP] != 0.0 else 0
    v[V_INVERT] = rand(st) < k[K_INVERT]


def params_of(v: np.ndarray, size: int, color: bool) -> dict:
    """The JSON parameters of a sampled vector (what a params file and a store hold)."""
    n = int(v[V_N])
    p = {"family": "ifs", "size": size, "color": color,
         "maps": v[V_MAPS:V_MAPS + 6 * n].reshape(n, 6).tolist(), "probs": v[V_PROBS:V_PROBS + n].tolist(),
         "alpha": float(v[V_ALPHA]), "sigma": v[V_SIGMA:V_SIGMA + 2 * n].reshape(n, 2).tolist(),
         "points": int(v[V_POINTS]), "supersample": int(v[V_SS]), "key": int(v[V_KEY]),
         "margin": float(v[V_MARGIN]), "zoom": float(v[V_ZOOM]), "shift": v[V_SHIFT:V_SHIFT + 2].tolist(),
         "tone": C.TONES[int(v[V_TONE])], "gamma": float(v[V_GAMMA])}
    if color:
        p["coloring"] = COLORINGS[int(v[V_COLORING])]
        if p["coloring"] == "map":
            stops = int(v[V_STOPS])
            p["palette"] = v[V_PALETTE:V_PALETTE + 3 * stops].reshape(stops, 3).tolist()
            p["map_colors"] = v[V_MAP_COLORS:V_MAP_COLORS + n].tolist()
        else:
            p["hue"] = v[V_HUE:V_HUE + 3].tolist()
    p["background"] = C.background_dict(v[V_BG:V_BG + C.BG_LEN])
    p["flip"] = int(v[V_FLIP])
    p["invert"] = bool(v[V_INVERT])
    return p


def sample_ifs(cfg: IfsConfig, size: int, color: bool, seed: int, index: int, draw: int = 0) -> dict:
    """The parameters of draw ``draw`` of image ``index`` (before the gate; for inspection and tests)."""
    v = np.empty(V_LEN)
    _sample_one(np.uint64(seed), np.uint64(index), np.uint64(draw), *settings_vector(cfg, size), color, v)
    return params_of(v, size, color)


@njit
def _sample_one(seed, index, draw, k, tones, colorings, backgrounds, color, v):
    """Draw ``draw`` of image ``index`` into ``v``, from the stream of (seed, index, draw, STREAM_PARAMS) only."""
    st = np.empty(2, dtype=np.uint64)
    stream_of(seed, index, draw, STREAM_PARAMS, st)
    _sample(st, k, tones, colorings, backgrounds, color, v)


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
def _chaos_bounds(coef, cum, x, y, key, n, path_x=None, path_y=None, path_j=None):
    """Bounding box (x_min, x_max, y_min, y_max) of the first ``n`` points of the chain from (x, y). With the
    ``path_*`` arrays given, each point and the map that made it are also kept there (see :func:`_density`)."""
    state = np.uint64(key)
    x_min, x_max, y_min, y_max = x, x, y, y
    for i in range(n):
        state, z = splitmix64(state)
        j = _pick(cum, z)
        x, y = coef[j, 0] * x + coef[j, 1] * y + coef[j, 4], coef[j, 2] * x + coef[j, 3] * y + coef[j, 5]
        if path_x is not None:
            path_x[i], path_y[i], path_j[i] = x, y, j
        x_min, x_max = min(x_min, x), max(x_max, x)
        y_min, y_max = min(y_min, y), max(y_max, y)
    return x_min, x_max, y_min, y_max


@njit
def _chaos_game(coef, cum, map_color, x, y, key, n, x_lo, y_lo, scale, counts, color_sum, path_x=None, path_y=None,
                path_j=None):
    """Run ``n`` chaos-game steps from (x, y), adding each point that falls in the frame to ``counts``.

    With ``color_sum`` (and ``map_color``) given, it also accumulates the running-average colour coordinate
    ``c <- (c + map_color[j]) / 2`` of every hit (fractal-flame colouring). Pass ``None`` for both to count hits
    only: numba compiles that case separately with the colour branches removed, so counting costs exactly what a
    bare loop costs (benchmarks/bench_ifs.py). With the ``path_*`` arrays of :func:`_chaos_bounds` given, the
    steps are read from them instead of being run again (the same points, so the same counts, bit for bit).
    """
    h, w = counts.shape
    state = np.uint64(key)
    c = 0.5
    for i in range(n):
        if path_x is None:
            state, z = splitmix64(state)
            j = _pick(cum, z)
            x, y = coef[j, 0] * x + coef[j, 1] * y + coef[j, 4], coef[j, 2] * x + coef[j, 3] * y + coef[j, 5]
        else:
            x, y, j = path_x[i], path_y[i], path_j[i]
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
    if factor == 1:  # the common case, without the block loops (2x faster)
        for r in range(out.shape[0]):
            for k in range(out.shape[1]):
                n = counts[r, k]
                out[r, k] = color_sum[r, k] / np.float32(n) if n > 0 else np.float32(0.0)
        return
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
def _frame(coef, cum, key, n, margin, zoom, shift_x, shift_y, grid, path_x=None, path_y=None, path_j=None):
    """:func:`frame` in one kernel call: (x_lo, y_lo, pixels per unit); the ``path_*`` arrays as
    :func:`_chaos_bounds` takes them."""
    x0, y0 = _fixed_point(coef)
    x_min, x_max, y_min, y_max = _chaos_bounds(coef, cum, x0, y0, key, n, path_x, path_y, path_j)
    span = max(x_max - x_min, y_max - y_min, 1e-9) * (1.0 + 2.0 * margin) / zoom
    cx = 0.5 * (x_min + x_max) + shift_x * span
    cy = 0.5 * (y_min + y_max) + shift_y * span
    return cx - 0.5 * span, cy - 0.5 * span, grid / span


@njit
def _density(coef, cum, map_color, key, points, prepass, margin, zoom, shift_x, shift_y, counts, color_sum):
    """Frame the attractor and run the chaos game (:func:`density`) in one kernel call: at 32 px a numba call's
    fixed cost is a sizeable part of the chaos game itself. When the framing pass covers the whole chain
    (``points <= prepass``: images up to about 50 px), it keeps the points and the chaos game bins them without
    running the chain a second time (36 px: 26 to 15 us per image)."""
    grid = counts.shape[0]
    x0, y0 = _fixed_point(coef)
    if points <= prepass:
        path_x, path_y = np.empty(points), np.empty(points)
        path_j = np.empty(points, dtype=np.uint8)  # (at most MAX_MAPS maps)
        x_lo, y_lo, scale = _frame(coef, cum, key, points, margin, zoom, shift_x, shift_y, grid, path_x, path_y,
                                   path_j)
        _chaos_game(coef, cum, map_color, x0, y0, key, points, x_lo, y_lo, scale, counts, color_sum, path_x, path_y,
                    path_j)
        return
    x_lo, y_lo, scale = _frame(coef, cum, key, prepass, margin, zoom, shift_x, shift_y, grid)
    _chaos_game(coef, cum, map_color, x0, y0, key, points, x_lo, y_lo, scale, counts, color_sum)


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
    return coef, _cumulative(np.asarray(params["probs"], dtype=np.float64))


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
    p("key", P.integer(0, P.KEY_MAX))
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


@njit
def _nonzero(values, lit):
    """(largest value, n): ``lit[:n]`` = the flat (row-major) indices of the pixels of ``values`` that are not
    0 (the hit pixels of a count grid, the lit ones of a tone-mapped image), in one pass. Branch free: every
    index is written, and n moves on only for a pixel that is not 0."""
    flat = values.reshape(-1)
    top = flat[0]
    n = 0
    for p in range(flat.shape[0]):
        x = flat[p]
        top = max(top, x)
        lit[n] = p
        n += x != 0
    return top, n


@njit
def _tone_hits(counts, lit, n, top, tone, gamma, value):
    """The tone map of the hit pixels ``lit[:n]`` (from :func:`_nonzero`) into ``value`` (zero elsewhere): ``log``
    (:func:`.color.tone_map`'s ``(log(1 + c) / log(1 + max c)) ** (1 / gamma)``, worked out once per count value
    that occurs, as the image meets it: a 256 px image's top count runs to the thousands, most of them absent) or
    ``equalize`` (:func:`.color.equalize_counts`: the fraction of hit pixels with a count at most c)."""
    if n == 0:
        return
    counts_flat = counts.reshape(-1)
    flat = value.reshape(-1)
    if tone == 0:
        table = np.full(top + 1, np.float32(-1.0))  # -1: not worked out yet
        inv_log = 1.0 / math.log1p(top)
        for i in range(n):
            c = counts_flat[lit[i]]
            if table[c] < 0.0:
                table[c] = C.log_tone(c, inv_log, gamma)
            flat[lit[i]] = table[c]
        return
    hist = np.zeros(top + 1, dtype=np.int64)
    for i in range(n):
        hist[counts_flat[lit[i]]] += 1
    cdf = np.zeros(top + 1, dtype=np.float32)
    run = 0
    for c in range(1, top + 1):
        run += hist[c]
        cdf[c] = run / n
    for i in range(n):
        flat[lit[i]] = cdf[counts_flat[lit[i]]]


@njit
def _lit_stats(value, lit, n):
    """(pixels not 0, sum, sum of squares in float64) of a tone-mapped density (values >= 0) whose other
    pixels than ``lit[:n]`` are 0, in row-major order: the sums over every pixel, bit for bit (adding 0 changes
    nothing), without the float64 additions of the bare pixels (a serial chain of adds; most of an IFS image is
    bare)."""
    flat = value.reshape(-1)
    lit_count = 0
    total = 0.0
    squares = 0.0
    for i in range(n):
        x = np.float64(flat[lit[i]])
        lit_count += x != 0.0
        total += x
        squares += x * x
    return lit_count, total, squares


@njit
def _cumulative(probs):
    """Cumulative probabilities of the maps, normalised by their sum, the last exactly 1 (what the kernels'
    map pick reads; the same for a render and for :func:`density`)."""
    n = probs.shape[0]
    cum = np.empty(n)
    run = 0.0
    for i in range(n):
        run += probs[i]
        cum[i] = run
    for i in range(n):
        cum[i] /= run
    cum[n - 1] = 1.0
    return cum


@njit
def _render(coef, probs, map_color, palette, bg, v, size, color, gate, k, out):
    """Render one image into ``out`` (size, size, channels) uint8 from its system (``coef`` (N, 6), ``probs``,
    ``map_color``), palette, background vector ``bg`` and the scalars of the parameter vector ``v``. With
    ``gate`` the tone-mapped density is checked against the settings vector ``k`` first; returns PASSED or the
    gate's reason (the pixels are then unfinished)."""
    ss = int(v[V_SS])
    grid = size * ss
    cum = _cumulative(probs)
    by_map = color and v[V_COLORING] == 0
    counts = np.zeros((grid, grid), dtype=np.uint32)
    points = int(v[V_POINTS])
    prepass = min(points, PREPASS_POINTS)
    key = np.uint64(v[V_KEY])
    if by_map:
        color_sum = np.zeros((grid, grid), dtype=np.float32)
        _density(coef, cum, map_color, key, points, prepass, v[V_MARGIN], v[V_ZOOM], v[V_SHIFT], v[V_SHIFT + 1],
                 counts, color_sum)
    else:
        color_sum = np.zeros((1, 1), dtype=np.float32)
        _density(coef, cum, None, key, points, prepass, v[V_MARGIN], v[V_ZOOM], v[V_SHIFT], v[V_SHIFT + 1],
                 counts, None)
    pixels = size * size
    lit = np.empty(grid * grid, dtype=np.int64)
    top, n_lit = _nonzero(counts, lit)
    if gate and n_lit / pixels < k[K_FILL_LO]:
        return TOO_SPARSE  # a lit output pixel needs a hit, so the fill below can only be lower: no tone needed
    value = np.zeros((grid, grid), dtype=np.float32)
    _tone_hits(counts, lit, n_lit, top, int(v[V_TONE]), v[V_GAMMA], value)
    if ss > 1:
        small = np.empty((size, size), dtype=np.float32)
        C._box_down2(value, small)
        value = small
        n_lit = _nonzero(value, lit)[1]
    if gate:  # the lit fraction in its band, and the standard deviation (float64, one pass) above the floor
        lit_count, total, squares = _lit_stats(value, lit, n_lit)
        fill = lit_count / pixels
        if fill < k[K_FILL_LO]:
            return TOO_SPARSE
        if fill > k[K_FILL_HI]:
            return TOO_DENSE
        mean = total / pixels
        if math.sqrt(max(squares / pixels - mean * mean, 0.0)) < k[K_CONTRAST]:
            return TOO_FLAT
    nch = out.shape[2]
    if by_map:
        t = np.empty((size, size), dtype=np.float32)
        _mean_color(counts, color_sum, ss, t)
        lut = np.empty((256, 3), dtype=np.float32)
        C.gradient_lut_into(palette, lut)
    elif color:
        t = value
        lut = np.empty((256, 3), dtype=np.float32)
        C._hue_lut(v[V_HUE], v[V_HUE + 1], v[V_HUE + 2], lut)
    else:
        t = value
        lut = np.ones((1, 1), dtype=np.float32)
    field = np.empty((size, size), dtype=np.float32)
    colors = np.empty((2, nch), dtype=np.float32)
    C.background_into(bg, field, colors)
    C.shade_lit_into(value, t, lut, field, colors, int(v[V_FLIP]), lit, n_lit, out)
    if v[V_INVERT] != 0.0:
        for r in range(size):
            for c in range(size):
                for ch in range(nch):
                    out[r, c, ch] = 255 - out[r, c, ch]
    return PASSED


@njit
def _render_vector(v, size, color, gate, k, out):
    """:func:`_render` of a sampled parameter vector."""
    n = int(v[V_N])
    stops = max(int(v[V_STOPS]), 1)
    return _render(v[V_MAPS:V_MAPS + 6 * n].reshape((n, 6)), v[V_PROBS:V_PROBS + n],
                   v[V_MAP_COLORS:V_MAP_COLORS + n], v[V_PALETTE:V_PALETTE + 3 * stops].reshape((stops, 3)),
                   v[V_BG:V_BG + C.BG_LEN], v, size, color, gate, k, out)


@njit
def _draw_batch(seed, indices, max_draws, k, tones, colorings, backgrounds, size, color, images, vectors, draws,
                status):
    """Images ``indices`` of a set: for each, draws 0, 1, ... from the streams of (seed, index, draw) until one
    passes the gate (``draws`` = draws taken, 0 if none of ``max_draws`` did; ``status`` = the last gate
    outcome); ``vectors`` receives the passing draw's parameters."""
    for j in range(indices.shape[0]):
        v = vectors[j]
        draws[j] = 0
        for d in range(max_draws):
            _sample_one(np.uint64(seed), np.uint64(indices[j]), np.uint64(d), k, tones, colorings, backgrounds, color,
                        v)
            status[j] = _render_vector(v, size, color, True, k, images[j])
            if status[j] == PASSED:
                draws[j] = d + 1
                break


#: The gate's reasons in words, by outcome of the render kernel.
REASONS = {TOO_SPARSE: "fill below the band", TOO_DENSE: "fill above the band", TOO_FLAT: "contrast too low"}


def draw_ifs(cfg: IfsConfig, size: int, color: bool, seed: int, indices: np.ndarray, max_draws: int,
             with_params: bool) -> Drawn:
    """Images ``indices`` of an IFS set in one kernel call (see :class:`.families.Family`)."""
    n = len(indices)
    images = np.empty((n, size, size, 3 if color else 1), dtype=np.uint8)
    vectors = np.empty((n, V_LEN))
    draws = np.empty(n, dtype=np.int64)
    status = np.empty(n, dtype=np.int64)
    _draw_batch(seed, np.asarray(indices, dtype=np.int64), max_draws, *settings_vector(cfg, size), size, color,
                images, vectors, draws, status)
    reasons = {j: f"{REASONS[int(status[j])]} ({_band(cfg)})" for j in np.flatnonzero(draws == 0).tolist()}
    params = [params_of(vectors[j], size, color) for j in range(n)] if with_params else None
    return Drawn(images, draws, params, reasons)


def _band(cfg: IfsConfig) -> str:
    return f"fill band {list(cfg.gate.fill)}, min_contrast {cfg.gate.min_contrast}"


def render_ifs(params: dict) -> np.ndarray:
    """Re-render an IFS image, (size, size, 3) or (size, size, 1) uint8, from its parameters (the same kernel as
    :func:`draw_ifs`, without the gate: byte for byte the image drawn)."""
    size, color = params["size"], params["color"]
    coef, probs = np.ascontiguousarray(params["maps"], dtype=np.float64), np.asarray(params["probs"], dtype=float)
    n = len(coef)
    v = np.zeros(V_LEN)
    v[V_POINTS], v[V_SS], v[V_KEY], v[V_MARGIN] = params["points"], params["supersample"], params["key"], params["margin"]
    v[V_ZOOM], v[V_SHIFT:V_SHIFT + 2] = params["zoom"], params["shift"]
    v[V_TONE], v[V_GAMMA] = C.TONES.index(params["tone"]), params["gamma"]
    palette = np.zeros((1, 3))
    map_color = np.zeros(n)
    if color:
        v[V_COLORING] = COLORINGS.index(params["coloring"])
        if params["coloring"] == "map":
            palette = np.asarray(params["palette"], dtype=np.float64).reshape(-1, 3)
            map_color = np.asarray(params.get("map_colors", map_color), dtype=np.float64)
        else:
            v[V_HUE:V_HUE + 3] = params["hue"]
    v[V_FLIP], v[V_INVERT] = params["flip"], params["invert"]
    out = np.empty((size, size, 3 if color else 1), dtype=np.uint8)
    _render(coef, probs, map_color, palette, C.background_vector(params["background"]), v, size,
            color, False, np.zeros(K_LEN), out)
    return out
