"""Mixing masks: MixUp, CutMix, FMix, GridMix, GMix and AGMix, and MiAMix's mask augmentation.

Papers:
- Zhang et al., "mixup: Beyond Empirical Risk Minimization", ICLR 2018 (arXiv:1710.09412).
- Yun et al., "CutMix: Regularization Strategy to Train Strong Classifiers with Localizable Features", ICCV 2019
  (arXiv:1905.04899).
- Harris et al., "FMix: Enhancing Mixed Sample Data Augmentation", 2020 (arXiv:2002.12047).
- Baek, Bang & Shim, "GridMix: Strong regularization through local context mapping", Pattern Recognition 109, 2021.
- Park, Yun & Chun, "A Unified Analysis of Mixed Sample Data Augmentation: A Loss Function Perspective", NeurIPS
  2022 (arXiv:2208.09913): GMix.
- Liang, Liang & Jia, "MiAMix: Enhancing Image Classification through a Multi-stage Augmented Mixed Sample Data
  Augmentation Method", 2023 (arXiv:2308.02804): AGMix and the mask augmentation (smoothing, rotation, shear).

Lambda convention: a mask M (H x W, values in [0, 1]) is the weight of the image x_i, so a mix is
``M * x_i + (1 - M) * x_t``, and every generator makes ``mean(M)`` equal to the ``lam`` it is given, up to the
border effects stated per method. Cutting methods keep x_i where M = 1.

- mixup: M = lam everywhere (exact).
- cutmix: a box of area (1 - lam) H W and the image's aspect ratio, centre uniform over the image, is 0. Box edges
  are rendered with exact pixel coverage (1-pixel anti-aliased edges), so the mean is lam exactly when the box lies
  inside the image; a box cut by the border only raises the mean (CutMix's own behaviour).
- fmix: low-pass Fourier noise (complex Gaussian spectrum scaled by 1 / max(f, 1 / max(H, W)) ** decay, decay 3),
  the round(lam H W) largest values are 1, the rest 0: mean exact to 1 / (2 H W).
- gridmix: n x n cells of side d = min(H, W) / n (n uniform on 2..6) at a random phase, each with a square hole of
  side sqrt(1 - lam) d; exact coverage edges, so the mean is lam exactly for square images.
- gmix / agmix: M = 1 - exp(-(p - c)^T S^-1 (p - c) / 2) around a uniform centre c. The blob's integral is
  2 pi sqrt(det S), so S is scaled to make it (1 - lam) H W: for GMix S = sigma^2 I with
  ``sigma^2 = (1 - lam) H W / (2 pi)``, and the mean is lam whenever the blob fits inside the image; clipping at the
  border only raises it. AGMix: ``S = sigma^2 / sqrt(1 - q^2) * R [[1, q], [q, 1]] R^T``, q ~ U(-1, 1), R a
  rotation by theta ~ U(0, pi).

What differs from the papers and reference code, and why:
- GMix's paper sets sigma = sqrt(lam) N with lam the weight of the blob's partner; for lam above ~0.16 that blob
  overflows the image and the mean no longer tracks lam. Our sigma makes the mean equal lam before clipping.
- AGMix divides sigma^2 by sqrt(1 - q^2): the paper keeps the diagonal of [[1, q], [q, 1]] at 1 "to preserve lam",
  but the blob's area shrinks by sqrt(1 - q^2) as |q| grows; the correction keeps the mean at lam for every q.
- FMix drops the spectrum coefficients whose scale is below 1e-4 of the largest (frequencies above
  10 ** (4 / decay) cycles per image; nothing is dropped at 32 px): at 224 px this draws 22x fewer normals and
  changes the field by about 0.1% of its standard deviation.
- CutMix and GridMix use exact pixel coverage instead of rounding box edges to whole pixels (exact lam).

Each method is a pair ``sample(lam, shape, rng) -> params`` (a dict of numpy arrays, one row per mask) and a
deterministic ``render(params, shape, xp) -> (n, H, W)`` on a numpy or torch backend (see ``_backend``): the
random draws are always made with numpy, so masks built on a GPU equal the numpy ones.

Mask augmentation (MiAMix section 3.2.3), for CutMix, FMix and GridMix masks only: with probability p_aug a
rotation by U(-15, 15) degrees combined with shears along x and y of U(-10, 10) degrees each (an area-preserving
map about the image centre; bilinear sampling, edges mirrored), then with probability p_smooth a box filter of
odd window 2 r + 1, r uniform on 1..max(1, round(min(H, W) / 16)) (3..5 px at 32 px, 3..29 px at 224 px),
averaging over the part of the window inside the image. Both run as numba kernels on numpy masks and as tensor
operations on torch masks; the tests hold the two to each other and to slow references.
"""

