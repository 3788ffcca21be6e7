"""Two array backends for the mask and blend code: numpy and torch (on any device).

The mask generators, the mask augmentation and MiAMix's blend are written once against the handful of
operations below. Random parameters are always drawn with numpy and moved to the backend with :meth:`asarray`,
so both backends build the same masks from the same generator (up to float rounding).

Layouts follow each library's habit: numpy images are ``(B, H, W, C)``, torch images ``(B, C, H, W)``. Masks are
``(n, H, W)`` in both. torch is never imported here: a torch backend is only made for a tensor the caller already
has, which means torch is in ``sys.modules``.

A CPU tensor need not take the torch backend: :func:`kernel_view` shows its memory to the numpy code as a
``(B, H, W, C)`` array without a copy, so it can run the numba kernels, which on one core are about twice as fast
as the dozens of small tensor operations the torch backend launches (those pay off on a GPU, where they run).
"""

from __future__ import annotations

import sys
from typing import Any

import numpy as np


def torch_module():
    """The torch module if the program has imported it, else None (never imports it)."""
    return sys.modules.get("torch")


def is_tensor(x: Any) -> bool:
    torch = torch_module()
    return torch is not None and isinstance(x, torch.Tensor)


class NumpyBackend:
    """numpy arrays, images channels-last."""

    float = np.dtype(np.float32)

    def asarray(self, a):
        """A float array (complex64 for complex input) from numpy data."""
        return np.asarray(a, dtype=np.complex64 if np.iscomplexobj(a) else self.float)

    def ints(self, a):
        return np.asarray(a, dtype=np.int64)

    def empty(self, shape):
        return np.empty(shape, dtype=self.float)

    def zeros(self, shape, complex_: bool = False):
        return np.zeros(shape, dtype=np.complex64 if complex_ else self.float)

    def arange(self, n: int):
        return np.arange(n, dtype=self.float)

    def int_arange(self, n: int):
        return np.arange(n, dtype=np.int64)

    def concat(self, arrays):
        return np.concatenate(arrays)

    def take_rows(self, a, idx):
        """``out[i, j] = a[i, idx[i, j]]`` for 2-D ``a`` (a flat take: several times faster than take_along_axis)."""
        n, length = a.shape
        return np.take(a.reshape(-1), idx + (np.arange(n) * length)[:, None])

    def take_along(self, a, idx, axis: int):
        """``a`` (n, H, W) indexed along ``axis`` (1 or 2) by per-row indices ``idx`` (n, size)."""
        return np.take_along_axis(a, idx[:, :, None] if axis == 1 else idx[:, None, :], axis)

    def sort(self, a, axis: int):
        return np.sort(a, axis=axis)

    def cumsum(self, a, axis: int):
        return np.cumsum(a, axis=axis)

    def clip(self, a, lo, hi):
        return np.clip(a, lo, hi)

    def exp(self, a):
        return np.exp(a)

    def minimum(self, a, b):
        return np.minimum(a, b)

    def abs(self, a):
        return np.abs(a)

    def copy(self, a):
        return a.copy()

    def to_int(self, a):
        return a.astype(np.int64)

    def floor(self, a):
        return np.floor(a)

    def irfft2(self, spectrum, shape: tuple[int, int]):
        return np.fft.irfft2(spectrum, s=shape).astype(self.float, copy=False)

    def mean(self, a, axis):
        return a.mean(axis=axis)

    def host(self, a) -> np.ndarray:
        """A small array as numpy, for a decision in Python (on a GPU this waits for the device)."""
        return np.asarray(a)

    def kind(self, a) -> str:
        """'uint8', 'int', 'float', 'bool' or 'other'."""
        if a.dtype == np.uint8:
            return "uint8"
        return {"i": "int", "u": "int", "f": "float", "b": "bool"}.get(a.dtype.kind, "other")

    def as_float(self, a):
        return a.astype(self.float)

    def labels(self, a):
        """Labels as an array of this backend (a tensor is copied to the host)."""
        return np.asarray(a.detach().cpu().numpy() if is_tensor(a) else a)

    def image_hw(self, images) -> tuple[int, int]:
        return int(images.shape[1]), int(images.shape[2])

    def gather_pixels(self, images, idx):
        """Pixel ``idx[b, j]`` (flat index into H*W) of image b, for every b and j, in the same layout."""
        b, h, w, c = images.shape
        flat = idx + (np.arange(b) * (h * w))[:, None]
        return np.take(images.reshape(b * h * w, c), flat.reshape(-1), axis=0).reshape(b, h, w, c)


