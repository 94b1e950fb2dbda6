"""Reading an SQLite file that may be hostile (a ``zotero.sqlite`` a colleague sent).

An SQLite file carries code as well as data: a "table" named ``items`` may be a view whose query
recurses forever, a virtual table, or a table whose generated columns compute anything on each
read; the query then runs inside SQLite, where Python never gets control back and Ctrl-C is never
seen. So before any query, every object read must be a real table with the columns expected of
it; the connection is read-only, trusts nothing in the schema, caps the size of a value; and a
progress handler bounds the work (:class:`Budget`) and lets Ctrl-C (or SIGTERM, which the CLI
turns into the same exception) stop a query.
"""

from __future__ import annotations

import sqlite3
from pathlib import Path

from ..errors import CorpusError

__all__ = ["EXPECTED", "OPTIONAL", "Budget", "harden", "checked_tables"]


# Every table read, and the columns read from it.
EXPECTED = {
    "items": ("itemID", "itemTypeID", "key"),
    "itemTypes": ("itemTypeID", "typeName"),
    "itemData": ("itemID", "fieldID", "valueID"),
    "itemDataValues": ("valueID", "value"),
    "fields": ("fieldID", "fieldName"),
    "creators": ("creatorID", "firstName", "lastName", "fieldMode"),
    "itemCreators": ("itemID", "creatorID", "creatorTypeID", "orderIndex"),
    "creatorTypes": ("creatorTypeID", "creatorType"),
    "collections": ("collectionID", "collectionName", "parentCollectionID"),
    "collectionItems": ("collectionID", "itemID"),
    "tags": ("tagID", "name"),
    "itemTags": ("itemID", "tagID"),
    "deletedItems": ("itemID",),
    "feedItems": ("itemID",),
}


# Tables read only when they have exactly this shape (their columns vary between Zotero versions).
OPTIONAL = {"customFields": ("customFieldID", "fieldName")}


# SQLite virtual-machine steps between two calls of the progress handler.
_STEP = 10_000
# The work allowed: a floor, plus this much per byte of the database. Reading a real library
# takes a few steps per byte (one pass over each table, joins by index); a query that recurses
# or multiplies rows needs far more, and stops at this bound (a 32 KB file: seconds).
_FLOOR_STEPS = 300_000_000
_STEPS_PER_BYTE = 400
# The longest value a row may hold (Zotero's longest fields, abstracts and notes, are far shorter).
_MAX_VALUE_BYTES = 16 * 1024 * 1024


class Budget:
    """An SQLite progress handler: stops a query after the work a library of this size may need,
    and stops it when Python code raised in it (Ctrl-C or SIGTERM arriving during the query)."""

    def __init__(self, database: Path):
        size = sum(p.stat().st_size for p in database.parent.iterdir() if p.name.startswith(database.name))
        self.calls_left = (_FLOOR_STEPS + _STEPS_PER_BYTE * size) // _STEP
        self.spent = False

    def __call__(self) -> int:
        self.calls_left -= 1
        if self.calls_left < 0:
            self.spent = True
            return 1
        return 0

    def error(self, exc: sqlite3.Error, src: str) -> BaseException:
        """What an SQLite error means: the budget spent, an interrupt, or an unreadable file."""
        if self.spent:
            return CorpusError(
                f"{src}: reading this database takes too long (far more work than a Zotero library of its size needs); "
                "it is not a Zotero database, or a damaged one: give the zotero.sqlite of your Zotero data folder"
            )
        if isinstance(exc, sqlite3.OperationalError) and str(exc) == "interrupted":
            # Only the progress handler interrupts a query: a signal's exception was raised in it
            # and SQLite dropped it; raise it again (the CLI knows which signal came).
            return KeyboardInterrupt()
        return CorpusError(f"{src}: cannot read the Zotero database ({exc}); close Zotero or try again")


def harden(con: sqlite3.Connection, budget: Budget) -> None:
    con.execute("PRAGMA query_only = ON")
    con.execute("PRAGMA trusted_schema = OFF")  # no functions with side effects from the schema
    con.setlimit(sqlite3.SQLITE_LIMIT_LENGTH, _MAX_VALUE_BYTES)
    con.set_progress_handler(budget, _STEP)


def _not_zotero(src: str, why: str) -> CorpusError:
    return CorpusError(f"{src}: not a Zotero database ({why}); give the zotero.sqlite of your Zotero data folder")


def checked_tables(con: sqlite3.Connection, src: str) -> set[str]:
    """The tables of :data:`EXPECTED` and :data:`OPTIONAL` that the database holds, each checked
    to be a real table with the expected columns.

    Raises:
        CorpusError: An expected name is a view, a virtual table, or a table with other columns.
    """
    found: set[str] = set()
    kinds = {name: (kind, sql or "") for name, kind, sql in con.execute("SELECT name, type, sql FROM sqlite_master")}
    for name, columns in (EXPECTED | OPTIONAL).items():
        if name not in kinds:
            continue
        kind, sql = kinds[name]
        problem = _shape_problem(con, name, kind, sql, columns)
        if problem is None:
            found.add(name)
        elif name in EXPECTED:
            raise _not_zotero(src, f"{name} {problem}")
    return found


def _shape_problem(con: sqlite3.Connection, name: str, kind: str, sql: str, columns: tuple[str, ...]) -> str | None:
    if kind != "table":
        return f"is a {kind}, not a table"
    if sql.lstrip().upper().startswith("CREATE VIRTUAL"):
        return "is a virtual table"
    # table_xinfo: the hidden column is 2 or 3 for a generated column (computed on each read).
    info = {row[1]: row[6] for row in con.execute("SELECT * FROM pragma_table_xinfo(?)", (name,))}
    if any(hidden in (2, 3) for hidden in info.values()):
        return "has generated columns"
    lacking = [c for c in columns if c not in info]
    if lacking:
        return f"has no column {', '.join(lacking)}"
    return None
