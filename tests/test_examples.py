"""The example training script runs end to end (its --smoke mode: two steps on random data, on the CPU)."""

from __future__ import annotations

import subprocess
import sys
from pathlib import Path

import pytest

pytest.importorskip("torch")

SCRIPT = Path(__file__).resolve().parents[1] / "examples" / "train_cifar.py"


def test_train_cifar_smoke_runs_two_jsd_steps():
    res = subprocess.run([sys.executable, str(SCRIPT), "--smoke", "--jsd", "--method", "ipmix"],
                         capture_output=True, text=True, timeout=300)
    assert res.returncode == 0, res.stderr[-2000:]
    assert "smoke: 2 steps" in res.stdout and "views=3" in res.stdout
