"""Conventions every command follows: instant help (no numba, numpy or h5py imported), the same short options
everywhere, an Examples section per command, uncut one-line help, both spellings of the presets."""

from __future__ import annotations

import json
import subprocess
import sys

import click
import pytest
from click.testing import CliRunner

from fractalgen.cli import main

HEAVY = ("numba", "numpy", "h5py", "PIL", "fractalgen.render.escape", "fractalgen.store.reader")


def imported_by(*args: str) -> set[str]:
    """Modules loaded by ``python -m fractalgen ARGS`` (in a fresh interpreter)."""
    code = ("import runpy, sys, json\nsys.argv = ['fractalgen', *json.loads(sys.argv[1])]\n"
            "try:\n    runpy.run_module('fractalgen', run_name='__main__')\nexcept SystemExit:\n    pass\n"
            "sys.stderr.write('MODULES ' + json.dumps(sorted(sys.modules)))\n")
    res = subprocess.run([sys.executable, "-c", code, json.dumps(args)], capture_output=True, text=True,
                         timeout=120)
    line = res.stderr.rsplit("MODULES ", 1)[-1]
    return set(json.loads(line))


@pytest.mark.parametrize("args", [["--help"], ["render", "--help"], ["generate", "--help"], ["show", "--help"],
                                  ["mix", "--help"], ["stats", "--help"], ["stats"], ["render"],
                                  ["show", "x", "--indices", "1:y", "-o", "a.png"]])
def test_help_and_argument_errors_import_nothing_heavy(args):
    """`fractalgen --help` took 1.8 s because the CLI imported numba at start-up."""
    loaded = imported_by(*args)
    assert "fractalgen.cli" in loaded
    assert not loaded & set(HEAVY), sorted(loaded & set(HEAVY))


def commands() -> dict[str, click.Command]:
    return dict(main.commands)


def option_names(cmd: click.Command) -> dict[str, set[str]]:
    return {p.name: set(p.opts) | set(p.secondary_opts) for p in cmd.params if isinstance(p, click.Option)}


def test_the_same_short_options_everywhere():
    seen = {"count": 0, "out": 0, "seed": 0}
    for name, cmd in commands().items():
        opts = option_names(cmd)
        if "count" in opts:
            assert {"-n", "--n", "--count"} <= opts["count"], name
            seen["count"] += 1
        if "out" in opts:
            assert {"-o", "--out"} <= opts["out"], name
            seen["out"] += 1
        if "seed" in opts:
            assert {"-s", "--seed"} <= opts["seed"], name
            seen["seed"] += 1
    assert seen == {"count": 6, "out": 5, "seed": 8}, seen  # generate, preview, show, export, mix; ...


@pytest.mark.parametrize("name", sorted(main.commands))
def test_every_command_has_examples_that_parse(name):
    res = CliRunner().invoke(main, [name, "--help"], terminal_width=80)
    assert res.exit_code == 0
    examples = res.output.split("Examples:\n", 1)[1].split("\n\n", 1)[0].splitlines()
    assert examples and all(line.strip().startswith(f"fractalgen {name}") for line in examples), res.output
    for line in examples:  # each example's options exist (the command would get past click's parser)
        words = line.split()[2:]
        cmd = main.commands[name]
        known = {o for p in cmd.params for o in (*p.opts, *getattr(p, "secondary_opts", ()))}
        assert all(w in known for w in words if w.startswith("-") and not w[1:2].isdigit()), line


def test_top_level_help_lines_are_not_cut_off():
    res = CliRunner().invoke(main, ["--help"], terminal_width=80)
    listing = res.output.split("Commands:\n", 1)[1].splitlines()
    assert len(listing) == len(main.commands)
    assert not any(line.rstrip().endswith("...") for line in listing), res.output
    for name, cmd in main.commands.items():
        assert cmd.short_help and cmd.short_help in res.output, name


@pytest.mark.parametrize("spelling", ["ifs-color", "ifs-colour"])
def test_both_spellings_of_a_preset(tmp_path, spelling):
    res = CliRunner().invoke(main, ["recipe", spelling])
    assert res.exit_code == 0 and 'color = true' in res.output
    res = CliRunner().invoke(main, ["recipe", "ifs-grey"])
    assert res.exit_code == 0 and 'color = false' in res.output


def test_both_spellings_are_one_set():
    import fractalgen as fg

    assert fg.load_recipe("ifs-color").hash == fg.load_recipe("ifs-colour").hash
    assert fg.load_recipe("ifs-color").source == "ifs-colour"


def test_the_lazy_package_keeps_its_functions():
    """``fractalgen`` imports its modules on first use; importing the submodules named like the functions
    ``render`` and ``generate`` must not replace the functions."""
    code = ("import fractalgen as fg, fractalgen.render.escape, fractalgen.generate, fractalgen.store, sys\n"
            "assert callable(fg.render) and callable(fg.generate) and not hasattr(fg.render, '__path__')\n"
            "from fractalgen import render, Store, FAMILIES\n"
            "r = fg.load_recipe('ifs-colour', size=16)\n"
            "assert (render(r.params(1)) == r.image(1)).all() and set(FAMILIES) >= {'ifs', 'julia'}\n"
            "assert 'open_store' in dir(fg)\n")
    res = subprocess.run([sys.executable, "-c", code], capture_output=True, text=True, timeout=120)
    assert res.returncode == 0, res.stderr
