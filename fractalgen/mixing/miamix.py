"""MiAMix, multi-stage augmented mixup over a batch, and FractalMaskMix, its masks mixing a fractal into an image.

Paper: Liang, Liang & Jia, "MiAMix: Enhancing Image Classification through a Multi-stage Augmented Mixed Sample
Data Augmentation Method", 2023 (arXiv:2308.02804): Algorithm 1, Table 1 (the defaults) and the ablations of
section 4.3 (sum merge, original lambda, self-mixing ratio).

Per sample i of a batch:
1. partner t: another sample of the batch, uniform, or with probability p_self the sample itself, in which case
   the two sides are two independently augmented views of it (``self_augment``, default :func:`flip_shift`).
   A batch of one always self-mixes.
2. k ~ U{1..k_max}; (l_1, ..., l_k, rest) ~ Dirichlet(alpha, ..., alpha, k alpha).
3. k methods drawn with the given weights; mask j from method j (see :mod:`.masks`).
4. CutMix, FMix and GridMix masks are augmented (:class:`.masks.MaskAugment`).
5. merge: product of the masks (or the clipped sum); lam = mean of the merged mask (or the drawn lam).
6. x~ = M x_i + (1 - M) x_t, y~ = lam y_i + (1 - lam) y_t.

Lambda convention: the mask M is the weight of x_i, and lam = mean(M) is the weight of y_i in the soft label.

How the Dirichlet ratios become masks (the paper leaves this open): l_j is the share of the image that mask j hands
to the partner. Under the product merge the partner's regions add up (the product is 0 wherever one mask is 0), so
mask j is drawn with mean 1 - l_j and the merged mask keeps about rest = 1 - sum(l_j) of x_i: exactly where the
masks do not overlap, more where they do. Under the sum merge x_i's regions add up instead, so mask j is drawn with
mean l_j and the merge keeps about sum(l_j). The literal reading (mask j with mean l_j, then the product) would give
a two-layer sample an expected x_i share of E[l_1 l_2] = 1/20 with the defaults: a nearly pure partner image.
The "drawn" lam of the paper's "orig" ablation is rest (product) or sum(l_j) (sum).

Everything random is drawn with numpy from one generator, in ``sample_params``; ``apply`` is deterministic and
builds the masks on the batch's backend (numpy, or torch on the batch's device), so both give the same result.
A CPU tensor (uint8 / float32 / float64) runs the numpy kernels on a view of its memory (``cpu_kernels``): on one
core that is 2-3x faster than the ~370 small tensor operations of the torch path, which stays the path of every
other device. The kernels read channel-first memory directly, so the tensor is never transposed or copied.
"""

from __future__ import annotations

import math
from collections.abc import Callable, Mapping, Sequence
from typing import Any

import numpy as np

from .._jit import njit
from ..errors import ImageInputError, SettingsError
from ..seeding import Stream, as_rng, check_seed
from . import settings as check
from ._backend import (Backend, NumpyBackend, backend_for, from_kernel_view, is_tensor, kernel_ready, kernel_view,
                       torch_module)
from .base import MixingMethod
from .masks import METHODS, MaskAugment, method

#: The paper's Table 1: methods and their sampling weights.
DEFAULT_METHODS = {"mixup": 2.0, "cutmix": 1.0, "fmix": 1.0, "gridmix": 1.0, "agmix": 1.0}
MERGES = ("product", "sum")
LAM_FROM = ("mask", "drawn")


def _check_methods(methods) -> dict[str, float]:
    if methods is None:
        methods = DEFAULT_METHODS
    if not isinstance(methods, Mapping):
        methods = dict.fromkeys(methods, 1.0)
    out = {}
    for name, weight in methods.items():
        method(name)
        out[name] = check.number_in(f"weight of mask method {name!r}", weight, 0.0, math.inf, 1.0)
    if not sum(out.values()) > 0:
        raise SettingsError(f"methods {methods!r} give no method a positive weight; weight at least one")
    return out


