"""Train a ResNet-18 on CIFAR-10/100 with PixMix, IPMix or LayerMix fed from a fractal store, and evaluate it on
corrupted test images.

    python examples/train_cifar.py --data ~/data/cifar-10-batches-py --store out/ipmix-like --method ipmix --jsd
    python examples/train_cifar.py --data ~/data/cifar-100-python --store ifs-colour --fractals 5000 --miamix
    python examples/train_cifar.py --fake-data 64 --epochs 1 --width 8 --workers 2   # no download (CI runs it)

--data is the folder of the python-pickle batches from https://www.cs.toronto.edu/~kriz/cifar.html
(CIFAR-10: data_batch_1..5 and test_batch; CIFAR-100: train and test). --fake-data N makes a seeded CIFAR-like
set instead (N training and N test images, 32 x 32 x 3, 10 classes, in memory) that goes through the same
pipeline: store, workers, method, batch size, epochs, checkpoints, evaluation. --store is a fractal store folder,
or a preset / recipe from which --fractals images are rendered at start-up. Needs numpy, torch and fractalgen;
no torchvision.

The recipe follows the IPMix / PixMix CIFAR code: random crop (4 px padding) and horizontal flip, then the mixing
method; SGD with Nesterov momentum 0.9, weight decay 5e-4, cosine learning rate per step; with --jsd,
cross-entropy on the clean view plus 12 x the Jensen-Shannon divergence of (clean, aug1, aug2). --miamix mixes
each batch with MiAMix (Liang et al. 2023, arXiv:2308.02804; soft labels) after the loader, on the training
device, on top of --method (``--method none --miamix`` is MiAMix alone).

Seeding: every random draw is a function of (--seed, epoch, index): the shuffle order comes from fractalgen's
EpochSampler, which hands the epoch to the workers with every index; the crop, flip and mixing of a sample from
its own generator (MixingDataset's ``seed``), and the MiAMix mix of batch b from (seed, epoch, b). So the data do
not depend on --workers, and a run resumed with --resume continues exactly where the saved one stopped: a
checkpoint needs no random state, only the model, the optimiser, the schedule and the epoch. (MiAMix's
``collate`` is not used: it draws from each worker's own stream, so the mixes would depend on --workers.)

Evaluation: the test error after each epoch, then the corruption errors: on CIFAR-10-C / CIFAR-100-C with
--cifar-c DIR (the 15 benchmark corruptions, or those named by --corruptions), else on the test split under the
in-repo corruptions of examples/corruptions.py (noise, blur, contrast, JPEG at 5 severities, seeded by
--corruption-seed). It prints the mean corruption error: unnormalised (the CIFAR papers' mCE), or normalised by
a baseline's errors (Hendrycks & Dietterich 2019) with --baseline REPORT, a --report of an earlier run.
"""

from __future__ import annotations

import argparse
import dataclasses
import json
import math
import os
import pickle
import sys
import time
from pathlib import Path

import numpy as np
import torch
import torch.nn as nn
import torch.nn.functional as F
from torch.utils.data import DataLoader, Dataset
from tqdm import tqdm

from corruptions import CIFAR_C_BENCHMARK, CORRUPTIONS, SEVERITIES, CorruptionError, corrupt, load_cifar_c, \
    mean_corruption_error
from fractalgen import FractalgenError, image_rng
from fractalgen.mixing import METHODS, FractalSource, MiAMix
from fractalgen.mixing.base import to_float
from fractalgen.mixing.torch import EpochSampler, MixingDataset, jsd_loss

MEAN_STD = ([0.5] * 3, [0.5] * 3)  # the normalisation of the reference CIFAR code
#: This script's random streams (fractalgen's own are small numbers): MiAMix per batch, the fake data.
STREAM_MIAMIX, STREAM_FAKE = 0xE3, 0xE4
CHECKPOINT_FORMAT = "fractalgen-train-cifar/1"
#: The flags a resumed run must share with the saved one to continue it exactly (besides the mixing method's
#: repr, which names the fractal set and every hyper-parameter, and the training set's size and classes).
RESUME_KEYS = ("fake_data", "method", "variant", "jsd", "miamix", "epochs", "batch_size", "lr", "wd", "seed",
               "width")
