"""MiAMix (Algorithm 1): blend and soft labels against the merged mask, sampling statistics, options, numpy and
torch agreement, collate; FractalMaskMix: label-preserving mix with a fractal source."""

from __future__ import annotations

import math
import pickle

import numpy as np
import pytest

from fractalgen.errors import ImageInputError, SettingsError
from fractalgen.mixing import FractalMaskMix, MiAMix, masks
from fractalgen.mixing._backend import NumpyBackend
from fractalgen.mixing.miamix import _arrays, flip_shift


def rng(seed=0):
    return np.random.default_rng(seed)


def drawn(mix, n, shape, gen=None):
    """MiAMix params (JSON-ready lists) as numpy arrays, to inspect them."""
    return _arrays(mix.sample_params(gen, n, shape))


def batch(b=16, size=32, dtype=np.uint8, seed=0):
    x = rng(seed).integers(0, 256, (b, size, size, 3), dtype=np.uint8)
    return x if dtype == np.uint8 else (x / 255).astype(dtype)


def within(observed: float, p: float, n: int) -> bool:
    """|observed - p| within 4 binomial standard errors."""
    return abs(observed - p) <= 4 * math.sqrt(p * (1 - p) / n)


@pytest.fixture
def torch_rng_guard():
    torch = pytest.importorskip("torch")
    state = torch.random.get_rng_state()
    yield torch
    assert torch.equal(state, torch.random.get_rng_state()), "torch's global generator was used"


# -- blend and labels --------------------------------------------------------------------------------------------


def test_output_is_the_mask_blend_of_each_image_and_its_partner():
    x, y = batch(12, dtype=np.float64), np.arange(12)
    mix = MiAMix(num_classes=12, p_self=0.0, seed=1)
    params = drawn(mix, 12, (32, 32))
    out, soft = mix.apply(x, y, params)
    m = mix.render_masks(params, (32, 32))[..., None]
    np.testing.assert_allclose(out, m * x + (1 - m) * x[params["partner"]], atol=1e-6)
    assert out.dtype == np.float64 and soft.dtype == np.float32


def test_soft_labels_sum_to_one_and_carry_the_merged_mask_mean():
    x, y = batch(20), np.arange(20)  # distinct classes: both weights are visible
    mix = MiAMix(num_classes=20, seed=2)
    params = drawn(mix, 20, (32, 32))
    _, soft = mix.apply(x, y, params)
    lam = mix.render_masks(params, (32, 32)).mean(axis=(1, 2))
    np.testing.assert_allclose(soft.sum(1), 1, atol=1e-6)
    mixed = ~params["is_self"]
    np.testing.assert_allclose(soft[mixed, y[mixed]], lam[mixed], atol=1e-6)
    np.testing.assert_allclose(soft[mixed, params["partner"][mixed]], 1 - lam[mixed], atol=1e-6)


def test_self_mixing_blends_two_views_and_keeps_the_label():
    x, y = batch(6, dtype=np.float32), np.arange(6)
    mix = MiAMix(num_classes=6, p_self=1.0, seed=3)
    params = drawn(mix, 6, (32, 32))
    out, soft = mix.apply(x, y, params)
    np.testing.assert_array_equal(params["partner"], np.arange(6))
    np.testing.assert_array_equal(soft, np.eye(6, dtype=np.float32))
    views = np.random.default_rng(params["view_seed"])
    first, second = flip_shift(x, views), flip_shift(x, views)
    m = mix.render_masks(params, (32, 32))[..., None]
    np.testing.assert_allclose(out, m * first + (1 - m) * second, atol=1e-6)
    assert not np.allclose(first, second)


def test_custom_self_augment_is_used_for_both_views():
    calls = []

    def blackout(images, gen):
        calls.append(images.shape)
        return np.zeros_like(images)

    out, _ = MiAMix(num_classes=4, p_self=1.0, self_augment=blackout, seed=0)(batch(4), np.arange(4))
    assert calls == [(4, 32, 32, 3)] * 2 and not out.any()


def test_labels_may_be_one_hot_or_soft():
    x, y = batch(8), rng(1).integers(0, 5, 8)
    from_int = MiAMix(num_classes=5, seed=4)(x, y)
    from_onehot = MiAMix(num_classes=5, seed=4)(x, np.eye(5, dtype=np.float32)[y])
    np.testing.assert_array_equal(from_int[0], from_onehot[0])
    np.testing.assert_allclose(from_int[1], from_onehot[1], atol=1e-7)


