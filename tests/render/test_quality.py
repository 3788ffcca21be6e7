"""Gate statistics on images whose answer is known by construction."""

from __future__ import annotations

import numpy as np
import pytest

from fractalgen.render import quality as Q


def test_entropy_bits():
    assert Q.entropy_bits(np.zeros((16, 16))) == 0.0
    ramp = (np.arange(64 * 4) // 4 / 64.0).reshape(16, 16)
    assert Q.entropy_bits(ramp, bins=64) == pytest.approx(6.0)


def test_edge_density():
    assert Q.edge_density(np.zeros((8, 8))) == 0.0
    stripes = np.tile([0.0, 1.0], (8, 4))
    assert Q.edge_density(stripes) == pytest.approx(0.5)
