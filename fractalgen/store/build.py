"""Building a store: plan the shards, make them on a pool of worker processes, resume, stop cleanly.

The unit of work is :func:`make_shard` ``(source, directory, plan, k) -> ShardEntry``: shard k is a pure function
of the item source (e.g. a recipe and its seed), the plan and k, so retries, re-runs and any number of workers
give the same bytes. The driver merges the entries into the manifest, which it writes last. The same unit maps
onto Dask, Ray or a Slurm array at scale; here it runs on a ``spawn`` process pool (numba's threading layers and
HDF5 handles are not fork-safe), or in-process when one worker (or one shard) is asked for.

An *item source* is any picklable object with ``set_id`` (str: what the images depend on), ``shape``
((H, W, C)), ``columns`` (((name, kind), ...)), ``meta`` (manifest fields ``recipe``, ``seed``, ``origin``),
``items(indices) -> iterable of (uint8 image, params dict)`` (a shard's indices, in order: a source may make
them in batches) and ``setup_worker()`` (run once in each worker process); :class:`PerItem` makes ``items``
from a one-at-a-time ``item(i)``.
The store knows nothing else about it.

Safety: the directory is locked while a run writes; a directory holding files that are not the store's, or
another set, is refused (unless ``overwrite``, which deletes only the store's own files). The same set again
is a no-op when complete (so a command can be re-run) and refused when unfinished unless ``resume``, which
re-checks every finished shard and makes only the missing or damaged ones: a shard the manifest lists must be
the very file it records (size and sha256), and every other one passes the deep check (every chunk, the images'
and params' sha256, the columns). A finished set asked for at a larger count *grows*: its shards are kept, the
missing ones made and its last, partial shard re-made, giving the bytes of a set generated at that count in one
go. On Ctrl-C or SIGTERM the workers are terminated, temporaries removed, finished shards kept, and
:class:`Interrupted` raised; workers also die with the parent when it is killed outright (SIGKILL, OOM killer).
A full disk stops the run with a one-line StoreError that keeps the finished shards.
"""

from __future__ import annotations

import concurrent.futures as cf
import contextlib
import dataclasses
import errno
import multiprocessing as mp
import os
import re
import signal
import stat
import threading
import time
from collections.abc import Callable, Iterable, Iterator
from concurrent.futures.process import BrokenProcessPool
from pathlib import Path
from queue import Empty
from typing import Any, Protocol

import h5py
import numpy as np
from tqdm import tqdm

from .._machine import available_cores, freeze_at_exit
from ..errors import StoreError
from .files import TMP_SUFFIX, run_lock, sha256_file, shard_name, shard_number
from .manifest import (DEFAULT_COMPRESSION, MANIFEST_NAME, ShardEntry, StorePlan, default_shard_size, entries_of,
                       is_store_file, make_manifest, meta_differs, plan_of, read_manifest, remove_stale_tmp,
                       write_manifest)
from .shard import ShardWriter, check_shard, identity_problems, shard_entry

#: Seconds between a worker's progress messages.
REPORT_EVERY = 0.2
#: Shard tasks queued per worker process: enough to keep each busy, never the whole set (a run of 10^9 images
#: would otherwise queue millions of tasks before the first one ends).
WINDOW_PER_WORKER = 2


class ItemSource(Protocol):
    set_id: str
    shape: tuple[int, int, int]
    columns: tuple[tuple[str, str], ...]
    meta: dict

    def items(self, indices: range) -> Iterable[tuple[np.ndarray, dict]]: ...

    def setup_worker(self) -> None: ...


class PerItem:
    """Base of item sources that make one item at a time: ``items`` calls ``item(i)`` for each index."""

    def item(self, index: int) -> tuple[np.ndarray, dict]:
        raise NotImplementedError

    def items(self, indices: range) -> Iterator[tuple[np.ndarray, dict]]:
        return (self.item(i) for i in indices)


class Interrupted(KeyboardInterrupt):
    """Ctrl-C (or SIGTERM) stopped a run; finished shards are kept and the message says how to resume.
    ``exit_code`` is the shell's status for the signal: 130 (SIGINT) or 143 (SIGTERM)."""

    def __init__(self, message: str, exit_code: int = 130) -> None:
        super().__init__(message)
        self.exit_code = exit_code


