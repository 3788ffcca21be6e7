"""``fractalgen mix``: the sheet it writes, its messages and exit codes."""

from __future__ import annotations

import numpy as np
import pytest
from click.testing import CliRunner
from PIL import Image

from fractalgen.cli import main


@pytest.fixture
def run(tmp_path, monkeypatch):
    monkeypatch.chdir(tmp_path)
    y, x = np.mgrid[0:40, 0:60]
    photo = np.stack([x * 4, y * 6, (x + y) * 2], -1).astype(np.uint8)
    Image.fromarray(photo).save(tmp_path / "photo.png")
    runner = CliRunner()
    return lambda *args: runner.invoke(main, [str(a) for a in args])


def read_png(path):
    with Image.open(path) as im:
        return im.mode, im.size, np.asarray(im)


NAMES = dict(pixmix="PixMix", ipmix="IPMix", layermix="LayerMix", fractalmaskmix="FractalMaskMix")


@pytest.mark.parametrize("method", sorted(NAMES))
def test_mix_writes_the_input_then_n_views(run, tmp_path, method):
    res = run("mix", "ifs-gray", "photo.png", "--method", method, "-n", 5, "--size", 24, "--fractals", 6,
              "--cols", 3, "--tile", 24, "--no-labels", "-o", "sheet.png")
    assert res.exit_code == 0, res.output
    assert f"the input and 5 {NAMES[method]} views" in res.output
    mode, size, sheet = read_png(tmp_path / "sheet.png")
    assert mode == "RGB" and size == (3 * 26 + 2, 2 * 26 + 2)  # 6 tiles of 24 px, 2 px gaps
    tiles = [sheet[2 + r * 26: 2 + r * 26 + 24, 2 + c * 26: 2 + c * 26 + 24] for r in range(2) for c in range(3)]
    assert sum(not np.array_equal(t, tiles[0]) for t in tiles[1:]) >= 2


def test_mix_labels_sit_under_the_tiles_not_on_them(run, tmp_path):
    args = ("mix", "ifs-gray", "photo.png", "-n", 5, "--size", 24, "--fractals", 6, "--cols", 3, "--tile", 24)
    assert run(*args, "--no-labels", "-o", "plain.png").exit_code == 0
    assert run(*args, "-o", "labelled.png").exit_code == 0
    _, _, plain = read_png(tmp_path / "plain.png")
    _, (w, h), labelled = read_png(tmp_path / "labelled.png")
    strip = (h - 2) // 2 - 26
    assert w == 3 * 26 + 2 and strip >= 8 and h == 2 * (26 + strip) + 2
    for r in range(2):
        for c in range(3):
            y0, y1, x = 2 + r * 26, 2 + r * (26 + strip), 2 + c * 26
            assert np.array_equal(labelled[y1:y1 + 24, x:x + 24], plain[y0:y0 + 24, x:x + 24])  # pixels untouched
            assert labelled[y1 + 24:y1 + 24 + strip, x:x + 24].max() > 200  # the label is written below


def test_mix_enlarges_small_views_pixel_for_pixel(run, tmp_path):
    """The 32 px sheet was 172 x 138 px with labels over the tiles: now each view is enlarged 3x to 96 px by
    default (whole blocks of one colour), or to --tile."""
    assert run("mix", "ifs-gray", "photo.png", "-n", 3, "--size", 32, "--fractals", 4, "--cols", 4, "--no-labels",
               "-o", "s.png").exit_code == 0
    _, size, sheet = read_png(tmp_path / "s.png")
    assert size == (4 * 98 + 2, 98 + 2)
    tile = sheet[2:98, 2 + 98:2 * 98].astype(int)
    blocks = tile.reshape(32, 3, 32, 3, 3)
    assert (blocks == blocks[:, :1, :, :1]).all()
    assert run("mix", "ifs-gray", "photo.png", "-n", 3, "--size", 32, "--fractals", 4, "--cols", 4, "--no-labels",
               "--tile", 64, "-o", "t.png").exit_code == 0
    assert read_png(tmp_path / "t.png")[1] == (4 * 66 + 2, 66 + 2)


def test_mix_is_reproducible_with_a_seed_and_changes_with_another(run, tmp_path):
    args = ("mix", "ifs-colour", "photo.png", "--n", 4, "--size", 16, "--fractals", 4, "--no-labels")
    for seed, name in ((1, "a.png"), (1, "b.png"), (2, "c.png")):
        assert run(*args, "--seed", seed, "--out", name).exit_code == 0
    a, b, c = ((tmp_path / n).read_bytes() for n in ("a.png", "b.png", "c.png"))
    assert a == b and a != c


@pytest.mark.parametrize("args, code, needle", [
    (("nope", "photo.png"), 2, "is neither a store folder nor a recipe"),
    (("ifs-gray", "missing.png"), 2, "does not exist"),
    (("ifs-gray", "notes.txt"), 2, "cannot read image 'notes.txt'"),
    (("ifs-gray", "photo.png", "--method", "augmix"), 2, "'augmix' is not one of"),
])
def test_mix_errors_are_one_line_with_exit_status_2(run, tmp_path, args, code, needle):
    (tmp_path / "notes.txt").write_text("not an image")
    res = run("mix", *args, "--size", 16, "--out", "x.png")
    assert res.exit_code == code and needle in res.output
    assert "Traceback" not in res.output


@pytest.mark.parametrize("method", ["pixmix", "ipmix", "layermix"])
def test_mix_variant_released_changes_the_views_and_says_so_once(run, tmp_path, method):
    args = ("mix", "ifs-colour", "photo.png", "--method", method, "--n", 6, "--size", 16, "--fractals", 4,
            "--no-labels")
    paper = run(*args, "--out", "p.png")
    released = run(*args, "--variant", "released", "--out", "r.png")
    assert paper.exit_code == 0 and released.exit_code == 0, released.output
    assert "variant released" in released.output and "variant paper" in paper.output
    notes = [line for line in released.output.splitlines() if line.startswith("note:")]
    assert len(notes) == 1 and "defects included" in notes[0]
    assert (tmp_path / "p.png").read_bytes() != (tmp_path / "r.png").read_bytes()


def test_mix_variant_is_refused_for_the_miamix_masks(run):
    res = run("mix", "ifs-gray", "photo.png", "--method", "fractalmaskmix", "--variant", "released", "--size", 16,
              "--out", "x.png")
    assert res.exit_code == 2 and "no released variant" in res.output
