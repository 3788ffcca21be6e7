"""examples/train_cifar.py end to end on --fake-data: every method through a real store and 2 DataLoader workers,
exact resumption, CIFAR-10-C input, the mean corruption error, and one-line errors for bad input.

Runs are tiny (64 images, a ResNet of width 4, 1-2 epochs, one torch thread) and go through the script as a user
runs it (a subprocess with PYTHONPATH); the error cases call its ``main`` in this process."""

from __future__ import annotations

import importlib.util
import json
import os
import subprocess
import sys
from pathlib import Path

import numpy as np
import pytest

torch = pytest.importorskip("torch")

ROOT = Path(__file__).resolve().parents[1]
SCRIPT = ROOT / "examples" / "train_cifar.py"
TINY = ["--fake-data", "64", "--epochs", "1", "--width", "4", "--batch-size", "16"]
ENV = {**os.environ, "PYTHONPATH": os.pathsep.join(p for p in (str(ROOT), os.environ.get("PYTHONPATH")) if p),
       "OMP_NUM_THREADS": "1", "MKL_NUM_THREADS": "1"}


def run(*args: str, code: int = 0) -> subprocess.CompletedProcess:
    res = subprocess.run([sys.executable, str(SCRIPT), *map(str, args)], capture_output=True, text=True,
                         timeout=300, env=ENV)
    assert res.returncode == code, res.stdout[-2000:] + res.stderr[-2000:]
    return res


@pytest.fixture(scope="module")
def store(tmp_path_factory):
    """A 12-image store at 36 px: what a source resizes a CIFAR set to, so it is used as it is."""
    import fractalgen as fg

    path = tmp_path_factory.mktemp("fractals") / "store"
    fg.generate("ifs-colour", path, 12, size=36, seed=1, workers=1, progress=False)
    return path


@pytest.fixture
def script(monkeypatch):
    """The script as a module (its ``corruptions`` import needs examples/ on the path)."""
    monkeypatch.syspath_prepend(str(SCRIPT.parent))
    spec = importlib.util.spec_from_file_location("train_cifar", SCRIPT)
    mod = importlib.util.module_from_spec(spec)
    monkeypatch.setitem(sys.modules, "train_cifar", mod)  # dataclasses look their module up
    spec.loader.exec_module(mod)
    return mod


@pytest.mark.parametrize("method", [["--method", "pixmix", "--smoke"], ["--method", "ipmix", "--jsd"],
                                    ["--method", "layermix"], ["--method", "none", "--miamix"]],
                         ids=["pixmix-smoke", "ipmix-jsd", "layermix", "miamix"])
def test_each_method_trains_from_the_store_with_two_workers(method, store, tmp_path):
    out = run(*TINY, *method, "--workers", "2", "--store", store, "--report", tmp_path / "r.json").stdout
    report = json.loads((tmp_path / "r.json").read_text())
    assert "epoch 1/1:" in out and "mCE" in out
    assert report["config"]["workers"] == 2 and len(report["history"]) == 1
    if "none" in method:
        assert "none + miamix on 64 images" in out
    else:  # the fractals came from the store (12 images), not a preset rendered at start-up
        assert "FractalSource(12 x 36x36x3" in out
    assert ("views=3" in out) == ("--jsd" in method)
    errors = report["corruption_errors"]
    assert report["corruptions"] == "in-repo seed 0"
    assert sorted(errors) == sorted(["gaussian_noise", "gaussian_blur", "contrast", "jpeg_compression"])
    assert all(len(e) == 5 and all(0 <= v <= 1 and (v * 64) % 1 == 0 for v in e) for e in errors.values())
    assert report["mce"] == pytest.approx(np.mean([np.mean(e) for e in errors.values()]))