class _Terminated(KeyboardInterrupt):
    """SIGTERM arrived while the parent ran: stop as on Ctrl-C."""


_DISK_FULL = (errno.ENOSPC, getattr(errno, "EDQUOT", errno.ENOSPC))
_READ_ONLY = (errno.EROFS, errno.EACCES, errno.EPERM)


def _errno_of(err: OSError) -> int | None:
    """The errno of an OSError, including h5py's, which carry it only in the message ("errno = 28")."""
    if err.errno is not None:
        return err.errno
    m = re.search(r"errno = (\d+)", str(err))
    return int(m.group(1)) if m else None


def storage_error(err: OSError, directory: Path) -> StoreError | None:
    """The one-line StoreError of a full disk or a read-only directory; None for other OS errors."""
    code = _errno_of(err)
    if code in _DISK_FULL:
        return StoreError(f"the disk holding '{directory}' is full ({os.strerror(code)}); the finished shards are "
                          "kept: free some space, then repeat the command with --resume")
    if code in _READ_ONLY:
        return StoreError(f"cannot write into '{directory}' ({os.strerror(code)}); choose a writable directory")
    return None


def make_shard(source: ItemSource, directory: Path, plan: StorePlan, k: int, check: bool,
               report: Callable[[int], None], record: ShardEntry | None = None) -> tuple[ShardEntry, str]:
    """Make shard ``k`` unless (with ``check``) a finished file can be kept: it is the very file ``record``
    (the manifest's entry for it) describes, or, without a record, it passes :func:`check_shard`.

    Returns the manifest entry and what happened: ``"verified"``, ``"rendered"`` or the problem that made a
    finished file be replaced. A full disk or a read-only directory raise a one-line StoreError.
    """
    path = directory / shard_name(k)
    status = "rendered"
    try:
        if check and path.exists():
            problems = kept_shard_problems(path, plan, k, record)
            if not problems:
                report(plan.shard(k)[1])
                return shard_entry(path, plan, k), "verified"
            status = problems[0]
            path.unlink()
        first, count = plan.shard(k)
        with ShardWriter(directory, plan, k) as writer:
            for image, params in source.items(range(first, first + count)):
                writer.write(image, params)
                report(1)
    except OSError as err:
        known = storage_error(err, directory)
        if known is None:
            raise
        raise known from None
    return writer.entry, status


def kept_shard_problems(path: Path, plan: StorePlan, k: int, record: ShardEntry | None) -> list[str]:
    """Why finished shard file ``path`` cannot be kept as shard ``k`` (empty: keep it). With the manifest's
    ``record`` the file must be byte for byte the one recorded (size, sha256) and carry shard k's identity;
    without one it must pass the deep check."""
    if record is None:
        return check_shard(path, plan, k)
    if not path.is_file() or path.stat().st_size != record.bytes or sha256_file(path) != record.sha256:
        # replaced anyway; the deep check names the damage where it can
        return check_shard(path, plan, k) or [f"{path.name}: it is not the file the manifest records (size or "
                                              "sha256 differ): it changed after it was written"]
    try:
        with h5py.File(path, "r", locking=False) as f:
            problems = identity_problems(f, plan, k)
    except OSError as err:
        problems = [f"it cannot be opened as HDF5 ({err})"]
    return [f"{path.name}: {p}" for p in problems]


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


def _die_with_parent(parent: int) -> None:
    """End this worker when its parent process dies, however it dies (SIGKILL, the OOM killer): otherwise it
    would go on writing shards with no lock held. Linux: the kernel sends SIGKILL (prctl PR_SET_PDEATHSIG);
    elsewhere a daemon thread polls the parent id. Both then check that the parent did not die already."""
    try:
        import ctypes

        libc = ctypes.CDLL(None, use_errno=True)
        ok = libc.prctl(1, int(signal.SIGKILL), 0, 0, 0) == 0  # 1 = PR_SET_PDEATHSIG
    except (OSError, AttributeError):  # pragma: no cover - not Linux
        ok = False
    if not ok:  # pragma: no cover - not Linux
        def watch() -> None:
            while os.getppid() == parent:
                time.sleep(0.5)
            os._exit(1)

        threading.Thread(target=watch, daemon=True, name="fractalgen-parent-watch").start()
    if os.getppid() != parent:
        os._exit(1)


