"""Direct chunk encoding and decoding against HDF5's own filters: the same stored bytes, the same checksums, and
the same verdict on every damaged chunk (each one also read through h5py, which runs HDF5's filters)."""

from __future__ import annotations

import itertools
import zlib

import h5py
import numpy as np
import pytest

import fractalgen as fg
from fractalgen.store.chunks import adler32, decode_chunk, direct_codec, encode_chunk, fletcher32, read_image
from fractalgen.store.shard import FILTERS, GZIP_LEVEL

_files = itertools.count()


def memory_file() -> h5py.File:
    return h5py.File(f"chunks-{next(_files)}.h5", "w", driver="core", backing_store=False)


def sample_images() -> list[np.ndarray]:
    """Fractals, noise (deflate falls back to stored blocks), flat black and white, and odd sizes (odd-length
    chunks exercise fletcher32's trailing byte)."""
    recipe = fg.load_recipe("ifs-colour", size=24, seed=3)
    rng = np.random.default_rng(0)
    out = [recipe.image(i) for i in range(3)]
    out += [rng.integers(0, 256, (24, 24, 3), dtype=np.uint8), np.zeros((24, 24, 3), np.uint8),
            np.full((24, 24, 3), 255, np.uint8), rng.integers(0, 256, (5, 7, 1), dtype=np.uint8),
            np.full((3, 3, 1), 255, np.uint8), np.full((128, 128, 3), 255, np.uint8)]
    return out


def hdf5_dataset(f: h5py.File, image: np.ndarray, compression: str, name: str = "images") -> h5py.Dataset:
    """A one-image dataset written through HDF5's own filter pipeline, as the store declares it."""
    ds = f.create_dataset(name, shape=(1, *image.shape), dtype=np.uint8, chunks=(1, *image.shape),
                          fletcher32=True, **FILTERS[compression])
    ds[0] = image
    return ds


def stored_by_hdf5(image: np.ndarray, compression: str) -> bytes:
    with memory_file() as f:
        return hdf5_dataset(f, image, compression).id.read_direct_chunk((0, 0, 0, 0))[1]


def hdf5_reads(image_shape: tuple, compression: str, raw: bytes) -> np.ndarray:
    """What HDF5's filters make of stored chunk bytes ``raw`` (raises OSError if they reject them)."""
    with memory_file() as f:
        ds = hdf5_dataset(f, np.zeros(image_shape, np.uint8), compression)
        ds.id.write_direct_chunk((0, 0, 0, 0), raw)
        return ds[0]


def with_fletcher(body: bytes) -> bytes:
    return body + fletcher32(body).to_bytes(4, "little")


@pytest.mark.parametrize("compression", ["gzip", "none"])
def test_fletcher32_is_the_checksum_hdf5_appends(compression):
    for image in sample_images():
        raw = stored_by_hdf5(image, compression)
        assert fletcher32(raw[:-4]) == int.from_bytes(raw[-4:], "little"), image.shape


def test_adler32_equals_zlibs():
    rng = np.random.default_rng(1)
    for n in (0, 1, 2, 4095, 4096, 4097, 3 * 4096 + 5, 196_608):
        for data in (rng.integers(0, 256, n, dtype=np.uint8), np.full(n, 255, np.uint8)):
            assert adler32(data) == zlib.adler32(data), n


@pytest.mark.parametrize("compression", ["gzip", "none"])
def test_hdf5_reads_encoded_chunks_back_to_the_same_pixels(compression):
    for image in sample_images():
        np.testing.assert_array_equal(hdf5_reads(image.shape, compression,
                                                 encode_chunk(image, compression, GZIP_LEVEL)), image)


@pytest.mark.skipif("ng" in zlib.ZLIB_RUNTIME_VERSION, reason="Python's zlib is zlib-ng, HDF5's is zlib")
@pytest.mark.parametrize("compression", ["gzip", "none"])
def test_encode_chunk_stores_exactly_what_hdf5s_filters_store(compression):
    for image in sample_images():
        assert encode_chunk(image, compression, GZIP_LEVEL) == stored_by_hdf5(image, compression), image.shape


@pytest.mark.parametrize("compression", ["gzip", "none"])
def test_decode_chunk_accepts_every_intact_chunk_and_gives_hdf5s_pixels(compression):
    for image in sample_images():
        out = np.empty_like(image)
        decode_chunk(stored_by_hdf5(image, compression), compression, out)
        np.testing.assert_array_equal(out, image)


@pytest.mark.parametrize("compression", ["gzip", "none"])
def test_every_flipped_byte_is_refused_by_the_fast_path_and_by_hdf5(compression):
    image = fg.load_recipe("ifs-colour", size=8, seed=1).image(0)
    raw = stored_by_hdf5(image, compression)
    out = np.empty_like(image)
    for pos in range(len(raw)):
        damaged = bytearray(raw)
        damaged[pos] ^= 0xFF
        with pytest.raises(OSError, match="fails the fletcher32 checksum"):
            decode_chunk(bytes(damaged), compression, out)
        with pytest.raises(OSError):
            hdf5_reads(image.shape, compression, bytes(damaged))


