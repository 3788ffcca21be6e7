"""LayerMix's structure, from recorded draws: levels, the shared op type, the re-weighted blends."""

from __future__ import annotations

from collections import Counter

import numpy as np
import pytest

from fractalgen.mixing import LayerMix, blend, ops

N = 3000


@pytest.fixture
def plans(draw_plans):
    return draw_plans(LayerMix, N)


def test_levels_are_a_third_each_and_only_their_draws_are_made(plans, within):
    levels = Counter(p["level"] for p in plans)
    assert set(levels) == {1, 2, 3} and all(within(levels[v], N, 1 / 3) for v in (1, 2, 3))
    assert all(len(p["augs"]) == p["level"] and len(p["blends"]) == p["level"] - 1 for p in plans)


def test_one_op_type_per_call_drawn_uniformly_from_the_twelve(plans, within):
    counts = Counter(p["op"] for p in plans)
    assert set(counts) == set(ops.OP_SETS["layermix"])
    assert all(within(counts[name], N, 1 / 12) for name in counts)


def test_each_aug_block_draws_its_own_magnitude(plans):
    rotations = [p["augs"] for p in plans if p["op"] == "rotate" and p["level"] == 3]
    assert any(len({a["degrees"] for a in augs}) > 1 for augs in rotations)


def test_blends_are_add_and_multiply_a_third_each_and_the_random_ones_a_sixth(plans, within):
    names = Counter(name for p in plans for name, _ in p["blends"])
    n = sum(names.values())
    expect = {"add": 1 / 3, "multiply": 1 / 3, "random_pixels": 1 / 6, "random_elements": 1 / 6}
    assert set(names) == set(expect) and all(within(names[b], n, p) for b, p in expect.items())


def test_each_level_is_its_formula(source, scene):
    aug = LayerMix(source)
    x, f = scene(), source.sample(np.random.default_rng(1))
    rng = np.random.default_rng(2)
    seen = set()
    for _ in range(60):
        plan = aug.sample_params(rng, x.shape[:2])
        op, a, b = plan["op"], plan["augs"], plan["blends"]
        s1 = ops.apply(op, x, **a[0])
        expect = s1
        if plan["level"] >= 2:
            expect = blend.blend(b[0][0], s1, ops.apply(op, x, **a[1]), **b[0][1])
        if plan["level"] == 3:
            expect = ops.apply(op, blend.blend(b[1][0], expect, f, **b[1][1]), **a[2])
        np.testing.assert_array_equal(aug.apply(x, f if aug.needs_fractal(plan) else None, plan), expect)
        seen.add(plan["level"])
    assert seen == {1, 2, 3}


def test_only_the_third_level_uses_the_fractal(plans, source):
    aug = LayerMix(source)
    assert all(aug.needs_fractal(p) == (p["level"] == 3) for p in plans)


def test_grayscale_fractal_sets_work(fractals, scene):
    from fractalgen.mixing import FractalSource

    aug = LayerMix(FractalSource(fractals[..., :1].copy(), size=32), seed=0)
    for _ in range(20):
        assert aug(scene()).shape == (32, 32, 3)
