"""Mask generators (mean = lam up to the documented border effects, values in [0, 1]), mask augmentation
against slow references, and the torch backend against numpy."""

from __future__ import annotations

import math

import numpy as np
import pytest

from fractalgen.errors import ImageInputError, SettingsError
from fractalgen.mixing import masks
from fractalgen.mixing._backend import NumpyBackend

LAMS = [0.0, 0.1, 0.3, 0.5, 0.7, 0.9, 1.0]
SHAPES = [(32, 32), (17, 40), (1, 1), (1, 7)]


def rng(seed=0):
    return np.random.default_rng(seed)


def centred(name, lam, shape, **extra):
    """Parameters of one mask of ``name`` with its box / blob at the image centre."""
    p = masks.sample_params(name, [lam], shape, rng())
    p.update(cy=np.array([shape[0] / 2]), cx=np.array([shape[1] / 2]), **extra)
    return p


# -- every generator -------------------------------------------------------------------------------------------


@pytest.mark.parametrize("name", list(masks.METHODS))
@pytest.mark.parametrize("shape", SHAPES)
def test_masks_are_float32_in_the_unit_interval(name, shape):
    out = masks.generate(name, np.linspace(0, 1, 21), shape, rng())
    assert out.dtype == np.float32 and out.shape == (21, *shape)
    assert out.min() >= 0.0 and out.max() <= 1.0


@pytest.mark.parametrize("name", list(masks.METHODS))
def test_public_function_returns_one_mask_for_a_number_and_is_seeded(name):
    one = getattr(masks, name)(0.4, (16, 24), rng(3))
    assert one.shape == (16, 24)
    np.testing.assert_array_equal(one, masks.generate(name, 0.4, (16, 24), rng(3)))


@pytest.mark.parametrize("name", ["cutmix", "fmix", "gridmix", "gmix", "agmix"])
def test_random_methods_draw_different_masks(name):
    gen = rng(5)
    a, b = masks.generate(name, 0.5, (32, 32), gen), masks.generate(name, 0.5, (32, 32), gen)
    assert not np.array_equal(a, b)


@pytest.mark.parametrize("lam", LAMS)
def test_mixup_is_the_constant_lam(lam):
    m = masks.mixup(lam, (8, 9))
    np.testing.assert_array_equal(m, np.float32(lam))


@pytest.mark.parametrize("shape", [(32, 32), (17, 40), (224, 224), (1, 7)])
@pytest.mark.parametrize("lam", LAMS)
def test_fmix_is_binary_with_exactly_round_lam_hw_ones(lam, shape):
    m = masks.generate("fmix", np.full(4, lam), shape, rng(1))
    assert set(np.unique(m)) <= {0.0, 1.0}
    np.testing.assert_array_equal(m.sum(axis=(1, 2)), round(lam * shape[0] * shape[1]))


def test_fmix_count_is_exact_even_when_values_tie():
    p = masks.sample_params("fmix", [0.0, 0.3, 0.5, 1.0], (8, 8), rng())
    p["spectrum"][:] = 0  # a constant field: every value ties with the threshold
    np.testing.assert_array_equal(masks.render("fmix", p, (8, 8)).sum(axis=(1, 2)), [0, 19, 32, 64])


def test_fmix_keeps_the_whole_spectrum_at_32_px_and_a_low_pass_block_at_224():
    assert masks.sample_params("fmix", [0.5], (32, 32), rng())["spectrum"].shape == (1, 32, 17)
    # coefficients below 1e-4 of the largest scale are dropped: 10 ** (4 / 3) = 21.5 cycles per image
    assert masks.sample_params("fmix", [0.5], (224, 224), rng())["spectrum"].shape == (1, 43, 22)


def test_fmix_field_is_low_pass():
    """Decay power 3: neighbouring pixels agree far more often than in white noise (about 1/2)."""
    m = masks.generate("fmix", np.full(20, 0.5), (64, 64), rng(2))
    assert (m[:, :, 1:] != m[:, :, :-1]).mean() < 0.1


@pytest.mark.parametrize("lam", LAMS)
def test_cutmix_mean_is_lam_when_the_box_is_inside_and_never_below(lam):
    shape = (32, 48)
    inside = masks.render("cutmix", centred("cutmix", lam, shape), shape)
    assert inside.mean() == pytest.approx(lam, abs=1e-5)
    anywhere = masks.generate("cutmix", np.full(50, lam), shape, rng(4))
    assert (anywhere.mean(axis=(1, 2)) >= lam - 1e-5).all()  # a box cut by the border only raises the mean


