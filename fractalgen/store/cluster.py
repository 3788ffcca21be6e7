"""Running a store's per-shard work on a Dask cluster: writing shards (``build_store(..., dask=...)``) and
checking them (``verify_store(..., dask=...)``), on Dask's own scheduler.

The unit of work is the local one (:func:`~fractalgen.store.build.make_shard`, and verify's per-shard check), so a
set written on Dask is byte for byte the set written on the local pool, and either can finish the other's run.
What the cluster adds:

- one task per shard, keyed ``fractalgen-write-<run>-KKKKK`` where ``<run>`` hashes the set id, the plan and the
  directory (deterministic: a duplicate submission of the same shard is the same task), with ``retries`` for
  errors such as a hiccup of a network file system. A problem with the user's input (a
  :class:`~fractalgen.errors.FractalgenError`, e.g. a gate no draw passes) is returned, not raised, so it is not
  retried and stops the run with its own message;
- what every task shares (the item source, the directory, the plan) travels inside each task when it is small
  (a recipe's source pickles to 1-2 kB): the tasks then have no dependency, and the scheduler gives each to the
  least busy worker. A task that depends on data held by one worker is sent to that worker only, and the others
  wait for work stealing: measured, the second of 2 workers started its first shard up to one shard's time late,
  and Dask's memory manager drops the extra copies again, so it recurs. A large source (an imported folder's
  file list) travels once instead, as a task of its own that every shard task depends on (a scattered value
  would be lost with the worker holding it; a task is recomputed);
- tasks are submitted in a window of about two per worker thread and their results released as soon as they
  are recorded: the client holds nothing per image and O(workers) per run, and a worker's death does not make
  the scheduler recompute shards that are already on disk;
- a shard is written under a temporary name of its own attempt and renamed into place, so a retried or
  duplicated task cannot leave a half file or a second copy; temporaries of killed attempts are removed by the
  client before it writes the manifest (it alone writes it, last, atomically);
- each task runs the source's ``setup_worker()`` (numba: one thread; the setting is per thread, so per task);
  a ``local`` cluster's workers are single-threaded processes started with ``NUMBA_NUM_THREADS=1``.

Ctrl-C cancels the tasks; shards already renamed into place are kept (a task that was running when the client
stopped may still finish its shard: the bytes are the same).

dask and distributed are an optional extra: ``pip install "fractalgen[dask]"``. Workers must be able to import
fractalgen and see the store's directory at the same path (a shared file system; see docs/store-format.md).
"""

from __future__ import annotations

import contextlib
import hashlib
import json
import logging
import os
import time
import urllib.request
import warnings
from collections.abc import Callable, Iterable, Iterator
from pathlib import Path
from typing import Any

from ..errors import FractalgenError, MissingExtraError, StoreError
from .._machine import available_cores
from .build import ItemSource, _sigint_ignored, make_shard, progress_bar
from .manifest import ShardEntry, StorePlan

INSTALL = 'pip install "fractalgen[dask]"'
#: Times a shard task is retried after raising an error that is not the user's (an I/O error, say). A worker
#: dying under a task is counted by Dask's own ``distributed.scheduler.allowed-failures`` (3 by default).
RETRIES = 2
#: Tasks kept submitted per worker thread: enough that no thread waits for the client, few enough that the
#: scheduler, not a long queue, balances stragglers.
TASKS_PER_THREAD = 2
#: Seconds between two looks at the cluster's size (it may grow or shrink while a run goes on).
RESIZE_EVERY = 2.0
#: Pickled size up to which a run's shared parts travel inside every task rather than as a task of their own.
INLINE_BYTES = 64 * 1024


def require_distributed() -> Any:
    """The ``distributed`` module, or a one-line error saying how to install it."""
    try:
        import distributed
    except ImportError:
        raise MissingExtraError("running on Dask needs dask.distributed, which is not installed: "
                                f"{INSTALL}") from None
    return distributed


def check_spec(dask: Any, workers: int | None) -> None:
    """Refuse a ``dask`` argument that cannot work, before any file is created (without connecting)."""
    distributed = require_distributed()
    if isinstance(dask, distributed.Client):
        spec = None
    elif isinstance(dask, str) and dask.strip():
        spec = dask.strip()
    else:
        raise StoreError(f"dask = {dask!r}: pass a distributed.Client, a scheduler address (tcp://host:8786) "
                         "or 'local'")
    if workers is not None and spec != "local":
        raise StoreError("--workers counts the processes of a local cluster (--dask local); the workers of a "
                         "running Dask cluster are its own: drop --workers")