def _jsonable(obj: Any) -> Any:
    """params with numpy arrays and scalars turned into lists and numbers (a complex array becomes
    ``{"real": [...], "imag": [...]}``): what ``json.dumps`` takes."""
    if isinstance(obj, dict):
        return {k: _jsonable(v) for k, v in obj.items()}
    if isinstance(obj, (list, tuple)):
        return [_jsonable(v) for v in obj]
    if isinstance(obj, np.ndarray):
        return {"real": obj.real.tolist(), "imag": obj.imag.tolist()} if np.iscomplexobj(obj) else obj.tolist()
    return obj.item() if isinstance(obj, np.generic) else obj


def _arrays(obj: Any) -> Any:
    """The inverse of :func:`_jsonable`: lists of numbers become numpy arrays again (arrays pass through)."""
    if isinstance(obj, dict):
        if obj.keys() == {"real", "imag"}:
            return (np.asarray(obj["real"], np.float32) + 1j * np.asarray(obj["imag"], np.float32)).astype(np.complex64)
        return {k: _arrays(v) for k, v in obj.items()}
    if isinstance(obj, list):
        return [_arrays(v) for v in obj] if obj and isinstance(obj[0], dict) else np.asarray(obj)
    return obj


def _image_batch(images, xp: Backend) -> tuple[int, int, int]:
    """(B, H, W) of a 4-D image batch, or a one-line error saying which layout is expected."""
    layout = "(B, H, W, C) numpy array" if isinstance(xp, NumpyBackend) else "(B, C, H, W) tensor"
    if getattr(images, "ndim", None) != 4 or 0 in tuple(images.shape):
        raise ImageInputError(f"images have shape {tuple(getattr(images, 'shape', ()))}; pass a non-empty {layout}")
    if xp.kind(images) not in ("uint8", "float") or images.dtype == np.float16:  # no numba float16
        raise ImageInputError(f"images have dtype {images.dtype}; pass uint8 (0..255) or float32 / float64 images")
    return (int(images.shape[0]), *xp.image_hw(images))


def _soft_labels(labels, batch: int, num_classes: int, xp: Backend):
    """Labels as (B, num_classes) float on the backend: int indices become one-hot, soft labels pass through."""
    lab = xp.labels(labels)
    kind = xp.kind(lab)
    if kind in ("int", "uint8"):
        if tuple(lab.shape) != (batch,):
            raise ImageInputError(f"int labels have shape {tuple(lab.shape)}; pass one class index per image, "
                                  f"shape ({batch},)")
        low, high = int(lab.min()), int(lab.max())
        if low < 0 or high >= num_classes:
            raise ImageInputError(f"label {low if low < 0 else high} is outside 0..{num_classes - 1}; "
                                  "check num_classes or the labels")
        return xp.as_float(xp.int_arange(num_classes)[None, :] == lab[:, None])
    if kind == "float" and tuple(lab.shape) == (batch, num_classes):
        return xp.as_float(lab)
    raise ImageInputError(f"labels of shape {tuple(lab.shape)} and dtype {lab.dtype} are neither class indices "
                          f"({batch},) nor one-hot / soft labels ({batch}, {num_classes})")


@njit
def _lerp(a, s, m, rounding):
    s = float(s)
    return s + float(m) * (float(a) - s) + rounding


@njit
def _blend_kernel(first, second, index, masks, rounding, planar, out):
    """out[b] = s + M[b] (first[b] - s), s = second[index[b]]: one pass, no float copy of a uint8 batch. Images
    are flat in memory order: (B, H W, C), or (B, C, H W) if ``planar``; masks (B, H W)."""
    n, rows, cols = first.shape
    for b in range(n):
        t = index[b]
        for i in range(rows):
            if planar:  # a channel plane: the mask runs along it (and the loop vectorises)
                for j in range(cols):
                    out[b, i, j] = _lerp(first[b, i, j], second[t, i, j], masks[b, j], rounding)
            else:  # one pixel's channels: one mask value
                m = masks[b, i]
                for j in range(cols):
                    out[b, i, j] = _lerp(first[b, i, j], second[t, i, j], m, rounding)


