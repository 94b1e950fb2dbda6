"""All writes to disk go through here (atomic replacement of files and folders), and all checks
of what is read back (:class:`Verifier`: sizes and SHA-256 sums).

A file is written to a temp file in the same directory, flushed to disk, then renamed over the
target with ``os.replace`` (atomic on POSIX), so a crash leaves either the old file or the new
one, never half of either. A folder is filled under a temp name and renamed into place the same way.
"""

from __future__ import annotations

import hashlib
import json
import mmap
import os
import secrets
import shutil
import stat
from collections.abc import Callable, Iterable
from pathlib import Path
from typing import Any, BinaryIO

from ..errors import IndexCorruptError
from .lock import writer_lock
from .names import TMP_PREFIX, inside, is_plain_name

__all__ = [
    "write_output",
    "TMP_PREFIX",
    "VERIFIED",
    "Verifier",
    "never_write_stamps",
    "atomic_write",
    "atomic_write_bytes",
    "atomic_write_dir",
    "atomic_write_stream",
    "atomic_write_json",
    "json_bytes",
    "open_regular",
    "NotARegularFile",
    "read_json",
    "sha256_bytes",
    "sha256_file",
    "writer_lock",
]


def _fsync_dir(directory: Path) -> None:
    # The rename itself lives in the directory entry; without this a power cut can undo it.
    try:
        fd = os.open(directory, os.O_RDONLY)
    except OSError:
        return
    try:
        os.fsync(fd)
    except OSError:
        pass
    finally:
        os.close(fd)


def _read_umask() -> int:
    # os.umask can only be read by setting it: done once, at import, before any thread exists.
    mask = os.umask(0o022)
    os.umask(mask)
    return mask


_UMASK = _read_umask()


def _umask() -> int:
    return _UMASK


_NOFOLLOW = getattr(os, "O_NOFOLLOW", 0)


def _temp_name(path: Path) -> Path:
    """A temp name beside ``path`` as :mod:`.stale` recognises paperlike's (8 random characters)."""
    return path.with_name(f"{TMP_PREFIX}{path.name}.{secrets.token_hex(4)}")


class _NameTaken(FileExistsError):
    """A temp name that exists already (a clash of random names): not ours, so never removed."""


def _make(tmp: Path, create: Callable[[Path], object]) -> None:
    """Create ``tmp``, a file or folder that must not exist yet."""
    try:
        create(tmp)
    except FileExistsError:
        raise _NameTaken(f"{tmp} exists already; run this again") from None


def atomic_write(path: str | Path, write: Callable[[Path], object], check: Callable[[Path], None] | None = None) -> None:
    """Write ``path`` atomically.

    Args:
        path: Target file; its directory must exist.
        write: Called with a temp path in the same directory; must write the whole file there.
        check: Called with the temp path once it is written and flushed, before it replaces
            ``path``; raising keeps the old file (e.g. an export that disagrees with its model).
    """
    path = Path(path)
    tmp = _temp_name(path)
    try:
        # Named before it exists: a Ctrl-C or SIGTERM at any point from here on (even while the
        # file is being made) leaves nothing behind, which mkstemp's return cannot promise.
        _make(tmp, lambda p: os.close(os.open(p, os.O_WRONLY | os.O_CREAT | os.O_EXCL | _NOFOLLOW, 0o600)))
        write(tmp)
        with open(tmp, "rb+") as fh:
            os.fsync(fh.fileno())
        os.chmod(tmp, 0o666 & ~_umask())  # made 0600; give the file normal permissions
        if check is not None:
            check(tmp)
        os.replace(tmp, path)
    except BaseException as exc:
        if not isinstance(exc, _NameTaken):
            tmp.unlink(missing_ok=True)
        raise
    _fsync_dir(path.parent)


def atomic_write_bytes(path: str | Path, data: bytes) -> None:
    """Write ``data`` to ``path`` atomically."""
    atomic_write(path, lambda tmp: tmp.write_bytes(data))


class _Counted:
    """A binary file that keeps the size and SHA-256 of what is written through it."""

    def __init__(self, fh: BinaryIO):
        self._fh, self.size, self.digest = fh, 0, hashlib.sha256()

    def write(self, data: bytes) -> int:
        self._fh.write(data)
        self.digest.update(data)
        self.size += len(data)
        return len(data)

    def writelines(self, chunks: Iterable[bytes]) -> None:
        for chunk in chunks:
            self.write(chunk)


