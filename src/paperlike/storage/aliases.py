"""``aliases-<gen>.json``: the names of records merged into other papers (``dupes --merge``).

When a record is merged into another paper, its id, DOI, arXiv id, URL, title and text hash stay
here, each leading to the paper it was merged into, so that ``similar OLDID``, ``remove OLDID``,
``export --ids OLDID`` and a later ``add`` of the same record find that paper. The table is one
data file of a generation, listed in the manifest (name, size, SHA-256) only when it holds an
entry, written with the others under the writer lock and switched in with them.

The table is kept flat: when B is merged into C, the entries that led to B lead to C, so every
name takes one step. An index folder may have come from someone else: every entry is checked
on reading (types, lengths, one entry per id, a target that is an indexed paper and not itself
an alias).
"""

from __future__ import annotations

import json
import logging
import re
from collections.abc import Collection, Sequence
from dataclasses import dataclass
from pathlib import Path
from typing import Any

from ..errors import IndexCorruptError, PaperlikeError
from ..identity import IDENTIFIER_LIMITS
from ..records import Paper, paper_text_hash
from . import files as store
from .manifest import corrupt, read_manifest

__all__ = [
    "ALIASES_FORMAT",
    "ALIASES_VERSION",
    "Alias",
    "alias_of",
    "aliases_bytes",
    "parse_aliases",
    "prune_aliases",
    "read_live_aliases",
]

log = logging.getLogger("paperlike")


ALIASES_FORMAT = "paperlike-aliases"


ALIASES_VERSION = 1


_TEXT_SHA = re.compile(r"[0-9a-f]{32}")


@dataclass(frozen=True)
class Alias:
    """The names of one record merged into another paper.

    Attributes:
        id: The merged record's id (no paper of the index has it).
        into: The id of the paper it was merged into (an indexed paper).
        title: Its title.
        doi: Its DOI, if it had one.
        arxiv_id: Its arXiv id, if it had one.
        url: Its URL, if it had one.
        text_sha: The hash of its embedded text (a later add of the same text is that paper).
    """

    id: str
    into: str
    title: str = ""
    doi: str | None = None
    arxiv_id: str | None = None
    url: str | None = None
    text_sha: str | None = None

    def as_paper(self) -> Paper:
        """The merged record's names as a (text-less) paper, for the identity and lookup keys."""
        return Paper(self.id, self.title or self.id, url=self.url, arxiv_id=self.arxiv_id, doi=self.doi)

    def to_dict(self) -> dict[str, Any]:
        data = {"id": self.id, "into": self.into, "title": self.title, "doi": self.doi}
        data |= {"arxiv_id": self.arxiv_id, "url": self.url, "text_sha": self.text_sha}
        return {k: v for k, v in data.items() if v is not None}


def alias_of(paper: Paper, into: str) -> Alias:
    """The entry that keeps ``paper``'s names leading to the paper ``into`` (an identifier over
    its limit, which no lookup reads as one, is left out)."""
    names = (("doi", paper.doi), ("arxiv_id", paper.arxiv_id), ("url", paper.url))
    kept = {k: v if v and len(v) <= IDENTIFIER_LIMITS[k] else None for k, v in names}
    return Alias(paper.id, into, paper.title, text_sha=paper_text_hash(paper), **kept)


def aliases_bytes(aliases: Sequence[Alias]) -> bytes:
    """The file's bytes (sorted by id: the same table always gives the same file)."""
    rows = [a.to_dict() for a in sorted(aliases, key=lambda a: a.id)]
    return store.json_bytes({"format": ALIASES_FORMAT, "format_version": ALIASES_VERSION, "aliases": rows})


def _text(value: Any, limit: int | None = None, optional: bool = True) -> bool:
    if value is None:
        return optional
    return isinstance(value, str) and 0 < len(value) <= (limit or len(value))