def _blend(first, second, index: np.ndarray, masks, xp: Backend, dtype=None):
    """Mixed images ``M[b] first[b] + (1 - M[b]) second[index[b]]`` in ``dtype`` (default: first's), rounded
    for uint8. numpy runs one fused kernel (the output keeps first's memory order: a (B, H, W, C) view of
    channel-first memory, see ``_backend.kernel_view``, gives one too); torch runs three tensor ops on the batch's
    device."""
    dtype = first.dtype if dtype is None else dtype
    if isinstance(xp, NumpyBackend):
        b, h, w, c = first.shape
        planar = first.strides[3] > first.strides[2] and c > 1
        order, flat = ((0, 3, 1, 2), (c, h * w)) if planar else ((0, 1, 2, 3), (h * w, c))

        def memory(images):
            return np.ascontiguousarray(images.transpose(order)).reshape(len(images), *flat)

        out = np.empty((b, *flat), dtype)
        _blend_kernel(memory(first), memory(second), np.asarray(index, np.int64),
                      np.ascontiguousarray(masks, np.float32).reshape(b, h * w),
                      0.5 if out.dtype == np.uint8 else 0.0, planar, out)
        return out.reshape([first.shape[i] for i in order]).transpose(np.argsort(order))
    torch = xp.torch
    work = dtype if dtype.is_floating_point else torch.float32
    base = second[xp.ints(index)].to(work)
    diff = first.to(work) - base
    diff *= masks[:, None].to(work)
    diff += base
    return diff.round_().to(dtype) if dtype == torch.uint8 else diff.to(dtype)


def _mirror(i: np.ndarray, n: int) -> np.ndarray:
    """Integer indices folded into [0, n), mirrored at the edges with edge pixels repeated (..1 0 | 0 1..)."""
    j = i % (2 * n)
    return np.where(j >= n, 2 * n - 1 - j, j)


def flip_shift(images, rng: np.random.Generator, max_shift: int | None = None):
    """Random horizontal flip (p = 1/2) and shift by up to ``max_shift`` pixels per axis (default 1/8 of the
    shorter side), edges mirrored: the default view for self-mixing. numpy (B, H, W, C) or torch (B, C, H, W)."""
    xp = backend_for(images)
    b, (h, w) = images.shape[0], xp.image_hw(images)
    m = max(1, round(min(h, w) / 8)) if max_shift is None else int(max_shift)
    flip = rng.random(b) < 0.5
    dy, dx = rng.integers(-m, m + 1, b), rng.integers(-m, m + 1, b)
    rows = _mirror(np.arange(h)[None, :] - dy[:, None], h)
    cols = _mirror(np.where(flip[:, None], np.arange(w)[::-1], np.arange(w)) - dx[:, None], w)
    return xp.gather_pixels(images, xp.ints((rows[:, :, None] * w + cols[:, None, :]).reshape(b, h * w)))


