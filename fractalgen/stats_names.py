"""The names and defaults of ``fractalgen stats`` (:mod:`fractalgen.stats`): a leaf module without numpy or numba,
so that ``fractalgen stats --help`` lists the measures at once."""

#: The per-image measures, in the order of the table, the JSON and the figure's panels.
MEASURES = ("fill", "entropy", "colourfulness", "edges", "brightness", "nearest")

#: One line per measure: what it is (the table, ``--help`` and the figure's axes use it).
DESCRIPTIONS = {
    "fill": "fraction of pixels more than 10 of 255 off the background luma",
    "entropy": "Shannon entropy of the luma histogram, bits (0..8)",
    "colourfulness": "Hasler & Suesstrunk (2003) colourfulness M, 0..~180 (0: gray)",
    "edges": "fraction of pixels with a luma step (|dx| + |dy|) above 32",
    "brightness": "mean luma / 255",
    "nearest": "dHash bits (of 256) off the set's nearest other image",
}

#: Bits of the dHash (16 x 16 comparisons of block means; see fractalgen.stats).
HASH_BITS = 256
#: An image is a near-duplicate when another image of its set has a dHash this many bits away or fewer.
NEAR_BITS = 8

#: Below this many images in all, stats runs in the calling process unless workers are asked for: a spawned
#: worker takes about 1.5 s to start (numba, h5py, the cached kernels), the time one process measures some 20,000
#: images at 64 px in (benchmarks/bench_stats.py).
POOL_MIN_IMAGES = 50_000