def atomic_write_stream(path: str | Path, write: Callable[[_Counted], object]) -> tuple[int, str]:
    """Write ``path`` atomically from pieces: ``write`` gets a binary file to ``write()`` them to,
    so a file of a million papers is never held in memory whole.

    Returns:
        ``(size in bytes, hex SHA-256)`` of what was written, counted on the way (the file is
        not read back).
    """
    counted: list[_Counted] = []

    def fill(tmp: Path) -> None:
        with open(tmp, "wb") as fh:
            counted.append(_Counted(fh))
            write(counted[0])

    atomic_write(path, fill)
    return counted[0].size, counted[0].digest.hexdigest()


def write_output(path: str | Path, data: bytes) -> Path:
    """Write a file the user named (``-o FILE``, ``map --out FILE``) the way Unix tools do.

    * a symlink is written through to its target (the link stays a link);
    * a FIFO, a character or block device (``/dev/null``, ``/dev/stdout``) is opened and written
      directly, never replaced by a regular file;
    * a regular file (or a new one) is replaced atomically, so a crash leaves the old or the new.

    Returns:
        The path written (the link's target for a symlink).

    Raises:
        OSError: The file or its folder cannot be written, or the path is a directory.
    """
    target = Path(os.path.realpath(path))
    try:
        mode = os.stat(target).st_mode
    except FileNotFoundError:
        mode = None
    if mode is not None and (stat.S_ISFIFO(mode) or stat.S_ISCHR(mode) or stat.S_ISBLK(mode)):
        with open(target, "wb") as fh:
            fh.write(data)
        return target
    if mode is not None and stat.S_ISDIR(mode):
        raise IsADirectoryError(21, "is a directory", str(path))
    atomic_write_bytes(target, data)
    return target


def atomic_write_dir(target: Path, fill: Callable[[Path], None]) -> bool:
    """Make the folder ``target`` atomically: ``fill`` writes its files into a temp folder beside
    it, which is then renamed into place, so readers see all of it or none.

    Returns:
        True when this call made ``target``; False when ``target`` already existed as a folder
        (another process made it first; the temp folder is removed).
    """
    target = Path(target)
    tmp = _temp_name(target)
    try:
        _make(tmp, lambda p: os.mkdir(p, 0o700))
        fill(tmp)
        for item in tmp.iterdir():
            with open(item, "rb") as fh:
                os.fsync(fh.fileno())
        os.chmod(tmp, 0o777 & ~_umask())  # made 0700
        try:
            os.replace(tmp, target)
        except OSError:
            if not target.is_dir() or target.is_symlink():
                raise
            shutil.rmtree(tmp, ignore_errors=True)
            return False
    except BaseException as exc:
        if not isinstance(exc, _NameTaken):
            shutil.rmtree(tmp, ignore_errors=True)
        raise
    _fsync_dir(target.parent)
    return True


def json_bytes(obj: Any) -> bytes:
    """``obj`` as the UTF-8 JSON text paperlike writes."""
    return (json.dumps(obj, ensure_ascii=False, indent=1) + "\n").encode("utf-8")


def atomic_write_json(path: str | Path, obj: Any) -> None:
    """Write ``obj`` as UTF-8 JSON to ``path`` atomically."""
    atomic_write_bytes(path, json_bytes(obj))


class NotARegularFile(ValueError):
    """A path paperlike reads is a FIFO, a device or a folder, not a file it wrote."""


def open_regular(path: str | Path) -> BinaryIO:
    """Open a file for reading, refusing anything but a regular file (not followed if a link).

    A FIFO would block the read forever and a device would never end, so neither is read.

    Raises:
        OSError: The file cannot be opened (missing, unreadable, a link: ``ELOOP``).
        NotARegularFile: It is a FIFO, a device or a folder.
    """
    flags = os.O_RDONLY | getattr(os, "O_NONBLOCK", 0) | getattr(os, "O_NOFOLLOW", 0) | getattr(os, "O_CLOEXEC", 0)
    fd = os.open(path, flags)
    if not stat.S_ISREG(os.fstat(fd).st_mode):
        os.close(fd)
        raise NotARegularFile(f"{Path(path).name} is not a regular file")
    return os.fdopen(fd, "rb")


def read_json(path: str | Path) -> Any:
    """Parse a JSON file (raises ``OSError`` or ``ValueError`` for the caller to explain)."""
    with open_regular(path) as fh:
        return json.loads(fh.read().decode("utf-8"))


def sha256_bytes(data: bytes) -> str:
    """Hex SHA-256 of some bytes (what the manifest and the other checksum lists record)."""
    return hashlib.sha256(data).hexdigest()


def sha256_file(path: str | Path, chunk: int = 1 << 20) -> str:
    """Hex SHA-256 of a file's bytes."""
    digest = hashlib.sha256()
    with open(path, "rb") as fh:
        while block := fh.read(chunk):
            digest.update(block)
    return digest.hexdigest()