#: --smoke: a few seconds on the CPU (explicit flags win).
SMOKE = {"fake_data": 64, "epochs": 1, "width": 8, "batch_size": 16, "fractals": 16, "device": "cpu"}
DEFAULTS = {"epochs": 100, "width": 64, "batch_size": 128, "fractals": 1000,
            "device": "cuda" if torch.cuda.is_available() else "cpu"}


class UsageError(Exception):
    """Bad input: printed as one line, exit status 2."""


# -- data


def _unpickle(path: Path) -> dict:
    with open(path, "rb") as f:
        return pickle.load(f, encoding="bytes")


def load_cifar(folder: str) -> tuple[np.ndarray, np.ndarray, np.ndarray, np.ndarray, int]:
    """(train images, train labels, test images, test labels, classes) from CIFAR-10 or -100 python batches;
    images are uint8 (N, 32, 32, 3)."""
    root = Path(folder).expanduser()
    if (root / "data_batch_1").exists():
        train = [_unpickle(root / f"data_batch_{i}") for i in range(1, 6)]
        test, key, classes = [_unpickle(root / "test_batch")], b"labels", 10
    elif (root / "train").exists():
        train, test, key, classes = [_unpickle(root / "train")], [_unpickle(root / "test")], b"fine_labels", 100
    else:
        raise UsageError(f"--data {root} holds neither CIFAR-10 (data_batch_1) nor CIFAR-100 (train) python "
                         "batches; pass the unpacked python version of the download")

    def stack(batches):
        x = np.concatenate([b[b"data"] for b in batches]).reshape(-1, 3, 32, 32).transpose(0, 2, 3, 1)
        return np.ascontiguousarray(x), np.concatenate([np.asarray(b[key], dtype=np.int64) for b in batches])

    return (*stack(train), *stack(test), classes)


def fake_cifar(n: int, seed: int, classes: int = 10) -> tuple[np.ndarray, np.ndarray, np.ndarray, np.ndarray, int]:
    """A CIFAR-like set made in memory: n training and n test images, uint8 (n, 32, 32, 3), ``classes`` classes.
    Class k is a colour and a stripe orientation of its own, under random phase, brightness and noise, so a
    network can learn it. Image i of the training (test) split depends on (seed, i) ((seed, n + i)) only."""
    ang = np.pi * np.arange(classes) / classes
    colour = image_rng(seed, 0, 0, STREAM_FAKE).uniform(0.2, 0.8, (classes, 3))  # one palette per seed
    yy, xx = np.mgrid[0:32, 0:32].astype(np.float64)

    def image(i: int) -> tuple[np.ndarray, int]:
        rng = image_rng(seed, i, 1, STREAM_FAKE)
        k = int(rng.integers(classes))
        stripes = np.sin((xx * np.cos(ang[k]) + yy * np.sin(ang[k])) * 0.8 + rng.uniform(0, 2 * np.pi))
        img = colour[k] * rng.uniform(0.7, 1.2) + 0.25 * stripes[..., None] + rng.normal(0, 0.08, (32, 32, 3))
        return np.clip(np.rint(img * 255), 0, 255).astype(np.uint8), k

    train, test = ([image(i) for i in range(start, start + n)] for start in (0, n))
    return (np.stack([x for x, _ in train]), np.array([y for _, y in train]), np.stack([x for x, _ in test]),
            np.array([y for _, y in test]), classes)