@contextlib.contextmanager
def connect(dask: Any, workers: int | None = None) -> Iterator[Any]:
    """A ``distributed.Client``: the one given, one connected to a scheduler address, or one of a new
    ``LocalCluster`` of ``workers`` single-threaded processes (``"local"``). Clients and clusters made here are
    closed on exit; a given client is left open."""
    distributed = require_distributed()
    check_spec(dask, workers)
    if isinstance(dask, distributed.Client):
        yield dask
        return
    address = dask.strip()
    if address == "local":
        n = available_cores() if workers is None else workers
        with _sigint_ignored(), warnings.catch_warnings():  # workers leave Ctrl-C to the client
            warnings.filterwarnings("ignore", message=".*already in use", category=UserWarning)  # 8787 taken
            cluster = distributed.LocalCluster(n_workers=n, threads_per_worker=1, processes=True,
                                               env={"NUMBA_NUM_THREADS": "1"}, silence_logs=logging.ERROR)
        try:
            with distributed.Client(cluster) as client:
                yield client
        finally:
            cluster.close()
        return
    try:
        client = distributed.Client(address, timeout=20)
    except (OSError, TimeoutError, ValueError) as err:
        raise StoreError(f"cannot reach a Dask scheduler at '{address}' ({str(err).splitlines()[0]}); start one "
                         "(`dask scheduler`) or pass its address, e.g. --dask tcp://host:8786") from None
    with client:
        yield client


def describe(client: Any) -> str:
    """One line about the cluster: workers, threads, scheduler, and the dashboard link when one answers."""
    threads = client.nthreads()
    line = (f"Dask: {len(threads)} worker{'s' * (len(threads) != 1)}, {sum(threads.values())} threads, "
            f"scheduler {client.scheduler.address}")
    link = client.dashboard_link
    try:  # without bokeh the scheduler serves a page saying so at the dashboard's address
        with urllib.request.urlopen(link, timeout=2) as reply:
            if reply.status == 200 and b"needs bokeh" not in reply.read(4096):
                return f"{line}; dashboard {link}"
            return f"{line}; no dashboard (the scheduler needs bokeh for one)"
    except (OSError, ValueError):
        return line


class _Failed:
    """A task's answer when the user's input is at fault: the error travels as a value, so Dask does not retry
    a deterministic failure."""

    def __init__(self, error: FractalgenError) -> None:
        self.error = error


class _Job:
    """What every task of a run shares, in a box (Dask reads a bare tuple whose first item is callable as a task)."""

    def __init__(self, *parts: Any) -> None:
        self.parts = parts


def _identity(value: Any) -> Any:
    return value


def run_key(kind: str, *parts: Any) -> str:
    """``fractalgen-<kind>-<16 hex>``: a deterministic name for the tasks of one job."""
    blob = json.dumps([str(p) if isinstance(p, Path) else p for p in parts], sort_keys=True, default=repr)
    return f"fractalgen-{kind}-{hashlib.sha256(blob.encode()).hexdigest()[:16]}"


