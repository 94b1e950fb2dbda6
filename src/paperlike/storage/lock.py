"""The writer lock of an index folder: one writer at a time, from its read to its switch.

Every command that changes an index (build, add, remove, the default index's first build) holds
this lock from the moment it reads the index until the new manifest is switched in and the old
generation is cleaned up, so two writers can never both start from the same index and lose one
another's work. Readers take no lock: they read the manifest, which names one complete set of files.

The lock is ``fcntl.flock`` on ``<index>/.lock`` (the same lock older paperlike versions took
through ``filelock``). It is re-entrant within one thread, so a command that holds it can call
the build that takes it again. The lock file is opened without following links and never
truncated: a ``.lock`` planted as a link to another file cannot make paperlike write there.
"""

from __future__ import annotations

import os
import stat
import threading
import time
from collections.abc import Iterator
from contextlib import contextmanager
from pathlib import Path

from ..errors import IndexBusyError, IndexCorruptError, IndexMissingError
from ..settings import Settings
from .names import LOCK

__all__ = ["writer_lock", "holds_writer_lock", "side_lock"]

try:  # POSIX
    import fcntl
except ImportError:  # pragma: no cover - Windows: filelock's msvcrt lock
    fcntl = None  # type: ignore[assignment]


_local = threading.local()


def _held() -> dict[str, int]:
    counts = getattr(_local, "counts", None)
    if counts is None:
        counts = _local.counts = {}
    return counts


def _key(directory: Path) -> str:
    return str(directory.resolve() / LOCK)


def holds_writer_lock(directory: str | Path) -> bool:
    """Whether this thread holds the writer lock of ``directory``."""
    return _held().get(_key(Path(directory)), 0) > 0


def _busy(directory: Path, timeout: float) -> IndexBusyError:
    return IndexBusyError(
        f"index in {directory} is being changed by another paperlike command (waited {timeout:g} s for "
        f"{directory / LOCK}); wait for it to finish and run this again"
    )


def _open_lock_file(directory: Path, name: str = LOCK) -> int:
    if not directory.is_dir():
        raise IndexMissingError(
            f"no index in {directory}; build one with: paperlike index build --index-dir {directory} [--corpus FILE]"
        )
    flags = os.O_RDWR | os.O_CREAT | getattr(os, "O_NOFOLLOW", 0) | getattr(os, "O_CLOEXEC", 0)
    try:
        fd = os.open(directory / name, flags, 0o644)
    except OSError as exc:
        if (directory / name).is_symlink():
            raise IndexCorruptError(
                f"{directory / name} is a link, not paperlike's lock file; remove it and run this again"
            ) from None
        raise exc
    if not stat.S_ISREG(os.fstat(fd).st_mode):
        os.close(fd)
        raise IndexCorruptError(f"{directory / name} is not a regular file; remove it and run this again")
    return fd


def _acquire(fd: int, directory: Path, timeout: float) -> None:
    deadline = time.monotonic() + timeout
    delay = 0.005
    while True:
        try:
            fcntl.flock(fd, fcntl.LOCK_EX | fcntl.LOCK_NB)
            return
        except BlockingIOError:
            if time.monotonic() >= deadline:
                raise _busy(directory, timeout) from None
            time.sleep(delay)
            delay = min(delay * 2, 0.1)


@contextmanager
def writer_lock(directory: str | Path, timeout: float | None = None) -> Iterator[None]:
    """Hold the writer lock of the index folder ``directory`` (which must exist).

    Args:
        directory: The index folder.
        timeout: Seconds to wait for another writer; default ``$PAPERLIKE_LOCK_TIMEOUT`` or 600.

    Raises:
        IndexBusyError: Another writer held the lock for longer than ``timeout``.
        IndexMissingError: ``directory`` does not exist.
    """
    directory = Path(directory)
    key = _key(directory)
    held = _held()
    if held.get(key):
        held[key] += 1
        try:
            yield
        finally:
            held[key] -= 1
        return
    wait = Settings.from_env().lock_timeout if timeout is None else timeout
    if fcntl is None:  # pragma: no cover
        yield from _filelock(directory, key, wait)
        return
    with _flocked(directory, LOCK, wait):
        held[key] = 1
        try:
            _tidy(directory)
            yield
        finally:
            held.pop(key, None)


@contextmanager
def side_lock(directory: str | Path, name: str, timeout: float = 30.0) -> Iterator[None]:
    """Hold the lock file ``name`` of an index folder: for the small files a reader command
    changes (the triage marks), which must not wait for a build holding the writer lock.

    Raises:
        IndexBusyError: Another command held it for longer than ``timeout``.
    """
    directory = Path(directory)
    if fcntl is None:  # pragma: no cover - not POSIX: the writer lock's filelock
        with writer_lock(directory, timeout):
            yield
        return
    with _flocked(directory, name, timeout):
        yield


@contextmanager
def _flocked(directory: Path, name: str, timeout: float) -> Iterator[None]:
    """``flock`` held on the lock file ``name`` of ``directory`` (opened without following links)."""
    fd = _open_lock_file(directory, name)
    try:
        _acquire(fd, directory, timeout)
        try:
            yield
        finally:
            fcntl.flock(fd, fcntl.LOCK_UN)
    finally:
        os.close(fd)


def _tidy(directory: Path) -> None:
    """Remove the temp files a killed writer left (with the lock held: no other writer is at work)."""
    from .stale import remove_stale

    remove_stale(directory)
    if not (directory / "themes").is_symlink():  # a link out of the index is refused where it is used
        remove_stale(directory / "themes")


def _filelock(directory: Path, key: str, wait: float) -> Iterator[None]:  # pragma: no cover - not POSIX
    from filelock import FileLock, Timeout

    lock = FileLock(str(directory / LOCK))
    try:
        lock.acquire(timeout=wait)
    except Timeout:
        raise _busy(directory, wait) from None
    _held()[key] = 1
    try:
        yield
    finally:
        _held().pop(key, None)
        lock.release()