from __future__ import annotations

import math
from typing import Any, Callable, NamedTuple

import numpy as np

from .._jit import njit
from ..errors import ImageInputError, SettingsError
from ..seeding import Stream, as_rng
from .settings import probability
from ._backend import Backend, NumpyBackend, backend_for

#: Default FMix decay power (FMix's default, used by MiAMix).
FMIX_DECAY = 3.0
#: FMix keeps the spectrum coefficients whose scale is at least this fraction of the largest.
FMIX_MIN_SCALE = 1e-4
#: GridMix draws the number of cells per side uniformly from this inclusive range.
GRID_CELLS = (2, 6)
#: |q| of AGMix is kept below this so that the covariance stays invertible.
Q_LIMIT = 1.0 - 1e-6
#: Smallest Gaussian variance (pixels^2): lam = 1 gives an all-ones mask instead of 0 / 0.
MIN_VARIANCE = 1e-12

Shape = tuple[int, int]


# ---------------------------------------------------------------------------------------------------------------
# input checks, shared with miamix.py


def check_shape(shape) -> Shape:
    try:
        h, w = (int(v) for v in shape)
    except (TypeError, ValueError):
        raise ImageInputError(f"mask shape {shape!r} is not a pair of ints; pass (height, width)") from None
    if h < 1 or w < 1:
        raise ImageInputError(f"mask shape {shape!r} has an empty side; pass (height, width) with both >= 1")
    return h, w


def check_lam(lam) -> tuple[np.ndarray, bool]:
    """``lam`` as a 1-D float64 array, and whether it was a scalar."""
    arr = np.asarray(lam, dtype=np.float64)
    if arr.ndim > 1:
        raise ImageInputError(f"lam has shape {arr.shape}; pass a number or a 1-D array of numbers")
    bad = ~((arr >= 0) & (arr <= 1))
    if bad.any():
        raise ImageInputError(f"lam = {arr[bad].ravel()[0]!r} is outside [0, 1]; lam is the mean of the mask")
    return arr.reshape(-1), arr.ndim == 0


def check_probability(name: str, p) -> float:
    """A probability in [0, 1] (:func:`fractalgen.mixing.settings.probability`)."""
    return probability(name, p)


# ---------------------------------------------------------------------------------------------------------------
# shared pixel helpers


def _cover(lo, hi, size: int, xp: Backend):
    """Length of [j, j + 1) inside [lo, hi) for each pixel j < size; lo, hi (n,) -> (n, size)."""
    j = xp.arange(size)
    return xp.clip(xp.asarray(hi)[:, None] - j, 0.0, 1.0) - xp.clip(xp.asarray(lo)[:, None] - j, 0.0, 1.0)