def _entry(raw: Any) -> Alias:
    if not isinstance(raw, dict):
        raise ValueError("an entry is not an object")
    checks = {
        "id": _text(raw.get("id"), optional=False),
        "into": _text(raw.get("into"), optional=False),
        "title": raw.get("title", "") == "" or _text(raw.get("title")),
        "doi": _text(raw.get("doi"), IDENTIFIER_LIMITS["doi"]),
        "arxiv_id": _text(raw.get("arxiv_id"), IDENTIFIER_LIMITS["arxiv_id"]),
        "url": _text(raw.get("url"), IDENTIFIER_LIMITS["url"]),
        "text_sha": raw.get("text_sha") is None or bool(_TEXT_SHA.fullmatch(str(raw["text_sha"]))),
    }
    bad = [key for key, ok in checks.items() if not ok]
    if bad:
        raise ValueError(f"an entry has an invalid {bad[0]}")
    get = raw.get
    return Alias(raw["id"], raw["into"], get("title") or "", get("doi"), get("arxiv_id"), get("url"), get("text_sha"))


def parse_aliases(data: bytes, ids: Collection[str] | None = None) -> list[Alias]:
    """The entries of an aliases file (bytes already checked against the manifest).

    Args:
        data: The file's bytes.
        ids: The index's paper ids: every entry must lead to one of them and be none of them
            (None: the entries are not checked against papers).

    Raises:
        ValueError: The file is not an aliases table paperlike would write (the message says why).
    """
    try:
        table = json.loads(bytes(data).decode("utf-8"))
    except RecursionError:  # (a RuntimeError, not a ValueError)
        raise ValueError("nested too deeply") from None
    if not isinstance(table, dict) or table.get("format") != ALIASES_FORMAT:
        raise ValueError("not a paperlike aliases table")
    version = table.get("format_version")
    if not isinstance(version, int) or isinstance(version, bool) or not 1 <= version <= ALIASES_VERSION:
        raise ValueError(f"format version {str(version)[:20]}, this paperlike reads {ALIASES_VERSION}")
    rows = table.get("aliases")
    if not isinstance(rows, list):
        raise ValueError("no list of aliases")
    aliases = [_entry(row) for row in rows]
    seen: set[str] = set()
    for alias in aliases:
        if alias.id in seen:
            raise ValueError(f"two entries for {alias.id[:60]!r}")
        seen.add(alias.id)
        if ids is not None and (alias.into not in ids or alias.id in ids):
            raise ValueError(
                f"{alias.id[:60]!r} leads to {alias.into[:60]!r}, which is not a paper of the index or is one itself"
            )
    return aliases


def prune_aliases(aliases: Sequence[Alias], papers: Sequence[Paper]) -> list[Alias]:
    """The entries that still mean something for these papers: their target is one of them and
    their id is none of them (a record added back under its old id is itself again)."""
    ids = {p.id for p in papers}
    return [a for a in aliases if a.into in ids and a.id not in ids]


def read_live_aliases(directory: Path) -> list[Alias]:
    """The aliases of the index in ``directory`` as a build carries them over: none when there is
    no index, or when its table is damaged (a build is the fix for a damaged index, so a bad
    table is dropped with a warning instead of stopping it)."""
    try:
        entry = read_manifest(directory)["files"].get("aliases")
        if entry is None:
            return []
        data, problem = store.Verifier(directory).read(entry["name"], entry["bytes"], entry["sha256"])
        if problem or data is None:
            raise corrupt(directory, problem or "aliases file unreadable")
        return parse_aliases(data)
    except IndexCorruptError as exc:
        log.warning("%s; the names of merged papers are dropped", exc)
    except (PaperlikeError, OSError):
        pass  # no index there (or none readable): nothing to carry over
    except (ValueError, TypeError, UnicodeDecodeError) as exc:
        log.warning("index in %s: its aliases table is damaged (%s); the names of merged papers are dropped", directory, exc)
    return []
