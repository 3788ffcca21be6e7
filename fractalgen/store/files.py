"""File-system helpers of the store: names, atomic publication, hashing, stale temporaries and a run lock.

Every file the store writes goes to ``NAME.tmp`` in the same directory, is flushed and fsynced, then renamed
over ``NAME`` with :func:`os.replace` (atomic on POSIX and Windows): a reader sees the old file or the whole new
one, never a partial one, and a crash leaves at most a ``*.tmp`` file, which the next run removes. Shard files go
through a temporary name of their own writer (``NAME.<pid>-<random>.tmp``): on a cluster a shard's task may be
retried after its worker died mid-file, or run twice at once, and no two attempts may share a temporary file.

Differs from the usual "write then rename" recipe in one respect: the directory is fsynced after the rename
where the platform allows it, so a power cut cannot forget a rename the manifest already relies on.
"""

from __future__ import annotations

import contextlib
import errno
import hashlib
import os
import re
import secrets
from collections.abc import Iterator
from pathlib import Path

from ..errors import StoreError

TMP_SUFFIX = ".tmp"
_SHARD_RE = re.compile(r"^shard-(\d{5,})\.h5$")
_TMP_RE = re.compile(r"^(.+?)(\.\d+-[0-9a-f]{8})?\.tmp$")
_HASH_BLOCK = 1 << 20


def shard_name(k: int) -> str:
    """File name of shard ``k``: ``shard-00000.h5`` (five digits, more if a set ever needs them)."""
    return f"shard-{k:05d}.h5"


def shard_number(name: str) -> int | None:
    """The shard number in a final shard file name, or None if ``name`` is not one."""
    m = _SHARD_RE.match(name)
    return int(m.group(1)) if m else None


def tmp_path(path: Path, unique: bool = False) -> Path:
    """``NAME.tmp`` next to ``path``; with ``unique``, ``NAME.<pid>-<8 hex>.tmp``, a name no other writer uses."""
    tag = f".{os.getpid()}-{secrets.token_hex(4)}" if unique else ""
    return path.with_name(path.name + tag + TMP_SUFFIX)


def tmp_base(name: str) -> str | None:
    """The final name a temporary file (``NAME.tmp`` or ``NAME.<pid>-<hex>.tmp``) stands for, or None."""
    m = _TMP_RE.match(name)
    return m.group(1) if m else None


def _fsync_dir(directory: Path) -> None:
    try:
        fd = os.open(directory, os.O_RDONLY)
    except OSError:  # Windows cannot open a directory; its rename is durable enough for us
        return
    try:
        os.fsync(fd)
    except OSError:
        pass
    finally:
        os.close(fd)


def publish(tmp: Path, final: Path) -> None:
    """fsync ``tmp``, rename it over ``final`` atomically, fsync the directory."""
    with open(tmp, "rb+") as fh:
        os.fsync(fh.fileno())
    os.replace(tmp, final)
    _fsync_dir(final.parent)


def write_atomic(path: Path, data: bytes) -> None:
    """Write ``data`` to ``path`` through a temporary file in the same directory."""
    tmp = tmp_path(path)
    try:
        with open(tmp, "wb") as fh:
            fh.write(data)
        publish(tmp, path)
    except BaseException:
        with contextlib.suppress(OSError):
            tmp.unlink()
        raise


def sha256_file(path: Path) -> str:
    """sha256 of a whole file, read in 1 MiB blocks."""
    h = hashlib.sha256()
    with open(path, "rb") as fh:
        while block := fh.read(_HASH_BLOCK):
            h.update(block)
    return h.hexdigest()


#: What flock raises where the file system offers no locks at all (as opposed to a lock held elsewhere).
_NO_LOCKS = {errno.ENOLCK, errno.ENOTSUP, errno.EOPNOTSUPP, errno.ENOSYS, errno.EINVAL}


@contextlib.contextmanager
def run_lock(directory: Path) -> Iterator[None]:
    """Hold an exclusive advisory lock on ``directory`` while a run writes into it.

    ``flock`` on the directory itself: no lock file to go stale, and the kernel drops the lock when the process
    dies, even by SIGKILL. Where flock is unavailable (Windows) or the file system refuses locks (an NFS mount
    without a lock service: ENOLCK, or ENOTSUP) the run goes unlocked: only a lock another process holds stops
    it.
    """
    try:
        import fcntl
    except ImportError:  # pragma: no cover - Windows
        yield
        return
    fd = os.open(directory, os.O_RDONLY)
    try:
        try:
            fcntl.flock(fd, fcntl.LOCK_EX | fcntl.LOCK_NB)
        except OSError as err:
            if err.errno in _NO_LOCKS:
                yield
                return
            raise StoreError(f"another fractalgen run is writing into '{directory}'; wait for it to finish "
                             "or stop it, then run again") from None
        yield
    finally:
        os.close(fd)
