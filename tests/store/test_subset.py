"""Store.subset: views by index and by column value (family), their reads, columns, load, nesting, pickling and
errors."""

from __future__ import annotations

import pickle

import numpy as np
import pytest

import fractalgen as fg
from fractalgen.errors import StoreError
from fractalgen.store import StoreSubset


@pytest.fixture(scope="module")
def mixed(tmp_path_factory):
    """A store of three families: 12 ipmix-like images at 24 px in shards of 5."""
    path = tmp_path_factory.mktemp("subset") / "mixed"
    fg.generate("ipmix-like", path, 12, size=24, seed=4, workers=1, progress=False, shard_size=5).close()
    with fg.open_store(path) as store:
        yield store


def test_subset_by_indices_reads_those_images_in_that_order(mixed):
    sub = mixed.subset([7, 2, -1, 5])
    assert isinstance(sub, StoreSubset) and len(sub) == 4 and sub.shape == mixed.shape
    assert sub.indices.tolist() == [7, 2, 11, 5]
    expect = np.stack([mixed[i] for i in (7, 2, 11, 5)])
    np.testing.assert_array_equal(sub[:], expect)
    np.testing.assert_array_equal(np.stack(list(sub)), expect)
    np.testing.assert_array_equal(sub[-1], mixed[5])
    np.testing.assert_array_equal(sub[1:3], expect[1:3])
    assert sub.params(0) == mixed.params(7)
    assert mixed.subset(range(3, 6)).indices.tolist() == [3, 4, 5]
    assert mixed.subset(slice(None, None, 4)).indices.tolist() == [0, 4, 8]


def test_subset_by_family_keeps_exactly_the_images_of_that_family(mixed):
    families = mixed.column("family")
    assert len(set(families)) >= 2  # the fixture really mixes families
    for name in set(families):
        sub = mixed.subset(family=name)
        assert sub.indices.tolist() == [i for i in range(12) if families[i] == name]
        assert (sub.column("family") == name).all()
        assert all(sub.params(j)["family"] == name for j in range(len(sub)))
    two = sorted(set(families))[:2]
    assert mixed.subset(family=two).indices.tolist() == [i for i in range(12) if families[i] in two]


def test_indices_and_family_combine_and_subsets_nest(mixed):
    families = mixed.column("family")
    name = families[3]
    both = mixed.subset(range(6), family=name)
    assert both.indices.tolist() == [i for i in range(6) if families[i] == name]
    nested = mixed.subset(family=name).subset([0, -1])
    fam = [i for i in range(12) if families[i] == name]
    assert nested.indices.tolist() == [fam[0], fam[-1]]


def test_subset_load_resizes_like_the_store(mixed):
    sub = mixed.subset([1, 8, 9])
    np.testing.assert_array_equal(sub.load(16), mixed.load(16)[[1, 8, 9]])
    np.testing.assert_array_equal(sub.load(), mixed[:][[1, 8, 9]])


def test_subset_pickles_as_the_store_path_and_indices(mixed):
    sub = mixed.subset([4, 0])
    sub[0]  # opens a shard handle, which must not travel
    back = pickle.loads(pickle.dumps(sub))
    assert back.indices.tolist() == [4, 0] and back.store.path == mixed.path
    np.testing.assert_array_equal(back[:], sub[:])


def test_fractal_source_draws_only_from_the_subset(mixed):
    from fractalgen.mixing import FractalSource

    families = mixed.column("family")
    name = families[0]
    src = FractalSource(mixed.subset(family=name), size=24, scale=1.0)
    assert len(src) == int((families == name).sum())
    allowed = {mixed[i].tobytes() for i in range(12) if families[i] == name}
    rng = np.random.default_rng(0)
    for _ in range(10):
        draw = src.sample(rng)
        assert draw.tobytes() in allowed


@pytest.mark.parametrize("call, message", [
    (lambda s: s.subset([12]), "index 12 is out of range for a set of 12 images; use 0..11"),
    (lambda s: s.subset([-13]), "index -13 is out of range"),
    (lambda s: s.subset([1.5]), "subset indices must be integers"),
    (lambda s: s.subset(family="nope"), "no image of .* has family 'nope'; its values: "),
    (lambda s: s.subset(colour="red"), "has no column 'colour'; its columns: family"),
    (lambda s: s.subset([0]).subset([1]), "index 1 is out of range for a set of 1 images"),
])
def test_bad_selections_are_one_line_errors(mixed, call, message):
    with pytest.raises(StoreError, match=message):
        call(mixed)
