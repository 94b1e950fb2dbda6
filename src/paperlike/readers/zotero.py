"""A Zotero library read directly from its database, ``zotero.sqlite`` (Zotero 5 and later).

Each regular item becomes a paper with its collections (as paths, ``Thesis/Chapter 2``) and
tags; notes, attachments, annotations, feed items and items in the trash are left out. The tables
read are those of Zotero's public schema (``resource/schema/userdata.sql``): items, itemTypes,
itemData, itemDataValues, fields, creators, itemCreators (creatorTypes), collections,
collectionItems, tags, itemTags and deletedItems.

Safe while Zotero runs, and never touching Zotero's files: the database is not opened in place.
Its bytes (and those of a ``-wal`` or ``-journal`` file beside it) are read into a private
temporary folder, the read is repeated if the file changed meanwhile (size and modification
time), and SQLite opens the copy. The alternatives were weighed and refused:

- ``file:zotero.sqlite?mode=ro``: takes a shared lock, which a running Zotero (it holds an
  exclusive lock) refuses with "database is locked", and in WAL mode may create ``-shm`` files
  in the user's Zotero folder.
- ``file:zotero.sqlite?mode=ro&immutable=1``: no lock at all, but SQLite then trusts the file
  never to change: a read that overlaps a Zotero write can see torn pages or silently miss the
  newest changes (it ignores the ``-wal`` file).

The copy costs one read of the file (tens of MB for a typical library; :data:`MAX_CORPUS_BYTES`
bounds it) and gives one consistent snapshot.
"""

from __future__ import annotations

import os
import re
import sqlite3
import time
from collections.abc import Iterable
from pathlib import Path
from typing import Any

from ..errors import CorpusError
from ..records import Corpus
from ..storage.stale import private_temp_dir
from .base import Entry, collect, paper_from_fields, read_bytes
from .detect import SQLITE_HEADER
from .sqlite_guard import Budget, checked_tables, harden

__all__ = ["read_zotero"]


_REQUIRED = ("items", "itemTypes", "itemData", "itemDataValues", "fields")


# Item types that are not papers.
_NOT_PAPERS = ("attachment", "note", "annotation")


# Zotero item types -> BibTeX entry types (as Zotero's own BibTeX export maps them; others: misc).
_ENTRY_TYPES = {
    "journalArticle": "article",
    "magazineArticle": "article",
    "newspaperArticle": "article",
    "conferencePaper": "inproceedings",
    "book": "book",
    "bookSection": "incollection",
    "thesis": "phdthesis",
    "report": "techreport",
    "manuscript": "unpublished",
}


# Zotero fields that name the venue, best first.
_VENUES = (
    "publicationTitle",
    "proceedingsTitle",
    "bookTitle",
    "university",
    "institution",
    "websiteTitle",
    "blogTitle",
    "forumTitle",
    "encyclopediaTitle",
    "dictionaryTitle",
)


# Zotero fields kept as BibTeX fields.
_FIELDS = {
    "volume": "volume",
    "issue": "number",
    "reportNumber": "number",
    "pages": "pages",
    "publisher": "publisher",
    "repository": "publisher",
    "place": "address",
    "edition": "edition",
    "series": "series",
    "ISBN": "isbn",
    "ISSN": "issn",
    "language": "language",
    "conferenceName": "eventtitle",
}


_TRIES = 3


def read_zotero(path: Path, text: str | None = None, *, strict: bool = False, **_: Any) -> Corpus:
    """Read a Zotero library database (``zotero.sqlite``), even while Zotero runs.

    The file is untrusted (a colleague may have sent it): it is opened read-only, every object
    read must be a real table with Zotero's columns (a view or virtual table named like one could
    run any query), and SQLite's work is bounded (:class:`~.sqlite_guard.Budget`), so a hostile file is an
    error in seconds and Ctrl-C always stops the read.

    Raises:
        CorpusError: Not an SQLite file, not a Zotero library, unreadable, changing all along, or
            asking for far more work than a library of its size needs.
    """
    src = str(path)
    with private_temp_dir("zotero") as tmp:
        copy = _snapshot(Path(path), Path(tmp))
        budget = Budget(copy)
        try:
            con = sqlite3.connect(f"{copy.as_uri()}?mode=ro", uri=True)
        except sqlite3.Error as exc:
            raise CorpusError(f"{src}: cannot open the Zotero database ({exc}); close Zotero or try again") from None
        try:
            harden(con, budget)
            records = _read(con, src)
        except sqlite3.Error as exc:
            raise budget.error(exc, src) from None
        finally:
            con.close()
    return collect(_entries(records, src), src, strict=strict, fmt="zotero")