def pool_worker_setup(parent: int) -> None:
    """What every pool worker of fractalgen does first (the store's writers, ``fractalgen stats``): die with
    ``parent``, leave Ctrl-C to the parent (it stops the pool), and skip the garbage collector's work at exit."""
    _die_with_parent(parent)
    signal.signal(signal.SIGINT, signal.SIG_IGN)
    freeze_at_exit()


def _init_worker(source: ItemSource, directory: str, plan: StorePlan, queue: Any, parent: int) -> None:
    global _WORKER
    pool_worker_setup(parent)
    source.setup_worker()
    _WORKER = (source, Path(directory), plan, _Reporter(queue))


def _worker_task(k: int, check: bool, record: ShardEntry | None) -> tuple[ShardEntry, str]:
    source, directory, plan, reporter = _WORKER
    try:
        return make_shard(source, directory, plan, k, check, reporter, record)
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


def _run_pool(source: ItemSource, directory: Path, plan: StorePlan, order: list[int], check: bool,
              records: dict[int, ShardEntry], workers: int, bar: tqdm) -> dict[int, tuple[ShardEntry, str]]:
    ctx = mp.get_context("spawn")
    queue = ctx.Queue()
    results = {}
    executor = cf.ProcessPoolExecutor(workers, mp_context=ctx, initializer=_init_worker,
                                      initargs=(source, str(directory), plan, queue, os.getpid()))
    todo = iter(order)
    running: dict[cf.Future, int] = {}

    def submit() -> None:  # keep at most WINDOW_PER_WORKER tasks per worker queued
        while len(running) < WINDOW_PER_WORKER * workers:
            k = next(todo, None)
            if k is None:
                return
            running[executor.submit(_worker_task, k, check, records.get(k))] = k

    try:
        with _sigint_ignored():  # the first submit() starts the worker processes
            submit()
        while running:
            done, _ = cf.wait(running, timeout=0.1, return_when=cf.FIRST_COMPLETED)
            _drain(queue, bar)
            for fut in done:
                results[running.pop(fut)] = fut.result()
            submit()
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


def progress_bar(total: int, desc: str, progress: bool, leave: bool = True) -> tqdm:
    """The progress bar of every long store operation (images, images/s)."""
    return tqdm(total=total, desc=desc, unit="img", disable=not progress, dynamic_ncols=True, leave=leave)


def _run(source: ItemSource, directory: Path, plan: StorePlan, order: list[int], check: bool,
         records: dict[int, ShardEntry], workers: int | None, progress: bool, desc: str, dask: Any = None,
         log: Callable[[str], None] | None = None) -> dict[int, tuple[ShardEntry, str]]:
    if dask is not None:
        from .cluster import write_shards

        return write_shards(dask, workers, source, directory, plan, order, check, records, progress, desc, log)
    with progress_bar(plan.count, desc, progress) as bar:
        if min(workers, plan.n_shards) > 1:
            results = _run_pool(source, directory, plan, order, check, records, min(workers, plan.n_shards), bar)
        else:
            results = {k: make_shard(source, directory, plan, k, check, bar.update, records.get(k)) for k in order}
        bar.update(plan.count - bar.n)
    return results


@contextlib.contextmanager
def _sigterm_interrupts() -> Iterator[None]:
    """Make SIGTERM (``kill PID``, a batch system's time limit) stop the run as Ctrl-C does: workers stopped,
    temporaries removed, the resume hint printed. Only the main thread can install signal handlers."""
    if threading.current_thread() is not threading.main_thread():
        yield
        return

    def handler(signum: int, frame: Any) -> None:
        raise _Terminated()

    previous = signal.signal(signal.SIGTERM, handler)
    try:
        yield
    finally:
        signal.signal(signal.SIGTERM, previous)


# -- the target directory ---------------------------------------------------------------------------------------

