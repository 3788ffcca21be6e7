"""Corrupted test images and the mean corruption error, for evaluating robustness without downloading CIFAR-10-C.

Paper: Hendrycks & Dietterich, "Benchmarking Neural Network Robustness to Common Corruptions and Perturbations",
ICLR 2019 (arXiv:1903.12261). Four of its corruptions, at its five CIFAR severities:

=================  ===========================================  ==========================================
name               what                                         severities 1..5
=================  ===========================================  ==========================================
gaussian_noise     x + N(0, sigma^2) on [0, 1] pixels           sigma 0.04, 0.06, 0.08, 0.09, 0.10
gaussian_blur      Gaussian filter, edges repeated, 4 sigma     sigma 0.4, 0.6, 0.7, 0.8, 1.0
contrast           (x - m) c + m, m the image's channel means   c 0.75, 0.5, 0.4, 0.3, 0.15
jpeg_compression   PIL JPEG encode and decode                   quality 80, 65, 58, 50, 40
=================  ===========================================  ==========================================

The names are CIFAR-10-C's file names, so a run can evaluate either set with the same code. What we do
differently from the CIFAR-10-C images: results are rounded to the nearest grey level (the benchmark truncates),
and the noise is drawn from a generator per (seed, image index, severity) (``fractalgen.image_rng``), so a
corrupted test set is the same on every machine, in any order and in any chunking, and different severities
draw independent noise. These in-repo corruptions give numbers to compare runs of this repository; they are
not CIFAR-10-C's 15 corruptions, so do not compare them with a paper's mCE.

Mean corruption error (the paper's section 3): E[c][s] is the error (fraction misclassified) under corruption c at
severity s. With a baseline's errors B (the paper normalises by AlexNet on ImageNet-C),
``CE_c = sum_s E[c][s] / sum_s B[c][s]`` and mCE is the mean of CE_c over the corruptions; papers print it
x 100. Without a baseline, ``CE_c = mean_s E[c][s]`` and mCE is the unnormalised mean error over corruptions and
severities: what the CIFAR papers (AugMix, PixMix, IPMix) report as "mCE" on CIFAR-10-C / CIFAR-100-C.
"""

from __future__ import annotations

import io
from collections.abc import Mapping, Sequence
from pathlib import Path

import numpy as np
from PIL import Image

from fractalgen import image_rng

SEVERITIES = (1, 2, 3, 4, 5)
#: The settings of each corruption at severities 1..5 (the paper's CIFAR values).
SETTINGS = {
    "gaussian_noise": (0.04, 0.06, 0.08, 0.09, 0.10),
    "gaussian_blur": (0.4, 0.6, 0.7, 0.8, 1.0),
    "contrast": (0.75, 0.5, 0.4, 0.3, 0.15),
    "jpeg_compression": (80, 65, 58, 50, 40),
}
CORRUPTIONS = tuple(SETTINGS)
#: CIFAR-10-C's 15 benchmark corruptions (the mCE of the papers averages these; the extra four are not in it).
CIFAR_C_BENCHMARK = ("gaussian_noise", "shot_noise", "impulse_noise", "defocus_blur", "glass_blur", "motion_blur",
                     "zoom_blur", "snow", "frost", "fog", "brightness", "contrast", "elastic_transform", "pixelate",
                     "jpeg_compression")
#: The random stream of the noise (a number of its own, apart from fractalgen's streams 1..3).
NOISE_STREAM = 0xC0221


class CorruptionError(ValueError):
    """Bad input to the corruptions or the CIFAR-10-C reader; the message is one line that names the fix."""


# -- small pure helpers


def _to_uint8(x: np.ndarray) -> np.ndarray:
    return np.clip(np.rint(x * 255.0), 0, 255).astype(np.uint8)


def gaussian_kernel(sigma: float, truncate: float = 4.0) -> np.ndarray:
    """The normalised 1-D Gaussian of a blur: radius ``int(truncate * sigma + 0.5)`` (scipy.ndimage's rule)."""
    radius = int(truncate * sigma + 0.5)
    x = np.arange(-radius, radius + 1, dtype=np.float64)
    w = np.exp(-0.5 * (x / sigma) ** 2)
    return w / w.sum()