def test_damage_behind_a_valid_fletcher32_is_caught_by_the_stream_checks_here_and_in_hdf5():
    image = fg.load_recipe("ifs-colour", size=16, seed=2).image(0)
    stream = zlib.compress(image.tobytes(), GZIP_LEVEL)
    bad_adler = stream[:-1] + bytes([stream[-1] ^ 0x01])
    cut = stream[:len(stream) // 2] + stream[-4:]
    bad_header = bytes([stream[0], stream[1] ^ 0x01]) + stream[2:]
    for body, needle in ((bad_adler, "adler32"), (cut, "deflate stream is damaged"), (bad_header, "not a zlib")):
        raw = with_fletcher(body)  # as if the damage had happened before the checksum was computed
        with pytest.raises(OSError, match=needle):
            decode_chunk(raw, "gzip", np.empty_like(image))
        with pytest.raises(OSError):
            hdf5_reads(image.shape, "gzip", raw)


def test_a_stream_of_too_few_pixels_is_refused_where_hdf5_would_make_up_the_rest():
    image = fg.load_recipe("ifs-colour", size=16, seed=2).image(0)
    raw = with_fletcher(zlib.compress(image[:8].tobytes(), GZIP_LEVEL))  # a valid stream of half the image
    with pytest.raises(OSError, match="decodes to 384 bytes, not 768"):
        decode_chunk(raw, "gzip", np.empty_like(image))
    np.testing.assert_array_equal(hdf5_reads(image.shape, "gzip", raw)[:8], image[:8])  # no error from HDF5


def test_a_checksum_with_swapped_halves_is_accepted_here_as_by_hdf5():
    """HDF5 also accepts the checksum HDF5 < 1.6.3 wrote on little-endian machines (bytes swapped in each
    16-bit half); accepting exactly what HDF5 accepts keeps the fast path from judging a file differently."""
    image = fg.load_recipe("ifs-colour", size=16, seed=2).image(1)
    body = zlib.compress(image.tobytes(), GZIP_LEVEL)
    value = fletcher32(body)
    swapped = ((value & 0x00FF00FF) << 8) | ((value >> 8) & 0x00FF00FF)
    assert swapped != value
    raw = body + swapped.to_bytes(4, "little")
    out = np.empty_like(image)
    decode_chunk(raw, "gzip", out)
    np.testing.assert_array_equal(out, image)
    np.testing.assert_array_equal(hdf5_reads(image.shape, "gzip", raw), image)


def test_direct_codec_names_only_the_pipelines_this_module_applies():
    image = np.zeros((4, 4, 3), np.uint8)
    with memory_file() as f:
        assert direct_codec(hdf5_dataset(f, image, "gzip", "a")) == "gzip"
        assert direct_codec(hdf5_dataset(f, image, "none", "b")) == "none"
        assert direct_codec(hdf5_dataset(f, image, "lzf", "c")) is None
        for i, extra in enumerate(({"fletcher32": False, "compression": "gzip"},
                                   {"fletcher32": True, "compression": "gzip", "shuffle": True})):
            ds = f.create_dataset(f"x{i}", shape=(1, 4, 4, 3), dtype=np.uint8, chunks=(1, 4, 4, 3), **extra)
            assert direct_codec(ds) is None


@pytest.mark.parametrize("compression", ["gzip", "none", "lzf"])
def test_read_image_decodes_gzip_and_none_itself_and_hands_the_rest_to_hdf5(compression, monkeypatch):
    image = fg.load_recipe("ifs-colour", size=16, seed=4).image(0)
    hdf5_calls = []
    real = h5py.Dataset.__getitem__
    monkeypatch.setattr(h5py.Dataset, "__getitem__", lambda *a, **k: (hdf5_calls.append(1), real(*a, **k))[1])
    with memory_file() as f:
        ds = hdf5_dataset(f, image, compression)
        out = np.empty_like(image)
        read_image(ds, direct_codec(ds), 0, out)
        np.testing.assert_array_equal(out, image)
        assert len(hdf5_calls) == (compression == "lzf")
        raw = bytearray(ds.id.read_direct_chunk((0, 0, 0, 0))[1])
        raw[len(raw) // 2] ^= 0xFF
        ds.id.write_direct_chunk((0, 0, 0, 0), bytes(raw))
        with pytest.raises(OSError):
            read_image(ds, direct_codec(ds), 0, out)
        assert len(hdf5_calls) == (compression == "lzf") * 2


def test_read_image_refuses_a_chunk_that_was_never_written_and_reads_a_chunk_hdf5_left_unfiltered(tmp_path):
    image = fg.load_recipe("ifs-colour", size=16, seed=4).image(0)
    with h5py.File(tmp_path / "x.h5", "w") as f:
        ds = f.create_dataset("images", shape=(2, *image.shape), dtype=np.uint8, chunks=(1, *image.shape),
                              fletcher32=True, **FILTERS["gzip"])
        ds.id.write_direct_chunk((0, 0, 0, 0), with_fletcher(image.tobytes()), filter_mask=0b01)  # deflate skipped
    # reopened: in the session that wrote a lone chunk, HDF5 2.0 reports its filter mask as 0
    with h5py.File(tmp_path / "x.h5", "r") as f:
        out = np.empty_like(image)
        read_image(f["images"], "gzip", 0, out)
        np.testing.assert_array_equal(out, image)
        with pytest.raises(OSError, match="no chunk is stored"):
            read_image(f["images"], "gzip", 1, out)
