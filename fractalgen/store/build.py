"""Building a store: plan the shards, make them on a pool of worker processes, resume, stop cleanly.

The unit of work is :func:`make_shard` ``(source, directory, plan, k) -> ShardEntry``: shard k is a pure function
of the item source (e.g. a recipe and its seed), the plan and k, so retries, re-runs and any number of workers
give the same bytes. The driver merges the entries into the manifest, which it writes last. The same unit maps
onto Dask, Ray or a Slurm array at scale; here it runs on a ``spawn`` process pool (numba's threading layers and
HDF5 handles are not fork-safe), or in-process when one worker (or one shard) is asked for.

An *item source* is any picklable object with ``set_id`` (str: what the images depend on), ``shape``
((H, W, C)), ``columns`` (((name, kind), ...)), ``meta`` (manifest fields ``recipe``, ``seed``, ``origin``),
``item(i) -> (uint8 image, params dict)`` and ``setup_worker()`` (run once in each worker process).
The store knows nothing else about it.

Safety: the directory is locked while a run writes; a directory holding files that are not the store's, or
another set, is refused (unless ``overwrite``, which deletes only the store's own files). The same set again
is a no-op when complete (so a command can be re-run) and refused when unfinished unless ``resume``, which
re-checks every finished shard (all chunks and hashes) and makes only the missing or damaged ones. On Ctrl-C the workers
are terminated, temporaries removed, finished shards kept, and :class:`Interrupted` raised.
"""

from __future__ import annotations

import concurrent.futures as cf
import contextlib
import multiprocessing as mp
import os
import signal
import threading
import time
from collections.abc import Callable, Iterator
from concurrent.futures.process import BrokenProcessPool
from pathlib import Path
from queue import Empty
from typing import Any, Protocol

import h5py
import numpy as np
from tqdm import tqdm

from .._machine import available_cores, freeze_at_exit
from ..errors import StoreError
from .files import TMP_SUFFIX, run_lock, shard_name, shard_number
from .manifest import (DEFAULT_COMPRESSION, MANIFEST_NAME, ShardEntry, StorePlan, default_shard_size, entries_of,
                       is_store_file, make_manifest, plan_of, read_manifest, remove_stale_tmp, write_manifest)
from .shard import ShardWriter, check_shard, shard_entry

#: Seconds between a worker's progress messages.
REPORT_EVERY = 0.2


class ItemSource(Protocol):
    set_id: str
    shape: tuple[int, int, int]
    columns: tuple[tuple[str, str], ...]
    meta: dict

    def item(self, index: int) -> tuple[np.ndarray, dict]: ...

    def setup_worker(self) -> None: ...


class Interrupted(KeyboardInterrupt):
    """Ctrl-C stopped a run; finished shards are kept and the message says how to resume."""


def make_shard(source: ItemSource, directory: Path, plan: StorePlan, k: int, check: bool,
               report: Callable[[int], None]) -> tuple[ShardEntry, str]:
    """Make shard ``k`` unless (with ``check``) a finished file passes :func:`check_shard`.

    Returns the manifest entry and what happened: ``"verified"``, ``"rendered"`` or the problem that made a
    finished file be replaced.
    """
    path = directory / shard_name(k)
    status = "rendered"
    if check and path.exists():
        problems = check_shard(path, plan, k)
        if not problems:
            report(plan.shard(k)[1])
            return shard_entry(path, plan, k), "verified"
        status = problems[0]
        path.unlink()
    first, count = plan.shard(k)
    with ShardWriter(directory, plan, k) as writer:
        for i in range(first, first + count):
            writer.write(*source.item(i))
            report(1)
    return writer.entry, status


# -- worker processes -------------------------------------------------------------------------------------------

class _Reporter:
    """Batches a worker's image counts into a few queue messages per second."""

    def __init__(self, queue: Any) -> None:
        self.queue, self.n, self.last = queue, 0, time.monotonic()

    def __call__(self, n: int) -> None:
        self.n += n
        if time.monotonic() - self.last > REPORT_EVERY:
            self.flush()

    def flush(self) -> None:
        if self.n:
            self.queue.put(self.n)
        self.n, self.last = 0, time.monotonic()


_WORKER: tuple | None = None


