"""The store commands end to end: generate, import, info, show, export, verify; a run killed with SIGKILL and
resumed; Ctrl-C; and the one-line errors with their exit codes."""

from __future__ import annotations

import json
import os
import signal
import subprocess
import sys
import time

import numpy as np
import pytest
from click.testing import CliRunner
from PIL import Image

import fractalgen as fg
from fractalgen.cli import main

# Slow enough images (~3 ms each at 32 px) that a run can be caught between its first and last shard.
SLOW = ["ifs-colour", "--count", "240", "--size", "32", "--shard-size", "8", "--set", "ifs.points=4000000"]


@pytest.fixture
def run(tmp_path, monkeypatch):
    monkeypatch.chdir(tmp_path)
    runner = CliRunner()
    return lambda *args: runner.invoke(main, [str(a) for a in args])


def read_png(path):
    with Image.open(path) as im:
        return np.asarray(im)


def one_line_error(res, code, needle):
    assert res.exit_code == code, res.output
    assert needle in res.output, res.output
    assert "Traceback" not in res.output
    assert sum(line.startswith("Error:") for line in res.output.splitlines()) == 1


def manifest_sans_time(path):
    m = json.loads((path / "manifest.json").read_text())
    m.pop("created")
    return m


@pytest.fixture
def store(run, tmp_path):
    res = run("generate", "ifs-colour", "s", "--count", 20, "--size", 32, "--shard-size", 8, "--workers", 1, "-q")
    assert res.exit_code == 0, res.output
    assert "done: s holds 20 images 32x32x3 in 3 shards" in res.output
    return tmp_path / "s"


def test_the_readme_job_runs_twice_in_a_row(run, tmp_path):
    """generate + show, twice: the second generate finds the set complete and does nothing."""
    for _ in range(2):
        res = run("generate", "ifs-colour", "out/demo", "--count", 24, "--size", 32, "-q")
        assert res.exit_code == 0, res.output
        assert run("show", "out/demo", "--n", 16, "--no-labels", "--out", "sheet.png").exit_code == 0
    assert "already holds this set, complete: nothing to do" in res.output
    assert read_png(tmp_path / "sheet.png").shape == (4 * 34 + 2, 4 * 34 + 2, 3)


def test_generate_writes_the_recipes_images(store):
    recipe = fg.load_recipe("ifs-colour", size=32)
    with fg.open_store(store) as s:
        np.testing.assert_array_equal(s[:], np.stack([recipe.image(i) for i in range(20)]))


def test_info_shows_counts_size_origin_families_and_the_shard_table(run, store, tmp_path):
    res = run("info", store)
    assert res.exit_code == 0
    out = res.output
    assert "20 x 32x32x3 uint8 (colour)" in out and "3 of up to 8 images, gzip compression" in out
    assert "generated from 'ifs-colour', seed 0" in out and "family:      ifs 20 (100.0%)" in out
    assert "shard-00002.h5" in out and "draws:" in out
    (tmp_path / "r.toml").write_text(run("info", store, "--recipe").output)
    assert fg.load_recipe(tmp_path / "r.toml") == fg.load_recipe("ifs-colour", size=32)


def test_show_writes_a_seeded_random_sample_or_the_given_indices(run, store, tmp_path):
    assert run("show", store, "--n", 6, "--out", "a.png", "--seed", 3).exit_code == 0
    assert run("show", store, "--n", 6, "--out", "b.png", "--seed", 3).exit_code == 0
    assert run("show", store, "--n", 6, "--out", "c.png", "--seed", 4).exit_code == 0
    assert (tmp_path / "a.png").read_bytes() == (tmp_path / "b.png").read_bytes()
    assert (tmp_path / "a.png").read_bytes() != (tmp_path / "c.png").read_bytes()
    res = run("show", store, "--indices", "0:4", "--cols", 4, "--no-labels", "--out", "d.png")
    assert res.exit_code == 0
    sheet = read_png(tmp_path / "d.png")
    assert sheet.shape == (36, 4 * 34 + 2, 3)
    with fg.open_store(store) as s:
        np.testing.assert_array_equal(sheet[2:34, 2 + 34:34 + 34], s[1])


