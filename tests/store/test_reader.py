"""The lazy reader: random access, slices, iteration, params, columns, load(), pickling, worker processes, and
the one-line errors of missing, truncated, unfinished or foreign stores."""

from __future__ import annotations

import multiprocessing as mp
import pickle

import h5py
import numpy as np
import pytest

import fractalgen as fg
from fractalgen.errors import CorruptShardError, StoreError
from fractalgen.store import fit_square
from fractalgen.store.chunks import fletcher32

from .conftest import make_small

RECIPE = fg.load_recipe("ifs-colour", size=32, seed=5)


def test_store_len_shape_and_images_match_the_recipe(small_store):
    assert len(small_store) == 40 and small_store.shape == (32, 32, 3)
    for i in (0, 15, 16, 31, 32, 39):  # both sides of each shard boundary
        img = small_store[i]
        assert img.dtype == np.uint8 and img.shape == (32, 32, 3)
        np.testing.assert_array_equal(img, RECIPE.image(i))


def test_negative_indices_count_from_the_end_and_out_of_range_raises(small_store):
    np.testing.assert_array_equal(small_store[-1], small_store[39])
    np.testing.assert_array_equal(small_store[-40], small_store[0])
    for bad in (40, -41):
        with pytest.raises(IndexError, match="out of range for a store of 40"):
            small_store[bad]
    with pytest.raises(TypeError):
        small_store[1.0]


@pytest.mark.parametrize("key", [slice(None), slice(10, 35), slice(3, 40, 7), slice(None, None, -3),
                                 slice(30, 5, -2), slice(20, 10), slice(-5, None)])
def test_slices_equal_the_images_one_by_one(small_store, key):
    expect = [small_store[i] for i in range(40)[key]]
    got = small_store[key]
    assert got.shape == (len(expect), 32, 32, 3) and got.dtype == np.uint8
    if expect:
        np.testing.assert_array_equal(got, np.stack(expect))


def test_iteration_is_sequential_and_complete(small_store):
    imgs = list(small_store)
    assert len(imgs) == 40
    np.testing.assert_array_equal(np.stack(imgs), small_store[:])


def test_params_rerender_the_stored_image(small_store):
    for i in (0, 17, 39):
        p = small_store.params(i)
        assert p["index"] == i and p["family"] == "ifs" and p["seed"] == 5
        np.testing.assert_array_equal(fg.render(p), small_store[i])


def test_recipe_and_columns_come_back(small_store):
    assert small_store.recipe == RECIPE
    assert small_store.column("family").tolist() == ["ifs"] * 40
    draws = small_store.column("draws")
    assert draws.tolist() == [small_store.params(i)["draws"] for i in range(40)]
    with pytest.raises(StoreError, match="no column 'nope'"):
        small_store.column("nope")


def test_load_resizes_every_image_once_like_fit_square(small_store):
    full = small_store.load()
    np.testing.assert_array_equal(full, small_store[:])
    small = small_store.load(size=16)
    assert small.shape == (40, 16, 16, 3) and small.dtype == np.uint8
    np.testing.assert_array_equal(small[7], fit_square(small_store[7], 16))
    # antialiased: a downsized image keeps the mean brightness of the original
    assert abs(float(small.mean()) - float(full.mean())) < 2.0
    with pytest.raises(StoreError, match="positive image side"):
        small_store.load(size=0)


def test_fit_square_is_resize_shorter_side_then_centre_crop():
    img = np.zeros((40, 80, 3), np.uint8)
    img[:, 14:66] = 255  # a bright band a little wider than the centre square of a 2:1 image
    out = fit_square(img, 20)
    assert out.shape == (20, 20, 3)
    assert out.min() == 255  # the crop kept only the centre
    gray = fit_square(np.full((10, 30, 1), 7, np.uint8), 5)
    assert gray.shape == (5, 5, 1) and (gray == 7).all()


def test_pickle_carries_path_and_manifest_only_and_reopens_lazily(small_store):
    small_store[3]  # open a handle first: it must not travel
    blob = pickle.dumps(small_store)
    assert len(blob) < 20_000 and b"HDF" not in blob
    clone = pickle.loads(blob)
    np.testing.assert_array_equal(clone[3], small_store[3])
    assert clone.recipe == small_store.recipe
    clone.close()


def _digests(store, indices):
    return [int(store[i].astype(np.int64).sum()) * 1000 + i for i in indices]


@pytest.mark.parametrize("method", ["fork", "spawn"])
def test_two_worker_processes_read_the_right_image_for_every_index(small_store, method):
    small_store[0]  # the parent has open handles before the workers start
    expect = _digests(small_store, range(40))
    with mp.get_context(method).Pool(2) as pool:
        parts = pool.starmap(_digests, [(small_store, range(0, 40, 2)), (small_store, range(1, 40, 2))])
    assert sorted(parts[0] + parts[1]) == sorted(expect)
    assert parts[0] == expect[0::2] and parts[1] == expect[1::2]


