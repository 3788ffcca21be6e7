"""Speed of the mixing pipelines: microseconds per augmented view on one core, at 32 and 224 px.

    python benchmarks/bench_mixing.py            # about a minute
    python benchmarks/bench_mixing.py --quick    # fewer repeats

For each method (PixMix, IPMix, LayerMix, FractalMaskMix; preset cifar at 32 px, imagenet at 224 px) it times one
augmented view of a uint8 image, and (but for FractalMaskMix) the same params executed the way the released code does (PIL ops on PIL images, float32
numpy blends, a PIL crop per patch): the ratio is the speed-up on identical work. It also times one FractalSource
draw (in-memory, and lazy from 256 px images) against the reference recipes' per-sample JPEG decode + resize +
random crop, and each image op against PIL. Every figure is the best of several repeats (process CPU time), the
process pinned to one core.
"""

from __future__ import annotations

import argparse
import io
import os
import time

import numpy as np
from PIL import Image, ImageEnhance, ImageOps

from fractalgen.mixing import METHODS, FractalSource, IPMix, LayerMix, PixMix, blend, ops
from timing import header  # benchmarks/timing.py (the script's folder is on sys.path)


def best_us(fn, number: int, repeat: int) -> float:
    fn()  # warm up (numba dispatch, caches)
    best = float("inf")
    for _ in range(repeat):
        start = time.process_time()
        for _ in range(number):
            fn()
        best = min(best, (time.process_time() - start) / number)
    return best * 1e6


def photo(size: int, seed: int = 0) -> np.ndarray:
    """A smooth, photo-like uint8 RGB image with some texture."""
    rng = np.random.default_rng(seed)
    y, x = np.mgrid[0:size, 0:size] / size
    img = np.stack([60 + 150 * x, 40 + 160 * y * (1 - x), 200 - 150 * np.hypot(x - 0.6, y - 0.4)], -1)
    return np.clip(img + rng.normal(0, 12, img.shape), 0, 255).astype(np.uint8)


# -- the released code's way of doing the same work: PIL ops, float32 numpy blends ---------------------------------

PIL_OPS = {
    "autocontrast": lambda im, p: ImageOps.autocontrast(im),
    "equalize": lambda im, p: ImageOps.equalize(im),
    "posterize": lambda im, p: ImageOps.posterize(im, p["bits"]),
    "solarize": lambda im, p: ImageOps.solarize(im, p["threshold"]),
    "invert": lambda im, p: ImageOps.invert(im),
    "mirror": lambda im, p: ImageOps.mirror(im),
    "grayscale": lambda im, p: im.convert("L").convert("RGB"),
    "rotate": lambda im, p: im.rotate(p["degrees"], resample=Image.BILINEAR),
    "shear_x": lambda im, p: im.transform(im.size, Image.AFFINE, (1, p["level"], 0, 0, 1, 0), Image.BILINEAR),
    "shear_y": lambda im, p: im.transform(im.size, Image.AFFINE, (1, 0, 0, p["level"], 1, 0), Image.BILINEAR),
    "translate_x": lambda im, p: im.transform(im.size, Image.AFFINE, (1, 0, p["pixels"], 0, 1, 0), Image.BILINEAR),
    "translate_y": lambda im, p: im.transform(im.size, Image.AFFINE, (1, 0, 0, 0, 1, p["pixels"]), Image.BILINEAR),
    "color": lambda im, p: ImageEnhance.Color(im).enhance(p["factor"]),
    "contrast": lambda im, p: ImageEnhance.Contrast(im).enhance(p["factor"]),
    "brightness": lambda im, p: ImageEnhance.Brightness(im).enhance(p["factor"]),
    "sharpness": lambda im, p: ImageEnhance.Sharpness(im).enhance(p["factor"]),
}
PIL_OPS["posterize_increasing"] = PIL_OPS["posterize"]
PIL_OPS["solarize_increasing"] = PIL_OPS["solarize"]


def ref_op(pil: Image.Image, op) -> Image.Image:
    return PIL_OPS[op[0]](pil, op[1])


def ref_float(pil: Image.Image) -> np.ndarray:
    return np.asarray(pil, dtype=np.float32) / 255