class MaskStack:
    """Steps 2-5 of Algorithm 1 for n pairs: layers, Dirichlet ratios, methods, masks, augmentation, merge.

    ``share`` scales the partner's Dirichlet shares (1 in MiAMix; FractalMaskMix uses it to cap the fractal's
    share)."""

    def __init__(self, methods=None, alpha: float = 1.0, k_max: int = 2, augment: MaskAugment | None = None,
                 merge: str = "product", share: float = 1.0):
        self.methods = _check_methods(methods)
        self.alpha = check.positive("alpha", alpha)
        self.k_max = check.integer("k_max", k_max, 1)
        self.augment = augment or MaskAugment()
        self.merge = check.choice("merge", merge, MERGES)
        self.share = check.probability("share", share)
        self._names = list(self.methods)
        weights = np.array(list(self.methods.values()))
        self._p = weights / weights.sum()

    def sample_params(self, rng: np.random.Generator, n: int, shape: tuple[int, int]) -> dict:
        k = rng.integers(1, self.k_max + 1, n)
        active = np.arange(self.k_max)[None, :] < k[:, None]
        gamma = rng.gamma(self.alpha, size=(n, self.k_max)) * active
        total = gamma.sum(1) + rng.gamma(k * self.alpha)
        parts = gamma / np.where(total > 0, total, 1.0)[:, None]  # Dirichlet by normalised gammas
        choice = np.where(active, rng.choice(len(self._names), size=(n, self.k_max), p=self._p), -1)
        sample, layer = np.nonzero(active)
        meth = choice[sample, layer]
        order = np.argsort(meth, kind="stable")  # jobs grouped by method: one batched render per method
        sample, layer, meth = sample[order], layer[order], meth[order]
        lam = (1.0 - self.share * parts if self.merge == "product" else parts)[sample, layer]
        starts = np.flatnonzero(np.r_[True, meth[1:] != meth[:-1]])
        groups = []
        for start, stop in zip(starts, np.r_[starts[1:], meth.size]):
            name = self._names[meth[start]]
            spec = METHODS[name]
            groups.append({"method": name, "sample": sample[start:stop], "layer": layer[start:stop],
                           "params": spec.sample(lam[start:stop], shape, rng),
                           "augment": self.augment.sample_params(stop - start, shape, rng) if spec.augmentable
                           else None})
        return {"k": k, "parts": parts, "method": choice, "groups": groups}

    def drawn_lam(self, params: dict) -> np.ndarray:
        """The x_i share the Dirichlet draw asked for (the paper's "orig" lambda)."""
        total = params["parts"].sum(1)
        return 1.0 - self.share * total if self.merge == "product" else total

    def render(self, params: dict, shape: tuple[int, int], xp: Backend):
        """Merged masks (n, H, W) on backend ``xp``."""
        groups = sorted(params["groups"], key=lambda g: g["augment"] is None)  # the augmented groups first
        stack = xp.concat([METHODS[g["method"]].render(g["params"], shape, xp) for g in groups])
        augmented = [g["augment"] for g in groups if g["augment"] is not None]
        if augmented:  # one pass over all the augmented masks (on torch a pass is tens of tensor operations)
            n = sum(len(a["radius"]) for a in augmented)
            self.augment.augment_rows(stack[:n], {key: np.concatenate([a[key] for a in augmented])
                                                  for key in augmented[0]})
        sample, layer = (np.concatenate([g[key] for g in groups]) for key in ("sample", "layer"))
        jobs = np.empty(params["k"].size, np.int64)
        first = np.flatnonzero(layer == 0)
        jobs[sample[first]] = first
        merged = stack[xp.ints(jobs)]  # every sample's first mask
        for level in range(1, self.k_max):  # then the others, a layer at a time
            sel = np.flatnonzero(layer == level)
            if sel.size:
                rows, other = xp.ints(sample[sel]), stack[xp.ints(sel)]
                both = merged[rows]
                merged[rows] = both * other if self.merge == "product" else xp.clip(both + other, 0.0, 1.0)
        return merged