@pytest.mark.parametrize("dtype", [np.uint8, np.float32, np.float64])
def test_dtype_and_shape_kept_and_input_untouched(dtype):
    x, y = batch(7, 24, dtype), np.arange(7) % 3
    before = x.copy()
    out, soft = MiAMix(num_classes=3, seed=5)(x, y)
    assert out.dtype == dtype and out.shape == x.shape and soft.shape == (7, 3)
    np.testing.assert_array_equal(x, before)
    assert out.min() >= 0 and out.max() <= (255 if dtype == np.uint8 else 1)


@pytest.mark.parametrize("b", [1, 2, 3, 7])
def test_any_batch_size_works_and_a_batch_of_one_self_mixes(b):
    x, y = batch(b, 16), np.zeros(b, int)
    mix = MiAMix(num_classes=2, seed=6)
    out, soft = mix(x, y)
    assert out.shape == x.shape and soft.shape == (b, 2)
    params = drawn(mix, b, (16, 16))
    assert params["is_self"].all() if b == 1 else (params["partner"][~params["is_self"]]
                                                    != np.flatnonzero(~params["is_self"])).all()


@pytest.mark.parametrize("value", [0, 255])
@pytest.mark.parametrize("size", [1, 32])
def test_constant_batches_stay_constant(value, size):
    """All black and all lit: any convex mix of equal pixels is that pixel (and uint8 rounding keeps 255)."""
    x = np.full((5, size, size, 3), value, np.uint8)
    mix = MiAMix(num_classes=2, p_self=0.5, seed=20)
    out, _ = mix(x, np.arange(5) % 2)
    np.testing.assert_array_equal(out, x)


def test_same_params_give_the_same_bytes():
    x, y = batch(9), np.arange(9) % 3
    mix = MiAMix(num_classes=3, p_self=0.5, seed=21)
    params = drawn(mix, 9, (32, 32))
    (a, la), (b, lb) = mix.apply(x, y, params), mix.apply(x, y, params)
    np.testing.assert_array_equal(a, b)
    np.testing.assert_array_equal(la, lb)


def test_single_channel_and_non_square_images():
    x = batch(5, 20)[:, :, :12, :1]
    out, _ = MiAMix(num_classes=2, seed=7)(x, np.zeros(5, int))
    assert out.shape == (5, 20, 12, 1)


# -- sampling statistics -----------------------------------------------------------------------------------------


def sampled(mix, batches=300, b=32, shape=(8, 8), seed=8):
    gen = rng(seed)
    return [drawn(mix, b, shape, gen) for _ in range(batches)]


def test_self_mixing_frequency_is_p_self():
    params = sampled(MiAMix(num_classes=2, p_self=0.1))
    is_self = np.concatenate([p["is_self"] for p in params])
    assert within(is_self.mean(), 0.1, is_self.size)


def test_partners_are_uniform_over_the_other_samples():
    params = sampled(MiAMix(num_classes=2, p_self=0.0), b=5)
    counts = np.zeros((5, 5))
    for p in params:
        np.add.at(counts, (np.arange(5), p["partner"]), 1)
    assert (np.diag(counts) == 0).all()
    n = counts.sum(1)[0]
    assert all(within(c / n, 0.25, n) for c in counts[~np.eye(5, dtype=bool)])


def test_methods_follow_their_weights():
    mix = MiAMix(num_classes=2)
    params = sampled(mix)
    chosen = np.concatenate([p["masks"]["method"][p["masks"]["method"] >= 0] for p in params])
    weights = np.array([2, 1, 1, 1, 1]) / 6
    assert list(mix.stack.methods) == ["mixup", "cutmix", "fmix", "gridmix", "agmix"]
    for i, w in enumerate(weights):
        assert within((chosen == i).mean(), w, chosen.size)


def test_layers_are_uniform_and_ratios_follow_the_dirichlet():
    params = [p["masks"] for p in sampled(MiAMix(num_classes=2, k_max=2), batches=200)]
    k = np.concatenate([p["k"] for p in params])
    parts = np.concatenate([p["parts"] for p in params])
    assert within((k == 2).mean(), 0.5, k.size)
    assert (parts[k == 1, 1] == 0).all()
    rest = 1 - parts.sum(1)
    # Dirichlet(1, 1, 2) for k = 2: each part ~ Beta(1, 3) (mean 1/4, sd 0.194); rest ~ Beta(2, 2) (mean 1/2)
    two = parts[k == 2]
    assert abs(two.mean(0) - 0.25).max() < 4 * 0.194 / math.sqrt(two.shape[0])
    assert abs(rest[k == 2].mean() - 0.5) < 4 * 0.224 / math.sqrt(two.shape[0])
    assert abs(parts[k == 1, 0].mean() - 0.5) < 4 * 0.289 / math.sqrt((k == 1).sum())


