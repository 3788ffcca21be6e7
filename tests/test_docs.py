"""Every command and snippet in README.md and docs/*.md runs as written.

Each Markdown file runs in its own temporary directory (HOME points there too), its fenced blocks in document
order, so a later snippet may use what an earlier one made:

- ``sh``, ``bash``, ``shell``, ``console`` and untagged blocks: each line is one command (``\\`` continues a
  line; blank lines and ``#`` comments are skipped). A ``fractalgen ...`` line without shell syntax runs
  in-process through click's test runner (fast); any other line runs under ``bash -c``, with ``fractalgen`` and
  ``python`` on PATH running this checkout.
- ``python``: run in one namespace per file (snippets build on each other).
- ``toml``: parsed, and loaded as a recipe (a block of only ``[family]`` sections gets ``family = "<first>"``).
- ``json``: parsed.
- ``text`` (and any other tag): output, trees, pictures: never run.

Markers, an HTML comment on the line right before a block (invisible on GitHub):
``<!-- docs-test: skip REASON -->`` skips the block (e.g. ``pip install``, a download);
``<!-- docs-test: exit N -->`` expects every command of the block to exit with status N;
``<!-- docs-test: installed -->`` runs each line without its set-up prefix (the ``python3 -m venv ...``,
``. .venv/bin/activate`` and ``pip install ...`` steps joined by ``&&``), since this checkout is what it tests.

Substitutions keep the run fast and are applied to shell commands only: a count (``-n``, ``--n``,
``--count``) above 24 becomes 24, ``--size`` above 64 becomes 48, ``--fractals`` above 16 becomes 16 and
``--rerender`` above 4 becomes 4. Fixtures made before a file runs: ``photo.jpg`` (a 96 x 64 drawn scene),
``~/fractals_and_fvis/`` (six small images in two folders), and links to the checkout's ``sample_sets/`` and
``examples/``. A failure names the file and line of the snippet.
"""

from __future__ import annotations

import dataclasses
import os
import re
import shlex
import subprocess
import sys
import tomllib
from pathlib import Path

import numpy as np
import pytest
from click.testing import CliRunner
from PIL import Image

from fractalgen._jit import cache_root

ROOT = Path(__file__).resolve().parents[1]
DOCS = [ROOT / "README.md", *sorted((ROOT / "docs").glob("*.md"))]
SHELL = {"", "sh", "bash", "shell", "console"}
LIMITS = {("-n", "--n", "--count"): (24, 24), ("--size",): (64, 48), ("--fractals",): (16, 16),
          ("--rerender",): (4, 4)}
SHELL_SYNTAX = re.compile(r"[|&;<>()$`*?]")
MARKER = re.compile(r"<!--\s*docs-test:\s*(\w+)\s*(.*?)\s*-->")
#: HOME moves to the temporary directory; the compiled kernels stay where they are.
KERNEL_CACHE = str(cache_root())


@dataclasses.dataclass
class Block:
    path: Path
    line: int  # line of the first line of code (1-based)
    lang: str
    code: str
    marker: tuple[str, str] | None

    @property
    def where(self) -> str:
        return f"{self.path.relative_to(ROOT)}:{self.line}"


def blocks(path: Path) -> list[Block]:
    """The fenced code blocks of a Markdown file, with the marker comment right before each."""
    lines = path.read_text().splitlines()
    out, i = [], 0
    while i < len(lines):
        m = re.match(r"^(\s*)(```+|~~~+)\s*([\w+-]*)", lines[i])
        if not m:
            i += 1
            continue
        fence, lang = m.group(2), m.group(3).lower()
        prev = next((lines[j] for j in range(i - 1, -1, -1) if lines[j].strip()), "")
        mark = MARKER.search(prev)
        start = i + 1
        i += 1
        while i < len(lines) and not lines[i].strip().startswith(fence):
            i += 1
        out.append(Block(path, start + 1, lang, "\n".join(lines[start:i]), mark.groups() if mark else None))
        i += 1
    return out


def commands(block: Block) -> list[tuple[int, str]]:
    """(line, command) of a shell block, continuations joined."""
    out, pending, first = [], "", 0
    for k, line in enumerate(block.code.splitlines()):
        if not pending:
            first = block.line + k
        stripped = line.strip()
        if stripped.endswith("\\"):
            pending += stripped[:-1].rstrip() + " "
            continue
        text = (pending + stripped).strip()
        pending = ""
        if text and not text.startswith("#"):
            out.append((first, text))
    return out


SETUP_STEP = re.compile(r"^\s*(python3? -m venv \S+|\. \S+/activate|pip install [^&]*?)\s*&&\s*")


def without_setup(command: str) -> str:
    """A set-up line's command after its venv, activate and pip install steps."""
    while (m := SETUP_STEP.match(command)):
        command = command[m.end():]
    return command


def shrink(command: str) -> str:
    """The documented substitutions: smaller counts and sizes, same commands."""
    words = command.split(" ")
    for k in range(len(words) - 1):
        for names, (limit, small) in LIMITS.items():
            if words[k] in names and words[k + 1].isdigit() and int(words[k + 1]) > limit:
                words[k + 1] = str(small)
    return " ".join(words)


