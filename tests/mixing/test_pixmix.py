"""PixMix's structure, from recorded draws."""

from __future__ import annotations

from collections import Counter

import numpy as np
import pytest

from fractalgen.mixing import PixMix, blend, ops

N = 3000


@pytest.fixture
def plans(draw_plans):
    return draw_plans(PixMix, N)


def test_round_counts_are_uniform_on_0_to_k(plans, within):
    counts = Counter(len(p["rounds"]) for p in plans)
    assert set(counts) == {0, 1, 2, 3, 4}
    assert all(within(counts[r], N, 1 / 5) for r in range(5))


def test_half_the_views_start_from_an_augmented_image(plans, within):
    assert within(sum(p["first"] is not None for p in plans), N, 1 / 2)


def test_partners_are_the_fractal_or_an_augmented_x_half_each_and_blends_add_or_multiply(plans, within):
    rounds = [r for p in plans for r in p["rounds"]]
    assert within(sum(r["partner"] is None for r in rounds), len(rounds), 1 / 2)
    assert within(sum(r["blend"] == "add" for r in rounds), len(rounds), 1 / 2)
    assert {r["blend"] for r in rounds} == {"add", "multiply"}


def test_ops_are_drawn_uniformly_from_the_augmix_set(plans, within):
    names = [p["first"][0] for p in plans if p["first"]] + [r["partner"][0] for p in plans for r in p["rounds"]
                                                             if r["partner"]]
    counts = Counter(names)
    assert set(counts) == set(ops.OP_SETS["augmix"])
    assert all(within(counts[name], len(names), 1 / 9) for name in counts)


def test_apply_is_the_recorded_sequence_of_augments_and_blends(source, scene):
    aug = PixMix(source)
    x, f = scene(), source.sample(np.random.default_rng(1))
    rng = np.random.default_rng(2)
    for _ in range(30):
        plan = aug.sample_params(rng, x.shape[:2])
        mixed = x if plan["first"] is None else ops.apply(plan["first"][0], x, **plan["first"][1])
        for r in plan["rounds"]:
            partner = f if r["partner"] is None else ops.apply(r["partner"][0], x, **r["partner"][1])  # original x
            mixed = blend.blend(r["blend"], mixed, partner, **r["params"])
        np.testing.assert_array_equal(aug.apply(x, f, plan), mixed)


def test_no_first_augment_and_no_rounds_returns_the_image(source, scene):
    x = scene()
    assert np.array_equal(PixMix(source).apply(x, None, {"first": None, "rounds": []}), x)
    assert all(len(PixMix(source, k=0).sample_params(np.random.default_rng(s), (8, 8))["rounds"]) == 0
               for s in range(20))