def ref_blend(name: str, x1: np.ndarray, x2: np.ndarray, params: dict, rng: np.random.Generator) -> np.ndarray:
    if name == "add":
        return (params["a"] * (x1 * 2 - 1) + params["b"] * (x2 * 2 - 1) + 1) / 2
    if name == "multiply":
        return (x1 * 2) ** params["a"] * np.maximum(x2 * 2, 1e-37) ** params["b"] / 2
    shape = x1.shape[:2] + ((x1.shape[2],) if name == "random_elements" else (1,))
    mask = rng.random(shape, dtype=np.float32) < params["p"]
    return np.where(mask, x1, x2)


def ref_pixmix(x: Image.Image, f: Image.Image, params: dict, rng) -> np.ndarray:
    mixed = ref_float(x if params["first"] is None else ref_op(x, params["first"]))
    for r in params["rounds"]:
        partner = ref_float(f if r["partner"] is None else ref_op(x, r["partner"]))
        mixed = np.clip(ref_blend(r["blend"], mixed, partner, r["params"], rng), 0, 1)
    return mixed


def ref_ipmix(x: Image.Image, f: Image.Image, params: dict, rng) -> np.ndarray:
    mix = np.zeros(ref_float(x).shape, np.float32)
    for w, chain in zip(params["w"], params["chains"]):
        mixed = x.copy()
        if chain["kind"] == "image":
            for op in chain["ops"]:
                mixed = ref_op(mixed, op)
        for step in chain.get("steps", ()):
            top, left, bh, bw = step["box"]
            crop = (left, top, left + bw, top + bh)
            partner = f if step["partner"] is None else ref_op(x, step["partner"])
            patch = ref_blend(step["blend"], ref_float(mixed.crop(crop)), ref_float(partner.crop(crop)),
                              step["params"], rng)
            mixed.paste(Image.fromarray((np.clip(patch, 0, 1) * 255).astype(np.uint8)), crop[:2])
        mix += w * ref_float(mixed)
    return params["m"] * mix + (1 - params["m"]) * ref_float(x)


def ref_layermix(x: Image.Image, f: Image.Image, params: dict, rng) -> np.ndarray:
    op, augs, blends = params["op"], params["augs"], params["blends"]
    out = ref_float(ref_op(x, (op, augs[0])))
    if params["level"] >= 2:
        out = np.clip(ref_blend(blends[0][0], out, ref_float(ref_op(x, (op, augs[1]))), blends[0][1], rng), 0, 1)
    if params["level"] == 3:
        mixed = np.clip(ref_blend(blends[1][0], out, ref_float(f), blends[1][1], rng), 0, 1)
        out = ref_float(ref_op(Image.fromarray((mixed * 255).astype(np.uint8)), (op, augs[2])))
    return out


REFERENCE = {PixMix: ref_pixmix, IPMix: ref_ipmix, LayerMix: ref_layermix}


# -- the measurements --------------------------------------------------------------------------------------------


