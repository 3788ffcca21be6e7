"""The one resize rule shared by the store, the mixing source and the CLI."""

from __future__ import annotations

import numpy as np
import pytest

from fractalgen.images import fit_square, resize, shorter_side_to
from fractalgen.mixing import FractalSource


@pytest.mark.parametrize("h, w, side, expect", [
    (32, 32, 36, (36, 36)), (40, 60, 36, (36, 54)), (60, 40, 36, (54, 36)),
    (30, 50, 20, (20, 33)),  # 33.3 -> 33
    (20, 31, 10, (10, 15)),  # 15.5 -> 15: truncated, as torchvision's Resize(int); round() would give 16
    (31, 20, 10, (15, 10)),
])
def test_shorter_side_to_truncates_the_longer_side(h, w, side, expect):
    assert shorter_side_to(h, w, side) == expect


def test_fit_square_is_the_centre_of_the_resize():
    img = np.random.default_rng(0).integers(0, 256, (31, 20, 3), dtype=np.uint8)
    h, w = shorter_side_to(31, 20, 10)
    full = resize(img, h, w)
    top = int(round((h - 10) / 2.0))
    np.testing.assert_array_equal(fit_square(img, 10), full[top:top + 10])


def test_fractal_source_resizes_by_the_same_rule():
    fractals = np.zeros((2, 20, 31, 3), dtype=np.uint8)
    src = FractalSource(fractals, size=8, scale=1.25)  # shorter side 10
    assert src.resized == shorter_side_to(20, 31, 10) == (10, 15)
