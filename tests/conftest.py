"""Shared fixtures: small, fast recipes and a guard that no test leaks global random state."""

from __future__ import annotations

import random

import numpy as np
import pytest

import fractalgen as fg


@pytest.fixture
def small_colour():
    """A colour IFS recipe at 64 px: every code path of the full-size recipe, a fraction of the time."""
    return fg.load_recipe("ifs-colour", size=64, seed=3)


@pytest.fixture
def small_gray():
    return fg.load_recipe("ifs-gray", size=64, seed=3)


@pytest.fixture
def global_rng_guard():
    """Fails the test if the code under test touched numpy's or Python's global random state."""
    np_state = np.random.get_state()
    py_state = random.getstate()
    yield
    after = np.random.get_state()
    assert all(np.array_equal(a, b) for a, b in zip(np_state, after)), "numpy global RNG was used"
    assert random.getstate() == py_state, "Python's random module was used"