class Arrays(Dataset):
    """(image, label) pairs of uint8 (N, H, W, 3) images and int labels."""

    def __init__(self, images: np.ndarray, labels: np.ndarray) -> None:
        self.images, self.labels = images, labels

    def __len__(self) -> int:
        return len(self.labels)

    def __getitem__(self, i: int):
        return self.images[i], int(self.labels[i])


class CropFlipThen:
    """The CIFAR training transform, then the mixing method: a random 32 x 32 crop of the 4-px zero-padded image
    and a random horizontal flip, then ``aug`` (None: no mixing), all drawn from the sample's generator
    (MixingDataset's ``sample_rng(seed, epoch, index)``). The clean view of ``views=3`` is the cropped image."""

    def __init__(self, aug=None) -> None:
        self.aug = aug
        self.views = 1 if aug is None else aug.views

    def augment(self, img: np.ndarray, rng: np.random.Generator) -> np.ndarray | tuple:
        y, x, flip = rng.integers(0, (9, 9, 2))
        crop = np.pad(img, ((4, 4), (4, 4), (0, 0)))[y:y + 32, x:x + 32]
        crop = np.ascontiguousarray(crop[:, ::-1] if flip else crop)
        return to_float(crop) if self.aug is None else self.aug.augment(crop, rng)

    def __repr__(self) -> str:
        return f"crop, flip, then {'no mixing' if self.aug is None else repr(self.aug)}"


# -- model: ResNet-18 for 32 x 32 inputs (3x3 stem, no max-pool)


class BasicBlock(nn.Module):
    def __init__(self, cin: int, cout: int, stride: int) -> None:
        super().__init__()
        self.conv1 = nn.Conv2d(cin, cout, 3, stride, 1, bias=False)
        self.bn1 = nn.BatchNorm2d(cout)
        self.conv2 = nn.Conv2d(cout, cout, 3, 1, 1, bias=False)
        self.bn2 = nn.BatchNorm2d(cout)
        self.shortcut = nn.Sequential()
        if stride != 1 or cin != cout:
            self.shortcut = nn.Sequential(nn.Conv2d(cin, cout, 1, stride, bias=False), nn.BatchNorm2d(cout))

    def forward(self, x: torch.Tensor) -> torch.Tensor:
        out = F.relu(self.bn1(self.conv1(x)))
        return F.relu(self.bn2(self.conv2(out)) + self.shortcut(x))


class ResNet18(nn.Module):
    """ResNet-18; ``width`` is the channel count of the first stage (64 in the standard network)."""

    def __init__(self, classes: int, width: int = 64) -> None:
        super().__init__()
        self.stem = nn.Sequential(nn.Conv2d(3, width, 3, 1, 1, bias=False), nn.BatchNorm2d(width), nn.ReLU())
        layers, cin = [], width
        for mult, stride in ((1, 1), (2, 2), (4, 2), (8, 2)):
            cout = width * mult
            layers += [BasicBlock(cin, cout, stride), BasicBlock(cout, cout, 1)]
            cin = cout
        self.layers = nn.Sequential(*layers)
        self.fc = nn.Linear(cin, classes)

    def forward(self, x: torch.Tensor) -> torch.Tensor:
        out = self.layers(self.stem(x))
        return self.fc(torch.flatten(F.adaptive_avg_pool2d(out, 1), 1))


# -- training


def train_step(net, images, targets, optimizer, scheduler) -> float:
    """One SGD step on images (a batch, or the (clean, aug1, aug2) views) and targets (indices or soft labels),
    already on the network's device."""
    jsd = isinstance(images, (list, tuple))
    logits = net(torch.cat(images) if jsd else images)
    loss = jsd_loss(logits, targets, len(targets)) if jsd else F.cross_entropy(logits, targets)
    optimizer.zero_grad()
    loss.backward()
    optimizer.step()
    scheduler.step()
    return loss.item()


