"""Reports about a store: ``verify_store`` (reads everything, names every damaged shard and image) and
``info_lines`` (what ``fractalgen info`` prints: counts, size on disk, origin, column summaries, shard table)."""

from __future__ import annotations

import dataclasses
import os
from collections import Counter
from collections.abc import Callable
from pathlib import Path

import numpy as np
from tqdm import tqdm

from ..errors import CorruptShardError
from .files import sha256_file
from .manifest import MANIFEST_NAME, entries_of, plan_of, read_manifest
from .reader import Store
from .shard import check_shard


@dataclasses.dataclass
class VerifyReport:
    """The outcome of :func:`verify_store`: ``ok`` when ``problems`` is empty."""

    path: Path
    images: int
    shards: int
    problems: list[str]

    @property
    def ok(self) -> bool:
        return not self.problems


def verify_store(path: str | os.PathLike, *, progress: bool = True,
                 check_meta: Callable[[dict], list[str]] | None = None) -> VerifyReport:
    """Check a store completely: the manifest, then per shard its presence, size, sha256, identity and layout,
    index column, every image chunk's fletcher32, the images' and params' sha256, that every params entry parses
    and that the columns hold the params' values. ``check_meta(manifest)`` adds the problems of the fields the
    store carries opaque (recipe, seed, origin): :func:`fractalgen.generate.verify` passes the recipe check.

    A missing or unreadable manifest raises StoreError; everything else is collected into the report, one line
    per problem naming the shard file (and the image's global index where one image is at fault).
    """
    root = Path(path)
    if not (root / MANIFEST_NAME).is_file():
        from .reader import open_store

        open_store(root)  # raises the same one-line reason open_store gives (missing, unfinished, not a store)
    manifest = read_manifest(root)
    plan = plan_of(manifest)
    problems: list[str] = list(check_meta(manifest)) if check_meta is not None else []
    with tqdm(total=plan.count, desc="verifying", unit="img", disable=not progress, leave=False) as bar:
        for k, entry in enumerate(entries_of(manifest)):
            file = root / entry.file
            span = f"images {entry.first}..{entry.first + entry.count - 1}"
            if not file.is_file():
                problems.append(f"{entry.file} ({span}) is missing")
                bar.update(entry.count)
                continue
            size = file.stat().st_size
            if size != entry.bytes:
                problems.append(f"{entry.file} ({span}) is {size} bytes, the manifest says {entry.bytes}: it is "
                                "truncated or was replaced")
            problems += check_shard(file, plan, k, on_image=bar.update)
            if sha256_file(file) != entry.sha256:
                problems.append(f"{entry.file} ({span}): its sha256 differs from the manifest's; the file changed "
                                "after it was written")
    return VerifyReport(root, plan.count, plan.n_shards, problems)


def _bytes(n: float) -> str:
    for unit in ("B", "kB", "MB", "GB", "TB"):
        if n < 1000 or unit == "TB":
            return f"{n:.0f} {unit}" if unit == "B" else f"{n:.1f} {unit}"
        n /= 1000
    raise AssertionError  # pragma: no cover


def _column_summary(store: Store, name: str, kind: str) -> str:
    values = store.column(name)
    if kind == "str":
        counts = Counter(values.tolist()).most_common()
        return ", ".join(f"{v} {n} ({100 * n / len(values):.1f}%)" for v, n in counts)
    values = values.astype(np.float64)
    return f"mean {values.mean():.3g}, min {values.min():.3g}, max {values.max():.3g}"


def info_lines(store: Store) -> list[str]:
    """The lines ``fractalgen info`` prints."""
    m, plan = store.manifest, store.plan
    h, w, c = store.shape
    on_disk = sum(s.bytes for s in store.shards) + (store.path / MANIFEST_NAME).stat().st_size
    origin = m.get("origin") or {}
    lines = [
        f"store:       {store.path}",
        f"images:      {len(store)} x {h}x{w}x{c} uint8 ({'colour' if c == 3 else 'grayscale'})",
        f"shards:      {plan.n_shards} of up to {plan.shard_size} images, {plan.compression} compression",
        f"on disk:     {_bytes(on_disk)} ({_bytes(on_disk / len(store))} per image, "
        f"{len(store) * h * w * c / on_disk:.1f}x smaller than raw)",
        f"created:     {m.get('created')} by fractalgen {m.get('fractalgen_version')}",
    ]
    if origin.get("kind") == "imported":
        lines.append(f"origin:      imported from {origin.get('root')} ({origin.get('files')} files, "
                     f"{origin.get('mode')}, {origin.get('resize')})")
    elif m.get("recipe") is not None:
        lines.append(f"origin:      generated from {origin.get('source') or 'a recipe'!r}, seed {m.get('seed')}, "
                     f"recipe hash {m['set_id'][:12]} (`fractalgen info --recipe` prints it)")
    for name, kind in plan.columns:
        lines.append(f"{name + ':':<12} {_column_summary(store, name, kind)}")
    lines.append(f"{'shard':<16} {'first':>9} {'last':>9} {'count':>6} {'size':>9}  sha256")
    for s in store.shards:
        lines.append(f"{s.file:<16} {s.first:>9} {s.first + s.count - 1:>9} {s.count:>6} {_bytes(s.bytes):>9}  "
                     f"{s.sha256[:12]}")
    return lines


def describe_problems(report: VerifyReport) -> CorruptShardError:
    """The one-line error a failed verification ends with (the problems are listed before it)."""
    return CorruptShardError(f"{len(report.problems)} problem(s) in '{report.path}'; repeat the command that made "
                             "the store with --resume to re-create the damaged shards")
