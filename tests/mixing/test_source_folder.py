"""FractalSource on a folder of image files (the PixMix fractal folder): decoded and resized once, exactly as
`fractalgen import` would store them, with no store written."""

from __future__ import annotations

import pickle

import numpy as np
import pytest
from PIL import Image

import fractalgen as fg
from fractalgen.errors import ImageInputError, StoreError
from fractalgen.mixing import FractalSource
from fractalgen.store import import_folder


@pytest.fixture
def folder(tmp_path):
    """Five images of different sizes and modes, one in a sub-folder, plus a hidden file and a text file."""
    rng = np.random.default_rng(0)
    root = tmp_path / "fractals"
    (root / "sub").mkdir(parents=True)
    for name, (h, w) in {"a.png": (50, 70), "b.jpg": (64, 40), "sub/c.png": (36, 36), "d.bmp": (90, 90)}.items():
        Image.fromarray(rng.integers(0, 256, (h, w, 3), dtype=np.uint8)).save(root / name)
    Image.fromarray(rng.integers(0, 256, (45, 45), dtype=np.uint8)).save(root / "e.png")  # grayscale file
    (root / ".hidden.png").write_bytes(b"not an image")
    (root / "notes.txt").write_text("ignored")
    return root


def test_folder_source_equals_the_imported_store(folder, tmp_path):
    src = FractalSource(folder, size=32, seed=0)
    assert src.in_memory and len(src) == 5 and src.resized == (36, 36) and src.channels == 3
    import_folder(folder, tmp_path / "imported", 36, workers=1, progress=False)
    with fg.open_store(tmp_path / "imported") as store:
        np.testing.assert_array_equal(src._data, store[:])  # same files, order and resize as an import
    assert not (folder / "manifest.json").exists()  # nothing written into the folder


def test_folder_source_crops_windows_of_the_resized_images_and_pickles(folder):
    src = FractalSource(str(folder), size=32, seed=1)
    data = src._data.copy()
    crop = src.sample(np.random.default_rng(3))
    assert any((data[i, y:y + 32, x:x + 32] == crop).all() for i in range(5) for y in range(5) for x in range(5))
    back = pickle.loads(pickle.dumps(src))  # a spawned DataLoader worker gets the resized set, not the folder
    np.testing.assert_array_equal(back.sample(np.random.default_rng(3)), crop)


def test_from_name_takes_a_folder_of_images(folder):
    assert len(FractalSource.from_name(folder, 16)) == 5


def test_folder_source_refuses_lazy_mode_and_empty_folders(folder, tmp_path):
    with pytest.raises(ImageInputError, match="folder of images.*import it into a store first"):
        FractalSource(folder, size=32, in_memory=False)
    (tmp_path / "empty").mkdir()
    with pytest.raises(StoreError, match="is not a fractalgen store"):
        FractalSource(tmp_path / "empty", size=32)