def test_only_cutting_masks_are_augmented_at_their_rates():
    mix = MiAMix(num_classes=2)
    smoothed = warped = total = 0
    for p in sampled(mix):
        for g in p["masks"]["groups"]:
            assert (g["augment"] is not None) == (g["method"] in ("cutmix", "fmix", "gridmix"))
            if g["augment"] is not None:
                smoothed += (g["augment"]["radius"] > 0).sum()
                warped += g["augment"]["warp"].sum()
                total += g["sample"].size
    assert within(smoothed / total, 0.5, total) and within(warped / total, 0.25, total)


# -- merge and lambda options (MixUp-only stacks have closed forms) ----------------------------------------------


@pytest.mark.parametrize("merge", ["product", "sum"])
def test_merged_mask_combines_each_samples_augmented_layers_in_order(merge):
    mix = MiAMix(num_classes=2, k_max=3, merge=merge, p_aug=0.5, p_smooth=0.5, seed=30)
    params = drawn(mix, 40, (16, 16))["masks"]
    layers = {}
    for g in params["groups"]:
        out = masks.render(g["method"], g["params"], (16, 16))
        if g["augment"] is not None:
            out = mix.stack.augment.apply(out, g["augment"])
        layers.update({(s, l): m for s, l, m in zip(g["sample"], g["layer"], out)})
    merged = mix.stack.render(params, (16, 16), NumpyBackend())
    for i in range(40):
        expected = layers[i, 0]
        for level in range(1, params["k"][i]):
            other = layers[i, level]
            expected = expected * other if merge == "product" else np.clip(expected + other, 0, 1)
        np.testing.assert_array_equal(merged[i], expected)


@pytest.mark.parametrize("merge, lam_from", [("product", "mask"), ("sum", "mask"), ("product", "drawn")])
def test_merge_and_lambda_options(merge, lam_from):
    mix = MiAMix(num_classes=30, methods=["mixup"], merge=merge, lam_from=lam_from, p_self=0.0, k_max=3, seed=9)
    params = drawn(mix, 30, (8, 8))
    _, soft = mix.apply(batch(30, 8), np.arange(30), params)
    parts = params["masks"]["parts"]
    if merge == "sum":  # each mask keeps its part of x_i; the clipped sum keeps all of them
        expected = np.minimum(parts.sum(1), 1)
    elif lam_from == "mask":  # each mask hands its part to the partner; the product keeps what is left of each
        expected = np.prod(1 - parts, axis=1)
    else:  # the drawn share: the Dirichlet's last part
        expected = 1 - parts.sum(1)
    np.testing.assert_allclose(soft[np.arange(30), np.arange(30)], expected, atol=1e-6)


# -- determinism, backends, errors --------------------------------------------------------------------------------


def test_same_seed_same_mix_other_seed_other_mix(global_rng_guard):
    x, y = batch(), np.arange(16) % 10
    a, b = MiAMix(num_classes=10, seed=11), MiAMix(num_classes=10, seed=11)
    for _ in range(3):
        (xa, ya), (xb, yb) = a(x, y), b(x, y)
        np.testing.assert_array_equal(xa, xb)
        np.testing.assert_array_equal(ya, yb)
    assert not np.array_equal(MiAMix(num_classes=10, seed=12)(x, y)[0], xa)
    np.testing.assert_array_equal(a(x, y, rng=rng(3))[0], b(x, y, rng=rng(3))[0])


def test_pickled_mix_continues_the_same_stream():
    x, y = batch(), np.arange(16) % 10
    mix = MiAMix(num_classes=10, seed=13)
    copy = pickle.loads(pickle.dumps(mix))
    np.testing.assert_array_equal(mix(x, y)[0], copy(x, y)[0])


