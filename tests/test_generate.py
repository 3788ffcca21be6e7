"""fractalgen.generate: recipes into stores, on one process or a spawn pool, byte-identical either way."""

from __future__ import annotations

import json
import pickle
import sys

import numpy as np
import pytest

import fractalgen as fg
from fractalgen.errors import RenderError
from fractalgen.generate import RecipeItems, rerender_check


def manifest_sans_time(path):
    m = json.loads((path / "manifest.json").read_text())
    m.pop("created")
    return m


def test_generate_stores_the_recipes_images_params_and_recipe(tmp_path):
    recipe = fg.load_recipe("ifs-gray", size=32, seed=11)
    with fg.generate(recipe, tmp_path / "g", 12, shard_size=5, workers=1, progress=False) as store:
        assert store.shape == (32, 32, 1) and len(store) == 12
        assert store.recipe == recipe and store.manifest["seed"] == 11
        assert store.manifest["origin"] == {"kind": "generated", "source": "ifs-gray"}
        for i in range(12):
            img, params = recipe.draw(i)
            np.testing.assert_array_equal(store[i], img)
            assert store.params(i) == json.loads(json.dumps(params))
            np.testing.assert_array_equal(fg.render(store.params(i)), store[i])
        assert store.column("draws").tolist() == [store.params(i)["draws"] for i in range(12)]


def test_one_and_two_workers_write_byte_identical_stores(tmp_path):
    args = dict(size=32, seed=2, shard_size=6, progress=False)
    one = fg.generate("ifs-colour", tmp_path / "one", 30, workers=1, **args)
    two = fg.generate("ifs-colour", tmp_path / "two", 30, workers=2, **args)
    assert manifest_sans_time(one.path) == manifest_sans_time(two.path)  # includes every shard file's sha256
    for k in range(5):
        name = f"shard-{k:05d}.h5"
        assert (one.path / name).read_bytes() == (two.path / name).read_bytes()


@pytest.mark.parametrize("workers", [1, 2])
def test_a_gate_nothing_passes_stops_with_the_reason_and_leaves_no_store(tmp_path, workers):
    with pytest.raises(RenderError, match="none of 2 draws passed the ifs quality gate"):
        fg.generate("ifs", tmp_path / "bad", 8, size=32, shard_size=4, workers=workers, progress=False,
                    overrides={"ifs.gate.fill": [0.99, 1.0], "max_draws": 2})
    assert not list((tmp_path / "bad").glob("*.tmp")) and not (tmp_path / "bad" / "manifest.json").exists()


def test_recipe_items_pickle_as_the_canonical_recipe(small_colour):
    items = RecipeItems(small_colour)
    clone = pickle.loads(pickle.dumps(items))
    assert "_recipe" not in items.__getstate__() and clone.set_id == small_colour.hash
    np.testing.assert_array_equal(next(iter(clone.items(range(4, 5))))[0], small_colour.image(4))


def test_rerender_check_passes_a_true_store_and_names_an_image_that_differs(tmp_path, monkeypatch):
    store = fg.generate("ifs-colour", tmp_path / "r", 6, size=32, workers=1, progress=False)
    assert rerender_check(store, 3) == []
    render_module = sys.modules["fractalgen.render"]
    real = render_module.render
    monkeypatch.setattr(render_module, "render", lambda p: real(p) if p["index"] != 2 else real(p) ^ 1)
    assert rerender_check(store, 6) == ["image 2: re-rendering its params gives different pixels than the stored image"]
    store.close()