def test_resumed_run_equals_an_uninterrupted_one_and_workers_do_not_matter(store, tmp_path):
    """2 epochs with 2 workers == 1 epoch, stop, resume 1 epoch with no workers: bit for bit, because every draw
    is a function of (seed, epoch, index) and the checkpoint holds the model, optimiser, schedule and epoch."""
    args = [*TINY, "--epochs", "2", "--method", "ipmix", "--miamix", "--store", store]
    run(*args, "--workers", "2", "--save", tmp_path / "whole.pt")
    first = run(*args, "--workers", "0", "--stop-after", "1", "--save", tmp_path / "half.pt").stdout
    assert "stopped after epoch 1 of 2" in first and "mCE" not in first
    second = run(*args, "--workers", "0", "--resume", tmp_path / "half.pt", "--save", tmp_path / "resumed.pt").stdout
    assert "resumed" in second and "epoch 2/2" in second and "epoch 1/2" not in second
    whole, resumed = (torch.load(tmp_path / f, weights_only=True) for f in ("whole.pt", "resumed.pt"))
    assert whole["epoch"] == resumed["epoch"] == 2
    assert whole["history"] == resumed["history"]  # the losses of both epochs, exactly
    assert whole["model"].keys() == resumed["model"].keys()
    for key, value in whole["model"].items():
        assert torch.equal(value, resumed["model"][key]), key
    momentum = [s["momentum_buffer"] for s in whole["optimizer"]["state"].values()]
    assert all(torch.equal(a, s["momentum_buffer"]) for a, s in zip(momentum, resumed["optimizer"]["state"].values()))
    other = run(*args, "--workers", "0", "--batch-size", "8", "--resume", tmp_path / "half.pt", code=2).stderr
    assert other.strip().splitlines() == [f"train_cifar.py: error: --resume {tmp_path / 'half.pt'} was saved with "
                                          "--batch-size 16, this run has 8; pass the saved run's settings to "
                                          "continue it"]


def test_cifar_c_folder_is_read_by_severity_and_a_baseline_normalises(script, tmp_path):
    """fog.npy holds the clean test split 5 times: its errors are the clean error at every severity; contrast.npy
    holds noise. Evaluating the finished checkpoint against its own report gives CE = 1 for every corruption."""
    _, _, test_x, test_y, _ = script.fake_cifar(64, 0)
    cc = tmp_path / "CIFAR-10-C"
    cc.mkdir()
    np.save(cc / "labels.npy", np.tile(test_y, 5))
    np.save(cc / "fog.npy", np.tile(test_x, (5, 1, 1, 1)))
    np.save(cc / "contrast.npy", np.random.default_rng(0).integers(0, 256, (320, 32, 32, 3), dtype=np.uint8))
    args = [*TINY, "--method", "none", "--workers", "0", "--cifar-c", cc, "--corruptions", "fog,contrast"]
    out = run(*args, "--save", tmp_path / "m.pt", "--report", tmp_path / "base.json").stdout
    report = json.loads((tmp_path / "base.json").read_text())
    assert report["corruptions"] == "cifar-c" and "corruptions (cifar-c)" in out
    assert report["corruption_errors"]["fog"] == [report["clean_error"]] * 5
    assert not report["normalised"]
    again = run(*args, "--resume", tmp_path / "m.pt", "--baseline", tmp_path / "base.json",
                "--report", tmp_path / "again.json").stdout
    assert "epoch" not in again.replace("after epoch", "")  # a finished run: evaluation only
    report = json.loads((tmp_path / "again.json").read_text())
    assert report["normalised"] and report["ce"] == {"fog": 1.0, "contrast": 1.0} and report["mce"] == 1.0
    assert "mCE 100.00 (normalised by" in again


def test_fake_data_is_seeded_cifar_like_and_learnable(script):
    a, b = script.fake_cifar(40, 3), script.fake_cifar(40, 3)
    assert all(np.array_equal(x, y) for x, y in zip(a[:4], b[:4]))
    train_x, train_y, test_x, test_y, classes = a
    assert train_x.shape == test_x.shape == (40, 32, 32, 3) and train_x.dtype == np.uint8 and classes == 10
    assert set(train_y) <= set(range(10)) and len(set(train_y)) >= 8
    assert not np.array_equal(train_x, test_x) and not np.array_equal(a[0], script.fake_cifar(40, 4)[0])
    # a nearest-class-mean colour classifier beats chance: the classes differ in what the image shows
    means = np.stack([train_x[train_y == k].mean((0, 1, 2)) for k in set(train_y)])
    pred = np.array(sorted(set(train_y)))[np.argmin(((test_x.mean((1, 2))[:, None] - means) ** 2).sum(-1), 1)]
    assert (pred == test_y).mean() > 0.3


