"""IPMix's structure, from recorded draws: the final mix, chains, patch boxes, scars, partners."""

from __future__ import annotations

import math
from collections import Counter

import numpy as np
import pytest

from fractalgen.mixing import IPMix, blend, ops
from fractalgen.mixing.ipmix import patch_box

N = 2000


@pytest.fixture
def plans(draw_plans):
    return draw_plans(IPMix, N)


def test_output_is_m_times_the_weighted_chains_plus_1_minus_m_times_x(source, scene):
    aug = IPMix(source)
    x = scene()
    for seed in range(20):
        rng = np.random.default_rng(seed)
        plan = aug.sample_params(rng, x.shape[:2])
        f = source.sample(rng) if aug.needs_fractal(plan) else None
        chains = [aug.chain(x, f, c).astype(np.float64) / 255 for c in plan["chains"]]
        m = plan["m"]
        expect = m * sum(w * c for w, c in zip(plan["w"], chains)) + (1 - m) * x / 255
        np.testing.assert_allclose(aug.augment(x, np.random.default_rng(seed)), expect, atol=1e-5)


def test_mixing_weights_are_dirichlet_and_the_skip_weight_beta(plans):
    w = np.array([p["w"] for p in plans])
    m = np.array([p["m"] for p in plans])
    np.testing.assert_allclose(w.sum(axis=1), 1, atol=1e-12)
    assert (w >= 0).all() and ((0 <= m) & (m <= 1)).all()
    # Dirichlet(1, 1, 1): E[w_i] = 1/3, sd sqrt(2/36); Beta(1, 1): E[m] = 1/2, sd sqrt(1/12)
    assert np.abs(w.mean(axis=0) - 1 / 3).max() < 4 * math.sqrt(2 / 36 / N)
    assert abs(m.mean() - 0.5) < 4 * math.sqrt(1 / 12 / N)


@pytest.mark.parametrize("alpha", [1.0, 0.3, 0.01])
def test_mixing_weights_equal_numpys_dirichlet_draws(source, alpha):
    aug = IPMix(source, alpha=alpha)
    for seed in range(5):
        w = aug.sample_params(np.random.default_rng(seed), (8, 8))["w"]
        np.testing.assert_allclose(w, np.random.default_rng(seed).dirichlet([alpha] * 3), rtol=1e-12)


def test_chain_types_are_half_and_half_and_lengths_uniform_on_1_to_t(plans, within):
    chains = [c for p in plans for c in p["chains"]]
    assert within(sum(c["kind"] == "image" for c in chains), len(chains), 1 / 2)
    lengths = Counter(len(c["ops"] if c["kind"] == "image" else c["steps"]) for c in chains)
    assert set(lengths) == {1, 2, 3}
    assert all(within(lengths[n], len(chains), 1 / 3) for n in (1, 2, 3))


def test_released_chain_lengths_include_the_empty_chain(draw_plans, within):
    chains = [c for p in draw_plans(IPMix, N, chain_lengths="released") for c in p["chains"]]
    lengths = Counter(len(c["ops"] if c["kind"] == "image" else c["steps"]) for c in chains)
    assert set(lengths) == {0, 1, 2, 3} and within(lengths[0], len(chains), 1 / 4)


def test_patch_steps_draw_sizes_blends_and_partners_uniformly(plans, within):
    steps = [s for p in plans for c in p["chains"] if c["kind"] == "patch" for s in c["steps"]]
    n = len(steps)
    assert within(sum(s["partner"] is None for s in steps), n, 1 / 2)
    blends = Counter(s["blend"] for s in steps)
    assert set(blends) == set(blend.BLENDS) and all(within(blends[b], n, 1 / 4) for b in blend.BLENDS)
    squares = [s["box"] for s in steps if s["box"][2] == s["box"][3]]
    sides = Counter(b[2] for b in squares)
    assert set(sides) == {4, 8, 16, 32} and all(within(sides[v], len(squares), 1 / 4) for v in sides)
    partners = Counter(s["partner"][0] for s in steps if s["partner"])
    assert set(partners) == set(ops.OP_SETS["ipmix"])


@pytest.mark.parametrize("shape", [(32, 32), (224, 224), (20, 45), (5, 7), (1, 1)])
def test_patch_boxes_lie_inside_the_image(shape):
    rng = np.random.default_rng(2)
    h, w = shape
    for size in (4, 8, 16, 32, 64, 224):
        for _ in range(300):
            top, left, bh, bw = patch_box(rng, shape, size)
            assert 0 <= top and 0 <= left and bh >= 1 and bw >= 1 and top + bh <= h and left + bw <= w


def test_half_the_boxes_are_squares_of_the_drawn_size_and_the_rest_elongated_scars(within):
    rng = np.random.default_rng(3)
    boxes = [patch_box(rng, (224, 224), 64) for _ in range(N)]
    squares = [b for b in boxes if b[2] == b[3]]
    assert within(len(squares), N, 1 / 2) and all(b[2] == 64 for b in squares)
    scars = [b for b in boxes if b[2] != b[3]]
    assert all(max(b[2:]) == 64 and max(b[2:]) >= 3 * min(b[2:]) for b in scars)
    assert within(sum(b[2] < b[3] for b in scars), len(scars), 1 / 2)  # horizontal and vertical alike
    assert all(max(patch_box(rng, (32, 32), 224)[2:]) == 32 for _ in range(50))  # sizes clip to the image


def test_a_patch_of_the_image_size_mixes_the_whole_image(source, scene):
    x, f = scene(), source.sample(np.random.default_rng(0))
    aug = IPMix(source)
    step = {"box": (0, 0, 32, 32), "blend": "add", "params": {"a": 0.6, "b": 0.4}, "partner": None}
    np.testing.assert_array_equal(aug.chain(x, f, {"kind": "patch", "steps": [step]}),
                                  blend.add(x, f, a=0.6, b=0.4))


def test_patch_chains_change_only_their_boxes_and_use_the_original_x_for_partners(source, scene):
    aug = IPMix(source)
    x, f = scene(), source.sample(np.random.default_rng(0))
    rng = np.random.default_rng(4)
    for _ in range(50):
        step = aug._patch_step(rng, x.shape[:2])
        out = aug.chain(x, f, {"kind": "patch", "steps": [step]})
        top, left, bh, bw = step["box"]
        outside = np.ones(x.shape[:2], bool)
        outside[top:top + bh, left:left + bw] = False
        np.testing.assert_array_equal(out[outside], x[outside])
        partner = f if step["partner"] is None else ops.apply(step["partner"][0], x, **step["partner"][1])
        box = (slice(top, top + bh), slice(left, left + bw))
        np.testing.assert_array_equal(out[box], blend.blend(step["blend"], x[box], partner[box], **step["params"]))


def test_image_chains_apply_their_ops_in_sequence(source, scene):
    aug = IPMix(source)
    x = scene()
    chain = {"kind": "image", "ops": [("rotate", {"degrees": 5}), ("posterize", {"bits": 3}), ("mirror", {})]}
    expect = ops.mirror(ops.posterize(ops.rotate(x, 5), 3))
    np.testing.assert_array_equal(aug.chain(x, None, chain), expect)


def test_bad_ipmix_settings(source):
    with pytest.raises(Exception, match="chain_lengths"):
        IPMix(source, chain_lengths="sometimes")
    with pytest.raises(Exception, match="patch_sizes is empty"):
        IPMix(source, patch_sizes=())
