"""Crash-safe replacement of a whole folder, and a lock that serialises writers.

A new index is written into a temporary sibling, fsynced, then swapped with the old folder
in one step (Linux renameat2 RENAME_EXCHANGE), so readers and a crash at any point see either
the old folder or the complete new one. Where the exchange call is missing, two renames are
used and a stale backup is restored by `recover`.
"""

from __future__ import annotations

import contextlib
import ctypes
import errno
import fcntl
import os
import shutil
import tempfile
from collections.abc import Iterator
from pathlib import Path

from jobmatch.errors import IndexStoreError

_RENAME_EXCHANGE = 2
_AT_FDCWD = -100
_BACKUP_SUFFIX = ".jobmatch-old"


def _exchange(a: Path, b: Path) -> bool:
    """Atomically swap two paths; False when the platform cannot."""
    try:
        libc = ctypes.CDLL(None, use_errno=True)
        renameat2 = libc.renameat2
    except (OSError, AttributeError):
        return False
    result = renameat2(_AT_FDCWD, bytes(a), _AT_FDCWD, bytes(b), _RENAME_EXCHANGE)
    if result == 0:
        return True
    code = ctypes.get_errno()
    if code in (errno.ENOSYS, errno.EINVAL, errno.ENOTSUP):
        return False
    raise OSError(code, os.strerror(code), str(b))


def fsync_tree(folder: Path) -> None:
    for path in folder.iterdir():
        if path.is_file():
            with open(path, "rb") as handle:
                os.fsync(handle.fileno())
    fsync_dir(folder)


def fsync_dir(folder: Path) -> None:
    descriptor = os.open(folder, os.O_RDONLY)
    try:
        os.fsync(descriptor)
    finally:
        os.close(descriptor)


def recover(target: Path) -> None:
    """Restore a backup left by an interrupted two-rename swap, and drop stale temporaries."""
    backup = target.with_name(target.name + _BACKUP_SUFFIX)
    if backup.exists() and not target.exists():
        os.rename(backup, target)
    elif backup.exists():
        shutil.rmtree(backup, ignore_errors=True)


@contextlib.contextmanager
def replace_folder(target: str | Path) -> Iterator[Path]:
    """Yield an empty temporary sibling; on success it replaces `target` atomically."""
    target = Path(target).absolute()
    target.parent.mkdir(parents=True, exist_ok=True)
    recover(target)
    staging = Path(tempfile.mkdtemp(prefix=f".{target.name}.", suffix=".tmp", dir=target.parent))
    try:
        yield staging
        fsync_tree(staging)
        if not target.exists():
            os.rename(staging, target)
        elif _exchange(staging, target):
            shutil.rmtree(staging)  # now holds the old folder
        else:
            backup = target.with_name(target.name + _BACKUP_SUFFIX)
            os.rename(target, backup)
            os.rename(staging, target)
            shutil.rmtree(backup)
        fsync_dir(target.parent)
    finally:
        if staging.exists():
            shutil.rmtree(staging, ignore_errors=True)


@contextlib.contextmanager
def writer_lock(target: str | Path, *, wait: bool = True, on_wait=None) -> Iterator[None]:
    """Hold an exclusive lock on `<target>.lock` (a sibling: the folder itself gets swapped).

    With `wait=False` a held lock raises IndexStoreError at once; otherwise `on_wait()` is
    called once and the call blocks until the other writer finishes.
    """
    target = Path(target).absolute()
    target.parent.mkdir(parents=True, exist_ok=True)
    lock_path = target.with_name(target.name + ".lock")
    with open(lock_path, "a+") as handle:
        try:
            fcntl.flock(handle, fcntl.LOCK_EX | fcntl.LOCK_NB)
        except BlockingIOError:
            if not wait:
                raise IndexStoreError(
                    f"{target}: another writer holds {lock_path.name}; retry later"
                ) from None
            if on_wait is not None:
                on_wait()
            fcntl.flock(handle, fcntl.LOCK_EX)
        try:
            yield
        finally:
            fcntl.flock(handle, fcntl.LOCK_UN)
