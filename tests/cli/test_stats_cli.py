"""`fractalgen stats` end to end through click's runner: the table, --json, the figure, two sets compared (one
imported and grayscale), and the one-line errors: a missing path or a non-store (exit 2), a damaged store
(exit 1), matplotlib missing (the install command)."""

from __future__ import annotations

import json
import sys

import numpy as np
import pytest
from click.testing import CliRunner
from PIL import Image

import fractalgen as fg
from fractalgen import stats
from fractalgen.cli import main
from fractalgen.stats_names import MEASURES


@pytest.fixture(scope="module")
def sets(tmp_path_factory):
    """A generated colour set (20 images at 32 px, shards of 8) and an imported grayscale one (12 at 24 px)."""
    root = tmp_path_factory.mktemp("stats-cli")
    fg.generate("ifs-colour", root / "ifs", 20, size=32, seed=1, shard_size=8, workers=1, progress=False).close()
    src = root / "pngs"
    src.mkdir()
    rng = np.random.default_rng(0)
    for i in range(12):
        Image.fromarray(rng.integers(0, 256, (30, 40), dtype=np.uint8)).save(src / f"{i:02d}.png")
    fg.store.import_folder(src, root / "gray", 24, gray=True, workers=1, progress=False)
    return root


@pytest.fixture
def run(tmp_path, monkeypatch):
    monkeypatch.chdir(tmp_path)
    runner = CliRunner()
    return lambda *args: runner.invoke(main, [str(a) for a in args])


def one_line_error(res, code, needle):
    assert res.exit_code == code, res.output
    assert needle in res.output, res.output
    assert "Traceback" not in res.output
    assert sum(line.startswith("Error:") for line in res.output.splitlines()) == 1


def test_the_table(run, sets):
    res = run("stats", sets / "ifs", "-q")
    assert res.exit_code == 0, res.output
    lines = res.stdout.splitlines()
    assert lines[0].startswith("ifs: 20 images 32x32x3, near-duplicates ")
    assert lines[1].split() == ["measure", "mean", "std", "p05", "median", "p95"]
    assert [line.split()[0] for line in lines[2:]] == list(MEASURES)


def test_a_seeded_sample(run, sets):
    res = run("stats", sets / "ifs", "-n", 6, "-s", 2, "--json", "-q")
    assert res.exit_code == 0, res.output
    data = json.loads(res.stdout)["sets"][0]
    assert data["images"] == 6 and data["of"] == 20
    part, = stats.measure_sets([sets / "ifs"], count=6, seed=2, progress=False)
    assert data["measures"]["fill"]["mean"] == pytest.approx(part.values["fill"].mean())
    assert "ifs: 6 images (a sample of 20) 32x32x3" in run("stats", sets / "ifs", "-n", 6, "-q").stdout


def test_json_holds_the_numbers_of_the_library(run, sets):
    res = run("stats", sets / "ifs", sets / "gray", "--json", "-q", "--by", "fill", "--extremes", 2)
    assert res.exit_code == 0, res.output
    data = json.loads(res.stdout)
    assert [s["name"] for s in data["sets"]] == ["ifs", "gray"]
    assert [s["shape"] for s in data["sets"]] == [[32, 32, 3], [24, 24, 1]]
    assert set(data["measures"]) == set(MEASURES)
    ifs, gray = stats.measure_sets([sets / "ifs", sets / "gray"], progress=False)
    assert data["sets"][0]["measures"]["entropy"]["mean"] == pytest.approx(ifs.values["entropy"].mean())
    assert data["sets"][1]["measures"]["colourfulness"]["max"] == 0.0
    assert data["sets"][0]["extremes"] == {"by": "fill", "lowest": ifs.extremes("fill", 2)[0],
                                           "highest": ifs.extremes("fill", 2)[1]}


def test_out_writes_the_figure_of_two_sets(run, sets, tmp_path):
    res = run("stats", sets / "ifs", sets / "gray", "-o", "figs/stats.png", "-q")
    assert res.exit_code == 0, res.output
    assert "ifs: 20 images" in res.stdout and "gray: 12 images 24x24x1" in res.stdout
    assert "wrote figs/stats.png" in res.output
    with Image.open(tmp_path / "figs" / "stats.png") as im:
        assert im.format == "PNG" and im.size[0] > 600 and im.size[1] > 400
        pixels = np.asarray(im.convert("RGB"))
    assert len(np.unique(pixels.reshape(-1, 3), axis=0)) > 50  # histograms and thumbnails, not a blank page


@pytest.mark.parametrize("args, needle", [
    (("nowhere",), "no store at 'nowhere': it does not exist"),
    (("{s}/ifs", "empty"), "'empty' is not a fractalgen store"),
    (("pngs",), "'pngs' is a folder of images, not a store: import it first"),
    (("{s}/ifs", "--by", "size"), "'size' is not one of"),
    (("{s}/ifs", "--near-bits", "257"), "257 is not in the range"),
    (("{s}/ifs", "-n", "0"), "0 is not in the range"),
])
def test_bad_input_exits_2_with_one_line(run, sets, tmp_path, args, needle):
    (tmp_path / "empty").mkdir()
    (tmp_path / "pngs").mkdir()
    Image.new("RGB", (8, 8)).save(tmp_path / "pngs" / "a.png")
    one_line_error(run("stats", *(a.format(s=sets) for a in args)), 2, needle)


def test_a_damaged_store_exits_1(run, sets, tmp_path):
    import shutil

    shutil.copytree(sets / "ifs", tmp_path / "copy")
    (tmp_path / "copy" / "shard-00001.h5").unlink()
    one_line_error(run("stats", tmp_path / "copy", "-q"), 1, "shard-00001.h5' (images 8..15) is missing")


def test_without_matplotlib_the_figure_names_the_install_command(run, sets, monkeypatch, tmp_path):
    for name in [m for m in sys.modules if m == "matplotlib" or m.startswith("matplotlib.")]:
        monkeypatch.delitem(sys.modules, name)
    monkeypatch.setitem(sys.modules, "matplotlib", None)  # `import matplotlib...` now raises ImportError
    one_line_error(run("stats", sets / "ifs", "-o", "s.png", "-q"), 1, 'pip install "fractalgen[plots]"')
    assert not (tmp_path / "s.png").exists()
    assert run("stats", sets / "ifs", "-q").exit_code == 0  # the table needs no matplotlib


def test_the_readme_figure_is_committed_and_small():
    from pathlib import Path

    path = Path(__file__).resolve().parents[2] / "sample_sets" / "stats.png"
    assert path.is_file(), "run python sample_sets/make_stats.py"
    assert path.stat().st_size < 250_000
    with Image.open(path) as im:
        assert im.format == "PNG" and im.size[0] <= 1000