def bench_methods(sizes, number, repeat) -> None:
    print(f"{'method':<14} {'size':>5} {'us/view':>9} {'views/s':>8} {'reference us':>13} {'speed-up':>9}")
    for size in sizes:
        preset = "cifar" if size <= 64 else "imagenet"
        side = round(1.125 * size)
        fractals = np.stack([photo(side, seed=s)[:, ::-1].copy() for s in range(16)])
        source = FractalSource(fractals, size=size, seed=0)
        x = photo(size)
        x_pil, f_pil = Image.fromarray(x), Image.fromarray(source.sample())
        n = number if size <= 64 else max(20, number // 10)
        for method in METHODS.values():
            aug = method(source, preset, seed=0)
            ours = best_us(lambda: aug(x), n, repeat)
            if method not in REFERENCE:  # FractalMaskMix: no released code to compare with
                print(f"{method.__name__:<14} {size:>5} {ours:>9.1f} {1e6 / ours:>8.0f} {'-':>13} {'-':>9}")
                continue
            rng = np.random.default_rng(0)
            drawn = [aug.sample_params(rng, (size, size)) for _ in range(n)]
            ref = REFERENCE[method]

            def reference():
                for params in drawn:
                    ref(x_pil, f_pil, params, rng)

            ref_us = best_us(reference, 1, repeat) / n
            print(f"{method.__name__:<14} {size:>5} {ours:>9.1f} {1e6 / ours:>8.0f} {ref_us:>13.1f} "
                  f"{ref_us / ours:>8.1f}x")


def bench_source(number, repeat) -> None:
    print(f"\n{'FractalSource draw':<34} {'us/draw':>9} {'reference us':>13} {'speed-up':>9}")
    big = np.stack([photo(256, seed=s) for s in range(32)])
    jpegs = []
    for img in big[:8]:
        buf = io.BytesIO()
        Image.fromarray(img).save(buf, format="JPEG", quality=90)
        jpegs.append(buf.getvalue())
    for size in (32, 224):
        resize = round(1.125 * size) if size <= 64 else 256
        rng = np.random.default_rng(0)

        def jpeg_draw():  # the reference recipes: decode a file, Resize(resize), RandomCrop(size)
            with Image.open(io.BytesIO(jpegs[int(rng.random() * len(jpegs))])) as im:
                im = im.convert("RGB").resize((resize, resize), Image.BILINEAR)
                y, x = (int(rng.random() * (resize - size + 1)) for _ in range(2))
                return np.asarray(im.crop((x, y, x + size, y + size)))

        ref_us = best_us(jpeg_draw, number // 10, repeat)
        for mode, in_memory in (("in memory", True), ("lazy", False)):
            src = FractalSource(big, size=size, in_memory=in_memory, scale=resize / size)
            n = number if in_memory else number // 10
            us = best_us(lambda: src.sample(rng), n, repeat)
            print(f"{f'{size} px, {mode}':<34} {us:>9.1f} {ref_us:>13.1f} {ref_us / us:>8.1f}x")


def bench_ops(number, repeat) -> None:
    print(f"\n{'op (224 px)':<22} {'us':>8} {'PIL us':>8} {'speed-up':>9}")
    x = photo(224)
    pil = Image.fromarray(x)
    rng = np.random.default_rng(0)
    for name in ops.OPS:
        if name.endswith("_increasing"):
            continue
        params = ops.sample_params(name, rng, 3.0, (224, 224))
        if "degrees" in params:
            params["degrees"] = 5
        ours = best_us(lambda: ops.apply(name, x, **params), number // 10, repeat)
        theirs = best_us(lambda: np.asarray(PIL_OPS[name](pil, params)), number // 10, repeat)
        print(f"{name:<22} {ours:>8.1f} {theirs:>8.1f} {theirs / ours:>8.1f}x")
    print(f"\n{'blend (224 px)':<22} {'us':>8} {'float32 numpy us':>17} {'speed-up':>9}")
    f = photo(224, seed=3)
    xf, ff = x / np.float32(255), f / np.float32(255)
    for name in blend.BLENDS:
        params = blend.sample_params(name, rng, 3.0)
        ours = best_us(lambda: blend.blend(name, x, f, **params), number // 10, repeat)
        theirs = best_us(lambda: np.clip(ref_blend(name, xf, ff, params, rng), 0, 1), number // 10, repeat)
        print(f"{name:<22} {ours:>8.1f} {theirs:>17.1f} {theirs / ours:>8.1f}x")


def main() -> None:
    ap = argparse.ArgumentParser(description=__doc__.split("\n\n")[0])
    ap.add_argument("--quick", action="store_true", help="fewer repeats (noisier)")
    args = ap.parse_args()
    if hasattr(os, "sched_setaffinity"):
        os.sched_setaffinity(0, {sorted(os.sched_getaffinity(0))[0]})
    number, repeat = (300, 3) if args.quick else (1000, 7)
    print(header(__doc__.split("\n\n")[0].replace("\n", " ")))
    print(f"one core, best of {repeat} repeats (process CPU time)\n")
    bench_methods((32, 224), number, repeat)
    bench_source(number, repeat)
    bench_ops(number, repeat)


if __name__ == "__main__":
    main()
