"""numba's compiled kernels stay cached across installs: the cache is keyed by the kernels' source, not by where
the package lives, and the first compile of a process is announced in one line."""

from __future__ import annotations

import json
import shutil
import subprocess
import sys
from pathlib import Path

import fractalgen

PACKAGE = Path(fractalgen.__file__).parent

PROBE = """
import json, sys
from fractalgen import _machine
_machine.compile_notice = lambda line: sys.stderr.write(line + "\\n")  # what the command line sets
from numba.core import event
compiled = []
class Count(event.Listener):
    def on_start(self, ev): compiled.append(ev.data["dispatcher"].py_func.__qualname__)
    def on_end(self, ev): pass
event.register("numba:compile", Count())
import numpy as np
from fractalgen import _jit
from fractalgen.render import color
lut = color._log_lut(255, 0.5)
print(json.dumps({"compiled": compiled, "file": color.__file__, "cache": str(_jit.kernel_cache_dir()),
                  "hits": sum(color._log_lut.stats.cache_hits.values()), "sum": float(lut.sum())}))
"""


def run_probe(root: Path, cache: Path) -> dict:
    env = {"PATH": "", "FRACTALGEN_CACHE_DIR": str(cache), "PYTHONPATH": str(root), "HOME": str(root)}
    res = subprocess.run([sys.executable, "-c", PROBE], capture_output=True, text=True, env=env, timeout=300,
                         cwd=root)
    assert res.returncode == 0, res.stderr
    return {**json.loads(res.stdout), "stderr": res.stderr}


def install(root: Path) -> None:
    shutil.copytree(PACKAGE, root / "fractalgen", ignore=shutil.ignore_patterns("__pycache__"))


def test_a_reinstall_elsewhere_reuses_the_compiled_kernels(tmp_path):
    """numba's default cache sits in __pycache__ beside each module: a reinstall, a new venv or a read-only
    site-packages compiled everything again (12-15 s for a first command)."""
    cache = tmp_path / "cache"
    install(tmp_path / "a")
    first = run_probe(tmp_path / "a", cache)
    assert first["compiled"] and first["file"].startswith(str(tmp_path / "a"))
    assert first["stderr"].count("compiling fractalgen's kernels, once per machine") == 1, first["stderr"]
    assert Path(first["cache"]).is_relative_to(cache) and list(Path(first["cache"]).rglob("*.nbi"))
    assert not list((tmp_path / "a").rglob("*.nbi"))  # nothing written beside the installed modules
    install(tmp_path / "b")  # the same code, somewhere else, with new file times
    second = run_probe(tmp_path / "b", cache)
    assert second["compiled"] == [] and second["hits"] >= 1 and second["sum"] == first["sum"]
    assert "compiling" not in second["stderr"]
    assert second["cache"] == first["cache"]


def test_a_changed_kernel_module_gets_a_fresh_cache(tmp_path):
    """Any edit of a kernel module changes the cache key (numba's own key misses edits of other modules whose
    kernels were inlined, such as fractalgen/_random.py)."""
    cache = tmp_path / "cache"
    install(tmp_path / "a")
    install(tmp_path / "b")
    with open(tmp_path / "b" / "fractalgen" / "_random.py", "a") as f:
        f.write("\n# edited\n")
    first, second = run_probe(tmp_path / "a", cache), run_probe(tmp_path / "b", cache)
    assert first["cache"] != second["cache"] and second["compiled"]


def test_the_command_line_asks_for_the_note():
    from click.testing import CliRunner

    from fractalgen import _machine
    from fractalgen.cli import main

    _machine.compile_notice = None
    assert CliRunner().invoke(main, ["recipe"]).exit_code == 0
    assert callable(_machine.compile_notice)
    _machine.compile_notice = None


def test_a_first_parallel_run_compiles_in_the_parent_once_per_family(monkeypatch):
    """On a cold cache, generate renders the first image of each family before starting its workers, so they
    load the kernels instead of each compiling them."""
    import fractalgen._jit as jit
    from fractalgen.generate import compile_here_first
    from fractalgen.recipe import Recipe

    recipe = fractalgen.load_recipe("ipmix-like", size=16)
    drawn = []
    monkeypatch.setattr(Recipe, "draw", lambda self, i: drawn.append((i, self.pick_family(i))))
    monkeypatch.setattr(jit, "kernel_cache_is_empty", lambda: False)
    compile_here_first(recipe, 100)
    assert drawn == []
    monkeypatch.setattr(jit, "kernel_cache_is_empty", lambda: True)
    compile_here_first(recipe, 100)
    assert sorted(f for _, f in drawn) == sorted(recipe.family) and len(drawn) == 3
    first = {f: min(i for i in range(100) if recipe.pick_family(i) == f) for f in recipe.family}
    assert all(first[f] == i for i, f in drawn)


def test_every_benchmark_prints_the_cpu_and_cores_first():
    """Figures move 2-3x between CPUs of one machine class: each benchmark's header names them."""
    import re

    from fractalgen._machine import machine_line

    line = machine_line()
    assert re.match(r"CPU: .+ \(.+\), \d+ cores? available \(of \d+\)$", line), line
    scripts = sorted((Path(__file__).resolve().parents[1] / "benchmarks").glob("bench_*.py"))
    assert scripts
    for script in scripts:
        text = script.read_text()
        assert "from timing import" in text and "header" in text and "print(header(" in text, script.name