def _layout_in_shards(directory: Path, names: list[str], plan: StorePlan) -> list[str] | None:
    """How the set of an unfinished run (its first readable shard) differs from ``plan``, count aside; None
    when no shard can be read."""
    import json

    for name in sorted(n for n in names if shard_number(n) is not None):
        with contextlib.suppress(OSError, ValueError, KeyError, TypeError, StoreError):
            with h5py.File(directory / name, "r", locking=False) as f:
                layout = json.loads(f.attrs["plan"])
                set_id = f.attrs["set_id"]
            layout["set_id"] = set_id.decode() if isinstance(set_id, bytes) else str(set_id)
            return plan.layout_differences(layout)
    return None


def _clear(directory: Path) -> None:
    """Delete the store's own files, the manifest first (so nothing presents the store as complete)."""
    names = sorted((p.name for p in directory.iterdir() if is_store_file(p.name)), key=lambda n: n != MANIFEST_NAME)
    for name in names:
        (directory / name).unlink()


@dataclasses.dataclass
class _Target:
    """What a run finds in its directory: the manifest of this set (if any), the records of the shards it may
    keep, whether there is nothing to do, and the size of the set it grows from (if it grows)."""

    manifest: dict | None = None
    records: dict[int, ShardEntry] = dataclasses.field(default_factory=dict)
    complete: bool = False
    grows_from: int | None = None


def _not_regular(path: Path) -> bool:
    """A directory, a link or another file that is not a regular one. A name gone since the listing is not: the
    tasks of a killed run may still be publishing or dropping their temporaries (a Dask client killed while its
    tasks run on), and such a name is no obstacle."""
    try:
        return not stat.S_ISREG(path.lstat().st_mode)
    except FileNotFoundError:
        return False


def _prepare(directory: Path, plan: StorePlan, resume: bool, overwrite: bool) -> _Target:
    """Check what ``directory`` holds against the plan and decide what the run does."""
    entries = list(directory.iterdir())
    names = [p.name for p in entries]
    foreign = sorted(n for n in names if not is_store_file(n))
    if foreign:
        shown = ", ".join(foreign[:3]) + (", ..." if len(foreign) > 3 else "")
        raise StoreError(f"'{directory}' holds files that are not part of a fractalgen store ({shown}); write the "
                         "store into an empty or new directory")
    odd = sorted(p.name for p in entries if _not_regular(p))
    if odd:
        raise StoreError(f"'{directory / odd[0]}' is not a regular file (a directory or a link?); fractalgen "
                         "never makes one: remove it, then repeat the command")
    finals = [n for n in names if not n.endswith(TMP_SUFFIX)]
    if not finals:
        return _Target()
    if overwrite:
        _clear(directory)
        return _Target()
    manifest = None
    if MANIFEST_NAME in finals:
        with contextlib.suppress(StoreError):
            manifest = read_manifest(directory)
    if manifest is not None:
        on_disk = plan_of(manifest)
        grows = plan.grows(on_disk)
        if plan != on_disk and not grows:
            raise StoreError(f"'{directory}' holds another set: {'; '.join(plan.differences(on_disk))}. Choose "
                             "another directory, or pass --overwrite to replace it")
        records = {k: e for k, e in enumerate(entries_of(manifest)) if k < plan.n_shards
                   and (e.first, e.count) == plan.shard(k)}
        if grows:
            return _Target(manifest, records, grows_from=on_disk.count)
        return _Target(manifest, records, complete=not resume)
    differences = _layout_in_shards(directory, finals, plan)
    if differences:
        raise StoreError(f"'{directory}' holds another set: {'; '.join(differences)}. Choose another "
                         "directory, or pass --overwrite to replace it")
    if not resume:
        done = sum(1 for n in finals if (k := shard_number(n)) is not None and k < plan.n_shards)
        raise StoreError(f"'{directory}' holds an unfinished run of this set ({done} of {plan.n_shards} shards "
                         "written, no manifest): add --resume to the same command to check them and make the "
                         "rest, or --overwrite to start again")
    return _Target()