def _periodic_cover(phase, cell, hole, size: int, xp: Backend):
    """Length of [j, j + 1) inside the holes [phase + i cell, phase + i cell + hole), i any integer."""
    edges = xp.arange(size + 1)[None, :] - xp.asarray(phase)[:, None]
    cell, hole = xp.asarray(cell)[:, None], xp.asarray(hole)[:, None]
    periods = xp.floor(edges / cell)
    covered = periods * hole + xp.minimum(edges - periods * cell, hole)  # hole length in [phase, edge)
    return xp.clip(covered[:, 1:] - covered[:, :-1], 0.0, 1.0)  # float32 differences stray ~1e-6 outside


def _holes(cover_y, cover_x):
    """Mask that is 0 where both row and column coverage are 1: (n, H) x (n, W) -> (n, H, W)."""
    return 1.0 - cover_y[:, :, None] * cover_x[:, None, :]


# ---------------------------------------------------------------------------------------------------------------
# the methods: sample (numpy, random) and render (backend, deterministic)


def _sample_mixup(lam, shape, rng):
    return {"lam": lam}


def _render_mixup(p, shape, xp):
    return xp.asarray(p["lam"])[:, None, None] + xp.zeros((1, *shape))


def _sample_cutmix(lam, shape, rng):
    n = lam.size
    return {"lam": lam, "cy": rng.uniform(0, shape[0], n), "cx": rng.uniform(0, shape[1], n)}


def _render_cutmix(p, shape, xp):
    side = np.sqrt(1.0 - p["lam"])  # box sides as fractions of the image sides: area (1 - lam) H W
    half_h, half_w = side * shape[0] / 2, side * shape[1] / 2
    return _holes(_cover(p["cy"] - half_h, p["cy"] + half_h, shape[0], xp),
                  _cover(p["cx"] - half_w, p["cx"] + half_w, shape[1], xp))


def _sample_gridmix(lam, shape, rng, cells: tuple[int, int] = GRID_CELLS):
    n = lam.size
    cell = min(shape) / rng.integers(cells[0], cells[1] + 1, n)
    return {"lam": lam, "cell": cell, "py": rng.uniform(0, 1, n) * cell, "px": rng.uniform(0, 1, n) * cell}


def _render_gridmix(p, shape, xp):
    hole = np.sqrt(1.0 - p["lam"]) * p["cell"]
    return _holes(_periodic_cover(p["py"], p["cell"], hole, shape[0], xp),
                  _periodic_cover(p["px"], p["cell"], hole, shape[1], xp))