class MiAMix:
    """Multi-stage augmented mixup (label-mixing) on a batch: ``images, soft = MiAMix(num_classes)(images, labels)``.

    Images: numpy (B, H, W, C) or torch (B, C, H, W) on any device, uint8 or float (returned in the same type,
    dtype and device). Labels: int class indices (B,) or one-hot / soft labels (B, num_classes). Soft labels come
    back as (B, num_classes) float32 (numpy) or a float32 tensor on the images' device. Defaults: the paper's
    Table 1. ``merge="sum"`` and ``lam_from="drawn"`` give the paper's ablations. ``self_augment(subset, rng)``
    makes one view of a batch subset (the input's type, dtype, layout and device) for self-mixing.

    As timm's ``Mixup``: ``label_smoothing`` turns each one-hot label into ``(1 - s) onehot + s / num_classes``
    before mixing, and ``prob`` is the probability that a batch is mixed at all (else the images come back
    unchanged, with the smoothed labels).

    The protocol of every method: ``params = sample_params(rng, batch_size, (H, W))`` is JSON-ready,
    ``apply(images, labels, params)`` is deterministic, ``rng`` is None (the method's own
    :class:`~fractalgen.seeding.Stream`), an int or a Generator. As a DataLoader ``collate_fn``
    (:meth:`collate`), every worker draws its own stream.

    ``cpu_kernels``: a CPU tensor (uint8, float32 or float64, no autograd) runs the numpy kernels on a view of its
    memory, which gives the numpy result (in the tensor's layout) about twice as fast on one core; False runs the
    tensor operations a GPU runs, for testing or timing that path on a CPU.
    """

    def __init__(self, num_classes: int, alpha: float = 1.0, k_max: int = 2,
                 methods: Mapping[str, float] | Sequence[str] | None = None, p_self: float = 0.1,
                 p_aug: float = 0.25, p_smooth: float = 0.5, merge: str = "product", lam_from: str = "mask",
                 self_augment: Callable[[Any, np.random.Generator], Any] | None = None, rotate: float = 15.0,
                 shear: float = 10.0, label_smoothing: float = 0.0, prob: float = 1.0, seed: int | None = None,
                 cpu_kernels: bool = True):
        self.num_classes = check.integer("num_classes", num_classes, 1)
        self.cpu_kernels = check.boolean("cpu_kernels", cpu_kernels)
        self.p_self = check.probability("p_self", p_self)
        self.lam_from = check.choice("lam_from", lam_from, LAM_FROM)
        self.label_smoothing = check.number_in("label_smoothing", label_smoothing, 0.0, 1.0, 0.1)
        self.prob = check.probability("prob", prob)
        if self_augment is not None and not callable(self_augment):
            raise SettingsError(f"self_augment = {self_augment!r} is not callable; pass f(images, rng) -> images")
        self.self_augment = self_augment or flip_shift
        self.stack = MaskStack(methods, alpha, k_max, MaskAugment(p_smooth, p_aug, rotate, shear), merge)
        self.seed = check_seed(seed)
        self._stream = Stream(self.seed)

    def __repr__(self) -> str:
        s, a = self.stack, self.stack.augment
        return (f"MiAMix(num_classes={self.num_classes}, alpha={s.alpha}, k_max={s.k_max}, methods={s.methods}, "
                f"p_self={self.p_self}, p_aug={a.p_aug}, p_smooth={a.p_smooth}, merge={s.merge!r}, "
                f"lam_from={self.lam_from!r}, self_augment={getattr(self.self_augment, '__name__', '...')}, "
                f"rotate={a.rotate}, shear={a.shear}, label_smoothing={self.label_smoothing}, prob={self.prob}, "
                f"seed={self.seed}, cpu_kernels={self.cpu_kernels})")

    @property
    def rng(self) -> np.random.Generator:
        """The method's own generator in this process (fractalgen.seeding.Stream)."""
        return self._stream.generator()

    def sample_params(self, rng: Any, batch_size: int, shape: tuple[int, int]) -> dict:
        """Every random choice for a batch (partners, self-mixing, layers, ratios, methods, masks, augmentation),
        as a JSON-ready dict."""
        batch_size = check.integer("batch_size", batch_size, 1)
        shape = tuple(check.integer("shape", int(v)) for v in shape)
        return _jsonable(self._draw(as_rng(rng, self._stream), batch_size, shape))

    def _draw(self, rng: np.random.Generator, batch_size: int, shape: tuple[int, int]) -> dict:
        if self.prob < 1 and not rng.random() < self.prob:
            return {"mixed": False, "batch": batch_size}
        idx = np.arange(batch_size)
        is_self = rng.random(batch_size) < self.p_self
        if batch_size == 1:
            is_self[:] = True  # no other sample to mix with
        else:  # a uniform offset in 1..B-1 makes a uniform partner among the others
            other = (idx + rng.integers(1, batch_size, batch_size)) % batch_size
            idx = np.where(is_self, idx, other)
        return {"mixed": True, "batch": batch_size, "partner": idx, "is_self": is_self,
                "masks": self.stack.sample_params(rng, batch_size, shape), "view_seed": int(rng.integers(2 ** 63))}

    def render_masks(self, params: dict, shape: tuple[int, int], like: Any = None):
        """The merged masks (B, H, W) of ``params``: numpy, or on ``like``'s device."""
        return self.stack.render(_arrays(params["masks"]), shape, backend_for(like))

    def apply(self, images, labels, params: dict):
        """Mix a batch with the choices in ``params`` (deterministic); returns (images, soft labels)."""
        return self._apply(images, labels, _arrays(params))

    def _apply(self, images, labels, params: dict):
        xp = backend_for(images)
        b, h, w = _image_batch(images, xp)
        if params["batch"] != b:
            raise ImageInputError(f"params were drawn for {params['batch']} images, the batch has {b}; "
                                  "call sample_params with this batch size")
        if not params["mixed"]:
            return images, self._smooth(_soft_labels(labels, b, self.num_classes, xp))
        if not isinstance(xp, NumpyBackend) and self.cpu_kernels and kernel_ready(images):
            out, soft = self._mix(images, labels, params, (h, w), NumpyBackend())
            return from_kernel_view(out), xp.torch.from_numpy(soft)
        return self._mix(images, labels, params, (h, w), xp)

    def _smooth(self, onehot):
        s = self.label_smoothing
        return onehot if s == 0 else onehot * (1.0 - s) + s / self.num_classes

    def _mix(self, images, labels, params: dict, shape: tuple[int, int], xp: Backend):
        """:meth:`apply` on backend ``xp``. A CPU tensor on the numpy backend is mixed through its
        :func:`kernel_view` (``self_augment`` still sees tensors) and comes back as a (B, H, W, C) view."""
        onehot = self._smooth(_soft_labels(labels, len(params["partner"]), self.num_classes, xp))
        masks = self.stack.render(params["masks"], shape, xp)
        if self.lam_from == "mask":
            lam = xp.mean(masks, (1, 2))
        else:
            lam = xp.asarray(self.stack.drawn_lam(params["masks"]))
        pixels = kernel_view if isinstance(xp, NumpyBackend) else (lambda a: a)
        out = _blend(pixels(images), pixels(images), params["partner"], masks, xp)
        views = np.flatnonzero(params["is_self"])
        if views.size:  # self-mixing: two independently augmented views of the same image
            rows, rng = xp.ints(views), np.random.default_rng(params["view_seed"])
            subset = images[backend_for(images).ints(views)]
            first, second = self.self_augment(subset, rng), self.self_augment(subset, rng)
            out[rows] = _blend(pixels(first), pixels(second), np.arange(views.size), masks[rows], xp, dtype=out.dtype)
        partner = xp.ints(params["partner"])
        return out, lam[:, None] * onehot + (1.0 - lam)[:, None] * onehot[partner]

    def __call__(self, images, labels, rng: Any = None):
        xp = backend_for(images)
        b, h, w = _image_batch(images, xp)
        return self._apply(images, labels, self._draw(as_rng(rng, self._stream), b, (h, w)))

    def collate(self, batch: Sequence[tuple[Any, Any]]):
        """A DataLoader ``collate_fn``: stack (image, label) pairs, then mix with the method's own stream, which
        every worker process rebuilds for itself (fractalgen.seeding), so workers and epochs draw different mixes."""
        images, labels = zip(*batch)
        if is_tensor(images[0]):
            torch = torch_module()
            images = torch.stack(images)
            labels = torch.stack(labels) if is_tensor(labels[0]) else torch.as_tensor(labels)
        else:
            images, labels = np.stack(images), np.stack([np.asarray(y) for y in labels])
        return self(images, labels)