def build_store(source: ItemSource, out: str | os.PathLike, count: int, *, shard_size: int | None = None,
                compression: str = DEFAULT_COMPRESSION, workers: int | None = None, resume: bool = False,
                overwrite: bool = False, progress: bool = True, desc: str = "writing",
                log: Callable[[str], None] | None = None, dask: Any = None) -> Path:
    """Write images ``0..count-1`` of ``source`` into a store at ``out``; returns its path.

    ``workers`` defaults to every available core; ``shard_size`` to :func:`default_shard_size`. ``dask`` runs
    the shards on a Dask cluster instead of the local pool (:mod:`.cluster`): a ``distributed.Client``, a
    scheduler address, or ``"local"`` for a new local cluster of ``workers`` processes. Everything is validated
    before the first file is created. ``log`` receives one line per notable event (a resume, a growing set, the
    cluster).
    """
    plan = StorePlan(source.set_id, tuple(source.shape), count,
                     default_shard_size(tuple(source.shape)) if shard_size is None else shard_size,
                     compression, tuple(source.columns))
    if dask is None:
        workers = available_cores() if workers is None else workers
    if workers is not None and (isinstance(workers, bool) or not isinstance(workers, int) or workers < 1):
        raise StoreError(f"workers = {workers!r}: pass a positive number of worker processes")
    if dask is not None:
        from .cluster import check_spec

        check_spec(dask, workers)
    if resume and overwrite:
        raise StoreError("--resume and --overwrite contradict each other: pass one of them")
    directory = Path(out)
    if directory.exists() and not directory.is_dir():
        raise StoreError(f"'{directory}' is a file; give a directory for the store")
    try:
        directory.mkdir(parents=True, exist_ok=True)
    except OSError as err:
        raise StoreError(f"cannot create '{directory}': {err.strerror}; choose a writable path") from None
    if not os.access(directory, os.W_OK):
        raise storage_error(OSError(errno.EROFS if _read_only_fs(directory) else errno.EACCES, ""), directory)
    with run_lock(directory), _sigterm_interrupts():
        target = _prepare(directory, plan, resume, overwrite)
        remove_stale_tmp(directory)
        if target.complete:  # the same command again: nothing to do, like make
            if log is not None:
                log(f"'{directory}' already holds this set, complete: nothing to do (`fractalgen verify` checks it, "
                    "--resume repairs it)")
            return directory
        order, remade = list(range(plan.n_shards)), None
        if target.grows_from is not None:
            remade = (target.grows_from - 1) // plan.shard_size  # the old last shard: re-made last, so the old
            order.remove(remade)                                  # store stays readable as long as possible
            order.append(remade)
            if log is not None:
                log(f"growing '{directory}' from {target.grows_from} to {plan.count} images: keeping its shards, "
                    f"making images {target.grows_from}..{plan.count - 1}")
        check = resume or target.grows_from is not None
        try:
            results = _run(source, directory, plan, order, check, target.records, workers, progress, desc, dask,
                           log)
        except KeyboardInterrupt as err:
            remove_stale_tmp(directory)
            done = sum(shard_number(p.name) is not None for p in directory.iterdir())
            how = "repeat the same command" + (" with --resume" if target.grows_from is None else "")
            raise Interrupted(f"{'terminated' if isinstance(err, _Terminated) else 'interrupted'}: {done} of "
                              f"{plan.n_shards} shards of '{directory}' are finished; {how} to finish the rest",
                              143 if isinstance(err, _Terminated) else 130) from None
        except BaseException:
            remove_stale_tmp(directory)
            raise
        remove_stale_tmp(directory)  # left by attempts that died mid-shard (a killed cluster worker)
        entries = [results[k][0] for k in range(plan.n_shards)]
        statuses = [results[k][1] for k in range(plan.n_shards)]
        if log is not None and check:
            for k, status in enumerate(statuses):
                if status not in ("verified", "rendered") and k != remade:  # the old last shard is re-made anyway
                    log(f"replaced a damaged shard: {status}")
            log(f"{'resume' if resume else 'grow'}: {statuses.count('verified')} shards verified, "
                f"{plan.n_shards - statuses.count('verified')} written")
        if target.manifest is None or entries != entries_of(target.manifest) or meta_differs(target.manifest,
                                                                                            source.meta):
            try:
                write_manifest(directory, make_manifest(plan, entries, source.meta))
            except OSError as err:
                raise (storage_error(err, directory) or err) from None
    return directory


def _read_only_fs(path: Path) -> bool:
    try:
        return bool(os.statvfs(path).f_flag & os.ST_RDONLY)
    except (OSError, AttributeError):  # pragma: no cover - Windows
        return False