def train_epoch(net, loader, optimizer, scheduler, device, mix: MiAMix | None, seed: int, epoch: int) -> float:
    """One epoch; the mean loss. ``mix`` mixes batch b with the generator of (seed, epoch, b)."""
    losses = []
    for step, (images, targets) in enumerate(tqdm(loader, f"epoch {epoch + 1}", leave=False, disable=None)):
        images = [v.to(device) for v in images] if isinstance(images, (list, tuple)) else images.to(device)
        targets = targets.to(device)
        if mix is not None:
            images, targets = mix(images, targets, rng=image_rng(seed, step, epoch, STREAM_MIAMIX))
        losses.append(train_step(net, images, targets, optimizer, scheduler))
    return float(np.mean(losses))


# -- checkpoints


def save_checkpoint(path: str, net, optimizer, scheduler, epoch: int, config: dict, history: list) -> None:
    """Everything a resumed run needs (no random state: see the module's note on seeding), written atomically."""
    tmp = f"{path}.tmp"
    torch.save({"format": CHECKPOINT_FORMAT, "config": config, "epoch": epoch, "model": net.state_dict(),
                "optimizer": optimizer.state_dict(), "scheduler": scheduler.state_dict(), "history": history}, tmp)
    os.replace(tmp, path)


def load_checkpoint(path: str, config: dict) -> dict:
    """A checkpoint saved by a run with the same RESUME_KEYS settings, or a UsageError naming the difference."""
    try:
        ckpt = torch.load(path, map_location="cpu", weights_only=True)
    except FileNotFoundError:
        raise UsageError(f"--resume {path}: no such file; pass a checkpoint written by --save") from None
    except Exception as err:  # torch raises several kinds for a file that is not a checkpoint
        raise UsageError(f"--resume {path} is not a checkpoint of this script ({type(err).__name__}); "
                         "pass a file written by --save") from None
    if not isinstance(ckpt, dict) or ckpt.get("format") != CHECKPOINT_FORMAT:
        raise UsageError(f"--resume {path} is not a {CHECKPOINT_FORMAT} checkpoint; pass a file written by --save")
    for key in config:
        if ckpt["config"].get(key) != config[key]:
            flag = "--" + key.replace("_", "-") if key in RESUME_KEYS else key
            raise UsageError(f"--resume {path} was saved with {flag} {ckpt['config'].get(key)}, this run has "
                             f"{config[key]}; pass the saved run's settings to continue it")
    return ckpt


# -- evaluation


@torch.no_grad()
def error_rate(net, images: np.ndarray, labels: np.ndarray, device, batch: int = 500) -> float:
    """Fraction of ``images`` (uint8 (N, 32, 32, 3), e.g. a memory-mapped CIFAR-10-C severity) misclassified."""
    net.eval()
    mean, std = (torch.tensor(v, device=device).reshape(1, 3, 1, 1) for v in MEAN_STD)
    wrong = 0
    for start in range(0, len(labels), batch):
        x = torch.from_numpy(np.ascontiguousarray(images[start:start + batch])).to(device)
        x = (x.permute(0, 3, 1, 2).float() / 255 - mean) / std
        wrong += int((net(x).argmax(1).cpu().numpy() != labels[start:start + batch]).sum())
    net.train()
    return wrong / len(labels)


@dataclasses.dataclass
class Suite:
    """What a run is evaluated on, checked before training."""

    source: str  # "cifar-c", or "in-repo seed S"
    names: list[str]  # the corruptions
    cifar_c: tuple[dict, np.ndarray] | None  # CIFAR-C's images and labels (load_cifar_c), or None: in-repo
    baseline: dict | None  # the baseline's errors, to normalise the CE