def test_crop_flip_comes_from_the_samples_generator(script):
    """The crop and flip are drawn with the mixing, from (seed, epoch, index): the same in any worker, new in every
    epoch, and the crop of the zero-padded image (a shifted copy with black edges)."""
    from fractalgen.mixing.torch import MixingDataset

    imgs = np.random.default_rng(0).integers(1, 256, (4, 32, 32, 3), dtype=np.uint8)
    train = MixingDataset(script.Arrays(imgs, np.arange(4)), script.CropFlipThen(), seed=1)
    again = MixingDataset(script.Arrays(imgs, np.arange(4)), script.CropFlipThen(), seed=1)
    assert all(torch.equal(train[0, i][0], again[0, i][0]) for i in range(4))
    padded = np.pad(imgs[2], ((4, 4), (4, 4), (0, 0)))
    crops = [c for y in range(9) for x in range(9) for c in (padded[y:y + 32, x:x + 32],
                                                            padded[y:y + 32, x:x + 32][:, ::-1])]
    views = set()
    for epoch in range(8):
        view = (train[epoch, 2][0].numpy().transpose(1, 2, 0) * 255).round().astype(np.uint8)
        assert any(np.array_equal(view, c) for c in crops)  # a crop of the padded image, maybe flipped
        views.add(view.tobytes())
    assert len(views) >= 5


def fail(script, capsys, *args, base=TINY) -> str:
    with pytest.raises(SystemExit) as exc:
        script.main([*base, "--workers", "0", *map(str, args)])
    err = capsys.readouterr().err
    assert exc.value.code == 2, err
    assert err.startswith("train_cifar.py: error: ") and err.count("\n") == 1, err
    return err


def test_bad_store_is_one_line_exit_2(script, capsys, tmp_path):
    assert "--store nowhere/fractals" in fail(script, capsys, "--store", "nowhere/fractals")
    (tmp_path / "empty").mkdir()
    assert f"--store {tmp_path / 'empty'}" in fail(script, capsys, "--store", tmp_path / "empty")


def test_bad_cifar_c_is_one_line_exit_2(script, capsys, tmp_path):
    assert "is not a folder" in fail(script, capsys, "--cifar-c", tmp_path / "nope")
    (tmp_path / "cc").mkdir()
    np.save(tmp_path / "cc" / "labels.npy", np.zeros(10, np.int64))
    assert "has no gaussian_noise.npy, shot_noise.npy" in fail(script, capsys, "--cifar-c", tmp_path / "cc")
    np.save(tmp_path / "cc" / "fog.npy", np.zeros((10, 32, 32), np.uint8))
    assert "fog.npy holds uint8 (10, 32, 32)" in fail(script, capsys, "--cifar-c", tmp_path / "cc",
                                                      "--corruptions", "fog")
    assert "the in-repo corruptions are" in fail(script, capsys, "--corruptions", "fog")


def test_bad_flags_are_one_line_exit_2(script, capsys, tmp_path):
    assert "pass either --data DIR" in fail(script, capsys, "--data", tmp_path)
    assert "holds neither CIFAR-10" in fail(script, capsys, "--data", tmp_path, base=[])
    assert "--fake-data 0: pass a whole number >= 1" in fail(script, capsys, "--fake-data", "0", base=[])
    assert "--batch-size 100 is larger than the 64" in fail(script, capsys, "--batch-size", "100")
    assert "--jsd needs" in fail(script, capsys, "--jsd", "--miamix")
    assert "--stop-after 1 needs --save" in fail(script, capsys, "--stop-after", "1")
    assert "is not a checkpoint" in fail(script, capsys, "--method", "none", "--resume", SCRIPT)
    assert "no such file" in fail(script, capsys, "--method", "none", "--resume", tmp_path / "x.pt")
    assert "--baseline" in fail(script, capsys, "--method", "none", "--baseline", SCRIPT)