def make_fixtures(tmp: Path) -> None:
    y, x = np.mgrid[0:64, 0:96]
    scene = np.stack([x * 2, y * 3, 255 - x - y], -1).clip(0, 255).astype(np.uint8)
    scene[20:44, 30:60] = (200, 40, 40)
    Image.fromarray(scene).save(tmp / "photo.jpg", quality=92)
    rng = np.random.default_rng(0)
    for k in range(6):
        folder = tmp / "fractals_and_fvis" / ("fractals" if k < 4 else "fvis")
        folder.mkdir(parents=True, exist_ok=True)
        Image.fromarray(rng.integers(0, 256, (40 + 4 * k, 56, 3), dtype=np.uint8)).save(folder / f"{k}.png")
    for name in ("sample_sets", "examples"):
        (tmp / name).symlink_to(ROOT / name)
    bin_dir = tmp / ".bin"
    bin_dir.mkdir()
    (bin_dir / "fractalgen").write_text(f'#!/bin/sh\nexec "{sys.executable}" -m fractalgen "$@"\n')
    (bin_dir / "fractalgen").chmod(0o755)
    (bin_dir / "python").symlink_to(sys.executable)
    (bin_dir / "python3").symlink_to(sys.executable)


class Runner:
    def __init__(self, tmp: Path) -> None:
        self.tmp = tmp
        self.namespace: dict = {"__name__": "__docs__"}
        self.env = {**os.environ, "HOME": str(tmp), "FRACTALGEN_CACHE_DIR": KERNEL_CACHE,
                    "PATH": f"{tmp / '.bin'}{os.pathsep}{os.environ['PATH']}",
                    "PYTHONPATH": os.pathsep.join([str(ROOT), os.environ.get("PYTHONPATH", "")]).rstrip(os.pathsep)}

    def run(self, block: Block) -> None:
        kind, arg = block.marker or ("", "")
        if kind == "skip":
            return
        expect = int(arg) if kind == "exit" else 0
        if block.lang in SHELL:
            for line, command in commands(block):
                if kind == "installed":
                    command = without_setup(command)
                self.shell(f"{block.path.relative_to(ROOT)}:{line}", shrink(command), expect)
        elif block.lang == "python":
            code = compile("\n" * (block.line - 1) + block.code, str(block.path), "exec")
            try:
                exec(code, self.namespace)
            except Exception as err:  # name the snippet, keep the traceback
                raise AssertionError(f"{block.where}: the python snippet raised {type(err).__name__}: {err}") from err
        elif block.lang == "toml":
            self.toml(block)
        elif block.lang == "json":
            import json

            try:
                json.loads(block.code)
            except ValueError as err:
                raise AssertionError(f"{block.where}: the JSON block does not parse: {err}") from None

    def shell(self, where: str, command: str, expect: int) -> None:
        if command.startswith("fractalgen ") and not SHELL_SYNTAX.search(command):
            from fractalgen.cli import main

            args = [os.path.expanduser(a) for a in shlex.split(command, comments=True)[1:]]
            res = CliRunner().invoke(main, args, env={"HOME": str(self.tmp)})
            code, output = res.exit_code, res.output
            if res.exception is not None and not isinstance(res.exception, SystemExit):
                output += f"\n{type(res.exception).__name__}: {res.exception}"
        else:
            res = subprocess.run(["bash", "-c", command], cwd=self.tmp, env=self.env, capture_output=True,
                                 text=True, timeout=600)
            code, output = res.returncode, res.stdout + res.stderr
        assert code == expect, f"{where}: `{command}` exited {code}, expected {expect}:\n{output[-3000:]}"

    def toml(self, block: Block) -> None:
        import fractalgen as fg

        try:
            data = tomllib.loads(block.code)
        except tomllib.TOMLDecodeError as err:
            raise AssertionError(f"{block.where}: the TOML block does not parse: {err}") from None
        families = [k for k, v in data.items() if isinstance(v, dict) and k in fg.FAMILIES]
        if "family" not in data and families:
            data["family"] = families[0]
        try:
            fg.load_recipe(data)
        except fg.FractalgenError as err:
            raise AssertionError(f"{block.where}: the TOML block is not a valid recipe: {err}") from None


@pytest.mark.parametrize("path", DOCS, ids=[str(p.relative_to(ROOT)) for p in DOCS])
def test_every_snippet_runs(path, tmp_path, monkeypatch):
    make_fixtures(tmp_path)
    monkeypatch.chdir(tmp_path)
    monkeypatch.setenv("HOME", str(tmp_path))
    monkeypatch.setenv("FRACTALGEN_CACHE_DIR", KERNEL_CACHE)
    runner = Runner(tmp_path)
    for block in blocks(path):
        runner.run(block)


def test_the_runner_finds_blocks_markers_and_lines(tmp_path):
    doc = tmp_path / "x.md"
    doc.write_text("text\n\n<!-- docs-test: skip needs the network -->\n```\npip install x\n```\n\n"
                   "```sh\nfractalgen render ifs -n 4000 \\\n  --size 256 -o a.png   # a comment\n# only a comment\n```\n"
                   "~~~python\nx = 1\n~~~\n")
    found = blocks(doc)
    assert [(b.line, b.lang, b.marker) for b in found] == [(5, "", ("skip", "needs the network")),
                                                            (9, "sh", None), (14, "python", None)]
    assert commands(found[1]) == [(9, "fractalgen render ifs -n 4000 --size 256 -o a.png   # a comment")]
    assert shrink(commands(found[1])[0][1]) == "fractalgen render ifs -n 24 --size 48 -o a.png   # a comment"


def test_a_failing_snippet_names_its_file_and_line(tmp_path, monkeypatch):
    doc = ROOT / "docs" / "_x.md"
    block = Block(doc, 7, "sh", "fractalgen render nope -o a.png", None)
    monkeypatch.chdir(tmp_path)
    with pytest.raises(AssertionError, match=r"docs/_x.md:7: `fractalgen render nope -o a.png` exited 2"):
        Runner(tmp_path).run(block)
    with pytest.raises(AssertionError, match=r"docs/_x.md:3: the python snippet raised NameError"):
        Runner(tmp_path).run(Block(doc, 3, "python", "undefined_name", None))