def corruption_suite(args, classes: int) -> Suite:
    names = [n for n in args.corruptions.split(",") if n] if args.corruptions is not None else None
    if args.cifar_c:
        images, labels = load_cifar_c(args.cifar_c, names or CIFAR_C_BENCHMARK)
        if labels.max() >= classes:
            raise UsageError(f"--cifar-c {args.cifar_c} has labels up to {labels.max()}, the model has {classes} "
                             "classes; pass CIFAR-10-C with CIFAR-10 (CIFAR-100-C with CIFAR-100)")
        source, names, cifar_c = "cifar-c", list(images), (images, labels)
    else:
        unknown = sorted(set(names or ()) - set(CORRUPTIONS))
        if unknown or names == []:
            raise UsageError(f"--corruptions {args.corruptions}: the in-repo corruptions are "
                             f"{','.join(CORRUPTIONS)}; pass --cifar-c DIR for the others")
        source, names, cifar_c = f"in-repo seed {args.corruption_seed}", names or list(CORRUPTIONS), None
    return Suite(source, names, cifar_c, read_baseline(args.baseline, source, names))


def read_baseline(path: str | None, source: str, names: list[str]) -> dict | None:
    """The corruption errors of a baseline's --report, evaluated on the same corruptions as this run."""
    if path is None:
        return None
    try:
        report = json.loads(Path(path).read_text())
        errors, base_source = report["corruption_errors"], report["corruptions"]
    except (OSError, ValueError, KeyError, TypeError) as err:
        raise UsageError(f"--baseline {path} is not a report of this script ({type(err).__name__}: {err}); "
                         "pass the file a baseline run wrote with --report") from None
    missing = [n for n in names if n not in errors]
    if base_source != source or missing:
        raise UsageError(f"--baseline {path} was evaluated on '{base_source}' ({', '.join(errors)}), this run on "
                         f"'{source}' ({', '.join(names)}); evaluate both on the same corruptions")
    return errors


def corruption_errors(net, suite: Suite, test_x, test_y, seed: int, device) -> dict[str, list[float]]:
    """{corruption: errors at severities 1..5}, on CIFAR-C or the test split under the in-repo corruptions."""
    errors: dict[str, list[float]] = {n: [] for n in suite.names}
    for name, s in tqdm([(n, s) for n in suite.names for s in SEVERITIES], "corruptions", leave=False, disable=None):
        if suite.cifar_c is not None:
            images, labels = suite.cifar_c[0][name][s - 1], suite.cifar_c[1][s - 1]
        else:
            images, labels = corrupt(test_x, name, s, seed=seed), test_y
        errors[name].append(error_rate(net, images, labels, device))
    return errors


# -- main


def parse_args(argv=None) -> argparse.Namespace:
    ap = argparse.ArgumentParser(description=__doc__.split("\n\n")[0])
    ap.add_argument("--data", help="folder of the CIFAR-10 or CIFAR-100 python batches")
    ap.add_argument("--fake-data", type=int, metavar="N",
                    help="N synthetic training and N test images (10 classes, seeded, in memory) instead of --data")
    ap.add_argument("--store", default="ifs-colour", help="fractal store folder, or a preset / recipe to render")
    ap.add_argument("--fractals", type=int, help="fractals to render when --store is a preset (default 1000)")
    ap.add_argument("--method", choices=["none", *sorted(METHODS)], default="ipmix",
                    help="the per-sample mixing method (none: crop and flip only)")
    ap.add_argument("--variant", choices=["paper", "released"], default="paper",
                    help="released: the authors' code, defects included, to reproduce a published number")
    ap.add_argument("--jsd", action="store_true", help="three views and the JSD consistency loss")
    ap.add_argument("--miamix", action="store_true", help="mix each batch with MiAMix (soft labels)")
    ap.add_argument("--epochs", type=int, help="epochs of the schedule (default 100)")
    ap.add_argument("--batch-size", type=int, help="default 128")
    ap.add_argument("--lr", type=float, default=0.1)
    ap.add_argument("--wd", type=float, default=5e-4)
    ap.add_argument("--workers", type=int, default=4, help="DataLoader worker processes (0: load in this one)")
    ap.add_argument("--seed", type=int, default=0)
    ap.add_argument("--width", type=int, help="channels of the first ResNet stage (default 64)")
    ap.add_argument("--device", help="default cuda if available, else cpu")
    ap.add_argument("--save", metavar="PATH", help="write a checkpoint here after every epoch")
    ap.add_argument("--resume", metavar="PATH", help="continue the run saved in this checkpoint")
    ap.add_argument("--stop-after", type=int, metavar="E", help="stop after epoch E (as if interrupted; --resume)")
    ap.add_argument("--cifar-c", metavar="DIR", help="evaluate on CIFAR-10-C / CIFAR-100-C (.npy files) in DIR")
    ap.add_argument("--corruptions", metavar="A,B", help="the corruptions to evaluate (default: all of the set)")
    ap.add_argument("--corruption-seed", type=int, default=0, help="seed of the in-repo corruptions' noise")
    ap.add_argument("--baseline", metavar="REPORT", help="a baseline run's --report: normalise the CE by it")
    ap.add_argument("--report", metavar="PATH", help="write the errors and the training history as JSON")
    ap.add_argument("--smoke", action="store_true", help="a few seconds on the CPU: " +
                    " ".join(f"--{k.replace('_', '-')} {v}" for k, v in SMOKE.items()) + " (explicit flags win)")
    args = ap.parse_args(argv)
    smoke = {k: v for k, v in SMOKE.items() if args.smoke and not (k == "fake_data" and args.data)}
    for key, value in {**DEFAULTS, **smoke}.items():
        if getattr(args, key) is None:
            setattr(args, key, value)
    return args


