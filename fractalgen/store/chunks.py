"""Image chunks written and read directly: HDF5's ``deflate`` + ``fletcher32`` filter pipeline done here.

Every shard stores one image per chunk, passed through the filters ``[deflate (gzip), fletcher32]`` or
``[fletcher32]`` alone. HDF5 runs the same pipeline on every read and write, behind h5py's slicing machinery;
for one 192 KiB image that overhead, and zlib's adler32 (a byte-at-a-time loop in zlib 1.2), cost ~15% of a
random read. This module moves the pipeline out of HDF5 without changing a byte on disk:

- :func:`encode_chunk` compresses with the standard library's ``zlib`` with the settings of HDF5's deflate
  filter (``compress2`` at the declared level; where Python and HDF5 use the same zlib, as on Linux, the
  stored bytes equal what HDF5 would have written, and a test compares them) and appends the fletcher32
  checksum as HDF5 computes and stores it; ``H5Dwrite_chunk`` then stores the chunk. The dataset keeps its
  declared filters, so any HDF5 tool reads it.
- :func:`decode_chunk` takes the stored bytes from ``H5Dread_chunk``, verifies fletcher32 exactly as HDF5
  does, inflates the raw deflate stream and checks the zlib stream's adler32 itself (vectorised: ~5x zlib's).
  It refuses every chunk HDF5 refuses, naming the check that failed, and is stricter where HDF5 silently
  returns made-up pixels: a stream that decodes to fewer bytes than an image, and a chunk that was never
  written (see :func:`decode_chunk` for the details). Another filter pipeline (lzf, shuffle, a plugin), or a
  chunk whose filter mask says HDF5 skipped a filter, is read through HDF5 as before (:func:`read_image`).

Checksums are implemented from HDF5's definition (``H5_checksum_fletcher32`` and ``H5Z__filter_fletcher32``,
HDF5 1.8 to 2.0) and RFC 1950 (adler32); tests compare them with HDF5's and zlib's on real and damaged chunks.
"""

from __future__ import annotations

import zlib

import h5py
import numpy as np

from .._jit import njit

#: HDF5's filter ids (H5Zpublic.h): the only two this module applies itself.
FILTER_DEFLATE = 1
FILTER_FLETCHER32 = 3
#: Words summed between two folds of HDF5's fletcher32 (HDF5 chose 360 so that its uint32 sums cannot overflow).
_FLETCHER_BLOCK = 360
#: Bytes per block of adler32 (its block sums fit 32 bits, see :func:`_adler32`).
_ADLER_BLOCK = 4096
_ADLER_MOD = 65521
_MASK32 = 0xFFFFFFFF


@njit
def _fletcher32(data: np.ndarray, n: int) -> int:
    """HDF5's fletcher32 of ``data[:n]``: big-endian 16-bit words, sums folded every 360 words, a trailing odd
    byte counted as the high byte of a word; ``(sum2 << 16) | sum1``.

    HDF5 adds word by word (``sum1 += w; sum2 += sum1``); a block of L words adds the same totals as
    ``sum2 += L * sum1 + sum((L - p) * w_p)`` and ``sum1 += sum(w_p)``, which has no loop-carried chain and so
    vectorises (~20x faster on a 35 kB chunk). The sums are exact in int64; they are masked to 32 bits where
    HDF5's are uint32 so that equality with HDF5 does not rest on its no-overflow bound."""
    s1 = 0
    s2 = 0
    pos = 0
    words = n // 2
    while words > 0:
        block = min(words, _FLETCHER_BLOCK)
        words -= block
        w = data[pos:pos + 2 * block]  # a view indexed from 0: lets LLVM prove the indices in range
        total = 0
        weighted = 0
        for p in range(block):
            x = (np.int64(w[2 * p]) << 8) | np.int64(w[2 * p + 1])
            total += x
            weighted += (block - p) * x
        s2 = (s2 + block * s1 + weighted) & _MASK32
        s1 = (s1 + total) & _MASK32
        pos += 2 * block
        s1 = (s1 & 0xFFFF) + (s1 >> 16)
        s2 = (s2 & 0xFFFF) + (s2 >> 16)
    if n % 2:
        s1 = (s1 + (np.int64(data[pos]) << 8)) & _MASK32
        s2 = (s2 + s1) & _MASK32
        s1 = (s1 & 0xFFFF) + (s1 >> 16)
        s2 = (s2 & 0xFFFF) + (s2 >> 16)
    s1 = (s1 & 0xFFFF) + (s1 >> 16)
    s2 = (s2 & 0xFFFF) + (s2 >> 16)
    return (s2 << 16) | s1


@njit
def _adler32(data: np.ndarray) -> int:
    """adler32 (RFC 1950) of ``data``, per block of L bytes as ``a += sum(b_i)``, ``b += L * a + sum((L - i)
    * b_i)``: no loop-carried chain inside a block, so it vectorises. With L <= 4096 both block sums stay below
    2**32 (255 * 4096 * 4097 / 2 < 2**31), so 32-bit lanes suffice."""
    a = 1
    b = 0
    for start in range(0, data.size, _ADLER_BLOCK):
        block = data[start:start + _ADLER_BLOCK]
        length = block.size
        total = np.uint32(0)
        weighted = np.uint32(0)
        for i in range(length):
            v = np.uint32(block[i])
            total = np.uint32(total + v)
            weighted = np.uint32(weighted + np.uint32(length - i) * v)
        b = (b + length * a + np.int64(weighted)) % _ADLER_MOD
        a = (a + np.int64(total)) % _ADLER_MOD
    return (b << 16) | a