def _state(path: Path) -> list[tuple[int, int] | None]:
    """Size and modification time of the database and its journal files (None if absent)."""
    out: list[tuple[int, int] | None] = []
    for name in (path, _beside(path, "-wal"), _beside(path, "-journal")):
        try:
            info = os.stat(name)
            out.append((info.st_size, info.st_mtime_ns))
        except OSError:
            out.append(None)
    return out


def _beside(path: Path, suffix: str) -> Path:
    return path.with_name(path.name + suffix)


def _snapshot(path: Path, folder: Path) -> Path:
    """A private copy of the database (and its -wal / -journal files) that did not change while
    it was read."""
    for attempt in range(_TRIES):
        before = _state(path)
        data = read_bytes(path)
        if not data.startswith(SQLITE_HEADER):
            raise CorpusError(
                f"{path}: not a Zotero database (no SQLite header); give the zotero.sqlite of your Zotero data folder"
            )
        try:
            extra = {s: read_bytes(_beside(path, s)) for s, st in zip(("-wal", "-journal"), before[1:]) if st is not None}
        except CorpusError:  # a journal file went away meanwhile (Zotero finished a write): read again
            extra = None
        if extra is not None and _state(path) == before:
            copy = folder / "zotero.sqlite"
            copy.write_bytes(data)
            for suffix, content in extra.items():
                _beside(copy, suffix).write_bytes(content)
            return copy
        time.sleep(0.2 * (attempt + 1))
    raise CorpusError(f"{path}: the database changed each time it was read (Zotero is writing to it); try again in a moment")


def _read(con: sqlite3.Connection, src: str) -> list[tuple[str, dict[str, Any]]]:
    """``(location, fields for paper_from_fields)`` for each regular item, in itemID order."""
    tables = checked_tables(con, src)
    missing = [t for t in _REQUIRED if t not in tables]
    if missing:
        raise CorpusError(
            f"{src}: an SQLite database but not a Zotero library (no table {', '.join(missing)}); "
            "give the zotero.sqlite of your Zotero data folder"
        )
    items = _items(con, tables)
    values = _values(con, tables)
    authors = _creators(con, tables)
    tags = _pairs(
        con, tables, "itemTags", "SELECT it.itemID, t.name FROM itemTags it JOIN tags t ON t.tagID = it.tagID ORDER BY t.name"
    )
    collections = _collections(con, tables)
    records = []
    for item_id, key, kind in items:
        fields = values.get(item_id, {})
        record = _record(kind, fields)
        record.update(authors=authors.get(item_id, []), tags=tags.get(item_id, []), collections=collections.get(item_id, []))
        records.append((f"{src} (item {_text(key) or item_id})", record))
    return records


def _items(con: sqlite3.Connection, tables: set[str]) -> list[tuple[int, Any, str]]:
    sql = (
        'SELECT i.itemID, i."key", t.typeName FROM items i JOIN itemTypes t ON t.itemTypeID = i.itemTypeID '
        "WHERE t.typeName NOT IN (?, ?, ?)"
    )
    for table in ("deletedItems", "feedItems"):  # the trash; RSS feed items are not the library
        if table in tables:
            sql += f" AND i.itemID NOT IN (SELECT itemID FROM {table})"
    return [(row[0], row[1], str(row[2])) for row in con.execute(sql + " ORDER BY i.itemID", _NOT_PAPERS)]


def _values(con: sqlite3.Connection, tables: set[str]) -> dict[int, dict[str, str]]:
    # Zotero 7's fieldsCombined is a view (fields + customFields): the tables are read instead.
    fields = "(SELECT fieldID, fieldName FROM fields"
    fields += " UNION ALL SELECT customFieldID, fieldName FROM customFields)" if "customFields" in tables else ")"
    out: dict[int, dict[str, str]] = {}
    sql = (
        f"SELECT d.itemID, f.fieldName, v.value FROM itemData d JOIN {fields} f ON f.fieldID = d.fieldID "
        "JOIN itemDataValues v ON v.valueID = d.valueID"
    )
    for item_id, name, value in con.execute(sql):
        text = _text(value)
        if text is not None:
            out.setdefault(item_id, {})[str(name)] = text
    return out