def check_args(args: argparse.Namespace) -> None:
    if (args.data is None) == (args.fake_data is None):
        raise UsageError("pass either --data DIR (the CIFAR python batches) or --fake-data N (or --smoke)")
    for key in ("fake_data", "epochs", "batch_size", "width", "fractals"):
        if getattr(args, key) is not None and getattr(args, key) < 1:
            raise UsageError(f"--{key.replace('_', '-')} {getattr(args, key)}: pass a whole number >= 1")
    if args.workers < 0:
        raise UsageError(f"--workers {args.workers}: pass 0 or more")
    if args.jsd and (args.method == "none" or args.miamix):
        raise UsageError("--jsd needs the views of a per-sample method and hard labels: use it with "
                         "--method pixmix/ipmix/layermix and without --miamix")
    if args.stop_after is not None and (args.save is None or not 1 <= args.stop_after < args.epochs):
        raise UsageError(f"--stop-after {args.stop_after} needs --save and an epoch in 1..{args.epochs - 1}")


def load_data(args: argparse.Namespace) -> tuple[np.ndarray, np.ndarray, np.ndarray, np.ndarray, int]:
    data = fake_cifar(args.fake_data, args.seed) if args.fake_data else load_cifar(args.data)
    if args.batch_size > len(data[1]):
        raise UsageError(f"--batch-size {args.batch_size} is larger than the {len(data[1])} training images")
    return data


def make_mixing(args: argparse.Namespace, classes: int):
    """(the per-sample method, MiAMix or None)."""
    if args.method == "none":
        aug = None
    else:
        try:
            source = FractalSource.from_name(args.store, 32, n=args.fractals, seed=args.seed)
        except FractalgenError as err:
            raise UsageError(f"--store {args.store}: {err}") from None
        aug = METHODS[args.method](source, "cifar", views=3 if args.jsd else 1, variant=args.variant)
    return CropFlipThen(aug), MiAMix(classes) if args.miamix else None


