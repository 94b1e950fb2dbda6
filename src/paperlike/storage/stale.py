"""paperlike's own temp files, and removing those a killed process left behind.

A process stopped by Ctrl-C, SIGTERM or SIGHUP removes its temp files as it exits (the CLI turns
those signals into an exception, and every temp file is removed on the way out); one killed by
SIGKILL, or by a power cut, cannot. Its leftovers are removed by a later run, and only what is
certainly paperlike's and certainly dead:

* the name is one paperlike makes (:data:`~.names.TMP_PREFIX` + a name + ``.`` + mkstemp's 8
  random characters in the folders it writes; ``paperlike-<kind>-<pid>-`` + 8 random characters
  for the private folders in $TMPDIR), never a name that merely starts alike;
* it is a file or folder (not a link) owned by the user running paperlike;
* it is older than :data:`STALE_AFTER` (a temp file is written in seconds), and for a private
  folder the process that made it (the pid in its name) is gone.
"""

from __future__ import annotations

import logging
import os
import re
import shutil
import stat
import tempfile
import time
from pathlib import Path

from .names import TMP_PREFIX

__all__ = ["STALE_AFTER", "private_temp_dir", "remove_stale", "remove_stale_private"]

log = logging.getLogger("paperlike")

# A temp file this old is no write in progress.
STALE_AFTER = 3600.0
# A private folder of an older paperlike (no pid in its name) must be older still.
_STALE_WITHOUT_PID = 24 * 3600.0

_RANDOM = r"[A-Za-z0-9_]{8}"  # what tempfile adds to a name
_IN_FOLDER = re.compile(rf"^{re.escape(TMP_PREFIX)}[A-Za-z0-9_.][A-Za-z0-9._-]{{0,199}}\.{_RANDOM}$")
_PRIVATE = re.compile(rf"^paperlike-(?:zotero|upload)-(?:(\d{{1,10}})-)?{_RANDOM}$")


def private_temp_dir(kind: str) -> tempfile.TemporaryDirectory[str]:
    """A private temp folder in $TMPDIR named ``paperlike-<kind>-<pid>-XXXXXXXX``."""
    return tempfile.TemporaryDirectory(prefix=f"paperlike-{kind}-{os.getpid()}-")


def _alive(pid: int) -> bool:
    try:
        os.kill(pid, 0)
    except ProcessLookupError:
        return False
    except (PermissionError, OverflowError, OSError):
        return True  # someone else's process, or a pid we cannot ask about: leave its files
    return True


def _ours_and_old(entry: os.DirEntry[str], age: float, now: float) -> bool:
    try:
        info = entry.stat(follow_symlinks=False)
    except OSError:
        return False
    if info.st_uid != os.getuid() or not (stat.S_ISREG(info.st_mode) or stat.S_ISDIR(info.st_mode)):
        return False
    return now - info.st_mtime > age


def _delete(path: str, is_dir: bool) -> bool:
    try:
        if is_dir:
            shutil.rmtree(path)
        else:
            os.unlink(path)
        return True
    except OSError:
        return False


def remove_stale(folder: Path, age: float = STALE_AFTER) -> list[str]:
    """Remove the temp files and folders paperlike left in ``folder`` (see the module docstring).

    Returns:
        The names removed.
    """
    removed, now = [], time.time()
    try:
        entries = list(os.scandir(folder))
    except OSError:  # no such folder, or not ours to list
        return []
    for entry in entries:
        if _IN_FOLDER.fullmatch(entry.name) and _ours_and_old(entry, age, now):
            if _delete(entry.path, entry.is_dir(follow_symlinks=False)):
                removed.append(entry.name)
    if removed:
        log.info("removed %d temp file(s) a stopped paperlike left in %s", len(removed), folder)
    return removed


def remove_stale_private(folder: str | Path | None = None, age: float = STALE_AFTER) -> list[str]:
    """Remove the private folders (Zotero copies, uploads) killed paperlike processes left in
    ``folder`` (default: $TMPDIR).

    Returns:
        The names removed.
    """
    folder = Path(folder or tempfile.gettempdir())
    removed, now = [], time.time()
    try:
        entries = list(os.scandir(folder))
    except OSError:
        return []
    for entry in entries:
        match = _PRIVATE.fullmatch(entry.name)
        if match is None or not entry.is_dir(follow_symlinks=False):
            continue
        pid = match.group(1)
        if pid is not None and (int(pid) == os.getpid() or _alive(int(pid))):
            continue
        if _ours_and_old(entry, age if pid is not None else max(age, _STALE_WITHOUT_PID), now):
            if _delete(entry.path, True):
                removed.append(entry.name)
    return removed
