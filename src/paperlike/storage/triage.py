"""The reader's triage state of an index folder: papers marked liked / not liked, and papers shown.

Two files, each replaced atomically under the folder's triage lock (not the writer lock: marking a
paper must not wait for a build):

* ``triage-marks.json``: the marks, each with the paper's whole record (a paper marked from a
  ranked batch is not in the library, and a mark must outlive a rebuild). The user's own data:
  a damaged file is an error that names it, never silently replaced.
* ``triage-seen.json``: the identity keys of the papers ``rank`` showed (newest last), and the
  records of the latest few, so that a paper just shown can be marked by its id. Convenience
  data: a damaged file is logged and started afresh.

Both are read as untrusted: every record passes :meth:`Paper.from_dict`, every key and time a
length and type check.
"""

from __future__ import annotations

import logging
import os
import threading
from collections.abc import Callable, Hashable
from dataclasses import dataclass, field
from pathlib import Path
from typing import Any, TypeVar

from ..errors import IndexCorruptError
from ..records import Paper
from . import files as store
from .lock import side_lock

__all__ = [
    "MARKS_FILE",
    "SEEN_FILE",
    "MAX_MARKS",
    "MAX_SEEN",
    "MAX_SEEN_RECORDS",
    "MAX_FILE_BYTES",
    "Mark",
    "Seen",
    "TriageStore",
]

log = logging.getLogger("paperlike")

MARKS_FILE = "triage-marks.json"
SEEN_FILE = "triage-seen.json"
_LOCK = ".triage.lock"
_MARKS_FORMAT = "paperlike-marks"
_SEEN_FORMAT = "paperlike-seen"

# Keys, not papers: 3-4 keys a paper, so ~15k papers shown (months of daily pages); the records of
# the latest pages are enough to mark a paper by its id.
MAX_MARKS = 20_000
MAX_SEEN = 50_000
MAX_SEEN_RECORDS = 1_000
_MAX_KEY = 600  # the longest identity key (a 500-character title, normalised, plus its prefix)
# 20,000 marks with their abstracts are about 40 MB.
MAX_FILE_BYTES = 64 << 20

T = TypeVar("T")

# Marks written by this process: part of the marks version, in case two writes within one tick of
# the file system's clock leave the file with the same stamp.
_marks_written = [0]
_marks_written_lock = threading.Lock()


@dataclass(frozen=True)
class Mark:
    """One paper marked by the reader: ``liked`` True (liked) or False (not liked), and when (UTC ISO time)."""

    paper: Paper
    liked: bool
    at: str

    def to_dict(self) -> dict[str, Any]:
        return {"mark": "like" if self.liked else "dislike", "at": self.at, "paper": self.paper.to_dict()}


@dataclass
class Seen:
    """Papers shown: identity key -> when first shown (insertion order = oldest first), and the
    records of the latest shown papers (oldest first)."""

    keys: dict[str, str] = field(default_factory=dict)
    records: list[Paper] = field(default_factory=list)


def _short(value: Any, what: str) -> str:
    if not isinstance(value, str) or not 0 < len(value) <= _MAX_KEY:
        raise ValueError(f"{what} is not a short string")
    return value


def _parse_marks(data: Any) -> list[Mark]:
    if not isinstance(data, dict) or data.get("format") != _MARKS_FORMAT or not isinstance(data.get("marks"), list):
        raise ValueError("not a paperlike marks file")
    out = []
    for item in data["marks"][:MAX_MARKS]:
        if not isinstance(item, dict) or item.get("mark") not in ("like", "dislike"):
            raise ValueError("a mark is neither 'like' nor 'dislike'")
        out.append(
            Mark(Paper.from_dict(item.get("paper") or {}), item["mark"] == "like", _short(item.get("at"), "a mark's time"))
        )
    return out


def _parse_seen(data: Any) -> Seen:
    if not isinstance(data, dict) or data.get("format") != _SEEN_FORMAT:
        raise ValueError("not a paperlike seen file")
    keys, records = data.get("keys"), data.get("records")
    if not isinstance(keys, list) or not isinstance(records, list):
        raise ValueError("keys or records are not lists")
    seen = Seen()
    for pair in keys[-MAX_SEEN:]:
        if not isinstance(pair, list) or len(pair) != 2:
            raise ValueError("a seen key is not a [key, time] pair")
        seen.keys.setdefault(_short(pair[0], "a seen key"), _short(pair[1], "a seen time"))
    seen.records = [Paper.from_dict(r) for r in records[-MAX_SEEN_RECORDS:]]
    return seen