def run(args: argparse.Namespace) -> None:
    check_args(args)
    try:
        device = torch.device(args.device)
    except RuntimeError:
        raise UsageError(f"--device {args.device} is not a torch device; pass cpu, cuda or cuda:N") from None
    torch.manual_seed(args.seed)  # the network's initial weights
    train_x, train_y, test_x, test_y, classes = load_data(args)
    aug, mix = make_mixing(args, classes)
    suite = corruption_suite(args, classes)
    train = MixingDataset(Arrays(train_x, train_y), aug, normalize=MEAN_STD, seed=args.seed)
    sampler = EpochSampler(train, shuffle=True, seed=args.seed)  # hands (epoch, index) to the workers
    loader = DataLoader(train, batch_size=args.batch_size, sampler=sampler, num_workers=args.workers, drop_last=True)
    net = ResNet18(classes, args.width).to(device)
    optimizer = torch.optim.SGD(net.parameters(), lr=args.lr, momentum=0.9, weight_decay=args.wd, nesterov=True)
    total = args.epochs * len(loader)
    scheduler = torch.optim.lr_scheduler.LambdaLR(optimizer, lambda s: 0.5 * (1 + math.cos(math.pi * s / total)))
    config = {**{key: getattr(args, key) for key in RESUME_KEYS}, "mixing": repr(aug),
              "training images": len(train_y), "classes": classes}
    start, history = 0, []
    if args.resume:
        ckpt = load_checkpoint(args.resume, config)
        net.load_state_dict(ckpt["model"])
        optimizer.load_state_dict(ckpt["optimizer"])
        scheduler.load_state_dict(ckpt["scheduler"])
        start, history = ckpt["epoch"], ckpt["history"]
        print(f"resumed {args.resume} after epoch {start}")
    print(f"{args.method}{' + miamix' if mix else ''} on {len(train)} images, {classes} classes, batches of "
          f"{args.batch_size}, {args.workers} workers, {aug!r}")

    for epoch in range(start, args.stop_after or args.epochs):
        sampler.set_epoch(epoch)
        t0 = time.time()
        loss = train_epoch(net, loader, optimizer, scheduler, device, mix, args.seed, epoch)
        history.append({"epoch": epoch + 1, "loss": loss, "test_error": error_rate(net, test_x, test_y, device)})
        print(f"epoch {epoch + 1}/{args.epochs}: loss {loss:.4f}, test error {history[-1]['test_error']:.4f}, "
              f"{time.time() - t0:.0f}s")
        if args.save:
            save_checkpoint(args.save, net, optimizer, scheduler, epoch + 1, config, history)
    if args.stop_after:
        print(f"stopped after epoch {args.stop_after} of {args.epochs}; continue with --resume {args.save}")
        return
    evaluate_and_report(net, suite, test_x, test_y, args, device, history)


def evaluate_and_report(net, suite: Suite, test_x, test_y, args, device, history) -> None:
    source, baseline = suite.source, suite.baseline
    clean = error_rate(net, test_x, test_y, device)
    errors = corruption_errors(net, suite, test_x, test_y, args.corruption_seed, device)
    mce, ce = mean_corruption_error(errors, baseline)
    unit = "CE relative to the baseline" if baseline else "mean error"
    print(f"clean error {100 * clean:.2f}%; corruptions ({source}), {unit} per corruption:")
    for name, value in ce.items():
        print(f"  {name:<18} {100 * value:6.2f}   by severity " + " ".join(f"{100 * e:.1f}" for e in errors[name]))
    print(f"mCE {100 * mce:.2f}{'' if baseline else '%'} ({'normalised by ' + args.baseline if baseline else unit}"
          f" over {len(ce)} corruptions x 5 severities)")
    if args.report:
        Path(args.report).write_text(json.dumps(
            {"clean_error": clean, "corruptions": source, "corruption_errors": errors, "ce": ce, "mce": mce,
             "normalised": baseline is not None, "history": history, "config": vars(args)}, indent=1))


def main(argv=None) -> None:
    args = parse_args(argv)
    try:
        run(args)
    except (UsageError, CorruptionError) as err:
        print(f"train_cifar.py: error: {err}", file=sys.stderr)
        raise SystemExit(2) from None


if __name__ == "__main__":
    main()
