"""Recipes: loading, validation errors that name the key, canonical form, per-image seeding."""

from __future__ import annotations

import dataclasses

import numpy as np
import pytest

import fractalgen as fg
from fractalgen.errors import RecipeError
from fractalgen.recipe import image_rng, recipe_keys


def write(tmp_path, text, name="r.toml"):
    path = tmp_path / name
    path.write_text(text)
    return path


def test_presets_load_with_their_modes():
    assert fg.load_recipe("ifs-colour").channels == 3
    gray = fg.load_recipe("ifs-gray")
    assert gray.channels == 1 and gray.shape == (256, 256, 1)


def test_family_name_loads_defaults():
    r = fg.load_recipe("ifs")
    assert r.family == {"ifs": 1.0} and r.ifs.maps == (2, 4) and r.size == 256


def test_overrides_top_level_and_dotted():
    r = fg.load_recipe("ifs-colour", size=96, seed=5, color=False, overrides={"ifs.maps": [3, 3], "ifs.gate.fill": [0.1, 0.5]})
    assert (r.size, r.seed, r.color) == (96, 5, False)
    assert r.ifs.maps == (3, 3) and r.ifs.gate.fill == (0.1, 0.5)


def test_toml_file_with_defaults_filled(tmp_path):
    r = fg.load_recipe(write(tmp_path, 'family = "ifs"\nsize = 64\n[ifs]\npoints = 5000\n'))
    assert r.size == 64 and r.ifs.points == 5000 and r.ifs.maps == (2, 4)


def test_to_toml_round_trips_to_an_equal_recipe(tmp_path):
    r = fg.load_recipe("ifs-gray", size=80, seed=11, overrides={"ifs.tone": ["log", "equalize"], "ifs.zoom": [0.8, 1.2]})
    again = fg.load_recipe(write(tmp_path, r.to_toml()))
    assert again == r and again.hash == r.hash


def test_hash_changes_with_any_setting():
    base = fg.load_recipe("ifs-colour")
    assert base.hash == fg.load_recipe("ifs-colour").hash
    assert base.hash != base.replace(seed=1).hash
    assert base.hash != base.replace(overrides={"ifs.gamma": [2.5, 2.5]}).hash


@pytest.mark.parametrize("text, needle", [
    ('family = "ifs"\n[ifs]\nmapz = [2, 3]\n', "unknown recipe key 'ifs.mapz'"),
    ('size = -4\n', "'size' = -4 is out of range"),
    ('size = 12.5\n', "'size' = 12.5 is not an integer"),
    ('[ifs]\nalpha_band = [6.0, 5.0]\n', "'ifs.alpha_band' = [6.0, 5.0] is inverted"),
    ('[ifs]\nalpha_band = [5.0, 40.0]\n', "'ifs.alpha_band' = [5.0, 40.0] cannot be met with 2 maps"),
    ('[ifs]\nmaps = [4, 2]\n', "'ifs.maps' = [4, 2] is inverted"),
    ('[ifs]\ncoloring = ["map", "rainbow"]\n', "unknown option 'rainbow'"),
    ('[ifs.gate]\nfill = [0.1, 1.5]\n', "'ifs.gate.fill' = [0.1, 1.5] is out of range"),
    ('family = "dragon"\n', "'family' = 'dragon' is not a known name"),
    ('color = "yes"\n', "'color' = 'yes' is not a boolean"),
    ('ifs = 3\n', "recipe key 'ifs' must be a table"),
    ('frobnicate = 1\n', "unknown recipe key 'frobnicate'"),
])
def test_bad_recipes_name_the_problem(tmp_path, text, needle):
    with pytest.raises(RecipeError) as err:
        fg.load_recipe(write(tmp_path, text))
    assert needle in str(err.value)
    assert "\n" not in str(err.value)


def test_unknown_preset_lists_the_presets():
    with pytest.raises(RecipeError, match="unknown preset 'ifs-colur'; built-in presets: .*ifs-colour"):
        fg.load_recipe("ifs-colur")


def test_missing_file_and_bad_toml(tmp_path):
    with pytest.raises(RecipeError, match="recipe file '.*nope.toml' not found"):
        fg.load_recipe(tmp_path / "nope.toml")
    with pytest.raises(RecipeError, match="is not valid TOML"):
        fg.load_recipe(write(tmp_path, "[ifs\nmaps = 3"))


def test_bad_override_values_name_the_key():
    with pytest.raises(RecipeError, match="'ifs.points' = 10 is out of range"):
        fg.load_recipe("ifs", overrides={"ifs.points": 10})
    with pytest.raises(RecipeError, match="'size' is a setting, not a section"):
        fg.load_recipe("ifs-colour", overrides={"size.x": 1})


def test_bad_index_is_an_error(small_colour):
    for bad in (-1, 1.5, True, "3"):
        with pytest.raises(RecipeError, match="is not a non-negative integer"):
            small_colour.image(bad)


def test_every_key_is_documented():
    keys = {row[0] for row in recipe_keys()}
    assert {"family", "size", "seed", "color", "max_draws", "ifs.maps", "ifs.alpha_band", "ifs.gate.fill"} <= keys
    assert all(row[2] for row in recipe_keys())


def test_image_rng_streams_are_distinct_and_stable():
    first = [image_rng(7, i, d).integers(2**62) for i in range(4) for d in range(3)]
    assert len(set(first)) == len(first)
    assert first == [image_rng(7, i, d).integers(2**62) for i in range(4) for d in range(3)]
    # seeds past 32 bits and trailing zeros must not alias (numpy pads short entropy with zeros)
    assert image_rng(2**32, 0).integers(2**62) != image_rng(0, 1).integers(2**62)
    assert image_rng(0, 0, 0).integers(2**62) != image_rng(0, 0, 1).integers(2**62)


def test_recipe_is_frozen(small_colour):
    with pytest.raises(dataclasses.FrozenInstanceError):
        small_colour.source = "x"


def test_mixed_family_weights_are_normalised_when_drawn():
    r = fg.load_recipe({"family": {"ifs": 2.0}})
    assert r.family == {"ifs": 2.0} and r.pick_family(5) == "ifs"
    assert isinstance(np.asarray(r.image(0)), np.ndarray)