def _blur_axis(x: np.ndarray, weights: np.ndarray, axis: int) -> np.ndarray:
    """Correlate ``x`` with ``weights`` along ``axis``, edge pixels repeated (mode "nearest")."""
    r = len(weights) // 2
    pad = [(0, 0)] * x.ndim
    pad[axis] = (r, r)
    padded = np.pad(x, pad, mode="edge")
    n = x.shape[axis]
    out = np.zeros_like(x)
    for k, w in enumerate(weights):
        out += w * np.take(padded, np.arange(k, k + n), axis=axis)
    return out


# -- the corruptions: float (N, H, W, 3) in [0, 1] -> float in [0, 1], or uint8 for JPEG


def _gaussian_noise(x: np.ndarray, sigma: float, seed: int, start: int, severity: int) -> np.ndarray:
    noise = np.stack([image_rng(seed, start + i, severity, NOISE_STREAM).normal(0.0, sigma, x.shape[1:])
                      for i in range(len(x))])
    return np.clip(x + noise, 0.0, 1.0)


def _gaussian_blur(x: np.ndarray, sigma: float) -> np.ndarray:
    w = gaussian_kernel(sigma)
    return _blur_axis(_blur_axis(x, w, 1), w, 2)


def _contrast(x: np.ndarray, c: float) -> np.ndarray:
    means = x.mean(axis=(1, 2), keepdims=True)
    return np.clip((x - means) * c + means, 0.0, 1.0)


def jpeg(image: np.ndarray, quality: int) -> np.ndarray:
    """One uint8 (H, W, 3) image through PIL's JPEG encoder at ``quality`` and back."""
    buf = io.BytesIO()
    Image.fromarray(image).save(buf, format="JPEG", quality=int(quality))
    buf.seek(0)
    return np.asarray(Image.open(buf).convert("RGB"))


# -- public


def corrupt(images: np.ndarray, name: str, severity: int, *, seed: int = 0, start: int = 0) -> np.ndarray:
    """``images`` (uint8 (H, W, 3) or (N, H, W, 3)) under corruption ``name`` at ``severity`` (1..5).

    Image k of the batch is image ``start + k`` of the set: its noise comes from (seed, start + k, severity), so
    corrupting a set in chunks gives the same pixels as corrupting it whole. Returns uint8 of the input's shape.
    """
    if name not in SETTINGS:
        raise CorruptionError(f"unknown corruption {name!r}; choose from {', '.join(CORRUPTIONS)}")
    if severity not in SEVERITIES:
        raise CorruptionError(f"severity = {severity!r}; pass an integer from 1 to 5")
    arr = np.asarray(images)
    if arr.dtype != np.uint8 or arr.ndim not in (3, 4) or arr.shape[-1] != 3:
        raise CorruptionError(f"images are {arr.dtype} {arr.shape}; pass uint8 (H, W, 3) or (N, H, W, 3)")
    batch = arr.reshape(-1, *arr.shape[-3:])
    value = SETTINGS[name][severity - 1]
    if name == "jpeg_compression":
        return np.stack([jpeg(img, value) for img in batch]).reshape(arr.shape)
    x = batch.astype(np.float64) / 255.0
    if name == "gaussian_noise":
        out = _gaussian_noise(x, value, seed, start, severity)
    elif name == "gaussian_blur":
        out = _gaussian_blur(x, value)
    else:
        out = _contrast(x, value)
    return _to_uint8(out).reshape(arr.shape)


