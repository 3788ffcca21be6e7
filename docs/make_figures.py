"""Redraw the README's mixing figures: a synthetic scene and what each method makes of it.

    python docs/make_figures.py

Writes docs/scene.png (a landscape drawn here, so the figures need no photo with a licence) and
docs/mix-<method>.png: the scene, then 7 augmented views, at 160 px, with fractals rendered from the ipmix-like
preset (the same pictures `fractalgen mix ipmix-like docs/scene.png --method <method>` shows).
"""

from __future__ import annotations

from pathlib import Path

import numpy as np
from PIL import Image, ImageDraw

from fractalgen.mixing import METHODS, FractalSource
from fractalgen.sheet import contact_sheet, save_png

HERE = Path(__file__).resolve().parent
SIZE, VIEWS = 160, 7


def scene(size: int = SIZE) -> np.ndarray:
    """A landscape: sky gradient, sun, two hill ranges, a house and a tree."""
    y = np.linspace(0, 1, size)[:, None, None]
    sky = (1 - y) * np.array([70, 130, 220]) + y * np.array([200, 225, 250])
    img = Image.fromarray(np.broadcast_to(sky, (size, size, 3)).astype(np.uint8))
    d = ImageDraw.Draw(img)
    s = size / 160
    d.ellipse([112 * s, 14 * s, 142 * s, 44 * s], fill=(255, 215, 80))
    d.polygon([(0, 100 * s), (40 * s, 70 * s), (85 * s, 95 * s), (125 * s, 62 * s), (size, 90 * s), (size, size),
               (0, size)], fill=(90, 120, 140))
    d.polygon([(0, 120 * s), (60 * s, 105 * s), (120 * s, 118 * s), (size, 108 * s), (size, size), (0, size)],
              fill=(70, 150, 60))
    d.rectangle([30 * s, 100 * s, 70 * s, 135 * s], fill=(200, 80, 60))
    d.polygon([(25 * s, 102 * s), (50 * s, 82 * s), (75 * s, 102 * s)], fill=(110, 50, 40))
    d.rectangle([45 * s, 115 * s, 55 * s, 135 * s], fill=(70, 40, 30))
    d.rectangle([112 * s, 105 * s, 118 * s, 140 * s], fill=(100, 70, 40))
    d.ellipse([100 * s, 78 * s, 130 * s, 112 * s], fill=(40, 110, 40))
    return np.asarray(img)


def main() -> None:
    img = scene()
    save_png(img, HERE / "scene.png")
    source = FractalSource.from_recipe("ipmix-like", n=48, size=SIZE, seed=0)
    methods = {name: cls(source, preset="imagenet", seed=1) for name, cls in METHODS.items()}
    for name, aug in methods.items():
        views = [img] + [aug(img) for _ in range(VIEWS)]
        out = save_png(contact_sheet(views, cols=VIEWS + 1), HERE / f"mix-{name}.png")
        print(f"wrote {out.relative_to(HERE.parent)}")


if __name__ == "__main__":
    main()