def _init_worker(source: ItemSource, directory: str, plan: StorePlan, queue: Any) -> None:
    global _WORKER
    signal.signal(signal.SIGINT, signal.SIG_IGN)  # Ctrl-C is the parent's to handle: it terminates the pool
    freeze_at_exit()
    source.setup_worker()
    _WORKER = (source, Path(directory), plan, _Reporter(queue))


def _worker_task(k: int, check: bool) -> tuple[ShardEntry, str]:
    source, directory, plan, reporter = _WORKER
    try:
        return make_shard(source, directory, plan, k, check, reporter)
    finally:
        reporter.flush()


def _stop(executor: cf.ProcessPoolExecutor) -> None:
    """Terminate the pool's workers now (a running shard is abandoned; its temporary is removed later)."""
    if hasattr(executor, "terminate_workers"):  # Python >= 3.14
        executor.terminate_workers()
        return
    for p in list((getattr(executor, "_processes", None) or {}).values()):  # no public way before 3.14
        p.terminate()
    # waiting lets the executor's manager thread see the dead workers and exit, instead of leaving a closed
    # wake-up pipe for the interpreter's exit hook to trip over
    executor.shutdown(wait=True, cancel_futures=True)


@contextlib.contextmanager
def _sigint_ignored() -> Iterator[None]:
    """Ignore SIGINT while worker processes start: they inherit the disposition, so a Ctrl-C (sent to the whole
    process group) cannot interrupt a worker mid-bootstrap; the parent alone handles it."""
    if threading.current_thread() is not threading.main_thread():
        yield
        return
    previous = signal.signal(signal.SIGINT, signal.SIG_IGN)
    try:
        yield
    finally:
        signal.signal(signal.SIGINT, previous)


def _drain(queue: Any, bar: tqdm) -> None:
    with contextlib.suppress(Empty):
        while True:
            bar.update(queue.get_nowait())


def _run_pool(source: ItemSource, directory: Path, plan: StorePlan, check: bool, workers: int,
              bar: tqdm) -> dict[int, tuple[ShardEntry, str]]:
    ctx = mp.get_context("spawn")
    queue = ctx.Queue()
    results = {}
    executor = cf.ProcessPoolExecutor(workers, mp_context=ctx, initializer=_init_worker,
                                      initargs=(source, str(directory), plan, queue))
    try:
        with _sigint_ignored():  # submit() starts the worker processes
            futures = {executor.submit(_worker_task, k, check): k for k in range(plan.n_shards)}
        pending = set(futures)
        while pending:
            done, pending = cf.wait(pending, timeout=0.1, return_when=cf.FIRST_COMPLETED)
            _drain(queue, bar)
            for fut in done:
                results[futures[fut]] = fut.result()
    except BrokenProcessPool:
        _stop(executor)
        raise StoreError(f"a worker process died (killed, or out of memory?) while writing '{directory}'; "
                         "finished shards are kept: repeat the command with --resume") from None
    except BaseException:
        _stop(executor)
        raise
    executor.shutdown(wait=True)
    _drain(queue, bar)
    queue.close()
    return results


def _run(source: ItemSource, directory: Path, plan: StorePlan, check: bool, workers: int,
         progress: bool, desc: str) -> dict[int, tuple[ShardEntry, str]]:
    with tqdm(total=plan.count, desc=desc, unit="img", disable=not progress, dynamic_ncols=True) as bar:
        if min(workers, plan.n_shards) > 1:
            results = _run_pool(source, directory, plan, check, min(workers, plan.n_shards), bar)
        else:
            results = {k: make_shard(source, directory, plan, k, check, bar.update) for k in range(plan.n_shards)}
        bar.update(plan.count - bar.n)
    return results


# -- the target directory ---------------------------------------------------------------------------------------

def _plan_in_shards(directory: Path, names: list[str]) -> StorePlan | None:
    """The plan recorded in the first readable shard of an unfinished run."""
    import json

    for name in sorted(n for n in names if shard_number(n) is not None):
        with contextlib.suppress(OSError, ValueError, KeyError, TypeError, StoreError):
            with h5py.File(directory / name, "r", locking=False) as f:
                return StorePlan.from_dict(json.loads(f.attrs["plan"]))
    return None


def _clear(directory: Path) -> None:
    """Delete the store's own files, the manifest first (so nothing presents the store as complete)."""
    names = sorted((p.name for p in directory.iterdir() if is_store_file(p.name)), key=lambda n: n != MANIFEST_NAME)
    for name in names:
        (directory / name).unlink()


