"""--family on show and export: only that family's images, and the one-line errors of a wrong selection."""

from __future__ import annotations

import numpy as np
import pytest
from click.testing import CliRunner
from PIL import Image

import fractalgen as fg
from fractalgen.cli import main


@pytest.fixture(scope="module")
def mixed(tmp_path_factory):
    path = tmp_path_factory.mktemp("family") / "mixed"
    fg.generate("ipmix-like", path, 12, size=24, seed=4, workers=1, progress=False, shard_size=5).close()
    with fg.open_store(path) as store:
        return path, store.column("family")


def run(*args):
    return CliRunner().invoke(main, [str(a) for a in args])


def test_export_family_writes_only_that_familys_images(mixed, tmp_path):
    path, families = mixed
    name = families[0]
    want = [i for i in range(12) if families[i] == name]
    res = run("export", path, tmp_path / "out", "--family", name)
    assert res.exit_code == 0, res.output
    assert sorted(p.name for p in (tmp_path / "out").iterdir()) == [f"{i:06d}.png" for i in want]
    res = run("export", path, tmp_path / "two", "--family", name, "--n", 1)
    assert sorted(p.name for p in (tmp_path / "two").iterdir()) == [f"{want[0]:06d}.png"]
    with fg.open_store(path) as store, Image.open(tmp_path / "out" / f"{want[-1]:06d}.png") as im:
        np.testing.assert_array_equal(np.asarray(im), store[want[-1]])


def test_show_family_samples_within_the_family(mixed, tmp_path):
    path, families = mixed
    name = families[-1]
    want = [i for i in range(12) if families[i] == name]
    res = run("show", path, "--family", name, "--n", 50, "--no-labels", "--cols", 1, "--out", tmp_path / "s.png")
    assert res.exit_code == 0 and f"{len(want)} images" in res.output, res.output
    with fg.open_store(path) as store, Image.open(tmp_path / "s.png") as im:
        sheet = np.asarray(im)
        tiles = [sheet[2 + k * 26:26 + k * 26, 2:26] for k in range(len(want))]
        np.testing.assert_array_equal(np.stack(tiles), store[:][want])


@pytest.mark.parametrize("args, code, needle", [
    (["--family", "nope"], 1, "has family 'nope'; its values: "),
    (["--family", "julia", "--indices", "0:3"], 2, "--family and --indices both choose images"),
])
def test_bad_family_selections_are_one_line_errors(mixed, tmp_path, args, code, needle):
    for cmd in (["show", mixed[0], "--out", tmp_path / "x.png"], ["export", mixed[0], tmp_path / "x"]):
        res = run(*cmd, *args)
        assert res.exit_code == code and needle in res.output and "Traceback" not in res.output, res.output
