"""All writes to disk go through here: atomic replacement, checksums, the writer lock.

A file is written to a temp file in the same directory, flushed to disk, then renamed over the
target with ``os.replace`` (atomic on POSIX), so a crash leaves either the old file or the new
one, never half of either.
"""

from __future__ import annotations

import hashlib
import json
import os
import tempfile
from collections.abc import Callable, Iterator
from contextlib import contextmanager
from pathlib import Path
from typing import Any

__all__ = [
    "TMP_PREFIX",
    "atomic_write",
    "atomic_write_bytes",
    "atomic_write_json",
    "json_bytes",
    "read_json",
    "sha256_file",
    "writer_lock",
    "remove_stale_temp_files",
]

# Temp files start with this prefix so a later run can recognise and delete what a killed run left.
TMP_PREFIX = ".paperlike-tmp-"


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


def atomic_write(path: str | Path, write: Callable[[Path], None]) -> None:
    """Write ``path`` atomically.

    Args:
        path: Target file; its directory must exist.
        write: Called with a temp path in the same directory; must write the whole file there.
    """
    path = Path(path)
    fd, tmp_name = tempfile.mkstemp(prefix=f"{TMP_PREFIX}{path.name}.", dir=path.parent)
    os.close(fd)
    tmp = Path(tmp_name)
    try:
        write(tmp)
        with open(tmp, "rb+") as fh:
            os.fsync(fh.fileno())
        os.chmod(tmp, 0o666 & ~_umask())  # mkstemp makes 0600; give the file normal permissions
        os.replace(tmp, path)
    except BaseException:
        tmp.unlink(missing_ok=True)
        raise
    _fsync_dir(path.parent)


def atomic_write_bytes(path: str | Path, data: bytes) -> None:
    """Write ``data`` to ``path`` atomically."""
    atomic_write(path, lambda tmp: tmp.write_bytes(data))


def json_bytes(obj: Any) -> bytes:
    """``obj`` as the UTF-8 JSON text paperlike writes."""
    return (json.dumps(obj, ensure_ascii=False, indent=1) + "\n").encode("utf-8")


def atomic_write_json(path: str | Path, obj: Any) -> None:
    """Write ``obj`` as UTF-8 JSON to ``path`` atomically."""
    atomic_write_bytes(path, json_bytes(obj))


def read_json(path: str | Path) -> Any:
    """Parse a JSON file (raises ``OSError`` or ``ValueError`` for the caller to explain)."""
    with open(path, "rb") as fh:
        return json.loads(fh.read().decode("utf-8"))


def sha256_file(path: str | Path, chunk: int = 1 << 20) -> str:
    """Hex SHA-256 of a file's bytes."""
    digest = hashlib.sha256()
    with open(path, "rb") as fh:
        while block := fh.read(chunk):
            digest.update(block)
    return digest.hexdigest()


@contextmanager
def writer_lock(directory: str | Path, timeout: float = 600) -> Iterator[None]:
    """Hold the directory's writer lock, so two builds never interleave their files.

    Readers take no lock: they read the manifest, which names one complete set of files.
    """
    from filelock import FileLock  # light, but only writers need it

    with FileLock(str(Path(directory) / ".lock"), timeout=timeout):
        yield


def remove_stale_temp_files(directory: str | Path) -> list[Path]:
    """Delete temp files that a killed writer left in ``directory``; call with the lock held."""
    removed = []
    for tmp in Path(directory).glob(f"{TMP_PREFIX}*"):
        tmp.unlink(missing_ok=True)
        removed.append(tmp)
    return removed


VERIFIED = ".verified.json"


def _stamp(st: os.stat_result) -> list[int]:
    # ctime cannot be set by a user and changes with any write, so a changed file never matches.
    return [st.st_size, st.st_mtime_ns, st.st_ctime_ns, st.st_ino]


class Verifier:
    """Opens data files checked against their expected size and SHA-256, remembering files
    already verified so large indexes are not hashed again on every load.

    A file is hashed when it was not verified before in its current state: same size, mtime,
    ctime and inode as when its checksum last matched. Any write, copy or replacement changes one
    of those, so a changed file is always hashed again. (Bit rot that changes no metadata is
    caught by ``paperlike index verify``, which always hashes everything.) The stamps live in
    ``.verified.json`` beside the files; where the folder is read-only, every load hashes.

    Args:
        directory: Folder holding the files.
        always_hash: Ignore the stamps (``index verify``).
    """

    def __init__(self, directory: str | Path, always_hash: bool = False):
        self.directory = Path(directory)
        self.always_hash = always_hash
        try:
            stamps = read_json(self.directory / VERIFIED) if not always_hash else {}
        except (OSError, ValueError):
            stamps = {}
        self.stamps: dict = stamps if isinstance(stamps, dict) else {}
        self.dirty = False

    def open(self, name: str, size: int, sha256: str) -> tuple[Any, str | None]:
        """``(read-only mmap of the file, None)``, or ``(None, what is wrong)``."""
        try:
            fh = open(self.directory / name, "rb")
        except FileNotFoundError:
            return None, f"{name} is missing"
        with fh:
            return self.open_file(fh, name, size, sha256)

    def open_file(self, fh, name: str, size: int, sha256: str) -> tuple[Any, str | None]:
        """Like :meth:`open`, for a file already open (binary) under the name ``name``."""
        import mmap

        st = os.fstat(fh.fileno())
        if st.st_size != size:
            return None, f"{name} is truncated or altered ({st.st_size} bytes, expected {size})"
        data = mmap.mmap(fh.fileno(), 0, access=mmap.ACCESS_READ) if size else b""
        stamp = _stamp(st) + [sha256]
        if self.always_hash or self.stamps.get(name) != stamp:
            if hashlib.sha256(data).hexdigest() != sha256:
                return None, f"{name} is damaged (checksum mismatch)"
            self.stamps[name] = stamp
            self.dirty = True
        return data, None

    def save(self) -> None:
        """Remember what was verified (best effort: a read-only folder just hashes again next time)."""
        if not self.dirty or self.always_hash:
            return
        live = {k: v for k, v in self.stamps.items() if (self.directory / k).exists()}
        try:
            atomic_write_json(self.directory / VERIFIED, live)
        except OSError:
            pass
        self.dirty = False