class FractalMaskMix(MixingMethod):
    """Label-preserving mix of an image with a fractal through MiAMix's mask family:
    ``out = M x + (1 - M) f`` with M a merged MiAMix mask stack (steps 2-5) and f a fresh draw from ``source``.

    A mixing method like PixMix, IPMix and LayerMix (same protocol, same inputs; ``preset`` "cifar" and
    "imagenet" are the same settings, kept for a uniform API; no released variant). The fractal's Dirichlet shares
    are scaled by ``max_share``, so the fractal covers at most about ``max_share`` of the image (product merge:
    overlapping masks and border clipping only lower it), and on average ``max_share / 2`` with alpha = 1.
    """

    PRESETS = dict.fromkeys(("cifar", "imagenet"), {"methods": None, "alpha": 1.0, "k_max": 2, "max_share": 0.5,
                                                    "p_aug": 0.25, "p_smooth": 0.5, "rotate": 15.0, "shear": 10.0})
    HYPER = ("methods", "alpha", "k_max", "max_share", "p_aug", "p_smooth", "rotate", "shear")

    def __init__(self, source: Any, preset: str = "cifar", *,
                 methods: Mapping[str, float] | Sequence[str] | None = None, alpha: float | None = None,
                 k_max: int | None = None, max_share: float | None = None, p_aug: float | None = None,
                 p_smooth: float | None = None, rotate: float | None = None, shear: float | None = None,
                 views: int = 1, seed: int | None = None, variant: str = "paper") -> None:
        super().__init__(source, preset, {"methods": methods, "alpha": alpha, "k_max": k_max, "max_share": max_share,
                                          "p_aug": p_aug, "p_smooth": p_smooth, "rotate": rotate, "shear": shear},
                         views=views, seed=seed, variant=variant)
        s = self._settings
        self.stack = MaskStack(s["methods"], s["alpha"], s["k_max"],
                               MaskAugment(s["p_smooth"], s["p_aug"], s["rotate"], s["shear"]), "product",
                               share=check.probability("max_share", s["max_share"]))
        st, a = self.stack, self.stack.augment
        self.methods, self.alpha, self.k_max, self.max_share = st.methods, st.alpha, st.k_max, st.share
        self.p_aug, self.p_smooth, self.rotate, self.shear = a.p_aug, a.p_smooth, a.rotate, a.shear

    def _draw(self, rng: np.random.Generator, shape: tuple[int, int]) -> dict:
        """``{"masks": the mask stack of one image}`` (numpy arrays: :meth:`sample_params` makes them JSON-ready)."""
        return {"masks": self.stack.sample_params(rng, 1, shape)}

    def _json(self, params: dict) -> dict:
        return _jsonable(params)

    def needs_fractal(self, params: dict) -> bool:
        return True

    def render_masks(self, params: dict, shape: tuple[int, int]) -> np.ndarray:
        """The merged mask (H, W) of ``params``: the weight of the image (1 - the fractal's)."""
        return self.stack.render(_arrays(params["masks"]), shape, NumpyBackend())[0]

    def apply(self, image: np.ndarray, fractal: np.ndarray | None, params: dict) -> np.ndarray:
        """``M x + (1 - M) f`` for the mask of ``params``: uint8 (H, W, 3)."""
        mask = self.render_masks(params, image.shape[:2])
        return _blend(image[None], fractal[None], np.zeros(1, np.int64), mask[None], NumpyBackend())[0]