def _fmix_scale(shape: Shape, decay: float) -> np.ndarray:
    """Scale of the spectrum coefficients FMix keeps: a block of rows (rfft2 layout: positive frequencies first,
    negative last) by the first columns."""
    h, w = shape
    floor = 1.0 / max(h, w)
    # beyond this frequency (cycles per pixel) the scale (floor / f) ** decay falls below FMIX_MIN_SCALE
    cut = floor * 10 ** min(-math.log10(FMIX_MIN_SCALE) / decay, 6.0)
    ry, rx = min(h // 2, int(cut * h)), min(w // 2, int(cut * w))
    rows = np.arange(h) if 2 * ry + 1 >= h else np.r_[0:ry + 1, h - ry:h]
    fy, fx = np.fft.fftfreq(h)[rows], np.fft.rfftfreq(w)[:rx + 1]
    freq = np.sqrt(fy[:, None] ** 2 + fx[None, :] ** 2)
    return 1.0 / np.maximum(freq, floor) ** decay


def _sample_fmix(lam, shape, rng, decay: float = FMIX_DECAY):
    scale = _fmix_scale(shape, decay)
    z = rng.standard_normal((lam.size, *scale.shape, 2), dtype=np.float32)
    return {"lam": lam, "spectrum": z.view(np.complex64)[..., 0] * scale.astype(np.float32)}


def _render_fmix(p, shape, xp):
    h, w = shape
    block = xp.asarray(p["spectrum"])
    n, ry, rx = p["spectrum"].shape
    if ry == h and rx == w // 2 + 1:
        spectrum = block
    else:  # zero-pad the low-frequency block into the full rfft2 layout (positive rows first, negative last)
        spectrum = xp.zeros((n, h, w // 2 + 1), complex_=True)
        top = (ry + 1) // 2
        spectrum[:, :top, :rx] = block[:, :top]
        spectrum[:, h - (ry - top):, :rx] = block[:, top:]
    field = xp.irfft2(spectrum, shape).reshape(n, h * w)
    # exactly the round(lam H W) largest values become 1: threshold at the k-th largest (a sort is ~5x faster
    # than the argsort a rank needs)
    ones = np.rint(p["lam"] * h * w).astype(np.int64)
    at = np.clip(h * w - ones, 0, h * w - 1)
    ordered = xp.sort(field, 1)
    threshold = xp.take_rows(ordered, xp.ints(at[:, None]))
    masks = xp.as_float(field >= threshold) * xp.asarray(ones > 0)[:, None]
    # a value equal to the threshold below it (a float32 tie: about one mask in 2000 at 224 px) would add a
    # pixel; those rows admit just enough of the tied values, in pixel order
    below = xp.take_rows(ordered, xp.ints(np.maximum(at - 1, 0)[:, None]))
    tied = np.flatnonzero(xp.host(below == threshold)[:, 0] & (at > 0) & (ones > 0))
    if tied.size:
        rows = xp.ints(tied)
        above, equal = xp.as_float(field[rows] > threshold[rows]), xp.as_float(field[rows] == threshold[rows])
        room = xp.asarray(ones[tied])[:, None] - above.sum(1)[:, None]
        masks[rows] = above + equal * xp.as_float(xp.cumsum(equal, 1) <= room)
    return masks.reshape(n, h, w)


def _sample_gmix(lam, shape, rng):
    n = lam.size
    return {"lam": lam, "cy": rng.uniform(0, shape[0], n), "cx": rng.uniform(0, shape[1], n),
            "q": np.zeros(n), "theta": np.zeros(n)}


def _sample_agmix(lam, shape, rng):
    p = _sample_gmix(lam, shape, rng)
    p["q"], p["theta"] = rng.uniform(-1.0, 1.0, lam.size), rng.uniform(0.0, np.pi, lam.size)
    return p


def _matrices(a, b, c, d) -> np.ndarray:
    """Stacked 2 x 2 matrices [[a, b], [c, d]] from arrays of equal shape (n,) -> (n, 2, 2)."""
    return np.stack([np.stack([a, b], -1), np.stack([c, d], -1)], -2)


def _rotations(theta) -> np.ndarray:
    c, s = np.cos(theta), np.sin(theta)
    return _matrices(c, -s, s, c)


def _gaussian_precision(lam, q, theta, shape: Shape) -> np.ndarray:
    """Inverse covariance S^-1 (n, 2, 2) over (x, y) of the GMix / AGMix blob with mean mask value lam."""
    q = np.clip(np.asarray(q, np.float64), -Q_LIMIT, Q_LIMIT)
    root = np.sqrt(1.0 - q * q)
    var = np.maximum((1.0 - np.asarray(lam, np.float64)) * shape[0] * shape[1] / (2 * np.pi * root), MIN_VARIANCE)
    one = np.ones_like(q)
    shape_inv = _matrices(one, -q, -q, one) / (root * root)[:, None, None]  # [[1, q], [q, 1]]^-1
    rot = _rotations(theta)
    return rot @ shape_inv @ rot.transpose(0, 2, 1) / var[:, None, None]


def _render_gaussian(p, shape, xp):
    h, w = shape
    prec = -0.5 * _gaussian_precision(p["lam"], p["q"], p["theta"], shape)
    dx = xp.arange(w)[None, :] + 0.5 - xp.asarray(p["cx"])[:, None]  # (n, W)
    dy = xp.arange(h)[None, :] + 0.5 - xp.asarray(p["cy"])[:, None]  # (n, H)
    a, b, c = (xp.asarray(prec[:, i, j])[:, None] for i, j in ((0, 0), (0, 1), (1, 1)))
    quad = (a * dx * dx)[:, None, :] + (c * dy * dy)[:, :, None] + (2 * b * dy)[:, :, None] * dx[:, None, :]
    return 1.0 - xp.exp(quad)


class MaskMethod(NamedTuple):
    sample: Callable[[np.ndarray, Shape, np.random.Generator], dict]
    render: Callable[[dict, Shape, Backend], Any]
    augmentable: bool  # MiAMix augments the masks of cutting methods only


METHODS: dict[str, MaskMethod] = {
    "mixup": MaskMethod(_sample_mixup, _render_mixup, False),
    "cutmix": MaskMethod(_sample_cutmix, _render_cutmix, True),
    "fmix": MaskMethod(_sample_fmix, _render_fmix, True),
    "gridmix": MaskMethod(_sample_gridmix, _render_gridmix, True),
    "gmix": MaskMethod(_sample_gmix, _render_gaussian, False),
    "agmix": MaskMethod(_sample_agmix, _render_gaussian, False),
}


def method(name: str) -> MaskMethod:
    try:
        return METHODS[name]
    except (KeyError, TypeError):
        raise SettingsError(f"unknown mask method {name!r}; choose from {', '.join(METHODS)}") from None


# ---------------------------------------------------------------------------------------------------------------
# public generators


def sample_params(name: str, lam, shape: Shape, rng: np.random.Generator) -> dict:
    """Random parameters of ``name`` masks (one row per lam) for :func:`render`."""
    lam, _ = check_lam(lam)
    return method(name).sample(lam, check_shape(shape), rng)


def render(name: str, params: dict, shape: Shape, like: Any = None):
    """Masks (n, H, W) from :func:`sample_params`; numpy float32, or a float32 tensor on ``like``'s device."""
    xp = backend_for(like)
    return method(name).render(params, check_shape(shape), xp)


def generate(name: str, lam, shape: Shape, rng: np.random.Generator) -> np.ndarray:
    """One mask (H, W) for a number ``lam``, or masks (n, H, W) for a 1-D array of lams (numpy float32)."""
    spec = method(name)
    lam, scalar = check_lam(lam)
    shape = check_shape(shape)
    masks = spec.render(spec.sample(lam, shape, rng), shape, NumpyBackend())
    return masks[0] if scalar else masks


def mixup(lam, shape: Shape, rng: np.random.Generator | None = None) -> np.ndarray:
    """MixUp: the constant lam (needs no random numbers)."""
    return generate("mixup", lam, shape, rng)


def cutmix(lam, shape: Shape, rng: np.random.Generator) -> np.ndarray:
    """CutMix: 0 in a box of area (1 - lam) H W at a uniform centre, clipped by the border."""
    return generate("cutmix", lam, shape, rng)


def fmix(lam, shape: Shape, rng: np.random.Generator) -> np.ndarray:
    """FMix: the top lam fraction of low-pass Fourier noise (decay power 3) is 1; binary, mean exactly lam."""
    return generate("fmix", lam, shape, rng)


def gridmix(lam, shape: Shape, rng: np.random.Generator) -> np.ndarray:
    """GridMix: a regular grid of square holes covering 1 - lam of each cell."""
    return generate("gridmix", lam, shape, rng)


def gmix(lam, shape: Shape, rng: np.random.Generator) -> np.ndarray:
    """GMix: 1 minus an isotropic Gaussian blob of integral (1 - lam) H W at a uniform centre."""
    return generate("gmix", lam, shape, rng)


def agmix(lam, shape: Shape, rng: np.random.Generator) -> np.ndarray:
    """AGMix: GMix with a random correlation q ~ U(-1, 1) and a random rotation of the Gaussian."""
    return generate("agmix", lam, shape, rng)


# ---------------------------------------------------------------------------------------------------------------
# mask augmentation


def _box_axis(masks, radius: np.ndarray, axis: int, xp: Backend):
    """Mean over the window [j - r, j + r] along ``axis`` (1 or 2), r = radius[k] for mask k, shrunk to the part
    inside the mask. All radii in one pass (a pass per radius would launch some 16 tensor operations each)."""
    size = masks.shape[axis]
    r = np.minimum(radius, size - 1)[:, None]
    j = np.arange(size)[None, :]
    hi, lo = np.minimum(j + r, size - 1), j - r - 1  # window sum = csum[hi] - csum[lo], nothing below index 0
    counts = hi - np.maximum(j - r, 0) + 1

    def per_row(a):  # (n, size) -> broadcastable against the masks along ``axis``
        return a[:, :, None] if axis == 1 else a[:, None, :]

    csum = xp.cumsum(masks, axis)  # csum[j] = m[0] + ... + m[j]
    total, below = (xp.take_along(csum, xp.ints(i), axis) for i in (hi, np.maximum(lo, 0)))
    below *= per_row(xp.asarray(lo >= 0))  # in place: fresh large tensors cost page faults on a CPU
    total -= below
    total /= per_row(xp.asarray(counts))
    return total


@njit
def _box_kernel(masks, radius):
    """In place: mask k becomes its mean over the (2 r + 1)^2 window, r = radius[k] (0: unchanged), shrunk to
    the part inside the mask. Running sums along x, then along y over the row means (the counts separate)."""
    n, h, w = masks.shape
    rows = np.empty((h, w))
    acc = np.empty(w)
    for k in range(n):
        r = radius[k]
        if r <= 0:
            continue
        for y in range(h):
            s = 0.0
            for x in range(min(r, w - 1) + 1):
                s += masks[k, y, x]
            for x in range(w):
                rows[y, x] = s / (min(x + r, w - 1) - max(x - r, 0) + 1)
                if x + r + 1 < w:
                    s += masks[k, y, x + r + 1]
                if x - r >= 0:
                    s -= masks[k, y, x - r]
        acc[:] = 0.0
        for y in range(min(r, h - 1) + 1):
            acc += rows[y]
        for y in range(h):
            count = min(y + r, h - 1) - max(y - r, 0) + 1
            for x in range(w):
                masks[k, y, x] = min(max(acc[x] / count, 0.0), 1.0)
            if y + r + 1 < h:
                acc += rows[y + r + 1]
            if y - r >= 0:
                acc -= rows[y - r]


def _smooth_rows(masks, radius: np.ndarray, xp: Backend) -> None:
    """Box-filter the masks with radius > 0 in place: the kernel on numpy, one vectorised pass for all window
    sizes on torch."""
    if isinstance(xp, NumpyBackend):
        work = np.ascontiguousarray(masks, np.float32)
        _box_kernel(work, np.asarray(radius, np.int64))
        if work is not masks:
            masks[...] = work
        return
    rows = np.flatnonzero(radius > 0)
    if rows.size:
        idx, r = slice(None) if rows.size == radius.size else xp.ints(rows), radius[rows]
        out = _box_axis(_box_axis(masks[idx], r, 1, xp), r, 2, xp)
        masks[idx] = xp.clip(out, 0.0, 1.0)  # cumulative sums round a little outside [0, 1]


def smooth(masks, radius):
    """Box-filter masks (n, H, W) with odd windows 2 r + 1 (``radius`` an int or one per mask, 0 = unchanged)."""
    xp = backend_for(masks)
    out = xp.copy(masks)
    _smooth_rows(out, np.broadcast_to(np.asarray(radius, dtype=np.int64), (masks.shape[0],)), xp)
    return out


def affine_matrices(angle, shear_x, shear_y) -> np.ndarray:
    """Forward maps (n, 2, 2) over (x, y), y down: a rotation by ``angle`` (degrees; positive turns clockwise on
    screen) after shears along x and y by ``shear_x`` and ``shear_y`` degrees. The determinant is 1."""
    t, sx, sy = (np.radians(np.asarray(v, np.float64)) for v in (angle, shear_x, shear_y))
    one, zero = np.ones_like(t), np.zeros_like(t)
    return _rotations(t) @ _matrices(one, np.tan(sx), zero, one) @ _matrices(one, zero, np.tan(sy), one)


@njit
def _mirror_taps(t, size):
    """Source pixels and the weight of the second for the edge coordinate t (pixel index + 1/2), with the image
    mirrored at its edges (edge pixels repeated)."""
    period = 2.0 * size
    t -= period * math.floor(t / period)  # t mod period; numba's Python-style float % (fmod) is 5x slower
    t = (size - 0.5) - abs(size - t)
    first = math.floor(t)
    i = int(first)
    return max(i, 0), min(i + 1, size - 1), t - first


@njit
def _affine_kernel(masks, inverse, out):
    n, h, w = masks.shape
    for k in range(n):
        a, b, c, d = inverse[k, 0, 0], inverse[k, 0, 1], inverse[k, 1, 0], inverse[k, 1, 1]
        for y in range(h):
            oy = y + 0.5 - 0.5 * h
            for x in range(w):
                ox = x + 0.5 - 0.5 * w
                x0, x1, fx = _mirror_taps(a * ox + b * oy + 0.5 * w, w)
                y0, y1, fy = _mirror_taps(c * ox + d * oy + 0.5 * h, h)
                top = masks[k, y0, x0] + fx * (masks[k, y0, x1] - masks[k, y0, x0])
                bottom = masks[k, y1, x0] + fx * (masks[k, y1, x1] - masks[k, y1, x0])
                out[k, y, x] = top + fy * (bottom - top)


def _tensor_taps(t, size: int, wrap: bool, xp: Backend):
    """:func:`_mirror_taps` for a whole array of edge coordinates. Without ``wrap`` they must lie within one
    image size of the image (a float modulo costs more than the rest of the function)."""
    if wrap:
        t = t % (2 * size)
    t = (size - 0.5) - xp.abs(size - xp.abs(t))  # mirrored at 0 and at size, then back to index units
    first = xp.floor(t)
    weight = t - first
    first = xp.to_int(first)
    return xp.clip(first, 0, size - 1), xp.clip(first + 1, 0, size - 1), weight


def _affine_tensor(masks, inverse: np.ndarray, xp: Backend):
    """The array version of :func:`_affine_kernel` (runs on torch devices; numpy runs the kernel)."""
    n, h, w = masks.shape
    # the source offsets are largest at the corners (a linear map): mirror once unless they reach beyond that
    corners = inverse @ (np.array([[-1, -1, 1, 1], [-1, 1, -1, 1]]) * np.array([[w / 2], [h / 2]]))
    wrap_x, wrap_y = (bool(np.abs(corners[:, i]).max() >= 1.5 * size) for i, size in enumerate((w, h)))
    ox = xp.asarray(np.arange(w) + 0.5 - w / 2)[None, None, :]
    oy = xp.asarray(np.arange(h) + 0.5 - h / 2)[None, :, None]
    coef = [xp.asarray(inverse[:, i, j])[:, None, None] for i in (0, 1) for j in (0, 1)]
    x0, x1, fx = _tensor_taps(coef[0] * ox + coef[1] * oy + w / 2, w, wrap_x, xp)
    y0, y1, fy = _tensor_taps(coef[2] * ox + coef[3] * oy + h / 2, h, wrap_y, xp)
    y0, y1 = y0 * w, y1 * w
    flat = masks.reshape(n, h * w)

    def at(row, col):
        return xp.take_rows(flat, (row + col).reshape(n, h * w)).reshape(n, h, w)

    top, bottom = at(y0, x0), at(y1, x0)
    top += fx * (at(y0, x1) - top)
    bottom += fx * (at(y1, x1) - bottom)
    top += fy * (bottom - top)
    return top


def affine(masks, matrix):
    """Transform masks (n, H, W) by matrices (n, 2, 2) about the image centre: bilinear, edges mirrored."""
    xp = backend_for(masks)
    inverse = np.linalg.inv(np.asarray(matrix, np.float64).reshape(-1, 2, 2))  # output offset -> source offset
    if isinstance(xp, NumpyBackend):
        out = np.empty(masks.shape, np.float32)
        _affine_kernel(np.ascontiguousarray(masks, np.float32), inverse, out)
        return out
    return _affine_tensor(masks, inverse, xp)


class MaskAugment:
    """MiAMix's mask augmentation: with probability ``p_aug`` rotate by U(-rotate, rotate) degrees and shear
    along x and y by U(-shear, shear) degrees each; then with probability ``p_smooth`` box-filter with an odd
    window 2 r + 1, r uniform on 1..max_radius (default max(1, round(min(H, W) / 16)))."""

    def __init__(self, p_smooth: float = 0.5, p_aug: float = 0.25, rotate: float = 15.0, shear: float = 10.0,
                 max_radius: int | None = None, seed=None):
        self.p_smooth = check_probability("p_smooth", p_smooth)
        self.p_aug = check_probability("p_aug", p_aug)
        if not (0 <= rotate <= 180 and 0 <= shear < 90):
            raise SettingsError(f"rotate = {rotate!r}, shear = {shear!r} degrees are out of range; "
                                  "use 0 <= rotate <= 180 and 0 <= shear < 90")
        if max_radius is not None and int(max_radius) < 1:
            raise SettingsError(f"max_radius = {max_radius!r} must be >= 1 (or None for 1/16 of the side)")
        self.rotate, self.shear = float(rotate), float(shear)
        self.max_radius = None if max_radius is None else int(max_radius)
        self._stream = Stream(seed)

    def __repr__(self) -> str:
        return (f"MaskAugment(p_smooth={self.p_smooth}, p_aug={self.p_aug}, rotate={self.rotate}, "
                f"shear={self.shear}, max_radius={self.max_radius})")

    def sample_params(self, n: int, shape: Shape, rng: np.random.Generator) -> dict:
        r_max = self.max_radius or max(1, round(min(shape) / 16))
        smoothed = rng.random(n) < self.p_smooth
        warped = rng.random(n) < self.p_aug
        return {"radius": np.where(smoothed, rng.integers(1, r_max + 1, n), 0), "warp": warped,
                "angle": rng.uniform(-self.rotate, self.rotate, n),
                "shear_x": rng.uniform(-self.shear, self.shear, n),
                "shear_y": rng.uniform(-self.shear, self.shear, n)}

    @staticmethod
    def augment_rows(masks, params: dict) -> None:
        """Augment masks (n, H, W), numpy or torch, in place."""
        xp = backend_for(masks)
        warp = np.flatnonzero(params["warp"])
        if warp.size:
            idx = xp.ints(warp)
            masks[idx] = affine(masks[idx], affine_matrices(
                params["angle"][warp], params["shear_x"][warp], params["shear_y"][warp]))
        _smooth_rows(masks, params["radius"], xp)

    def apply(self, masks, params: dict):
        """Augmented copy of masks (n, H, W), numpy or torch."""
        out = backend_for(masks).copy(masks)
        self.augment_rows(out, params)
        return out

    def __call__(self, masks, rng: np.random.Generator | None = None):
        """Augment masks (n, H, W) or one mask (H, W)."""
        single = masks.ndim == 2
        batch = masks[None] if single else masks
        out = self.apply(batch, self.sample_params(batch.shape[0], batch.shape[1:], as_rng(rng, self._stream)))
        return out[0] if single else out