class TorchBackend:
    """torch tensors on one device, images channels-first."""

    def __init__(self, device):
        self.torch = torch_module()
        self.device = device
        self.float = self.torch.float32

    def asarray(self, a):
        return self.torch.as_tensor(a, dtype=self.torch.complex64 if np.iscomplexobj(a) else self.float,
                                    device=self.device)

    def ints(self, a):
        return self.torch.as_tensor(a, dtype=self.torch.int64, device=self.device)

    def empty(self, shape):
        return self.torch.empty(shape, dtype=self.float, device=self.device)

    def zeros(self, shape, complex_: bool = False):
        return self.torch.zeros(shape, dtype=self.torch.complex64 if complex_ else self.float, device=self.device)

    def arange(self, n: int):
        return self.torch.arange(n, dtype=self.float, device=self.device)

    def int_arange(self, n: int):
        return self.torch.arange(n, dtype=self.torch.int64, device=self.device)

    def concat(self, arrays):
        return self.torch.cat(arrays)

    def take_rows(self, a, idx):
        return self.torch.gather(a, 1, idx)

    def take_along(self, a, idx, axis: int):
        n, h, w = a.shape
        if axis == 1:  # whole rows: index_select copies them as blocks, ~10x faster than gather on a CPU
            rows = (idx + self.torch.arange(n, device=idx.device)[:, None] * h).reshape(-1)
            return a.reshape(n * h, w).index_select(0, rows).reshape(n, idx.shape[1], w)
        return self.torch.gather(a, 2, idx[:, None, :].expand(n, h, idx.shape[1]))

    def sort(self, a, axis: int):
        if a.device.type == "cpu":  # torch's CPU sort is ~35x slower than numpy's vectorised one (same result)
            return self.torch.from_numpy(np.sort(a.numpy(), axis=axis))
        return self.torch.sort(a, dim=axis).values

    def cumsum(self, a, axis: int):
        return self.torch.cumsum(a, dim=axis)

    def clip(self, a, lo, hi):
        return self.torch.clamp(a, lo, hi)

    def exp(self, a):
        return self.torch.exp(a)

    def minimum(self, a, b):
        return self.torch.minimum(a, b)

    def abs(self, a):
        return self.torch.abs(a)

    def copy(self, a):
        return a.clone()

    def to_int(self, a):
        return a.to(self.torch.int64)

    def floor(self, a):
        return self.torch.floor(a)

    def irfft2(self, spectrum, shape: tuple[int, int]):
        return self.torch.fft.irfft2(spectrum, s=shape).to(self.float)

    def mean(self, a, axis):
        return a.mean(dim=axis)

    def host(self, a) -> np.ndarray:
        return a.cpu().numpy()

    def kind(self, a) -> str:
        torch = self.torch
        if a.dtype == torch.uint8:
            return "uint8"
        if a.dtype == torch.bool:
            return "bool"
        if a.is_floating_point():
            return "float"
        return "other" if a.is_complex() else "int"

    def as_float(self, a):
        return a.to(self.float)

    def labels(self, a):
        labels = self.torch.as_tensor(a)
        if labels.is_floating_point():  # float64 soft labels from numpy: some devices have no float64
            labels = labels.to(self.float)
        return labels.to(self.device)

    def image_hw(self, images) -> tuple[int, int]:
        return int(images.shape[2]), int(images.shape[3])

    def gather_pixels(self, images, idx):
        b, c, h, w = images.shape
        flat = images.reshape(b, c, h * w)
        return self.torch.gather(flat, 2, idx[:, None, :].expand(b, c, h * w)).reshape(b, c, h, w)


Backend = NumpyBackend | TorchBackend

#: tensor dtypes numpy can view and the kernels take (numpy has no bfloat16, the kernels take no float16)
KERNEL_DTYPES = ("uint8", "float32", "float64")


def kernel_ready(x: Any) -> bool:
    """Whether a CPU tensor can run the numpy kernels on a :func:`kernel_view`: a kernel dtype, and no autograd
    (a view of its memory would drop the graph)."""
    return (x.device.type == "cpu" and str(x.dtype).removeprefix("torch.") in KERNEL_DTYPES
            and not x.requires_grad)


def kernel_view(images):
    """A CPU tensor batch (B, C, H, W) as a numpy (B, H, W, C) view of the same memory (no copy; a contiguous
    tensor gives a transposed view, which the kernels walk in memory order); a numpy array passes through."""
    return images.detach().numpy().transpose(0, 2, 3, 1) if is_tensor(images) else images


def from_kernel_view(pixels):
    """The inverse of :func:`kernel_view`: a numpy (B, H, W, C) result as a (B, C, H, W) CPU tensor (no copy)."""
    return torch_module().from_numpy(pixels.transpose(0, 3, 1, 2))


def backend_for(x: Any) -> Backend:
    """The backend of an image batch: torch for a tensor (on its device), numpy otherwise."""
    if is_tensor(x):
        return TorchBackend(x.device)
    return NumpyBackend()