def test_export_writes_pngs_named_by_index_that_read_back_as_the_images(run, store, tmp_path):
    res = run("export", store, "pngs", "--n", 5)
    assert res.exit_code == 0 and "wrote 5 PNG files" in res.output
    assert sorted(p.name for p in (tmp_path / "pngs").iterdir()) == [f"00000{i}.png" for i in range(5)]
    with fg.open_store(store) as s:
        np.testing.assert_array_equal(read_png(tmp_path / "pngs" / "000003.png"), s[3])


def test_export_imagefolder_makes_one_class_folder_per_family(run, store, tmp_path):
    assert run("export", store, "folder", "--imagefolder", "--indices", "18,19").exit_code == 0
    assert sorted(p.relative_to(tmp_path / "folder").as_posix() for p in (tmp_path / "folder").rglob("*")) == [
        "ifs", "ifs/000018.png", "ifs/000019.png"]


def test_verify_passes_a_whole_store_and_rerenders(run, store):
    res = run("verify", store, "--rerender", 3, "-q")
    assert res.exit_code == 0, res.output
    assert "ok: 20 images in 3 shards verified, 3 re-rendered identically" in res.output


def test_verify_names_the_shard_and_image_of_a_flipped_byte(run, store):
    import h5py

    path = store / "shard-00001.h5"
    with h5py.File(path, "r") as f:
        info = f["images"].id.get_chunk_info(5)
    data = bytearray(path.read_bytes())
    data[info.byte_offset + info.size // 2] ^= 0x10
    path.write_bytes(bytes(data))
    res = run("verify", store, "-q")
    assert res.exit_code == 1
    assert "shard-00001.h5: image 13 (position 5 in the shard) fails its checksum" in res.output
    assert "shard-00001.h5 (images 8..15): its sha256 differs" in res.output
    assert res.output.splitlines()[-1].startswith("Error: 2 problem(s)")


def test_verify_lists_a_missing_shard(run, store):
    (store / "shard-00002.h5").unlink()
    res = run("verify", store, "-q")
    assert res.exit_code == 1 and "shard-00002.h5 (images 16..19) is missing" in res.output


def test_import_a_folder_of_images(run, tmp_path):
    src = tmp_path / "photos"
    (src / "b").mkdir(parents=True)
    Image.new("RGB", (60, 40), (200, 10, 10)).save(src / "z.png")
    Image.new("L", (30, 50), 77).save(src / "b" / "y.jpg")
    Image.new("RGB", (20, 20), (0, 0, 255)).save(src / "a.webp")
    (src / "notes.txt").write_text("not an image")
    (src / ".hidden.png").write_bytes(b"junk")
    res = run("import", src, "imp", "--size", 16, "-q")
    assert res.exit_code == 0, res.output
    assert "done: imp holds 3 images 16x16x3 in 1 shard " in res.output
    with fg.open_store(tmp_path / "imp") as s:
        assert [s.params(i)["source"] for i in range(3)] == ["a.webp", "b/y.jpg", "z.png"]
        assert s.params(2) == {"source": "z.png", "width": 60, "height": 40}
        assert s.recipe is None and s.manifest["origin"]["kind"] == "imported"
        assert (s[2] == [200, 10, 10]).all() and (s[1] == 77).all()
    res = run("import", src, "gray", "--size", 16, "--gray", "-q")
    with fg.open_store(tmp_path / "gray") as s:
        assert s.shape == (16, 16, 1)
    assert "imported" in run("info", tmp_path / "imp").output


def test_import_stops_at_an_unreadable_image_naming_it(run, tmp_path):
    src = tmp_path / "photos"
    src.mkdir()
    Image.new("RGB", (20, 20)).save(src / "a.png")
    (src / "broken.jpg").write_bytes(b"\xff\xd8 not really a jpeg")
    one_line_error(run("import", src, "imp", "--size", 16, "-q", "--workers", 1), 2, "cannot read image 'broken.jpg'")
    assert not (tmp_path / "imp" / "manifest.json").exists()


@pytest.mark.parametrize("args, code, needle", [
    (("info", "nowhere"), 2, "no store at 'nowhere': it does not exist"),
    (("show", "nowhere", "--out", "x.png"), 2, "no store at 'nowhere'"),
    (("export", "nowhere", "e"), 2, "no store at 'nowhere'"),
    (("verify", "nowhere"), 2, "no store at 'nowhere'"),
    (("info", "afile"), 2, "no store at 'afile': it is a file, not a store directory"),
    (("verify", "."), 2, "is not a fractalgen store (no manifest.json)"),
    (("generate", "nope", "o", "--count", 3), 2, "unknown preset 'nope'"),
    (("generate", "ifs", "o", "--count", 0), 2, "0 is not in the range"),
    (("generate", "ifs", "o", "--count", 2, "--compression", "zstd"), 2, "'zstd' is not one of"),
    (("import", "nowhere", "o", "--size", 32), 2, "does not exist"),
])
def test_bad_arguments_give_one_line_and_the_right_exit_code(run, tmp_path, args, code, needle):
    """A store path that holds no store is bad input (exit 2) for every command that reads a store; it was
    exit 1, like a damaged store."""
    (tmp_path / "afile").write_text("not a store")
    one_line_error(run(*args), code, needle)


def test_show_and_export_refuse_out_of_range_indices(run, store):
    one_line_error(run("show", store, "--indices", "3,99", "--out", "x.png"), 2, "index 99 is out of range")
    one_line_error(run("export", store, "e", "--indices", "1:x"), 2, "is not START:STOP")


@pytest.mark.parametrize("args, needle", [
    (("export", "{s}", "e", "--indices", "0:5", "--n", "3"), "give either -n/--n or --indices, not both"),
    (("show", "{s}", "-o", "x.png", "--indices", "0:5", "-n", "3"), "give either -n/--n or --indices, not both"),
    (("show", "{s}", "-o", "x.png", "--indices", "10:30"), "30 is out of range for a store of 20 images"),
    (("export", "{s}", "e", "--indices", "-25:"), "-25 is out of range for a store of 20 images"),
    (("export", "{s}", "e", "--indices", "5:5"), "5:5 selects no image of a store of 20"),
    (("export", "{s}", "e", "--indices", "0:10:0"), "step 0"),
])
def test_conflicting_or_out_of_range_selections_are_errors(run, store, tmp_path, args, needle):
    """`export --indices 0:5 --n 3` ignored --n and `show --indices 290:310` on 300 images showed 10: now both
    are usage errors (exit 2) and nothing is written."""
    one_line_error(run(*(a.format(s=store) for a in args)), 2, needle)
    assert not (tmp_path / "x.png").exists() and not (tmp_path / "e").exists()


def test_selections_within_range_still_work(run, store, tmp_path):
    assert run("export", store, "e", "--indices", "-3:").exit_code == 0
    assert sorted(p.name for p in (tmp_path / "e").iterdir()) == ["000017.png", "000018.png", "000019.png"]
    assert run("export", store, "f", "-n", "20").exit_code == 0 and len(list((tmp_path / "f").iterdir())) == 20
    res = run("export", store, "g", "-n", "25")  # -n is at most N, and the command says how many
    assert res.exit_code == 0 and "wrote 20 PNG files" in res.output
    res = run("show", store, "-o", "y.png", "--indices", "0:20:5", "--no-labels", "--cols", "4")
    assert res.exit_code == 0 and "4 images" in res.output


def test_generate_refuses_another_set_and_names_the_difference(run, store):
    res = run("generate", "ifs-colour", store, "--count", 20, "--size", 32, "--shard-size", 8, "--seed", 1)
    one_line_error(res, 1, "holds another set: other images")
    assert "--overwrite" in res.output
    res = run("generate", "ifs-colour", store, "--count", 20, "--size", 32, "--shard-size", 8, "--seed", 1,
              "--overwrite", "-q", "--workers", 1)
    assert res.exit_code == 0 and fg.open_store(store).manifest["seed"] == 1


def test_info_and_show_of_a_corrupt_store_exit_1_with_one_line(run, store):
    (store / "manifest.json").write_text("{")
    one_line_error(run("info", store), 1, "is not valid JSON")
    (store / "manifest.json").unlink()
    one_line_error(run("show", store, "--out", "x.png"), 1, "did not finish")


def test_a_gate_nothing_passes_exits_1_with_the_reason(run, tmp_path):
    res = run("generate", "ifs", "bad", "--count", 4, "--size", 32, "--workers", 1, "-q",
              "--set", "ifs.gate.fill=[0.99,1]", "--set", "max_draws=2")
    one_line_error(res, 1, "none of 2 draws passed")


# -- interrupted runs, as a user sees them: a real process, killed ------------------------------------------------

def start(out, *extra):
    cmd = [sys.executable, "-m", "fractalgen", "generate", *SLOW[:1], str(out), *SLOW[1:], "-q", *extra]
    return subprocess.Popen(cmd, start_new_session=True, stdout=subprocess.PIPE, stderr=subprocess.PIPE, text=True)


def wait_for_a_shard(proc, out, timeout=60.0):
    """Poll until at least one shard file is final (the run is under way); fail if the run ends first."""
    deadline = time.monotonic() + timeout
    while time.monotonic() < deadline:
        if out.is_dir() and any(p.suffix == ".h5" for p in out.iterdir()):
            return
        assert proc.poll() is None, proc.communicate()
        time.sleep(0.002)
    pytest.fail("no shard appeared")


def test_a_run_killed_with_sigkill_resumes_to_the_same_store(run, tmp_path):
    killed = tmp_path / "killed"
    proc = start(killed, "--workers", "2")
    wait_for_a_shard(proc, killed)
    os.killpg(proc.pid, signal.SIGKILL)  # the parent and its workers, as a crash or an OOM kill would
    proc.communicate()
    finished = sorted(p.name for p in killed.glob("shard-*.h5"))
    assert finished and not (killed / "manifest.json").exists() and len(finished) < 30
    res = run("generate", *SLOW[:1], killed, *SLOW[1:], "--workers", 1, "--resume")
    assert res.exit_code == 0, res.output
    assert f"resume: {len(finished)} shards verified, {30 - len(finished)} written" in res.output
    whole = tmp_path / "whole"
    assert run("generate", *SLOW[:1], whole, *SLOW[1:], "--workers", 1, "-q").exit_code == 0
    assert manifest_sans_time(killed) == manifest_sans_time(whole)
    assert not list(killed.glob("*.tmp"))
    with fg.open_store(killed) as a, fg.open_store(whole) as b:
        np.testing.assert_array_equal(a[:], b[:])


def test_ctrl_c_stops_the_workers_leaves_a_resumable_directory_and_exits_130(tmp_path):
    out = tmp_path / "int"
    proc = start(out, "--workers", "2")
    wait_for_a_shard(proc, out)
    os.killpg(proc.pid, signal.SIGINT)  # what a terminal sends on Ctrl-C: the whole foreground group
    _, err = proc.communicate(timeout=60)
    assert proc.returncode == 130, err
    assert "repeat the same command with --resume" in err and "Traceback" not in err
    assert not list(out.glob("*.tmp")) and not (out / "manifest.json").exists()