def test_cutmix_box_has_the_image_aspect_ratio_and_its_area():
    m = masks.render("cutmix", centred("cutmix", 0.75, (40, 80)), (40, 80))[0]  # box 20 x 40
    rows, cols = np.flatnonzero(m.min(axis=1) < 1), np.flatnonzero(m.min(axis=0) < 1)
    assert (rows.size, cols.size) == (20, 40)
    assert (1 - m).sum() == pytest.approx(0.25 * 40 * 80, abs=1e-3)


@pytest.mark.parametrize("lam", LAMS)
def test_gridmix_mean_is_lam_on_square_images(lam):
    m = masks.generate("gridmix", np.full(30, lam), (48, 48), rng(6))
    np.testing.assert_allclose(m.mean(axis=(1, 2)), lam, atol=1e-5)


def test_gridmix_on_non_square_images_is_off_by_at_most_a_partial_cell():
    shape = (32, 50)
    p = masks.sample_params("gridmix", np.linspace(0, 1, 40), shape, rng(7))
    mean = masks.render("gridmix", p, shape).mean(axis=(1, 2))
    assert (np.abs(mean - p["lam"]) <= p["cell"] / shape[1] + 1e-5).all()


def test_gridmix_holes_repeat_with_the_cell_period():
    p = masks.sample_params("gridmix", [0.5], (60, 60), rng(8))
    p["cell"], p["py"], p["px"] = np.array([15.0]), np.array([0.0]), np.array([0.0])
    m = masks.render("gridmix", p, (60, 60))[0]
    np.testing.assert_allclose(m[:45], m[15:], atol=1e-6)
    np.testing.assert_allclose(m[:, :45], m[:, 15:], atol=1e-6)


def gaussian_reference(lam, shape, cy, cx, q=0.0, theta=0.0):
    """1 - exp(-d^T S^-1 d / 2) with S built as documented: sigma^2 / sqrt(1 - q^2) R [[1, q], [q, 1]] R^T."""
    h, w = shape
    var = (1 - lam) * h * w / (2 * np.pi * math.sqrt(1 - q * q))
    r = np.array([[math.cos(theta), -math.sin(theta)], [math.sin(theta), math.cos(theta)]])
    cov = var * r @ np.array([[1, q], [q, 1]]) @ r.T
    ys, xs = np.mgrid[0:h, 0:w] + 0.5
    d = np.stack([xs - cx, ys - cy], -1)
    return 1 - np.exp(-0.5 * np.einsum("...i,ij,...j->...", d, np.linalg.inv(cov), d))


def test_agmix_with_q_0_and_angle_0_is_gmix():
    shape = (24, 36)
    p = centred("agmix", 0.6, shape, q=np.array([0.0]), theta=np.array([0.0]))
    agmix = masks.render("agmix", p, shape)[0]
    np.testing.assert_allclose(agmix, masks.render("gmix", p, shape)[0], atol=1e-6)
    np.testing.assert_allclose(agmix, gaussian_reference(0.6, shape, 12, 18), atol=1e-5)


@pytest.mark.parametrize("q, theta", [(0.5, 0.3), (-0.8, 2.0), (0.95, 1.0)])
def test_agmix_matches_the_documented_covariance(q, theta):
    shape = (30, 40)
    p = centred("agmix", 0.7, shape, q=np.array([q]), theta=np.array([theta]))
    np.testing.assert_allclose(masks.render("agmix", p, shape)[0],
                               gaussian_reference(0.7, shape, 15, 20, q, theta), atol=1e-5)


@pytest.mark.parametrize("lam", LAMS)
def test_centred_gmix_mean_follows_the_clipped_gaussian_integral(lam):
    """The blob's integral is (1 - lam) H W; inside the image only the erf-clipped part of it counts."""
    shape = (32, 48)
    mean = masks.render("gmix", centred("gmix", lam, shape), shape).mean()
    sigma = math.sqrt(max((1 - lam) * 32 * 48 / (2 * math.pi), 1e-12))
    inside = math.erf(32 / (2 * math.sqrt(2) * sigma)) * math.erf(48 / (2 * math.sqrt(2) * sigma))
    # the pixel sum is a midpoint rule for the integral: relative error about 1 / (24 sigma^2) <= 2e-4 here
    assert mean == pytest.approx(1 - (1 - lam) * inside, abs=3e-4)