@pytest.mark.parametrize("cpu_kernels", [True, False])
@pytest.mark.parametrize("dtype", ["uint8", "float32"])
def test_numpy_and_torch_paths_agree(dtype, cpu_kernels, torch_rng_guard, global_rng_guard):
    torch = torch_rng_guard
    x = batch(33, 32, np.uint8 if dtype == "uint8" else np.float32, seed=14)
    y = rng(2).integers(0, 10, 33)
    out_np, soft_np = MiAMix(num_classes=10, seed=15)(x, y)
    xt = torch.as_tensor(x).permute(0, 3, 1, 2).contiguous()
    out_t, soft_t = MiAMix(num_classes=10, seed=15, cpu_kernels=cpu_kernels)(xt, torch.as_tensor(y))
    assert out_t.dtype == xt.dtype and soft_t.dtype == torch.float32 and out_t.device == xt.device
    np.testing.assert_allclose(soft_t.numpy(), soft_np, atol=1e-5)
    diff = np.abs(out_t.permute(0, 2, 3, 1).numpy().astype(np.float64) - out_np)
    # uint8: round-half-even (torch) vs half-up (kernel) may differ by one level; FMix near-ties swap a pixel
    tolerance = 1 if dtype == "uint8" else 1e-5
    assert (diff > tolerance).mean() < 1e-3


def as_tensor_batch(torch, x):
    return torch.as_tensor(x).permute(0, 3, 1, 2).contiguous()


@pytest.mark.parametrize("dtype", [np.uint8, np.float32, np.float64])
def test_cpu_tensors_run_the_kernels_and_give_the_numpy_result_exactly(dtype, torch_rng_guard, global_rng_guard):
    torch = torch_rng_guard
    x, y = batch(9, 20, dtype, seed=22)[:, :, :12], rng(3).integers(0, 4, 9)  # odd batch, not square
    out_np, soft_np = MiAMix(num_classes=4, p_self=0.5, seed=23)(x, y)
    xt = as_tensor_batch(torch, x)
    before = xt.clone()
    out_t, soft_t = MiAMix(num_classes=4, p_self=0.5, seed=23)(xt, torch.as_tensor(y))
    assert out_t.is_contiguous() and out_t.dtype == xt.dtype and soft_t.dtype == torch.float32
    np.testing.assert_array_equal(out_t.permute(0, 2, 3, 1).numpy(), out_np)
    np.testing.assert_array_equal(soft_t.numpy(), soft_np)
    assert torch.equal(xt, before)


def test_cpu_kernels_take_any_tensor_memory_layout(torch_rng_guard):
    torch = torch_rng_guard
    x, y = batch(7, 16, np.float32, seed=24), torch.arange(7) % 3
    expected = MiAMix(num_classes=3, p_self=0.5, seed=25)(as_tensor_batch(torch, x), y)[0]
    channels_last = as_tensor_batch(torch, x).contiguous(memory_format=torch.channels_last)
    strided = as_tensor_batch(torch, np.concatenate([x, x], axis=2))[:, :, :, ::2]  # every other column
    strided[:] = as_tensor_batch(torch, x)
    for xt in (channels_last, strided, as_tensor_batch(torch, np.repeat(x, 2, axis=0))[::2]):
        assert torch.equal(MiAMix(num_classes=3, p_self=0.5, seed=25)(xt, y)[0], expected)


def test_tensors_the_kernels_cannot_view_take_the_tensor_operations(torch_rng_guard):
    torch = torch_rng_guard
    x, y = batch(6, 16, np.float32, seed=26), torch.arange(6) % 2
    expected = MiAMix(num_classes=2, seed=27)(x, y.numpy())[0]
    half = MiAMix(num_classes=2, seed=27)(as_tensor_batch(torch, x).to(torch.bfloat16), y)[0]
    assert half.dtype == torch.bfloat16
    np.testing.assert_allclose(half.float().permute(0, 2, 3, 1).numpy(), expected, atol=1e-2)
    leaf = as_tensor_batch(torch, x).requires_grad_()
    out = MiAMix(num_classes=2, seed=27)(leaf, y)[0]
    out.sum().backward()  # the graph is kept: the mix is differentiable in the images
    assert leaf.grad is not None and leaf.grad.shape == leaf.shape


def test_self_augment_sees_tensors_on_the_kernel_path(torch_rng_guard):
    torch = torch_rng_guard

    def flip(images, gen):
        assert isinstance(images, torch.Tensor) and images.shape[1] == 3
        return images.flip(3)

    x = batch(5, 16, np.float32, seed=28)
    mix = MiAMix(num_classes=2, p_self=1.0, self_augment=flip, seed=29)
    out, _ = mix(as_tensor_batch(torch, x), torch.zeros(5, dtype=torch.int64))
    np.testing.assert_allclose(out.permute(0, 2, 3, 1).numpy(), x[:, :, ::-1], atol=1e-6)


