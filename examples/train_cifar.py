"""Train a ResNet-18 on CIFAR-10/100 with PixMix, IPMix or LayerMix fed from a fractal store.

    python examples/train_cifar.py --data ~/data/cifar-10-batches-py --store out/ipmix-like --method ipmix --jsd
    python examples/train_cifar.py --data ~/data/cifar-100-python --store ifs-colour --fractals 5000
    python examples/train_cifar.py --smoke          # two steps on random data, on the CPU (what CI runs)

--data is the folder of the python-pickle batches from https://www.cs.toronto.edu/~kriz/cifar.html
(CIFAR-10: data_batch_1..5 and test_batch; CIFAR-100: train and test). --store is a fractal store folder, or a
preset / recipe from which --fractals images are rendered at start-up. Needs numpy, torch and fractalgen; no
torchvision. The recipe follows the IPMix / PixMix CIFAR code: random crop (4 px padding) and horizontal flip,
then the mixing method; SGD with Nesterov momentum 0.9, weight decay 5e-4, cosine learning rate per step; with
--jsd, cross-entropy on the clean view plus 12 x the Jensen-Shannon divergence of (clean, aug1, aug2).
"""

from __future__ import annotations

import argparse
import math
import pickle
import time
from pathlib import Path

import numpy as np
import torch
import torch.nn as nn
import torch.nn.functional as F
from torch.utils.data import DataLoader, Dataset

from fractalgen.mixing import METHODS, FractalSource
from fractalgen.mixing.torch import EpochSampler, MixingDataset, jsd_loss, to_tensor

MEAN_STD = ([0.5] * 3, [0.5] * 3)  # the normalisation of the reference CIFAR code


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
        raise SystemExit(f"{root} holds neither CIFAR-10 (data_batch_1) nor CIFAR-100 (train) python batches")

    def stack(batches):
        x = np.concatenate([b[b"data"] for b in batches]).reshape(-1, 3, 32, 32).transpose(0, 2, 3, 1)
        return np.ascontiguousarray(x), np.concatenate([np.asarray(b[key], dtype=np.int64) for b in batches])

    return (*stack(train), *stack(test), classes)


class CropFlip(Dataset):
    """CIFAR training images with a random 32 x 32 crop of the 4-px zero-padded image and a random horizontal flip.
    The draws use torch's generator, which DataLoader seeds per worker."""

    def __init__(self, images: np.ndarray, labels: np.ndarray) -> None:
        self.images = np.pad(images, ((0, 0), (4, 4), (4, 4), (0, 0)))
        self.labels = labels

    def __len__(self) -> int:
        return len(self.labels)

    def __getitem__(self, i: int):
        y, x, flip = torch.randint(0, 9, (2,)).tolist() + [bool(torch.randint(0, 2, ()).item())]
        img = self.images[i, y:y + 32, x:x + 32]
        return np.ascontiguousarray(img[:, ::-1] if flip else img), int(self.labels[i])


class Plain(Dataset):
    def __init__(self, images: np.ndarray, labels: np.ndarray) -> None:
        self.images, self.labels = images, labels

    def __len__(self) -> int:
        return len(self.labels)

    def __getitem__(self, i: int):
        mean, std = (torch.tensor(v).reshape(3, 1, 1) for v in MEAN_STD)
        return to_tensor(self.images[i].astype(np.float32) / 255, (mean, std)), int(self.labels[i])


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


def train_step(net, images, targets, optimizer, scheduler, device) -> float:
    jsd = isinstance(images, (list, tuple))
    x = torch.cat(images) if jsd else images
    logits = net(x.to(device))
    targets = targets.to(device)
    loss = jsd_loss(logits, targets, len(targets)) if jsd else F.cross_entropy(logits, targets)
    optimizer.zero_grad()
    loss.backward()
    optimizer.step()
    scheduler.step()
    return loss.item()


@torch.no_grad()
def evaluate(net, loader, device) -> float:
    net.eval()
    correct = total = 0
    for images, targets in loader:
        correct += int((net(images.to(device)).argmax(1).cpu() == targets).sum())
        total += len(targets)
    net.train()
    return correct / total