def test_a_torch_dataloader_with_two_workers_returns_every_image(small_store):
    """The real thing, with fork (spawn is covered by the pool test above, without torch's 5 s start-up)."""
    torch = pytest.importorskip("torch")
    from torch.utils.data import DataLoader

    small_store[0]
    loader = DataLoader(small_store, batch_size=5, num_workers=2, multiprocessing_context="fork")
    got = torch.cat(list(loader)).numpy()
    np.testing.assert_array_equal(got, small_store[:])


def test_open_refuses_a_missing_directory_and_a_directory_that_is_not_a_store(tmp_path):
    with pytest.raises(StoreError, match="does not exist; make one with `fractalgen generate"):
        fg.open_store(tmp_path / "nope")
    (tmp_path / "notes.txt").write_text("hi")
    with pytest.raises(StoreError, match="is not a fractalgen store"):
        fg.open_store(tmp_path)


def test_open_refuses_an_unfinished_run_pointing_at_resume(store_copy):
    (store_copy / "manifest.json").unlink()
    with pytest.raises(StoreError, match="did not finish.*--resume"):
        fg.open_store(store_copy)


def test_open_names_a_missing_shard_and_its_images(store_copy):
    (store_copy / "shard-00001.h5").unlink()
    with pytest.raises(CorruptShardError, match=r"shard-00001.h5' \(images 16..31\) is missing"):
        fg.open_store(store_copy)


def test_open_names_a_truncated_shard(store_copy):
    path = store_copy / "shard-00002.h5"
    path.write_bytes(path.read_bytes()[:-100])
    with pytest.raises(CorruptShardError, match="shard-00002.h5.*truncated"):
        fg.open_store(store_copy)


def test_open_refuses_a_manifest_that_does_not_parse(store_copy):
    (store_copy / "manifest.json").write_text("{ not json")
    with pytest.raises(StoreError, match="manifest .* is not valid JSON"):
        fg.open_store(store_copy)


def test_a_shard_deleted_after_open_is_a_corrupt_shard_error_on_access(store_copy):
    with fg.open_store(store_copy) as store:
        (store_copy / "shard-00002.h5").unlink()
        store[0]
        with pytest.raises(CorruptShardError, match="shard-00002.h5.*is missing"):
            store[35]


def test_a_damaged_chunk_is_a_corrupt_shard_error_naming_shard_image_and_check(store_copy, flip_byte):
    flip_byte(store_copy / "shard-00001.h5", 4)
    store = fg.open_store(store_copy)  # same size: open cannot tell; the read does
    with store:
        np.testing.assert_array_equal(store[19], RECIPE.image(19))
        with pytest.raises(CorruptShardError, match=r"shard-00001.h5' \(images 16..31\) cannot be read \(image 20: "
                                                    r"its chunk fails the fletcher32 checksum"):
            store[20]
        with pytest.raises(CorruptShardError, match=r"\(image 20: its chunk fails"):
            store[18:22]


def test_damage_behind_a_valid_fletcher32_is_caught_by_the_deflate_streams_adler32(store_copy):
    """A chunk whose stored bytes were altered and then re-checksummed (as a buggy writer or tool might):
    fletcher32 passes, the pixels' adler32 inside the zlib stream does not."""
    path = store_copy / "shard-00000.h5"
    with h5py.File(path, "r") as f:
        info = f["images"].id.get_chunk_info(3)
    raw = bytearray(path.read_bytes()[info.byte_offset:info.byte_offset + info.size])
    raw[-5] ^= 0x01  # last byte of the adler32
    raw[-4:] = fletcher32(bytes(raw[:-4])).to_bytes(4, "little")
    with open(path, "r+b") as fh:
        fh.seek(info.byte_offset)
        fh.write(raw)
    with fg.open_store(store_copy) as store:
        np.testing.assert_array_equal(store[2], RECIPE.image(2))
        with pytest.raises(CorruptShardError, match=r"\(image 3: its pixels fail the adler32 checksum"):
            store[3]


@pytest.mark.parametrize("compression", ["gzip", "lzf", "none"])
def test_every_compression_reads_back_what_hdf5_reads(tmp_path, compression):
    """gzip and none are decoded by fractalgen itself, lzf by HDF5: all three give HDF5's pixels."""
    path = make_small(tmp_path / compression, count=20, compression=compression)
    with fg.open_store(path) as store:
        expect = []
        for entry in store.shards:
            with h5py.File(path / entry.file, "r") as f:
                assert f["images"].compression == (None if compression == "none" else compression)
                expect.append(f["images"][()])
        expect = np.concatenate(expect)
        np.testing.assert_array_equal(store[:], expect)
        np.testing.assert_array_equal(np.stack([store[i] for i in range(20)]), expect)
        np.testing.assert_array_equal(expect[3], RECIPE.image(3))
