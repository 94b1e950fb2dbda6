"""Answers of the arXiv API and Crossref (``--online``), kept so the same request is not sent twice.

One file per request, in the cache folder's ``online/`` (``$PAPERLIKE_CACHE_DIR/online``, else
the user cache folder): the name is the SHA-256 of the request URL (content-addressed, so no
value from a response ever becomes part of a path), the content a JSON record of the URL, the
time it was fetched, the body and the body's SHA-256. Each file is written atomically (temp file
and rename, :func:`~paperlike.storage.files.atomic_write_bytes`).

Read back, a record is checked before it is used: a regular file (not a link, FIFO or device),
at most :data:`MAX_RECORD_BYTES`, the right format, the same URL, a body matching its checksum,
and fetched less than ``max_age`` seconds ago (and not in the future). Anything else counts as
"not cached": the request is sent again and the file replaced. The cache is derived data:
writing it is best effort (a read-only cache folder fetches every time), and deleting the folder
only costs requests.
"""

from __future__ import annotations

import hashlib
import json
import logging
import time
from pathlib import Path

from . import files as store
from .names import TMP_PREFIX

__all__ = ["ONLINE_CACHE_DIR", "MAX_RECORD_BYTES", "ResponseCache", "cache_name"]

log = logging.getLogger("paperlike")

ONLINE_CACHE_DIR = "online"
_FORMAT = "paperlike-online-cache"
_VERSION = 1
# A body is at most 5 MB (see paperlike.online.http); JSON escapes can make it up to 6 times longer.
MAX_RECORD_BYTES = 6 * 5_000_000 + 65_536
# A clock may be a little off between the write and the read; more than this ahead is not trusted.
_FUTURE_SLACK = 300.0


def cache_name(url: str) -> str:
    """The file name of the record of ``url``: its SHA-256 (hex) and ``.json``."""
    return hashlib.sha256(url.encode("utf-8")).hexdigest() + ".json"


class ResponseCache:
    """Response bodies by request URL in one folder (see the module docstring).

    Args:
        folder: The cache folder (made on the first write).
        clock: Seconds since the epoch (tests pass a fake one).
    """

    def __init__(self, folder: str | Path, clock=time.time):
        self.folder = Path(folder)
        self.clock = clock

    def path(self, url: str) -> Path:
        return self.folder / cache_name(url)

    def get(self, url: str, max_age: float) -> bytes | None:
        """The body saved for ``url`` if it is sound and younger than ``max_age`` seconds, else None."""
        path = self.path(url)
        try:
            with store.open_regular(path) as fh:
                raw = fh.read(MAX_RECORD_BYTES + 1)
        except FileNotFoundError:
            return None
        except (OSError, ValueError) as exc:  # a link, a FIFO, unreadable: not ours to trust
            log.debug("online cache %s not used (%s)", path.name, exc)
            return None
        try:
            return self._checked(raw, url, max_age)
        except (ValueError, TypeError, KeyError, RecursionError) as exc:
            log.debug("online cache %s not used (%s)", path.name, str(exc)[:120])
            return None

    def _checked(self, raw: bytes, url: str, max_age: float) -> bytes | None:
        if len(raw) > MAX_RECORD_BYTES:
            raise ValueError("too big")
        record = json.loads(raw.decode("utf-8"))
        if not isinstance(record, dict) or record.get("format") != _FORMAT or record.get("version") != _VERSION:
            raise ValueError("not an online cache record")
        if record.get("url") != url:
            raise ValueError("another URL")  # a hash collision, or a file copied in by hand
        body, fetched, digest = record.get("body"), record.get("fetched"), record.get("sha256")
        if not isinstance(body, str) or not isinstance(digest, str) or not isinstance(fetched, (int, float)) or fetched is True:
            raise ValueError("fields of the wrong kind")
        data = body.encode("utf-8")
        if hashlib.sha256(data).hexdigest() != digest:
            raise ValueError("checksum mismatch")
        age = self.clock() - float(fetched)
        if not (-_FUTURE_SLACK <= age <= max_age):
            return None  # too old (or from the future): fetched again
        return data

    def put(self, url: str, body: bytes) -> None:
        """Save ``body`` (UTF-8 text: only parsed answers are saved) as the answer to ``url``; best effort."""
        try:
            text = body.decode("utf-8")
        except UnicodeDecodeError:
            return
        record = {
            "format": _FORMAT,
            "version": _VERSION,
            "url": url,
            "fetched": self.clock(),
            "sha256": hashlib.sha256(body).hexdigest(),
            "body": text,
        }
        try:
            self.folder.mkdir(parents=True, exist_ok=True)
            store.atomic_write_bytes(self.path(url), json.dumps(record, ensure_ascii=False).encode("utf-8"))
        except OSError as exc:
            log.debug("online cache not written (%s)", exc)

    def entries(self) -> list[Path]:
        """The record files in the folder (not temp files)."""
        if not self.folder.is_dir():
            return []
        return sorted(p for p in self.folder.glob("*.json") if not p.name.startswith(TMP_PREFIX))