def test_torch_labels_one_hot_on_the_device(torch_rng_guard):
    torch = torch_rng_guard
    x = torch.rand(4, 3, 16, 16, generator=torch.Generator().manual_seed(0))
    out, soft = MiAMix(num_classes=3, seed=16)(x, torch.eye(3)[[0, 1, 2, 0]])
    assert out.shape == x.shape and soft.shape == (4, 3) and soft.device == x.device


@pytest.mark.parametrize("images, labels, match", [
    (np.zeros((4, 8, 8)), np.zeros(4, int), "shape"),
    (np.zeros((0, 8, 8, 3)), np.zeros(0, int), "non-empty"),
    (np.zeros((4, 8, 8, 3), np.int32), np.zeros(4, int), "dtype"),
    (np.zeros((4, 8, 8, 3)), np.array([0, 1, 5, 0]), "label 5 is outside 0..2"),
    (np.zeros((4, 8, 8, 3)), np.array([0, -1, 1, 0]), "label -1"),
    (np.zeros((4, 8, 8, 3)), np.zeros(3, int), r"shape \(4,\)"),
    (np.zeros((4, 8, 8, 3)), np.zeros((4, 2)), "one-hot"),
])
def test_bad_batches_are_one_line_errors(images, labels, match):
    with pytest.raises(ImageInputError, match=match):
        MiAMix(num_classes=3, seed=0)(images, labels)


@pytest.mark.parametrize("kwargs, match", [
    ({"methods": {"fmix": 1, "cutmixx": 1}}, "unknown mask method 'cutmixx'"),
    ({"methods": {"fmix": 0}}, "positive weight"), ({"methods": {"fmix": -1}}, "weight of mask method 'fmix' = -1"),
    ({"p_self": 2}, "p_self"), ({"p_aug": -0.5}, "p_aug"), ({"merge": "max"}, "merge"),
    ({"lam_from": "orig"}, "lam_from"), ({"k_max": 0}, "k_max"), ({"alpha": 0}, "alpha"),
    ({"self_augment": 3}, "callable"), ({"num_classes": 0}, "num_classes"), ({"alpha": float("inf")}, "alpha = inf"),
    ({"alpha": float("nan")}, "alpha = nan"), ({"label_smoothing": 1.5}, "label_smoothing"), ({"prob": -1}, "prob"),
])
def test_bad_settings_are_one_line_errors(kwargs, match):
    with pytest.raises(SettingsError, match=match):
        MiAMix(**{"num_classes": 10, **kwargs})


def test_params_for_another_batch_size_are_refused():
    mix = MiAMix(num_classes=2)
    with pytest.raises(ImageInputError, match="drawn for 4 images, the batch has 5"):
        mix.apply(batch(5), np.zeros(5, int), drawn(mix, 4, (32, 32)))


def test_repr_shows_the_paper_defaults():
    r = repr(MiAMix(num_classes=100))
    for part in ["alpha=1.0", "k_max=2", "'mixup': 2.0", "'agmix': 1.0", "p_self=0.1", "p_aug=0.25",
                 "p_smooth=0.5", "merge='product'", "lam_from='mask'"]:
        assert part in r


# -- collate -----------------------------------------------------------------------------------------------------


def test_collate_stacks_then_mixes_numpy():
    x, y = batch(6), np.arange(6) % 4
    out, soft = MiAMix(num_classes=4, seed=17).collate(list(zip(x, y)))
    ref_out, ref_soft = MiAMix(num_classes=4, seed=17)(x, y)
    np.testing.assert_array_equal(out, ref_out)
    np.testing.assert_array_equal(soft, ref_soft)


def test_params_are_json_ready_and_replay_exactly():
    import json

    x, y = batch(10), np.arange(10) % 4
    mix = MiAMix(num_classes=4, p_self=0.3, seed=40)
    params = json.loads(json.dumps(mix.sample_params(7, 10, (32, 32))))
    out, soft = mix.apply(x, y, params)
    ref_out, ref_soft = mix(x, y, rng=7)  # an int rng: a generator seeded by it
    np.testing.assert_array_equal(out, ref_out)
    np.testing.assert_array_equal(soft, ref_soft)