@pytest.mark.parametrize("q", [-0.9, -0.5, 0.0, 0.5, 0.9])
def test_agmix_mean_is_lam_for_every_q_when_the_blob_fits(q):
    shape = (128, 128)
    p = centred("agmix", 0.95, shape, q=np.array([q]), theta=np.array([0.7]))
    assert masks.render("agmix", p, shape).mean() == pytest.approx(0.95, abs=1e-3)


@pytest.mark.parametrize("name", ["gmix", "agmix"])
def test_gaussian_mean_never_falls_below_lam(name):
    lams = np.tile(LAMS, 20)
    m = masks.generate(name, lams, (32, 32), rng(9))
    assert (m.mean(axis=(1, 2)) >= lams - 1e-4).all()  # clipping at the border only removes blob mass


@pytest.mark.parametrize("lam, match", [(1.5, "outside"), (-0.1, "outside"), (float("nan"), "outside"),
                                        ([[0.5]], "1-D")])
def test_bad_lam_is_a_one_line_error(lam, match):
    with pytest.raises(ImageInputError, match=match):
        masks.cutmix(lam, (8, 8), rng())


def test_unknown_method_and_bad_shape_are_errors():
    with pytest.raises(SettingsError, match="unknown mask method 'fmixx'; choose from mixup"):
        masks.generate("fmixx", 0.5, (8, 8), rng())
    with pytest.raises(ImageInputError, match="empty side"):
        masks.fmix(0.5, (0, 8), rng())
    with pytest.raises(ImageInputError, match="pair of ints"):
        masks.fmix(0.5, 8, rng())


def test_generators_leave_global_rng_alone(global_rng_guard):
    for name in masks.METHODS:
        masks.generate(name, [0.2, 0.8], (16, 16), rng())
    masks.MaskAugment(p_smooth=1, p_aug=1, seed=0)(np.ones((3, 16, 16), np.float32))


# -- mask augmentation -----------------------------------------------------------------------------------------


def box_reference(m, r):
    """Mean over the (2r+1)^2 window clipped to the image, pixel by pixel."""
    h, w = m.shape
    out = np.empty_like(m, dtype=np.float64)
    for y in range(h):
        for x in range(w):
            out[y, x] = m[max(0, y - r):y + r + 1, max(0, x - r):x + r + 1].mean()
    return out


def test_smooth_matches_the_window_mean_per_mask():
    m = rng(10).random((4, 13, 17)).astype(np.float32)
    radius = np.array([1, 3, 0, 20])  # 20 exceeds the image: the mean of everything
    out = masks.smooth(m, radius)
    for i, r in enumerate(radius):
        np.testing.assert_allclose(out[i], box_reference(m[i], r), atol=1e-5)
    np.testing.assert_array_equal(out[2], m[2])


def test_smoothing_kernel_matches_the_array_version():
    m = rng(21).random((5, 13, 17)).astype(np.float32)
    radius = np.array([1, 3, 2, 20, 3])  # several windows in one pass, one wider than the mask
    xp = NumpyBackend()
    array_version = masks._box_axis(masks._box_axis(m, radius, 1, xp), radius, 2, xp)
    np.testing.assert_allclose(masks.smooth(m, radius), array_version, atol=2e-6)


def test_smooth_keeps_constants_and_leaves_its_input_alone():
    m = np.full((2, 9, 9), 0.3, np.float32)
    out = masks.smooth(m, 2)
    np.testing.assert_allclose(out, 0.3, atol=1e-6)
    assert (m == np.float32(0.3)).all()


def test_affine_identity_is_a_no_op():
    m = rng(11).random((3, 10, 14)).astype(np.float32)
    np.testing.assert_allclose(masks.affine(m, np.tile(np.eye(2), (3, 1, 1))), m, atol=1e-6)


def test_quarter_turn_of_a_square_mask_is_rot90_clockwise():
    m = rng(12).random((1, 12, 12)).astype(np.float32)
    turned = masks.affine(m, masks.affine_matrices([90.0], [0.0], [0.0]))
    np.testing.assert_allclose(turned[0], np.rot90(m[0], k=-1), atol=1e-5)


def test_affine_kernel_matches_the_array_version_including_far_mirroring():
    m = masks.generate("fmix", np.full(6, 0.4), (20, 28), rng(13))
    mats = masks.affine_matrices(rng(14).uniform(-40, 40, 6), [0, 60, -70, 80, 5, -85], [0, 0, 40, 70, -80, 5])
    reference = masks._affine_tensor(m, np.linalg.inv(mats), NumpyBackend())
    np.testing.assert_allclose(masks.affine(m, mats), reference, atol=2e-5)