def _read(path: Path) -> object:
    """The JSON of a triage file, refusing one past :data:`MAX_FILE_BYTES` before reading it."""
    size = path.stat().st_size
    if size > MAX_FILE_BYTES:
        raise ValueError(f"{size} bytes, over the {MAX_FILE_BYTES} a triage file may hold")
    return store.read_json(path)


class TriageStore:
    """The marks and the seen log of one index folder."""

    def __init__(self, directory: str | Path):
        self.directory = Path(directory)

    def _path(self, name: str) -> Path:
        """``directory / name``; a link there (which would make paperlike read or write elsewhere)
        is refused with the fix for these files: move it away, no rebuild needed."""
        path = self.directory / name
        if path.is_symlink() or path.resolve().parent != self.directory.resolve():
            raise IndexCorruptError(f"{path} is a link, not paperlike's {name}; move it away and run this again")
        return path

    def marks_version(self) -> Hashable:
        """What changes whenever the marks do: the marks file's ``(inode, size, mtime_ns)`` (None
        when there is none) and the count of marks this process wrote. Answers that depend on the
        marks are kept under it (the server's memo, :func:`~paperlike.service.triage.disliked_positions`).
        Never raises: a file that is not paperlike's is refused when the marks are read."""
        try:
            st = os.stat(self.directory / MARKS_FILE)
            stamp: tuple[int, int, int] | None = (st.st_ino, st.st_size, st.st_mtime_ns)
        except OSError:
            stamp = None
        return (_marks_written[0], stamp)

    def marks(self) -> list[Mark]:
        """The marks, oldest first; empty when none were made.

        Raises:
            IndexCorruptError: The marks file is damaged, too big or not paperlike's (it is left as it is).
        """
        path = self._path(MARKS_FILE)
        if not path.exists():
            return []
        try:
            return _parse_marks(_read(path))
        except (OSError, ValueError, RecursionError) as exc:
            raise IndexCorruptError(
                f"{path} is not a readable paperlike marks file ({str(exc)[:100]}); move it away "
                "to start with no marks (paperlike never overwrites it while it is damaged)"
            ) from None

    def seen(self) -> Seen:
        """The seen log; empty when missing, damaged or a link (it only hides papers already shown)."""
        try:
            path = self._path(SEEN_FILE)
            if not path.exists():
                return Seen()
            return _parse_seen(_read(path))
        except (OSError, ValueError, RecursionError, IndexCorruptError) as exc:
            log.warning("seen log %s not used (%s); starting a new one", self.directory / SEEN_FILE, str(exc)[:120])
            return Seen()

    def update_marks(self, change: Callable[[list[Mark]], T]) -> T:
        """Apply ``change`` to the marks list (in place) and save it, under the triage lock."""
        with side_lock(self.directory, _LOCK):
            marks = self.marks()
            result = change(marks)
            data = {"format": _MARKS_FORMAT, "marks": [m.to_dict() for m in marks[-MAX_MARKS:]]}
            try:
                store.atomic_write_json(self._path(MARKS_FILE), data)
            finally:  # after the write, or a failed one: what depends on the marks is computed afresh
                with _marks_written_lock:
                    _marks_written[0] += 1
            return result

    def add_seen(self, papers: list[Paper], keys: list[list[str]], at: str) -> None:
        """Record ``papers`` (with their identity keys) as shown at ``at``, under the triage lock."""
        with side_lock(self.directory, _LOCK):
            seen = self.seen()
            for paper_keys in keys:
                for key in paper_keys:
                    if len(key) <= _MAX_KEY:
                        seen.keys.setdefault(key, at)
            shown = {p.id for p in papers}
            # Newest last and, within a ranking, the best last: the cut below keeps the best.
            seen.records = [p for p in seen.records if p.id not in shown] + list(reversed(papers))
            pairs = [[k, t] for k, t in seen.keys.items()][-MAX_SEEN:]
            records = [p.to_dict() for p in seen.records[-MAX_SEEN_RECORDS:]]
            store.atomic_write_json(self._path(SEEN_FILE), {"format": _SEEN_FORMAT, "keys": pairs, "records": records})

    def forget_seen(self) -> int:
        """Empty the seen log; returns how many keys it held."""
        with side_lock(self.directory, _LOCK):
            count = len(self.seen().keys)
            path = self._path(SEEN_FILE)
            if path.exists():
                store.atomic_write_json(path, {"format": _SEEN_FORMAT, "keys": [], "records": []})
            return count