def test_label_smoothing_and_the_probability_of_mixing():
    x, y = batch(8), np.arange(8) % 4
    smooth = MiAMix(num_classes=4, label_smoothing=0.2, prob=0.0, seed=41)
    out, soft = smooth(x, y)
    np.testing.assert_array_equal(out, x)  # never mixed: the images come back, the labels smoothed
    np.testing.assert_allclose(soft, np.eye(4)[y] * 0.8 + 0.05, atol=1e-6)
    mixed = [not np.array_equal(MiAMix(num_classes=4, prob=0.3, seed=s)(x, y)[0], x) for s in range(400)]
    assert within(np.mean(mixed), 0.3, 400)
    _, soft = MiAMix(num_classes=4, label_smoothing=0.2, p_self=0.0, seed=42)(x, y)
    np.testing.assert_allclose(soft.sum(1), 1, atol=1e-6)
    assert soft.min() >= 0.05 - 1e-6  # every class keeps at least its smoothing share


# -- FractalMaskMix ----------------------------------------------------------------------------------------------


class StubSource:
    """The FractalSource interface: random crops of a fixed random array."""

    def __init__(self, size=32, seed=0):
        self.size = size
        self.pool = rng(seed).integers(0, 256, (4, 2 * size, 2 * size, 3), dtype=np.uint8)

    def __len__(self):
        return len(self.pool)

    def sample(self, gen):
        i, y, x = gen.integers(len(self.pool)), *gen.integers(0, self.size + 1, 2)
        return self.pool[i, y:y + self.size, x:x + self.size]


def test_fractal_mask_mix_is_the_mask_blend_of_the_image_and_one_fractal():
    mix = FractalMaskMix(StubSource(), seed=0)
    x = batch(1)[0]
    params = mix.sample_params(3, (32, 32))
    f = StubSource().pool[0, :32, :32]
    m = mix.render_masks(params, (32, 32))[..., None]
    expected = np.floor(m * x + (1 - m) * f.astype(np.float64) + 0.5)
    np.testing.assert_allclose(mix.apply(x, f, params), expected, atol=1)
    assert mix.needs_fractal(params)


def test_fractal_share_is_capped_by_max_share():
    mix = FractalMaskMix(StubSource(), max_share=0.3, p_aug=0.0, p_smooth=0.0, k_max=3)
    gen = rng(19)
    kept = np.array([mix.render_masks(mix.sample_params(gen, (32, 32)), (32, 32)).mean() for _ in range(400)])
    assert kept.min() >= 0.7 - 1e-3  # FMix rounds to whole pixels
    assert kept.mean() < 0.95  # and the fractal does show


@pytest.mark.parametrize("kind", ["hwc-uint8", "hwc-float", "pil"])
def test_fractal_mask_mix_keeps_type_shape_and_range(kind, global_rng_guard):
    from PIL import Image

    base = batch(3)
    image = {"hwc-uint8": base[0], "hwc-float": base[0] / 255.0, "pil": Image.fromarray(base[0])}[kind]
    out = FractalMaskMix(StubSource(), seed=1)(image)
    if kind == "pil":
        assert isinstance(out, Image.Image) and out.size == (32, 32) and out.mode == "RGB"
        return
    assert out.shape == image.shape and out.dtype == image.dtype
    assert out.min() >= 0 and out.max() <= (1.0 if kind == "hwc-float" else 255)
    assert not np.array_equal(out, image)


def test_fractal_mask_mix_is_seeded_and_checks_its_source():
    x = batch(1)[0]
    np.testing.assert_array_equal(FractalMaskMix(StubSource(), seed=2)(x), FractalMaskMix(StubSource(), seed=2)(x))
    with pytest.raises(ImageInputError, match="size=32"):
        FractalMaskMix(StubSource(size=16))(x)
    with pytest.raises(ImageInputError, match="cannot draw fractals from object"):
        FractalMaskMix(object())
    with pytest.raises(SettingsError, match="max_share"):
        FractalMaskMix(StubSource(), max_share=1.5)
    with pytest.raises(SettingsError, match="FractalMaskMix has no released variant"):
        FractalMaskMix(StubSource(), variant="released")
    assert "max_share=0.5" in repr(FractalMaskMix(StubSource()))


def test_fractal_mask_mix_with_a_real_fractal_source(global_rng_guard):
    from fractalgen.mixing import FractalSource

    fractals = rng(20).integers(0, 256, (6, 36, 36, 1), dtype=np.uint8)  # a grayscale set: broadcast to RGB
    mix = FractalMaskMix(FractalSource(fractals, size=32, seed=0), seed=3)
    x = batch(4)[0]
    out = mix(x)
    assert out.shape == x.shape and out.dtype == np.uint8 and not np.array_equal(out, x)
