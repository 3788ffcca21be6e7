"""Regenerate the sample sets' preview sheets (and, with --sync, their recipe files).

    python sample_sets/make_previews.py            # every sample_sets/NAME.toml -> sample_sets/NAME.png
    python sample_sets/make_previews.py --sync     # first rewrite each NAME.toml that is a built-in preset
    python sample_sets/make_previews.py ipmix-like # only some sets

A preview is images 0..15 of the set, generated at the recipe's own size into a temporary store exactly as
`fractalgen generate` makes them, then resized once to 96 px (``store.load(size=96)``) and tiled 4 x 4.

A sample set named like a built-in preset is that preset written out in full (every key, as `fractalgen recipe
NAME` prints it), so a user can read and edit every setting; tests/test_sample_sets.py fails if the two drift
apart, and --sync rewrites the file from the preset.
"""

from __future__ import annotations

import argparse
import tempfile
from pathlib import Path

import fractalgen as fg
from fractalgen.recipe import presets
from fractalgen.sheet import contact_sheet, save_png

HERE = Path(__file__).resolve().parent
COUNT, TILE, COLS = 16, 96, 4


def preset_comment(name: str) -> list[str]:
    """The comment lines at the top of a built-in preset file."""
    lines = presets()[name].read_text().splitlines()
    return [line for line in lines[: next((n for n, ln in enumerate(lines) if not ln.startswith("#")), 0)]]


def sync(name: str) -> Path:
    """Rewrite sample_sets/NAME.toml as the full canonical form of preset NAME."""
    path = HERE / f"{name}.toml"
    header = preset_comment(name) + [
        f"# The built-in preset '{name}' with every key written out (`fractalgen recipe {name}`); edit freely.",
        f"# Generate:  fractalgen generate sample_sets/{name}.toml out/{name} --count 10000",
    ]
    path.write_text("\n".join(header) + "\n\n" + fg.load_recipe(name).to_toml())
    return path


def preview(toml: Path) -> Path:
    recipe = fg.load_recipe(toml)
    with tempfile.TemporaryDirectory() as tmp:
        with fg.generate(recipe, Path(tmp) / "set", COUNT, workers=1, progress=False) as store:
            images = store.load(size=TILE)
    out = toml.with_suffix(".png")
    save_png(contact_sheet(list(images), cols=COLS), out)
    return out


def main() -> None:
    ap = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    ap.add_argument("names", nargs="*", help="sample sets to redo (default: all)")
    ap.add_argument("--sync", action="store_true", help="rewrite the recipe files of sets that are presets")
    args = ap.parse_args()
    names = args.names or sorted(p.stem for p in HERE.glob("*.toml"))
    for name in names:
        if args.sync and name in presets():
            print(f"synced {sync(name).relative_to(HERE.parent)}")
        out = preview(HERE / f"{name}.toml")
        print(f"wrote {out.relative_to(HERE.parent)} ({out.stat().st_size // 1024} KiB)")


if __name__ == "__main__":
    main()