def main() -> None:
    ap = argparse.ArgumentParser(description=__doc__.split("\n\n")[0])
    ap.add_argument("--data", help="folder of the CIFAR-10 or CIFAR-100 python batches")
    ap.add_argument("--store", default="ifs-colour", help="fractal store folder, or a preset / recipe to render")
    ap.add_argument("--fractals", type=int, default=1000, help="fractals to render when --store is a preset")
    ap.add_argument("--method", choices=sorted(METHODS), default="ipmix")
    ap.add_argument("--variant", choices=["paper", "released"], default="paper",
                    help="released: the authors' code, defects included, to reproduce a published number")
    ap.add_argument("--jsd", action="store_true", help="three views and the JSD consistency loss")
    ap.add_argument("--epochs", type=int, default=100)
    ap.add_argument("--batch-size", type=int, default=128)
    ap.add_argument("--lr", type=float, default=0.1)
    ap.add_argument("--wd", type=float, default=5e-4)
    ap.add_argument("--workers", type=int, default=4)
    ap.add_argument("--seed", type=int, default=0)
    ap.add_argument("--width", type=int, default=64, help="channels of the first ResNet stage")
    ap.add_argument("--device", default="cuda" if torch.cuda.is_available() else "cpu")
    ap.add_argument("--smoke", action="store_true",
                    help="two steps on random data on the CPU with a narrow network; no dataset, no store needed")
    args = ap.parse_args()

    torch.manual_seed(args.seed)
    if args.smoke:
        rng = np.random.default_rng(args.seed)
        x = rng.integers(0, 256, (16, 32, 32, 3), dtype=np.uint8)
        y = rng.integers(0, 10, 16)
        data, classes, device = (x, y, x[:8], y[:8]), 10, "cpu"
        source = FractalSource.from_recipe("ifs-colour", n=8, size=32, seed=args.seed)
        args.batch_size, args.workers, args.width, steps = 4, 0, 8, 2
    else:
        if not args.data:
            ap.error("--data is required (or --smoke)")
        *data, classes = load_cifar(args.data)
        device = args.device
        source = FractalSource.from_name(args.store, 32, n=args.fractals, seed=args.seed)
        steps = None
    train_x, train_y, test_x, test_y = data

    aug = METHODS[args.method](source, "cifar", views=3 if args.jsd else 1, variant=args.variant)
    train = MixingDataset(CropFlip(train_x, train_y), aug, normalize=MEAN_STD, seed=args.seed)
    loader = DataLoader(train, batch_size=args.batch_size, sampler=EpochSampler(train, shuffle=True, seed=args.seed),
                        num_workers=args.workers, drop_last=True, persistent_workers=False)
    test_loader = DataLoader(Plain(test_x, test_y), batch_size=500, num_workers=min(args.workers, 2))
    net = ResNet18(classes, args.width).to(device)
    optimizer = torch.optim.SGD(net.parameters(), lr=args.lr, momentum=0.9, weight_decay=args.wd, nesterov=True)
    total = steps or args.epochs * len(loader)
    scheduler = torch.optim.lr_scheduler.LambdaLR(optimizer, lambda s: 0.5 * (1 + math.cos(math.pi * s / total)))
    print(f"{args.method} on {len(train)} images, {classes} classes, {aug!r}")

    done = 0
    for epoch in range(args.epochs):
        start, losses = time.time(), []
        for images, targets in loader:
            losses.append(train_step(net, images, targets, optimizer, scheduler, device))
            done += 1
            if done == steps:
                print(f"smoke: {done} steps, loss {losses[-1]:.3f}, test accuracy {evaluate(net, test_loader, device):.3f}")
                return
        print(f"epoch {epoch + 1}: loss {np.mean(losses):.3f}, test accuracy {evaluate(net, test_loader, device):.4f}, "
              f"{time.time() - start:.0f}s")


if __name__ == "__main__":
    main()