def map_shards(client: Any, fn: Callable[..., Any], shared: tuple, shards: Iterable[int], name: str,
               on_done: Callable[[int, Any], None], args: Callable[[int], tuple] = lambda k: (),
               retries: int = RETRIES) -> None:
    """Run ``fn(_Job(*shared), k, *args(k))`` for every shard ``k`` on the cluster, in the order given, one task
    each keyed ``<name>-KKKKK``; call ``on_done(k, result)`` on the client as each finishes. ``shared`` goes
    inside every task when it pickles to at most :data:`INLINE_BYTES`, else once, as a task the others depend
    on. A returned :class:`_Failed` is raised here. On any exception (Ctrl-C included) the outstanding tasks
    are cancelled."""
    distributed = require_distributed()
    todo = iter(shards)
    job = _Job(*shared)
    source = None
    if shared_size(job) > INLINE_BYTES:
        source = client.submit(_identity, job, key=f"{name}-shared")
    pending: dict[Any, int] = {}
    done = distributed.as_completed()
    window, looked = 0, 0.0

    def refill() -> None:
        nonlocal window, looked
        if time.monotonic() - looked > RESIZE_EVERY:
            window = max(4, TASKS_PER_THREAD * sum(client.nthreads().values()))
            looked = time.monotonic()
        while len(pending) < window:
            k = next(todo, None)
            if k is None:
                return
            future = client.submit(fn, job if source is None else source, k, *args(k), key=f"{name}-{k:05d}",
                                   retries=retries)
            pending[future] = k
            done.add(future)

    try:
        refill()
        for future in done:
            k = pending.pop(future)
            try:
                result = future.result()
            except distributed.KilledWorker:
                raise StoreError(f"shard {k}'s task killed the Dask workers running it, several times (out of "
                                 "memory?); finished shards are kept: repeat the command with --resume") from None
            except distributed.CancelledError:
                raise StoreError(f"the Dask scheduler dropped shard {k}'s task (did it restart, or the connection "
                                 "drop?); finished shards are kept: repeat the command with --resume") from None
            future.release()
            if isinstance(result, _Failed):
                raise result.error
            on_done(k, result)
            refill()
    except BaseException:
        with contextlib.suppress(Exception):
            client.cancel([*pending, *([source] if source is not None else [])])
        raise
    finally:
        if source is not None:
            source.release()


def shared_size(job: _Job) -> int:
    """Bytes of ``job`` pickled as Dask sends it (cloudpickle, which comes with distributed)."""
    import cloudpickle

    return len(cloudpickle.dumps(job))


# -- the tasks (module-level: workers import them by name) ------------------------------------------------------

def _ignore(n: int) -> None:
    pass


def _write_task(job: _Job, k: int, record: ShardEntry | None) -> tuple[ShardEntry, str] | _Failed:
    source, directory, plan, check = job.parts
    try:
        source.setup_worker()
        return make_shard(source, Path(directory), plan, k, check, _ignore, record)
    except FractalgenError as err:
        return _Failed(err)


def write_shards(dask: Any, workers: int | None, source: ItemSource, directory: Path, plan: StorePlan,
                 order: list[int], check: bool, records: dict[int, ShardEntry], progress: bool, desc: str,
                 log: Callable[[str], None] | None) -> dict[int, tuple[ShardEntry, str]]:
    """:func:`~fractalgen.store.build.build_store`'s shard loop on a cluster: shards ``order``, each checked
    against the manifest's ``records`` as :func:`~fractalgen.store.build.make_shard` does locally;
    ``{k: (entry, status)}``."""
    results: dict[int, tuple[ShardEntry, str]] = {}
    with connect(dask, workers) as client:
        if log is not None:
            log(describe(client))
        with progress_bar(plan.count, desc, progress) as bar:
            def record(k: int, result: tuple[ShardEntry, str]) -> None:
                results[k] = result
                bar.update(plan.shard(k)[1])

            name = run_key("write", plan.to_dict(), os.path.abspath(directory))
            map_shards(client, _write_task, (source, str(directory), plan, check), order, name, record,
                       args=lambda k: (records.get(k),))
    return results


def _verify_task(job: _Job, k: int, entry: ShardEntry) -> list[str]:
    from .report import shard_problems

    root, plan = job.parts
    return shard_problems(Path(root), plan, k, entry)


def verify_shards(dask: Any, workers: int | None, root: Path, plan: StorePlan, entries: list[ShardEntry],
                  progress: bool, log: Callable[[str], None] | None = None) -> list[str]:
    """:func:`~fractalgen.store.report.verify_store`'s per-shard checks on a cluster, problems in shard order."""
    found: dict[int, list[str]] = {}
    with connect(dask, workers) as client:
        if log is not None:
            log(describe(client))
        with progress_bar(plan.count, "verifying", progress, leave=False) as bar:
            def record(k: int, problems: list[str]) -> None:
                found[k] = problems
                bar.update(entries[k].count)

            name = run_key("verify", plan.to_dict(), os.path.abspath(root), time.time_ns())
            map_shards(client, _verify_task, (str(root), plan), range(plan.n_shards), name, record,
                       args=lambda k: (entries[k],))
    return [line for k in sorted(found) for line in found[k]]
