"""examples/corruptions.py: the in-repo test corruptions, the mean corruption error and the CIFAR-10-C reader."""

from __future__ import annotations

import importlib.util
import io
from pathlib import Path

import numpy as np
import pytest
from PIL import Image

PATH = Path(__file__).resolve().parents[1] / "examples" / "corruptions.py"
_spec = importlib.util.spec_from_file_location("corruptions", PATH)
C = importlib.util.module_from_spec(_spec)
_spec.loader.exec_module(C)

CASES = [(name, s) for name in C.CORRUPTIONS for s in C.SEVERITIES]


def scenes(n: int = 6, seed: int = 1) -> np.ndarray:
    """Smooth gradients with texture: images with something for every corruption to destroy."""
    y, x = np.mgrid[0:32, 0:32]
    base = np.stack([x * 8, y * 8, (x + y) * 4], -1).astype(np.float64)
    noise = np.random.default_rng(seed).normal(0, 30, (n, 32, 32, 3))
    return np.clip(base[None] + noise, 0, 255).astype(np.uint8)


@pytest.mark.parametrize("name,severity", CASES)
def test_each_corruption_is_deterministic_and_keeps_shape_and_dtype(name, severity, global_rng_guard):
    imgs = scenes(3)
    before = imgs.copy()
    a = C.corrupt(imgs, name, severity, seed=5)
    b = C.corrupt(imgs, name, severity, seed=5)
    assert a.shape == imgs.shape and a.dtype == np.uint8
    assert np.array_equal(a, b)
    assert np.array_equal(imgs, before), "the input was modified"
    one = C.corrupt(imgs[1], name, severity, seed=5, start=1)  # one image: the same pixels as in the batch
    assert one.shape == (32, 32, 3) and np.array_equal(one, a[1])


def test_noise_depends_on_seed_index_and_severity_only():
    imgs = scenes(4)
    whole = C.corrupt(imgs, "gaussian_noise", 3, seed=7)
    chunks = np.concatenate([C.corrupt(imgs[:1], "gaussian_noise", 3, seed=7),
                             C.corrupt(imgs[1:], "gaussian_noise", 3, seed=7, start=1)])
    assert np.array_equal(whole, chunks)
    same = np.repeat(imgs[:1], 2, 0)  # the same picture at two indices gets different noise
    two = C.corrupt(same, "gaussian_noise", 3, seed=7)
    assert not np.array_equal(two[0], two[1])
    assert not np.array_equal(whole, C.corrupt(imgs, "gaussian_noise", 3, seed=8))


@pytest.mark.parametrize("name", C.CORRUPTIONS)
def test_distortion_grows_with_severity(name):
    imgs = scenes(6)
    dist = [np.abs(C.corrupt(imgs, name, s).astype(np.float64) - imgs).mean() for s in C.SEVERITIES]
    assert all(a < b for a, b in zip(dist, dist[1:])), dist
    assert dist[0] > 0.5


def test_noise_has_the_severitys_standard_deviation():
    flat = np.full((4, 32, 32, 3), 128, np.uint8)  # mid-grey: nothing clipped
    for s, sigma in zip(C.SEVERITIES, C.SETTINGS["gaussian_noise"]):
        diff = (C.corrupt(flat, "gaussian_noise", s).astype(np.float64) - 128) / 255
        assert abs(diff.std() - sigma) < 0.04 * sigma and abs(diff.mean()) < 0.002


@pytest.mark.parametrize("severity", C.SEVERITIES)
def test_jpeg_matches_pil_at_the_severitys_quality(severity):
    img = scenes(1)[0]
    buf = io.BytesIO()
    Image.fromarray(img).save(buf, format="JPEG", quality=C.SETTINGS["jpeg_compression"][severity - 1])
    expected = np.asarray(Image.open(io.BytesIO(buf.getvalue())))
    assert np.array_equal(C.corrupt(img, "jpeg_compression", severity), expected)


@pytest.mark.parametrize("severity", C.SEVERITIES)
def test_blur_matches_scikit_image(severity):
    filters = pytest.importorskip("skimage.filters")
    img = scenes(1)[0]
    sigma = C.SETTINGS["gaussian_blur"][severity - 1]
    ref = filters.gaussian(img / 255.0, sigma=sigma, mode="nearest", truncate=4.0, channel_axis=-1)
    assert np.abs(np.rint(ref * 255).astype(int) - C.corrupt(img, "gaussian_blur", severity)).max() <= 1