def fletcher32(data: bytes | np.ndarray) -> int:
    """HDF5's fletcher32 checksum of a byte string (what its filter appends to a chunk, little-endian)."""
    arr = np.frombuffer(data, np.uint8)
    return int(_fletcher32(arr, arr.size))


def adler32(data: bytes | np.ndarray) -> int:
    """adler32 of a byte string, equal to ``zlib.adler32(data)``."""
    return int(_adler32(np.frombuffer(data, np.uint8)))


def _fletcher_ok(raw: np.ndarray) -> bool:
    """Whether the last 4 bytes of a stored chunk are HDF5's fletcher32 of the rest. Like HDF5's filter, also
    accepts the checksum with its 16-bit halves byte-swapped (what HDF5 before 1.6.3 wrote on little-endian
    machines), so this accepts exactly the chunks HDF5 accepts."""
    n = raw.size - 4
    if n < 0:
        return False
    stored = int.from_bytes(raw[n:].tobytes(), "little")
    value = int(_fletcher32(raw, n))
    swapped = ((value & 0x00FF00FF) << 8) | ((value >> 8) & 0x00FF00FF)
    return stored in (value, swapped)


def direct_codec(images: h5py.Dataset) -> str | None:
    """``"gzip"`` or ``"none"`` if the dataset's filter pipeline is one this module applies (deflate then
    fletcher32, or fletcher32 alone); None otherwise (lzf, shuffle, a plugin...: read those through HDF5)."""
    plist = images.id.get_create_plist()
    filters = [plist.get_filter(i)[0] for i in range(plist.get_nfilters())]
    if filters == [FILTER_DEFLATE, FILTER_FLETCHER32]:
        return "gzip"
    if filters == [FILTER_FLETCHER32]:
        return "none"
    return None


def encode_chunk(image: np.ndarray, codec: str, level: int) -> bytes:
    """The stored bytes of one image chunk: deflated at ``level`` (``codec == "gzip"``) or not, then HDF5's
    fletcher32 appended little-endian."""
    data = np.ascontiguousarray(image)
    body = zlib.compress(data, level) if codec == "gzip" else data.tobytes()
    arr = np.frombuffer(body, np.uint8)
    return body + int(_fletcher32(arr, arr.size)).to_bytes(4, "little")


def decode_chunk(raw: bytes, codec: str, out: np.ndarray) -> None:
    """Decode the stored bytes of a chunk into ``out`` (a writable C-contiguous uint8 array of the chunk's size).

    A damaged chunk raises OSError saying which check it fails (``out`` may then be partly written). Every
    chunk refused here is refused by HDF5 as well, except two that no deflate filter writes and HDF5 lets
    through: a stream that decodes to fewer bytes than the chunk (HDF5 fills the rest with whatever its buffer
    held) and bytes after the end of the zlib stream.
    """
    arr = np.frombuffer(raw, np.uint8)
    if not _fletcher_ok(arr):
        raise OSError("its chunk fails the fletcher32 checksum: the stored bytes changed")
    flat = out.reshape(-1)
    if codec == "none":
        if arr.size != flat.size + 4:
            raise OSError(f"its chunk holds {arr.size - 4} bytes, not {flat.size}")
        flat[:] = arr[:-4]
        return
    # a zlib stream (RFC 1950), as every deflate filter stores it: a 2-byte header (deflate, no preset
    # dictionary), the raw deflate data, the adler32 of the pixels (big-endian)
    if arr.size < 10 or arr[0] & 0x0F != 8 or arr[1] & 0x20 or (int(arr[0]) * 256 + int(arr[1])) % 31:
        raise OSError("its chunk is not a zlib stream")
    try:
        # raw inflate, so that zlib skips its adler32 (a byte-at-a-time loop in zlib 1.2): checked below
        pixels = np.frombuffer(zlib.decompress(memoryview(raw)[2:-8], -15, flat.size), np.uint8)
    except zlib.error as err:
        raise OSError(f"its chunk's deflate stream is damaged ({err})") from None
    if pixels.size != flat.size:
        raise OSError(f"its chunk decodes to {pixels.size} bytes, not {flat.size}")
    if int(_adler32(pixels)) != int.from_bytes(raw[-8:-4], "big"):
        raise OSError("its pixels fail the adler32 checksum of the chunk's deflate stream")
    flat[:] = pixels


def read_image(images: h5py.Dataset, codec: str | None, j: int, out: np.ndarray) -> None:
    """Read image ``j`` of a one-image-per-chunk dataset into ``out`` (``images.shape[1:]``), raising OSError
    for a damaged chunk. Decodes the chunk here when ``codec`` (from :func:`direct_codec`) is set; otherwise,
    or if the chunk's filter mask says HDF5 skipped a filter when writing it, HDF5's filter pipeline reads it."""
    if codec is not None and out.flags.c_contiguous:
        try:
            mask, raw = images.id.read_direct_chunk((j,) + (0,) * (images.ndim - 1))
        except RuntimeError:  # HDF5 would read fill values (zeros); every image of a shard is written
            raise OSError("no chunk is stored for it") from None
        if mask == 0:
            decode_chunk(raw, codec, out)
            return
    out[...] = images[j]  # (h5py's read_direct costs ~20 us more per image)