VERIFIED = ".verified.json"
# Folders this process must not write (a read-only server's index): their stamps are not saved.
_NO_WRITES: set[Path] = set()


def never_write_stamps(directory: str | Path) -> None:
    """Never save ``.verified.json`` in ``directory`` or below from this process (files are
    hashed on each load instead): a read-only ``paperlike serve`` writes nothing in its index."""
    _NO_WRITES.add(Path(directory).absolute())


def _stamp(st: os.stat_result) -> list[int]:
    # ctime cannot be set by a user and changes with any write, so a changed file never matches.
    return [st.st_size, st.st_mtime_ns, st.st_ctime_ns, st.st_ino]


def _read_stamps(directory: Path) -> dict[str, list]:
    """The stamps in ``.verified.json``; entries of the wrong shape are dropped (hashed again)."""
    try:
        stamps = read_json(directory / VERIFIED)
    except (OSError, ValueError):
        return {}
    if not isinstance(stamps, dict):
        return {}
    for name in stamps:
        # The names are looked up beside the file: one that is not a plain name was not written by paperlike.
        if not is_plain_name(name):
            raise IndexCorruptError(
                f"index in {directory}: {VERIFIED} names a file outside the folder ({str(name)[:60]!r}); "
                f"delete {directory / VERIFIED} (it only remembers which files were checked)"
            )
    return {
        k: v
        for k, v in stamps.items()
        if isinstance(v, list) and len(v) == 5 and all(type(x) is int for x in v[:4]) and isinstance(v[4], str)
    }


class Verifier:
    """The one check of files read from an index: size and SHA-256 against what was recorded,
    remembering files already verified so large indexes are not hashed again on every load.

    A file is hashed when it was not verified before in its current state: same size, mtime,
    ctime and inode as when its checksum last matched. Any write, copy or replacement changes one
    of those, so a changed file is always hashed again. (Bit rot that changes no metadata is
    caught by ``paperlike index verify``, which always hashes everything.) The stamps live in
    ``.verified.json`` beside the files; where the folder is read-only, every load hashes.

    Args:
        directory: Folder holding the files.
        always_hash: Ignore the stamps (``index verify``).

    Raises:
        IndexCorruptError: ``.verified.json`` names a file that is not directly in the folder.
    """

    def __init__(self, directory: str | Path, always_hash: bool = False):
        self.directory = Path(directory)
        self.always_hash = always_hash
        self.stamps: dict[str, list] = {} if always_hash else _read_stamps(self.directory)
        self.dirty = False

    def open(self, name: str, size: int, sha256: str) -> tuple[Any, str | None]:
        """``(read-only mmap of the file, None)``, or ``(None, what is wrong)``.

        Raises:
            IndexCorruptError: ``name`` is not a plain name, or leads outside the folder.
        """
        path = inside(self.directory, name)
        try:
            fh = open_regular(path)
        except FileNotFoundError:
            return None, f"{name} is missing"
        except NotARegularFile:
            return None, f"{name} is not a regular file"
        with fh:
            return self.open_file(fh, name, size, sha256)

    def open_file(self, fh: BinaryIO, name: str, size: int, sha256: str) -> tuple[Any, str | None]:
        """Like :meth:`open`, for a file already open (binary) under the name ``name``."""
        st = os.fstat(fh.fileno())
        if st.st_size != size:
            return None, f"{name} is truncated or altered ({st.st_size} bytes, expected {size})"
        data: Any = mmap.mmap(fh.fileno(), 0, access=mmap.ACCESS_READ) if size else b""
        stamp = [*_stamp(st), sha256]
        if self.always_hash or self.stamps.get(name) != stamp:
            if hashlib.sha256(data).hexdigest() != sha256:
                return None, f"{name} is damaged (checksum mismatch)"
            self.stamps[name] = stamp
            self.dirty = True
        return data, None

    def read(self, name: str, size: int, sha256: str) -> tuple[bytes | None, str | None]:
        """The checked bytes of a file (a copy, for files parsed once), or ``(None, what is wrong)``."""
        data, problem = self.open(name, size, sha256)
        return (None, problem) if problem else (bytes(data[:]), None)

    def save(self) -> None:
        """Remember what was verified (best effort: a read-only folder just hashes again next time)."""
        if not self.dirty or self.always_hash:
            return
        here = self.directory.absolute()
        if any(here == d or d in here.parents for d in _NO_WRITES):
            return
        live = {k: v for k, v in self.stamps.items() if (self.directory / k).exists()}
        try:
            atomic_write_json(self.directory / VERIFIED, live)
        except OSError:
            pass
        self.dirty = False