def mean_corruption_error(errors: Mapping[str, Sequence[float]],
                          baseline: Mapping[str, Sequence[float]] | None = None) -> tuple[float, dict[str, float]]:
    """(mCE, {corruption: CE}) from errors per corruption and severity (5 fractions each).

    With ``baseline`` (the same corruptions, a baseline model's errors), CE_c = sum_s E / sum_s B (Hendrycks &
    Dietterich's normalised CE; 1.0 means as robust as the baseline); without, CE_c = mean_s E (the CIFAR
    papers' unnormalised mean error). mCE is the mean of CE_c over the corruptions.
    """
    if not errors:
        raise CorruptionError("no corruption errors to average; evaluate at least one corruption")
    ce = {}
    for name, row in errors.items():
        e = np.asarray(row, dtype=np.float64)
        if e.shape != (len(SEVERITIES),):
            raise CorruptionError(f"{name} has {e.size} errors; pass one per severity (5)")
        if baseline is None:
            ce[name] = float(e.mean())
            continue
        if name not in baseline:
            raise CorruptionError(f"the baseline has no errors for {name}; evaluate the baseline on the same "
                                  "corruptions")
        b = np.asarray(baseline[name], dtype=np.float64)
        if b.shape != e.shape or not b.sum() > 0:
            raise CorruptionError(f"the baseline's errors for {name} are {b.tolist()}; pass 5 errors, not all 0")
        ce[name] = float(e.sum() / b.sum())
    return float(np.mean(list(ce.values()))), ce


def load_cifar_c(folder: str | Path, names: Sequence[str]) -> tuple[dict[str, np.ndarray], np.ndarray]:
    """CIFAR-10-C (or -100-C) corruptions ``names`` from ``folder``: ({name: uint8 (5, n, 32, 32, 3) memory-mapped
    images, severities 1..5}, int64 (5, n) labels, those of each severity).

    The layout of the download: ``folder/<name>.npy`` holds the 5 severities one after another (5 x 10,000
    images), ``folder/labels.npy`` the labels of all of them (the test labels 5 times) or of one severity.
    """
    root = Path(folder).expanduser()
    if not names:
        raise CorruptionError("no corruptions asked for; name at least one with --corruptions")
    if not root.is_dir():
        raise CorruptionError(f"--cifar-c {root} is not a folder; pass the unpacked CIFAR-10-C folder "
                              "(labels.npy and <corruption>.npy files)")
    missing = [f"{n}.npy" for n in ("labels", *names) if not (root / f"{n}.npy").is_file()]
    if missing:
        raise CorruptionError(f"--cifar-c {root} has no {', '.join(missing)}; pass the CIFAR-10-C folder, or "
                              "choose the corruptions it holds with --corruptions")
    labels = _read(root / "labels.npy")
    if labels.ndim != 1 or labels.dtype.kind not in "iu" or labels.size == 0:
        raise CorruptionError(f"{root / 'labels.npy'} holds {labels.dtype} {labels.shape}; expected integer "
                              "labels (n,)")
    images = {}
    for name in names:
        arr = _read(root / f"{name}.npy")
        if arr.dtype != np.uint8 or arr.ndim != 4 or arr.shape[1:] != (32, 32, 3) or arr.shape[0] % 5:
            raise CorruptionError(f"{root / (name + '.npy')} holds {arr.dtype} {arr.shape}; expected uint8 "
                                  "(5 x n, 32, 32, 3): 5 severities of n images")
        n = arr.shape[0] // 5
        if labels.size not in (n, 5 * n):
            raise CorruptionError(f"{root / 'labels.npy'} has {labels.size} labels for {arr.shape[0]} images in "
                                  f"{name}.npy; expected {5 * n} (or {n})")
        images[name] = arr.reshape(5, n, 32, 32, 3)
    n = next(iter(images.values())).shape[1]
    sizes = {name: arr.shape[1] for name, arr in images.items()}
    if len(set(sizes.values())) > 1:
        raise CorruptionError(f"the corruptions hold different numbers of images per severity ({sizes}); "
                              "download the folder again")
    per_severity = np.asarray(labels, dtype=np.int64)
    return images, np.broadcast_to(per_severity, (5, n)) if per_severity.size == n else per_severity.reshape(5, n)


def _read(path: Path) -> np.ndarray:
    try:
        return np.load(path, mmap_mode="r", allow_pickle=False)
    except (ValueError, OSError) as err:
        raise CorruptionError(f"{path} is not a readable .npy file ({err}); download it again") from None