def _creators(con: sqlite3.Connection, tables: set[str]) -> dict[int, list[str]]:
    """Each item's authors in order (all its creators when none is an author, e.g. editors)."""
    if not {"creators", "itemCreators"} <= tables:
        return {}
    kind = "ct.creatorType" if "creatorTypes" in tables else "'author'"
    join = "LEFT JOIN creatorTypes ct ON ct.creatorTypeID = ic.creatorTypeID " if "creatorTypes" in tables else ""
    sql = (
        f"SELECT ic.itemID, c.firstName, c.lastName, c.fieldMode, {kind} FROM itemCreators ic "
        f"JOIN creators c ON c.creatorID = ic.creatorID {join}ORDER BY ic.itemID, ic.orderIndex"
    )
    every: dict[int, list[tuple[str, str]]] = {}
    for item_id, first, last, mode, role in con.execute(sql):
        # fieldMode 1: a one-field name (an institution), kept whole in lastName.
        name = (_text(last) or "") if mode == 1 else f"{_text(first) or ''} {_text(last) or ''}".strip()
        if name:
            every.setdefault(item_id, []).append((str(role), name))
    return {item: [n for r, n in names if r == "author"] or [n for _, n in names] for item, names in every.items()}


def _pairs(con: sqlite3.Connection, tables: set[str], needs: str, sql: str) -> dict[int, list[str]]:
    if needs not in tables:
        return {}
    out: dict[int, list[str]] = {}
    for item_id, value in con.execute(sql):
        text = _text(value)
        if text:
            out.setdefault(item_id, []).append(text)
    return out


def _collections(con: sqlite3.Connection, tables: set[str]) -> dict[int, list[str]]:
    """Each item's collections as paths from the top (``Parent/Child``), sorted."""
    if not {"collections", "collectionItems"} <= tables:
        return {}
    rows = {
        cid: (_text(name) or "", parent)
        for cid, name, parent in con.execute("SELECT collectionID, collectionName, parentCollectionID FROM collections")
    }
    paths: dict[Any, str] = {}
    for cid in rows:
        names: list[str] = []
        seen: set[Any] = set()
        at = cid
        while at in rows and at not in seen and len(names) < 64:  # a damaged file may loop
            seen.add(at)
            names.append(rows[at][0])
            at = rows[at][1]
        paths[cid] = "/".join(reversed(names))
    out: dict[int, list[str]] = {}
    for cid, item_id in con.execute("SELECT collectionID, itemID FROM collectionItems"):
        if cid in paths:
            out.setdefault(item_id, []).append(paths[cid])
    return {item: sorted(set(names)) for item, names in out.items()}


def _text(value: Any) -> str | None:
    """A database value as text; blobs and NULLs are no text."""
    if value is None or isinstance(value, (bytes, bytearray, memoryview)):
        return None
    return str(value)


def _extra(fields: dict[str, str]) -> dict[str, str]:
    """``Key: value`` lines of Zotero's Extra field (where it keeps arXiv ids, DOIs, citation keys)."""
    out: dict[str, str] = {}
    for line in fields.get("extra", "").splitlines():
        name, colon, value = line.partition(":")
        if colon and value.strip():
            out.setdefault(name.strip().lower(), value.strip())
    return out


def _record(kind: str, fields: dict[str, str]) -> dict[str, Any]:
    extra = _extra(fields)
    key = fields.get("citationKey") or extra.get("citation key") or ""
    archive = fields.get("archiveID", "")
    year = re.search(r"(?<!\d)(1\d{3}|2\d{3})(?!\d)", fields.get("date", ""))
    kept: dict[str, str] = {}
    for name, bib in _FIELDS.items():
        if fields.get(name):
            kept.setdefault(bib, fields[name])
    return {
        "id": key if re.fullmatch(r"[A-Za-z][\w.:-]{0,79}", key) else "",
        "title": fields.get("title") or fields.get("caseName") or fields.get("nameOfAct") or fields.get("subject"),
        "abstract": fields.get("abstractNote"),
        "year": year.group(1) if year else None,
        "url": fields.get("url"),
        "doi": fields.get("DOI") or extra.get("doi"),
        "arxiv_id": archive.split(":", 1)[1] if archive.lower().startswith("arxiv:") else extra.get("arxiv"),
        "venue": next((fields[v] for v in _VENUES if fields.get(v)), None),
        "entry_type": _ENTRY_TYPES.get(kind, "misc"),
        "fields": kept,
    }


def _entries(records: list[tuple[str, dict[str, Any]]], src: str) -> Iterable[Entry]:
    for loc, record in records:
        try:
            yield loc, paper_from_fields(record, loc, src)
        except CorpusError as exc:
            yield loc, exc