def _prepare(directory: Path, plan: StorePlan, resume: bool, overwrite: bool) -> tuple[dict | None, bool]:
    """Check what ``directory`` holds against the plan. Returns the manifest of this very set if it has one, and
    whether there is nothing to do (this set, complete, and no --resume asked for)."""
    names = [p.name for p in directory.iterdir()]
    foreign = sorted(n for n in names if not is_store_file(n))
    if foreign:
        shown = ", ".join(foreign[:3]) + (", ..." if len(foreign) > 3 else "")
        raise StoreError(f"'{directory}' holds files that are not part of a fractalgen store ({shown}); write the "
                         "store into an empty or new directory")
    finals = [n for n in names if not n.endswith(TMP_SUFFIX)]
    if not finals:
        return None, False
    if overwrite:
        _clear(directory)
        return None, False
    manifest = None
    if MANIFEST_NAME in finals:
        with contextlib.suppress(StoreError):
            manifest = read_manifest(directory)
    on_disk = plan_of(manifest) if manifest else _plan_in_shards(directory, finals)
    if on_disk is not None and plan.differences(on_disk):
        raise StoreError(f"'{directory}' holds another set: {'; '.join(plan.differences(on_disk))}. Choose another "
                         "directory, or pass --overwrite to replace it")
    if not resume and manifest is None:
        raise StoreError(f"'{directory}' already holds an unfinished or damaged run of this set; pass --resume to "
                         "finish it, or --overwrite to start again")
    return manifest, manifest is not None and not resume


def build_store(source: ItemSource, out: str | os.PathLike, count: int, *, shard_size: int | None = None,
                compression: str = DEFAULT_COMPRESSION, workers: int | None = None, resume: bool = False,
                overwrite: bool = False, progress: bool = True, desc: str = "writing",
                log: Callable[[str], None] | None = None) -> Path:
    """Write images ``0..count-1`` of ``source`` into a store at ``out``; returns its path.

    ``workers`` defaults to every available core; ``shard_size`` to :func:`default_shard_size`. Everything is
    validated before the first file is created. ``log`` receives one line per notable event on a resume.
    """
    plan = StorePlan(source.set_id, tuple(source.shape), count,
                     default_shard_size(tuple(source.shape)) if shard_size is None else shard_size,
                     compression, tuple(source.columns))
    workers = available_cores() if workers is None else workers
    if isinstance(workers, bool) or not isinstance(workers, int) or workers < 1:
        raise StoreError(f"workers = {workers!r}: pass a positive number of worker processes")
    if resume and overwrite:
        raise StoreError("--resume and --overwrite contradict each other: pass one of them")
    directory = Path(out)
    if directory.exists() and not directory.is_dir():
        raise StoreError(f"'{directory}' is a file; give a directory for the store")
    try:
        directory.mkdir(parents=True, exist_ok=True)
    except OSError as err:
        raise StoreError(f"cannot create '{directory}': {err.strerror}; choose a writable path") from None
    with run_lock(directory):
        old, complete = _prepare(directory, plan, resume, overwrite)
        remove_stale_tmp(directory)
        if complete:  # the same command again: nothing to do, like make
            if log is not None:
                log(f"'{directory}' already holds this set, complete: nothing to do (`fractalgen verify` checks it, "
                    "--resume repairs it)")
            return directory
        try:
            results = _run(source, directory, plan, resume, workers, progress, desc)
        except KeyboardInterrupt:
            remove_stale_tmp(directory)
            done = sum(shard_number(p.name) is not None for p in directory.iterdir())
            raise Interrupted(f"interrupted: {done} of {plan.n_shards} shards of '{directory}' are finished; repeat "
                              "the same command with --resume to finish the rest") from None
        except BaseException:
            remove_stale_tmp(directory)
            raise
        entries = [results[k][0] for k in range(plan.n_shards)]
        statuses = [results[k][1] for k in range(plan.n_shards)]
        if log is not None and resume:
            for status in statuses:
                if status not in ("verified", "rendered"):
                    log(f"replaced a damaged shard: {status}")
            log(f"resume: {statuses.count('verified')} shards verified, "
                f"{plan.n_shards - statuses.count('verified')} written")
        if old is None or entries != entries_of(old):
            write_manifest(directory, make_manifest(plan, entries, source.meta))
    return directory