def test_affine_maps_are_area_preserving():
    """A blob well inside the image keeps its mass under rotation + shear (determinant 1)."""
    m = masks.render("gmix", centred("gmix", 0.97, (64, 64)), (64, 64))
    mats = masks.affine_matrices([15.0, -15.0], [10.0, -10.0], [10.0, 10.0])
    np.testing.assert_allclose(np.linalg.det(mats), 1.0)
    np.testing.assert_allclose(masks.affine(np.repeat(m, 2, 0), mats).mean(axis=(1, 2)), m.mean(), atol=1e-4)


def test_mask_augment_frequencies_and_ranges():
    n = 20000
    aug = masks.MaskAugment(p_smooth=0.5, p_aug=0.25, rotate=15, shear=10)
    p = aug.sample_params(n, (224, 224), rng(15))
    for observed, prob in [((p["radius"] > 0).mean(), 0.5), (p["warp"].mean(), 0.25)]:
        assert abs(observed - prob) < 4 * math.sqrt(prob * (1 - prob) / n)
    assert set(np.unique(p["radius"])) == set(range(0, 15))  # r up to round(224 / 16) = 14
    assert np.abs(p["angle"]).max() <= 15 and np.abs(p["shear_x"]).max() <= 10
    assert set(np.unique(aug.sample_params(n, (32, 32), rng())["radius"])) == {0, 1, 2}


def test_mask_augment_returns_a_changed_copy():
    m = masks.generate("cutmix", np.full(5, 0.5), (32, 32), rng(16))
    before = m.copy()
    out = masks.MaskAugment(p_smooth=1, p_aug=1, seed=1)(m)
    np.testing.assert_array_equal(m, before)
    assert out.shape == m.shape and not np.allclose(out, m)
    assert out.min() >= 0 and out.max() <= 1
    assert masks.MaskAugment(seed=0)(m[0]).shape == (32, 32)


@pytest.mark.parametrize("kwargs, match", [({"p_smooth": 1.5}, "p_smooth"), ({"p_aug": -1}, "p_aug"),
                                           ({"rotate": 200}, "rotate"), ({"max_radius": 0}, "max_radius")])
def test_mask_augment_rejects_bad_settings(kwargs, match):
    with pytest.raises(SettingsError, match=match):
        masks.MaskAugment(**kwargs)


# -- torch backend ---------------------------------------------------------------------------------------------


@pytest.mark.parametrize("name", list(masks.METHODS))
def test_torch_render_equals_numpy(name):
    torch = pytest.importorskip("torch")
    shape = (24, 40)
    p = masks.sample_params(name, np.linspace(0.05, 0.95, 9), shape, rng(17))
    on_torch = masks.render(name, p, shape, like=torch.zeros(1))
    assert on_torch.dtype == torch.float32
    reference = masks.render(name, p, shape)
    if name == "fmix":  # same count; a float32 near-tie at the threshold may pick another pixel
        np.testing.assert_array_equal(on_torch.sum((1, 2)).numpy(), reference.sum((1, 2)))
        assert (on_torch.numpy() != reference).mean() < 1e-3
    else:
        np.testing.assert_allclose(on_torch.numpy(), reference, atol=1e-5)


def test_torch_mask_augmentation_equals_numpy():
    torch = pytest.importorskip("torch")
    m = masks.generate("gridmix", np.linspace(0.1, 0.9, 8), (32, 32), rng(18))
    aug = masks.MaskAugment(p_smooth=0.7, p_aug=0.7)
    p = aug.sample_params(8, (32, 32), rng(19))
    np.testing.assert_allclose(aug.apply(torch.as_tensor(m), p).numpy(), aug.apply(m, p), atol=2e-5)


def test_torch_smoothing_equals_the_numpy_kernel():
    torch = pytest.importorskip("torch")
    m = rng(20).random((5, 13, 17)).astype(np.float32)
    radius = np.array([1, 3, 0, 20, 3])
    np.testing.assert_allclose(masks.smooth(torch.as_tensor(m), radius).numpy(), masks.smooth(m, radius), atol=2e-5)


def test_torch_fmix_count_is_exact_even_when_values_tie():
    torch = pytest.importorskip("torch")
    p = masks.sample_params("fmix", [0.0, 0.3, 0.5, 1.0], (8, 8), rng())
    p["spectrum"][:] = 0
    np.testing.assert_array_equal(masks.render("fmix", p, (8, 8), like=torch.zeros(1)).sum((1, 2)).numpy(),
                                  [0, 19, 32, 64])