def test_contrast_scales_around_each_channels_mean():
    img = scenes(1)[0]
    x = img / 255.0
    m = x.mean((0, 1))
    expected = np.clip(np.rint(np.clip((x - m) * 0.15 + m, 0, 1) * 255), 0, 255)
    assert np.array_equal(C.corrupt(img, "contrast", 5), expected.astype(np.uint8))


@pytest.mark.parametrize("args,match", [
    (("fog", 1), "unknown corruption 'fog'"),
    (("contrast", 6), "severity = 6; pass an integer from 1 to 5"),
    (("contrast", 0), "severity = 0"),
])
def test_bad_corruption_or_severity_is_one_line(args, match):
    with pytest.raises(C.CorruptionError, match=match):
        C.corrupt(scenes(1), *args)


def test_bad_images_are_refused():
    with pytest.raises(C.CorruptionError, match=r"pass uint8 \(H, W, 3\)"):
        C.corrupt(np.zeros((32, 32, 3), np.float32), "contrast", 1)


def test_mean_corruption_error_unnormalised_and_normalised():
    errors = {"a": [0.1, 0.2, 0.3, 0.4, 0.5], "b": [0.0, 0.0, 0.1, 0.1, 0.3]}
    mce, ce = C.mean_corruption_error(errors)
    assert ce == pytest.approx({"a": 0.3, "b": 0.1}) and mce == pytest.approx(0.2)
    base = {"a": [0.3] * 5, "b": [0.1] * 5}
    mce, ce = C.mean_corruption_error(errors, base)
    assert ce == pytest.approx({"a": 1.5 / 1.5, "b": 0.5 / 0.5}) and mce == pytest.approx(1.0)
    mce, _ = C.mean_corruption_error({"a": [0.15] * 5}, base)
    assert mce == pytest.approx(0.5)
    with pytest.raises(C.CorruptionError, match="baseline has no errors for b"):
        C.mean_corruption_error(errors, {"a": [0.3] * 5})
    with pytest.raises(C.CorruptionError, match="a has 4 errors"):
        C.mean_corruption_error({"a": [0.1] * 4})


def write_cifar_c(root: Path, names=("contrast", "fog"), n=4, labels_times=5) -> tuple[np.ndarray, np.ndarray]:
    rng = np.random.default_rng(0)
    root.mkdir(parents=True, exist_ok=True)
    labels = rng.integers(0, 10, n)
    np.save(root / "labels.npy", np.tile(labels, labels_times))
    images = rng.integers(0, 256, (5 * n, 32, 32, 3), dtype=np.uint8)
    for name in names:
        np.save(root / f"{name}.npy", images)
    return images, labels


def test_cifar_c_reader_splits_severities(tmp_path):
    images, labels = write_cifar_c(tmp_path / "c")
    got, lab = C.load_cifar_c(tmp_path / "c", ["contrast", "fog"])
    assert set(got) == {"contrast", "fog"} and got["fog"].shape == (5, 4, 32, 32, 3)
    assert np.array_equal(got["fog"][2], images[8:12])
    assert lab.shape == (5, 4) and np.array_equal(lab[3], labels)
    write_cifar_c(tmp_path / "d", labels_times=1)  # labels of one severity are accepted too
    assert np.array_equal(C.load_cifar_c(tmp_path / "d", ["fog"])[1][4], labels)


def test_cifar_c_reader_errors_name_the_problem(tmp_path):
    with pytest.raises(C.CorruptionError, match="is not a folder"):
        C.load_cifar_c(tmp_path / "nope", ["fog"])
    write_cifar_c(tmp_path / "c")
    with pytest.raises(C.CorruptionError, match="has no snow.npy"):
        C.load_cifar_c(tmp_path / "c", ["fog", "snow"])
    np.save(tmp_path / "c" / "fog.npy", np.zeros((7, 32, 32, 3), np.uint8))
    with pytest.raises(C.CorruptionError, match=r"expected uint8 \(5 x n, 32, 32, 3\)"):
        C.load_cifar_c(tmp_path / "c", ["fog"])
    np.save(tmp_path / "c" / "fog.npy", np.zeros((15, 32, 32, 3), np.uint8))
    with pytest.raises(C.CorruptionError, match="has 20 labels for 15 images"):
        C.load_cifar_c(tmp_path / "c", ["fog"])
    (tmp_path / "c" / "labels.npy").write_bytes(b"not numpy")
    with pytest.raises(C.CorruptionError, match="is not a readable .npy file"):
        C.load_cifar_c(tmp_path / "c", ["contrast"])
