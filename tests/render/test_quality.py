"""Gate statistics on images whose answer is known by construction."""

from __future__ import annotations

import numpy as np
import pytest

from fractalgen.render import quality as Q


def test_fill_fraction_counts_lit_pixels():
    v = np.zeros((10, 10), np.float32)
    v[:3, :5] = 0.2
    assert Q.fill_fraction(v) == pytest.approx(0.15)


def test_contrast_is_zero_for_flat_and_half_for_a_checkerboard():
    assert Q.contrast(np.full((8, 8), 0.7, np.float32)) == pytest.approx(0.0, abs=1e-7)
    board = (np.indices((8, 8)).sum(axis=0) % 2).astype(np.float32)
    assert Q.contrast(board) == pytest.approx(0.5)


def test_entropy_bits():
    assert Q.entropy_bits(np.zeros((16, 16))) == 0.0
    ramp = (np.arange(64 * 4) // 4 / 64.0).reshape(16, 16)
    assert Q.entropy_bits(ramp, bins=64) == pytest.approx(6.0)


def test_edge_density():
    assert Q.edge_density(np.zeros((8, 8))) == 0.0
    stripes = np.tile([0.0, 1.0], (8, 4))
    assert Q.edge_density(stripes) == pytest.approx(0.5)


def test_require_helpers_raise_rejected_with_the_statistic():
    with pytest.raises(Q.Rejected, match="fill 0.01 below 0.05"):
        Q.require_band("fill", 0.01, (0.05, 0.6))
    with pytest.raises(Q.Rejected, match="above"):
        Q.require_band("fill", 0.9, (0.05, 0.6))
    Q.require_band("fill", 0.3, (0.05, 0.6))
    with pytest.raises(Q.Rejected, match="non-finite"):
        Q.require_finite(np.array([0.0, np.nan]))
